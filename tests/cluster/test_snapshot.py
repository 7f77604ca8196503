"""A 4th node joins after snapshots truncated the log; restart from one;
followers restarted behind the leader's snapshots catch up promptly; a
paused follower gets the leader's snapshot installed while writes go on."""

import os
import signal
import subprocess
import threading
import time

import pytest

from drcluster import Session, answers_with, wait_until

SNAP_ARGS = ["-raft.snapshot-threshold", "64",
             "-raft.snapshot-trailing", "16"]
NKEYS = 300


def all_keys_served(node, keys, timeout, last=None):
    """Waits until node serves the last key (default: snapN with the
    largest N) locally, then checks all."""
    if last is None:
        last = max(keys, key=lambda k: int(k[4:]))
    wait_until(lambda: node.get(last) == keys[last], timeout,
               "%s to serve %s" % (node.name, last))
    with node.session() as s:
        bad = {}
        for k, v in keys.items():
            got = s.cmd("kv get " + k)
            if got != v:
                bad[k] = got
        assert not bad, "%s: %d wrong keys, e.g. %r" % (
            node.name, len(bad), sorted(bad.items())[:5])


@pytest.mark.timeout(240)
def test_join_after_snapshot_and_restart(cluster):
    cluster.extra_args = SNAP_ARGS
    cluster.start(3)
    lead = cluster.wait_converged()
    keys = {}
    with lead.session() as s:
        for i in range(NKEYS):
            k, v = "snap%d" % i, "value of %d" % i
            assert s.cmd("kv set %s %s" % (k, v)) == "SUCCESS", k
            keys[k] = v
        assert s.cmd("kv del snap7") == "SUCCESS"
        del keys["snap7"]
    st = lead.status()
    # 300+ entries with threshold 64: the leader has snapshotted and kept
    # only a short tail, so a new node needs the snapshot to catch up.
    snap, last = int(st["snapshot_index"]), int(st["last_index"])
    assert snap >= 200 and last - snap < 128, st

    n3 = cluster.add_node()
    n3.start()
    cluster.wait_converged(cluster.nodes, timeout=60)
    all_keys_served(n3, keys, 20)
    assert n3.get("snap7") == "ERROR not found"
    assert int(n3.status()["snapshot_index"]) > 0

    # The snapshot restore left a state.db operators can read.
    p = subprocess.run(["sqlite3", "-readonly", n3.data_dir + "/state.db",
                        "select count(*) from kv where key like 'snap%'"],
                       capture_output=True, timeout=10)
    assert p.returncode == 0 and p.stdout == b"%d\n" % len(keys), p

    # A node restarted after snapshots restores the snapshot and replays
    # the log after it: same data, nothing lost or duplicated.
    f = [n for n in cluster.nodes if n is not lead][0]
    assert f.stop() == 0
    assert lead.set("snap%d" % NKEYS, "while down") == "SUCCESS"
    keys["snap%d" % NKEYS] = "while down"
    f.start()
    cluster.wait_converged(cluster.nodes, timeout=60)
    all_keys_served(f, keys, 20)
    assert f.get("snap7") == "ERROR not found"


# The snapshot threshold of SNAP_ARGS.
SNAP_THRESHOLD = 64
CATCHUP_ROUNDS = 4
CATCHUP_WRITES = 400
# Seconds a restarted follower may take to catch up: c-raft's default
# install-snapshot timeout is 30 s, raftd's is 2 s for small images.
CATCHUP_DEADLINE = 10


def applied_index(node):
    return int(node.status(2)["applied_index"])


def bring_near_snapshot(lead, fol, margin=8):
    """Writes one key at a time until fol has applied between
    SNAP_THRESHOLD - margin and SNAP_THRESHOLD - 1 entries past its last
    snapshot: a few more entries make it take a snapshot."""
    with lead.session() as s:
        for i in range(2 * SNAP_THRESHOLD):
            want = applied_index(lead)
            wait_until(lambda: applied_index(fol) >= want, 10,
                       "%s to apply index %d" % (fol.name, want))
            st = fol.status(2)
            gap = int(st["applied_index"]) - int(st["snapshot_index"])
            if SNAP_THRESHOLD - margin <= gap < SNAP_THRESHOLD:
                return gap
            assert s.cmd("kv set prime%d %d" % (i, i)) == "SUCCESS"
    raise AssertionError("%s never got near a snapshot" % fol.name)


@pytest.mark.timeout(240)
def test_restarted_follower_catches_up_by_snapshot(cluster):
    """A follower's raftd is killed while its supervisor is stopped, the
    leader writes (and snapshots) far past it, then the supervisor resumes
    and restarts raftd, which must catch up within seconds, every round.

    The leader's messages queued while the follower was down reach the new
    raftd first. When their entries take it to its snapshot threshold (made
    certain here: it is killed a few entries short of it) it starts a
    snapshot of its own, and c-raft 0.15 drops the leader's InstallSnapshot
    arriving meanwhile (RAFT_BUSY, no reply). The leader sent it again only
    after its install-snapshot timeout, 30 s by default: until then the
    follower applied nothing and its state.db stayed at its own snapshot.
    raftd now sets that timeout from the snapshot's size."""
    cluster.extra_args = SNAP_ARGS
    cluster.start(3)
    lead = cluster.wait_converged()
    followers = [n for n in cluster.nodes if n is not lead]
    times = []
    k = 0
    for rnd in range(CATCHUP_ROUNDS):
        fol = followers[rnd % len(followers)]
        gap = bring_near_snapshot(lead, fol)
        raftd = fol.child_pid("raftd")
        os.kill(fol.pid, signal.SIGSTOP)
        try:
            os.kill(raftd, signal.SIGKILL)
            with Session(lead.ctl_addr, timeout=60) as s:
                # One at a time (a session pipelines writes sent at
                # once): the leader's snapshots keep pace with them.
                for i in range(k, k + CATCHUP_WRITES):
                    r = s.cmd("kv set race%d %d" % (i, i), 60)
                    assert r == "SUCCESS", r
            k += CATCHUP_WRITES
        finally:
            os.kill(fol.pid, signal.SIGCONT)
        t0 = time.monotonic()
        want = applied_index(lead)
        st = lead.status()
        assert int(st["snapshot_index"]) > want - 2 * SNAP_THRESHOLD, st
        wait_until(lambda: applied_index(fol) >= want, CATCHUP_DEADLINE,
                   "round %d: %s, killed %d entries past its snapshot, "
                   "to apply index %d after its restart (catch-up times "
                   "so far %r)" % (rnd, fol.name, gap, want, times))
        times.append(round(time.monotonic() - t0, 1))
        assert fol.get("race%d" % (k - 1)) == str(k - 1)
        assert fol.child_pid("raftd") != raftd
    print("catch-up times: %r" % times)


GAP_WRITES = 6 * SNAP_THRESHOLD


class Writer(threading.Thread):
    """Writes kv set wN N through node, one at a time, until stopped;
    keeps every acknowledged key and the first failure."""

    def __init__(self, node, prefix):
        super().__init__(daemon=True)
        self.node, self.prefix = node, prefix
        self.keys, self.error = {}, None
        self.stop_flag = threading.Event()

    def run(self):
        try:
            with self.node.session(timeout=30) as s:
                i = 0
                while not self.stop_flag.is_set():
                    k, v = "%s%d" % (self.prefix, i), str(i)
                    r = s.cmd("kv set %s %s" % (k, v))
                    if r != "SUCCESS":
                        raise AssertionError("kv set %s: %r" % (k, r))
                    self.keys[k] = v
                    i += 1
        except Exception as e:  # reported by stop()
            self.error = e

    def stop(self):
        self.stop_flag.set()
        self.join(60)
        assert not self.is_alive(), "writer stuck"
        assert self.error is None, self.error
        return self.keys


def log_text(node):
    with open(node.log_path, "rb") as f:
        return f.read().decode("utf-8", "replace")


@pytest.mark.timeout(240)
def test_install_while_writing(cluster):
    """A follower's raftd is killed while its supervisor is paused, the
    leader takes snapshots far past it, then the supervisor resumes and
    restarts raftd while a client keeps writing through the leader: the
    leader's snapshot is installed (staged off the loop, then swapped in)
    and every node converges, its dnsd included, with nothing lost.
    (A paused raftd is no good here: the leader's transport queues
    everything for it and it catches up from the log.)"""
    cluster.extra_args = SNAP_ARGS
    cluster.start_with_example_zone(3)
    lead = cluster.wait_converged()
    fol = [n for n in cluster.nodes if n is not lead][0]
    keys = {}
    with lead.session() as s:
        for i in range(50):
            assert s.cmd("kv set pre%d %d" % (i, i)) == "SUCCESS"
            keys["pre%d" % i] = str(i)
    want = applied_index(lead)
    wait_until(lambda: applied_index(fol) >= want, 20,
               "%s to apply index %d" % (fol.name, want))

    raftd = fol.child_pid("raftd")
    writer = Writer(lead, "w")
    os.kill(fol.pid, signal.SIGSTOP)
    try:
        os.kill(raftd, signal.SIGKILL)
        with Session(lead.ctl_addr, timeout=60) as s:
            for i in range(GAP_WRITES):
                s.send("kv set gap%d %d" % (i, i))
                keys["gap%d" % i] = str(i)
            for i in range(GAP_WRITES):
                r = s.readline(60)
                assert r == "SUCCESS", r
            assert s.cmd("rr add example.com gap 60 A 192.0.2.77") == \
                "SUCCESS"
        st = lead.status()
        # The follower's next entry is gone from the leader's log.
        assert int(st["snapshot_index"]) - 16 > want, st
        writer.start()
        wait_until(lambda: len(writer.keys) >= 20, 30, "writes to go on")
    finally:
        os.kill(fol.pid, signal.SIGCONT)
    try:
        wait_until(lambda: "staged before" in log_text(fol), 30,
                   "%s to install the leader's snapshot" % fol.name)
        with lead.session() as s:
            assert s.cmd("rr add example.com during 60 A 192.0.2.78") == \
                "SUCCESS"
        wait_until(lambda: len(writer.keys) >= 300, 60,
                   "writes after the install")
    finally:
        written = writer.stop()
    keys.update(written)
    last = "w%d" % (len(written) - 1)
    new_raftd = fol.child_pid("raftd")
    assert new_raftd != raftd
    cluster.wait_converged(cluster.nodes, timeout=60)
    for n in cluster.nodes:
        all_keys_served(n, keys, 30, last)
        for name, ip in (("gap", "192.0.2.77"), ("during", "192.0.2.78")):
            n.wait_dns("%s.example.com." % name, "A", answers_with(ip), 20)
    # The install was the only restart: the same raftd serves it all.
    assert fol.child_pid("raftd") == new_raftd
    assert not fol.crash_lines(), fol.crash_lines()
