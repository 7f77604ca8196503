#!/usr/bin/python3
"""Writes the seed corpus of fuzz_peer (tests/fuzz/corpus/peer).

Byte 0 of each input picks the decoder (0 preamble, 1 frames, 2 TLS).
The files named by hashes were added by `fuzz_peer -merge=1` after a run of
the libFuzzer build (-DDR_FUZZ=ON, clang).

clienthello.bin is a ClientHello that `openssl s_client -psk_identity
dns-raft/raft/0123456789abcdef -psk <HMAC-SHA256(0x5a*32, "dns-raft raft
psk")>` sent, which is the key fuzz_peer.c's server holds.
"""
import os
import struct
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus",
                   "peer")


def le(*words):
    return b"".join(struct.pack("<Q", w) for w in words)


def preamble(rid, addr):
    a = addr.encode()
    return b"drRT\x01\x00" + struct.pack(">HQ", len(a), rid) + a


def conf():
    b = b"\x01" + le(2)
    b += le(11) + b"127.0.0.1:9001\x00\x01"
    b += le(12) + b"127.0.0.1:9002\x00\x02"
    return b + b"\xaa" * (-len(b) % 8)


def append_entries(entries):
    hdr = le(5, 10, 4, 9, len(entries))
    data = b""
    for etype, payload in entries:
        hdr += le(5) + bytes([etype, 0, 0, 0]) + struct.pack("<I",
                                                            len(payload))
        data += payload
    hdr += le(0)
    return le(1, len(hdr)) + hdr + data


def chunked(b, size=7):
    """Frames input: a chunk-size byte before each piece."""
    out = b""
    for i in range(0, len(b), size):
        piece = b[i:i + size]
        out += bytes([len(piece) - 1]) + piece
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    c = conf()
    seeds = {
        "preamble": b"\x00" + preamble(7, "127.0.0.1:8301"),
        "preamble-craft": b"\x00" + le(1, 2, 16) + b"127.0.0.1:8301\x00\x00",
        "ae-heartbeat": b"\x01" + chunked(append_entries([])),
        "ae-entries": b"\x01" + chunked(append_entries(
            [(1, b"a" * 16), (2, b"b" * 8), (3, c)])),
        "ae-type0": b"\x01" + chunked(append_entries([(0, b"x" * 8)])),
        "aer": b"\x01" + chunked(le(2, 24, 5, 0, 12)),
        "rv": b"\x01" + chunked(le(3, 40, 1, 2, 3, 4, 1)),
        "rvr": b"\x01" + chunked(le(4, 24, 1, 1, 1)),
        "tn": b"\x01" + chunked(le(6, 24, 7, 7, 7)),
        "is": b"\x01" + chunked(le(5, 56 + len(c), 9, 9, 9, 9, len(c)) + c +
                                le(16, 0) + b"z" * 16),
    }
    hello = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "clienthello.bin")
    with open(hello, "rb") as f:
        seeds["tls-clienthello"] = b"\x02" + f.read()
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
