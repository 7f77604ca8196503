"""Reference DNS servers for comparisons: knotd and nsd (Debian packages).

Each runs in the foreground as the current user, on 127.0.0.1 and a free
port, with its config, state and logs in a temporary directory; nothing
outside that directory is touched. Readiness is awaited with a deadline
(every zone's SOA answers with AA). Used by test_knot_diff.py and by
tests/bench/dnsperf.py.
"""

import os
import shutil
import signal
import subprocess
import tempfile

import dns.flags

import drcluster

KNOTD = "/usr/sbin/knotd"
NSD = "/usr/sbin/nsd"


class RefServer:
    """One server process; zones is a list of (apex, absolute file path)."""

    name = "?"
    binary = None

    def __init__(self, zones, base_dir=None, workers=1, port=None):
        self.zones = [(z.rstrip(".") + ".", os.path.abspath(f))
                      for z, f in zones]
        self.own_dir = base_dir is None
        self.dir = base_dir or tempfile.mkdtemp(prefix="ref", dir="/tmp")
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or drcluster.free_port()
        self.workers = workers
        self.proc = None
        self.log_path = os.path.join(self.dir, self.name + ".log")
        self.log_file = None

    @classmethod
    def available(cls):
        return os.access(cls.binary, os.X_OK)

    def argv(self):
        raise NotImplementedError

    def write_config(self):
        raise NotImplementedError

    def start(self, timeout=60):
        """Starts the server and waits until every zone answers."""
        self.write_config()
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.argv(), stdin=subprocess.DEVNULL, stdout=self.log_file,
            stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=drcluster._pdeathsig)
        for apex, _ in self.zones:
            self.wait_zone(apex, timeout)
        return self

    def wait_zone(self, apex, timeout):
        def ok():
            assert self.proc.poll() is None, (
                "%s exited (rc %s):\n%s" % (self.name, self.proc.returncode,
                                            self.log_tail()))
            m = drcluster.dns_query(self.port, apex, "SOA", timeout=0.2)
            return m.rcode() == 0 and m.flags & dns.flags.AA and m.answer

        def once():
            try:
                return ok()
            except drcluster.dns.exception.Timeout as e:
                raise OSError(str(e))
        drcluster.wait_until(once, timeout, "%s to serve %s" % (
            self.name, apex), interval=0.05)

    def rss_kb(self):
        """Resident memory (kB) of the largest process of the server (nsd
        serves from forked children that share the zone with their
        parent)."""
        pids = [self.proc.pid]
        for kids in drcluster.children_of(self.proc.pid).values():
            pids += kids
        best = 0
        for pid in pids:
            try:
                with open("/proc/%d/status" % pid) as f:
                    for ln in f:
                        if ln.startswith("VmRSS:"):
                            best = max(best, int(ln.split()[1]))
            except FileNotFoundError:
                pass
        return best

    def log_tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                return "\n".join(f.read().decode(
                    "utf-8", "replace").splitlines()[-n:])
        except FileNotFoundError:
            return "(no log)"

    def stop(self, timeout=20):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None

    def cleanup(self, keep=False):
        self.stop()
        if self.own_dir and not keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


class Knotd(RefServer):
    """knotd with a minimal config: no DNSSEC, no journal, no zone sync."""

    name = "knotd"
    binary = KNOTD

    def argv(self):
        return [KNOTD, "-c", os.path.join(self.dir, "knot.conf")]

    def write_config(self):
        lines = [
            "server:",
            "    listen: 127.0.0.1@%d" % self.port,
            "    rundir: %s" % self.dir,
            "    udp-workers: %d" % self.workers,
            "    tcp-workers: %d" % self.workers,
            "    background-workers: 1",
            # dnsd clamps the EDNS payload size to [512, 4096]; knotd's
            # default ceiling is 1232.
            "    udp-max-payload: 4096",
            "database:",
            "    storage: %s" % self.dir,
            "log:",
            "  - target: stderr",
            "    any: info",
            "template:",
            "  - id: default",
            "    storage: %s" % self.dir,
            "    semantic-checks: off",
            "    zonefile-sync: -1",
            "    zonefile-load: whole",
            "    journal-content: none",
            "zone:",
        ]
        for apex, path in self.zones:
            lines += ["  - domain: %s" % apex, "    file: %s" % path]
        with open(os.path.join(self.dir, "knot.conf"), "w") as f:
            f.write("\n".join(lines) + "\n")


class Nsd(RefServer):
    """nsd with response rate limiting off and no database file."""

    name = "nsd"
    binary = NSD

    def argv(self):
        return [NSD, "-d", "-c", os.path.join(self.dir, "nsd.conf")]

    def write_config(self):
        d = self.dir
        lines = [
            "server:",
            "    ip-address: 127.0.0.1@%d" % self.port,
            "    port: %d" % self.port,
            "    server-count: %d" % self.workers,
            "    username: \"\"",
            "    chroot: \"\"",
            "    zonesdir: \"\"",
            "    database: \"\"",
            "    pidfile: %s/nsd.pid" % d,
            "    xfrdfile: %s/xfrd.state" % d,
            "    zonelistfile: %s/zone.list" % d,
            "    xfrdir: %s" % d,
            "    verbosity: 1",
            "    hide-version: yes",
            "    rrl-ratelimit: 0",
            "    rrl-whitelist-ratelimit: 0",
            "remote-control:",
            "    control-enable: no",
        ]
        for apex, path in self.zones:
            lines += ["zone:", "    name: %s" % apex,
                      "    zonefile: %s" % path]
        with open(os.path.join(d, "nsd.conf"), "w") as f:
            f.write("\n".join(lines) + "\n")

