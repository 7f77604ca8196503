#!/usr/bin/python3
"""DNS benchmark: dnsd against knotd and nsd, same zone, same queries.

For each zone size (default 10k and 1M records) it:
  1. writes a zone bench.test. of N A records (h0 .. h<N-1>) and a dnsperf
     query file (90% existing names, 10% NXDOMAIN, shuffled);
  2. loads it into a 3-node dns-raft cluster: node id0 runs with
     -zone.file pointing at a one-record placeholder; the big zone is then
     written over it and id0 gets SIGHUP. Prints the load time (SIGHUP until
     all three dnsd answer the last record) and dnsd's memory per record
     (RSS growth of the benchmarked dnsd / N, from /proc); then the same
     at cluster start: a new cluster whose id0 starts with -zone.file on
     the big zone and id1/id2 join (the zone reaches them through Raft);
  3. runs dnsperf against one dnsd (a follower's; every other process of
     the cluster is frozen with SIGSTOP meanwhile), then starts knotd and
     nsd (RRL off) on the same zone file, one at a time, and runs the same
     dnsperf against each; prints their load times, RSS and queries/s, and
     dnsd's ratio to the best of knotd/nsd.
Every server runs on 127.0.0.1 on free ports, in temporary directories, in
the foreground as the current user, and is stopped at the end.

Needs: dnsperf, knotd, nsd (Debian: apt-get install -y dnsperf knot nsd);
dns-raft, raftd, ctld and dnsd in the bin dir (default: env DR_BIN_DIR,
else <repo>/build/bin). Use a Release build for meaningful figures.

usage: /usr/bin/python3 tests/bench/dnsperf.py [--bin-dir DIR]
           [--sizes 10000,1000000] [--duration 10] [--clients 16]
           [--threads 1] [--outstanding 200] [--runs 2] [--workers N]
           [--only dnsd,knotd,nsd] [--keep]
"""

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cluster"))
sys.dont_write_bytecode = True

import drcluster  # noqa: E402
import refservers  # noqa: E402

APEX = "bench.test."
SOA = ("@ 3600 IN SOA ns1.bench.test. hostmaster.bench.test. "
       "%d 7200 3600 1209600 300")


def write_zone(path, n, serial):
    """bench.test. with an SOA, 2 NS, their glue and n A records."""
    with open(path, "w") as f:
        f.write("$ORIGIN %s\n$TTL 3600\n" % APEX)
        f.write(SOA % serial + "\n")
        f.write("@ IN NS ns1\n@ IN NS ns2\nns1 IN A 10.0.0.1\n"
                "ns2 IN A 10.0.0.2\n")
        buf = []
        for i in range(n):
            buf.append("h%d IN A 10.%d.%d.%d\n" % (
                i, (i >> 16) & 255, (i >> 8) & 255, i & 255))
            if len(buf) == 10000:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))


def write_queries(path, n, count=200000, seed=7):
    """count dnsperf lines: 90% existing names, 10% names that do not
    exist."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        for _ in range(count):
            if rng.random() < 0.9:
                f.write("h%d.%s A\n" % (rng.randrange(n), APEX))
            else:
                f.write("nx%d.%s A\n" % (rng.randrange(n), APEX))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


def run_dnsperf(port, qfile, args):
    argv = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", qfile,
            "-l", str(args.duration), "-c", str(args.clients),
            "-T", str(args.threads), "-q", str(args.outstanding)]
    p = subprocess.run(argv, capture_output=True, text=True,
                       timeout=args.duration + 60)
    out = p.stdout
    qps = re.search(r"Queries per second:\s+([\d.]+)", out)
    lost = re.search(r"Queries lost:\s+(\d+)", out)
    codes = re.search(r"Response codes:\s+(.*)", out)
    if p.returncode != 0 or not qps:
        raise RuntimeError("dnsperf failed (rc %d):\n%s\n%s" % (
            p.returncode, out, p.stderr))
    return {"qps": float(qps.group(1)),
            "lost": int(lost.group(1)) if lost else -1,
            "codes": codes.group(1).strip() if codes else "?"}


def best_dnsperf(port, qfile, args):
    """The run with the most queries/s of args.runs runs, after a 2 s
    warm-up run (knotd is slow for a few seconds after a big load)."""
    warm = argparse.Namespace(**vars(args))
    warm.duration = 2
    run_dnsperf(port, qfile, warm)
    runs = [run_dnsperf(port, qfile, args) for _ in range(args.runs)]
    return max(runs, key=lambda r: r["qps"])


def last_name(n):
    return "h%d.%s" % (n - 1, APEX)


def last_ip(n):
    i = n - 1
    return "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)


def wait_last_record(c, n, t0, timeout):
    """{node name: seconds since t0} when each dnsd answered the zone's
    last record."""
    pred = drcluster.answers_with(last_ip(n))
    done = {}
    deadline = t0 + timeout
    while len(done) < len(c.nodes):
        if time.monotonic() > deadline:
            raise RuntimeError("zone of %d records not served by %s after "
                               "%ds" % (n, sorted(set(x.name for x in c.nodes)
                                                  - set(done)), timeout))
        for x in c.nodes:
            if x.name in done:
                continue
            try:
                m = x.dns(last_name(n), "A", timeout=1.0)
                if pred(m):
                    done[x.name] = time.monotonic() - t0
            except (drcluster.dns.exception.Timeout, OSError):
                pass
        time.sleep(0.05)
    return done


def bench_start_load(big_file, n, args, tmp):
    """A new cluster whose node id0 starts with -zone.file big_file; nodes
    id1 and id2 join as soon as id0 leads (they get the zone through Raft:
    log or snapshot). Prints the time from id0's start until all three
    dnsd answer the last record."""
    cdir = os.path.join(tmp, "start%d" % n)
    os.makedirs(cdir)
    c = drcluster.Cluster(base_dir=cdir)
    try:
        t0 = time.monotonic()
        c.start(3, timeout=args.load_timeout,
                first_args=["-zone.file", big_file])
        done = wait_last_record(c, n, t0, args.load_timeout)
        print("  dnsd   load at cluster start (id0 starts with -zone.file, "
              "id1/id2 join -> all 3 dnsd answer): %.2fs (%s)" % (
                  max(done.values()), ", ".join(
                      "%s %.2fs" % kv for kv in sorted(done.items()))))
    finally:
        c.cleanup()


def bench_dnsd(c, zone_file, big_file, n, qfile, args, out):
    """Loads big_file over the placeholder with SIGHUP; dnsperf on a
    follower's dnsd."""
    lead = c.wait_converged()
    target = [x for x in c.nodes if x is not lead][0]
    dnsd_pid = target.child_pid("dnsd")
    rss0 = rss_kb(dnsd_pid)
    shutil.copyfile(big_file, zone_file + ".new")
    os.replace(zone_file + ".new", zone_file)
    t0 = time.monotonic()
    os.kill(c.nodes[0].pid, signal.SIGHUP)
    done = wait_last_record(c, n, t0, args.load_timeout)
    load = max(done.values())
    assert target.child_pid("dnsd") == dnsd_pid, "dnsd restarted"
    rss1 = rss_kb(dnsd_pid)
    per = (rss1 - rss0) * 1024.0 / n
    print("  dnsd   load through the cluster (SIGHUP -> all 3 dnsd answer "
          "the last record): %.2fs (%s)" % (load, ", ".join(
              "%s %.2fs" % kv for kv in sorted(done.items()))))
    print("  dnsd   RSS %d kB -> %d kB: %.0f bytes per record" % (
        rss0, rss1, per))
    # Only the benchmarked dnsd runs during dnsperf (it answers from its
    # copy without raftd): the other processes of the cluster are frozen,
    # as knotd and nsd run alone too.
    frozen = [p for x in c.nodes for p in x.pids() if p != dnsd_pid]
    for p in frozen:
        os.kill(p, signal.SIGSTOP)
    try:
        r = best_dnsperf(target.dns_port, qfile, args)
    finally:
        for p in frozen:
            os.kill(p, signal.SIGCONT)
    out["dnsd"] = r
    print("  dnsd   %10.0f q/s  lost %d  %s" % (r["qps"], r["lost"],
                                                 r["codes"]))


def bench_ref(cls, big_file, qfile, args, out, tmp):
    if not cls.available():
        print("  %-6s missing (apt-get install -y knot nsd)" % cls.name)
        return
    s = cls([(APEX, big_file)], base_dir=os.path.join(tmp, cls.name),
            workers=args.workers)
    try:
        t0 = time.monotonic()
        s.start(timeout=args.load_timeout)
        load = time.monotonic() - t0
        print("  %-6s load %.2fs (start until it answers), RSS %d kB" % (
            cls.name, load, s.rss_kb()))
        r = best_dnsperf(s.port, qfile, args)
        out[cls.name] = r
        print("  %-6s %10.0f q/s  lost %d  %s" % (cls.name, r["qps"],
                                                   r["lost"], r["codes"]))
    finally:
        s.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir")
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--outstanding", type=int, default=200)
    ap.add_argument("--runs", type=int, default=2,
                    help="dnsperf runs per server; the best one counts")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                    help="knotd udp-workers / nsd server-count")
    ap.add_argument("--load-timeout", type=int, default=600)
    ap.add_argument("--only", default="dnsd,knotd,nsd")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if args.bin_dir:
        os.environ["DR_BIN_DIR"] = os.path.abspath(args.bin_dir)
    elif not os.environ.get("DR_BIN_DIR"):
        os.environ["DR_BIN_DIR"] = os.path.join(HERE, "..", "..", "build",
                                                "bin")
    if not shutil.which("dnsperf"):
        sys.exit("dnsperf missing: apt-get install -y dnsperf knot nsd")
    only = set(args.only.split(","))
    tmp = tempfile.mkdtemp(prefix="drdnsperf", dir="/tmp")
    results = {}
    try:
        for n in [int(x) for x in args.sizes.split(",")]:
            print("zone of %d records (dnsperf -l %d -c %d -T %d -q %d, "
                  "best of %d runs; %d workers for knotd/nsd)" % (
                      n, args.duration, args.clients, args.threads,
                      args.outstanding, args.runs, args.workers))
            big = os.path.join(tmp, "bench-%d.zone" % n)
            qfile = os.path.join(tmp, "queries-%d.txt" % n)
            write_zone(big, n, 2026010101)
            write_queries(qfile, n)
            out = results.setdefault(n, {})
            if "dnsd" in only:
                drcluster.dnsd_present()
                cdir = os.path.join(tmp, "c%d" % n)
                os.makedirs(cdir)
                c = drcluster.Cluster(base_dir=cdir)
                zone_file = os.path.join(tmp, "live-%d.zone" % n)
                write_zone(zone_file, 0, 2026010100)
                try:
                    c.start(3, first_args=["-zone.file", zone_file])
                    c.wait_dns_all(APEX, "SOA", drcluster.soa_answer, 60)
                    bench_dnsd(c, zone_file, big, n, qfile, args, out)
                finally:
                    c.cleanup()
                bench_start_load(big, n, args, tmp)
            for cls in (refservers.Knotd, refservers.Nsd):
                if cls.name in only:
                    bench_ref(cls, big, qfile, args, out, tmp)
            refs = [out[k]["qps"] for k in ("knotd", "nsd") if k in out]
            if "dnsd" in out and refs:
                print("  dnsd / best of knotd,nsd = %.2f" % (
                    out["dnsd"]["qps"] / max(refs)))
    finally:
        if args.keep:
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
