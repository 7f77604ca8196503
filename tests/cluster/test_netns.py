"""The network-namespace harness (netns.py) itself: hosts reach each other
at their addresses and only there, the machine's own network is left as it
was, and every namespace goes away, including those of crashed runs."""

import os
import socket
import subprocess

import pytest

import netns
from netns import net  # noqa: F401 (the fixture)


def machine_network():
    """The machine's own links, addresses and routes (our namespace)."""
    out = []
    for args in (["-o", "link"], ["-o", "addr"], ["route"], ["-6", "route"]):
        r = subprocess.run(["ip"] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10)
        # Counters and lifetimes change by themselves: keep names, flags
        # and addresses.
        out += [ln.split(" valid_lft")[0] for ln in
                r.stdout.decode().splitlines()]
    return out


def listener(host, ip):
    s = host.socket()
    s.bind((ip, 0))
    s.listen(4)
    return s


def test_hosts_reach_each_other_only_at_their_addresses(net):
    before = machine_network()
    a, b = net.host("a"), net.host("b")
    assert (a.ip, b.ip) == ("10.77.0.1", "10.77.0.2")
    assert net.hub in netns.list_namespaces()
    assert a.ns.startswith("drns%d-" % os.getpid())

    srv = listener(a, a.ip)
    lo = listener(a, "127.0.0.1")
    try:
        c = b.connect(srv.getsockname(), timeout=5)
        conn, peer = srv.accept()
        assert peer[0] == b.ip
        c.sendall(b"ping")
        assert conn.recv(4) == b"ping"
        conn.close()
        c.close()
        # a's loopback is a's alone.
        with pytest.raises(ConnectionRefusedError):
            b.connect((a.ip, lo.getsockname()[1]), timeout=5)
        with pytest.raises(OSError):
            b.connect(("127.0.0.1", lo.getsockname()[1]), timeout=5)
    finally:
        srv.close()
        lo.close()

    # Programs run there see the host's network.
    r = a.run(["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
    assert r.returncode == 0 and a.ip + "/24" in r.stdout, r
    p = b.popen(["ip", "-o", "-4", "addr"], stdout=subprocess.PIPE,
                text=True)
    out, _ = p.communicate(timeout=10)
    assert b.ip in out and a.ip not in out, out

    net.close()
    assert not set(net.namespaces) & set(netns.list_namespaces())
    assert machine_network() == before


def test_stale_namespaces_are_swept():
    # A pid that is no longer alive: a run that crashed.
    p = subprocess.Popen(["true"])
    p.wait()
    stale = "%s%d-1-hub" % (netns.PREFIX, p.pid)
    mine = "%s%d-999-x" % (netns.PREFIX, os.getpid())
    netns._ip("netns", "add", stale)
    netns._ip("netns", "add", mine)
    try:
        gone = netns.sweep_stale()
        names = netns.list_namespaces()
        assert stale in gone and stale not in names
        assert mine in names  # this run's own: alive
    finally:
        for ns in (stale, mine):
            if ns in netns.list_namespaces():
                netns._ip("netns", "delete", ns)


def test_udp_socket_in_namespace(net):
    a, b = net.host("a"), net.host("b")
    r = a.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s = b.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        r.bind((a.ip, 0))
        r.settimeout(5)
        s.sendto(b"x", r.getsockname())
        data, peer = r.recvfrom(10)
        assert data == b"x" and peer[0] == b.ip
    finally:
        r.close()
        s.close()
