"""Network namespaces for cluster tests: hosts with non-loopback addresses.

A Net is one private network for one test: a hub namespace holding a
bridge, and hosts, each a namespace of its own joined to the bridge by a
veth pair, with lo up and 10.77.0.N/24 on its eth0. Every host reaches
every other one at its address; nothing else reaches them, and they reach
nothing else. Nothing is done outside these namespaces: the veth pairs are
created from inside the hub (`ip -n HUB link add ...`), so the machine's
own interfaces, addresses and routes are never touched.

Namespaces are named drns<pid>-<k>-<host> (the k-th Net of this process),
so no two tests or concurrent runs share a name.
Creating a Net first deletes the namespaces that earlier runs left behind
when their process died (a crashed or killed run): those whose pid is no
longer alive. Net.close() deletes every namespace of the Net; the `net`
fixture calls it in its finalizer, and an atexit hook closes any Net left
open. A namespace deleted while a process still runs in it lives on,
unnamed, until that process exits (the nodes' daemons do, through their
parent-death signals).

Creating namespaces needs root (CI runs as root): when it fails, the test
fails with the command and its error. Nothing is skipped.

The test process stays in its own namespace. It talks to a host through
sockets created inside the host's namespace (Host.socket: a short-lived
thread joins the namespace with setns(2), creates the socket and ends; a
socket belongs to the namespace it was created in for its whole life, so
any thread may use it), and it runs programs there (Host.run, through
`ip netns exec`; Host.popen and Host.enter, the child joining the
namespace before exec).

Net.cut() partitions the network (nftables in the hosts' namespaces
drop what comes from the hosts they are cut from); Net.heal() undoes it.
"""

import atexit
import ctypes
import os
import re
import socket
import subprocess
import time
import threading

import pytest

PREFIX = "drns"
SUBNET = "10.77.0"
PREFIX_LEN = 24
NETNS_DIR = "/run/netns"
CLONE_NEWNET = 0x40000000
MAX_HOSTS = 250

_libc = ctypes.CDLL(None, use_errno=True)
_STALE_RE = re.compile(r"^%s(\d+)-" % PREFIX)
_open_nets = []
_net_count = [0]
_swept = [False]


class NetnsError(AssertionError):
    """A namespace could not be set up (a test failure, not a skip)."""


def _ip(*args):
    """Runs `ip ARGS`; raises NetnsError with its stderr on failure."""
    argv = ["ip"] + list(args)
    try:
        out = subprocess.run(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise NetnsError("%s: %s" % (" ".join(argv), e))
    if out.returncode != 0:
        raise NetnsError("%s: exit status %d: %s" % (
            " ".join(argv), out.returncode,
            out.stderr.decode(errors="replace").strip()))
    return out.stdout.decode(errors="replace")


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_namespaces():
    """The names of /run/netns (every named network namespace)."""
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def sweep_stale():
    """Deletes our namespaces (drns<pid>-...) whose process is gone.

    Returns the names deleted.
    """
    gone = []
    for name in list_namespaces():
        m = _STALE_RE.match(name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        try:
            _ip("netns", "delete", name)
            gone.append(name)
        except NetnsError:
            pass  # another run's sweep got it first
    return gone


def setns(ns):
    """Moves the calling thread into network namespace ns (by name)."""
    fd = os.open(os.path.join(NETNS_DIR, ns), os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns %s: %s" % (ns, os.strerror(err)))
    finally:
        os.close(fd)


def in_namespace(ns, fn):
    """fn() run by a thread of its own inside namespace ns; its result,
    or its exception raised here."""
    box = {}

    def run():
        try:
            setns(ns)
            box["value"] = fn()
        except BaseException as e:  # handed to the caller
            box["error"] = e
    t = threading.Thread(target=run, name="netns " + ns, daemon=True)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


class Host:
    """One "machine" of a Net: a namespace and its address."""

    def __init__(self, net, label, ns, ip):
        self.net = net
        self.label = label
        self.ns = ns
        self.ip = ip

    def __repr__(self):
        return "Host(%s %s)" % (self.ns, self.ip)

    def enter(self):
        """Moves the calling thread (or a child before exec) in here."""
        setns(self.ns)

    def socket(self, family=socket.AF_INET, type=socket.SOCK_STREAM):
        """A new socket of this host's network."""
        return in_namespace(self.ns, lambda: socket.socket(family, type))

    def connect(self, addr, timeout=10.0):
        """A TCP connection from this host to addr (host, port).

        Raises OSError as socket.create_connection does (for instance
        ConnectionRefusedError when nothing listens there).
        """
        s = self.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.settimeout(timeout)
            s.connect(addr)
        except BaseException:
            s.close()
            raise
        return s

    def exchange(self, addr, data, timeout=5.0):
        """Connects to addr from this host, sends data and reads until the
        peer closes (or resets); returns (bytes received, seconds until
        closed). AssertionError if it is still open after timeout."""
        t0 = time.monotonic()
        s = self.connect(addr, timeout)
        got = b""
        try:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                return got, time.monotonic() - t0
            while time.monotonic() - t0 < timeout:
                s.settimeout(max(0.05, timeout - (time.monotonic() - t0)))
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    continue
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                got += chunk
            else:
                raise AssertionError("%s:%d still open after %.1f s" % (
                    addr[0], addr[1], timeout))
        finally:
            s.close()
        return got, time.monotonic() - t0

    def run(self, argv, timeout=30, **kw):
        """Runs argv on this host to completion (`ip netns exec`); the
        CompletedProcess, stdout and stderr captured as text."""
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        kw.setdefault("stdin", subprocess.DEVNULL)
        return subprocess.run(["ip", "netns", "exec", self.ns] + list(argv),
                              timeout=timeout, text=True, **kw)

    def block_from(self, ips):
        """Drops, from now on, every packet that reaches this host from
        the addresses ips (all of them, ips empty: none): an nftables
        table of this namespace (inet drpart), rewritten in one
        transaction. Nothing is answered, so peers see a silent network
        partition; the host's loopback is never filtered."""
        script = ("table inet drpart {\n"
                  "  chain input {\n"
                  "    type filter hook input priority 0; policy accept;\n"
                  "  }\n"
                  "}\n"
                  "flush chain inet drpart input\n")
        if ips:
            script += ("add rule inet drpart input ip saddr { %s } drop\n"
                       % ", ".join(sorted(ips)))
        argv = ["ip", "netns", "exec", self.ns, "nft", "-f", "-"]
        try:
            out = subprocess.run(argv, input=script.encode(),
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise NetnsError("%s: %s (nftables, Debian package nftables)"
                             % (" ".join(argv), e))
        if out.returncode != 0:
            raise NetnsError("%s: exit status %d: %s" % (
                " ".join(argv), out.returncode,
                out.stderr.decode(errors="replace").strip()))

    def popen(self, argv, preexec_fn=None, **kw):
        """subprocess.Popen of argv running on this host (the child joins
        the namespace, then runs preexec_fn if given, then execs)."""
        def pre():
            self.enter()
            if preexec_fn is not None:
                preexec_fn()
        return subprocess.Popen(argv, preexec_fn=pre, **kw)


class Net:
    """A private network of hosts, each in a namespace of its own."""

    def __init__(self):
        if not _swept[0]:
            _swept[0] = True
            sweep_stale()
        _net_count[0] += 1
        self.name = "%s%d-%d" % (PREFIX, os.getpid(), _net_count[0])
        self.hub = self.name + "-hub"
        self.hosts = []
        self._filtered = set()  # namespaces given a drpart table
        self._cut = set()
        self.namespaces = []
        self.closed = False
        _open_nets.append(self)
        try:
            self._add_namespace(self.hub)
            _ip("-n", self.hub, "link", "add", "br0", "type", "bridge")
            _ip("-n", self.hub, "link", "set", "br0", "up")
        except NetnsError as e:
            self.close()
            raise NetnsError("cannot create the test network (network "
                             "namespaces and a bridge need root and "
                             "iproute2): %s" % e)

    def _add_namespace(self, ns):
        _ip("netns", "add", ns)
        self.namespaces.append(ns)
        _ip("-n", ns, "link", "set", "lo", "up")

    def host(self, label):
        """A new host: namespace <net>-<label>, address 10.77.0.N."""
        assert not self.closed, "net %s is closed" % self.name
        assert re.fullmatch(r"[A-Za-z0-9_.]{1,24}", label), label
        n = len(self.hosts) + 1
        assert n <= MAX_HOSTS, "too many hosts"
        ns = "%s-%s" % (self.name, label)
        ip = "%s.%d" % (SUBNET, n)
        veth = "v%d" % n
        try:
            self._add_namespace(ns)
            # Both ends are made from inside the hub: the machine's own
            # namespace never sees them.
            _ip("-n", self.hub, "link", "add", veth, "type", "veth",
                "peer", "name", "eth0", "netns", ns)
            _ip("-n", self.hub, "link", "set", veth, "master", "br0", "up")
            _ip("-n", ns, "addr", "add", "%s/%d" % (ip, PREFIX_LEN),
                "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
        except NetnsError as e:
            raise NetnsError("cannot create host %s of the test network: %s"
                             % (label, e))
        h = Host(self, label, ns, ip)
        self.hosts.append(h)
        return h

    def cut(self, pairs):
        """A partition: for each (host a, host b) of pairs, no packet
        goes between a and b any more (both directions; each drops what
        comes from the other). Replaces the previous cut; cut(()) heals
        every link. Returns the pairs now cut, as label pairs."""
        drop = {h.ns: set() for h in self.hosts}
        done = set()
        for a, b in pairs:
            assert a is not b, "cannot cut %s from itself" % a.label
            drop[a.ns].add(b.ip)
            drop[b.ns].add(a.ip)
            done.add(tuple(sorted((a.label, b.label))))
        for h in self.hosts:
            if drop[h.ns] or h.ns in self._filtered:
                h.block_from(drop[h.ns])
                self._filtered.add(h.ns)
        self._cut = done
        return sorted(done)

    def heal(self):
        """Every link works again (undoes cut)."""
        return self.cut(())

    def cut_pairs(self):
        """The (label, label) pairs cut now."""
        return sorted(self._cut)

    def close(self):
        """Deletes every namespace of the net (veth pairs go with them).

        Raises NetnsError, after trying them all, if one could not be.
        """
        if self.closed:
            return
        self.closed = True
        if self in _open_nets:
            _open_nets.remove(self)
        errors = []
        for ns in reversed(self.namespaces):
            try:
                _ip("netns", "delete", ns)
            except NetnsError as e:
                errors.append(str(e))
        if errors:
            raise NetnsError("; ".join(errors))


@atexit.register
def _close_all():
    for n in list(_open_nets):
        try:
            n.close()
        except NetnsError:
            pass


@pytest.fixture
def net():
    """A Net for this test, deleted at its end whatever happened."""
    n = Net()
    yield n
    n.close()
