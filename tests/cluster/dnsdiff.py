"""Differential DNS testing: the same queries to two servers, answers compared.

cases(zone_files) generates some two thousand queries from the zones'
contents (every owner name and empty non-terminal with each relevant type,
names below them, names a wildcard synthesizes, at and below zone cuts,
case variations, names outside our zones, EDNS payload sizes and no EDNS,
TCP, bad EDNS, header flags, unknown opcodes, malformed packets).
compare(port_a, port_b, cases) sends each to both servers and returns the
differences: rcode, AA and TC, the other header flags, the echoed ID, OPT
presence with its version and flags, the question, and the answer,
authority and additional sections as sets of (name, type, ttl, rdata).
Names are compared lowercased, except answer owners equal to the question
name, whose case must be the question's; SOA serials are masked
(dns-raft bumps the serial when it loads a zone); malformed queries may be
dropped or answered FORMERR; the sections of truncated replies are not
compared.

Run by hand against any two servers, or against a knotd it starts itself
(serving the same zone files):
  /usr/bin/python3 tests/cluster/dnsdiff.py PORT_A PORT_B ZONEFILE...
  /usr/bin/python3 tests/cluster/dnsdiff.py knot PORT_B ZONEFILE...
"""

import random
import struct
import sys

import dns.edns
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype
import dns.zone

import drcluster

# Types asked at every name, besides the ones present there.
COMMON_TYPES = ["A", "AAAA", "MX", "TXT", "NS", "SOA", "CNAME", "ANY",
                "SRV", "DS", "TYPE65534"]


class Case:
    """One query: wire bytes, transport, and how to judge answers.

    loose: malformed input; "no answer" and FORMERR count as the same.
    """

    def __init__(self, label, wire, tcp=False, loose=False):
        self.label = label
        self.wire = wire
        self.tcp = tcp
        self.loose = loose

    def __repr__(self):
        return "<%s %s>" % ("TCP" if self.tcp else "UDP", self.label)


def _query(qname, qtype, edns=0, payload=1232, qid=0x4242, flags=None,
           qclass="IN"):
    q = dns.message.make_query(qname, qtype, rdclass=qclass)
    # make_query(use_edns=1) means "EDNS on" (version 0): set it apart.
    q.use_edns(-1 if edns is None else edns, payload=payload)
    q.id = qid
    q.flags = dns.flags.Flag(0) if flags is None else flags
    return q


def _case(qname, qtype, tcp=False, edns=0, payload=1232, label=None,
          qclass="IN"):
    q = _query(qname, qtype, edns=edns, payload=payload, qclass=qclass)
    if label is None:
        label = "%s %s" % (qname, qtype)
        if edns is None or edns < 0:
            label += " noedns"
        elif payload != 1232:
            label += " bufsize=%d" % payload
        if qclass != "IN":
            label += " class=%s" % qclass
    return Case(label, q.to_wire(), tcp)


def zone_names(zone_files):
    """{apex: {name: set(types)}} from the zone files (dnspython parser).

    Empty non-terminals are added with an empty type set.
    """
    out = {}
    for path in zone_files:
        try:
            z = dns.zone.from_file(path, origin=None, relativize=False,
                                   check_origin=False)
        except dns.zone.UnknownOrigin:
            # No $ORIGIN (a `zone dump`): the SOA's owner comes first.
            with open(path) as f:
                first = next(ln for ln in f if ln.strip() and
                             not ln.startswith(";"))
            z = dns.zone.from_file(path, origin=first.split()[0],
                                   relativize=False, check_origin=False)
        names = {}
        for name, node in z.nodes.items():
            names.setdefault(name, set()).update(
                dns.rdatatype.to_text(rds.rdtype) for rds in node)
            parent = name.parent() if name != z.origin else None
            while parent is not None and parent != z.origin and \
                    parent.is_subdomain(z.origin):
                names.setdefault(parent, set())
                parent = parent.parent()
        out[z.origin] = names
    return out


def _mixcase(name, rng):
    return "".join(c.upper() if rng.random() < 0.5 else c.lower()
                   for c in name)


def cases(zone_files, seed=1):
    """Every query of the comparison, in a stable order."""
    rng = random.Random(seed)
    out = []
    zones = zone_names(zone_files)
    for apex, names in zones.items():
        for name in sorted(names):
            text = name.to_text()
            types = sorted(names[name] | set(COMMON_TYPES))
            for t in types:
                out.append(_case(text, t))
            if name.labels[0] != b"*":
                # Below an existing name: NXDOMAIN, a wildcard, or a
                # referral below a cut.
                out.append(_case("nx-" + text, "A"))
                out.append(_case("a.b." + text, "TXT"))
            else:
                # Names the wildcard synthesizes, one and two labels deep.
                parent = name.parent().to_text()
                for syn in ("syn.", "a.b."):
                    for t in COMMON_TYPES:
                        out.append(_case(syn + parent, t))
                out.append(_case("syn." + parent, "A", tcp=True))
            if "NS" in names[name] and name != apex:
                # At and below a zone cut: referrals, DS from the parent.
                for t in COMMON_TYPES:
                    out.append(_case("host." + text, t))
                out.append(_case(text, "DS", tcp=True))
                out.append(_case("host." + text, "A", tcp=True))
            # The question's case is echoed and matching ignores it.
            out.append(_case(_mixcase(text, rng), "A"))
            out.append(_case(_mixcase(text, rng), "ANY"))
            out.append(_case(text, "A", tcp=True))
        a = apex.to_text()
        for sub in ("nothere", "x.nothere", "no-such-name-" * 3):
            out.append(_case(sub + "." + a, "A"))
        out.append(_case(a, "SOA", tcp=True))
        out.append(_case(a, "NS", edns=None))
        out.append(_case(a, "AXFR"))
        out.append(_case(a, "IXFR"))
        out.append(_case(a, "A", qclass="CH"))
        out.append(_case(a, "SOA", qclass="ANY"))
    out += _outside_cases()
    out += _edns_cases()
    out += _opcode_cases()
    out += _malformed_cases()
    return out


def _outside_cases():
    """Names outside our zones: REFUSED."""
    out = []
    for n in (".", "com.", "test.", "org.", "example.org.", "xexample.com.",
              "example.com.evil.", "elsewhere.invalid.", "www.example.net."):
        out.append(_case(n, "A"))
        out.append(_case(n, "NS"))
    return out


def _edns_cases():
    """Truncation over UDP by payload size, the same over TCP, bad EDNS."""
    out = []
    for name, t in (("big.edge.test.", "TXT"), ("multi.edge.test.", "ANY"),
                    ("multi.edge.test.", "TXT"),
                    ("mxmulti.edge.test.", "MX"),
                    ("host.deleg.edge.test.", "A"),
                    ("ns1.edge.test.", "A"),
                    ("example.com.", "MX"), ("api.example.com.", "A")):
        out.append(_case(name, t, edns=None))
        for size in (0, 100, 512, 600, 1232, 1400, 2000, 4096, 65535):
            out.append(_case(name, t, payload=size))
        out.append(_case(name, t, tcp=True))
        out.append(_case(name, t, tcp=True, edns=None))
    # EDNS version 1: BADVERS (extended rcode 16), with an OPT.
    for n in ("www.example.com.", "nothere.example.com.", "example.org."):
        q = _query(n, "A", edns=1)
        out.append(Case("%s A edns-version=1" % n, q.to_wire()))
    # Two OPT records: FORMERR.
    q = _query("www.example.com.", "A", edns=0)
    w = q.to_wire()
    opt = w[w.rindex(b"\x00\x00\x29"):]
    w2 = bytearray(w + opt)
    w2[11] = 2
    out.append(Case("www.example.com. A two-OPT", bytes(w2), loose=True))
    # OPT with a non-root owner: FORMERR.
    q = _query("www.example.com.", "A", edns=None)
    w = bytearray(q.to_wire())
    w[11] = 1
    w += b"\x01x\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)
    out.append(Case("www.example.com. A OPT-owner-x", bytes(w), loose=True))
    # OPT with a truncated option: FORMERR.
    w = bytearray(q.to_wire())
    w[11] = 1
    w += b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 4) + b"\x00\x0a\x00\x08"
    out.append(Case("www.example.com. A OPT-bad-option", bytes(w),
                    loose=True))
    # DO bit and an unknown option: ignored, normal answer.
    q = dns.message.make_query("www.example.com.", "A", use_edns=0,
                               want_dnssec=True,
                               options=[dns.edns.GenericOption(65001,
                                                               b"hi")])
    q.id = 0x4242
    q.flags = dns.flags.Flag(0)
    out.append(Case("www.example.com. A DO+unknown-option", q.to_wire()))
    # Header flags in queries: RD and CD are copied, AD and RA are not
    # answered with; the ID is echoed.
    for fl, name in ((dns.flags.RD, "RD"), (dns.flags.CD, "CD"),
                     (dns.flags.AD, "AD"), (dns.flags.RD | dns.flags.CD |
                                            dns.flags.AD, "RD+CD+AD"),
                     (dns.flags.RA, "RA")):
        for qn, t in (("www.example.com.", "A"),
                      ("nothere.example.com.", "A"),
                      ("host.lab.example.com.", "A"), ("example.org.", "A")):
            q = _query(qn, t, flags=fl, qid=0xbeef)
            out.append(Case("%s %s flags=%s" % (qn, t, name), q.to_wire()))
            q = _query(qn, t, flags=fl, qid=0xbeef, edns=None)
            out.append(Case("%s %s flags=%s noedns" % (qn, t, name),
                            q.to_wire()))
    # A question name of 255 octets in wire form (the longest), under our
    # zone.
    long = ".".join(["a" * 63] * 3 + ["b" * 49]) + ".example.com."
    assert len(long) == 254, len(long)
    out.append(_case(long, "A"))
    out.append(_case(long, "A", edns=None))
    return out


def _opcode_cases():
    out = []
    for op in (2, 3, 7, 15):
        q = _query("www.example.com.", "A")
        w = bytearray(q.to_wire())
        w[2] = (w[2] & 0x87) | (op << 3)
        out.append(Case("opcode %d" % op, bytes(w)))
    return out


def _malformed_cases():
    """Packets a server must drop or answer with FORMERR."""
    base = _query("www.example.com.", "A", edns=None).to_wire()
    hdr, rest = bytearray(base[:12]), base[12:]
    out = []

    def mk(label, hdr_patch=None, body=rest, tail=b""):
        h = bytearray(hdr)
        if hdr_patch:
            hdr_patch(h)
        out.append(Case(label, bytes(h) + body + tail, loose=True))

    def qd(n):
        return lambda h: h.__setitem__(slice(4, 6), struct.pack("!H", n))
    mk("qdcount 0", qd(0), b"")
    mk("qdcount 0 with question", qd(0))
    mk("qdcount 2", qd(2), rest + rest)
    mk("qdcount 2 one question", qd(2))
    mk("trailing bytes", tail=b"\x00\x01\x02")
    mk("truncated question", body=rest[:-3])
    mk("ancount 1 without answer", lambda h: h.__setitem__(7, 1))
    # A qname that points at itself, and one pointing forward.
    mk("looping pointer", body=b"\xc0\x0c\x00\x01\x00\x01")
    mk("forward pointer", body=b"\xc0\x12\x00\x01\x00\x01\x03www\x00")
    mk("label too long", body=b"\x40" + b"a" * 64 + b"\x00\x00\x01\x00\x01")
    out.append(Case("header only 5 bytes", bytes(hdr[:5]), loose=True))
    out.append(Case("empty packet", b"", loose=True))
    # A response (QR=1) must never be answered.
    h = bytearray(hdr)
    h[2] |= 0x80
    out.append(Case("qr=1", bytes(h) + rest, loose=True))
    return out


# --------------------------------------------------------------------------
# Comparison


# Types whose rdata holds domain names (lowercased before comparing).
NAME_TYPES = {"CNAME", "NS", "MX", "SRV", "PTR", "SOA", "RP", "NAPTR"}


def _rr_key(rrset, rd, qname=None):
    """(owner, TYPE, ttl, rdata) of one record.

    Servers may write any name in any case and compress it against any
    earlier name (knotd copies the question's case into NS and CNAME
    targets and glue owners equal to the question name, dnsd into their
    suffixes), so names are lowercased, except (qname given: the answer
    section) an owner equal to the question name: its case must be the
    question's, exactly.
    """
    t = dns.rdatatype.to_text(rrset.rdtype)
    text = rd.to_text()
    if t in NAME_TYPES:
        text = text.lower()
    if t == "SOA":
        f = text.split()
        f[2] = "SERIAL"
        text = " ".join(f)
    owner = rrset.name.to_text()
    if qname is None or owner.lower() != qname.lower():
        owner = owner.lower()
    return (owner, t, rrset.ttl, text)


def _raw_summary(wire, why):
    """What the header says, for replies dnspython cannot parse (unknown
    opcodes)."""
    if len(wire) < 12:
        return "UNPARSABLE %s: %s" % (why, wire.hex())
    f = struct.unpack("!H", wire[2:4])[0]
    counts = struct.unpack("!4H", wire[4:12])
    return {"rcode": dns.rcode.to_text(f & 0xF), "opcode": (f >> 11) & 0xF,
            "aa": bool(f & 0x400), "tc": bool(f & 0x200),
            "flags": f & 0x81B0, "id": wire[:2].hex(), "edns": None,
            "opt": "arcount=%d" % counts[3], "question": counts[0],
            "answer": frozenset(), "authority": frozenset(),
            "additional": frozenset()}


def summary(wire):
    """A comparable view of a response: None (no answer), "UNPARSABLE",
    or a dict."""
    if wire is None:
        return None
    try:
        m = dns.message.from_wire(wire, ignore_trailing=False)
    except Exception as e:
        return _raw_summary(wire, type(e).__name__)
    s = {
        "rcode": dns.rcode.to_text(m.rcode()),
        "opcode": dns.opcode.to_text(m.opcode()),
        "aa": bool(m.flags & dns.flags.AA),
        "tc": bool(m.flags & dns.flags.TC),
        # The other header flags: QR, RD (copied), RA, AD, CD.
        "flags": dns.flags.to_text(m.flags & ~(dns.flags.AA |
                                               dns.flags.TC)),
        "id": m.id,
        "opt": m.edns >= 0,
        # EDNS version and flags (DO copied); payload sizes differ.
        "edns": (m.edns, dns.flags.edns_to_text(m.ednsflags))
        if m.edns >= 0 else None,
        "question": [(r.name.to_text(), dns.rdatatype.to_text(r.rdtype))
                     for r in m.question],
    }
    qname = m.question[0].name.to_text() if m.question else None
    for sec in ("answer", "authority", "additional"):
        s[sec] = frozenset(_rr_key(rrset, rd,
                                   qname if sec == "answer" else None)
                           for rrset in getattr(m, sec) for rd in rrset)
    return s


def ask(port, case, timeout=1.0):
    wire = drcluster.dns_raw(port, case.wire, tcp=case.tcp, timeout=timeout)
    return summary(wire)


def _is_formerr_or_drop(s):
    return s is None or (isinstance(s, dict) and s["rcode"] == "FORMERR")


def differences(sa, sb, case):
    """A list of 'what: a vs b' strings (empty when equivalent)."""
    if case.loose and _is_formerr_or_drop(sa) and _is_formerr_or_drop(sb):
        return []
    if not isinstance(sa, dict) or not isinstance(sb, dict):
        return [] if sa == sb else ["reply: %r vs %r" % (
            _short(sa), _short(sb))]
    out = []
    for k in ("rcode", "opcode", "aa", "tc", "flags", "id", "opt", "edns",
              "question"):
        if sa[k] != sb[k]:
            out.append("%s: %r vs %r" % (k, sa[k], sb[k]))
    if sa["tc"] and sb["tc"]:
        # A truncated reply's sections are whatever fitted (RFC 2181 9):
        # only the flags and rcode are compared.
        return out
    for sec in ("answer", "authority", "additional"):
        if sa[sec] != sb[sec]:
            out.append("%s: only first %s, only second %s" % (
                sec, sorted(sa[sec] - sb[sec]), sorted(sb[sec] - sa[sec])))
    return out


def _short(s):
    if isinstance(s, dict):
        return "%s aa=%d tc=%d an=%d" % (s["rcode"], s["aa"], s["tc"],
                                         len(s["answer"]))
    return s


def compare(port_a, port_b, all_cases, timeout=1.0, with_replies=False):
    """[(case, [difference, ...]), ...] for the cases that differ;
    with_replies: [(case, differences, summary a, summary b), ...]."""
    out = []
    for c in all_cases:
        sa = ask(port_a, c, timeout)
        sb = ask(port_b, c, timeout)
        d = differences(sa, sb, c)
        if d:
            out.append((c, d, sa, sb) if with_replies else (c, d))
    return out


def main(argv):
    if len(argv) < 4:
        print(__doc__)
        return 2
    pb, files = int(argv[2]), argv[3:]
    cs = cases(files)
    if argv[1] == "knot":
        import refservers
        zones = [(apex.to_text(), f) for f, apex in
                 zip(files, zone_names(files))]
        with refservers.Knotd(zones) as k:
            k.start()
            diffs = compare(k.port, pb, cs)
    else:
        diffs = compare(int(argv[1]), pb, cs)
    for c, d in diffs:
        print("%r" % c)
        for ln in d:
            print("    " + ln)
    print("%d cases, %d differ" % (len(cs), len(diffs)))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
