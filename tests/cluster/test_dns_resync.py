"""A dnsd that missed change messages resyncs from state.db and converges.

The follower's dnsd is frozen with SIGSTOP (it neither reads its pub/sub
socket nor answers) while its node's raftd restarts and records are written
through the cluster (messages published to a new raftd before dnsd
reconnects are lost for it), or while so many writes go through that its
queue overflows. After SIGCONT it must answer the new data, and `stats`
(through ctld) counts the resync.
"""

import os
import signal
import sqlite3
import time

import dns.rcode
import pytest

from drcluster import (MIN_QUERIES, Querier, Session, answers_with,
                       ctl_raw, dnsd_present, expected_answers, wait_until)



@pytest.fixture(scope="module")
def c3(module_cluster):
    dnsd_present()
    return module_cluster.start_with_example_zone()


def stats(node):
    """dnsd's counters through ctld's `stats` ('key value' lines)."""
    out = {}
    for ln in node.ctl("stats").splitlines():
        if ln == ".":
            break
        k, _, v = ln.partition(" ")
        assert not k.startswith("ERROR"), ln
        out[k] = v
    return out


def change_seq(node):
    """The change counter of the node's state.db (read-only, no daemon
    involved: ctld's status would ask the frozen dnsd)."""
    db = sqlite3.connect("file:%s/state.db?mode=ro" % node.data_dir,
                         uri=True, timeout=5)
    try:
        row = db.execute("select value from meta where key = "
                         "'change_seq'").fetchone()
        return row[0] if row else 0
    finally:
        db.close()


def resyncs(node):
    return int(stats(node)["resyncs"])


class Frozen:
    """SIGSTOP a process for the duration of a with block (SIGCONT after,
    even on failure)."""

    def __init__(self, pid):
        self.pid = pid

    def __enter__(self):
        os.kill(self.pid, signal.SIGSTOP)
        return self

    def __exit__(self, *exc):
        os.kill(self.pid, signal.SIGCONT)


@pytest.mark.timeout(150)
def test_resync_after_raftd_restart_while_stopped(c3):
    lead = c3.wait_converged()
    fol = [n for n in c3.nodes if n is not lead][0]
    r0 = resyncs(fol)
    dnsd = fol.child_pid("dnsd")
    with Frozen(dnsd):
        r = lead.ctl("rr add example.com before 60 A 192.0.2.101")
        assert r.startswith("SUCCESS"), r
        old = fol.child_pid("raftd")
        os.kill(old, signal.SIGKILL)
        wait_until(lambda: fol.child_pid("raftd") != old, 30,
                   "raftd of %s restarted" % fol.name)
        fol.wait_ping(30)
        for i in range(20):
            r = lead.ctl("rr add example.com during%d 60 A 192.0.2.%d" %
                         (i, 110 + i))
            assert r.startswith("SUCCESS"), r
        # The others see the writes; the frozen dnsd cannot. Its node's
        # new raftd applies (and publishes) them while dnsd is frozen, so
        # dnsd misses them.
        for n in c3.nodes:
            if n is not fol:
                n.wait_dns("during19.example.com.", "A",
                           answers_with("192.0.2.129"), 10)
        want = change_seq(lead)
        wait_until(lambda: change_seq(fol) >= want, 30,
                   "%s's raftd to apply change %d" % (fol.name, want))
    assert fol.child_pid("dnsd") == dnsd, "dnsd was restarted"
    for name, ip in (("before", "192.0.2.101"), ("during0", "192.0.2.110"),
                     ("during19", "192.0.2.129")):
        fol.wait_dns(name + ".example.com.", "A", answers_with(ip), 20)
    wait_until(lambda: resyncs(fol) > r0, 10, "resyncs of %s's dnsd to "
               "count up (was %d)" % (fol.name, r0))


@pytest.mark.timeout(200)
def test_resync_after_many_writes_while_stopped(c3):
    """Enough changes that the stopped subscriber's queue overflows.

    raftd publishes the changes of one loop turn in one message, so the
    writes go one at a time (pipelined ones would share messages): 20000
    messages, more than the pub and sub queues (8192 each) and the IPC
    socket's buffer hold."""
    lead = c3.wait_converged()
    fol = [n for n in c3.nodes if n is not lead][-1]
    dnsd = fol.child_pid("dnsd")
    r0 = resyncs(fol)
    n_writes = 20000
    with Frozen(dnsd):
        with Session(lead.ctl_addr, timeout=60) as s:
            for i in range(n_writes):
                r = s.cmd("kv set flood%d %d" % (i, i))
                assert r == "SUCCESS", r
            r = s.cmd("rr add example.com afterflood 60 A 192.0.2.150")
            assert r.startswith("SUCCESS"), r
    fol.wait_dns("afterflood.example.com.", "A",
                 answers_with("192.0.2.150"), 30)
    assert fol.child_pid("dnsd") == dnsd, "dnsd was restarted"
    # The new record is served, and so is everything from before.
    fol.wait_dns("www.example.com.", "A", answers_with("1.2.3.4"), 5)
    st = stats(fol)
    print("stats of %s after the flood: %r" % (fol.name, st))
    assert int(st["resyncs"]) > r0, st
    # One gap needs one reload. Heartbeats queued before it show an older
    # change than the reloaded copy: they are stale, not a sign of being
    # behind, and must not reload again (a reload of a 1M-record zone
    # costs seconds of CPU).
    assert int(st["resyncs"]) - r0 <= 2, "%d reloads for one gap (log: " \
        "'feed, resync (heartbeat at change N, served M)' with N < M)" % (
            int(st["resyncs"]) - r0)


@pytest.mark.timeout(150)
def test_answers_while_a_big_change_reloads(c3):
    """A zone of 100k records arrives in one entry (too many effects for
    the stream: dnsd reloads state.db). Every dnsd keeps answering the other
    zone from its copy meanwhile, then serves the new zone; deleting the
    zone makes its names REFUSED everywhere."""
    lead = c3.wait_converged()
    expected = expected_answers(lead)
    n = 100000
    lines = ["bulk.test. 60 IN SOA ns.bulk.test. h.bulk.test. 1 2 3 4 5",
             "bulk.test. 60 IN NS ns.bulk.test."]
    lines += ["h%d.bulk.test. 60 IN A 10.%d.%d.%d" % (
        i, i >> 16, (i >> 8) & 255, i & 255) for i in range(n)]
    body = ("zone replace bulk.test\n" + "\n".join(lines) + "\n.\n").encode()
    q = Querier([x.dns_port for x in c3.nodes], expected)
    q.start()
    try:
        wait_until(lambda: q.count >= 100, 20, "queries before the change")
        q.target = q.count + MIN_QUERIES
        fol = [x for x in c3.nodes if x is not lead][0]
        r = ctl_raw(fol.ctl_addr, body, timeout=120)
        assert r == b"SUCCESS\n" or r.startswith(b"SUCCESS "), r[:200]
        last = "10.%d.%d.%d" % ((n - 1) >> 16, ((n - 1) >> 8) & 255,
                                (n - 1) & 255)
        c3.wait_dns_all("h%d.bulk.test." % (n - 1), "A", answers_with(last),
                        timeout=60)
    finally:
        q.finish()
    assert not q.failures, "%d of %d queries failed or were wrong; first: " \
        "%r" % (len(q.failures), q.count, q.failures[:5])
    for x in c3.nodes:
        assert int(stats(x)["records"]) > n
    r = lead.ctl("zone del bulk.test", timeout=60)
    assert r.startswith("SUCCESS"), r
    c3.wait_dns_all("h1.bulk.test.", "A",
                    lambda m: m.rcode() == dns.rcode.REFUSED, timeout=30)


SNAP_ARGS = ["-raft.snapshot-threshold", "64",
             "-raft.snapshot-trailing", "16"]


@pytest.mark.timeout(180)
def test_dnsd_follows_a_snapshot_install(cluster):
    """A follower that was down while the log was compacted catches up by
    a snapshot, which replaces its state.db: its dnsd (left running, frozen
    meanwhile) must reopen the new file and serve the new records. A node
    that joins after snapshots serves them too."""
    dnsd_present()
    cluster.extra_args = list(SNAP_ARGS)
    cluster.start_with_example_zone()
    lead = cluster.wait_converged()
    fol = [n for n in cluster.nodes if n is not lead][0]
    dnsd = fol.child_pid("dnsd")
    raftd = fol.child_pid("raftd")
    # The follower's raftd dies and its supervisor, frozen, cannot restart
    # it: its dnsd keeps answering the old data while the others write far
    # more than a snapshot interval. When the supervisor resumes, the new
    # raftd is behind the leader's compacted log and must install the
    # leader's snapshot, which replaces state.db under the running dnsd.
    with Frozen(fol.pid):
        os.kill(raftd, signal.SIGKILL)
        with Session(lead.ctl_addr, timeout=60) as s:
            # One at a time (a session pipelines writes sent at once):
            # the leader's snapshots keep pace with them.
            for i in range(400):
                r = s.cmd("rr add example.com snap%d 60 A 192.0.2.%d" % (
                    i, i % 250), 60)
                assert r.startswith("SUCCESS"), r
        assert int(lead.status()["snapshot_index"]) > 300
        m = fol.dns("www.example.com.", "A")
        assert m.answer, "raftd down: dnsd must still answer"
    # c-raft 0.15 may drop the first InstallSnapshot while the follower
    # takes a snapshot of its own; raftd has the leader send it again
    # after ~2 s (it was c-raft's 30 s before 2dfeea9).
    t0 = time.monotonic()
    fol.wait_dns("snap399.example.com.", "A", answers_with("192.0.2.149"),
                 20)
    print("follower's dnsd caught up %.1fs after its raftd came back" % (
        time.monotonic() - t0))
    fol.wait_dns("snap0.example.com.", "A", answers_with("192.0.2.0"), 5)
    assert fol.child_pid("dnsd") == dnsd, "dnsd was restarted"
    n3 = cluster.add_node()
    n3.start()
    cluster.wait_converged(cluster.nodes, 60)
    n3.wait_dns("snap399.example.com.", "A", answers_with("192.0.2.149"), 30)
    n3.wait_dns("www.example.com.", "A", answers_with("1.2.3.4"), 5)
