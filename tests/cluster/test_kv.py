"""KV commands on a 3-node cluster started through the supervisor."""

import subprocess
import time

import pytest

import drcluster
from drcluster import Session, ctl_raw, wait_until


@pytest.fixture(scope="module")
def c3(module_cluster):
    """3 nodes: id0 bootstraps, id1 and id2 join through id0's ctl addr."""
    module_cluster.start(3)
    return module_cluster


def leader_and_followers(c):
    lead = c.wait_converged()
    return lead, [n for n in c.nodes if n is not lead]


def test_cluster_formed(c3):
    lead = c3.wait_converged()
    terms = set()
    for n in c3.nodes:
        st = n.status()
        assert st["id"] == n.name
        assert st["members"] == "3" and st["voters"] == "3", st
        assert st["leader"] == lead.name, st
        assert st["role"] == ("leader" if n is lead else "follower"), st
        terms.add(st["term"])
        mem = n.members()
        assert sorted(m[0] for m in mem) == ["id0", "id1", "id2"], mem
        for m in mem:
            node = [x for x in c3.nodes if x.name == m[0]][0]
            assert m[1] == node.raft_hostport, mem
            assert m[2] == node.ctl_hostport, mem
            assert m[4] == "voter", mem
    assert len(terms) == 1, terms
    # Joined nodes were started with -raft.join; node 0 was not.
    assert c3.nodes[0].join is None and c3.nodes[1].join


def test_ping_all_nodes(c3):
    for n in c3.nodes:
        assert n.ctl("kv ping") == "PONG"


def test_set_on_follower_visible_everywhere_within_1s(c3):
    lead, fol = leader_and_followers(c3)
    t0 = time.monotonic()
    assert fol[0].set("fkey", "fvalue") == "SUCCESS"
    pending = set(c3.nodes)
    while pending and time.monotonic() - t0 < 5:
        for n in list(pending):
            if n.get("fkey") == "fvalue":
                pending.discard(n)
    elapsed = time.monotonic() - t0
    assert not pending, "not visible on %s" % [n.name for n in pending]
    assert elapsed < 1.0, "took %.3fs to be visible on all nodes" % elapsed


def test_del(c3):
    lead, fol = leader_and_followers(c3)
    assert lead.set("dkey", "v1") == "SUCCESS"
    wait_until(lambda: all(n.get("dkey") == "v1" for n in c3.nodes), 2,
               "dkey on all nodes")
    assert fol[1].ctl("kv del dkey") == "SUCCESS"
    wait_until(lambda: all(n.get("dkey") == "ERROR not found"
                           for n in c3.nodes), 2, "dkey gone everywhere")
    assert lead.get("never-set-key") == "ERROR not found"


def test_consistent_get(c3):
    lead, fol = leader_and_followers(c3)
    for i, n in enumerate([fol[0], lead, fol[1]]):
        key = "ckey%d" % i
        assert lead.set(key, "cv%d" % i) == "SUCCESS"
        # Right after the write returns, a consistent read anywhere must
        # see it: on a follower it is answered by the leader.
        assert n.ctl("kv get %s consistent" % key) == "cv%d" % i, n.name
    assert fol[0].ctl("kv get nokey-c consistent") == "ERROR not found"


def test_value_with_spaces(c3):
    lead, fol = leader_and_followers(c3)
    # VALUE is the rest of the line after one space, kept as it is.
    val = "  hello  big world  with   spaces  "
    assert fol[0].set("spc", val) == "SUCCESS"
    for n in c3.nodes:
        wait_until(lambda: n.get("spc") == val, 2, "spc on " + n.name)
    assert lead.ctl("kv get spc consistent") == val


def test_one_command_connection(c3):
    n = c3.nodes[1]
    assert n.set("toto", "titi tutu") == "SUCCESS"
    # n may be a follower: its local copy lags the leader's commit a bit.
    wait_until(lambda: n.get("toto") == "titi tutu", 2, "toto on " + n.name)
    # Only the first line is served, then the server closes.
    out = ctl_raw(n.ctl_addr, b"kv ping\nkv ping\nkv get toto\n")
    assert out == b"PONG\n", out
    # Same when the client half-closes first (like nc -N).
    out = ctl_raw(n.ctl_addr, b"kv get toto\n", shut_wr=True)
    assert out == b"titi tutu\n", out


def test_debian_nc(c3):
    n = c3.nodes[2]
    wait_until(lambda: n.get("toto") == "titi tutu", 2, "toto on id2")
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/nc", "127.0.0.1", str(n.ctl_port)],
                       input=b"kv get toto\n", capture_output=True,
                       timeout=10)
    assert p.returncode == 0, p
    assert p.stdout == b"titi tutu\n", p
    assert time.monotonic() - t0 < 5


def test_session_many_commands_and_quit(c3):
    lead, fol = leader_and_followers(c3)
    with fol[0].session() as s:
        assert s.cmd("kv ping") == "PONG"
        assert s.cmd("kv set s1 one") == "SUCCESS"
        assert s.cmd("kv set s2 two 2") == "SUCCESS"
        assert s.cmd("kv get s1 consistent") == "one"
        assert s.cmd("kv del s1") == "SUCCESS"
        assert s.cmd("kv get s1 consistent") == "ERROR not found"
        st = drcluster.parse_status("\n".join(s.multi("cluster status") +
                                              ["."]))
        assert st["id"] == fol[0].name and st["role"] == "follower"
        assert len(s.multi("cluster members")) == 3
        assert s.cmd("quit") == "BYE"
        assert s.read_eof(5) == b""
    assert lead.ctl("kv get s2 consistent") == "two 2"


def test_session_pipelined(c3):
    n = c3.nodes[0]
    with n.session() as s:
        lines = ["kv set p%d v%d" % (i, i) for i in range(20)]
        lines += ["kv get p%d consistent" % i for i in range(20)]
        lines += ["kv ping", "quit"]
        s.sock.sendall(("\n".join(lines) + "\n").encode())
        replies = [s.readline() for _ in lines]
        assert replies[:20] == ["SUCCESS"] * 20, replies
        assert replies[20:40] == ["v%d" % i for i in range(20)], replies
        assert replies[40:] == ["PONG", "BYE"]
        assert s.read_eof(5) == b""


def test_sqlite_shows_keys(c3):
    lead, fol = leader_and_followers(c3)
    assert lead.set("sqlkey", "sql value") == "SUCCESS"
    for n in c3.nodes:
        db = n.data_dir + "/state.db"

        def shown():
            p = subprocess.run(["sqlite3", "-readonly", db,
                                "select * from kv"],
                               capture_output=True, timeout=10)
            assert p.returncode == 0, p
            return b"sqlkey|sql value\n" in p.stdout and p
        p = wait_until(shown, 5, "sqlkey in %s" % db)
        assert b"fkey|fvalue\n" in p.stdout
        assert b"dkey|" not in p.stdout


# ctld's line limit (ctld/line.h LINE_MAX_LEN), newline not counted.
LINE_MAX_LEN = 8192


def test_longest_line_same_on_leader_and_follower(c3):
    """A follower answers a forwarded write as the leader would: the
    longest accepted line works through both, one byte more fails on both.
    """
    lead, fol = leader_and_followers(c3)
    for n in (lead, fol[0]):
        head = "kv set long-%s " % n.name
        val = "v" * (LINE_MAX_LEN - len(head))
        r = ctl_raw(n.ctl_addr, (head + val + "\n").encode())
        assert r == b"SUCCESS\n", (n.name, r)
        assert lead.ctl("kv get long-%s consistent" % n.name) == val
        r = ctl_raw(n.ctl_addr, (head + val + "w\n").encode())
        assert r == b"ERROR line too long\n", (n.name, r)
