#!/usr/bin/python3
"""Benchmark driver: dns-raft and etcd side by side, figures not pass/fail.

Starts a 3-node dns-raft cluster and a 3-node etcd cluster (Debian's
etcd-server) on free 127.0.0.1 ports, data in one temporary dir, and
prints, all in one run:

- writes/s and p50/p99 latency at 1, 16 and 64 clients (one write in
  flight each) through the leader and through a follower, for dns-raft
  (ctl `session` + `kv set`) and for etcd (v3 HTTP gateway, POST
  /v3/kv/put), in alternating rounds, with the median dns-raft/etcd ratio
  and its spread (min-max) over the rounds;
- one pipelining dns-raft client (W `kv set` in flight on one session);
- visibility: write ack -> every dnsd answers it / every local `kv get`
  returns it, p50/p99 over many writes, through the leader and a follower;
- failover: kill -9 of the leader's node -> first successful write through
  a survivor.

--key gives every dns-raft node -cluster.key (TLS between peers) and etcd
peer TLS. Stops everything at the end. See tests/bench/README.
"""

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cluster"))
sys.dont_write_bytecode = True

import drcluster  # noqa: E402
import etcdcluster  # noqa: E402

VIS_ZONE = "vis.bench."


def run_tool(argv, timeout):
    """Runs a bench tool; (stdout lines, stderr text, rc)."""
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return p.stdout.strip().splitlines(), p.stderr.strip(), p.returncode


def fields_of(line):
    return {k: v for k, v in re.findall(r"(\w+)=(\S+)", line)}


class Kvbench:
    """Runs kvbench; each run gets a key prefix of its own."""

    def __init__(self, path, duration):
        self.path = path
        self.duration = duration
        self.runs = 0

    def run(self, proto, hostport, clients, window=1):
        self.runs += 1
        argv = [self.path, "-P", proto, "-a", hostport, "-c", str(clients),
                "-w", str(window), "-d", str(self.duration),
                "-p", "r%d-" % self.runs]
        out, err, rc = run_tool(argv, self.duration + 90)
        f = fields_of(out[-1]) if out else {}
        if err:
            print("    kvbench %s %s: %s" % (proto, hostport, err),
                  flush=True)
        if rc != 0 or "writes_per_s" not in f:
            return None
        for k in ("writes_per_s", "p50_ms", "p99_ms", "max_ms"):
            f[k] = float(f[k])
        f["bad"] = (int(f["errors"]) + int(f["failed_clients"]) +
                    int(f["unverified"]))
        return f


def median_spread(xs):
    return statistics.median(xs), min(xs), max(xs)


def fmt_ratio(ratios):
    if not ratios:
        return "-"
    m, lo, hi = median_spread(ratios)
    return "%.2f (%.2f-%.2f)" % (m, lo, hi)


def build_type(bin_dir):
    """CMAKE_BUILD_TYPE (and sanitizers) of the build holding bin_dir."""
    cache = os.path.join(os.path.dirname(os.path.abspath(bin_dir)),
                         "CMakeCache.txt")
    try:
        text = open(cache).read()
    except OSError:
        return "unknown build type"
    bt = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", text, re.M)
    san = re.search(r"^DR_SANITIZE:\w+=(ON|1|TRUE)$", text, re.M)
    s = bt.group(1) if bt and bt.group(1) else "no build type"
    return s + (" + ASan/UBSan" if san else "")


def raft_log_flags(node):
    """How the node's raftd opened the Raft log segment it writes (the
    open-N with the lowest N; later ones are prepared ahead), from /proc."""
    segs = []
    for pid in node.pids():
        fd_dir = "/proc/%d/fd" % pid
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
                m = re.search(r"/raft/open-(\d+)$", target)
                if m is None:
                    continue
                with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                    v = int(re.search(r"flags:\s+(\d+)", f.read()).group(1),
                            8)
            except (OSError, AttributeError):
                continue
            segs.append((int(m.group(1)), v))
    if not segs:
        return "?"
    v = min(segs)[1]
    names = [n for n, bit in (("O_DIRECT", os.O_DIRECT),
                              ("O_DSYNC", os.O_DSYNC)) if v & bit]
    return "|".join(names) or "neither O_DSYNC nor O_DIRECT"


def fs_type(path):
    """The file system type of the mount holding path (/proc/mounts)."""
    path = os.path.realpath(path)
    best = ("", "?")
    try:
        with open("/proc/mounts") as f:
            for ln in f:
                parts = ln.split()
                mnt = parts[1]
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) \
                        and len(mnt) >= len(best[0]):
                    best = (mnt, "%s on %s" % (parts[2], parts[0]))
    except OSError:
        pass
    return best[1]


def print_header(args, cluster, etcd_version):
    lead = cluster.leader()
    print("dns-raft bench, %s" % time.strftime("%Y-%m-%d %H:%M:%S"))
    print("machine: %d cpus, %s %s; data in %s (%s)" % (
        os.cpu_count(), platform.system(), platform.release(),
        cluster.base_dir, fs_type(cluster.base_dir)))
    print("dns-raft: %s (%s)" % (os.environ["DR_BIN_DIR"],
                                  build_type(os.environ["DR_BIN_DIR"])))
    print("etcd: %s" % (etcd_version or "not run"))
    if args.key:
        print("mode: KEYED. dns-raft nodes run with -cluster.key (TLS 1.3 "
              "with the cluster key between peers: raft, and the "
              "requests followers relay to the leader);")
        print("      etcd peers use TLS with client certificates "
              "(self-signed P-256). Clients: plain TCP on loopback.")
    else:
        print("mode: PLAIN. No -cluster.key: dns-raft peers talk plain TCP "
              "on loopback; etcd peers plain HTTP. (--key: TLS between "
              "peers)")
    print("durability: dns-raft: c-raft writes its log segments with %s "
          "(its raft/open-* in use, from the leader raftd's /proc "
          "fdinfo): an entry counts once it is on disk;"
          % raft_log_flags(lead))
    print("            etcd: fdatasync of its WAL before entries count "
          "(its default; no --unsafe-no-fsync).")
    sys.stdout.flush()


def dr_target(cluster, target):
    """The node to send to now: the leader, or a follower."""
    lead = cluster.leader()
    if target == "leader":
        return lead
    return [n for n in cluster.nodes if n is not lead][0]


def etcd_target(etcd, target):
    """The etcd member index to send to now."""
    el = etcd.wait_leader()
    return el if target == "leader" else (el + 1) % 3


class Elections:
    """Leaders and Raft terms of dns-raft (and etcd) at a row's start;
    note() says when the row saw an election, so that its "leader" or
    "follower" was not that all along."""

    def __init__(self, cluster, etcd=None):
        self.cluster = cluster
        self.etcd = etcd
        self.start = self._now()

    def _now(self):
        lead = self.cluster.leader()
        st = [lead.name, int(lead.status(5).get("term", 0))]
        if self.etcd is not None:
            el = self.etcd.wait_leader()
            st += ["e%d" % el, int(self.etcd.status(el)["raftTerm"])]
        return st

    def note(self):
        now = self._now()
        out = []
        for i, what in ((0, "dns-raft"), (2, "etcd")):
            if i < len(now) and now[i + 1] != self.start[i + 1]:
                out.append("%s: %d election(s), leader %s -> %s" % (
                    what, now[i + 1] - self.start[i + 1], self.start[i],
                    now[i]))
        return "    (during this row: %s)" % "; ".join(out) if out else ""


def raft_term(cluster):
    return int(cluster.leader().status(5).get("term", 0))


def bench_writes(args, kv, cluster, etcd, res):
    print("\nwrites: N connections, one write in flight each, %d s per run; "
          "%d rounds alternating dns-raft, etcd; medians over the rounds" % (
              args.duration, args.rounds))
    print("  dns-raft: kvbench -P ctl: `session`, then `kv set KEY VALUE` "
          "lines (16-byte values)")
    if etcd is not None:
        print("  etcd:     kvbench -P etcd: HTTP/1.1 keep-alive, POST "
              "/v3/kv/put {key,value} base64 JSON (16-byte values), one "
              "connection per client")
    print("  each client then reads its last key back (consistent read); "
          "bad = error replies + failed clients + keys not read back")
    print("%-9s %7s | %9s %7s %7s | %9s %7s %7s | %-19s | %s" % (
        "target", "clients", "dns-raft", "p50 ms", "p99 ms", "etcd",
        "p50 ms", "p99 ms", "dns-raft/etcd", "bad"))
    print("%-9s %7s | %9s %7s %7s | %9s %7s %7s | %-19s |" % (
        "", "", "writes/s", "", "", "writes/s", "", "", "median (min-max)"),
          flush=True)
    for target in ("leader", "follower"):
        for c in args.clients:
            dr, et = [], []
            node = dr_target(cluster, target)
            ei = etcd_target(etcd, target) if etcd is not None else None
            el = Elections(cluster, etcd)
            for _ in range(args.rounds):
                f = kv.run("ctl", node.ctl_hostport, c)
                if f is not None:
                    dr.append(f)
                if etcd is not None:
                    g = kv.run("etcd", etcd.client_hostport(ei), c)
                    if g is not None:
                        et.append(g)
                    if f is not None and g is not None and \
                            g["writes_per_s"] > 0:
                        f["ratio"] = f["writes_per_s"] / g["writes_per_s"]

            def med(runs, k):
                return statistics.median(r[k] for r in runs) if runs else 0

            ratios = [r["ratio"] for r in dr if "ratio" in r]
            print("%-9s %7d | %9.0f %7.2f %7.2f | %9s %7s %7s | %-19s | "
                  "%d/%s" % (
                      target, c, med(dr, "writes_per_s"), med(dr, "p50_ms"),
                      med(dr, "p99_ms"),
                      "%.0f" % med(et, "writes_per_s") if et else "-",
                      "%.2f" % med(et, "p50_ms") if et else "-",
                      "%.2f" % med(et, "p99_ms") if et else "-",
                      fmt_ratio(ratios), sum(r["bad"] for r in dr),
                      sum(r["bad"] for r in et) if et else "-"),
                  flush=True)
            note = el.note()
            if note:
                print(note, flush=True)
            if len(dr) < args.rounds or (etcd and len(et) < args.rounds):
                print("    (%d of %d dns-raft runs, %d etcd runs gave "
                      "figures)" % (len(dr), args.rounds, len(et)))
            res.setdefault("writes", {})[(target, c)] = (
                med(dr, "writes_per_s"), med(dr, "p99_ms"),
                statistics.median(ratios) if ratios else None)


def bench_pipeline(args, kv, cluster, res):
    print("\npipelined: one `session` connection keeping W `kv set` in "
          "flight, replies read in order, %d s per run (dns-raft only: "
          "etcd's HTTP/1.1 gateway serves one request per connection at a "
          "time, its own clients multiplex gRPC streams)" % args.duration)
    print("%-9s %7s %10s %8s %8s %8s %5s" % (
        "target", "window", "writes/s", "p50 ms", "p99 ms", "max ms",
        "bad"), flush=True)
    for target in ("leader", "follower"):
        for w in args.windows:
            node = dr_target(cluster, target)
            el = Elections(cluster)
            f = kv.run("ctl", node.ctl_hostport, 1, w)
            note = el.note()
            if f is None:
                print("%-9s %7d  (no figures)" % (target, w), flush=True)
                continue
            print("%-9s %7d %10.0f %8.2f %8.2f %8.2f %5d" % (
                target, w, f["writes_per_s"], f["p50_ms"], f["p99_ms"],
                f["max_ms"], f["bad"]), flush=True)
            if note:
                print(note, flush=True)
            res["pipelined"] = max(res.get("pipelined", 0),
                                   f["writes_per_s"])


def bench_visibility(args, visbench, cluster, res):
    cluster.leader().ctl("rr add %s @ 60 SOA ns.%s hostmaster.%s 1 3600 600 86400 60" %
             (VIS_ZONE, VIS_ZONE, VIS_ZONE))
    cluster.wait_dns_all(VIS_ZONE, "SOA", drcluster.soa_answer, 30)
    names = {}
    argv_polls = []
    for n in cluster.nodes:
        names["127.0.0.1:%d" % n.dns_port] = n.name
        names[n.ctl_hostport] = n.name
        argv_polls += ["-D", "127.0.0.1:%d" % n.dns_port,
                       "-K", n.ctl_hostport]
    print("\nvisibility: `rr add` (then `kv set`) through one node, one at "
          "a time; at its ack one thread per node polls that node's dnsd "
          "(UDP A query) / ctld (local `kv get`) %s until it serves the "
          "write. ack -> all %d nodes, %d writes of each kind per row "
          "(0 = already served at the ack)" % (
              "back to back" if args.vis_interval_us == 0 else
              "every %d us" % args.vis_interval_us, len(cluster.nodes),
              args.vis_writes))
    print("%-9s %-4s %8s %8s %8s %8s %5s  %s" % (
        "through", "kind", "ack p50", "p50 ms", "p99 ms", "max ms", "lost",
        "per node p50/p99 ms"), flush=True)
    for target in ("leader", "follower"):
        node = dr_target(cluster, target)
        el = Elections(cluster)
        argv = [visbench, "-W", node.ctl_hostport, "-z", VIS_ZONE,
                "-n", str(args.vis_writes), "-i", str(args.vis_interval_us),
                "-p", "v%s%d-" % (target[0], os.getpid())] + argv_polls
        out, err, rc = run_tool(argv, args.vis_writes * 30 + 60)
        if err:
            print("    visbench: %s" % err, flush=True)
        note = el.note()
        rows = [fields_of(ln) for ln in out]
        for kind in ("dns", "kv"):
            tot = [r for r in rows if r.get("kind") == kind and
                   "node" not in r]
            per = [r for r in rows if r.get("kind") == kind and "node" in r]
            if not tot:
                print("%-9s %-4s  (no figures, rc %d)" % (target, kind, rc))
                continue
            t = tot[0]
            pn = "  ".join("%s %.2f/%.2f" % (
                names.get(r["node"], r["node"]), float(r["p50_ms"]),
                float(r["p99_ms"])) for r in per)
            print("%-9s %-4s %8.2f %8.2f %8.2f %8.2f %5d  %s" % (
                target, kind, float(t["ack_p50_ms"]), float(t["p50_ms"]),
                float(t["p99_ms"]), float(t["max_ms"]),
                int(t["timeouts"]) + int(t["errors"]), pn), flush=True)
            res.setdefault("visibility", {})[(target, kind)] = float(
                t["p99_ms"])
        if note:
            print(note, flush=True)
    print("  lost = writes not served by every node within 5 s, or "
          "refused")


def measure_failover(cluster, round_no):
    lead = cluster.wait_converged(cluster.nodes, timeout=60)
    survivor = [n for n in cluster.nodes if n is not lead][0]
    t0 = time.monotonic()
    lead.kill_nowait()
    key = "failover%d" % round_no

    while True:
        try:
            r = survivor.ctl("kv set %s %d" % (key, round_no), timeout=10)
            if r == "SUCCESS":
                break
        except (OSError, drcluster.CtlError):
            pass
        if time.monotonic() - t0 > 30:
            raise RuntimeError("no successful write 30 s after the kill")
        time.sleep(0.005)
    elapsed = time.monotonic() - t0
    lead.kill()  # reap it
    new_lead = cluster.leader()
    lead.start(lead.last_argv)
    cluster.wait_converged(cluster.nodes, timeout=60)
    return elapsed, lead.name, new_lead.name


def bench_failover(args, cluster, res):
    print("\nfailover: kill -9 of the leader's whole node (supervisor and "
          "daemons) -> first SUCCESS of `kv set` through a survivor (a new "
          "connection per try, every 5 ms)", flush=True)
    times = []
    for i in range(args.failovers):
        t, old, new = measure_failover(cluster, i)
        times.append(t)
        print("  round %d: %.3f s (killed %s, new leader %s)" % (
            i + 1, t, old, new), flush=True)
    m, lo, hi = median_spread(times)
    print("  median: %.3f s (min %.3f, max %.3f)" % (m, lo, hi))
    res["failover"] = m


def print_goals(res):
    """This run's figures next to issue 10's goals (information only)."""
    print("\nissue 10 goals, this run's figures:")
    w = res.get("writes", {})
    for target in ("leader", "follower"):
        if (target, 16) in w:
            wps, p99, ratio = w[(target, 16)]
            print("  16 clients via %-8s >= 4 x etcd, p99 < 10 ms: %s x "
                  "etcd, p99 %.2f ms" % (
                      target, "%.2f" % ratio if ratio else "-", p99))
    for c in sorted({k[1] for k in w}):
        if ("leader", c) in w and ("follower", c) in w and \
                w[("leader", c)][0] > 0:
            print("  follower >= 0.8 x leader writes/s, %2d clients: %.2f" % (
                c, w[("follower", c)][0] / w[("leader", c)][0]))
    if "pipelined" in res:
        print("  one pipelining client >= 20000 writes/s: %.0f" %
              res["pipelined"])
    vis = res.get("visibility", {})
    for target in ("leader", "follower"):
        for kind in ("dns", "kv"):
            if (target, kind) in vis:
                print("  visibility p99 < 50 ms, %-3s via %-8s: %.2f ms" % (
                    kind, target, vis[(target, kind)]))
    if "failover" in res:
        print("  failover median < 0.5 s: %.3f s" % res["failover"])


def int_list(s):
    return [int(x) for x in s.split(",") if x]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", default=os.environ.get("DR_BIN_DIR") or
                    os.path.join(HERE, "..", "..", "build", "bin"),
                    help="dns-raft binaries, kvbench and visbench "
                    "(default: env DR_BIN_DIR, else build/bin)")
    ap.add_argument("--duration", type=int, default=3,
                    help="seconds per kvbench run (default 3)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternating dns-raft/etcd rounds per row "
                    "(default 3)")
    ap.add_argument("--clients", type=int_list, default=[1, 16, 64])
    ap.add_argument("--windows", type=int_list, default=[16, 256],
                    help="pipelining windows (default 16,256; empty: skip)")
    ap.add_argument("--vis-writes", type=int, default=150,
                    help="writes of each kind per visibility row "
                    "(default 150; 0: skip)")
    ap.add_argument("--vis-interval-us", type=int, default=500,
                    help="pause between one poller's queries (default 500;"
                    " 0 spins: 6 pollers back to back starve 2 CPUs, and"
                    " the cluster, of time)")
    ap.add_argument("--failovers", type=int, default=3,
                    help="failover rounds (default 3; 0: skip)")
    ap.add_argument("--key", action="store_true",
                    help="-cluster.key for dns-raft, peer TLS for etcd")
    ap.add_argument("--etcd", default=etcdcluster.ETCD,
                    help="etcd binary (default /usr/bin/etcd, installed "
                    "from Debian's etcd-server when missing and root)")
    ap.add_argument("--no-etcd", action="store_true",
                    help="dns-raft figures only")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary dir (logs, data)")
    return ap.parse_args()


def main():
    args = parse_args()
    os.environ["DR_BIN_DIR"] = os.path.abspath(args.bin_dir)
    drcluster.bin_dir()
    if args.vis_writes:
        drcluster.dnsd_present()
    tools = {}
    for name in ("kvbench", "visbench"):
        tools[name] = os.path.join(os.environ["DR_BIN_DIR"], name)
        if not os.access(tools[name], os.X_OK):
            sys.exit("%s not found (build targets kvbench and visbench, or "
                     "see tests/bench/README)" % tools[name])
    etcd_version = None
    if not args.no_etcd:
        if etcdcluster.ensure_installed(args.etcd):
            etcd_version = "%s %s" % (args.etcd,
                                      etcdcluster.version(args.etcd))
        else:
            print("etcd: %s missing (apt-get install etcd-server); etcd "
                  "columns skipped" % args.etcd, flush=True)

    t_start = time.monotonic()
    cluster = drcluster.Cluster()
    etcd = None
    ok = False
    try:
        if args.key:
            cluster.use_key()
        cluster.start(3)
        if etcd_version:
            etcd = etcdcluster.EtcdCluster(
                os.path.join(cluster.base_dir, "etcd"), tls=args.key,
                etcd=args.etcd).start()
        cluster.wait_converged()
        print_header(args, cluster, etcd_version)
        kv = Kvbench(tools["kvbench"], args.duration)
        res = {}
        term0 = raft_term(cluster)
        bench_writes(args, kv, cluster, etcd, res)
        if args.windows:
            bench_pipeline(args, kv, cluster, res)
        if etcd is not None:
            etcd.stop()
            etcd = None
        if args.vis_writes:
            bench_visibility(args, tools["visbench"], cluster, res)
        term1 = raft_term(cluster)
        print("\ndns-raft elections before the failover part: %d (raft "
              "term %d -> %d)" % (term1 - term0, term0, term1), flush=True)
        if args.failovers:
            bench_failover(args, cluster, res)
        print_goals(res)
        print("\nmode measured: %s; total %.0f s" % (
            "KEYED (-cluster.key, peer TLS)" if args.key else
            "PLAIN (no -cluster.key)", time.monotonic() - t_start))
        ok = True
    finally:
        if etcd is not None:
            etcd.stop()
        cluster.cleanup()
        if not ok:
            print("\n" + cluster.dump_logs(30), file=sys.stderr)
        if args.keep or not ok:
            print("kept %s" % cluster.base_dir)
        else:
            shutil.rmtree(cluster.base_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
