"""Harness for dns-raft cluster tests: free ports, node processes, ctl clients.

Every node is one supervisor (`dns-raft`) started in its own session; it
runs each daemon in a session of its own, so a node's processes are found
by their command line (the node's unique -data.dir), not by group.
Each node gets explicit 127.0.0.1 addresses on free ports and its own data
directory under a short temporary directory (ipc socket paths must stay
under 100 bytes).  Waits poll with a deadline; nothing sleeps blindly.

A node may also run on a host of a netns.Net (Node(host=...), or
Cluster.net): in a network namespace of its own, with that host's
non-loopback address; the test talks to it through sockets made in that
namespace (a 3-tuple address (ip, port, host) for ctl_raw, Session, ...;
netns= for the DNS clients). Cluster.use_key() gives every node a cluster
key (`dns-raft keygen`).

Also used by tests/bench/run.py.
"""

import ctypes
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

# The repository: zones/, README.md.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

BIN_NAMES = ("dns-raft", "raftd", "ctld")

# Python keeps orphaned daemons from turning into zombies that nobody reaps
# (pid 1 of a container often does not reap): as a child subreaper, this
# process inherits them and reaps them in reap_orphans().
PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1

_libc = ctypes.CDLL(None, use_errno=True)
_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

# Log lines that mean a daemon crashed (the supervisor logs "killed by
# signal N" for children; 9 and 15 are what tests send on purpose).
CRASH_RE = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|"
                      r"runtime error:|Sanitizer:DEADLYSIGNAL|"
                      r"killed by signal (?!9\b|15\b)\d+|"
                      r"Assertion .* failed|Segmentation fault")
# The supervisor's line about a child a test killed with a signal of its
# choice (Node.expect_signals).
KILLED_RE = re.compile(r"killed by signal (\d+)")

# Every Node created by this process, for log dumps and last-resort cleanup.
ALL_NODES = []


class CtlError(Exception):
    """A control connection failed or did not behave (timeout, no close)."""


# --------------------------------------------------------------------------
# Binaries, ports, waiting


def bin_dir():
    """The directory holding dns-raft, raftd and ctld (env DR_BIN_DIR).

    Raises AssertionError when it is unset or a binary is missing, so a
    test run without binaries fails instead of skipping.
    """
    d = os.environ.get("DR_BIN_DIR")
    assert d, "DR_BIN_DIR is not set (ctest sets it to <build>/bin)"
    for name in BIN_NAMES:
        path = os.path.join(d, name)
        assert os.path.isfile(path) and os.access(path, os.X_OK), (
            "binary missing or not executable: %s" % path)
    return d


_handed_out = set()


def free_port():
    """A port on 127.0.0.1 free for TCP and UDP right now.

    Never returns the same port twice in one process.
    """
    for _ in range(200):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            if port in _handed_out:
                continue
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
            finally:
                u.close()
        finally:
            t.close()
        _handed_out.add(port)
        return port
    raise RuntimeError("no free port found")



def run_bin(bins, name, args, cwd, timeout=15):
    """Runs binary name of directory bins to completion in cwd, in its own
    session (killed with its group after timeout s, which fails).
    Returns (rc, stdout, stderr)."""
    p = subprocess.Popen([os.path.join(bins, name)] + args, cwd=cwd,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise AssertionError("%s %s still running after %ds" % (
            name, args, timeout))
    return (p.returncode, out.decode(errors="replace"),
            err.decode(errors="replace"))

def wait_until(pred, timeout, what, interval=0.05):
    """Polls pred() until it returns a true value, which is returned.

    Exceptions from pred (OSError, CtlError, AssertionError...) count as
    "not yet". After timeout seconds raises AssertionError naming what was
    awaited and the last value or exception seen.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = pred()
            if v:
                return v
            last = v
        except (OSError, CtlError, AssertionError, ValueError,
                KeyError) as e:
            last = e
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s "
                                 "(last: %r)" % (timeout, what, last))
        time.sleep(interval)


# --------------------------------------------------------------------------
# Control protocol clients


def _connect(addr, timeout):
    """A TCP connection to (ip, port), or (ip, port, netns.Host) from
    that host's network namespace."""
    if len(addr) > 2 and addr[2] is not None:
        return addr[2].connect((addr[0], addr[1]), timeout)
    return socket.create_connection((addr[0], addr[1]), timeout=timeout)


def ctl_raw(addr, data, timeout=10.0, shut_wr=False):
    """Sends data on a fresh connection, returns every byte until EOF.

    The server must close a non-session connection after its reply: raises
    CtlError if it does not within timeout (the partial reply is in the
    message).
    """
    s = _connect(addr, timeout)
    try:
        s.sendall(data)
        if shut_wr:
            s.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + timeout
        buf = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CtlError("%s:%d: no close after %r (got %r)" %
                               (addr[0], addr[1], data[:80], buf[:200]))
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                return buf
            buf += chunk
    finally:
        s.close()


def ctl(addr, line, timeout=10.0, token=None):
    """One command on a one-command connection; the reply text as str.

    A single-line reply is returned without its newline; a multi-line one
    (ending with ".") is returned whole. With token, "auth TOKEN" goes
    first and its "OK" is not part of the reply.
    """
    data = (line + "\n").encode()
    if token is not None:
        data = ("auth %s\n" % token).encode() + data
    out = ctl_raw(addr, data, timeout).decode("utf-8", "replace")
    if token is not None:
        if not out.startswith("OK\n"):
            raise CtlError("auth: %r" % out[:200])
        out = out[3:]
    if out.endswith("\n") and out.count("\n") == 1:
        return out[:-1]
    return out


def parse_status(text):
    """'key value' lines ending with '.' -> dict (values as str)."""
    lines = text.split("\n")
    assert "." in lines, "status reply not terminated by '.': %r" % text
    d = {}
    for ln in lines[:lines.index(".")]:
        k, _, v = ln.partition(" ")
        d[k] = v
    return d


def parse_members(text):
    """Member lines ending with '.' -> list of word lists."""
    lines = text.split("\n")
    assert "." in lines, "members reply not terminated by '.': %r" % text
    return [ln.split() for ln in lines[:lines.index(".")] if ln]


class Session:
    """A `session` connection: many commands, replies read line by line."""

    def __init__(self, addr, timeout=10.0, token=None):
        self.addr = addr
        self.timeout = timeout
        self.sock = _connect(addr, timeout)
        self.buf = b""
        if token is not None:
            self.send("auth " + token)
            ok = self.readline()
            if ok != "OK":
                self.close()
                raise CtlError("auth: expected OK, got %r" % ok)
        self.send("session")
        ok = self.readline()
        if ok != "OK":
            self.close()
            raise CtlError("session handshake: expected OK, got %r" % ok)

    def send(self, line):
        if isinstance(line, str):
            line = line.encode()
        self.sock.sendall(line + b"\n")

    def readline(self, timeout=None):
        """One reply line without its newline; CtlError on EOF/timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CtlError("session read timeout (buffer %r)" %
                               self.buf[:200])
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise CtlError("session closed by server (buffer %r)" %
                               self.buf[:200])
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode("utf-8", "replace")

    def cmd(self, line, timeout=None):
        self.send(line)
        return self.readline(timeout)

    def multi(self, line):
        """A command with a multi-line reply; the lines before '.'."""
        self.send(line)
        out = []
        while True:
            ln = self.readline()
            if ln == ".":
                return out
            if not out and ln.startswith("ERROR"):
                raise CtlError("%s -> %s" % (line, ln))
            out.append(ln)

    def read_eof(self, timeout=None):
        """Reads until the server closes; returns what came before EOF."""
        deadline = time.monotonic() + (timeout or self.timeout)
        data = self.buf
        self.buf = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CtlError("server did not close (got %r)" % data[:200])
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------
# /proc helpers


def _proc_stat(pid):
    """(comm, state, ppid, pgid) of pid, or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    comm = s[s.index("(") + 1:s.rindex(")")]
    rest = s[s.rindex(")") + 2:].split()
    return comm, rest[0], int(rest[1]), int(rest[2])


def _all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def reap_orphans():
    """Reaps zombies that were reparented to this (subreaper) process.

    Only pids that subprocess does not own are waited for.
    """
    mine = os.getpid()
    owned = {n.proc.pid for n in ALL_NODES if n.proc is not None}
    for pid in _all_pids():
        st = _proc_stat(pid)
        if st and st[2] == mine and st[1] == "Z" and pid not in owned:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def pid_alive(pid):
    """True while pid exists and is not a zombie."""
    reap_orphans()
    st = _proc_stat(pid)
    return st is not None and st[1] != "Z"


def pids_with_arg(arg):
    """Live (non-zombie) pids whose command line has the argument arg.

    A node's data dir is unique and on every one of its processes' command
    lines, which finds them whatever their session or parent is now (the
    supervisor puts each daemon in a session of its own).
    """
    reap_orphans()
    want = arg.encode()
    out = []
    for pid in _all_pids():
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except (FileNotFoundError, ProcessLookupError):
            continue
        st = _proc_stat(pid)
        if want in argv and st and st[1] != "Z":
            out.append(pid)
    return out


def children_of(pid):
    """{comm: [pid, ...]} of the live children of pid."""
    out = {}
    for p in _all_pids():
        st = _proc_stat(p)
        if st and st[2] == pid and st[1] != "Z":
            out.setdefault(st[0], []).append(p)
    return out


def _pdeathsig():
    # In the forked child before exec: if the test runner dies (ctest
    # timeout, SIGKILL), the supervisor gets SIGTERM and stops its node.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


# --------------------------------------------------------------------------
# Nodes and clusters


class Node:
    """One dns-raft node: a supervisor process and its children.

    host: a netns.Host to run on (its namespace and address), or None for
    127.0.0.1 of the test's own network. env: variables added to the
    node's environment. expect_signals: signal numbers the test kills the
    node's daemons with, whose "killed by signal N" lines are no crash
    (their core dumps are off).
    """

    def __init__(self, base_dir, name, join=None, extra_args=(), host=None,
                 env=None, expect_signals=()):
        self.name = name
        self.host = host
        self.ip = host.ip if host is not None else "127.0.0.1"
        # Where the test reaches ctld (from inside the node's namespace):
        # ctld's loopback door, where the operator needs no token.
        self.ctl_ip = "127.0.0.1"
        self.raft_port = free_port()
        self.ctl_port = free_port()
        self.dns_port = free_port()
        self.data_dir = os.path.join(base_dir, name)
        self.log_path = os.path.join(base_dir, name + ".log")
        self.join = join
        self.extra_args = list(extra_args)
        self.env = dict(env or {})
        self.expect_signals = set(expect_signals)
        self.proc = None
        self.log_file = None
        # Sent with "auth" by ctl() and session() when set (a node that
        # does not trust loopback clients).
        self.token = None
        ALL_NODES.append(self)

    @property
    def ctl_addr(self):
        """(ip, port), or (ip, port, host) for a node on a netns host
        (ctl_raw, Session and ctl reach it from inside its namespace)."""
        if self.host is None:
            return (self.ctl_ip, self.ctl_port)
        return (self.ctl_ip, self.ctl_port, self.host)

    @property
    def ctl_hostport(self):
        return "%s:%d" % (self.ip, self.ctl_port)

    @property
    def raft_hostport(self):
        return "%s:%d" % (self.ip, self.raft_port)

    def addrs(self):
        """RAFT CTL DNS, as `cluster join` takes them."""
        return "%s %s %s" % (self.raft_hostport, self.ctl_hostport,
                             self.dns_hostport)

    def argv(self, join="same"):
        """The command line; join="same" keeps the node's own -raft.join,
        None drops it, a string replaces it."""
        if join == "same":
            join = self.join
        a = [os.path.join(bin_dir(), "dns-raft"),
             "-id", self.name,
             "-raft.addr", self.raft_hostport,
             "-ctl.addr", self.ctl_hostport,
             "-dns.addr", self.dns_hostport,
             "-data.dir", self.data_dir,
             # dnsd rate-limits every source, 127.0.0.1 included, and
             # tests query fast from there: off unless a test's
             # extra_args turn it on (the last -dns.rrl wins).
             "-dns.rrl", "0"]
        if join:
            a += ["-raft.join", join]
        return a + self.extra_args

    def start(self, argv=None):
        """Starts the supervisor (stderr and stdout to the node's log)."""
        assert not self.running(), "%s already running" % self.name
        if argv is None:
            argv = self.argv()
        self.log_file = open(self.log_path, "ab")
        self.log_file.write(("=== %s start: %s\n" % (
            time.strftime("%H:%M:%S"), " ".join(argv))).encode())
        self.log_file.flush()
        env = dict(os.environ, **self.env) if self.env else None
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=self.log_file,
            stderr=subprocess.STDOUT, start_new_session=True, env=env,
            preexec_fn=self._preexec)
        self.last_argv = argv
        return self.proc

    def _preexec(self):
        # In the forked child, before exec.
        _pdeathsig()
        if self.expect_signals:
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if self.host is not None:
            self.host.enter()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid

    def children(self):
        """{"raftd": [pid], "ctld": [pid], ...} for the running node."""
        return children_of(self.proc.pid)

    def child_pid(self, comm, timeout=20):
        """The pid of the node's one live child named comm (waits)."""
        def one():
            p = self.children().get(comm, [])
            return p[0] if len(p) == 1 else None
        return wait_until(one, timeout, "%s child of %s" % (comm, self.name))

    def pids(self):
        """Every live process of this node (supervisor and daemons)."""
        return pids_with_arg(self.data_dir)

    def wait_gone(self, timeout=20):
        wait_until(lambda: not self.pids(), timeout,
                   "all processes of %s to exit" % self.name)

    def kill_nowait(self):
        # Freeze the supervisor so it neither restarts a daemon nor lets
        # them see its death (PR_SET_PDEATHSIG -> an orderly SIGTERM stop)
        # before they are killed.
        if self.running():
            os.kill(self.proc.pid, signal.SIGSTOP)
        for pid in self.pids():
            if pid != self.proc.pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self, timeout=30):
        """SIGTERM to the supervisor; waits for every process of the node; returns rc.

        Raises AssertionError if the supervisor does not exit in time.
        """
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s: supervisor still running %ds after "
                                 "SIGTERM" % (self.name, timeout))
        self.wait_gone(timeout)
        self._close_log()
        return rc

    def kill(self):
        """kill -9 of the whole node: the supervisor and every daemon."""
        self.kill_nowait()
        self.proc.wait(10)
        self.wait_gone(10)
        self._close_log()

    def cleanup(self):
        """Last resort: kill whatever is left of the node."""
        if self.proc is None:
            return
        self.kill_nowait()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        try:
            self.wait_gone(5)
        except AssertionError:
            pass
        self._close_log()

    def _close_log(self):
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None

    def log_tail(self, n=60):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(lines[-n:])

    def crash_lines(self):
        """Log lines that show a crash or a sanitizer report (but for the
        supervisor's lines about the signals in expect_signals)."""
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return []
        out = []
        for ln in text.splitlines():
            if not CRASH_RE.search(ln):
                continue
            m = KILLED_RE.search(ln)
            if m and int(m.group(1)) in self.expect_signals:
                continue
            out.append(ln)
        return out

    # ctl shortcuts
    def ctl(self, line, timeout=10.0):
        return ctl(self.ctl_addr, line, timeout, self.token)

    def status(self, timeout=10.0):
        return parse_status(self.ctl("cluster status", timeout))

    def members(self, timeout=10.0):
        return parse_members(self.ctl("cluster members", timeout))

    def get(self, key):
        return self.ctl("kv get " + key)

    def set(self, key, value):
        return self.ctl("kv set %s %s" % (key, value))

    def session(self, timeout=10.0):
        return Session(self.ctl_addr, timeout, self.token)

    @property
    def dns_hostport(self):
        return "%s:%d" % (self.ip, self.dns_port)

    def dns(self, qname, qtype="A", **kw):
        """dns_query() against this node's dnsd (from its namespace)."""
        kw.setdefault("host", self.ip)
        kw.setdefault("netns", self.host)
        return dns_query(self.dns_port, qname, qtype, **kw)

    def wait_dns(self, qname, qtype, pred, timeout=10, what=None, **kw):
        """wait_dns() against this node's dnsd (from its namespace)."""
        kw.setdefault("host", self.ip)
        kw.setdefault("netns", self.host)
        return wait_dns(self.dns_port, qname, qtype, pred, timeout,
                        what or "%s %s on %s" % (qname, qtype, self.name),
                        **kw)

    def wait_ping(self, timeout=30):
        wait_until(lambda: self.ctl("kv ping", 2) == "PONG", timeout,
                   "%s to answer kv ping" % self.name)


class Cluster:
    """A set of nodes under one temporary directory.

    With net (a netns.Net, may be set after creation), each new node runs
    on a host of its own of that network.
    """

    def __init__(self, base_dir=None, extra_args=(), net=None):
        self.base_dir = base_dir or tempfile.mkdtemp(prefix="drt", dir="/tmp")
        self.extra_args = list(extra_args)
        self.nodes = []
        self.net = net
        self.key = None

    def use_key(self, path=None):
        """Gives every node added from now on -cluster.key path (a new key
        from `dns-raft keygen` when path is None). Returns the path."""
        if path is None:
            path = os.path.join(self.base_dir, "cluster.key")
            rc, out, err = run_bin(bin_dir(), "dns-raft", ["keygen", path],
                                   self.base_dir)
            assert rc == 0, (rc, out, err)
        self.key = path
        self.extra_args += ["-cluster.key", path]
        return path

    def add_node(self, join=True, extra_args=None, **kw):
        """A new node idN; join=True joins via node 0's ctl address. More
        keywords go to Node (host= defaults to a new host of self.net)."""
        name = "id%d" % len(self.nodes)
        if join is True:
            join = self.nodes[0].ctl_hostport if self.nodes else None
        if self.net is not None and "host" not in kw:
            kw["host"] = self.net.host(name)
        n = Node(self.base_dir, name, join,
                 self.extra_args if extra_args is None else extra_args,
                 **kw)
        self.nodes.append(n)
        return n

    def start(self, n, timeout=60, first_args=None):
        """Bootstraps node 0, joins nodes 1..n-1, waits until converged.

        first_args: extra arguments of node 0 only (e.g. -zone.file F)
        after the cluster's own extra_args.
        """
        first = self.add_node(join=None, extra_args=(
            None if first_args is None else
            self.extra_args + list(first_args)))
        first.start()
        wait_until(lambda: first.status(2).get("role") == "leader", timeout,
                   "%s to become leader of a new cluster" % first.name)
        for i in range(1, n):
            node = self.add_node()
            node.start()
            self.wait_converged(self.nodes, timeout)
        # raftd writes a node's row of the members table in an entry of
        # its own after the node is in the configuration: until then the
        # cluster is still changing under a test that compares states.
        want = {(x.name, x.ctl_hostport) for x in self.nodes}
        wait_until(lambda: want <= {(r[0], r[2]) for r in first.members(2)
                                    if len(r) > 2},
                   timeout, "every node's row in the members table")
        return self

    def start_with_example_zone(self, n=3, timeout=30):
        """Starts n nodes, node 0 loading a copy of zones/zone.txt (kept
        as self.zone), and waits until every dnsd answers its SOA."""
        self.zone = os.path.join(self.base_dir, "zone.txt")
        shutil.copyfile(os.path.join(ROOT, "zones", "zone.txt"), self.zone)
        self.start(n, first_args=["-zone.file", self.zone])
        self.wait_dns_all("example.com.", "SOA", soa_answer, timeout)
        return self

    def live(self):
        return [n for n in self.nodes if n.running()]

    def wait_dns_all(self, qname, qtype, pred, timeout=10, nodes=None):
        """Waits until every node's dnsd (default: the live nodes) gives
        a response satisfying pred; returns {node name: response}."""
        nodes = nodes if nodes is not None else self.live()
        return {n.name: n.wait_dns(qname, qtype, pred, timeout)
                for n in nodes}

    def wait_converged(self, nodes=None, timeout=60):
        """Waits until every node in nodes reports members == voters ==
        len(nodes) and they all name the same leader, which says it is
        leader. Returns the leader Node."""
        nodes = nodes if nodes is not None else self.live()
        want = str(len(nodes))
        last = {}

        def ok():
            st = {n.name: n.status(2) for n in nodes}
            last.clear()
            last.update(st)
            leaders = {s.get("leader") for s in st.values()}
            if len(leaders) != 1:
                return None
            lname = leaders.pop()
            if lname in (None, "none"):
                return None
            for s in st.values():
                if s.get("members") != want or s.get("voters") != want:
                    return None
            lnode = [n for n in nodes if n.name == lname]
            if not lnode or st[lname].get("role") != "leader":
                return None
            return lnode[0]
        return wait_until(ok, timeout, "%s to agree on a leader with %s "
                          "voters (last statuses %r)" % (
                              [n.name for n in nodes], want, last),
                          interval=0.1)

    def leader(self, timeout=30):
        """The node whose status says leader, among the live nodes."""
        def find():
            for n in self.live():
                try:
                    if n.status(2).get("role") == "leader":
                        return n
                except (OSError, CtlError):
                    pass
            return None
        return wait_until(find, timeout, "a leader among live nodes")

    def followers(self):
        lead = self.leader()
        return [n for n in self.live() if n is not lead]

    def cleanup(self):
        for n in self.nodes:
            n.cleanup()

    def dump_logs(self, n=60):
        out = []
        for node in self.nodes:
            out.append("----- %s (%s) -----\n%s" % (
                node.name, node.log_path, node.log_tail(n)))
        return "\n".join(out)


def write_until_success(node, key, value, timeout):
    """Retries `kv set` through node until SUCCESS; returns elapsed secs.

    Connection failures and ERROR replies count as "not yet".
    """
    t0 = time.monotonic()
    last = [None]

    def attempt():
        r = node.ctl("kv set %s %s" % (key, value), timeout=8)
        last[0] = r
        return r == "SUCCESS"
    wait_until(attempt, timeout, "kv set %s through %s to succeed" % (
        key, node.name), interval=0.05)
    return time.monotonic() - t0


# --------------------------------------------------------------------------
# DNS clients (dnspython from Debian)


def dnsd_present():
    """Asserts the dnsd binary was built (the supervisor skips a missing
    one, so the DNS tests check it themselves)."""
    path = os.path.join(bin_dir(), "dnsd")
    assert os.access(path, os.X_OK), "dnsd missing: %s" % path
    return path


def soa_answer(m):
    """A wait_dns predicate: the zone's SOA, authoritatively."""
    return (m.rcode() == 0 and is_aa(m) and len(m.answer) == 1 and
            m.answer[0].rdtype == dns.rdatatype.SOA)


def soa_serial(m):
    return m.answer[0][0].serial


def dns_make(qname, qtype="A", edns=0, payload=1232, want_dnssec=False,
             qid=None):
    """A query message; edns=None or -1 sends no OPT record."""
    if edns is None:
        edns = -1
    q = dns.message.make_query(qname, qtype, want_dnssec=want_dnssec)
    # make_query(use_edns=1) means "EDNS on" (version 0): set it apart.
    q.use_edns(edns, payload=payload,
               ednsflags=dns.flags.DO if want_dnssec else 0)
    q.flags &= ~dns.flags.RD
    if qid is not None:
        q.id = qid
    return q


def _ns_socket(netns, type):
    """A nonblocking socket made in netns (a netns.Host), or None."""
    if netns is None:
        return None
    s = netns.socket(socket.AF_INET, type)
    s.setblocking(False)
    return s


def dns_query(port, qname, qtype="A", tcp=False, timeout=2.0, edns=0,
              payload=1232, host="127.0.0.1", netns=None):
    """One query to host:port (from the namespace of netns, a
    netns.Host, if given); the response Message.

    Raises dns.exception.Timeout when no answer comes (wait_dns turns it
    into "not yet"). A truncated UDP answer is returned as it is (TC set),
    never retried over TCP.
    """
    q = dns_make(qname, qtype, edns, payload)
    if tcp:
        if netns is None:
            return dns.query.tcp(q, host, timeout=timeout, port=port)
        s = netns.connect((host, port), timeout)
        try:
            s.setblocking(False)
            return dns.query.tcp(q, host, timeout=timeout, port=port,
                                 sock=s)
        finally:
            s.close()
    s = _ns_socket(netns, socket.SOCK_DGRAM)
    try:
        return dns.query.udp(q, host, timeout=timeout, port=port, sock=s)
    finally:
        if s is not None:
            s.close()


def dns_raw(port, wire, tcp=False, timeout=2.0, host="127.0.0.1",
            netns=None):
    """Sends raw query bytes (from the namespace of netns, a netns.Host,
    if given); the raw response bytes, or None when nothing comes back
    within timeout (a dropped query)."""
    if tcp:
        s = _connect((host, port, netns), timeout)
        try:
            s.sendall(len(wire).to_bytes(2, "big") + wire)
            hdr = _recv_exact(s, 2, timeout)
            if hdr is None:
                return None
            return _recv_exact(s, int.from_bytes(hdr, "big"), timeout)
        finally:
            s.close()
    s = (netns.socket(socket.AF_INET, socket.SOCK_DGRAM) if netns else
         socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    try:
        s.settimeout(timeout)
        s.sendto(wire, (host, port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None
    finally:
        s.close()


def _recv_exact(s, n, timeout):
    deadline = time.monotonic() + timeout
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            chunk = s.recv(n - len(buf))
        except socket.timeout:
            return None
        if not chunk:
            return None
        buf += chunk
    return buf


def rr_texts(msg, section="answer"):
    """Sorted 'name ttl TYPE rdata' lines of a section (lowercase names)."""
    out = []
    for rrset in getattr(msg, section):
        for rd in rrset:
            out.append("%s %d %s %s" % (
                rrset.name.to_text().lower(), rrset.ttl,
                dns.rdatatype.to_text(rrset.rdtype), rd.to_text()))
    return sorted(out)


def rdatas(msg, qtype=None, section="answer"):
    """Sorted rdata texts of the records of section (of type qtype)."""
    want = dns.rdatatype.from_text(qtype) if qtype else None
    return sorted(rd.to_text() for rrset in getattr(msg, section)
                  for rd in rrset if want is None or rrset.rdtype == want)


def is_aa(msg):
    return bool(msg.flags & dns.flags.AA)


def is_tc(msg):
    return bool(msg.flags & dns.flags.TC)


def rcode_text(msg):
    return dns.rcode.to_text(msg.rcode())


def wait_dns(port, qname, qtype, pred, timeout=10, what=None, **kw):
    """Polls a DNS query until pred(response) is true; returns the response.

    No answer (timeout) counts as "not yet".
    """
    def once():
        try:
            m = dns_query(port, qname, qtype, timeout=1.0, **kw)
        except dns.exception.Timeout as e:
            raise OSError("no answer: %s" % e)
        return m if pred(m) else None
    return wait_until(once, timeout, what or "%s %s on port %d" % (
        qname, qtype, port), interval=0.02)


def answers_with(rdata, qtype="A"):
    """A wait_dns predicate: NOERROR, AA and rdata among the answers."""
    def pred(m):
        return (m.rcode() == 0 and is_aa(m) and rdata in rdatas(m, qtype))
    return pred


def answers_without(rdata, qtype="A"):
    """A wait_dns predicate: AA and rdata not among the answers."""
    def pred(m):
        return is_aa(m) and rdata not in rdatas(m, qtype)
    return pred


# --------------------------------------------------------------------------
# Continuous DNS querying during failures (test_dns_failover, test_dns_resync)

# Queries whose answers must not change during the events (example.com.).
STABLE = [("www.example.com.", "A"), ("api.example.com.", "A"),
          ("nothere.example.com.", "A"), ("x.apps.example.com.", "A"),
          ("host.lab.example.com.", "A"), ("example.com.", "MX"),
          ("example.org.", "A")]
MIN_QUERIES = 2000


class Querier(threading.Thread):
    """Queries every port in turn, each query once (timeout 1 s, no retry),
    and records every failure or answer that differs from the expected."""

    def __init__(self, ports, expected):
        super().__init__(daemon=True)
        self.ports = list(ports)
        self.expected = expected
        self.stop_evt = threading.Event()
        self.count = 0
        self.target = MIN_QUERIES  # queries to make before stopping
        self.failures = []

    @staticmethod
    def view(m):
        """What must not change: the writes of the test bump the SOA
        serial, so the serial of the negative answers' SOA is masked."""
        auth = [re.sub(r"^(\S+ \d+ SOA \S+ \S+) \d+", r"\1 SERIAL", t)
                for t in rr_texts(m, "authority")]
        return (m.rcode(), m.flags & 0x0600, rr_texts(m), auth,
                rr_texts(m, "additional"))

    def run(self):
        i = 0
        while not self.stop_evt.is_set() or self.count < self.target:
            port = self.ports[i % len(self.ports)]
            q = STABLE[i % len(STABLE)]
            i += 1
            try:
                m = dns_query(port, q[0], q[1], timeout=1.0)
                v = self.view(m)
                if v != self.expected[q]:
                    self.failures.append((time.monotonic(), port, q,
                                          "wrong", v))
            except (dns.exception.DNSException, OSError) as e:
                self.failures.append((time.monotonic(), port, q, "error",
                                      repr(e)))
            self.count += 1

    def finish(self, timeout=60):
        self.stop_evt.set()
        self.join(timeout)
        assert not self.is_alive(), "querier did not finish"


def expected_answers(node):
    out = {}
    for q in STABLE:
        out[q] = Querier.view(dns_query(node.dns_port, q[0], q[1]))
    assert out[STABLE[0]][2], out
    return out
