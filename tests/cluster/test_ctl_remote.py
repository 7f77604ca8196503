"""ctld seen from other hosts: auth, per-source caps, slots kept for peers.

A client on loopback is not a stranger, so this test runs in a network
namespace of its own (created by this process, which moves into it: the
machine's interfaces are never touched), where lo also holds 10.99.0.0/24
addresses. Two keyed nodes listen on 10.99.0.1 and 10.99.0.2 (their ctl
ports also on 127.0.0.1, the local operator's door); clients bound to
other 10.99.0.x addresses are strangers from other hosts.
"""

import ctypes
import os
import secrets
import socket
import subprocess
import threading
import time

import pytest

import drcluster
from drcluster import CtlError, ctl, wait_until

CLONE_NEWNET = 0x40000000
NET = "10.99.0."
# server.h
PER_SOURCE = 32
UNAUTH_PER_SOURCE = 8
UNAUTH_MAX = 128


def enter_private_netns():
    """Moves this process into a new network namespace with lo up and
    10.99.0.1-10.99.0.40 on it."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        raise AssertionError("unshare(CLONE_NEWNET): %s (needs root)" %
                             os.strerror(ctypes.get_errno()))
    cmds = "link set lo up\n" + "".join(
        "addr add %s%d/32 dev lo\n" % (NET, i) for i in range(1, 41))
    subprocess.run(["ip", "-batch", "-"], input=cmds.encode(), check=True,
                   timeout=20)


class HostNode(drcluster.Node):
    """A node whose raft and ctl addresses are on host, not loopback; its
    ctl_addr is the loopback door (trusted: an admin)."""

    def __init__(self, base_dir, name, host, join=None, extra_args=()):
        self.host = host
        super().__init__(base_dir, name, join, extra_args)

    @property
    def ctl_hostport(self):
        return "%s:%d" % (self.host, self.ctl_port)

    @property
    def raft_hostport(self):
        return "%s:%d" % (self.host, self.raft_port)

    @property
    def remote_addr(self):
        return (self.host, self.ctl_port)


def connect_from(src, addr, timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(addr)
    return s


def exchange(src, addr, data, timeout=10):
    """Sends data from src, returns every byte until the server closes."""
    s = connect_from(src, addr, timeout)
    try:
        s.sendall(data.encode())
        buf = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            buf += chunk
        return buf.decode()
    finally:
        s.close()


def first_line(s, timeout=5):
    s.settimeout(timeout)
    buf = b""
    while b"\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            return buf.decode() + "<eof>"
        buf += chunk
    return buf.split(b"\n")[0].decode()


@pytest.fixture(scope="module")
def net(module_cluster):
    enter_private_netns()
    c = module_cluster
    key = os.path.join(c.base_dir, "cluster.key")
    with open(key, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    os.chmod(key, 0o600)
    args = ["-cluster.key", key]
    n0 = HostNode(c.base_dir, "id0", NET + "1", extra_args=args)
    c.nodes.append(n0)
    n0.start()
    wait_until(lambda: n0.status(2).get("role") == "leader", 60,
               "id0 to lead a new cluster")
    n1 = HostNode(c.base_dir, "id1", NET + "2", join=n0.ctl_hostport,
                  extra_args=args)
    c.nodes.append(n1)
    n1.start()
    c.wait_converged([n0, n1])
    # Each ctld learns the members' hosts from its raftd.
    for n in (n0, n1):
        wait_until(lambda: n.status(2).get("ctld.member_hosts") == "2", 30,
                   "%s's ctld to know both member hosts" % n.name)
    c.tokens = {role: n0.ctl("token add t%s %s" % (role, role))
                for role in ("read", "write")}
    return c


def test_loopback_door(net):
    n0 = net.nodes[0]
    log = open(n0.log_path, errors="replace").read()
    assert "serving the control protocol on %s" % n0.ctl_hostport in log
    assert "serving the control protocol on 127.0.0.1:%d" % n0.ctl_port \
        in log
    # The door trusts the local operator; members record the real address.
    assert n0.ctl("kv ping") == "PONG"
    rows = {r[0]: r for r in n0.members()}
    assert rows["id1"][1:3] == [net.nodes[1].raft_hostport,
                                net.nodes[1].ctl_hostport], rows


def test_stranger_must_auth(net):
    n0 = net.nodes[0]
    addr = n0.remote_addr
    for src in (NET + "10", NET + "1"):  # a stranger, a member's host
        assert exchange(src, addr, "kv ping\n") == "ERROR auth required\n"
        assert exchange(src, addr, "forwarded kv set x y\n") == \
            "ERROR auth required\n"
    assert exchange(NET + "10", addr, "auth drt_%s\n" % ("0" * 64)) == \
        "ERROR auth failed\n"
    r, w = net.tokens["read"], net.tokens["write"]
    assert exchange(NET + "10", addr, "auth %s\nkv set rk 1\n" % r) == \
        "OK\nERROR permission denied\n"
    assert exchange(NET + "10", addr, "auth %s\nkv set rk 1\n" % w) == \
        "OK\nSUCCESS\n"
    # A plaintext "forwarded" line with a token is still no peer's.
    assert exchange(NET + "10", addr,
                    "auth %s\nforwarded kv set rk 2\n" % w) == \
        "OK\nERROR permission denied\n"
    assert n0.get("rk") == "1"
    st = n0.status()
    assert int(st["ctld.auth_failed"]) >= 1
    assert int(st["ctld.permission_denied"]) >= 6


def test_per_source_caps_keep_loopback_and_peers_free(net):
    n0, n1 = net.nodes
    addr = n0.remote_addr
    w = net.tokens["write"]
    held = []
    try:
        # Authenticated sessions: PER_SOURCE from one address, no more
        # (one by one: at most UNAUTH_PER_SOURCE may wait for their auth).
        for _ in range(PER_SOURCE):
            s = connect_from(NET + "11", addr)
            s.sendall(("auth %s\nsession\n" % w).encode())
            held.append(s)
            assert first_line(s) == "OK"
        extra = connect_from(NET + "11", addr)
        assert first_line(extra) == "ERROR too many connections"
        extra.close()
        # Idle strangers without a role: UNAUTH_PER_SOURCE per address,
        # UNAUTH_MAX in all (16 more addresses).
        t0 = time.monotonic()
        for i in range(UNAUTH_MAX // UNAUTH_PER_SOURCE):
            for _ in range(UNAUTH_PER_SOURCE):
                held.append(connect_from(NET + str(12 + i), addr))
        extra = connect_from(NET + "12", addr)
        assert first_line(extra) == "ERROR too many connections"
        extra.close()
        extra = connect_from(NET + "30", addr)
        assert first_line(extra) == "ERROR too many connections"
        extra.close()
        # All of that within the idle strangers' first-line deadline.
        assert time.monotonic() - t0 < 8
        # The local operator still gets in, and so does a member's host.
        assert n0.ctl("kv ping") == "PONG"
        assert exchange(NET + "1", addr, "auth %s\nkv ping\n" % w) == \
            "OK\nPONG\n"
        # Peers forwarding many writes at once are not strangers either.
        results = []

        def write(i):
            try:
                results.append(n1.ctl("kv set fw%d %d" % (i, i), 15))
            except CtlError as e:
                results.append(str(e))
        threads = [threading.Thread(target=write, args=(i,))
                   for i in range(48)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert results == ["SUCCESS"] * 48, results
        st = n0.status()
        assert int(st["ctld.connections_refused"]) >= 3, st
    finally:
        for s in held:
            s.close()
    assert n0.get("fw47") == "47"
    # Once they are gone, a stranger gets in again.
    wait_until(lambda: exchange(NET + "12", addr,
                                "auth %s\nkv ping\n" % w) == "OK\nPONG\n",
               15, "the strangers' slots to be free again")
