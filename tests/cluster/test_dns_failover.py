"""dnsd keeps answering through failures: a client queries dnsd continuously
while raftd is killed (the leader's, then restarted by its supervisor) and
while the whole leader node is killed with SIGKILL. Not one query may fail
or get a wrong answer; writes made during the event reach every live dnsd.
"""

import os
import signal

import pytest

from drcluster import (MIN_QUERIES, Querier, answers_with, dnsd_present,
                       dns_query, expected_answers, wait_until)


@pytest.fixture(scope="module")
def c3(module_cluster):
    dnsd_present()
    return module_cluster.start_with_example_zone()


def rr_add_until_success(node, zone, rr, timeout):
    last = [None]

    def attempt():
        last[0] = node.ctl("rr add %s %s" % (zone, rr), timeout=8)
        return last[0].startswith("SUCCESS")
    wait_until(attempt, timeout, "rr add %s through %s (last %r)" % (
        rr, node.name, last), interval=0.05)


@pytest.mark.timeout(60)
def test_killed_dnsd_is_restarted_and_serves_again(c3):
    """kill -9 of one dnsd: its supervisor restarts it, it loads state.db
    again and answers; the other dnsd never stop."""
    lead = c3.wait_converged()
    victim = [n for n in c3.nodes if n is not lead][0]
    others = [n for n in c3.nodes if n is not victim]
    expected = expected_answers(lead)
    q = Querier([n.dns_port for n in others], expected)
    q.start()
    try:
        old = victim.child_pid("dnsd")
        os.kill(old, signal.SIGKILL)
        wait_until(lambda: victim.child_pid("dnsd") != old, 20,
                   "dnsd of %s restarted" % victim.name)
        victim.wait_dns("www.example.com.", "A", answers_with("1.2.3.4"), 20)
        assert expected_answers(victim) == expected
    finally:
        q.finish()
    assert not q.failures, q.failures[:5]


@pytest.mark.timeout(180)
def test_kill_leader_raftd_every_dnsd_keeps_answering(c3):
    lead = c3.wait_converged()
    expected = expected_answers(lead)
    for n in c3.nodes:
        assert expected_answers(n) == expected, n.name
    # Every dnsd is queried, the one whose raftd dies included.
    q = Querier([n.dns_port for n in c3.nodes], expected)
    q.start()
    try:
        wait_until(lambda: q.count >= 200, 20, "queries before the kill")
        old = lead.child_pid("raftd")
        os.kill(old, signal.SIGKILL)
        q.target = q.count + MIN_QUERIES  # at least that many after it
        # A new leader takes writes, the old raftd comes back (restarted
        # by its supervisor) and catches up; dnsd answers throughout.
        survivor = [n for n in c3.nodes if n is not lead][0]
        rr_add_until_success(survivor, "example.com",
                             "afterkill 60 A 192.0.2.201", 30)
        wait_until(lambda: lead.child_pid("raftd") != old, 30,
                   "raftd of %s restarted" % lead.name)
        c3.wait_dns_all("afterkill.example.com.", "A",
                        answers_with("192.0.2.201"), timeout=30)
        rr_add_until_success(lead, "example.com",
                             "afterrestart 60 A 192.0.2.202", 30)
        c3.wait_dns_all("afterrestart.example.com.", "A",
                        answers_with("192.0.2.202"), timeout=30)
    finally:
        q.finish()
    assert q.count >= q.target
    assert not q.failures, "%d of %d queries failed or were wrong; first: " \
        "%r" % (len(q.failures), q.count, q.failures[:5])


@pytest.mark.timeout(180)
def test_kill9_leader_node_other_dnsd_keep_answering(c3):
    lead = c3.wait_converged()
    others = [n for n in c3.nodes if n is not lead]
    expected = expected_answers(others[0])
    q = Querier([n.dns_port for n in others], expected)
    q.start()
    try:
        wait_until(lambda: q.count >= 200, 20, "queries before the kill")
        lead.kill()
        q.target = q.count + MIN_QUERIES
        rr_add_until_success(others[1], "example.com",
                             "afternodekill 60 A 192.0.2.203", 30)
        for n in others:
            n.wait_dns("afternodekill.example.com.", "A",
                       answers_with("192.0.2.203"), timeout=30)
    finally:
        q.finish()
    assert q.count >= q.target
    assert not q.failures, "%d of %d queries failed or were wrong; first: " \
        "%r" % (len(q.failures), q.count, q.failures[:5])


@pytest.mark.timeout(120)
def test_last_node_without_quorum_keeps_answering(c3):
    """After the previous test one node is dead; killing one more leaves
    the last node cut off from the majority: its dnsd keeps answering."""
    live = c3.live()
    assert len(live) == 2, [n.name for n in live]
    last, victim = live
    expected = expected_answers(last)
    q = Querier([last.dns_port], expected)
    q.start()
    try:
        wait_until(lambda: q.count >= 100, 20, "queries before the kill")
        victim.kill()
        q.target = q.count + MIN_QUERIES
        # Writes fail now (no majority); dnsd answers regardless.
        r = last.ctl("rr add example.com nomajority 60 A 192.0.2.204",
                     timeout=20)
        assert r.startswith("ERROR"), r
    finally:
        q.finish()
    assert q.count >= q.target
    assert not q.failures, "%d of %d queries failed or were wrong; first: " \
        "%r" % (len(q.failures), q.count, q.failures[:5])
    m = dns_query(last.dns_port, "nomajority.example.com.", "A")
    assert m.rcode() == 3, m
