"""A Jepsen-style nemesis and client workload for real dns-raft clusters.

A Run drives a cluster of nodes, each on a host of a netns.Net (a
network namespace of its own, non-loopback addresses, a cluster key):

- clients (threads) send commands to random nodes, half of them one
  command per connection, half over `session` connections: `kv set KEY
  UNIQUE_VALUE`, `kv get KEY consistent`, local `kv get KEY`, and `rr
  add` / `rr del` of records of their own in a zone of the test. Every
  command is recorded with the monotonic times of its invocation and of
  its reply, and its outcome: OK (SUCCESS, or a read's value); FAIL (any
  other ERROR, or the connection could not be made: nothing was sent);
  UNKNOWN ("ERROR ... outcome unknown", a connection lost or a reply not
  come within CMD_TIMEOUT once the command was sent);
- the nemesis (in the test's own thread), driven by a seeded random
  generator, injects
  faults one or two at a time, holds them, and undoes them: kill -9 of a
  whole node (supervisor and daemons; restarted later), kill -9 of one
  daemon (raftd, dnsd or ctld: the supervisor restarts it), SIGSTOP of
  raftd for 0.2-3 s, and partitions: one node isolated, the leader
  isolated, a bridge (B sees A and C, A and C do not see each other).

After the chaos everything is healed and the run checks (Run.check):
the `kv set` / consistent `kv get` history is linearizable (linearize.py;
the final consistent read of every key through every node is part of
it, so an acknowledged write that got lost shows there); a local read
never returned a value nobody wrote (nor one of a write that failed);
every node converges to the same value of every key, the same `zone
dump` and the same DNS answers for every test record, every
acknowledged `rr add` not deleted since is served by every dnsd and
every acknowledged `rr del` is gone; no daemon went down but the ones
the nemesis killed, and no log holds a crash or a sanitizer report.
Run.report() gives the seed, the nemesis timeline, the figures and
every problem found (with the checker's counter-example).

The seed fixes the nemesis's choices and the clients' commands, not the
timing: a failing seed does not always fail again.
"""

import collections
import os
import random
import re
import signal
import socket
import threading
import time

import dns.exception
import dns.query

import drcluster
import linearize
from linearize import FAIL, GET, OK, SET, UNKNOWN

ZONE = "nem.test"
# A reply must come within this once a command is sent: above ctld's own
# deadline for a write (ctld/dispatch.h DISPATCH_WRITE_DEADLINE_MS, 20 s),
# so that ctld says "outcome unknown" before the client gives up.
CMD_TIMEOUT = 30.0
CONNECT_TIMEOUT = 5.0
N_KEYS = 6

DOWN_RE = re.compile(r"\b(raftd|dnsd|ctld), down \(([^)]*)\)")


def env_seconds(default):
    """DR_NEMESIS_SECONDS, or default: how long the chaos lasts."""
    v = os.environ.get("DR_NEMESIS_SECONDS")
    return float(v) if v else float(default)


def env_epoch_seconds(default=300):
    """DR_NEMESIS_EPOCH_SECONDS, or default: a long run is checked in
    epochs of this much chaos each (fresh keys and records each time),
    so that its history stays small."""
    v = os.environ.get("DR_NEMESIS_EPOCH_SECONDS")
    return float(v) if v else float(default)


def env_seed():
    """DR_NEMESIS_SEED as an int, or None."""
    v = os.environ.get("DR_NEMESIS_SEED")
    return int(v) if v else None


# --------------------------------------------------------------------------
# Talking to ctld


class Reply:
    """What came of one command: sent (False: the connection could not
    be made, nothing left this process), text (the reply without its
    newline, None if none came) and error (why none came)."""

    __slots__ = ("sent", "text", "error")

    def __init__(self, sent, text=None, error=None):
        self.sent = sent
        self.text = text
        self.error = error

    def __repr__(self):
        return "Reply(sent=%s, %r, %r)" % (self.sent, self.text, self.error)


def _connect(node, timeout):
    if node.host is not None:
        return node.host.connect((node.ctl_ip, node.ctl_port), timeout)
    return socket.create_connection((node.ctl_ip, node.ctl_port),
                                    timeout=timeout)


def one_shot(node, line, timeout=CMD_TIMEOUT):
    """line on a connection of its own to node's ctld; a Reply. The
    whole reply is read (until the server closes)."""
    try:
        s = _connect(node, CONNECT_TIMEOUT)
    except OSError as e:
        return Reply(False, error="connect: %s" % e)
    try:
        deadline = time.monotonic() + timeout
        try:
            s.sendall((line + "\n").encode())
        except OSError as e:
            return Reply(True, error="send: %s" % e)
        buf = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return Reply(True, error="no reply within %.0f s (got %r)"
                             % (timeout, buf[:80]))
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            except OSError as e:
                return Reply(True, error="recv: %s (got %r)" % (e, buf[:80]))
            if not chunk:
                break
            buf += chunk
        text = buf.decode("utf-8", "replace")
        if not text.endswith("\n"):
            return Reply(True, error="closed without a whole reply (got %r)"
                         % text[:80])
        return Reply(True, text[:-1] if text.count("\n") == 1 else text)
    finally:
        s.close()


class Sessions:
    """One `session` connection per node, opened when first needed and
    dropped after any error (a late reply would otherwise answer the
    next command)."""

    def __init__(self):
        self.open = {}

    def cmd(self, node, line, timeout=CMD_TIMEOUT):
        s = self.open.get(node.name)
        if s is None:
            try:
                s = drcluster.Session(node.ctl_addr, CONNECT_TIMEOUT)
            except (OSError, drcluster.CtlError) as e:
                return Reply(False, error="session: %s" % e)
            self.open[node.name] = s
        try:
            return Reply(True, s.cmd(line, timeout))
        except (OSError, drcluster.CtlError) as e:
            self.drop(node)
            return Reply(True, error=str(e))

    def drop(self, node):
        s = self.open.pop(node.name, None)
        if s is not None:
            s.close()

    def close(self):
        for s in self.open.values():
            s.close()
        self.open.clear()


def write_outcome(r):
    """OK, FAIL or UNKNOWN of a write's Reply."""
    if not r.sent:
        return FAIL
    if r.text is None:
        return UNKNOWN
    if r.text == "SUCCESS":
        return OK
    if "outcome unknown" in r.text:
        return UNKNOWN
    if r.text.startswith("ERROR"):
        return FAIL
    return UNKNOWN  # not a reply of the protocol: noted as an anomaly


def read_outcome(r):
    """(status, value) of a `kv get` Reply: the value read (None: the key
    is absent) when OK."""
    if not r.sent:
        return FAIL, None
    if r.text is None:
        return UNKNOWN, None
    if r.text == "ERROR not found":
        return OK, None
    if r.text.startswith("ERROR"):
        return FAIL, None
    return OK, r.text


# --------------------------------------------------------------------------
# The record of a run


class Rec:
    """One command of a client: kind is set, cget (consistent get), lget
    (local get), rradd or rrdel; key is the key or the record's owner."""

    __slots__ = ("client", "node", "kind", "key", "value", "invoke",
                 "complete", "status", "reply")

    def __init__(self, client, node, kind, key, value, invoke):
        self.client = client
        self.node = node
        self.kind = kind
        self.key = key
        self.value = value
        self.invoke = invoke
        self.complete = None
        self.status = None
        self.reply = None

    def line(self, t0):
        end = "%.3f" % (self.complete - t0) if self.complete else "?"
        return "[%.3f, %s] c%s %s %s %s %r -> %s %r" % (
            self.invoke - t0, end, self.client, self.node, self.kind,
            self.key, self.value, self.status, self.reply)


class Recorder:
    """The history (Recs) and the nemesis timeline of a run."""

    def __init__(self):
        self.lock = threading.Lock()
        self.recs = []
        self.timeline = []
        self.anomalies = []
        self.t0 = time.monotonic()

    def add(self, rec):
        with self.lock:
            self.recs.append(rec)

    def event(self, text):
        t = time.monotonic()
        with self.lock:
            self.timeline.append((t, text))

    def anomaly(self, text):
        with self.lock:
            self.anomalies.append(text)

    def timeline_text(self):
        return "\n".join("  %8.3f %s" % (t - self.t0, s)
                         for t, s in self.timeline)

    def kv_ops(self):
        """The set / cget Recs as linearize.Ops."""
        ops = []
        for r in self.recs:
            if r.kind not in ("set", "cget"):
                continue
            ops.append(linearize.Op(
                SET if r.kind == "set" else GET, r.key, r.value, r.invoke,
                r.complete if r.status == OK else None, r.status,
                client=r.client, node=r.node,
                note=None if r.status == OK else r.reply))
        return ops


# --------------------------------------------------------------------------
# Clients


def rr_line(name, n, client):
    return "%s 60 A 10.%d.%d.%d" % (name, client % 256, n // 256 % 256,
                                    n % 256)


class Client(threading.Thread):
    """Commands to random nodes until stop is set."""

    def __init__(self, idx, nodes, rng, rec, stop, session, prefix=""):
        super().__init__(name="client%d" % idx, daemon=True)
        self.prefix = prefix
        self.idx = idx
        self.nodes = nodes
        self.rng = rng
        self.rec = rec
        self.stop = stop
        self.sessions = Sessions() if session else None
        self.n = 0
        self.records = []  # (name, rdata line) this client added or tried
        self.error = None

    def send(self, node, line):
        if self.sessions is not None:
            return self.sessions.cmd(node, line)
        return one_shot(node, line)

    def op(self, node, kind, key, value, line, outcome):
        r = Rec(self.idx, node.name, kind, key, value, time.monotonic())
        rep = self.send(node, line)
        r.complete = time.monotonic()
        r.reply = rep.text if rep.text is not None else rep.error
        if kind in ("cget", "lget"):
            r.status, r.value = outcome(rep)
        else:
            r.status = outcome(rep)
        if rep.text is not None and not (
                rep.text.startswith("ERROR") or kind in ("cget", "lget") or
                rep.text == "SUCCESS"):
            self.rec.anomaly("%s: unexpected reply %r" % (line, rep.text))
        self.rec.add(r)
        if not rep.sent:
            self.stop.wait(0.05)  # the node is down: do not spin
        return r

    def run(self):
        try:
            while not self.stop.is_set():
                self.step()
        except BaseException as e:  # reported by Run.check
            self.error = "%s: %r" % (self.name, e)
        finally:
            if self.sessions is not None:
                self.sessions.close()

    def step(self):
        rng = self.rng
        node = rng.choice(self.nodes)
        key = "%snk%d" % (self.prefix, rng.randrange(N_KEYS))
        x = rng.random()
        self.n += 1
        if x < 0.35:
            v = "c%d.%d" % (self.idx, self.n)
            self.op(node, "set", key, v, "kv set %s %s" % (key, v),
                    write_outcome)
        elif x < 0.65:
            self.op(node, "cget", key, None, "kv get %s consistent" % key,
                    read_outcome)
        elif x < 0.8:
            self.op(node, "lget", key, None, "kv get %s" % key,
                    read_outcome)
        elif x < 0.9 or not self.records:
            name = "%sr%dx%d" % (self.prefix, self.idx, self.n)
            rr = rr_line(name, self.n, self.idx)
            r = self.op(node, "rradd", name, rr,
                        "rr add %s %s" % (ZONE, rr), write_outcome)
            if r.status != FAIL:
                self.records.append((name, rr))
        else:
            name, rr = self.records.pop(rng.randrange(len(self.records)))
            self.op(node, "rrdel", name, rr, "rr del %s %s" % (ZONE, rr),
                    write_outcome)


# --------------------------------------------------------------------------
# The nemesis


def leader_of(nodes):
    """The running node that says it leads (the highest term if more
    than one does), or None."""
    best = None
    for n in nodes:
        if not n.running():
            continue
        r = one_shot(n, "cluster status", timeout=1.5)
        if r.text is None or not r.text.endswith(".\n"):
            continue
        try:
            st = drcluster.parse_status(r.text)
        except AssertionError:
            continue
        if st.get("role") == "leader":
            term = int(st.get("term", "0") or 0)
            if best is None or term > best[0]:
                best = (term, n)
    return best[1] if best else None


class Fault:
    """A fault the nemesis started: end() undoes it (what says what
    it is). hold: seconds to keep it before ending it."""

    def __init__(self, what, hold, end=None):
        self.what = what
        self.hold = hold
        self._end = end

    def end(self):
        return self._end() if self._end is not None else None


class Nemesis:
    """Random faults, one or two at a time, for a while (loop()).

    It runs in the thread that started the cluster and lives as long as
    the test (not a thread of its own): the supervisors it restarts get
    PR_SET_PDEATHSIG (drcluster), which Linux fires when the *thread*
    that forked them ends, so a node restarted by a short-lived thread
    would be stopped with it.
    """

    KINDS = ("kill-node", "kill-leader", "kill-raftd", "kill-dnsd",
             "kill-ctld", "pause-raftd", "isolate-node", "isolate-leader",
             "bridge")

    def __init__(self, cluster, net, rng, rec, stop, kinds=KINDS,
                 kills=None):
        self.cluster = cluster
        self.net = net
        self.rng = rng
        self.rec = rec
        self.stop = stop
        self.kinds = list(kinds)
        # (node, daemon) -> kill -9s (shared by the epochs of a run)
        self.kills = collections.Counter() if kills is None else kills
        self.counts = collections.Counter()  # kind -> times started
        self.paused = {}  # pid -> node name (SIGSTOPped, not CONTinued)
        self.down = set()  # names of the nodes killed, not restarted
        self.error = None

    # --- faults

    def start_fault(self, kind):
        nodes = self.cluster.nodes
        rng = self.rng
        if kind in ("kill-node", "kill-leader"):
            node = leader_of(nodes) if kind == "kill-leader" else None
            if node is None:
                up = [n for n in nodes if n.name not in self.down]
                if not up:
                    return None
                node = rng.choice(up)
            if node.name in self.down:
                return None
            node.kill()
            self.down.add(node.name)
            return Fault("kill -9 node %s" % node.name,
                         rng.uniform(0.5, 4.0),
                         lambda: self.restart(node))
        if kind.startswith("kill-"):
            daemon = kind[5:]
            node = rng.choice(nodes)
            pid = self.child(node, daemon)
            if pid is None:
                return None
            os.kill(pid, signal.SIGKILL)
            self.kills[(node.name, daemon)] += 1
            return Fault("kill -9 %s of %s (pid %d)" % (daemon, node.name,
                                                         pid),
                         0.0, lambda: self.wait_child(node, daemon, pid))
        if kind == "pause-raftd":
            node = rng.choice(nodes)
            pid = self.child(node, "raftd")
            if pid is None or pid in self.paused:
                return None
            os.kill(pid, signal.SIGSTOP)
            self.paused[pid] = node.name
            return Fault("SIGSTOP raftd of %s (pid %d)" % (node.name, pid),
                         rng.uniform(0.2, 3.0), lambda: self.resume(pid))
        hosts = {n.name: n.host for n in nodes}
        if self.net.cut_pairs():
            return None  # one partition at a time
        if kind in ("isolate-node", "isolate-leader"):
            node = leader_of(nodes) if kind == "isolate-leader" else None
            if node is None:
                node = rng.choice(nodes)
            pairs = [(node.host, hosts[o.name]) for o in nodes
                     if o is not node]
            what = "isolate %s" % node.name
        else:  # bridge
            a, b, c = rng.sample(nodes, 3)
            pairs = [(a.host, c.host)]
            what = "bridge: %s sees %s and %s, which do not see each " \
                   "other" % (b.name, a.name, c.name)
        self.net.cut(pairs)
        return Fault(what, rng.uniform(1.0, 6.0), self.heal_net)

    def child(self, node, daemon):
        if node.name in self.down or not node.running():
            return None
        pids = node.children().get(daemon, [])
        return pids[0] if len(pids) == 1 else None

    def restart(self, node):
        node.start()
        self.down.discard(node.name)
        drcluster.wait_until(lambda: one_shot(node, "kv ping", 2).text ==
                             "PONG", 60, "%s to answer after its restart" %
                             node.name, interval=0.1)
        return "restarted %s" % node.name

    def wait_child(self, node, daemon, old):
        def back():
            if node.name in self.down:
                return "whole node down"  # killed since, by another fault
            p = self.child(node, daemon)
            return p is not None and p != old
        v = drcluster.wait_until(back, 60, "the supervisor of %s to "
                                 "restart %s" % (node.name, daemon),
                                 interval=0.05)
        if v is not True:
            return "%s of %s: %s" % (daemon, node.name, v)
        return "%s of %s is back" % (daemon, node.name)

    def resume(self, pid):
        self.paused.pop(pid, None)
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            return "SIGCONT %d: gone" % pid
        return "SIGCONT %d" % pid

    def heal_net(self):
        self.net.heal()
        return "healed the network"

    # --- the loop

    def loop(self, seconds):
        """Rounds of faults until seconds have passed (or stop is set)."""
        end = time.monotonic() + seconds
        try:
            while not self.stop.wait(self.rng.uniform(0.3, 2.0)):
                if time.monotonic() >= end:
                    break
                self.round(end)
        except Exception as e:  # reported by Run.check
            self.error = "nemesis: %r" % e
            self.rec.event("nemesis failed: %r" % e)

    def round(self, end):
        n = 2 if self.rng.random() < 0.3 else 1
        kinds = self.rng.sample(self.kinds, n)
        faults = []
        for k in kinds:
            f = self.start_fault(k)
            if f is None:
                self.rec.event("%s: skipped (nothing to do now)" % k)
                continue
            self.counts[k] += 1
            self.rec.event("start %s: %s (hold %.1f s)" % (k, f.what,
                                                          f.hold))
            faults.append((time.monotonic() + f.hold, f))
        for deadline, f in sorted(faults, key=lambda x: x[0]):
            self.stop.wait(max(0.0, min(deadline, end) - time.monotonic()))
            self.rec.event("end %s: %s" % (f.what, f.end()))

    def heal_all(self):
        """Undoes every fault still on (after loop())."""
        for pid in list(self.paused):
            self.rec.event("final: %s" % self.resume(pid))
        if self.net.cut_pairs():
            self.rec.event("final: %s" % self.heal_net())
        for node in self.cluster.nodes:
            if node.name in self.down or not node.running():
                self.rec.event("final: %s" % self.restart(node))


# --------------------------------------------------------------------------
# A run and its checks


class Run:
    """seed, seconds of chaos, clients; run() then check() -> problems.

    epoch: the how-manieth Run on this cluster (its keys and records
    are its own: e<epoch>nk<k>, e<epoch>r...); kills: the kill counter of
    the previous epochs, which the daemons' deaths in the logs add up to.
    """

    def __init__(self, cluster, net, seed, seconds, clients=8,
                 kinds=Nemesis.KINDS, epoch=0, kills=None):
        self.cluster = cluster
        self.epoch = epoch
        self.prefix = "e%d" % epoch
        self.kills = collections.Counter() if kills is None else kills
        self.net = net
        self.seed = seed
        self.seconds = seconds
        self.n_clients = clients
        self.kinds = kinds
        self.rec = Recorder()
        self.problems = []
        self.figures = []
        self.lin = None

    # --- setup

    def start_cluster(self):
        """Three keyed nodes on hosts of the net, and the test zone."""
        c = self.cluster
        c.net = self.net
        c.use_key()
        c.start(3)
        for n in c.nodes:
            n.expect_signals |= {signal.SIGKILL}
        lead = c.wait_converged()
        for rr in ("@ 3600 SOA ns.%s. admin.%s. 1 3600 600 86400 60" % (
                ZONE, ZONE), "@ 3600 NS ns.%s." % ZONE, "ns 3600 A 192.0.2.53"):
            r = one_shot(lead, "rr add %s %s" % (ZONE, rr))
            assert r.text == "SUCCESS", (rr, r)
        for n in c.nodes:
            n.wait_dns("ns.%s." % ZONE, "A",
                       drcluster.answers_with("192.0.2.53"), 30)

    # --- chaos

    def run(self):
        rng = random.Random(self.seed if self.epoch == 0 else
                            "%d.%d" % (self.seed, self.epoch))
        stop_clients = threading.Event()
        stop_nemesis = threading.Event()
        clients = [Client(i, self.cluster.nodes,
                          random.Random(rng.getrandbits(64)), self.rec,
                          stop_clients, session=(i % 2 == 1),
                          prefix=self.prefix)
                   for i in range(self.n_clients)]
        nem = Nemesis(self.cluster, self.net,
                      random.Random(rng.getrandbits(64)), self.rec,
                      stop_nemesis, self.kinds, self.kills)
        self.nemesis = nem
        self.rec.t0 = time.monotonic()
        self.rec.event("chaos starts: seed %d, epoch %d, %.0f s, %d clients"
                       % (self.seed, self.epoch, self.seconds,
                          self.n_clients))
        for c in clients:
            c.start()
        try:
            nem.loop(self.seconds)
            if nem.error:
                self.problems.append(nem.error)
            self.rec.event("chaos ends: healing")
            nem.heal_all()
            # The clients go on a little on the healed cluster.
            stop_clients.wait(2.0)
        finally:
            stop_clients.set()
        for c in clients:
            c.join(CMD_TIMEOUT + 30)
            if c.is_alive():
                self.problems.append("%s still running" % c.name)
            if c.error:
                self.problems.append(c.error)
        self.rec.event("clients stopped")

    # --- checks

    def check(self):
        c = self.cluster
        nodes = c.nodes
        try:
            c.wait_converged(timeout=120)
        except AssertionError as e:
            self.problems.append("no convergence after healing: %s" % e)
            return self.problems
        self.final_reads(nodes)
        self.check_linearizable()
        self.check_local_reads()
        self.check_kv_converged(nodes)
        self.check_rr(nodes)
        self.check_processes(nodes)
        self.problems += ["anomaly: %s" % a for a in self.rec.anomalies]
        self.add_figures()
        return self.problems

    def keys(self):
        return ["%snk%d" % (self.prefix, k) for k in range(N_KEYS)]

    def final_reads(self, nodes):
        """A consistent read of every key through every node, recorded
        in the history (a lost acknowledged write shows there)."""
        for key in self.keys():
            for n in nodes:
                deadline = time.monotonic() + 60
                while True:
                    r = Rec("final", n.name, "cget", key, None,
                            time.monotonic())
                    rep = one_shot(n, "kv get %s consistent" % key)
                    r.complete = time.monotonic()
                    r.reply = rep.text if rep.text is not None else \
                        rep.error
                    r.status, r.value = read_outcome(rep)
                    if r.status == OK:
                        self.rec.add(r)
                        break
                    if time.monotonic() > deadline:
                        self.problems.append(
                            "final consistent read of %s through %s: %s" %
                            (key, n.name, r.reply))
                        break
                    time.sleep(0.1)

    def check_linearizable(self):
        ops = self.rec.kv_ops()
        t = time.monotonic()
        self.lin = linearize.check(ops, max_steps=20_000_000)
        self.figures.append("linearizability: %s, %.1f s" % (
            self.lin.report().splitlines()[0] if self.lin else
            "%s" % ("FAILED" if self.lin.ok is False else "inconclusive"),
            time.monotonic() - t))
        if not self.lin:
            self.problems.append("the kv history is not linearizable "
                                 "(or the check is inconclusive):\n" +
                                 self.lin.report())

    def written(self):
        """{key: {value: status}} of every kv set."""
        out = collections.defaultdict(dict)
        for r in self.rec.recs:
            if r.kind == "set":
                out[r.key][r.value] = r.status
        return out

    def check_local_reads(self):
        w = self.written()
        t0 = self.rec.t0
        for r in self.rec.recs:
            if r.kind != "lget" or r.status != OK or r.value is None:
                continue
            st = w[r.key].get(r.value)
            if st is None:
                self.problems.append("local read of a value never written: "
                                     "%s" % r.line(t0))
            elif st == FAIL:
                self.problems.append("local read of the value of a write "
                                     "that failed: %s" % r.line(t0))

    def check_kv_converged(self, nodes):
        keys = self.keys()
        last = {}

        def same():
            lead = self.cluster.leader(10)
            want = {k: read_outcome(one_shot(
                lead, "kv get %s consistent" % k)) for k in keys}
            got = {n.name: {k: read_outcome(one_shot(n, "kv get %s" % k))
                            for k in keys} for n in nodes}
            last.clear()
            last.update(want=want, got=got)
            return all(g == want for g in got.values())
        try:
            drcluster.wait_until(same, 60, "every node's kv", interval=0.2)
        except AssertionError:
            self.problems.append("kv contents differ between nodes: %r" %
                                 last)

    def rr_expected(self):
        """{owner: (rdata line, 'present' | 'absent' | 'either')}."""
        adds, dels = {}, {}
        for r in self.rec.recs:
            if r.kind == "rradd":
                adds[r.key] = r
            elif r.kind == "rrdel":
                dels[r.key] = r
        out = {}
        for name, a in adds.items():
            d = dels.get(name)
            if a.status == UNKNOWN:
                want = "either"
            elif a.status == FAIL:
                want = "absent"
            elif d is None or d.status == FAIL:
                want = "present"
            elif d.status == OK:
                want = "absent"
            else:
                want = "either"
            out[name] = (a.value, want)
        return out

    def check_rr(self, nodes):
        exp = self.rr_expected()
        socks = {n.name: n.host.socket(socket.AF_INET, socket.SOCK_DGRAM)
                 for n in nodes}
        for s in socks.values():
            s.setblocking(False)

        def view(n, name):
            q = drcluster.dns_make("%s.%s." % (name, ZONE), "A")
            for _ in range(5):
                try:
                    m = dns.query.udp(q, n.ip, timeout=1.0, port=n.dns_port,
                                      sock=socks[n.name])
                    return m.rcode(), tuple(drcluster.rdatas(m, "A"))
                except dns.exception.Timeout:
                    continue
            return ("no answer",)

        def ok(name):
            rr, want = exp[name]
            ip = rr.split()[-1]
            views = {n.name: view(n, name) for n in nodes}
            if len(set(views.values())) != 1:
                return False, views
            v = next(iter(views.values()))
            if want == "present" and v != (0, (ip,)):
                return False, views
            if want == "absent" and v[1:] != ((),):
                return False, views
            return True, views

        bad = {}
        try:
            pending = sorted(exp)
            deadline = time.monotonic() + 30
            while pending:
                bad = {}
                for name in pending:
                    good, views = ok(name)
                    if not good:
                        bad[name] = (exp[name][1], views)
                if not bad or time.monotonic() > deadline:
                    break
                pending = sorted(bad)
                time.sleep(0.2)
        finally:
            for s in socks.values():
                s.close()
        for name, (want, views) in sorted(bad.items())[:20]:
            hist = [r.line(self.rec.t0) for r in self.rec.recs
                    if r.key == name]
            self.problems.append("record %s (expected %s) answered %r; "
                                 "its history:\n    %s" % (
                                     name, want, views, "\n    ".join(hist)))
        if len(bad) > 20:
            self.problems.append("... and %d more records" % (len(bad) - 20))
        counts = collections.Counter(w for _, w in exp.values())
        self.figures.append("records: %s" % dict(counts))

        dumps = {}

        def same_dump():
            for n in nodes:
                r = one_shot(n, "zone dump %s" % ZONE)
                if r.text is None or not r.text.endswith("\n.\n"):
                    return False
                dumps[n.name] = sorted(r.text.splitlines())
            return len({tuple(d) for d in dumps.values()}) == 1
        try:
            drcluster.wait_until(same_dump, 30, "identical zone dumps",
                                 interval=0.2)
        except AssertionError:
            names = sorted(dumps)
            diff = []
            for a in names[1:]:
                d = set(dumps[names[0]]) ^ set(dumps[a])
                diff.append("%s vs %s: %s" % (names[0], a, sorted(d)[:10]))
            self.problems.append("zone dumps differ: %s" % "; ".join(diff))

    def check_processes(self, nodes):
        kills = self.kills
        for n in nodes:
            if not n.running():
                self.problems.append("%s: supervisor not running" % n.name)
            for ln in n.crash_lines():
                self.problems.append("%s: %s" % (n.name, ln))
            downs = collections.Counter()
            for ln in open(n.log_path, "rb").read().decode(
                    "utf-8", "replace").splitlines():
                m = DOWN_RE.search(ln)
                if not m:
                    continue
                if not m.group(2).startswith("killed by signal 9,"):
                    self.problems.append("%s: a daemon died by itself: %s"
                                         % (n.name, ln))
                downs[m.group(1)] += 1
            for daemon, count in downs.items():
                if count > kills[(n.name, daemon)]:
                    self.problems.append(
                        "%s: %s went down %d times, killed %d times by "
                        "the nemesis" % (n.name, daemon, count,
                                         kills[(n.name, daemon)]))

    def add_figures(self):
        per = collections.Counter((r.kind, r.status) for r in self.rec.recs)
        self.figures.insert(0, "commands: " + ", ".join(
            "%s %s %d" % (k, s, v) for (k, s), v in sorted(per.items())))
        self.figures.insert(1, "nemesis: %s" % dict(self.nemesis.counts))

    def minimum_activity(self, min_ok=30):
        """Problems if the run did too little to mean anything."""
        per = collections.Counter((r.kind, r.status) for r in self.rec.recs)
        out = []
        for kind in ("set", "cget", "lget", "rradd"):
            if per[(kind, OK)] < min_ok:
                out.append("only %d successful %s commands" % (
                    per[(kind, OK)], kind))
        if sum(self.nemesis.counts.values()) < 3:
            out.append("the nemesis did only %d things" %
                       sum(self.nemesis.counts.values()))
        return out

    def save(self, path):
        """The history and the timeline, for a post-mortem."""
        t0 = self.rec.t0
        with open(path, "w") as f:
            f.write("seed %d\n\ntimeline:\n%s\n\nhistory:\n" % (
                self.seed, self.rec.timeline_text()))
            for r in self.rec.recs:
                f.write(r.line(t0) + "\n")

    def report(self):
        out = ["nemesis run: seed %d (DR_NEMESIS_SEED=%d reproduces the "
               "choices, not the timing), epoch %d, %.0f s of chaos" % (
                   self.seed, self.seed, self.epoch, self.seconds)]
        out += ["  " + f for f in self.figures]
        out.append("timeline:")
        out.append(self.rec.timeline_text())
        if self.problems:
            out.append("PROBLEMS (%d):" % len(self.problems))
            out += ["- " + p for p in self.problems]
        return "\n".join(out)
