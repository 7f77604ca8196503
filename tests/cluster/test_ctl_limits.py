"""ctld under abuse: memory budget, streamed dumps, deadlines, denied bodies.

One node with -ctl.max-memory 8 (MiB) so that the budget can be reached
with a few connections, and a 100k-record zone for the dump tests.

The RSS checks measure what the daemons hold. In an ASan build freed
memory is kept in a quarantine (256 MiB by default) instead of being
reused, so RSS would grow with every byte ever allocated: the nodes run
with the quarantine off (the option means nothing to other builds).
"""

import os
import socket
import time

import pytest

from drcluster import Session, ctl_raw, wait_until

NREC = 100000


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def big_zone_lines(n, name="big.test."):
    yield "%s 3600 SOA ns1.%s h.%s 1 7200 3600 1209600 3600" % (
        name, name, name)
    yield "%s 3600 NS ns1.%s" % (name, name)
    for i in range(n):
        yield "h%d.%s 300 A 10.%d.%d.%d" % (i, name, (i >> 16) & 255,
                                           (i >> 8) & 255, i & 255)


@pytest.fixture(scope="module")
def node(module_cluster):
    os.environ["ASAN_OPTIONS"] = ":".join(
        o for o in (os.environ.get("ASAN_OPTIONS"), "quarantine_size_mb=0")
        if o)
    c = module_cluster
    c.extra_args = ["-ctl.max-memory", "8"]
    c.start(1)
    n = c.nodes[0]
    body = "zone replace big.test\n" + "\n".join(big_zone_lines(NREC)) + \
        "\n.\n"
    out = ctl_raw(n.ctl_addr, body.encode(), timeout=120).decode()
    assert out.startswith("SUCCESS"), out[:200]
    return n


def test_denied_body_keeps_the_session_in_step(node):
    tok = node.ctl("token add ro read")
    with Session(node.ctl_addr, token=tok) as s:
        s.send("zone replace big.test")
        s.send("@ 3600 SOA ns1 h 9 7200 3600 1209600 3600")
        s.send("x 300 A 1.2.3.4")
        s.send(".")
        assert s.readline() == "ERROR permission denied"
        # The record lines were not taken as commands.
        assert s.cmd("kv ping") == "PONG"
    assert node.ctl("rr get x.big.test") == "ERROR not found"


def test_memory_budget_for_bodies(node):
    ctld = node.child_pid("ctld")
    before = rss_kib(ctld)
    line = "h%d 300 TXT \"" + "x" * 200 + "\"\n"
    socks, refused = [], 0
    try:
        # Six unfinished 2 MiB bodies: the 8 MiB budget refuses some.
        for k in range(6):
            s = socket.create_connection(node.ctl_addr, 5)
            s.sendall(b"session\nzone replace big.test\n")
            chunk = "".join(line % i for i in range(1000)).encode()
            for _ in range(10):
                try:
                    s.sendall(chunk)
                except OSError:
                    break
            socks.append(s)
        # ctld parses the lines as they come: wait until it has refused
        # what passes the budget.
        got = [b""] * len(socks)

        def refusals():
            for i, sk in enumerate(socks):
                sk.setblocking(False)
                try:
                    while True:
                        chunk = sk.recv(4096)
                        if not chunk:
                            break
                        got[i] += chunk
                except (BlockingIOError, ConnectionResetError):
                    pass
            n = sum(b"ERROR busy (memory budget)" in g for g in got)
            return n if n >= 2 else None
        refused = wait_until(refusals, 30, "bodies over the budget refused")
        # At most 8 MiB of the 13 MiB sent were kept at once.
        assert refused >= 2, refused
        assert rss_kib(ctld) - before < 64 * 1024
        # The node still answers, and a small command still runs.
        assert node.ctl("kv ping") == "PONG"
    finally:
        for s in socks:
            s.close()
    wait_until(lambda: node.set("after-budget", "1") == "SUCCESS", 10,
               "commands to run again once the bodies are gone")


def read_dump(sock, timeout=60):
    buf = b""
    deadline = time.monotonic() + timeout
    while not buf.endswith(b"\n.\n"):
        assert time.monotonic() < deadline, buf[-200:]
        sock.settimeout(deadline - time.monotonic())
        chunk = sock.recv(1 << 20)
        assert chunk, "closed before the end of the dump"
        buf += chunk
    return buf.decode()


def test_dump_is_streamed_and_whole(node):
    s = socket.create_connection(node.ctl_addr, 5)
    s.sendall(b"zone dump big.test\n")
    text = read_dump(s)
    s.close()
    lines = text.split("\n")
    assert lines[0].startswith("big.test. 3600 IN SOA"), lines[0]
    assert lines[-2:] == [".", ""]
    assert len(lines) == NREC + 2 + 2
    assert "h99999.big.test. 300 IN A 10.1.134.159" in lines


def dumps_running(node):
    return int(node.status(5)["dumps_running"])


def test_unread_dumps_do_not_grow_ctld(node):
    ctld, raftd = node.child_pid("ctld"), node.child_pid("raftd")
    before = rss_kib(ctld), rss_kib(raftd)
    socks = []
    try:
        for _ in range(40):
            s = socket.create_connection(node.ctl_addr, 5)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"session\nzone dump big.test\n")
            socks.append(s)
        # Every one is a real dump (its SOA came, not "ERROR busy"); then
        # it waits for its client: raftd is asked for one more chunk only
        # once the previous one was taken.
        for s in socks:
            s.settimeout(30)
            head = b""
            while b"\n" not in head[3:]:
                head += s.recv(200)
            assert head.startswith(b"OK\nbig.test. 3600 IN SOA "), head
        assert dumps_running(node) == 40
        grown = rss_kib(ctld) - before[0], rss_kib(raftd) - before[1]
        # A whole dump is ~5 MB: 40 of them would be 200 MB in either.
        assert grown[0] < 40 * 1024, grown
        assert grown[1] < 40 * 1024, grown
    finally:
        for s in socks:
            s.close()
    # Their clients left: raftd lets their snapshots go at once, not
    # after the 30 s a forgotten dump is kept.
    wait_until(lambda: dumps_running(node) == 0, 10,
               "the dumps to end with their clients")


def test_dump_is_one_snapshot(node):
    """Writes during a slow dump do not show up in it."""
    # The dumps of the test before end as ctld sees their clients leave.
    def start():
        sk = socket.create_connection(node.ctl_addr, 5)
        sk.sendall(b"zone dump big.test\n")
        head = sk.recv(1000)
        if head.startswith(b"big.test. 3600 IN SOA "):
            return sk, head
        assert head == b"ERROR too many dumps running\n", head
        sk.close()
        return None
    s, first = wait_until(start, 20, "a dump slot")
    serial = first.split(b"\n")[0].split()[6]
    for i in range(5):
        assert node.ctl("rr add big.test late%d 300 A 192.0.2.%d" % (
            i, i)) == "SUCCESS"
    text = first.decode() + read_dump(s)
    s.close()
    assert "late0.big.test." not in text
    assert text.split("\n")[0].split()[6] == serial.decode()
    # A new dump has them, with a higher serial.
    s = socket.create_connection(node.ctl_addr, 5)
    s.sendall(b"zone dump big.test\n")
    text = read_dump(s)
    s.close()
    assert "late4.big.test. 300 IN A 192.0.2.4" in text
    assert int(text.split("\n")[0].split()[6]) > int(serial)


def test_first_line_deadline_not_extended_by_trickle(node):
    s = socket.create_connection(node.ctl_addr, 5)
    t0 = time.monotonic()
    closed = None
    while time.monotonic() - t0 < 20:
        try:
            s.sendall(b"k")
        except OSError:
            closed = time.monotonic() - t0
            break
        s.settimeout(1)
        try:
            if s.recv(100) == b"":
                closed = time.monotonic() - t0
                break
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed = time.monotonic() - t0
            break
    s.close()
    assert closed is not None and closed < 12, closed
