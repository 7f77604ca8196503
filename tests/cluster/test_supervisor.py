"""The supervisor: flag checks, child restarts, give-up, SIGTERM."""

import os
import signal
import socket
import subprocess
import time

import pytest

import drcluster
from drcluster import pid_alive, pids_with_arg, wait_until, \
    write_until_success


def run_bin(bins, name, args, tmp, timeout=15):
    """Runs a binary to completion; (rc, stdout, stderr)."""
    r = drcluster.run_bin(bins, name, args, tmp, timeout)
    # Nothing may be left running behind a failed start.
    wait_until(lambda: not pids_with_arg(os.path.join(tmp, "d")), 10,
               "no leftover processes")
    return r


def valid_args(tmp):
    return ["-raft.addr", "127.0.0.1:%d" % drcluster.free_port(),
            "-ctl.addr", "127.0.0.1:%d" % drcluster.free_port(),
            "-dns.addr", "127.0.0.1:%d" % drcluster.free_port(),
            "-data.dir", os.path.join(tmp, "d")]


@pytest.mark.parametrize("args,needle", [
    ([], "-id"),
    (["-id", "x", "-raft.addr", "nonsense"], "raft.addr"),
    (["-id", "x", "-raft.addr", "127.0.0.1:99999"], "raft.addr"),
    (["-id", "x", "-bogus.flag", "1"], "bogus.flag"),
    (["-id", "x", "-raft.election-timeout", "abc"], "election-timeout"),
    (["-id", "x", "stray"], "stray"),
])
def test_flag_validation(bins, cluster, args, needle):
    tmp = cluster.base_dir
    # The bad flag comes last so it overrides the valid defaults.
    rc, out, err = run_bin(bins, "dns-raft", valid_args(tmp) + args, tmp)
    assert rc != 0, (rc, out, err)
    assert needle in err, "stderr does not name %r: %r" % (needle, err)
    # One clear message, not a flood or a crash report.
    assert 0 < len(err.strip().splitlines()) <= 5, err
    assert "Sanitizer" not in err and "Segmentation" not in err


@pytest.mark.parametrize("name", drcluster.BIN_NAMES)
def test_help(bins, cluster, name):
    rc, out, err = run_bin(bins, name, ["-h"], cluster.base_dir)
    assert rc == 0, (rc, out, err)
    assert "-raft.join" in out + err and "-data.dir" in out + err


@pytest.mark.timeout(120)
def test_gives_up_when_child_keeps_failing(cluster):
    node = cluster.add_node(join=None)
    # Hold the raft port: raftd cannot listen, exits, is restarted, fails.
    hold = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    hold.bind(("127.0.0.1", node.raft_port))
    hold.listen(1)
    try:
        t0 = time.monotonic()
        node.start()
        try:
            rc = node.proc.wait(30)
        except subprocess.TimeoutExpired:
            raise AssertionError("supervisor did not give up within 30s")
        elapsed = time.monotonic() - t0
        assert rc != 0, rc
        assert elapsed < 30
        node.wait_gone(10)
        assert "raftd" in node.log_tail(200)
    finally:
        hold.close()


def test_sigterm_stops_node_exit_0(cluster):
    cluster.start(1)
    n = cluster.nodes[0]
    assert n.set("k", "v") == "SUCCESS"
    raftd, ctld = n.child_pid("raftd"), n.child_pid("ctld")
    t0 = time.monotonic()
    rc = n.stop(timeout=15)
    assert rc == 0, "supervisor exit status %r after SIGTERM" % rc
    assert time.monotonic() - t0 < 15
    assert not pid_alive(raftd) and not pid_alive(ctld)
    # The daemons themselves exited 0 (the supervisor logs how each ended).
    log = n.log_tail(30)
    for d in ("raftd", "ctld"):
        assert "%s, stopped (exit status 0)" % d in log, log
    assert "killing" not in log, log
    # Ports are released: the node can be started again right away.
    n.start()
    n.wait_ping()
    assert n.get("k") == "v"


@pytest.mark.timeout(180)
def test_child_killed_is_restarted(cluster):
    cluster.start(3)
    lead = cluster.wait_converged()
    assert lead.set("ck", "before") == "SUCCESS"

    # raftd of the leader: a new election happens, the new raftd comes back
    # as a member, and the node serves reads and writes again.
    old_raftd, old_ctld = lead.child_pid("raftd"), lead.child_pid("ctld")
    os.kill(old_raftd, signal.SIGKILL)
    wait_until(lambda: lead.children().get("raftd", [old_raftd])[0] !=
               old_raftd, 20, "a new raftd on %s" % lead.name)
    wait_until(lambda: lead.get("ck") == "before", 20,
               "kv get on %s after raftd restart" % lead.name)
    write_until_success(lead, "ck2", "after-raftd", timeout=20)
    for n in cluster.nodes:
        wait_until(lambda: n.get("ck2") == "after-raftd", 5,
                   "ck2 on " + n.name)
    assert lead.child_pid("ctld") == old_ctld, "ctld was restarted too"
    assert lead.running()
    cluster.wait_converged(cluster.nodes, timeout=30)

    # ctld of a follower.
    lead = cluster.leader()
    f = [n for n in cluster.nodes if n is not lead][0]
    old_raftd, old_ctld = f.child_pid("raftd"), f.child_pid("ctld")
    os.kill(old_ctld, signal.SIGKILL)
    wait_until(lambda: f.children().get("ctld", [old_ctld])[0] != old_ctld,
               20, "a new ctld on %s" % f.name)
    wait_until(lambda: f.ctl("kv ping", 2) == "PONG", 20,
               "ctld of %s back" % f.name)
    assert f.get("ck2") == "after-raftd"
    write_until_success(f, "ck3", "after-ctld", timeout=20)
    assert lead.get("ck3") == "after-ctld"
    assert f.child_pid("raftd") == old_raftd, "raftd was restarted too"
    assert f.running()


def test_supervisor_killed_leaves_no_orphans(cluster):
    """kill -9 of the supervisor alone: its daemons exit on their own
    (parent-death signal), freeing the ports; the node restarts fine."""
    cluster.start(1)
    n = cluster.nodes[0]
    assert n.set("orph", "v") == "SUCCESS"
    daemons = [n.child_pid("raftd"), n.child_pid("ctld")]
    os.kill(n.pid, signal.SIGKILL)
    n.proc.wait(10)
    wait_until(lambda: not any(pid_alive(p) for p in daemons), 15,
               "raftd and ctld to exit after their supervisor died")
    n.start()
    n.wait_ping()
    assert n.get("orph") == "v"
    assert n.set("orph", "w") == "SUCCESS"


def test_sigterm_while_child_keeps_failing(cluster):
    """SIGTERM during restart backoff still stops the node with status 0."""
    node = cluster.add_node(join=None)
    hold = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    hold.bind(("127.0.0.1", node.raft_port))
    hold.listen(1)
    try:
        node.start()
        wait_until(lambda: "restart in" in node.log_tail(50), 10,
                   "a failed raftd start")
        assert node.running()
        assert node.stop(timeout=15) == 0
    finally:
        hold.close()
