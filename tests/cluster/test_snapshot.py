"""A 4th node joins after snapshots truncated the log; restart from one."""

import subprocess

import pytest

from drcluster import wait_until

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
