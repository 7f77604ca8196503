"""dnsd on a 3-node cluster: every node answers the zones that node 0 loaded
with -zone.file; DNS behaviour over UDP and TCP; record writes through a
follower reach every dnsd within a second.

Zones: zones/zone.txt (example.com.) and tests/cluster/zones/edge.zone
(edge.test.), copied into the cluster's directory.
"""

import os
import shutil
import socket
import struct
import subprocess
import time

import dns.flags
import dns.message
import dns.rcode
import pytest

import drcluster
from drcluster import (answers_with, answers_without, dns_raw,
                       dnsd_present, is_aa, is_tc, rdatas, rr_texts,
                       soa_answer, wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = drcluster.ROOT
SOA_MNAME = "ns1.example.com. hostmaster.example.com."


@pytest.fixture(scope="module")
def c3(module_cluster):
    dnsd_present()
    files = []
    for src in (os.path.join(ROOT, "zones", "zone.txt"),
                os.path.join(HERE, "zones", "edge.zone")):
        dst = os.path.join(module_cluster.base_dir, os.path.basename(src))
        shutil.copyfile(src, dst)
        files += ["-zone.file", dst]
    module_cluster.start(3, first_args=files)
    for apex in ("example.com.", "edge.test."):
        module_cluster.wait_dns_all(apex, "SOA", soa_answer, timeout=30)
    return module_cluster


def leader_and_followers(c):
    lead = c.wait_converged()
    return lead, [n for n in c.nodes if n is not lead]


# Queries whose answers every node must give identically.
SAME_EVERYWHERE = [
    ("example.com.", "SOA"), ("example.com.", "NS"), ("example.com.", "MX"),
    ("www.example.com.", "A"), ("ftp.example.com.", "AAAA"),
    ("api.example.com.", "A"), ("_sip._tcp.example.com.", "SRV"),
    ("x.apps.example.com.", "A"), ("host.lab.example.com.", "A"),
    ("nothere.example.com.", "A"), ("multi.edge.test.", "A"),
    ("c1.edge.test.", "A"), ("unk.edge.test.", "TYPE65534"),
]


def test_every_node_answers_the_zone(c3):
    seen = {}
    for n in c3.nodes:
        m = n.dns("example.com.", "SOA")
        assert m.rcode() == 0 and is_aa(m), m
        assert rdatas(m)[0].startswith(SOA_MNAME), m
        m = n.dns("www.example.com.", "A")
        assert rr_texts(m) == ["example.com. 3600 A 1.2.3.4",
                               "www.example.com. 3600 CNAME example.com."], m
        for q in SAME_EVERYWHERE:
            r = n.dns(*q)
            seen.setdefault(q, {})[n.name] = (
                r.rcode(), r.flags & (dns.flags.AA | dns.flags.TC),
                rr_texts(r), rr_texts(r, "authority"),
                rr_texts(r, "additional"))
    for q, by_node in seen.items():
        assert len(set(map(repr, by_node.values()))) == 1, (q, by_node)


def test_dig_on_every_node(c3):
    """The seed's client: dig +short against each node's dns port."""
    for n in c3.nodes:
        p = subprocess.run(["dig", "@127.0.0.1", "-p", str(n.dns_port),
                            "+short", "+norec", "+time=2", "+tries=1",
                            "api.example.com", "A"],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 0, p
        assert sorted(p.stdout.split()) == ["1.2.3.10", "1.2.3.11"], p


def test_kdig_over_tcp_and_udp(c3):
    """Knot's client: kdig over TCP and over UDP with EDNS."""
    n = c3.nodes[2]
    for opts in (["+tcp"], ["+notcp", "+edns=0", "+bufsize=4096"]):
        p = subprocess.run(["kdig", "@127.0.0.1", "-p", str(n.dns_port),
                            "+short", "+norec", "+timeout=2", "+retry=0"] +
                           opts + ["big.edge.test", "TXT"],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 0, p
        assert len(p.stdout.splitlines()) == 12, (opts, p)


def test_rr_add_through_follower_answered_everywhere_within_1s(c3):
    lead, fol = leader_and_followers(c3)
    t0 = time.monotonic()
    r = fol[0].ctl("rr add example.com fast1 60 IN A 192.0.2.77")
    assert r.startswith("SUCCESS"), r
    pending = {n.name: n for n in c3.nodes}
    while pending and time.monotonic() - t0 < 5:
        for name, n in list(pending.items()):
            m = n.dns("fast1.example.com.", "A", timeout=1.0)
            if "192.0.2.77" in rdatas(m, "A") and is_aa(m):
                del pending[name]
    elapsed = time.monotonic() - t0
    assert not pending, "not answered by %s" % sorted(pending)
    assert elapsed < 1.0, "took %.3fs to be answered by every dnsd" % elapsed
    m = lead.dns("fast1.example.com.", "A")
    assert rr_texts(m) == ["fast1.example.com. 60 A 192.0.2.77"], m


def test_rr_add_and_del_rrset_member(c3):
    lead, fol = leader_and_followers(c3)
    r = fol[1].ctl("rr add example.com api 300 A 1.2.3.12")
    assert r.startswith("SUCCESS"), r
    c3.wait_dns_all("api.example.com.", "A", answers_with("1.2.3.12"), 5)
    for n in c3.nodes:
        assert rdatas(n.dns("api.example.com.", "A")) == [
            "1.2.3.10", "1.2.3.11", "1.2.3.12"]
    r = fol[0].ctl("rr del example.com api 300 A 1.2.3.12")
    assert r.startswith("SUCCESS"), r
    c3.wait_dns_all("api.example.com.", "A", answers_without("1.2.3.12"), 5)
    for n in c3.nodes:
        assert rdatas(n.dns("api.example.com.", "A")) == [
            "1.2.3.10", "1.2.3.11"]


def test_invalid_record_refused_and_nothing_changes(c3):
    lead, fol = leader_and_followers(c3)
    before = rr_texts(lead.dns("example.com.", "SOA"))
    for bad in ("rr add example.com bad1 60 A 1.2.3", "rr add example.com "
                "bad2 60 A 1.2.3.4 5.6.7.8", "rr add example.com bad3.other."
                "org. 60 A 1.2.3.4", "rr add nosuchzone.test x 60 A 1.2.3.4",
                "rr add example.com bad4 60 NOSUCHTYPE foo"):
        r = fol[0].ctl(bad)
        assert r.startswith("ERROR"), (bad, r)
    for n in c3.nodes:
        assert n.dns("bad1.example.com.", "A").rcode() == dns.rcode.NXDOMAIN
        assert rr_texts(n.dns("example.com.", "SOA")) == before


def test_nxdomain_and_nodata_carry_the_soa(c3):
    for n in c3.nodes:
        m = n.dns("nothere.example.com.", "A")
        assert m.rcode() == dns.rcode.NXDOMAIN and is_aa(m), m
        assert not m.answer, m
        auth = rr_texts(m, "authority")
        assert len(auth) == 1 and auth[0].startswith(
            "example.com. 300 SOA " + SOA_MNAME), m  # min(TTL, minimum)
        m = n.dns("mail.example.com.", "AAAA")  # exists, no AAAA
        assert m.rcode() == 0 and is_aa(m) and not m.answer, m
        assert rr_texts(m, "authority")[0].startswith(
            "example.com. 300 SOA "), m
        m = n.dns("b.ent.edge.test.", "A")  # empty non-terminal
        assert m.rcode() == 0 and is_aa(m) and not m.answer, m
        assert rr_texts(m, "authority")[0].startswith("edge.test. 60 SOA "), m


def test_wildcard(c3):
    n = c3.nodes[1]
    m = n.dns("host1.apps.example.com.", "A")
    assert m.rcode() == 0 and is_aa(m), m
    assert rr_texts(m) == ["host1.apps.example.com. 3600 A 1.2.3.20"], m
    m = n.dns("a.b.apps.example.com.", "A")
    assert rr_texts(m) == ["a.b.apps.example.com. 3600 A 1.2.3.20"], m
    m = n.dns("host1.apps.example.com.", "MX")  # NODATA from the wildcard
    assert m.rcode() == 0 and not m.answer and m.authority, m
    # An existing name blocks the wildcard below itself.
    m = n.dns("x.sub.exists.wild.edge.test.", "A")
    assert m.rcode() == dns.rcode.NXDOMAIN, m
    m = n.dns("x.exists.wild.edge.test.", "A")
    assert m.rcode() == dns.rcode.NXDOMAIN, m
    m = n.dns("foo.wild.edge.test.", "TXT")
    assert rr_texts(m) == ['foo.wild.edge.test. 300 TXT "wildcard"'], m


def test_cname_chain(c3):
    n = c3.nodes[2]
    m = n.dns("ftp.example.com.", "A")
    assert m.rcode() == 0 and is_aa(m), m
    assert rr_texts(m) == ["example.com. 3600 A 1.2.3.4",
                           "ftp.example.com. 3600 CNAME www.example.com.",
                           "www.example.com. 3600 CNAME example.com."], m
    m = n.dns("c1.edge.test.", "AAAA")
    assert rr_texts(m) == ["c1.edge.test. 300 CNAME c2.edge.test.",
                           "c2.edge.test. 300 CNAME c3.edge.test.",
                           "c3.edge.test. 300 AAAA 2001:db8::40"], m
    m = n.dns("cnx.edge.test.", "A")  # dangling: NXDOMAIN after the CNAME
    assert m.rcode() == dns.rcode.NXDOMAIN, m
    assert rr_texts(m) == ["cnx.edge.test. 300 CNAME missing.multi.edge.test."], m
    m = n.dns("cwild.edge.test.", "A")  # into a wildcard
    assert rr_texts(m) == ["cwild.edge.test. 300 CNAME host.wild.edge.test.",
                           "host.wild.edge.test. 300 A 192.0.2.20"], m


def test_referral_with_glue(c3):
    for n in c3.nodes:
        m = n.dns("host.lab.example.com.", "A")
        assert m.rcode() == 0 and not is_aa(m), m
        assert not m.answer, m
        assert rr_texts(m, "authority") == [
            "lab.example.com. 3600 NS ns.lab.example.com."], m
        assert rr_texts(m, "additional") == [
            "ns.lab.example.com. 3600 A 1.2.3.30"], m


def test_refused_outside_our_zones(c3):
    for n in c3.nodes:
        for q in ("example.org.", "com.", ".", "xexample.com."):
            m = n.dns(q, "A")
            assert m.rcode() == dns.rcode.REFUSED, (q, m)
            assert not is_aa(m) and not m.answer, (q, m)


def test_case_insensitive_and_echoed(c3):
    m = c3.nodes[0].dns("WwW.ExAmPlE.CoM.", "A")
    assert m.question[0].name.to_text() == "WwW.ExAmPlE.CoM.", m
    assert m.answer[0].name.to_text() == "WwW.ExAmPlE.CoM.", m
    assert rdatas(m, "A") == ["1.2.3.4"], m


def test_tc_over_udp_then_full_answer_over_tcp(c3):
    n = c3.nodes[1]
    m = n.dns("big.edge.test.", "TXT", edns=None)  # 512 bytes: no room
    assert is_tc(m) and m.rcode() == 0, m
    m = n.dns("big.edge.test.", "TXT", payload=1232)
    assert is_tc(m), m
    m = n.dns("big.edge.test.", "TXT", tcp=True, edns=None)
    assert not is_tc(m) and is_aa(m), m
    assert len(rdatas(m, "TXT")) == 12, m
    # dig retries over TCP by itself when TC is set.
    p = subprocess.run(["dig", "@127.0.0.1", "-p", str(n.dns_port), "+short",
                        "+norec", "+noedns", "+time=2", "+tries=1",
                        "big.edge.test", "TXT"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and len(p.stdout.splitlines()) == 12, p


def test_edns_payload_size(c3):
    n = c3.nodes[2]
    m = n.dns("big.edge.test.", "TXT", payload=4096)  # 2.6 kB fits
    assert not is_tc(m) and m.edns == 0, m
    assert len(rdatas(m, "TXT")) == 12, m
    m = n.dns("www.example.com.", "A", payload=512)
    assert m.edns == 0 and not is_tc(m) and m.answer, m
    m = n.dns("www.example.com.", "A", edns=None)
    assert m.edns < 0, "OPT in the reply to a query without EDNS"


def test_edns_badvers_and_two_opts(c3):
    n = c3.nodes[0]
    m = n.dns("www.example.com.", "A", edns=1)
    assert m.rcode() == dns.rcode.BADVERS, m
    assert m.edns == 0 and not m.answer, m
    q = drcluster.dns_make("www.example.com.", "A").to_wire()
    opt = q[q.rindex(b"\x00\x00\x29"):]
    bad = bytearray(q + opt)
    bad[11] = 2  # ARCOUNT
    r = dns_raw(n.dns_port, bytes(bad))
    assert r is not None, "no answer to a query with two OPT records"
    assert r[:2] == bad[:2] and r[3] & 0xF == dns.rcode.FORMERR, r.hex()


def test_tcp_several_queries_on_one_connection(c3):
    n = c3.nodes[1]
    names = ["www.example.com.", "api.example.com.", "nothere.example.com.",
             "big.edge.test.", "example.org.", "multi.edge.test."]
    s = socket.create_connection(("127.0.0.1", n.dns_port), timeout=5)
    try:
        out = b""
        for i, name in enumerate(names):
            q = drcluster.dns_make(name, "TXT" if "big" in name else "A",
                                   qid=1000 + i).to_wire()
            out += struct.pack("!H", len(q)) + q
        s.sendall(out)  # pipelined: all before reading any answer
        got = {}
        for _ in names:
            ln = struct.unpack("!H", drcluster._recv_exact(s, 2, 5))[0]
            m = dns.message.from_wire(drcluster._recv_exact(s, ln, 5))
            got[m.id] = m
        assert sorted(got) == list(range(1000, 1000 + len(names)))
        assert rdatas(got[1000], "A") == ["1.2.3.4"]
        assert rdatas(got[1001], "A") == ["1.2.3.10", "1.2.3.11"]
        assert got[1002].rcode() == dns.rcode.NXDOMAIN
        assert len(rdatas(got[1003], "TXT")) == 12 and not is_tc(got[1003])
        assert got[1004].rcode() == dns.rcode.REFUSED
        assert len(rdatas(got[1005], "A")) == 5
        # The connection stays usable after a batch.
        q = drcluster.dns_make("ns1.example.com.", "A", qid=7).to_wire()
        s.sendall(struct.pack("!H", len(q)) + q)
        ln = struct.unpack("!H", drcluster._recv_exact(s, 2, 5))[0]
        m = dns.message.from_wire(drcluster._recv_exact(s, ln, 5))
        assert m.id == 7 and rdatas(m, "A") == ["1.2.3.1"], m
    finally:
        s.close()


def test_malformed_packets_never_crash(c3):
    n = c3.nodes[2]
    q = drcluster.dns_make("www.example.com.", "A", edns=None).to_wire()
    junk = [b"", b"\x00", q[:5], q[:12], q + b"\x00\x00", q[:-2],
            q[:4] + b"\x00\x02" + q[6:],
            q[:12] + b"\xc0\x0c\x00\x01\x00\x01",
            bytes([q[0], q[1], q[2] | 0x80]) + q[3:]]
    for j in junk:
        r = dns_raw(n.dns_port, j, timeout=0.3)
        assert r is None or (len(r) >= 12 and r[3] & 0xF in (
            dns.rcode.FORMERR, dns.rcode.NOTIMP)), (j.hex(), r)
    # Still serving.
    m = n.dns("www.example.com.", "A")
    assert rdatas(m, "A") == ["1.2.3.4"], m
    assert n.child_pid("dnsd")


def stats(node):
    """dnsd's counters through ctld's `stats`, as ints."""
    out = {}
    for ln in node.ctl("stats").splitlines():
        if ln == ".":
            break
        k, _, v = ln.partition(" ")
        out[k] = int(v)
    return out


def test_stats_count_queries_by_rcode_and_transport(c3):
    n = c3.nodes[2]
    before = stats(n)
    for _ in range(3):
        n.dns("www.example.com.", "A")
    for _ in range(2):
        n.dns("nothere.example.com.", "A")
    n.dns("example.org.", "A")
    n.dns("www.example.com.", "A", tcp=True)
    n.dns("big.edge.test.", "TXT", edns=None)  # truncated
    n.dns("www.example.com.", "A", edns=1)  # BADVERS
    q = drcluster.dns_make("www.example.com.", "A").to_wire()
    assert dns_raw(n.dns_port, bytes([q[0], q[1], q[2] | 0x80]) + q[3:],
                   timeout=0.3) is None  # a response: dropped
    want = {"queries": 10, "udp": 9, "tcp": 1, "noerror": 5, "nxdomain": 2,
            "refused": 1, "badvers": 1, "truncated": 1, "dropped": 1}

    def delta():
        now = stats(n)
        d = {k: now[k] - before[k] for k in want}
        return d if all(d[k] >= v for k, v in want.items()) else None
    d = wait_until(delta, 5, "counters of %s to count %r" % (n.name, want))
    # queries may or may not count the dropped one; the rest is exact.
    assert d["queries"] in (9, 10), d
    for k in ("udp", "tcp", "noerror", "nxdomain", "refused", "badvers",
              "truncated"):
        assert d[k] == want[k], (k, d)
    assert int(stats(n)["records"]) > 100


def test_tcp_connection_limit(c3):
    """LISTEN_TCP_MAX (256) connections are served; more are closed at
    once, and the ones already open keep working. One address may hold 16
    of them (LISTEN_TCP_PER_SOURCE): they come from 127.0.1.1-17."""
    n = c3.nodes[0]
    socks = []
    try:
        for i in range(256 + 8):
            src = ("127.0.1.%d" % (1 + i // 16), 0)
            socks.append(socket.create_connection(("127.0.0.1", n.dns_port),
                                                  timeout=5,
                                                  source_address=src))
        q = drcluster.dns_make("www.example.com.", "A", qid=77).to_wire()
        ok = closed = 0
        for s in socks:
            try:
                s.sendall(struct.pack("!H", len(q)) + q)
                hdr = drcluster._recv_exact(s, 2, 3)
            except OSError:
                hdr = None
            if hdr is None:
                closed += 1
                continue
            m = dns.message.from_wire(drcluster._recv_exact(
                s, struct.unpack("!H", hdr)[0], 3))
            assert m.id == 77 and rdatas(m, "A") == ["1.2.3.4"], m
            ok += 1
        assert ok >= 200 and closed >= 8, (ok, closed)
    finally:
        for s in socks:
            s.close()
    # Slots are given back.
    m = n.dns("www.example.com.", "A", tcp=True)
    assert rdatas(m, "A") == ["1.2.3.4"]


@pytest.mark.timeout(60)
def test_tcp_idle_connection_closed(c3):
    """RFC 7766 6.2.3: an idle connection is closed by the server
    (LISTEN_TCP_IDLE_MS, 10 s), after a served query too."""
    n = c3.nodes[1]
    s = socket.create_connection(("127.0.0.1", n.dns_port), timeout=5)
    try:
        q = drcluster.dns_make("www.example.com.", "A").to_wire()
        s.sendall(struct.pack("!H", len(q)) + q)
        ln = struct.unpack("!H", drcluster._recv_exact(s, 2, 5))[0]
        assert drcluster._recv_exact(s, ln, 5)
        t0 = time.monotonic()
        s.settimeout(40)
        try:
            assert s.recv(1) == b""
        except ConnectionResetError:
            pass
        idle = time.monotonic() - t0
        assert 2 <= idle <= 30, "closed after %.1fs idle" % idle
    finally:
        s.close()


def test_tcp_framing_edge_cases(c3):
    """Odd TCP framing never crashes dnsd nor blocks other clients."""
    n = c3.nodes[2]
    q = drcluster.dns_make("www.example.com.", "A").to_wire()
    cases = [b"\x00", b"\x00\x00", b"\x00\x00" + struct.pack("!H", len(q)) + q,
             struct.pack("!H", 65535) + q, struct.pack("!H", 5) + q[:5],
             struct.pack("!H", len(q)) + q[:10], b"\xff" * 70000]
    for data in cases:
        s = socket.create_connection(("127.0.0.1", n.dns_port), timeout=5)
        try:
            # The server may close first (bad length): that is fine.
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(5)
            while s.recv(65536):
                pass
        except OSError:
            pass
        finally:
            s.close()
        m = n.dns("www.example.com.", "A", tcp=True)
        assert rdatas(m, "A") == ["1.2.3.4"], (data[:8].hex(), m)
    # 1000 queries written at once on one connection: 1000 answers.
    s = socket.create_connection(("127.0.0.1", n.dns_port), timeout=10)
    try:
        out = b""
        for i in range(1000):
            w = drcluster.dns_make("api.example.com.", "A", qid=i).to_wire()
            out += struct.pack("!H", len(w)) + w
        s.sendall(out)
        ids = set()
        for _ in range(1000):
            ln = struct.unpack("!H", drcluster._recv_exact(s, 2, 10))[0]
            m = dns.message.from_wire(drcluster._recv_exact(s, ln, 10))
            assert rdatas(m, "A") == ["1.2.3.10", "1.2.3.11"], m
            ids.add(m.id)
        assert ids == set(range(1000))
    finally:
        s.close()
    assert n.dns("big.edge.test.", "TXT", tcp=True).answer


def test_no_per_query_logging_without_v(c3):
    n = c3.nodes[0]

    def dnsd_lines():
        with open(n.log_path, "rb") as f:
            return sum(1 for ln in f if b" dnsd: " in ln)
    before = dnsd_lines()
    for i in range(50):
        n.dns("q%d.example.com." % i, "A")
        n.dns("www.example.com.", "A", tcp=(i % 10 == 0))
    assert dnsd_lines() - before < 5, "dnsd logs queries without -v"


def test_per_query_logging_with_v(cluster):
    cluster.extra_args = ["-v"]
    cluster.start(1, first_args=["-zone.file",
                                 os.path.join(ROOT, "zones", "zone.txt")])
    n = cluster.nodes[0]
    n.wait_dns("example.com.", "SOA", soa_answer, 30)
    n.dns("logged-query.example.com.", "A")

    def logged():
        with open(n.log_path, "rb") as f:
            return b"logged-query.example.com" in f.read()
    wait_until(logged, 5, "the query in %s's log with -v" % n.name)


def test_escaped_owner_names(c3):
    """Owners with escaped characters (RFC 1035 5.1) are stored and served:
    a dot inside a label, a decimal escape, an escaped '@'."""
    lead, fol = leader_and_followers(c3)
    cases = [(r"esc\.dot", "192.0.2.91", "esc\\.dot.example.com."),
             (r"space\032label", "192.0.2.92", "space\\032label.example.com."),
             (r"\@at", "192.0.2.93", "\\@at.example.com.")]
    for owner, ip, qname in cases:
        r = fol[0].ctl("rr add example.com %s 60 A %s" % (owner, ip))
        assert r.startswith("SUCCESS"), (owner, r)
    for owner, ip, qname in cases:
        c3.wait_dns_all(qname, "A", answers_with(ip), timeout=5)


def test_unusual_rdata(c3):
    """A TXT string with a control character (\\009) and an RFC 3597 record
    with empty rdata (\\# 0) are valid master-file records."""
    lead, fol = leader_and_followers(c3)
    r = fol[0].ctl(r'rr add example.com tabtxt 60 TXT "tab\009here"')
    assert r.startswith("SUCCESS"), r
    r = fol[0].ctl(r"rr add example.com empty 60 TYPE65280 \# 0")
    assert r.startswith("SUCCESS"), r
    c3.wait_dns_all("tabtxt.example.com.", "TXT",
                    answers_with('"tab\\009here"', "TXT"), timeout=5)
    for n in c3.nodes:
        m = n.wait_dns("empty.example.com.", "TYPE65280",
                       lambda m: m.rcode() == 0 and m.answer, 5)
        assert m.answer[0][0].to_text().strip() == "\\# 0", m
