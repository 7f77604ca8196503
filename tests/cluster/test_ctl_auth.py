"""Operators authenticate: tokens, roles, peer-only lines, membership rules.

A 3-node cluster; id2 is restarted with -ctl.trust-loopback=false, so its
control port treats every client as a stranger (what a client on another
host is): it must send "auth TOKEN" first. Tokens are made through id0
(loopback, trusted) and replicate to every node.
"""

import re
import time

import pytest

import drcluster
from drcluster import CtlError, Session, ctl, ctl_raw, wait_until

TOKEN_RE = re.compile(r"^drt_[0-9a-f]{64}$")


@pytest.fixture(scope="module")
def c3(module_cluster):
    module_cluster.start(3)
    c = module_cluster
    c.tokens = {}
    for name, role in (("r1", "read"), ("w1", "write"), ("a1", "admin")):
        tok = c.nodes[0].ctl("token add %s %s" % (name, role))
        assert TOKEN_RE.match(tok), tok
        c.tokens[role] = tok
    strict = c.nodes[2]
    strict.stop()
    strict.extra_args = strict.extra_args + ["-ctl.trust-loopback=false"]
    strict.start()
    strict.token = c.tokens["admin"]
    wait_until(lambda: strict.ctl("kv ping") == "PONG", 30,
               "id2 up with -ctl.trust-loopback=false")
    c.wait_converged()
    return c


def raw(node, text, timeout=10.0):
    return ctl_raw(node.ctl_addr, text.encode(), timeout).decode()


def test_token_list_never_shows_secrets(c3):
    out = c3.nodes[1].ctl("token list")
    lines = out.split("\n")
    assert lines[:3] == ["a1 admin", "r1 read", "w1 write"], out
    for tok in c3.tokens.values():
        assert tok not in out and tok[4:] not in out
    # A name is unique; a role is one of three.
    assert c3.nodes[0].ctl("token add r1 read").startswith(
        "ERROR token r1 already exists")
    assert c3.nodes[0].ctl("token add x1 root").startswith("ERROR invalid role")
    assert c3.nodes[0].ctl("token add bad/name read").startswith(
        "ERROR invalid token name")


def test_stranger_must_auth_first(c3):
    strict = c3.nodes[2]
    for line in ("kv get k", "session", "cluster status", "kv ping"):
        assert raw(strict, line + "\n") == "ERROR auth required\n", line
    # A bad token: refused and closed, and nothing after it runs.
    assert raw(strict, "auth drt_%s\nkv ping\n" % ("0" * 64)) == \
        "ERROR auth failed\n"
    assert raw(strict, "auth nonsense\n") == "ERROR auth failed\n"


def test_roles(c3):
    strict = c3.nodes[2]
    r, w, a = (c3.tokens[k] for k in ("read", "write", "admin"))
    assert ctl(strict.ctl_addr, "kv set rk v1", token=w) == "SUCCESS"
    assert ctl(strict.ctl_addr, "kv get rk", token=r) == "v1"
    # read cannot write, write cannot change the cluster, admin can.
    assert ctl(strict.ctl_addr, "kv set rk v2", token=r) == \
        "ERROR permission denied"
    assert ctl(strict.ctl_addr, "zone del example.com", token=r) == \
        "ERROR permission denied"
    assert ctl(strict.ctl_addr, "cluster transfer", token=w) == \
        "ERROR permission denied"
    assert ctl(strict.ctl_addr, "token list", token=w) == \
        "ERROR permission denied"
    assert ctl(strict.ctl_addr, "kv get rk consistent", token=r) == "v1"
    assert "a1 admin" in ctl(strict.ctl_addr, "token list", token=a)
    # Nothing was changed by the refused ones.
    assert c3.nodes[0].get("rk") == "v1"


def test_no_text_forwarding(c3):
    """Writes reach the leader through raftd's relay (authenticated, on
    the raft port), never as text lines: there is no line that a client
    could send as if it were a peer, token or not."""
    strict = c3.nodes[2]
    a = c3.tokens["admin"]
    assert ctl(strict.ctl_addr, "forwarded kv set fk evil", token=a) == \
        "ERROR unknown command"
    assert ctl(strict.ctl_addr, "token set x1 admin " + "a" * 64,
               token=a) == "ERROR unknown command"
    assert c3.nodes[0].get("fk") == "ERROR not found"
    assert "x1" not in c3.nodes[0].ctl("token list")


def test_session_after_auth(c3):
    strict = c3.nodes[2]
    with Session(strict.ctl_addr, token=c3.tokens["write"]) as s:
        for i in range(5):
            assert s.cmd("kv set sk%d %d" % (i, i)) == "SUCCESS"
        assert s.cmd("kv get sk4") == "4"
        assert s.cmd("cluster remove id1") == "ERROR permission denied"
        # The session survives a refusal.
        assert s.cmd("kv ping") == "PONG"


def test_token_add_through_a_follower_and_del(c3):
    lead = c3.wait_converged()
    fol = [n for n in c3.nodes if n is not lead and n is not c3.nodes[2]][0]
    tok = fol.ctl("token add t9 read")
    assert TOKEN_RE.match(tok), tok
    strict = c3.nodes[2]
    wait_until(lambda: ctl(strict.ctl_addr, "kv ping", token=tok) == "PONG",
               10, "the new token to reach id2")
    # Only the hash was replicated.
    for n in c3.nodes:
        assert tok not in n.ctl("token list")
    assert lead.ctl("token del t9") == "SUCCESS"
    assert lead.ctl("token del t9").startswith("ERROR token t9 does not")

    def refused():
        try:
            ctl(strict.ctl_addr, "kv ping", token=tok)
        except CtlError as e:
            return "auth failed" in str(e)
        return False
    wait_until(refused, 10, "the deleted token to be refused on id2")


def test_join_cannot_rewrite_a_member(c3):
    lead = c3.wait_converged()
    fol = [n for n in c3.nodes if n is not lead][0]
    def rows():
        return [m[:5] for m in lead.members()]
    before = rows()
    # The attack: the leader's row with an attacker's ctl address.
    evil = "127.0.0.1:%d" % drcluster.free_port()
    line = "cluster join %s %s %s 127.0.0.1:%d" % (
        lead.name, lead.raft_hostport, evil, lead.dns_port)
    reply = fol.ctl(line)
    assert reply.startswith("ERROR %s is already a member at" % lead.name), \
        reply
    assert "cluster update" in reply
    # Same for a new id at a member's raft address.
    reply = fol.ctl("cluster join newid %s %s %s" % (
        fol.raft_hostport, evil, evil))
    assert reply.startswith("ERROR raft address"), reply
    assert rows() == before
    # Forwarding still reaches the real leader.
    assert fol.set("after-join", "ok") == "SUCCESS"
    assert lead.get("after-join") == "ok"
    # The joiner's own retry (same addresses) is still a success.
    me = c3.nodes[1]
    assert lead.ctl("cluster join %s %s %s 127.0.0.1:%d" % (
        me.name, me.raft_hostport, me.ctl_hostport, me.dns_port)) == \
        "SUCCESS"


def test_cluster_update(c3):
    lead = c3.wait_converged()
    node = c3.nodes[1]
    new_dns = "127.0.0.1:%d" % drcluster.free_port()
    base = "cluster update %s %s %s " % (node.name, node.raft_hostport,
                                         node.ctl_hostport)
    assert lead.ctl(base + new_dns) == "SUCCESS"
    row = [m for m in lead.members() if m[0] == node.name][0]
    assert row[3] == new_dns, row
    # Raft addresses do not change in place; unknown ids are refused.
    other = "127.0.0.1:%d" % drcluster.free_port()
    reply = lead.ctl("cluster update %s %s %s %s" % (
        node.name, other, node.ctl_hostport, new_dns))
    assert "needs cluster remove" in reply, reply
    assert lead.ctl("cluster update nobody %s %s %s" % (
        other, other, other)).startswith("ERROR no such member")
    assert lead.ctl(base + "127.0.0.1:%d" % node.dns_port) == "SUCCESS"


def test_refusals_logged_at_a_bounded_rate(c3):
    strict = c3.nodes[2]
    with open(strict.log_path, "rb") as f:
        f.seek(0, 2)
        start = f.tell()
    # Refused clients for 2.5 s: a few log lines, not hundreds.
    t0 = time.monotonic()
    sent = 0
    while time.monotonic() - t0 < 2.5:
        assert raw(strict, "kv get k\n") == "ERROR auth required\n"
        sent += 1
    elapsed = time.monotonic() - t0
    assert sent > 50, sent
    with open(strict.log_path, "rb") as f:
        f.seek(start)
        new = f.read().decode("utf-8", "replace")
    lines = [ln for ln in new.splitlines() if "auth required" in ln]
    # At most one line a second, each counting the ones it stands for.
    assert 2 <= len(lines) <= elapsed + 2, (len(lines), elapsed, lines)
    assert "more not logged" in lines[-1], lines
