"""Zone files through the cluster: -zone.file at start, SIGHUP to the
supervisor (forwarded to ctld) and `zone reload` re-read them; the cluster
applies the difference and every dnsd serves it.

Node id0 loads a copy of zones/zone.txt (example.com.), node id2 a copy of
tests/cluster/zones/edge.zone (edge.test.): each node may load different
zones, every node serves all of them.
"""

import os
import re
import shutil
import signal
import subprocess

import dns.rcode
import pytest

import drcluster
from drcluster import (answers_with, dnsd_present, rdatas, soa_answer,
                       soa_serial, wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = drcluster.ROOT


@pytest.fixture(scope="module")
def c3(module_cluster):
    dnsd_present()
    c = module_cluster
    c.zone_txt = os.path.join(c.base_dir, "zone.txt")
    c.edge_zone = os.path.join(c.base_dir, "edge.zone")
    shutil.copyfile(os.path.join(ROOT, "zones", "zone.txt"), c.zone_txt)
    shutil.copyfile(os.path.join(HERE, "zones", "edge.zone"), c.edge_zone)
    c.start(2, first_args=["-zone.file", c.zone_txt])
    n2 = c.add_node(extra_args=c.extra_args + ["-zone.file", c.edge_zone])
    n2.start()
    c.wait_converged(c.nodes, 60)
    for apex in ("example.com.", "edge.test."):
        c.wait_dns_all(apex, "SOA", soa_answer, timeout=30)
    return c


def serials(c, apex):
    """{node name: SOA serial} from every node's dnsd."""
    return {n.name: soa_serial(n.dns(apex, "SOA")) for n in c.nodes}


def one_serial(c, apex):
    s = set(wait_until(lambda: len(set(serials(c, apex).values())) == 1 and
                       serials(c, apex), 5,
                       "%s serial equal on every node" % apex).values())
    return s.pop()


def log_mentions(node, text):
    with open(node.log_path, "rb") as f:
        return f.read().decode("utf-8", "replace").count(text)


def edit(path, append=(), remove=()):
    with open(path) as f:
        lines = f.read().splitlines()
    for r in remove:
        assert r in lines, (r, path)
        lines.remove(r)
    lines += list(append)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)
    return len(lines)


def test_zones_from_two_nodes_served_everywhere(c3):
    for n in c3.nodes:
        assert rdatas(n.dns("www.example.com.", "A"), "A") == ["1.2.3.4"]
        assert rdatas(n.dns("multi.edge.test.", "AAAA"), "AAAA") == [
            "2001:db8::10", "2001:db8::11"]
    # The serial never goes below the file's.
    assert one_serial(c3, "example.com.") >= 2026112701
    assert one_serial(c3, "edge.test.") >= 2026010101


def test_seed_walkthrough_append_and_sighup(c3):
    """README: append a line, pkill -HUP dns-raft, dig answers everywhere."""
    s0 = one_serial(c3, "example.com.")
    edit(c3.zone_txt, append=["database 60 A 1.2.3.7"])
    os.kill(c3.nodes[0].pid, signal.SIGHUP)
    c3.wait_dns_all("database.example.com.", "A", answers_with("1.2.3.7"),
                    timeout=10)
    for n in c3.nodes:
        p = subprocess.run(["dig", "@127.0.0.1", "-p", str(n.dns_port),
                            "+short", "+norec", "+time=2", "+tries=1",
                            "database.example.com"],
                           capture_output=True, text=True, timeout=10)
        assert p.stdout.split() == ["1.2.3.7"], (n.name, p)
    assert one_serial(c3, "example.com.") > s0


def test_sighup_removed_lines_disappear(c3):
    s0 = one_serial(c3, "example.com.")
    edit(c3.zone_txt, remove=["mail2\tIN A\t1.2.3.6", "\tIN MX\t20 mail2",
                              "\t300 IN A\t1.2.3.11"],
         append=["extra IN TXT \"added with removals\""])
    os.kill(c3.nodes[0].pid, signal.SIGHUP)

    def removed(m):
        return rdatas(m, "MX") == ["10 mail.example.com."]
    c3.wait_dns_all("example.com.", "MX", removed, timeout=10)
    for n in c3.nodes:
        n.wait_dns("mail2.example.com.", "A",
                   lambda m: m.rcode() == dns.rcode.NXDOMAIN, 5)
        n.wait_dns("api.example.com.", "A",
                   lambda m: rdatas(m, "A") == ["1.2.3.10"], 5)
        n.wait_dns("extra.example.com.", "TXT",
                   lambda m: rdatas(m, "TXT") == ['"added with removals"'], 5)
    assert one_serial(c3, "example.com.") > s0


def test_sighup_on_the_other_node_changes_its_zone(c3):
    s0 = one_serial(c3, "edge.test.")
    sx = one_serial(c3, "example.com.")
    edit(c3.edge_zone, append=["fromid2 60 IN AAAA 2001:db8::99"],
         remove=["\tIN A\t192.0.2.14"])
    os.kill(c3.nodes[2].pid, signal.SIGHUP)
    c3.wait_dns_all("fromid2.edge.test.", "AAAA",
                    answers_with("2001:db8::99", "AAAA"), timeout=10)
    for n in c3.nodes:
        n.wait_dns("multi.edge.test.", "A",
                   lambda m: len(rdatas(m, "A")) == 4, 5)
    assert one_serial(c3, "edge.test.") > s0
    assert one_serial(c3, "example.com.") == sx, "other zone's serial moved"


def test_unchanged_file_keeps_the_serial(c3):
    s0 = one_serial(c3, "example.com.")
    os.kill(c3.nodes[0].pid, signal.SIGHUP)
    # zone reload answers when its load is done; loads of one node run one
    # after the other, so the SIGHUP's is done too.
    r = c3.nodes[0].ctl("zone reload", timeout=20)
    assert r.startswith("SUCCESS"), r
    assert set(serials(c3, "example.com.").values()) == {s0}


def test_zone_reload_command(c3):
    s0 = one_serial(c3, "example.com.")
    edit(c3.zone_txt, append=["byctl 60 A 1.2.3.77"])
    r = c3.nodes[0].ctl("zone reload", timeout=20)
    assert r.startswith("SUCCESS"), r
    c3.wait_dns_all("byctl.example.com.", "A", answers_with("1.2.3.77"), 5)
    assert one_serial(c3, "example.com.") > s0


def test_broken_file_keeps_the_old_data(c3):
    s0 = one_serial(c3, "example.com.")
    n0 = c3.nodes[0]
    # A good new line, then a bad one: nothing of the file may be applied.
    edit(c3.zone_txt, append=["notapplied 60 A 1.2.3.88"])
    bad_line = edit(c3.zone_txt, append=["broken 60 A 1.2.3.999"])
    want = "%s:%d:" % (os.path.basename(c3.zone_txt), bad_line)
    before = log_mentions(n0, want)
    os.kill(n0.pid, signal.SIGHUP)
    wait_until(lambda: log_mentions(n0, want) > before, 15,
               "'%s' (file:line) in %s's log" % (want, n0.name))
    r = n0.ctl("zone reload", timeout=20)
    assert r.startswith("ERROR") and re.search(":%d:" % bad_line, r), r
    for n in c3.nodes:
        assert n.dns("notapplied.example.com.", "A").rcode() == \
            dns.rcode.NXDOMAIN
        assert rdatas(n.dns("database.example.com.", "A"), "A") == [
            "1.2.3.7"]
        assert rdatas(n.dns("byctl.example.com.", "A"), "A") == ["1.2.3.77"]
    assert set(serials(c3, "example.com.").values()) == {s0}
    # Fixed file: loads again.
    edit(c3.zone_txt, remove=["broken 60 A 1.2.3.999"])
    os.kill(n0.pid, signal.SIGHUP)
    c3.wait_dns_all("notapplied.example.com.", "A",
                    answers_with("1.2.3.88"), timeout=10)
    assert one_serial(c3, "example.com.") > s0
