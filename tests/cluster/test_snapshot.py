"""A 4th node joins after snapshots truncated the log; restart from one;
followers restarted behind the leader's snapshots catch up promptly."""

import os
import signal
import subprocess
import time

import pytest

from drcluster import Session, wait_until

SNAP_ARGS = ["-raft.snapshot-threshold", "64",
             "-raft.snapshot-trailing", "16"]
NKEYS = 300


def all_keys_served(node, keys, timeout):
    """Waits until node serves the last key locally, then checks all."""
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
