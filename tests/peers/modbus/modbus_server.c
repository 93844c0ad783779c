/*
 * FactoryEdge Modbus interop peer: a Modbus TCP server built on libmodbus (not our code), serving
 * the test register map documented in docs/modbus.md and the waveform-block layout, so that our
 * client and our block reader are checked against an independent implementation.
 *
 *   modbus_server --port P [--wave-base A] [--wave-count N] [--wave-period-ms T] [--wave-step K]
 *                 [--slow-ms M]
 *
 * Register map (protocol addresses, any unit id):
 *   holding 0..99      (i * 7 + 3) & 0xFFFF
 *   input   0..99      1000 + i
 *   coils   0..63      i % 3 == 0          discrete 0..63   i % 2 == 1
 *   holding 200..207   3.14159f as ABCD, CDAB, BADC, DCBA (two registers each)
 *   holding 210..217   -1234.5f as ABCD, CDAB, BADC, DCBA
 *   holding 220..223   pi as float64 ABCD
 *   holding 300..309   3000 + i;  310..319 absent (exception 02);  320..329  3000 + i
 *   holding 9000       reading it sleeps --slow-ms before the reply (a slow device)
 *   input   A..        waveform block (head, count, rate f32, N samples f32 ABCD, tail); sample k of
 *                      block s is (s % 1000) * 10000 + k; a new block starts every T ms and is
 *                      written K samples per served request (or per millisecond), so that readers
 *                      can meet a half-written block.
 * Floats are packed by hand: libmodbus 3.1.6's modbus_set_float_abcd() swaps bytes.
 * Prints "READY <port>" on stdout once listening.
 */
#include <errno.h>
#include <modbus.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ORDER_ABCD, ORDER_CDAB, ORDER_BADC, ORDER_DCBA };

static void put_bytes(uint16_t *regs, const uint8_t *b, int words, int order)
{
    /* b holds the value big-endian (A first). */
    for (int w = 0; w < words; w++) {
        int src = (order == ORDER_CDAB || order == ORDER_DCBA) ? (words - 1 - w) : w;
        uint8_t hi = b[2 * src], lo = b[2 * src + 1];
        if (order == ORDER_BADC || order == ORDER_DCBA) {
            regs[w] = (uint16_t)((lo << 8) | hi);
        } else {
            regs[w] = (uint16_t)((hi << 8) | lo);
        }
    }
}

static void put_f32(uint16_t *regs, float v, int order)
{
    uint32_t u;
    uint8_t b[4];
    memcpy(&u, &v, 4);
    b[0] = (uint8_t)(u >> 24); b[1] = (uint8_t)(u >> 16); b[2] = (uint8_t)(u >> 8); b[3] = (uint8_t)u;
    put_bytes(regs, b, 2, order);
}

static void put_f64(uint16_t *regs, double v, int order)
{
    uint64_t u;
    uint8_t b[8];
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(u >> (56 - 8 * i));
    }
    put_bytes(regs, b, 4, order);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Waveform writer state. */
static modbus_mapping_t *map;
static int wave_base = 5000, wave_count = 256, wave_period_ms = 100, wave_step = 0;
static uint16_t wave_seq = 0;
static int wave_next = -1; /* next sample to write, -1 when idle */
static double wave_due = 0;

static void wave_write_samples(int from, int to)
{
    for (int k = from; k < to; k++) {
        float v = (float)((uint32_t)(wave_seq % 1000) * 10000u + (uint32_t)k);
        put_f32(&map->tab_input_registers[wave_base + 4 + 2 * k], v, ORDER_ABCD);
    }
}

static void wave_tick(void)
{
    double now = now_ms();
    if (wave_next < 0) {
        if (now < wave_due) {
            return;
        }
        wave_due = now + wave_period_ms;
        wave_seq++;
        map->tab_input_registers[wave_base] = wave_seq; /* head first */
        map->tab_input_registers[wave_base + 1] = (uint16_t)wave_count;
        put_f32(&map->tab_input_registers[wave_base + 2], 25600.0f, ORDER_ABCD);
        wave_next = 0;
        if (wave_step <= 0) {
            wave_write_samples(0, wave_count);
            wave_next = wave_count;
        }
    } else {
        int to = wave_next + wave_step;
        if (to > wave_count) {
            to = wave_count;
        }
        wave_write_samples(wave_next, to);
        wave_next = to;
    }
    if (wave_next >= wave_count) {
        map->tab_input_registers[wave_base + 4 + 2 * wave_count] = wave_seq; /* tail last */
        wave_next = -1;
    }
}

static int overlaps(int addr, int count, int lo, int hi)
{
    return addr < hi && addr + count > lo;
}

int main(int argc, char **argv)
{
    int port = 1502, slow_ms = 300;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--wave-base")) wave_base = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--wave-count")) wave_count = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--wave-period-ms")) wave_period_ms = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--wave-step")) wave_step = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--slow-ms")) slow_ms = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }

    int input_size = wave_base + 5 + 2 * wave_count;
    if (input_size < 100) input_size = 100;
    map = modbus_mapping_new(64, 64, 10000, input_size);
    if (map == NULL) {
        fprintf(stderr, "mapping: %s\n", modbus_strerror(errno));
        return 1;
    }
    for (int i = 0; i < 100; i++) {
        map->tab_registers[i] = (uint16_t)((i * 7 + 3) & 0xFFFF);
        map->tab_input_registers[i] = (uint16_t)(1000 + i);
    }
    for (int i = 0; i < 64; i++) {
        map->tab_bits[i] = (i % 3 == 0);
        map->tab_input_bits[i] = (i % 2 == 1);
    }
    for (int o = 0; o < 4; o++) {
        put_f32(&map->tab_registers[200 + 2 * o], 3.14159f, o);
        put_f32(&map->tab_registers[210 + 2 * o], -1234.5f, o);
    }
    put_f64(&map->tab_registers[220], 3.141592653589793, ORDER_ABCD);
    for (int i = 300; i < 330; i++) {
        map->tab_registers[i] = (uint16_t)(3000 + i);
    }

    modbus_t *ctx = modbus_new_tcp("127.0.0.1", port);
    int server = modbus_tcp_listen(ctx, 16);
    if (server < 0) {
        fprintf(stderr, "listen on %d: %s\n", port, modbus_strerror(errno));
        return 1;
    }
    printf("READY %d\n", port);
    fflush(stdout);

    fd_set refset, rdset;
    FD_ZERO(&refset);
    FD_SET(server, &refset);
    int fdmax = server;
    uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
    int header = modbus_get_header_length(ctx);
    wave_due = now_ms();
    wave_tick();

    for (;;) {
        rdset = refset;
        struct timeval tv = { 0, 1000 };
        if (wave_next < 0) {
            double wait = wave_due - now_ms();
            if (wait < 0) wait = 0;
            tv.tv_sec = (long)(wait / 1000);
            tv.tv_usec = (long)((wait - tv.tv_sec * 1000.0) * 1000);
        }
        int ready = select(fdmax + 1, &rdset, NULL, NULL, &tv);
        wave_tick();
        if (ready < 0) {
            if (errno == EINTR) continue;
            perror("select");
            return 1;
        }
        for (int fd = 0; fd <= fdmax && ready > 0; fd++) {
            if (!FD_ISSET(fd, &rdset)) continue;
            ready--;
            if (fd == server) {
                int client = accept(server, NULL, NULL);
                if (client >= 0) {
                    /* Without TCP_NODELAY, replies to pipelined requests wait for the client's
                       delayed ACK (about 40 ms on Linux) behind Nagle's algorithm. */
                    int one = 1;
                    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    FD_SET(client, &refset);
                    if (client > fdmax) fdmax = client;
                }
                continue;
            }
            modbus_set_socket(ctx, fd);
            int rc = modbus_receive(ctx, query);
            if (rc > 0) {
                int fc = query[header];
                int addr = (query[header + 1] << 8) | query[header + 2];
                int count = (fc == 5 || fc == 6) ? 1 : ((query[header + 3] << 8) | query[header + 4]);
                if ((fc == 3 || fc == 6 || fc == 16) && overlaps(addr, count, 310, 320)) {
                    modbus_reply_exception(ctx, query, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
                } else {
                    if (fc == 3 && overlaps(addr, count, 9000, 9001)) {
                        usleep((useconds_t)slow_ms * 1000);
                    }
                    modbus_reply(ctx, query, rc, map);
                }
                wave_tick();
            } else if (rc == -1) {
                close(fd);
                FD_CLR(fd, &refset);
                if (fd == fdmax) {
                    while (fdmax > server && !FD_ISSET(fdmax, &refset)) fdmax--;
                }
            }
        }
    }
}
