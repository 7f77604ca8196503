#!/usr/bin/python3
"""Snapshot stalls: loop and heartbeat gaps while raftd takes snapshots.

For each database size (kv entries) it starts a 3-node dns-raft cluster
with a low -raft.snapshot-threshold, fills kv through the leader (pipelined
`kv set`), then for --duration seconds drives writes with kvbench through
the leader while one thread per node polls `cluster members` every 2 ms.
It prints, figures not pass/fail:

- writes: kvbench writes/s, p50, p99 and max latency (ms);
- loop: per role, p99 and max of the `cluster members` round trip (raftd
  answers it on its loop, so a stalled loop shows here);
- heartbeat gap: on each follower, p99 and max of the leader's contact
  age it reports (ms since it last heard from the leader);
- snapshots taken by the leader during the run and the image size.

Run it once per build to compare, e.g. before and after a change:
  /usr/bin/python3 tests/bench/snapstall.py --bin-dir build-rel/bin
See tests/bench/README.
"""

import argparse
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cluster"))
sys.dont_write_bytecode = True

import drcluster  # noqa: E402


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100.0))]


def fill(node, n, value_size, batch=2000):
    pad = "v" * value_size
    with drcluster.Session(node.ctl_addr, timeout=120) as s:
        for base in range(0, n, batch):
            m = min(batch, n - base)
            for i in range(base, base + m):
                s.send("kv set fill%d %s" % (i, pad))
            for _ in range(m):
                r = s.readline(120)
                if r != "SUCCESS":
                    raise RuntimeError("fill: %r" % r)


class Poller(threading.Thread):
    """Polls `cluster members` on node until stopped: round trips, and
    the leader's contact age (followers)."""

    def __init__(self, node):
        super().__init__(daemon=True)
        self.node = node
        self.rtt, self.contact = [], []
        self.errors = 0
        self.stop_flag = threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            t0 = time.monotonic()
            try:
                text = self.node.ctl("cluster members", 10)
            except Exception:
                self.errors += 1
                continue
            self.rtt.append((time.monotonic() - t0) * 1000)
            time.sleep(0.002)
            for ln in text.splitlines():
                f = ln.split()
                if len(f) > 6 and f[5] == "leader" and f[6].isdigit():
                    self.contact.append(int(f[6]))


def taken(node):
    """(bytes, ms on the loop or None) of each snapshot in node's log
    (builds before snapshots went off the loop do not log the time)."""
    with open(node.log_path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    return [(int(b), float(ms) if ms else None) for b, ms in re.findall(
        r"snapshot, taken at index \d+ \((?:state applied index \d+, )?"
        r"(\d+) bytes(?:, ([\d.]+) ms on the loop)?", text)]


def run_size(args, n):
    c = drcluster.Cluster(extra_args=[
        "-raft.snapshot-threshold", str(args.threshold),
        "-raft.snapshot-trailing", str(args.threshold // 4)])
    try:
        c.start(3)
        lead = c.wait_converged()
        t0 = time.monotonic()
        fill(lead, n, args.value_size)
        fill_s = time.monotonic() - t0
        before = len(taken(lead))
        pollers = [Poller(x) for x in c.nodes]
        for p in pollers:
            p.start()
        out = subprocess.run(
            [os.path.join(args.bin_dir, "kvbench"), "-a", lead.ctl_hostport,
             "-c", str(args.clients), "-d", str(args.duration)],
            capture_output=True, text=True, timeout=args.duration + 120)
        for p in pollers:
            p.stop_flag.set()
        for p in pollers:
            p.join(30)
        kv = dict(re.findall(r"(\w+)=(\S+)", out.stdout))
        if out.returncode != 0 or "writes_per_s" not in kv:
            print("    kvbench failed (%d): %s" % (out.returncode,
                                                 out.stderr.strip()))
        snaps = taken(lead)[before:]
        loop = [ms for _, ms in snaps if ms is not None]
        print("  %d entries (filled in %.1f s): %d snapshots by the leader "
              "during the run, image %s MB, on its loop max %s ms" % (
                  n, fill_s, len(snaps),
                  "%.1f" % (snaps[-1][0] / 1e6) if snaps else "-",
                  "%.1f" % max(loop) if loop else "(not logged)"))
        print("    writes (kvbench -c %d): %s/s p50 %s p99 %s max %s ms, "
              "errors %s" % (args.clients, kv.get("writes_per_s"),
                             kv.get("p50_ms"), kv.get("p99_ms"),
                             kv.get("max_ms"), kv.get("errors")))
        for p in pollers:
            role = "leader" if p.node is lead else "follower"
            line = "    %-4s %-8s loop rtt p99 %6.1f max %6.1f ms (%d polls)" % (
                p.node.name, role, pct(p.rtt, 99), max(p.rtt or [0]),
                len(p.rtt))
            if p.contact:
                line += "; heartbeat gap p99 %d max %d ms" % (
                    pct(p.contact, 99), max(p.contact))
            print(line)
    finally:
        c.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", default=os.environ.get("DR_BIN_DIR",
                                                     "build/bin"))
    ap.add_argument("--sizes", default="50000,200000")
    ap.add_argument("--threshold", type=int, default=2048)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--value-size", type=int, default=100)
    args = ap.parse_args()
    os.environ["DR_BIN_DIR"] = os.path.abspath(args.bin_dir)
    print("snapstall: %s, -raft.snapshot-threshold %d, %d-byte values, "
          "%g s of writes per size" % (args.bin_dir, args.threshold,
                                        args.value_size, args.duration))
    for n in (int(x) for x in args.sizes.split(",")):
        run_size(args, n)


if __name__ == "__main__":
    main()
