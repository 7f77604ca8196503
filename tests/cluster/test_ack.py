"""The "ack all" acknowledgement mode (issue 10, point 4): a write answers
SUCCESS only once every voter has applied it and its dnsd serves it, so a
client may read it anywhere right after; a voter that cannot have it costs
at most -ctl.ack-timeout, and the reply says who has it."""

import os
import re
import signal
import time

import pytest

import drcluster
from drcluster import wait_until
from netns import net  # noqa: F401 (the fixture)

ACK_TIMEOUT_MS = 1000
PARTIAL = re.compile(r"^SUCCESS applied (\d+)/(\d+) \(([^)]*)\)$")


def a_answers(resp):
    return [rr.to_text() for rrset in resp.answer for rr in rrset]


@pytest.fixture(scope="module")
def c3(module_cluster):
    drcluster.dnsd_present()
    module_cluster.extra_args += ["-ctl.ack-timeout", str(ACK_TIMEOUT_MS)]
    module_cluster.start_with_example_zone(3)
    return module_cluster


def partial_ack(s, line, waited=True):
    """Sends an ack-all write that one voter cannot have: the reply must
    say 2 of 3, within the bound (waited: not at once, as for a voter that
    is there but does not answer). Returns the two that have it."""
    t0 = time.monotonic()
    reply = s.cmd(line, timeout=30)
    took = time.monotonic() - t0
    m = PARTIAL.match(reply)
    assert m and m.group(1, 2) == ("2", "3"), reply
    # Sanity bounds only: no longer than the bound allows (and it waited
    # for a paused node).
    assert took < ACK_TIMEOUT_MS / 1000.0 + 2, took
    assert not waited or took > ACK_TIMEOUT_MS / 1000.0 / 2, took
    return sorted(m.group(3).split())


def others(c, node):
    return [n for n in c.nodes if n is not node]


def test_ack_all_reads_everywhere_at_once(c3):
    """rr add and kv set through each node in turn: the very next query on
    every other node (dnsd and local kv get) already has it, 50 times."""
    lead = c3.wait_converged()
    sessions = {n.name: n.session() for n in c3.nodes}
    try:
        for s in sessions.values():
            assert s.cmd("ack all") == "OK"
        for i in range(50):
            via = c3.nodes[i % 3]
            s = sessions[via.name]
            name = "ack%d" % i
            assert s.cmd("rr add example.com. %s 60 A 10.9.%d.%d"
                         % (name, i // 256, i % 256)) == "SUCCESS"
            assert s.cmd("kv set ackkey%d v%d" % (i, i)) == "SUCCESS"
            for n in c3.nodes:
                r = n.dns(name + ".example.com.", "A")
                assert ["10.9.%d.%d" % (i // 256, i % 256)] == \
                    [t.split()[-1] for t in a_answers(r)], (n.name, i)
                assert n.get("ackkey%d" % i) == "v%d" % i, (n.name, i)
        # The leader too is one of the writers above.
        assert lead in c3.nodes
    finally:
        for s in sessions.values():
            s.close()


def test_ack_command_errors_and_leader_mode(c3):
    n = c3.nodes[1]
    with n.session() as s:
        assert s.cmd("ack") == "ERROR usage: ack all|leader"
        assert s.cmd("ack sometimes") == "ERROR usage: ack all|leader"
        assert s.cmd("ack all leader") == "ERROR usage: ack all|leader"
        # A bad line changes nothing: still the default (leader) mode,
        # which answers SUCCESS as before.
        assert s.cmd("kv set modekey 1") == "SUCCESS"
        assert s.cmd("ACK ALL") == "OK"
        assert s.cmd("kv set modekey 2") == "SUCCESS"
        assert s.cmd("ack leader") == "OK"
        assert s.cmd("kv set modekey 3") == "SUCCESS"
        # Failed writes answer as ever, in either mode.
        assert s.cmd("ack all") == "OK"
        assert s.cmd("rr del example.com. nosuch 60 A 10.0.0.1") \
            .startswith("ERROR")
        assert s.cmd("rr add nosuchzone.test. www 60 A 10.0.0.1") \
            .startswith("ERROR")


def test_ack_all_with_a_paused_voter(c3):
    """One node's raftd SIGSTOPped: an ack-all write through another node
    is acknowledged within the bound, saying which two nodes have it; ack
    leader is not slowed down."""
    lead = c3.wait_converged()
    victim = others(c3, lead)[0]
    via = others(c3, lead)[1]
    raftd = victim.child_pid("raftd")
    os.kill(raftd, signal.SIGSTOP)
    try:
        with via.session() as s:
            assert s.cmd("ack all") == "OK"
            assert partial_ack(s, "kv set pausekey 1") == sorted(
                [lead.name, via.name])
            # A second write (a record) says the same.
            assert partial_ack(s, "rr add example.com. paused 60 A "
                               "10.8.0.1") == sorted([lead.name, via.name])
            assert s.cmd("ack leader") == "OK"
            assert s.cmd("kv set pausekey 2") == "SUCCESS"
    finally:
        os.kill(raftd, signal.SIGCONT)
    # Back: it catches up, and ack all is whole again.
    wait_until(lambda: victim.get("pausekey") == "2", 30,
               "%s to catch up" % victim.name)
    with via.session() as s:
        assert s.cmd("ack all") == "OK"
        wait_until(lambda: s.cmd("kv set pausekey 3") == "SUCCESS", 30,
                   "ack all to be whole again")


def test_ack_all_with_a_killed_node(c3):
    """A node killed outright (its ports gone): the bound again."""
    lead = c3.wait_converged()
    victim = others(c3, lead)[0]
    via = others(c3, lead)[1]
    victim.kill()
    try:
        with via.session() as s:
            assert s.cmd("ack all") == "OK"
            assert victim.name not in partial_ack(s, "kv set killkey 1",
                                                  waited=False)
    finally:
        victim.start()
    c3.wait_converged()
    wait_until(lambda: victim.get("killkey") == "1", 30,
               "%s to catch up" % victim.name)


def test_flag_default_all(cluster):
    """-ctl.ack all makes every connection ack all (one-shot ones too);
    ack leader on a session still restores the normal mode."""
    drcluster.dnsd_present()
    cluster.extra_args += ["-ctl.ack", "all", "-ctl.ack-timeout", "800"]
    cluster.start_with_example_zone(3)
    lead = cluster.wait_converged()
    fol = others(cluster, lead)
    for i in range(10):
        assert fol[i % 2].ctl("rr add example.com. dflt%d 60 A 10.7.0.%d"
                              % (i, i)) == "SUCCESS"
        assert fol[i % 2].set("dkey%d" % i, "x") == "SUCCESS"
        for n in cluster.nodes:
            r = n.dns("dflt%d.example.com." % i, "A")
            assert a_answers(r), (n.name, i)
            assert n.get("dkey%d" % i) == "x", (n.name, i)
    # The default waits: with a voter paused, a one-shot write says so.
    victim = fol[0]
    raftd = victim.child_pid("raftd")
    os.kill(raftd, signal.SIGSTOP)
    try:
        line = fol[1].set("dpaused", "1")
        assert PARTIAL.match(line) and line.startswith(
            "SUCCESS applied 2/3"), line
        with fol[1].session() as s:
            assert s.cmd("ack leader") == "OK"
            assert s.cmd("kv set dpaused 2") == "SUCCESS"
        # token add keeps showing its token, with the count.
        line = fol[1].ctl("token add acktok read", timeout=30)
        assert re.match(r"^drt_[0-9a-f]{64} applied 2/3 \(", line), line
    finally:
        os.kill(raftd, signal.SIGCONT)


@pytest.mark.timeout(240)
def test_keyed_cluster_waits_over_tls(net, cluster):
    """With a key, on a real network: the wait frames go over the
    authenticated relay (TLS with the cluster key), and ack all works."""
    drcluster.dnsd_present()
    cluster.net = net
    cluster.use_key()
    cluster.extra_args += ["-ctl.ack", "all"]
    cluster.start_with_example_zone(3)
    lead = cluster.wait_converged()
    fol = others(cluster, lead)
    for i in range(10):
        via = fol[i % 2]
        assert via.ctl("rr add example.com. tls%d 60 A 10.6.0.%d"
                       % (i, i)) == "SUCCESS"
        for n in cluster.nodes:
            assert a_answers(n.dns("tls%d.example.com." % i, "A")), \
                (n.name, i)
    # Only TLS relay connections carried them: every node's raft port
    # takes TLS only (a clear client is refused, test_keyed_cluster), and
    # the relay connections were made with the key.
    for n in cluster.nodes:
        log = n.log_tail(2000)
        assert "TLS with the cluster key" in log, n.name
    # A paused follower: the bound, over TLS as well.
    victim = fol[0]
    raftd = victim.child_pid("raftd")
    os.kill(raftd, signal.SIGSTOP)
    try:
        line = fol[1].set("tlspaused", "1")
        assert line.startswith("SUCCESS applied 2/3"), line
    finally:
        os.kill(raftd, signal.SIGCONT)
