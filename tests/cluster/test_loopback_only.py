"""Secure by default: without a cluster key, raft and the control port are
for the node's own machine only, and DNS listens where -dns.addr says.

Each node runs in a network namespace of its own with a non-loopback
address (netns.py), and an attacker host on the same network tries it."""

import os
import shutil

import pytest

import drcluster
from drcluster import pids_with_arg, wait_until
from netns import net  # noqa: F401 (the fixture)


def listeners(host):
    """{port: [local address, ...]} of the TCP listeners on host."""
    r = host.run(["ss", "-Htln"])
    assert r.returncode == 0, r
    out = {}
    for ln in r.stdout.splitlines():
        local = ln.split()[3]
        addr, _, port = local.rpartition(":")
        out.setdefault(int(port), []).append(addr)
    return out


@pytest.mark.timeout(120)
def test_no_key_raft_and_ctl_on_loopback_only(net, cluster):
    drcluster.dnsd_present()
    cluster.net = net
    node = cluster.add_node(join=None)
    attacker = net.host("attacker")
    zone = os.path.join(cluster.base_dir, "zone.txt")
    shutil.copyfile(os.path.join(drcluster.ROOT, "zones", "zone.txt"), zone)
    # The README's form: empty hosts, every port given.
    argv = [os.path.join(drcluster.bin_dir(), "dns-raft"), "-id", node.name,
            "-raft.addr", ":%d" % node.raft_port,
            "-ctl.addr", ":%d" % node.ctl_port,
            "-dns.addr", ":%d" % node.dns_port,
            "-data.dir", node.data_dir, "-zone.file", zone]
    node.ctl_ip = "127.0.0.1"
    node.start(argv)
    wait_until(lambda: node.status(2).get("role") == "leader", 30,
               "%s to lead (over loopback)" % node.name)

    # DNS answers the attacker at the node's address.
    m = drcluster.wait_dns(node.dns_port, "example.com.", "SOA",
                           drcluster.soa_answer, 20, host=node.ip,
                           netns=attacker)
    assert drcluster.is_aa(m)
    m = drcluster.dns_query(node.dns_port, "mail.example.com", tcp=True,
                            host=node.ip, netns=attacker)
    assert drcluster.rdatas(m, "A") == ["1.2.3.5"], m

    # Raft and ctl: nothing at the node's address, for anyone (the node
    # itself included); only 127.0.0.1 inside the node's namespace.
    for port in (node.raft_port, node.ctl_port):
        for who in (attacker, node.host):
            with pytest.raises(ConnectionRefusedError):
                who.connect((node.ip, port), timeout=5).close()
    ports = listeners(node.host)
    assert ports[node.raft_port] == ["127.0.0.1"], ports
    assert ports[node.ctl_port] == ["127.0.0.1"], ports
    assert ports[node.dns_port] in (["0.0.0.0"], ["*"]), ports
    assert node.ctl("kv set via loopback") == "SUCCESS"
    assert node.get("via") == "loopback"

    # And it says so, in the supervisor's log and each daemon's.
    line = ("no -cluster.key: raft 127.0.0.1:%d and control 127.0.0.1:%d "
            "listen on loopback only" % (node.raft_port, node.ctl_port))
    log = node.log_tail(300)
    for who in ("dns-raft", "raftd", "ctld"):
        assert "info %s: %s" % (who, line) in log, (who, log)
    members = node.members()
    assert members[0][1] == "127.0.0.1:%d" % node.raft_port, members


@pytest.mark.parametrize("flag", ["raft.addr", "ctl.addr"])
@pytest.mark.parametrize("binary", ["dns-raft", "raftd", "ctld", "dnsd"])
def test_no_key_non_loopback_address_refused(net, cluster, flag, binary):
    """-raft.addr or -ctl.addr on the host's own non-loopback address, or
    every interface, without a key: refused at start, exit status 2,
    nothing created or left running. With a key the same flags are fine.
    """
    if binary == "dnsd":
        drcluster.dnsd_present()
    host = net.host("n0")
    tmp = cluster.base_dir
    data = os.path.join(tmp, "d")
    exe = os.path.join(drcluster.bin_dir(), binary)
    for addr in ("%s:%d" % (host.ip, drcluster.free_port()),
                 "0.0.0.0:%d" % drcluster.free_port()):
        args = ["-id", "n0", "-data.dir", data,
                "-raft.addr", "127.0.0.1:%d" % drcluster.free_port(),
                "-ctl.addr", "127.0.0.1:%d" % drcluster.free_port(),
                "-dns.addr", "%s:%d" % (host.ip, drcluster.free_port()),
                "-" + flag, addr]
        r = host.run([exe] + args, timeout=15)
        assert r.returncode == 2, (addr, r)
        want = "a non-loopback -%s needs -cluster.key (%s; see dns-raft " \
            "keygen)" % (flag, addr)
        assert want in r.stderr, (want, r.stderr)
        assert len(r.stderr.strip().splitlines()) <= 2, r.stderr
        assert not os.path.exists(data), "%s created %s" % (binary, data)
        assert not pids_with_arg(data)
    # With a key: a valid configuration (-check starts nothing).
    key = cluster.use_key()
    r = host.run([exe] + args + ["-cluster.key", key, "-check"], timeout=15)
    assert r.returncode == 0, r
