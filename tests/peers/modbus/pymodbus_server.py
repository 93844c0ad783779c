#!/usr/bin/python3
"""FactoryEdge Modbus interop peer: Debian's python3-pymodbus (3.0) TCP server on 127.0.0.1.

    /usr/bin/python3 pymodbus_server.py PORT

Serves the same test register map as modbus_server.c (see docs/modbus.md), except the slow
register and the waveform block:
  holding 0..99 (i*7+3); input 0..99 (1000+i); coils 0..63 (i%3==0); discrete 0..63 (i%2==1)
  holding 200..217 floats 3.14159 and -1234.5 in ABCD, CDAB, BADC, DCBA; 220..223 pi float64 ABCD
  holding 300..309 and 320..329 (3000+i); 310..319 absent: exception 02 (a sparse block)
Prints "READY <port>" once the listening socket is bound.
"""
import asyncio
import logging
import struct
import sys

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext, ModbusSparseDataBlock)
from pymodbus.server import StartAsyncTcpServer


def words(fmt, value, order):
    raw = struct.pack(">" + fmt, value)  # big-endian: A first
    pairs = [raw[i:i + 2] for i in range(0, len(raw), 2)]
    if order in ("CDAB", "DCBA"):
        pairs.reverse()
    if order in ("BADC", "DCBA"):
        pairs = [p[::-1] for p in pairs]
    return [int.from_bytes(p, "big") for p in pairs]


def holding():
    values = {i: (i * 7 + 3) & 0xFFFF for i in range(100)}
    for k, order in enumerate(("ABCD", "CDAB", "BADC", "DCBA")):
        for j, w in enumerate(words("f", 3.14159, order)):
            values[200 + 2 * k + j] = w
        for j, w in enumerate(words("f", -1234.5, order)):
            values[210 + 2 * k + j] = w
    for j, w in enumerate(words("d", 3.141592653589793, "ABCD")):
        values[220 + j] = w
    for i in list(range(300, 310)) + list(range(320, 330)):
        values[i] = 3000 + i
    return ModbusSparseDataBlock(values)


async def main(port):
    slave = ModbusSlaveContext(
        hr=holding(),
        ir=ModbusSequentialDataBlock(0, [1000 + i for i in range(100)]),
        co=ModbusSequentialDataBlock(0, [i % 3 == 0 for i in range(64)]),
        di=ModbusSequentialDataBlock(0, [i % 2 == 1 for i in range(64)]),
        zero_mode=True)
    context = ModbusServerContext(slaves=slave, single=True)
    server = await StartAsyncTcpServer(context=context, address=("127.0.0.1", port),
                                       allow_reuse_address=True, defer_start=True)
    task = asyncio.ensure_future(server.serve_forever())
    await server.serving
    print(f"READY {port}", flush=True)
    await task


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    # pymodbus logs every exception response it sends (the tests provoke them) at ERROR.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    asyncio.run(main(int(sys.argv[1])))
