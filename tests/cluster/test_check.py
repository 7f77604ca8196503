"""-h, -config FILE and -check on every binary (dns-raft, raftd, dnsd, ctld).

-h lists every flag of the shared table with its default; -check validates
the flags, data.dir and zone files, starts nothing and creates nothing
(exit 0 ok, 1 a problem found, 2 bad flags); a config file's bad line is
reported as FILE:LINE and exits 2; a node started with only -config FILE
(the supervisor passes it on to its daemons) serves ctl and DNS.
"""

import os
import shutil

import pytest

import drcluster
from drcluster import dnsd_present, pids_with_arg, soa_answer, wait_until

ROOT = drcluster.ROOT
BINS = ("dns-raft", "raftd", "dnsd", "ctld")

# Every flag of common/flags.c's table, in order, with its default as -h
# prints it.
FLAGS = [
    ("config", "(default none)"),
    ("id", "(required)"),
    ("raft.addr", "(default :8300 (127.0.0.1 without a key))"),
    ("dns.addr", "(default :8600)"),
    ("ctl.addr", "(default raft host:raft port+200)"),
    ("raft.join", "(default none, bootstrap)"),
    ("zone.file", "(default none)"),
    ("cluster.key", "(default none, loopback only)"),
    ("data.dir", "(default ./data/<id>)"),
    ("raft.election-timeout", "(default 200)"),
    ("raft.heartbeat-timeout", "(default 10)"),
    ("raft.snapshot-threshold", "(default 8192)"),
    ("raft.snapshot-trailing", "(default 2048)"),
    ("ctl.max-conns", "(default 1024)"),
    ("ctl.idle-timeout", "(default 300000)"),
    ("ctl.max-memory", "(default 256)"),
    ("ctl.trust-loopback", "(default true)"),
    ("ctl.ack", "(default leader)"),
    ("ctl.ack-timeout", "(default 1000)"),
    ("dns.rrl", "(default 100)"),
    ("dns.rrl-slip", "(default 2)"),
    ("v", "(default false)"),
    ("check", "(default false)"),
    ("h", "(default false)"),
]


run = drcluster.run_bin


@pytest.fixture
def tmp(bins, cluster):
    dnsd_present()
    return cluster.base_dir


def write_config(path, node_dir, zone_files, extra=""):
    """A config file for one node on free 127.0.0.1 ports."""
    ports = [drcluster.free_port() for _ in range(3)]
    lines = ["# a dns-raft node", "",
             "id n1",
             "raft.addr 127.0.0.1:%d" % ports[0],
             "ctl.addr  127.0.0.1:%d   # control" % ports[1],
             "dns.addr\t127.0.0.1:%d" % ports[2],
             "data.dir %s" % node_dir]
    lines += ["zone.file %s" % z for z in zone_files]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n" + extra)
    return ports


def copy_zone(tmp, name="zone.txt"):
    dst = os.path.join(tmp, name)
    shutil.copyfile(os.path.join(ROOT, "zones", "zone.txt"), dst)
    return dst


def test_help_every_flag(bins, tmp):
    tables = set()
    for b in BINS:
        rc, out, err = run(bins, b, ["-h"], tmp)
        assert rc == 0, (b, rc, err)
        lines = [ln for ln in out.splitlines() if ln.startswith("  -")]
        got = [ln.split()[0][1:] for ln in lines]
        assert got == [n for n, _ in FLAGS], (b, out)
        for ln, (name, default) in zip(lines, FLAGS):
            assert ln.endswith(default), (b, ln, default)
        tables.add("\n".join(lines))
    assert len(tables) == 1, "binaries print different flag tables"


def test_check_good(bins, tmp):
    zone = copy_zone(tmp)
    node_dir = os.path.join(tmp, "n1")
    conf = os.path.join(tmp, "n1.conf")
    write_config(conf, node_dir, [zone])
    for b in BINS:
        rc, out, err = run(bins, b, ["-config", conf, "-check"], tmp)
        assert rc == 0, (b, rc, out, err)
        assert out.splitlines()[-1] == "ok", (b, out)
        assert "ok zone.file %s (zone example.com." % zone in out, out
        assert "ok data.dir %s (will be created" % node_dir in out, out
        assert err == "", (b, err)
        if b == "dns-raft":
            assert "ok raftd %s/raftd" % bins in out, out
        # Nothing started, nothing created.
        assert not os.path.exists(node_dir), b
        assert not pids_with_arg(conf), b


def test_check_bad_zone(bins, tmp):
    zone = copy_zone(tmp)
    bad = os.path.join(tmp, "bad.zone")
    with open(bad, "w") as f:
        f.write("$ORIGIN bad.test.\n$TTL 300\n"
                "@ IN SOA ns1 host 1 3600 600 86400 300\n"
                "@ IN NS ns1\n"
                "www IN A 300.1.2.3\n")
    conf = os.path.join(tmp, "n1.conf")
    write_config(conf, os.path.join(tmp, "n1"), [zone, bad])
    for b in BINS:
        rc, out, err = run(bins, b, ["-config", conf, "-check"], tmp)
        assert rc == 1, (b, rc, out, err)
        assert "%s:5: " % bad in err, (b, err)
        assert "check failed, 1 problem" in err, (b, err)
        # The good file was still checked.
        assert "ok zone.file %s" % zone in out, (b, out)
    # A zone file given on the command line replaces the config's list.
    rc, out, err = run(bins, "raftd", ["-config", conf, "-check",
                                       "-zone.file", zone], tmp)
    assert rc == 0, (rc, out, err)


def test_check_bad_data_dir(bins, tmp):
    afile = os.path.join(tmp, "afile")
    open(afile, "w").close()
    conf = os.path.join(tmp, "n1.conf")
    write_config(conf, os.path.join(afile, "n1"), [])
    rc, out, err = run(bins, "dns-raft", ["-config", conf, "-check"], tmp)
    assert rc == 1, (rc, out, err)
    assert "-data.dir %s/n1: cannot create" % afile in err, err


def test_check_supervisor_alone(bins, tmp):
    """The supervisor's -check also finds its daemons next to it."""
    alone = os.path.join(tmp, "alone")
    os.mkdir(alone)
    shutil.copy(os.path.join(bins, "dns-raft"), alone)
    conf = os.path.join(tmp, "n1.conf")
    write_config(conf, os.path.join(tmp, "n1"), [])
    rc, out, err = run(alone, "dns-raft", ["-config", conf, "-check"], tmp)
    assert rc == 1, (rc, out, err)
    assert "%s/raftd: cannot run" % alone in err, err
    assert "%s/ctld: cannot run" % alone in err, err
    assert "ok dnsd not installed" in out, out


@pytest.mark.parametrize("line,reason", [
    ("raft.join nonsense", "raft.join: invalid address"),
    ("bogus.flag 1", 'unknown flag "bogus.flag"'),
    ("id n2", "id already set on line 3"),
    ("raft.election-timeout abc", "raft.election-timeout: want an integer"),
])
def test_config_bad_line(bins, tmp, line, reason):
    conf = os.path.join(tmp, "n1.conf")
    node_dir = os.path.join(tmp, "n1")
    write_config(conf, node_dir, [], extra="\n" + line + "\n")
    nlines = len(open(conf).read().splitlines())
    for b in BINS:
        for extra in (["-check"], []):
            rc, out, err = run(bins, b, ["-config", conf] + extra, tmp)
            assert rc == 2, (b, extra, rc, out, err)
            assert "%s:%d: %s" % (conf, nlines, reason) in err, (b, err)
            assert len(err.splitlines()) <= 3, err
            assert not os.path.exists(node_dir)
            assert not pids_with_arg(conf)


def test_config_missing(bins, tmp):
    for b in BINS:
        rc, out, err = run(bins, b, ["-config", "/nonexistent/n1.conf",
                                     "-check"], tmp)
        assert rc == 2, (b, rc, err)
        assert "/nonexistent/n1.conf: cannot open" in err, (b, err)


class ConfigNode(drcluster.Node):
    """A node whose only flag is -config FILE: its processes are found by
    the config file's path on their command lines."""

    def __init__(self, base_dir, name, conf):
        super().__init__(base_dir, name)
        self.conf = conf

    def argv(self, join="same"):
        return [os.path.join(drcluster.bin_dir(), "dns-raft"),
                "-config", self.conf]

    def pids(self):
        return pids_with_arg(self.conf)


@pytest.mark.timeout(60)
def test_node_from_config_only(bins, cluster, tmp):
    zone = copy_zone(tmp)
    conf = os.path.join(tmp, "id0.conf")
    node = ConfigNode(tmp, "id0", conf)
    cluster.nodes.append(node)
    node.raft_port, node.ctl_port, node.dns_port = write_config(
        conf, node.data_dir, [zone])
    node.start()
    node.wait_ping(30)
    # Every daemon got the same -config FILE from the supervisor.
    wait_until(lambda: set(node.children()) >= {"raftd", "dnsd", "ctld"},
               10, "raftd, dnsd and ctld running")
    assert len(node.pids()) == 4, node.pids()
    wait_until(lambda: node.status(2).get("role") == "leader", 30,
               "id0 leader")
    assert node.set("k", "v") == "SUCCESS"
    assert node.get("k") == "v"
    node.wait_dns("example.com.", "SOA", soa_answer, timeout=30)
    assert node.stop() == 0
