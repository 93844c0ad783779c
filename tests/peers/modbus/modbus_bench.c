/*
 * Reference client for the benchmark: libmodbus's synchronous client reading blocks of registers
 * (one request in flight at a time, as libmodbus works) for a fixed time.
 *
 *   modbus_bench HOST PORT SECONDS [COUNT=125] [ADDRESS=0]
 *
 * Prints: reads=N seconds=S rate=R p50_us=X p99_us=Y errors=E
 */
#include <errno.h>
#include <modbus.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: modbus_bench HOST PORT SECONDS [COUNT] [ADDRESS]\n");
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    double seconds = atof(argv[3]);
    int count = argc > 4 ? atoi(argv[4]) : 125;
    int address = argc > 5 ? atoi(argv[5]) : 0;

    modbus_t *ctx = modbus_new_tcp(host, port);
    if (ctx == NULL || modbus_connect(ctx) == -1) {
        fprintf(stderr, "connect: %s\n", modbus_strerror(errno));
        return 1;
    }
    modbus_set_response_timeout(ctx, 1, 0);

    size_t capacity = 1 << 20, n = 0;
    double *latency = malloc(capacity * sizeof(double));
    uint16_t regs[MODBUS_MAX_READ_REGISTERS];
    long errors = 0;
    double start = now_us(), end = start + seconds * 1e6, t0;
    while ((t0 = now_us()) < end) {
        if (modbus_read_registers(ctx, address, count, regs) != count) {
            errors++;
            continue;
        }
        if (n < capacity) latency[n++] = now_us() - t0;
    }
    double elapsed = (now_us() - start) / 1e6;
    qsort(latency, n, sizeof(double), compare);
    printf("reads=%zu seconds=%.3f rate=%.1f p50_us=%.1f p99_us=%.1f errors=%ld\n",
           n, elapsed, n / elapsed, n ? latency[n / 2] : 0.0, n ? latency[(size_t)(n * 0.99)] : 0.0, errors);
    modbus_close(ctx);
    modbus_free(ctx);
    free(latency);
    return errors > 0 && n == 0;
}
