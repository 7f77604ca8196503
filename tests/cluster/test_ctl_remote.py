"""ctld's connection limits seen from other hosts: strangers on many
addresses cannot crowd out the local operator or the peers.

A keyed 2-node cluster in network namespaces (netns.py), and an attacker
host holding 17 more addresses of the network. A "stranger" is a client
not on loopback: it holds at most PER_SOURCE connections per address,
UNAUTH_PER_SOURCE of them before its auth, and all strangers together
UNAUTH_MAX before their auth (server.h). While strangers hold every slot
they may, the loopback door answers, and a follower's many writes at once
all reach the leader (relayed by its raftd over the raft port, which the
strangers' ctl connections do not touch).
"""

import socket
import subprocess
import threading
import time

import pytest

from drcluster import CtlError, wait_until
from netns import net  # noqa: F401 (the fixture)

PER_SOURCE = 32
UNAUTH_PER_SOURCE = 8
UNAUTH_MAX = 128
EXTRA = UNAUTH_MAX // UNAUTH_PER_SOURCE + 1  # attacker addresses


def connect_from(host, src, addr, timeout=5):
    """A connection from address src of netns host to addr."""
    s = host.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.bind((src, 0))
        s.connect(addr)
    except BaseException:
        s.close()
        raise
    return s


def first_line(s, timeout=5):
    s.settimeout(timeout)
    buf = b""
    while b"\n" not in buf:
        try:
            chunk = s.recv(4096)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return buf.decode() + "<eof>"
        buf += chunk
    return buf.split(b"\n")[0].decode()


def talk(host, src, addr, text, timeout=10):
    """Sends text from src and reads until the server closes."""
    s = connect_from(host, src, addr, timeout)
    try:
        s.sendall(text.encode())
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


@pytest.fixture
def setup(net, cluster):
    cluster.net = net
    cluster.use_key()
    cluster.start(2)
    attacker = net.host("attacker")
    base = attacker.ip.rsplit(".", 1)[0]
    srcs = ["%s.%d" % (base, 100 + i) for i in range(EXTRA)]
    subprocess.run(["ip", "-n", attacker.ns, "-batch", "-"],
                   input="".join("addr add %s/24 dev eth0\n" % a
                                 for a in srcs).encode(),
                   check=True, timeout=20)
    return cluster, attacker, srcs


@pytest.mark.timeout(180)
def test_strangers_cannot_crowd_out_operator_and_peers(setup):
    cluster, attacker, srcs = setup
    lead = cluster.wait_converged()
    fol = [n for n in cluster.nodes if n is not lead][0]
    addr = (lead.ip, lead.ctl_port)
    log = open(lead.log_path, errors="replace").read()
    assert "serving the control protocol on %s" % lead.ctl_hostport in log
    assert "serving the control protocol on 127.0.0.1:%d" % \
        lead.ctl_port in log
    w = lead.ctl("token add ops write")
    # Another host without TLS needs a token, member or not.
    assert talk(fol.host, fol.ip, addr, "kv ping\n") == \
        "ERROR auth required\n"
    held = []
    try:
        # Authenticated sessions: PER_SOURCE from one address, no more
        # (one by one: at most UNAUTH_PER_SOURCE may wait for their auth).
        for _ in range(PER_SOURCE):
            s = connect_from(attacker, attacker.ip, addr)
            s.sendall(("auth %s\nsession\n" % w).encode())
            held.append(s)
            assert first_line(s) == "OK"
        s = connect_from(attacker, attacker.ip, addr)
        assert first_line(s) == "ERROR too many connections"
        s.close()
        # Idle strangers without a role: UNAUTH_PER_SOURCE per address,
        # UNAUTH_MAX from all addresses together.
        t0 = time.monotonic()
        for src in srcs[:-1]:
            for _ in range(UNAUTH_PER_SOURCE):
                held.append(connect_from(attacker, src, addr))
        for src in (srcs[0], srcs[-1]):
            s = connect_from(attacker, src, addr)
            assert first_line(s) == "ERROR too many connections", src
            s.close()
        # The loopback door still gets in (another host must wait for a
        # free unauthenticated slot, as strangers do).
        assert lead.ctl("kv ping") == "PONG"
        # Many writes at once through the follower reach the leader.
        results = []

        def write(i):
            try:
                results.append(fol.ctl("kv set fw%d %d" % (i, i), 15))
            except CtlError as e:
                results.append(str(e))
        threads = [threading.Thread(target=write, args=(i,))
                   for i in range(48)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert results == ["SUCCESS"] * 48, results
        # All that while the idle strangers were still there (their first
        # line deadline is 10 s).
        assert time.monotonic() - t0 < 9
        st = lead.status()
        assert int(st["ctld.connections_refused"]) >= 3, st
        assert int(st["ctld.connections"]) >= PER_SOURCE + UNAUTH_MAX, st
    finally:
        for s in held:
            s.close()
    assert lead.get("fw47") == "47"
    # Once they are gone, strangers get in again.
    wait_until(lambda: talk(attacker, srcs[-1], addr,
                            "auth %s\nkv ping\n" % w) == "OK\nPONG\n",
               15, "the strangers' slots to be free again")
