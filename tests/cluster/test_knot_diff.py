"""Differential test: dnsd against knotd serving the same zone files.

knotd (Debian package `knot`) runs on 127.0.0.1 with zones/zone.txt,
tests/cluster/zones/edge.zone, child.zone (lab.example.com., the zone
that zone.txt delegates) and syntax.zone (master-file corners); a 1-node dns-raft cluster loads the same files
with -zone.file. dnsdiff.cases() generates the queries (every name
and empty non-terminal with each relevant type, names below them, case
variations, below zone cuts, outside our zones, EDNS payload sizes and no
EDNS for truncation, TCP, bad EDNS, unknown opcodes, malformed packets);
rcode, AA/TC, OPT presence and the three sections (as sets) must match.

ALLOWED lists the differences that are accepted, each with its reason.
"""

import os

import pytest

import dnsdiff
import refservers
import drcluster
from drcluster import dns_query, dnsd_present, is_aa

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = drcluster.ROOT
ZONES = [("example.com.", os.path.join(ROOT, "zones", "zone.txt")),
         ("edge.test.", os.path.join(HERE, "zones", "edge.zone")),
         ("lab.example.com.", os.path.join(HERE, "zones", "child.zone")),
         ("syntax.test.", os.path.join(HERE, "zones", "syntax.zone"))]

# Per-case allowed differences: repr(case) -> (exact differences, reason).
# knotd is the first server, dnsd the second.
_XFR_UDP = (
    "dnsd does not serve zone transfers. AXFR over UDP is undefined "
    "(RFC 5936 4.2); knotd says NOTIMP, dnsd FORMERR: both refuse it with "
    "an error rcode and no data.")
_IXFR_UDP = (
    "dnsd does not serve zone transfers; knotd answers NOTAUTH because no "
    "ACL allows the transfer, dnsd FORMERR: both refuse it without data.")
ALLOWED = {
    "<UDP www.example.com. A OPT-owner-x>": (
        ["rcode: 'NOERROR' vs 'FORMERR'", "aa: True vs False",
         "opt: True vs False", "edns: (0, '') vs None",
         "answer: only first [('example.com.', 'A', 3600, '1.2.3.4'), "
         "('www.example.com.', 'CNAME', 3600, 'example.com.')], "
         "only second []"],
        "An OPT record whose owner is not the root is malformed (RFC 6891 "
        "6.1.2: MUST be 0): dnsd answers FORMERR, knotd ignores the owner."),
}
for _apex, _ in ZONES:
    ALLOWED["<UDP %s AXFR>" % _apex] = (
        ["rcode: 'NOTIMP' vs 'FORMERR'"], _XFR_UDP)
    ALLOWED["<UDP %s IXFR>" % _apex] = (
        ["rcode: 'NOTAUTH' vs 'FORMERR'"], _IXFR_UDP)
ALLOWED_LC = {k.lower(): v for k, v in ALLOWED.items()}



def cname_out_of_zone(case, k, d):
    """alias.lab.example.com. is a CNAME into the parent zone, which we
    serve too. knotd stops at the zone boundary and answers the CNAME
    alone; dnsd goes on in the other zone (RFC 1034 4.3.2 step 3a restarts
    the lookup at step 1, which picks the best zone again) and appends what
    it finds there, with that zone's negative answer. Accepted: the same
    rcode and flags, knotd's answer is the CNAME alone and dnsd's starts
    with it."""
    if not case.label.lower().startswith("alias.lab.example.com. "):
        return False
    if not isinstance(k, dict) or not isinstance(d, dict):
        return False
    same = all(k[f] == d[f] for f in ("rcode", "aa", "tc", "opt"))
    cname = {("alias.lab.example.com.", "CNAME", 600, "www.example.com.")}
    kans, dans = _lower(k["answer"]), _lower(d["answer"])
    return (same and kans == cname and cname < dans and
            not k["authority"] and not k["additional"])


def _lower(section):
    return {(r[0].lower(),) + r[1:] for r in section}


def cname_chain_limit(case, k, d):
    """chain0..chain11.edge.test. is a chain of 12 CNAMEs. knotd follows
    at most 5 of them and leaves the rest to the resolver; dnsd follows the
    whole chain (its limit is higher) and ends with the data or the
    negative answer. Accepted: same rcode and flags, knotd's answer is 5
    CNAMEs of the chain and dnsd's answer contains them."""
    if not case.label.lower().startswith("chain"):
        return False
    if not isinstance(k, dict) or not isinstance(d, dict):
        return False
    same = all(k[f] == d[f] for f in ("rcode", "aa", "tc", "flags", "opt"))
    kans, dans = _lower(k["answer"]), _lower(d["answer"])
    return (same and len(kans) == 5 and
            all(r[1] == "CNAME" for r in kans) and kans < dans and
            not k["authority"])


def cd_copied(case, k, d):
    """dnsd copies the CD bit of the query into the response, as RFC 4035
    3.1.6 says a name server MUST; knotd clears it for zones without
    DNSSEC. Accepted: the replies differ only in CD, which the query
    set."""
    if not isinstance(k, dict) or not isinstance(d, dict):
        return False
    if not case.wire[3] & 0x10:  # CD in the query
        return False
    kf, df = k["flags"].split(), d["flags"].split()
    return ("CD" in df and "CD" not in kf and
            sorted(kf) == sorted(f for f in df if f != "CD") and
            {x: v for x, v in k.items() if x != "flags"} ==
            {x: v for x, v in d.items() if x != "flags"})


# Allowed differences that follow a rule: (function(case, knotd reply,
# dnsd reply) -> bool); each function's docstring explains why.
ALLOWED_RULES = [cname_out_of_zone, cname_chain_limit, cd_copied]


@pytest.fixture(scope="module")
def knot():
    if not refservers.Knotd.available():
        pytest.fail("knotd missing: apt-get install knot (see .ci/deps)")
    k = refservers.Knotd(ZONES)
    try:
        k.start()
    except AssertionError:
        print(k.log_tail())
        k.cleanup()
        raise
    yield k
    k.cleanup()


@pytest.fixture(scope="module")
def dnsd(module_cluster):
    """A 1-node cluster that loaded both zone files; its node."""
    dnsd_present()
    args = []
    for _, path in ZONES:
        args += ["-zone.file", path]
    module_cluster.start(1, first_args=args)
    node = module_cluster.nodes[0]
    for apex, _ in ZONES:
        node.wait_dns(apex, "SOA",
                      lambda m: m.rcode() == 0 and is_aa(m) and m.answer,
                      timeout=30)
    return node


def unexplained(diffs):
    """The differences of dnsdiff.compare(..., with_replies=True) that no
    allowance above explains, as printable lines."""
    out = []
    for case, d, k, r in diffs:
        # Keys are compared lowercased: dnspython keeps the case of
        # $ORIGIN (Syntax.Test.) in the names it generates.
        allowed = ALLOWED_LC.get(repr(case).lower())
        if allowed and allowed[0] == d:
            continue
        if any(rule(case, k, r) for rule in ALLOWED_RULES):
            continue
        out.append("%r\n    %s" % (case, "\n    ".join(d)))
    return out


@pytest.mark.timeout(240)
def test_same_answers_as_knotd(knot, dnsd):
    cases = dnsdiff.cases([p for _, p in ZONES])
    assert len(cases) > 300
    diffs = dnsdiff.compare(knot.port, dnsd.dns_port, cases,
                            with_replies=True)
    unexpected = unexplained(diffs)
    assert not unexpected, "%d of %d queries answered differently " \
        "(knotd vs dnsd):\n%s" % (len(unexpected), len(cases),
                                  "\n".join(unexpected))


def soa_serial(port, apex):
    return dns_query(port, apex, "SOA").answer[0][0].serial


def test_serial_not_behind_the_file(knot, dnsd):
    # knotd serves the file's serial; dns-raft may have bumped it.
    for apex, _ in ZONES:
        ks = soa_serial(knot.port, apex)
        ds = soa_serial(dnsd.dns_port, apex)
        assert ds >= ks, (apex, ks, ds)


@pytest.mark.timeout(200)
def test_zone_dump_reloads_to_the_same_answers(knot, dnsd, tmp_path):
    """`zone dump` of each zone, loaded into a second knotd, answers every
    query exactly like knotd with the original files: the dump is
    master-file syntax that holds the same data."""
    dumped = []
    for apex, _ in ZONES:
        text = dnsd.ctl("zone dump %s" % apex, timeout=30)
        lines = text.splitlines()
        assert lines and lines[-1] == ".", text[-200:]
        assert not lines[0].startswith("ERROR"), lines[0]
        path = tmp_path / (apex + "dump")
        path.write_text("\n".join(lines[:-1]) + "\n")
        dumped.append((apex, str(path)))
    k2 = refservers.Knotd(dumped, base_dir=str(tmp_path / "knot2"))
    try:
        k2.start()
        cases = dnsdiff.cases([p for _, p in ZONES])
        diffs = dnsdiff.compare(knot.port, k2.port, cases)
    finally:
        k2.cleanup()
    assert not diffs, "%d queries answered differently by knotd on the " \
        "dumps:\n%s" % (len(diffs), "\n".join(
            "%r\n    %s" % (c, "\n    ".join(d)) for c, d in diffs[:30]))


# Record changes through ctld that hit dnsd's dependency tracking: CNAME
# targets appearing and vanishing, wildcards losing a type, names that
# stop blocking a wildcard, empty non-terminals disappearing, additional
# section targets and glue changing, a new zone cut, an RRset shrinking
# below the truncation limit.
CHANGES = [
    "rr add edge.test missing.multi 300 A 192.0.2.200",   # cnx now resolves
    "rr del edge.test c3 300 A 192.0.2.40",               # end of chains
    "rr del edge.test *.wild 300 A 192.0.2.20",
    "rr del edge.test sub.exists.wild 300 A 192.0.2.22",  # exists.wild ...
    "rr del edge.test exists.wild 300 A 192.0.2.21",      # ... now wildcard
    "rr del edge.test a.b.ent 300 A 192.0.2.30",          # ENTs go away
    "rr add edge.test mail 300 AAAA 2001:db8::3",          # MX additional
    "rr add edge.test ns.a.deleg3 300 AAAA 2001:db8::51",  # more glue
    "rr del edge.test deleg 300 NS ns.deleg.edge.test.",   # glue -> occluded
    "rr add edge.test newcut 300 NS ns.newcut",            # a new zone cut
    "rr add edge.test ns.newcut 300 A 192.0.2.210",
    "rr add edge.test newalias 300 CNAME c1",
    "rr del edge.test @ 300 MX 20 mx.elsewhere.invalid.",
    "rr add edge.test *.wild 300 AAAA 2001:db8::21",
    "rr add example.com ftp2 3600 CNAME ftp",               # 4-link chain
] + ["rr del edge.test big 300 TXT \"%s-%s\"" % (c, c * 200)
     for c in "abcdefghi"]                                  # fits again


@pytest.mark.timeout(240)
def test_same_answers_after_record_changes(knot, dnsd, tmp_path):
    """After CHANGES, dnsd (index updated change by change) answers like
    knotd loaded with `zone dump` of the result (state.db's content)."""
    for line in CHANGES:
        r = dnsd.ctl(line, timeout=20)
        assert r.startswith("SUCCESS"), (line, r)
    dnsd.wait_dns("newalias.edge.test.", "CNAME",
                  lambda m: m.rcode() == 0 and m.answer, 10)
    dumped = []
    for apex, _ in ZONES:
        text = dnsd.ctl("zone dump %s" % apex, timeout=30)
        lines = text.splitlines()
        assert lines and lines[-1] == ".", text[-200:]
        path = tmp_path / (apex + "dump")
        path.write_text("\n".join(lines[:-1]) + "\n")
        dumped.append((apex, str(path)))
    k2 = refservers.Knotd(dumped, base_dir=str(tmp_path / "knot3"))
    try:
        k2.start()
        seen, cases = set(), []
        for c in (dnsdiff.cases([p for _, p in dumped]) +
                  dnsdiff.cases([p for _, p in ZONES])):
            if (c.label, c.tcp) not in seen:
                seen.add((c.label, c.tcp))
                cases.append(c)
        diffs = dnsdiff.compare(k2.port, dnsd.dns_port, cases,
                                with_replies=True)
    finally:
        k2.cleanup()
    unexpected = unexplained(diffs)
    assert not unexpected, "%d of %d queries answered differently " \
        "(knotd on the dump vs dnsd):\n%s" % (
            len(unexpected), len(cases), "\n".join(unexpected[:40]))
