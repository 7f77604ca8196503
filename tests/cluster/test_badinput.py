"""Bad input to ctld: one ERROR line or a closed connection, nothing applied,
the server unharmed (same ctld process, still answering)."""

import random
import socket
import threading
import time

import pytest

from drcluster import CtlError, Session, ctl_raw, wait_until

MAX_CONNS = 8
IDLE_MS = 2000


@pytest.fixture(scope="module")
def node(module_cluster):
    """A one-node cluster with a small connection limit and idle timeout."""
    module_cluster.extra_args = ["-ctl.max-conns", str(MAX_CONNS),
                                 "-ctl.idle-timeout", str(IDLE_MS)]
    module_cluster.start(1)
    n = module_cluster.nodes[0]
    assert n.set("canary", "alive") == "SUCCESS"
    n.ctld_pid = n.child_pid("ctld")
    n.raftd_pid = n.child_pid("raftd")
    return n


@pytest.fixture
def unchanged(node):
    """Checks after the test that nothing was applied and nobody crashed."""
    before = node.status()
    yield
    # Connections the test closed may still hold slots for a moment.
    wait_until(lambda: node.ctl("kv ping", 2) == "PONG", 5, "kv ping")
    after = node.status()
    assert after["change_seq"] == before["change_seq"], (before, after)
    assert after["applied_index"] == before["applied_index"], (before, after)
    assert node.ctl("kv ping") == "PONG"
    assert node.get("canary") == "alive"
    assert node.child_pid("ctld") == node.ctld_pid, "ctld was restarted"
    assert node.child_pid("raftd") == node.raftd_pid, "raftd was restarted"


def error_or_closed(data):
    """True if a reply is a single ERROR line, or nothing (closed)."""
    if data == b"":
        return True
    return (data.startswith(b"ERROR ") and data.endswith(b"\n") and
            data.count(b"\n") == 1)


def session_survives_or_closes(s):
    """After bad input on a session: either one ERROR line and the session
    still serves, or (an optional ERROR line and) a close. Returns which."""
    try:
        out = s.read_eof(4)
    except CtlError:
        # Still open: it must have answered with one ERROR line and must
        # keep serving the session.
        line, nl, rest = s.buf.partition(b"\n")
        assert nl and line.startswith(b"ERROR ") and rest == b"", s.buf[:200]
        s.buf = b""
        assert s.cmd("kv ping") == "PONG"
        return "usable"
    assert error_or_closed(out), out[:200]
    return "closed"


BAD_LINES = [
    "foo",
    "foo bar baz",
    "kv",
    "kv frobnicate x",
    "kv set",
    "kv set onlykey",
    "kv get",
    "kv del",
    "cluster",
    "cluster frobnicate",
    "cluster join id9",
    "cluster remove",
]


@pytest.mark.parametrize("line", BAD_LINES)
def test_bad_command_one_shot(node, unchanged, line):
    out = ctl_raw(node.ctl_addr, (line + "\n").encode(), timeout=5)
    assert out.startswith(b"ERROR ") and out.count(b"\n") == 1, (line, out)


def test_bad_commands_in_session_keep_it_usable(node, unchanged):
    with Session(node.ctl_addr) as s:
        for line in BAD_LINES:
            r = s.cmd(line)
            assert r.startswith("ERROR "), (line, r)
            assert s.cmd("kv ping") == "PONG", line
        assert s.cmd("quit") == "BYE"


def test_overlong_line(node, unchanged):
    big = b"kv set big " + b"x" * 100000 + b"\n"
    out = ctl_raw(node.ctl_addr, big, timeout=10)
    assert error_or_closed(out), out[:200]
    # In a session too, and without any newline at all.
    for data in (big, big[:-1]):
        with Session(node.ctl_addr) as s:
            try:
                s.sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            session_survives_or_closes(s)
    assert node.get("big") == "ERROR not found"


def test_binary_garbage(node, unchanged):
    rnd = random.Random(1234)
    for i in range(20):
        junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 600)))
        junk = junk.replace(b"\n", b"")
        # Never a valid command: starts with a byte no command starts with.
        junk = b"\xff\x00" + junk + b"\n"
        out = ctl_raw(node.ctl_addr, junk, timeout=5)
        assert error_or_closed(out), (junk[:40], out[:200])
    # A NUL inside an otherwise valid write is not silently truncated into
    # a different command.
    out = ctl_raw(node.ctl_addr, b"kv\x00set nul x\n", timeout=5)
    assert error_or_closed(out), out
    assert node.get("nul") == "ERROR not found"
    with Session(node.ctl_addr) as s:
        s.sock.sendall(b"\x00\x01\x02garbage\xfe\n")
        session_survives_or_closes(s)


# ctld gives a one-command connection 10 s to deliver its line (fixed,
# SERVER_LINE_TIMEOUT_MS); a session gets -ctl.idle-timeout.
LINE_TIMEOUT_S = 10


def read_until_closed(conn, bound, t0):
    """Reads until EOF/reset; fails if still open bound s after t0."""
    data = b""
    while True:
        left = bound - (time.monotonic() - t0)
        if left <= 0:
            raise AssertionError("stalled connection still open after "
                                 "%.1fs (got %r)" % (bound, data))
        conn.settimeout(left)
        try:
            chunk = conn.recv(4096)
        except ConnectionResetError:
            return data
        except socket.timeout:
            continue
        if not chunk:
            return data
        data += chunk


@pytest.mark.timeout(60)
def test_stalled_client_mid_line(node, unchanged):
    stalled = socket.create_connection(node.ctl_addr, timeout=10)
    stalled_session = Session(node.ctl_addr)
    try:
        t0 = time.monotonic()
        stalled.sendall(b"kv set stall")          # no newline, then nothing
        stalled_session.sock.sendall(b"kv set stall2 x")
        # Meanwhile other clients are served promptly.
        for _ in range(5):
            t = time.monotonic()
            assert node.ctl("kv ping") == "PONG"
            assert node.get("canary") == "alive"
            assert time.monotonic() - t < 1.0
        # The server closes the stalled connections within a bound.
        data = read_until_closed(stalled_session.sock, IDLE_MS / 1000 + 3, t0)
        assert time.monotonic() - t0 >= IDLE_MS / 1000 - 0.2
        assert data == b"" or data.startswith(b"ERROR "), data
        data = read_until_closed(stalled, LINE_TIMEOUT_S + 5, t0)
        assert data == b"" or data.startswith(b"ERROR "), data
    finally:
        stalled.close()
        stalled_session.close()
    assert node.get("stall") == "ERROR not found"
    assert node.get("stall2") == "ERROR not found"


def test_connection_limit(node, unchanged):
    held = []
    try:
        for _ in range(MAX_CONNS):
            held.append(Session(node.ctl_addr))
        # Over the limit: every extra connection gets one ERROR line or
        # is closed, and never runs a command.
        extra = []
        for _ in range(3 * MAX_CONNS):
            c = socket.create_connection(node.ctl_addr, timeout=10)
            extra.append(c)
        for c in extra:
            try:
                c.sendall(b"kv set overlimit 1\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
        for c in extra:
            c.settimeout(5)
            data = b""
            try:
                while True:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except ConnectionResetError:
                pass
            except socket.timeout:
                raise AssertionError("connection over the limit neither "
                                     "refused nor closed (got %r)" % data)
            assert error_or_closed(data), data
            c.close()
        # The held sessions were not disturbed (one ping each, quickly, so
        # the idle timeout does not interfere).
        for s in held:
            assert s.cmd("kv ping") == "PONG"
    finally:
        for s in held:
            s.close()
    # The server notices the closes asynchronously: until it has, a new
    # connection may still be over the limit.
    wait_until(lambda: node.get("overlimit") == "ERROR not found", 5,
               "overlimit not applied (and a free slot)")
    # Slots are freed: a burst of MAX_CONNS one-shot clients is served.
    def burst():
        results = []

        def client():
            try:
                results.append(ctl_raw(node.ctl_addr, b"kv get canary\n",
                                       10))
            except OSError as e:
                results.append(e)
        threads = [threading.Thread(target=client)
                   for _ in range(MAX_CONNS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [b"alive\n"] * MAX_CONNS, results
        return True
    wait_until(burst, 5, "%d concurrent clients served" % MAX_CONNS)
