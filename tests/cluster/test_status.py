"""What an operator sees: `cluster status` process lines, `cluster members`
states and last contact, and the event lines in the logs.

A 3-node cluster; node 0 loads zones/zone.txt. dnsd is killed (and the
supervisor held so the status can show it down), a follower node is frozen
(its last contact seen from the leader grows), leadership is transferred
(election lines), and the logs are checked for one "level role: message"
line per event and no per-query lines.
"""

import os
import re
import signal

import pytest

from drcluster import dnsd_present, wait_until


LINE_RE = re.compile(r"^(debug|info|warn|fatal) (dns-raft|raftd|dnsd|ctld): ")


@pytest.fixture(scope="module")
def c3(module_cluster):
    dnsd_present()
    return module_cluster.start_with_example_zone()


def procs(st):
    """{"raftd": ["up", "applied_index", "7"], ...} from a status dict."""
    return {k.split(".", 1)[1]: v.split()
            for k, v in st.items() if k.startswith("process.")}


def words_value(words, key):
    return int(words[words.index(key) + 1])


def caught_up(node):
    """The node's process lines once dnsd has every change (lag 0)."""
    p = procs(node.status(3))
    if p.get("dnsd", [""])[0] != "up" or words_value(p["dnsd"], "lag"):
        return None
    return p


def log_text(node):
    with open(node.log_path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def by_id(members):
    return {m[0]: m for m in members}


def test_status_lists_every_process(c3):
    lead = c3.wait_converged()
    for n in c3.nodes:
        p = wait_until(lambda: caught_up(n), 10,
                       "%s dnsd at lag 0" % n.name)
        assert set(p) == {"raftd", "dnsd", "ctld"}, p
        assert p["raftd"][0] == "up" and p["ctld"] == ["up"], p
        raft_applied = words_value(p["raftd"], "applied_index")
        dnsd_applied = words_value(p["dnsd"], "applied_index")
        # dnsd serves the state machine's index; raftd also counts
        # configuration entries and barriers, never fewer.
        assert 0 < dnsd_applied <= raft_applied, p
        st = n.status()
        assert raft_applied <= int(st["commit_index"]), st
        # The older keys are all still there.
        for k in ("id", "role", "leader", "term", "applied_index",
                  "change_seq", "dnsd.change_seq"):
            assert k in st, st
    assert lead.status()["role"] == "leader"


def test_status_shows_killed_dnsd_down_then_caught_up(c3):
    fol = c3.followers()[0]
    lead = c3.leader()
    dnsd = fol.child_pid("dnsd")
    # Held supervisor: dnsd stays dead until it resumes.
    os.kill(fol.pid, signal.SIGSTOP)
    try:
        os.kill(dnsd, signal.SIGKILL)
        p = wait_until(lambda: procs(fol.status(5)).get("dnsd") == ["down"]
                       and procs(fol.status(5)), 10,
                       "%s status to show dnsd down" % fol.name)
        assert p["raftd"][0] == "up" and p["ctld"] == ["up"], p
        # A change dnsd must catch up with once it is back.
        assert lead.ctl("rr add example.com statuscheck 60 A "
                        "192.0.2.77") == "SUCCESS"
    finally:
        os.kill(fol.pid, signal.SIGCONT)
    wait_until(lambda: fol.child_pid("dnsd", 1) != dnsd, 20,
               "supervisor to restart dnsd")
    wait_until(lambda: caught_up(fol), 20, "%s dnsd back at lag 0" % fol.name)
    fol.wait_dns("statuscheck.example.com.", "A",
                 lambda r: "192.0.2.77" in r.to_text())


def test_members_state_and_last_contact(c3):
    lead = c3.wait_converged()
    fols = [n for n in c3.nodes if n is not lead]

    def fresh():
        mem = lead.members()
        states = sorted(m[5] for m in mem)
        if states != ["follower", "follower", "leader"]:
            return None
        rows = by_id(mem)
        # Heartbeats every 10 ms: every follower answered recently.
        if not all(rows[f.name][6] != "-" and int(rows[f.name][6]) < 1000
                   for f in fols):
            return None
        return rows
    rows = wait_until(fresh, 10, "leader to list recent followers")
    me = rows[lead.name]
    assert me[4] == "voter" and me[6] == "-", me
    assert "self" in me[7:] and "leader" in me[7:], me
    for f in fols:
        assert rows[f.name][4] == "voter", rows
        assert rows[f.name][1] == f.raft_hostport, rows
    # A follower knows when it last heard from the leader.
    mrows = by_id(fols[0].members())
    assert mrows[lead.name][5] == "leader", mrows
    assert int(mrows[lead.name][6]) < 1000, mrows
    assert mrows[fols[0].name][5] == "follower", mrows
    assert mrows[fols[0].name][7:] == ["self"], mrows


def test_frozen_follower_contact_grows(c3):
    lead = c3.wait_converged()
    fol = [n for n in c3.nodes if n is not lead][0]

    def contact():
        v = by_id(lead.members())[fol.name][6]
        return None if v == "-" else int(v)
    frozen = fol.pids()
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    try:
        first = wait_until(lambda: (contact() or 0) >= 1000 and contact(),
                           10, "%s contact to pass 1 s" % fol.name)
        wait_until(lambda: contact() > first + 200, 5,
                   "%s contact to keep growing" % fol.name)
        # Still a majority: writes go on.
        assert lead.set("frozen", "yes") == "SUCCESS"
    finally:
        for pid in frozen:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
    wait_until(lambda: contact() is not None and contact() < 1000, 10,
               "%s contact to be recent again" % fol.name)


def test_logs_have_the_events(c3):
    lead = c3.wait_converged()
    target = [n for n in c3.nodes if n is not lead][0]
    assert lead.ctl("cluster transfer %s" % target.name) == "SUCCESS"
    wait_until(lambda: c3.wait_converged() is target, 10,
               "%s to lead" % target.name)
    text = log_text(target)
    assert re.search(r"^info raftd: %s, election started \(term \d+\)$"
                     % target.name, text, re.M), text[-3000:]
    assert re.search(r"^info raftd: %s, became leader \(term \d+\)$"
                     % target.name, text, re.M), text[-3000:]
    old = log_text(lead)
    assert re.search(r"^info raftd: %s, lost leadership" % lead.name, old,
                     re.M), old[-3000:]
    assert re.search(r"^info raftd: %s, following leader %s \(term \d+\)$"
                     % (lead.name, target.name), old, re.M), old[-3000:]
    # Membership: the joins, on the node that led them, and the new
    # configuration on every node.
    assert any(re.search(r"^info raftd: membership, id2 is now a voter$",
                         log_text(n), re.M) for n in c3.nodes)
    for n in c3.nodes:
        assert re.search(r"^info raftd: configuration, now 3 servers",
                         log_text(n), re.M), n.name
    # The zone load, on every node: zone, serial and counts.
    for n in c3.nodes:
        assert re.search(r"^info raftd: \[example\.com\.\] created from "
                         r"\S+, serial \d+: \d+ added, 0 removed",
                         log_text(n), re.M), n.name
    # raftd down: the status still answers, from ctld and dnsd. Once
    # restarted, raftd makes its dnsd resync, with the reason.
    os.kill(lead.pid, signal.SIGSTOP)
    try:
        os.kill(lead.child_pid("raftd"), signal.SIGKILL)
        st = wait_until(lambda: procs(lead.status(5)).get("raftd") ==
                        ["down"] and lead.status(5), 10,
                        "%s status to show raftd down" % lead.name)
        p = procs(st)
        assert p["dnsd"][0] == "up" and "lag" not in p["dnsd"], st
        assert p["ctld"] == ["up"] and "role" not in st, st
    finally:
        os.kill(lead.pid, signal.SIGCONT)
    wait_until(lambda: re.search(r"^info dnsd: feed, resync \(raftd "
                                 r"restarted\)$", log_text(lead), re.M),
               20, "%s dnsd to log its resync" % lead.name)
    # A refused control line is logged, with its reason.
    assert lead.ctl("no such command") == "ERROR unknown command"
    wait_until(lambda: re.search(r'^warn ctld: control, line rejected '
                                 r'\(unknown command\): "no such command"$',
                                 log_text(lead), re.M),
               5, "the refused line in the log")
    # Queries leave no trace by default.
    before = log_text(target).count(" dnsd: ")
    for i in range(20):
        target.dns("www.example.com.", "A")
        target.dns("nx%d.example.com." % i, "A")
    assert target.ctl("kv ping") == "PONG"
    after = log_text(target)
    assert after.count(" dnsd: ") == before, after[-2000:]
    # Every line: level and role in front.
    for n in c3.nodes:
        bad = [ln for ln in log_text(n).splitlines()
               if ln and not ln.startswith("=== ") and
               not LINE_RE.match(ln)]
        assert not bad, (n.name, bad[:10])
