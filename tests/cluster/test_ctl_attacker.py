"""ctld seen from another host: a keyed 3-node cluster in network namespaces
and an attacker host on the same network, without the key and at first
without a token.

What issue 9 found: "zone del" and "cluster join" from anyone, a join line
that rewrote the leader's ctl address, and 1024 idle connections that shut
out everyone else. Now: a stranger must "auth" first, a token's role
bounds what it may do, and one host holds only a few slots, so the node's
own operator (the loopback door) and the peers always get in.
"""

import socket
import time

import pytest

import drcluster
from drcluster import wait_until
from netns import net  # noqa: F401 (the fixture)


def talk(host, addr, text, timeout=10.0):
    """Sends text from host; what came back until the server closed."""
    return host.exchange(addr, text.encode(), timeout)[0].decode(
        "utf-8", "replace")


@pytest.fixture
def setup(net, cluster):
    drcluster.dnsd_present()
    cluster.net = net
    cluster.use_key()
    cluster.start_with_example_zone(3)
    return cluster, net.host("attacker")


@pytest.mark.timeout(180)
def test_stranger_gets_nothing_without_a_token(setup):
    cluster, attacker = setup
    lead = cluster.wait_converged()
    fol = [n for n in cluster.nodes if n is not lead][0]
    for n in (lead, fol):
        addr = (n.ip, n.ctl_port)
        assert talk(attacker, addr, "zone del example.com\n") == \
            "ERROR auth required\n"
        assert talk(attacker, addr, "cluster join %s %s 10.77.0.99:1 "
                    "10.77.0.99:2\n" % (lead.name, lead.raft_hostport)) == \
            "ERROR auth required\n"
        assert talk(attacker, addr, "forwarded kv set pwned 1\n") == \
            "ERROR auth required\n"
        assert talk(attacker, addr, "auth drt_%s\nkv ping\n" % ("0" * 64)) \
            == "ERROR auth failed\n"
    # Nothing changed; DNS answers the attacker as always.
    assert lead.ctl("zone list").startswith("example.com. ")
    assert lead.get("pwned") == "ERROR not found"
    rows = {r[0]: r for r in lead.members()}
    assert rows[lead.name][2] == lead.ctl_hostport
    drcluster.wait_dns(fol.dns_port, "www.example.com", "A",
                       lambda m: m.answer, 5, host=fol.ip, netns=attacker)


@pytest.mark.timeout(180)
def test_tokens_and_roles_from_another_host(setup):
    cluster, attacker = setup
    lead = cluster.wait_converged()
    fol = [n for n in cluster.nodes if n is not lead][0]
    ro = lead.ctl("token add ops-ro read")
    rw = fol.ctl("token add ops-rw write")   # made on a follower
    addr = (fol.ip, fol.ctl_port)
    wait_until(lambda: talk(attacker, addr, "auth %s\nkv ping\n" % rw) ==
               "OK\nPONG\n", 10, "the write token on %s" % fol.name)
    assert talk(attacker, addr, "auth %s\nkv set via-net ok\n" % rw) == \
        "OK\nSUCCESS\n"
    assert lead.get("via-net") == "ok"
    assert talk(attacker, addr, "auth %s\nkv set via-net no\n" % ro) == \
        "OK\nERROR permission denied\n"
    assert talk(attacker, addr, "auth %s\nzone del example.com\n" % ro) == \
        "OK\nERROR permission denied\n"
    assert talk(attacker, addr, "auth %s\ncluster remove %s\n" % (
        rw, lead.name)) == "OK\nERROR permission denied\n"
    # There is no text forwarding a token could use.
    assert talk(attacker, addr, "auth %s\nforwarded kv set x 1\n" % rw) == \
        "OK\nERROR unknown command\n"
    assert lead.get("via-net") == "ok"
    assert lead.get("x") == "ERROR not found"


@pytest.mark.timeout(180)
def test_one_host_cannot_lock_out_the_others(setup):
    cluster, attacker = setup
    lead = cluster.wait_converged()
    fol = [n for n in cluster.nodes if n is not lead][0]
    addr = (fol.ip, fol.ctl_port)
    socks, told = [], 0
    try:
        # 300 idle connections from one host: only a few are kept.
        for _ in range(300):
            s = attacker.connect(addr, 5)
            socks.append(s)
        deadline = time.monotonic() + 5
        kept = closed = 0
        for s in socks:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = s.recv(100)
            except socket.timeout:
                kept += 1
                continue
            except ConnectionResetError:
                data = b""
            if data == b"ERROR too many connections\n":
                told += 1
            else:
                closed += 1  # past the refusals being told, just closed
        assert kept <= 8, kept
        assert told >= 1 and told + closed >= 290, (told, closed)
        # The node's own operator and the peers still get through: a
        # write through this follower is forwarded over TLS.
        assert fol.ctl("kv ping") == "PONG"
        assert fol.set("while-flooded", "yes") == "SUCCESS"
        assert lead.get("while-flooded") == "yes"
        # The kept ones are closed at the first-line deadline.
        t0 = time.monotonic()
        for s in socks[:8]:
            s.settimeout(15)
            try:
                s.recv(100)
            except (socket.timeout, ConnectionResetError):
                pass
        assert time.monotonic() - t0 < 15
    finally:
        for s in socks:
            s.close()
    log = fol.log_tail(400)
    refused = [ln for ln in log.splitlines() if "refused (" in ln and
               attacker.ip in ln]
    # Rate-limited: a few lines for hundreds of refusals.
    assert 1 <= len(refused) <= 15, refused
