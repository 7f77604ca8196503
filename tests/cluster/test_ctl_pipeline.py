"""Session pipelining: many commands sent at once, replies in line order."""

import socket
import time

import pytest

from drcluster import Session, wait_until


@pytest.fixture(scope="module")
def c3(module_cluster):
    module_cluster.start(3)
    module_cluster.wait_converged()
    return module_cluster


def follower(c):
    lead = c.wait_converged()
    return [n for n in c.nodes if n is not lead][0]


def send_all_read(s, lines, nreplies, timeout=60):
    """Sends every line in one write, then reads nreplies reply lines."""
    s.sock.sendall(b"".join(ln.encode() + b"\n" for ln in lines))
    return [s.readline(timeout) for _ in range(nreplies)]


def test_many_writes_in_flight_answered_in_order(c3):
    n = 600
    fol = follower(c3)
    with Session(fol.ctl_addr) as s:
        lines = ["kv set pipe%d value%d" % (i, i) for i in range(n)]
        lines += ["kv get pipe%d" % i for i in range(n)]
        replies = send_all_read(s, lines, 2 * n)
    assert replies[:n] == ["SUCCESS"] * n, [r for r in replies[:n]
                                            if r != "SUCCESS"][:5]
    # Reads after the writes see them (read your writes), in order.
    assert replies[n:] == ["value%d" % i for i in range(n)], replies[n:n + 5]
    for node in c3.nodes:
        wait_until(lambda: node.get("pipe%d" % (n - 1)) == "value%d" % (n - 1),
                   10, "last pipelined write on " + node.name)


def test_mixed_lines_keep_their_meaning_and_order(c3):
    fol = follower(c3)
    with Session(fol.ctl_addr) as s:
        lines = [
            "kv set mix a",
            "kv get mix consistent",
            "kv set mix b",
            "kv set mix c",
            "kv get mix consistent",
            "kv get mix",
            "kv set",                 # usage error, answered at once
            "no such command",
            "kv ping",
            "kv del mix",
            "kv get mix consistent",
            "quit",
        ]
        s.sock.sendall("".join(ln + "\n" for ln in lines).encode())
        got = []
        got.append(s.readline(30))       # kv set mix a
        got.append(s.readline(30))       # get -> a
        got.append(s.readline(30))
        got.append(s.readline(30))
        got.append(s.readline(30))       # get -> c
        got.append(s.readline(30))       # local get -> c
        got.append(s.readline(30))       # usage
        got.append(s.readline(30))       # unknown
        got.append(s.readline(30))       # PONG
        got.append(s.readline(30))       # kv del
        got.append(s.readline(30))       # get after del
        got.append(s.readline(30))       # BYE
        assert s.read_eof(10) == b""
    assert got[:6] == ["SUCCESS", "a", "SUCCESS", "SUCCESS", "c", "c"], got
    assert got[6].startswith("ERROR usage"), got
    assert got[7] == "ERROR unknown command", got
    assert got[8] == "PONG", got
    assert got[9] == "SUCCESS" and got[10].startswith("ERROR not found"), got
    assert got[11] == "BYE", got


def test_eof_after_pipelined_lines_still_answers_all(c3):
    fol = follower(c3)
    with Session(fol.ctl_addr) as s:
        s.sock.sendall(b"".join(b"kv set eof%d x\n" % i for i in range(100)))
        s.sock.shutdown(socket.SHUT_WR)
        data = s.read_eof(30)
    assert data.decode().split("\n") == ["SUCCESS"] * 100 + [""], data[:200]


def test_client_leaving_mid_pipeline_changes_nothing_else(c3):
    fol = follower(c3)
    for _ in range(3):
        s = Session(fol.ctl_addr)
        s.sock.sendall(b"".join(b"kv set gone%d x\n" % i for i in range(300)))
        s.close()
    # The node goes on serving; every write ran at most once to its end.
    with Session(fol.ctl_addr) as s:
        assert s.cmd("kv set after-gone yes", 30) == "SUCCESS"
        assert s.cmd("kv get after-gone consistent", 30) == "yes"
    for n in c3.nodes:
        assert n.crash_lines() == [], n.log_tail()


def test_serial_command_waits_for_the_pipeline(c3):
    """cluster status (not pipelined) comes after every write before it
    (on the leader, whose raftd applied each before its SUCCESS)."""
    lead = c3.wait_converged()
    with Session(lead.ctl_addr) as s:
        before = int(dict(l.split(" ", 1) for l in s.multi("cluster status")
                          if " " in l)["change_seq"])
        s.sock.sendall(b"".join(b"kv set ser%d x\n" % i for i in range(50)) +
                       b"cluster status\n")
        for _ in range(50):
            assert s.readline(30) == "SUCCESS"
        st = []
        ln = s.readline(30)
        while ln != ".":
            st.append(ln)
            ln = s.readline(30)
    seq = int(dict(l.split(" ", 1) for l in st if " " in l)["change_seq"])
    assert seq >= before + 50, (before, seq)


def test_pipelined_rate_is_above_one_at_a_time(c3):
    """Sanity (not a benchmark): 2000 pipelined writes finish."""
    lead = c3.wait_converged()
    with Session(lead.ctl_addr) as s:
        t0 = time.monotonic()
        replies = send_all_read(
            s, ["kv set rate%d v" % i for i in range(2000)], 2000, 120)
        took = time.monotonic() - t0
    assert replies == ["SUCCESS"] * 2000
    print("2000 pipelined writes in %.2f s" % took)
