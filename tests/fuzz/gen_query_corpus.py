#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_query: valid queries of every kind the
example zone answers, and malformed ones. Run from anywhere; rewrites
corpus/query/seed_*."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "query")


def name(s):
    if s in ("", "."):
        return b"\0"
    out = b""
    for label in s.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def hdr(flags=0x0100, qd=1, an=0, ns=0, ar=0, qid=0x1234):
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def q(n, t=1, c=1):
    return name(n) + struct.pack(">HH", t, c)


def opt(size=1232, version=0, do=False, rdata=b""):
    ttl = (version << 16) | (0x8000 if do else 0)
    return b"\0" + struct.pack(">HHIH", 41, size, ttl, len(rdata)) + rdata


def cookie(length, server=None):
    """A COOKIE option: the client cookie, then server (or filler)."""
    data = (b"clientck" + (server or bytes(range(8, 48))))[:length]
    return struct.pack(">HH", 10, length) + data


def ptr_records(n):
    """A query whose n additional records each have an owner pointing at
    the QNAME (one compression hop each)."""
    rec = b"\xc0\x0c" + struct.pack(">HHIH", 99, 1, 0, 0)
    return hdr(ar=n) + q("example.com") + rec * n


def ptr_chain():
    """The 64 KiB chain: a record whose rdata is a chain of backward
    pointers up to offset 16383, then records whose owners point at its
    end."""
    head = hdr(ar=0) + q("a")
    first = b"\0" + struct.pack(">HHI", 99, 1, 0)
    start = len(head) + len(first) + 2
    chain = b"\xc0\x0c"
    while start + len(chain) + 2 <= 0x3FFF:
        chain += struct.pack(">H", 0xC000 | (start + len(chain) - 2))
    last = start + len(chain) - 2
    body = first + struct.pack(">H", len(chain)) + chain
    rec = struct.pack(">HHHIH", 0xC000 | last, 99, 1, 0, 0)
    n = 1
    while len(head) + len(body) + len(rec) <= 65535:
        body += rec
        n += 1
    return hdr(ar=n) + q("a") + body


def query(n, t=1, c=1, edns=None, flags=0x0100):
    ar = 1 if edns is not None else 0
    return hdr(flags=flags, ar=ar) + q(n, t, c) + (edns or b"")


seeds = {
    "apex_a": query("example.com", 1),
    "apex_any": query("example.com", 255),
    "apex_ns": query("example.com", 2, edns=opt()),
    "apex_mx": query("example.com", 15),
    "apex_soa": query("example.com", 6),
    "rrset": query("api.example.com", 1),
    "case": query("ApI.ExAmPlE.CoM", 1),
    "cname_chain": query("ftp.example.com", 1),
    "cname_loop": query("loop1.example.com", 1),
    "cname_dangling": query("dangling.example.com", 28),
    "cname_out": query("outside.example.com", 1),
    "cname_cut": query("tolab.example.com", 1),
    "nxdomain": query("nope.example.com", 1),
    "nodata": query("ns2.example.com", 28),
    "ent": query("b.c.example.com", 1),
    "wild": query("foo.apps.example.com", 1),
    "wild_deep": query("a.b.c.d.apps.example.com", 1, edns=opt(4096)),
    "wild_cname": query("xyz.wild.example.com", 15),
    "wild_nodata": query("foo.apps.example.com", 16),
    "encloser": query("x.host.apps.example.com", 1),
    "referral": query("www.lab.example.com", 1),
    "referral_glue": query("ns.lab.example.com", 28),
    "ds_cut": query("lab.example.com", 43),
    "ds_signed": query("secure.example.com", 43),
    "child": query("www.sub.example.com", 1),
    "child_ds": query("sub.example.com", 43),
    "srv": query("_sip._tcp.example.com", 33),
    "unknown": query("unknown.example.com", 65534),
    "big_udp": query("big.example.com", 16),
    "big_edns": query("big.example.com", 16, edns=opt(1232)),
    "big_edns4k": query("big.example.com", 16, edns=opt(65535, do=True)),
    "refused": query("www.example.org", 1),
    "root": query(".", 2),
    "class_any": query("example.com", 1, 255),
    "class_ch": query("version.bind", 16, 3),
    "axfr": query("example.com", 252),
    "ixfr": query("example.com", 251),
    "qtype_opt": query("example.com", 41),
    "maila": query("example.com", 254),
    "opcode_notify": query("example.com", 6, flags=4 << 11),
    "opcode_update": query("example.com", 6, flags=5 << 11),
    "edns_cookie": query("example.com", 1, edns=opt(rdata=b"\0\x0a\0\x08abcdefgh")),
    "edns_badvers": query("example.com", 1, edns=opt(version=1)),
    "edns_dup": hdr(ar=2) + q("example.com") + opt() + opt(),
    "edns_badopt": query("example.com", 1, edns=opt(rdata=b"\0\x0a\0\x10ab")),
    "edns_owner": hdr(ar=1) + q("example.com") + b"\x01x" + opt()[1:],
    "tsig": hdr(ar=1) + q("example.com") + name("key") + struct.pack(">HHIH", 250, 255, 0, 0),
    "ar_backptr": hdr(ar=1) + q("example.com") + b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 0, 4) + b"\1\2\3\4",
    "ar_fwdptr": hdr(ar=1) + q("example.com") + b"\xc0\x40" + struct.pack(">HHIH", 1, 1, 0, 0),
    "short_hdr": hdr()[:7],
    "empty": b"",
    "qr_set": query("example.com", 1, flags=0x8100),
    "qd0": hdr(qd=0),
    "qd2": hdr(qd=2) + q("example.com") + q("example.com"),
    "an1": hdr(an=1) + q("example.com") + name("") + struct.pack(">HHIH", 1, 1, 0, 0),
    "ns1": hdr(ns=1) + q("example.com") + name("") + struct.pack(">HHIH", 1, 1, 0, 0),
    "qname_ptr": hdr() + b"\3www\xc0\x0c" + struct.pack(">HH", 1, 1),
    "qname_selfptr": hdr() + b"\xc0\x0c" + struct.pack(">HH", 1, 1),
    "qname_ext": hdr() + b"\x41x\0" + struct.pack(">HH", 1, 1),
    "qname_trunc": hdr() + b"\7exam",
    "qname_long": hdr() + (b"\x3f" + b"a" * 63) * 4 + b"\0" + struct.pack(">HH", 1, 1),
    "no_qtype": hdr() + name("example.com") + b"\0",
    "trailing": query("example.com", 1) + b"junk",
    "tcp_like": struct.pack(">H", 29) + query("example.com", 1),
    # DNS cookies (RFC 7873): client only, client + RFC 9018 server cookie
    # (version 1, timestamp, hash), the longest, bad lengths, two of them.
    "cookie_client": query("example.com", 1, edns=opt(rdata=cookie(8))),
    "cookie_server": query("example.com", 1, edns=opt(
        rdata=cookie(24, b"\1\0\0\0\x65\x53\xf1\x00" + b"h" * 8))),
    "cookie_40": query("big.example.com", 16, edns=opt(rdata=cookie(40))),
    "cookie_7": query("example.com", 1, edns=opt(rdata=cookie(7))),
    "cookie_9": query("example.com", 1, edns=opt(rdata=cookie(9))),
    "cookie_15": query("example.com", 1, edns=opt(rdata=cookie(15))),
    "cookie_41": query("example.com", 1, edns=opt(rdata=cookie(41))),
    "cookie_dup": query("example.com", 1, edns=opt(rdata=cookie(8) * 2)),
    "cookie_padded": query("example.com", 1, edns=opt(
        rdata=struct.pack(">HH", 12, 3) + b"\0\0\0" + cookie(8))),
    "cookie_notify": query("example.com", 6, flags=4 << 11,
                           edns=opt(rdata=cookie(8))),
    # Compression pointers: at the hop budget, one over, the chain attack.
    "ptr_budget": ptr_records(128),
    "ptr_over": ptr_records(129),
    "ptr_chain": ptr_chain(),
}

os.makedirs(OUT, exist_ok=True)
for k, v in seeds.items():
    with open(os.path.join(OUT, "seed_" + k), "wb") as f:
        f.write(v)
print(f"{len(seeds)} seeds in {OUT}")
