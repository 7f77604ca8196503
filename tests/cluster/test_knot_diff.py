"""Differential test: dnsd against knotd serving the same zone files.

knotd (Debian package `knot`) runs on 127.0.0.1 with zones/zone.txt and
tests/cluster/zones/edge.zone; a 1-node dns-raft cluster loads the same
files with -zone.file. dnsdiff.cases() generates the queries (every name
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
from drcluster import dns_query, dnsd_present, is_aa

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ZONES = [("example.com.", os.path.join(ROOT, "zones", "zone.txt")),
         ("edge.test.", os.path.join(HERE, "zones", "edge.zone"))]

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
         "opt: True vs False",
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


@pytest.fixture(scope="module")
def knot():
    if not refservers.Knotd.available():
        pytest.fail("knotd missing: apt-get install knot (see .ci/deps)")
    k = refservers.Knotd(ZONES)
    try:
        k.start()
    except AssertionError:
        print(k.log_tail())
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


@pytest.mark.timeout(240)
def test_same_answers_as_knotd(knot, dnsd):
    cases = dnsdiff.cases([p for _, p in ZONES])
    assert len(cases) > 300
    diffs = dnsdiff.compare(knot.port, dnsd.dns_port, cases)
    unexpected = []
    for case, d in diffs:
        allowed = ALLOWED.get(repr(case))
        if allowed and allowed[0] == d:
            continue
        unexpected.append("%r\n    %s" % (case, "\n    ".join(d)))
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
