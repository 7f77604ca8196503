"""The supervisor: flag checks, child restarts, give-up, SIGTERM, a raftd
that keeps crashing, dns-raft signal."""

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
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


def test_gives_up_only_before_start_logs_each_failure(cluster):
    """A raftd that never starts: each failure logged with what comes
    next, then the node gives up (exit 1) after 5, as it should."""
    node = cluster.add_node(join=None)
    hold = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    hold.bind(("127.0.0.1", node.raft_port))
    hold.listen(1)
    try:
        node.start()
        assert node.proc.wait(30) == 1
        node.wait_gone(10)
    finally:
        hold.close()
    log = node.log_tail(200)
    downs = re.findall(r"raftd, down \(exit status 1\) after [0-9.]+ s, "
                       r"never ready; (.*)", log)
    assert downs == [
        "restart in 100 ms (failure 1 of 5 before giving up)",
        "restart in 200 ms (failure 2 of 5 before giving up)",
        "restart in 400 ms (failure 3 of 5 before giving up)",
        "restart in 800 ms (failure 4 of 5 before giving up)",
        "failed 5 times in a row, stopping the node"], log
    assert "raftd keeps failing at start (exit status 1), giving up" in log


class Pinger(threading.Thread):
    """kv ping to a node's ctld every 20 ms; records every failure."""

    def __init__(self, node):
        super().__init__(daemon=True)
        self.node = node
        self.stop_evt = threading.Event()
        self.count = 0
        self.failures = []

    def run(self):
        while not self.stop_evt.wait(0.02):
            try:
                r = self.node.ctl("kv ping", 2)
                if r != "PONG":
                    self.failures.append((time.monotonic(), r))
            except (OSError, drcluster.CtlError) as e:
                self.failures.append((time.monotonic(), repr(e)))
            self.count += 1

    def finish(self):
        self.stop_evt.set()
        self.join(10)
        assert not self.is_alive()


@pytest.mark.timeout(120)
def test_raftd_crash_loop_keeps_dns_and_ctl(cluster):
    """raftd killed with SIGSEGV (what the packet of death of issue 9 did)
    as soon as it is back, 7 times in a row: dnsd answers every query and
    ctld every kv ping throughout, neither is restarted, the supervisor
    logs each crash with its growing restart delay and never gives up,
    and the node takes writes again once raftd stays up."""
    drcluster.dnsd_present()
    zone = os.path.join(cluster.base_dir, "zone.txt")
    shutil.copyfile(os.path.join(drcluster.ROOT, "zones", "zone.txt"), zone)
    # ASan would turn the SIGSEGV into a report and exit status 1: let
    # the signal kill raftd, as a real crash would.
    san = "handle_segv=0"
    env = {v: (os.environ.get(v, "") + ":" + san).lstrip(":")
           for v in ("ASAN_OPTIONS", "UBSAN_OPTIONS")}
    node = cluster.add_node(join=None, extra_args=["-zone.file", zone],
                            env=env, expect_signals={signal.SIGSEGV})
    node.start()
    wait_until(lambda: node.status(2).get("role") == "leader", 30,
               "a leader")
    node.wait_dns("example.com.", "SOA", drcluster.soa_answer, 20)
    assert node.set("before", "crashes") == "SUCCESS"
    dnsd, ctld = node.child_pid("dnsd"), node.child_pid("ctld")

    q = drcluster.Querier([node.dns_port],
                          drcluster.expected_answers(node))
    q.target = 500
    ping = Pinger(node)
    q.start()
    ping.start()
    kills = 7
    t0 = time.monotonic()
    try:
        for i in range(kills):
            # Back and serving (it said READY=1), then crashed again.
            pid = node.child_pid("raftd", timeout=30)
            wait_until(lambda: "raftd, ready (pid %d)" % pid in
                       node.log_tail(400), 30, "raftd %d ready" % pid)
            os.kill(pid, signal.SIGSEGV)
            wait_until(lambda: not pid_alive(pid), 10, "raftd %d gone" % pid)
            wait_until(lambda: "raftd, down" in node.log_tail(5), 10,
                       "the supervisor to see raftd %d die" % pid)
        write_until_success(node, "after", "crashes", timeout=30)
        elapsed = time.monotonic() - t0
    finally:
        q.finish()
        ping.finish()

    assert not q.failures, "%d of %d DNS queries failed or were wrong; " \
        "first: %r" % (len(q.failures), q.count, q.failures[:5])
    assert not ping.failures, "%d of %d kv ping failed; first: %r" % (
        len(ping.failures), ping.count, ping.failures[:5])
    assert ping.count > 100, ping.count
    assert node.child_pid("dnsd") == dnsd and node.child_pid("ctld") == ctld
    assert node.running()
    assert node.get("before") == "crashes"

    log = node.log_tail(2000)
    downs = re.findall(r"raftd, down \(killed by signal 11, [^)]*\) after "
                       r"[0-9.]+ s; restart in (\d+) ms \(failure (\d+) in "
                       r"a row\)", log)
    # 100 ms doubling with each crash in a row (capped at 30 s: see
    # tests/unit/test_restart.c; the cap is 9 crashes away).
    assert [int(d) for d, _ in downs] == [100 << i for i in range(kills)], \
        log
    assert [int(f) for _, f in downs] == list(range(1, kills + 1)), log
    assert "stopping the node" not in log and "giving up" not in log, log
    # The delays add up to 12.7 s: raftd was back each time right after.
    assert elapsed < 12.7 + kills * 2.5, elapsed


def test_signal_subcommand(bins, cluster):
    """dns-raft signal SIG PID (the ctld unit's ExecReload): sends the
    signal; refuses what is not one of its signals or not a process id."""
    tmp = cluster.base_dir
    p = subprocess.Popen(["sleep", "60"])
    try:
        # drcluster.run_bin: this module's run_bin reaps stray children,
        # p's status with them.
        rc, out, err = drcluster.run_bin(bins, "dns-raft",
                                         ["signal", "TERM", str(p.pid)], tmp)
        assert (rc, out, err) == (0, "", "")
        assert p.wait(10) == -signal.SIGTERM
    finally:
        p.kill()
        p.wait()
    for args in (["signal"], ["signal", "HUP"], ["signal", "KILL", "2"],
                 ["signal", "HUP", "0"], ["signal", "HUP", "-1"],
                 ["signal", "HUP", "1"], ["signal", "HUP", "12x"],
                 ["signal", "HUP", ""], ["signal", "HUP", "2", "3"]):
        rc, out, err = run_bin(bins, "dns-raft", args, tmp)
        assert rc == 2 and "signal" in err, (args, rc, err)
    rc, out, err = run_bin(bins, "dns-raft", ["signal", "HUP", str(p.pid)],
                           tmp)
    assert rc == 1 and "No such process" in err, (rc, err)
    rc, out, err = run_bin(bins, "dns-raft", ["-h"], tmp)
    assert "dns-raft keygen FILE" in out and "dns-raft signal" in out, out
