"""Whole-node restarts resume from the data dir, with or without -raft.join.

A restarted node must never bootstrap a second cluster: afterwards it
agrees with the others on one leader, counts 3 voters, serves what was
written while it was down, and its own writes reach the others.
"""

import pytest

from drcluster import wait_until, write_until_success


def check_one_cluster(cluster, node, keys):
    cluster.wait_converged(cluster.nodes, timeout=60)
    wait_until(lambda: all(node.get(k) == v for k, v in keys.items()), 10,
               "%s to serve the keys written while it was down" % node.name)
    key = "from-" + node.name + str(len(keys))
    write_until_success(node, key, "x", timeout=15)
    for n in cluster.nodes:
        wait_until(lambda: n.get(key) == "x", 3, key + " on " + n.name)
    keys[key] = "x"


@pytest.mark.timeout(240)
def test_restart_with_and_without_join(cluster):
    cluster.start(3)
    n0, n1, n2 = cluster.nodes
    assert n0.join is None and n1.join == n0.ctl_hostport
    keys = {}

    # n1 joined with -raft.join; restart it WITHOUT the flag.
    assert n1.stop() == 0
    for i in range(10):
        write_until_success(n2, "a%d" % i, "A%d" % i, timeout=15)
        keys["a%d" % i] = "A%d" % i
    n1.start(n1.argv(join=None))
    assert "-raft.join" not in n1.last_argv
    check_one_cluster(cluster, n1, keys)

    # n0 bootstrapped; restart it WITH -raft.join (pointing at n1).
    assert n0.stop() == 0
    for i in range(10):
        write_until_success(n1, "b%d" % i, "B%d" % i, timeout=15)
        keys["b%d" % i] = "B%d" % i
    n0.start(n0.argv(join=n1.ctl_hostport))
    check_one_cluster(cluster, n0, keys)

    # n2 with its original command line (with -raft.join n0).
    assert n2.stop() == 0
    write_until_success(n0, "c0", "C0", timeout=15)
    keys["c0"] = "C0"
    n2.start()
    check_one_cluster(cluster, n2, keys)


@pytest.mark.timeout(240)
def test_restart_whole_cluster(cluster):
    cluster.start(3)
    lead = cluster.wait_converged()
    keys = {"w%d" % i: "W %d" % i for i in range(30)}
    for k, v in keys.items():
        assert lead.set(k, v) == "SUCCESS"
    term = int(lead.status()["term"])
    for n in cluster.nodes:
        assert n.stop() == 0, n.name
    for n in cluster.nodes:
        n.start()
    lead = cluster.wait_converged(cluster.nodes, timeout=60)
    assert int(lead.status()["term"]) > term
    for n in cluster.nodes:
        wait_until(lambda: all(n.get(k) == v for k, v in keys.items()), 10,
                   "all keys on %s after a full restart" % n.name)
    check_one_cluster(cluster, cluster.nodes[2], keys)
