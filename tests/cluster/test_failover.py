"""kill -9 of the leader's whole node, writes on the survivors, catch-up."""

import threading
import time

import pytest

from drcluster import CtlError, wait_until, write_until_success


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
    # timeout 200 ms; the follower's raftd retries while there is no leader).
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


@pytest.mark.timeout(180)
def test_no_quorum_reads_served_writes_refused(cluster):
    cluster.start(3)
    lead = cluster.wait_converged()
    assert lead.set("q", "before") == "SUCCESS"
    for n in cluster.nodes:
        wait_until(lambda: n.get("q") == "before", 2, "q on " + n.name)
    survivor = [n for n in cluster.nodes if n is not lead][0]
    dead = [n for n in cluster.nodes if n is not survivor]
    for n in dead:
        n.kill()
    # Any single live node keeps answering reads from its own copy...
    assert survivor.get("q") == "before"
    assert survivor.ctl("kv ping") == "PONG"
    # ...but without a majority, writes and consistent reads fail with
    # one ERROR line within a bound (ctld retries ~5 s for a leader).
    for line in ("kv set q during", "kv get q consistent"):
        t0 = time.monotonic()
        r = survivor.ctl(line, timeout=20)
        assert r.startswith("ERROR "), (line, r)
        assert time.monotonic() - t0 < 15, line
    st = survivor.status()
    assert st["role"] in ("follower", "candidate"), st
    assert st["members"] == "3", st
    # The majority back: the cluster writes again.
    for n in dead:
        n.start()
    cluster.wait_converged(cluster.nodes, timeout=60)
    write_until_success(survivor, "q", "after", timeout=15)
    for n in cluster.nodes:
        wait_until(lambda: n.get("q") == "after", 5, "q on " + n.name)


@pytest.mark.timeout(180)
def test_acknowledged_writes_survive_leader_kill(cluster):
    """Every write answered SUCCESS before, during and after a kill -9 of
    the leader's node is on every node afterwards, with its value."""
    cluster.start(3)
    lead = cluster.wait_converged()
    acked = {}
    lock = threading.Lock()
    stop = threading.Event()
    errors = []
    # While its node is being killed, a connection to the old leader may
    # end without a reply: only then is that acceptable.
    killing = threading.Event()

    def writer(w):
        i = 0
        while not stop.is_set():
            node = cluster.nodes[(w + i) % 3]
            k, v = "dur%d-%d" % (w, i), "v%d" % i
            i += 1
            try:
                r = node.ctl("kv set %s %s" % (k, v), timeout=15)
            except (OSError, CtlError):
                continue
            if r == "SUCCESS":
                with lock:
                    acked[k] = v
            elif r == "" and node is lead and killing.is_set():
                pass
            elif not r.startswith("ERROR "):
                errors.append((node.name, r))
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: len(acked) >= 50, 20, "50 writes before the kill")
        killing.set()
        lead.kill()
        n_at_kill = len(acked)
        wait_until(lambda: len(acked) >= n_at_kill + 50, 20,
                   "50 writes after the kill")
        lead.start()
        cluster.wait_converged(cluster.nodes, timeout=60)
        killing.clear()
        n_at_back = len(acked)
        wait_until(lambda: len(acked) >= n_at_back + 20, 20,
                   "20 writes after the restart")
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors[:5]
    for n in cluster.nodes:
        def all_there():
            with n.session() as s:
                missing = [k for k, v in acked.items()
                           if s.cmd("kv get " + k) != v]
            assert not missing, "%s lacks %d acked keys, e.g. %s" % (
                n.name, len(missing), missing[:5])
            return True
        wait_until(all_there, 10, "every acknowledged write on " + n.name,
                   interval=0.5)
