#!/usr/bin/python3
"""Benchmark driver: write throughput/latency and failover time.

Starts a 3-node cluster (temporary dir, free ports on 127.0.0.1), runs
kvbench with 1, 16 and 64 session clients against the leader and against
a follower (whose ctld forwards to the leader), then kills the leader's
whole node with SIGKILL three times and measures the time until the first
successful write through a survivor. Prints figures; not a pass/fail test.

usage: /usr/bin/python3 tests/bench/run.py [--bin-dir BUILD/bin]
           [--kvbench PATH] [--duration S] [--clients 1,16,64]
           [--failovers 3] [--keep]

Needs dns-raft, raftd, ctld and kvbench in the bin dir (default: env
DR_BIN_DIR, else <repo>/build/bin).  Takes about a minute with defaults.
"""

import argparse
import os
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


def run_kvbench(kvbench, node, clients, duration, prefix):
    argv = [kvbench, "-a", node.ctl_hostport, "-c", str(clients),
            "-d", str(duration), "-p", prefix]
    p = subprocess.run(argv, capture_output=True, text=True,
                       timeout=duration + 60)
    line = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    fields = dict(re.findall(r"(\w+)=([\d.]+)", line))
    if p.returncode != 0 or not fields:
        print("  kvbench failed (rc %d): %s %s" % (
            p.returncode, line, p.stderr.strip()), flush=True)
        return None
    if p.stderr.strip():
        print("  kvbench: " + p.stderr.strip(), flush=True)
    return fields


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
        time.sleep(0.01)
    elapsed = time.monotonic() - t0
    lead.kill()  # reap it
    new_lead = cluster.leader()
    lead.start(lead.last_argv)
    cluster.wait_converged(cluster.nodes, timeout=60)
    return elapsed, lead.name, new_lead.name


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", default=os.environ.get("DR_BIN_DIR") or
                    os.path.join(HERE, "..", "..", "build", "bin"))
    ap.add_argument("--kvbench", help="kvbench binary (default: in the "
                    "bin dir)")
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--clients", default="1,16,64")
    ap.add_argument("--failovers", type=int, default=3)
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary dir (logs, data)")
    args = ap.parse_args()

    os.environ["DR_BIN_DIR"] = os.path.abspath(args.bin_dir)
    drcluster.bin_dir()
    kvbench = args.kvbench or os.path.join(os.environ["DR_BIN_DIR"],
                                           "kvbench")
    if not os.access(kvbench, os.X_OK):
        sys.exit("%s not found (build target kvbench, or see README)" %
                 kvbench)
    clients = [int(x) for x in args.clients.split(",")]

    cluster = drcluster.Cluster()
    print("dns-raft bench: bin %s, %d cpus, tmp %s" % (
        os.environ["DR_BIN_DIR"], os.cpu_count(), cluster.base_dir),
        flush=True)
    ok = False
    try:
        cluster.start(3)
        lead = cluster.wait_converged()
        fol = [n for n in cluster.nodes if n is not lead][0]
        print("\nwrites: kv set, one request in flight per client, %ds "
              "each" % args.duration)
        print("%-9s %7s %10s %9s %9s %9s %7s" % (
            "target", "clients", "writes/s", "p50 ms", "p99 ms", "max ms",
            "errors"), flush=True)
        for target, node in (("leader", lead), ("follower", fol)):
            for c in clients:
                f = run_kvbench(kvbench, node, c, args.duration,
                                "%s%d-" % (target[0], c))
                if f is None:
                    continue
                print("%-9s %7d %10s %9s %9s %9s %7s" % (
                    target, c, f["writes_per_s"], f["p50_ms"],
                    f["p99_ms"], f["max_ms"], f["errors"]), flush=True)

        if args.failovers:
            print("\nfailover: kill -9 of the leader's node -> first "
                  "successful kv set through a survivor")
            times = []
            for i in range(args.failovers):
                t, old, new = measure_failover(cluster, i)
                times.append(t)
                print("  round %d: %.3f s (killed %s, new leader %s)" % (
                    i + 1, t, old, new), flush=True)
            print("  median: %.3f s" % statistics.median(times))
        ok = True
    finally:
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
