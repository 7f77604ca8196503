"""Jepsen-style nemesis runs (nemesis.py) against a real 3-node cluster,
each node in a network namespace of its own, peers authenticated with a
cluster key: kill -9 of nodes and daemons, SIGSTOP of raftd, partitions,
while clients write and read; then the history must be linearizable, no
acknowledged write lost, every node the same, no unexpected death.

Two runs: a fixed seed and a random one (DR_NEMESIS_SEED overrides it),
each DR_NEMESIS_SECONDS of chaos (default 70), checked every
DR_NEMESIS_EPOCH_SECONDS (default 300: a long run is a series of epochs
on the same cluster, each with keys and records of its own, so that no
history grows without bound). The seed is printed; on
failure the report gives the seed, the nemesis timeline and the
checker's counter-example, and the history is saved next to the node
logs (the temporary directory is kept). A soak of hours:

    DR_NEMESIS_SECONDS=14400 DR_BIN_DIR=build/bin /usr/bin/python3 -m \
        pytest -q -p no:cacheprovider tests/cluster/test_nemesis.py -k random
"""

import os
import random

import pytest

import nemesis
from linearize import FAIL, OK, UNKNOWN
from nemesis import Reply
from netns import net  # noqa: F401 (the fixture)

SECONDS = nemesis.env_seconds(70)
EPOCH = nemesis.env_epoch_seconds()
FIXED_SEED = 20240610
# Setup, healing and the checks (of every epoch), on top of the chaos:
# generous, ASan builds are 2-3 times slower.
SLACK = 300 + 120 * int(SECONDS // EPOCH)


def one_run(cluster, net, seed):
    """SECONDS of chaos on one cluster, checked every EPOCH seconds."""
    print("\nnemesis seed %d, %.0f s" % (seed, SECONDS))
    left, epoch, kills = SECONDS, 0, None
    while True:
        run = nemesis.Run(cluster, net, seed, min(left, EPOCH),
                          epoch=epoch, kills=kills)
        if epoch == 0:
            run.start_cluster()
        run.run()
        problems = run.check()
        problems += run.minimum_activity()
        path = os.path.join(cluster.base_dir,
                            "nemesis-history-%d.txt" % epoch)
        run.save(path)
        report = run.report()
        print(report)
        assert not problems, "%s\n(history in %s)" % (report, path)
        left -= run.seconds
        if left <= 0:
            return
        epoch, kills = epoch + 1, run.kills


@pytest.mark.timeout(SECONDS + SLACK)
def test_nemesis_fixed_seed(net, cluster):
    one_run(cluster, net, FIXED_SEED)


@pytest.mark.timeout(SECONDS + SLACK)
def test_nemesis_random_seed(net, cluster):
    seed = nemesis.env_seed()
    if seed is None:
        seed = random.SystemRandom().randrange(1 << 31)
    one_run(cluster, net, seed)


# --------------------------------------------------------------------------
# The classification of replies and the end checks, without a cluster


def test_outcomes():
    w = nemesis.write_outcome
    assert w(Reply(True, "SUCCESS")) == OK
    assert w(Reply(True, "ERROR timeout, outcome unknown")) == UNKNOWN
    assert w(Reply(True, "ERROR shutting down, outcome unknown")) == UNKNOWN
    assert w(Reply(True, error="recv: reset")) == UNKNOWN
    assert w(Reply(True, error="no reply within 30 s")) == UNKNOWN
    assert w(Reply(True, "ERROR no leader")) == FAIL
    assert w(Reply(False, error="connect: refused")) == FAIL
    r = nemesis.read_outcome
    assert r(Reply(True, "v1")) == (OK, "v1")
    assert r(Reply(True, "ERROR not found")) == (OK, None)
    assert r(Reply(True, "ERROR no leader")) == (FAIL, None)
    assert r(Reply(True, error="recv: reset")) == (UNKNOWN, None)


def rec(kind, key, value, status, t=1.0):
    r = nemesis.Rec(0, "id0", kind, key, value, t)
    r.complete = t + 0.5
    r.status = status
    return r


def test_expected_records_and_local_reads():
    run = nemesis.Run(None, None, 1, 0)
    rr = "x 60 A 10.0.0.1"
    run.rec.recs = [
        rec("rradd", "kept", rr, OK), rec("rrdel", "kept", rr, FAIL),
        rec("rradd", "gone", rr, OK), rec("rrdel", "gone", rr, OK),
        rec("rradd", "maybe", rr, UNKNOWN), rec("rrdel", "maybe", rr, OK),
        rec("rradd", "maybe2", rr, OK), rec("rrdel", "maybe2", rr, UNKNOWN),
        rec("rradd", "never", rr, FAIL), rec("rradd", "alone", rr, OK),
        rec("set", "k", "a", OK), rec("set", "k", "b", FAIL),
        rec("set", "k", "c", UNKNOWN),
        rec("lget", "k", "a", OK), rec("lget", "k", "c", OK),
        rec("lget", "k", None, OK), rec("lget", "k", "b", OK),
        rec("lget", "k", "zz", OK), rec("lget", "k", "zz", FAIL),
    ]
    exp = {k: v[1] for k, v in run.rr_expected().items()}
    assert exp == {"kept": "present", "gone": "absent", "maybe": "either",
                   "maybe2": "either", "never": "absent",
                   "alone": "present"}
    run.check_local_reads()
    assert len(run.problems) == 2, run.problems
    assert "write that failed" in run.problems[0]
    assert "never written" in run.problems[1]


def test_net_cut_and_heal(net):
    """netns.Net.cut: a bridge (b sees a and c, a and c do not see each
    other: silently, the packets are dropped), then heal."""
    import socket
    a, b, c = net.host("a"), net.host("b"), net.host("c")
    srv = {}
    for h in (a, b, c):
        s = h.socket()
        s.bind((h.ip, 0))
        s.listen(8)
        srv[h.label] = s

    def reaches(x, y):
        try:
            x.connect(srv[y.label].getsockname(), timeout=1.0).close()
            return True
        except socket.timeout:
            return False

    try:
        assert net.cut([(a, c)]) == [("a", "c")]
        assert net.cut_pairs() == [("a", "c")]
        assert not reaches(a, c) and not reaches(c, a)
        assert reaches(a, b) and reaches(b, c) and reaches(c, b)
        assert net.heal() == [] and net.cut_pairs() == []
        assert reaches(a, c) and reaches(c, a)
    finally:
        for s in srv.values():
            s.close()
