"""kill -9 of the leader's whole node, writes on the survivors, catch-up."""

import time

import pytest

from drcluster import wait_until, write_until_success


@pytest.mark.timeout(180)
def test_kill_leader_node_then_restart_catches_up(cluster):
    cluster.start(3)
    lead = cluster.wait_converged()
    before = lead.status()
    for i in range(20):
        assert lead.set("pre%d" % i, "p%d" % i) == "SUCCESS"

    lead.kill()
    survivors = [n for n in cluster.nodes if n is not lead]
    # A write through a survivor succeeds within a few seconds (election
    # timeout 300 ms; the follower's ctld retries while there is no leader).
    elapsed = write_until_success(survivors[0], "during0", "d0", timeout=10)
    assert elapsed < 6.0, "first write after kill took %.2fs" % elapsed
    new_lead = cluster.leader()
    assert new_lead is not lead and new_lead in survivors
    st = new_lead.status()
    assert int(st["term"]) > int(before["term"]), (before, st)
    # Both survivors still count 3 members: a dead node stays a member.
    for n in survivors:
        assert n.status()["members"] == "3"

    keys = {"during0": "d0"}
    for i in range(1, 50):
        k, v = "during%d" % i, "value %d" % i
        assert survivors[i % 2].set(k, v) == "SUCCESS"
        keys[k] = v

    # Same command line as before: resumes from its data dir.
    lead.start(lead.last_argv)
    lead.wait_ping()
    # One cluster, not two: all three agree on one leader, 3 voters (a
    # re-bootstrapped node would lead a cluster of its own) and one term.
    cluster.wait_converged(cluster.nodes, timeout=60)
    wait_until(lambda: len({n.status()["term"] for n in cluster.nodes}) == 1,
               5, "one term on all nodes")
    assert int(lead.status()["term"]) >= int(st["term"])

    def caught_up():
        return all(lead.get(k) == v for k, v in keys.items())
    wait_until(caught_up, 10, "restarted %s to serve every key" % lead.name)
    for i in range(20):
        assert lead.get("pre%d" % i) == "p%d" % i

    # And it is part of the one cluster: a write through it reaches all.
    assert lead.set("after", "restart") == "SUCCESS"
    for n in cluster.nodes:
        wait_until(lambda: n.get("after") == "restart", 2, "after on " +
                   n.name)
