#!/usr/bin/env python3
"""Writes the seed corpora of the channel fuzzers: one valid frame of every
type per direction, plus a few near misses. Input format of the fuzzers:
one byte (bit 0: a descriptor came along), then the record."""
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))


def frame(ftype, flags, fid, conn, payload=b"", fd=False):
    head = b"WSC1" + struct.pack("<HHIII", ftype, flags, fid, conn, len(payload))
    return bytes([1 if fd else 0]) + head + payload


to_helper = {
    "connect": frame(0x0001, 0, 1, 0, b"wsop.example.com", fd=True),
    "send": frame(0x0002, 0, 2, 7, b"GET /health HTTP/1.1\r\nHost: wsop\r\n\r\n"),
    "send_reply": frame(0x0002, 1, 3, 7, b"POST /crypto/v1/encrypt HTTP/1.1\r\n\r\n"),
    "recv": frame(0x0003, 0, 4, 7, struct.pack("<II", 65536, 30000)),
    "close": frame(0x0004, 0, 5, 7),
    "ping": frame(0x0005, 0, 6, 0),
    "connect_no_fd": frame(0x0001, 0, 1, 0, b"wsop.example.com"),
    "short_len": frame(0x0002, 0, 2, 7, b"abc")[:-1],
}
to_lib = {
    "ready": frame(0x8001, 0, 0, 0, struct.pack("<I", 4242) + "loaded client.pem, Grüße".encode()),
    "connected": frame(0x8002, 0, 1, 7, b"TLSv1.3"),
    "data": frame(0x8003, 0, 3, 7, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"),
    "eof": frame(0x8004, 0, 4, 7),
    "sent": frame(0x8005, 0, 2, 7),
    "closed": frame(0x8006, 0, 5, 7),
    "pong": frame(0x8007, 0, 6, 0),
    "error": frame(0x8008, 0, 1, 0, struct.pack("<I", 3) + b"certificate does not name host"),
    "error_channel": frame(0x8008, 0, 0, 0, struct.pack("<I", 10) + b"cannot read key"),
    "error_bad_utf8": frame(0x8008, 0, 1, 0, struct.pack("<I", 6) + b"\xc0\xaf"),
}

for name, seeds in (("corpus_to_helper", to_helper), ("corpus_to_lib", to_lib)):
    out = os.path.join(here, name)
    os.makedirs(out, exist_ok=True)
    for seed, data in seeds.items():
        with open(os.path.join(out, seed), "wb") as f:
            f.write(data)
sys.exit(0)
