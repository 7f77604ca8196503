"""A 3-node etcd cluster on loopback for the benchmarks (Debian's etcd-server).

Each member runs /usr/bin/etcd in the foreground in a session of its own,
on free 127.0.0.1 ports, its data and log under base_dir. With tls=True
the peers talk TLS with client-certificate checks (a self-signed
certificate made with the openssl command); clients always use plain
HTTP on loopback, as dns-raft's ctl does. Used by tests/bench/run.py.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cluster"))

import drcluster  # noqa: E402

ETCD = "/usr/bin/etcd"


def ensure_installed(path=ETCD):
    """True when the etcd binary is there; as root, installs Debian's
    etcd-server first if it is not (printed). False when that fails."""
    if os.access(path, os.X_OK):
        return True
    if path != ETCD or os.geteuid() != 0:
        return False
    print("etcd: installing Debian's etcd-server (apt-get install -y "
          "etcd-server)", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    rc = subprocess.call(["apt-get", "install", "-y", "-q",
                          "--no-install-recommends", "etcd-server"],
                         stdout=subprocess.DEVNULL, env=env)
    return rc == 0 and os.access(path, os.X_OK)


def version(path=ETCD):
    out = subprocess.run([path, "--version"], capture_output=True,
                         text=True, timeout=20).stdout
    for ln in out.splitlines():
        if ln.startswith("etcd Version:"):
            return ln.split(":", 1)[1].strip()
    return "unknown"


class EtcdCluster:
    """n etcd members; start() waits until they agree on a leader."""

    def __init__(self, base_dir, n=3, tls=False, etcd=ETCD):
        self.base_dir = base_dir
        self.etcd = etcd
        self.tls = tls
        self.names = ["e%d" % i for i in range(n)]
        self.client_ports = [drcluster.free_port() for _ in range(n)]
        self.peer_ports = [drcluster.free_port() for _ in range(n)]
        self.procs = []
        self.logs = []
        os.makedirs(base_dir, exist_ok=True)

    def client_hostport(self, i):
        return "127.0.0.1:%d" % self.client_ports[i]

    def _peer_url(self, i):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http",
                                      self.peer_ports[i])

    def _make_cert(self):
        """A self-signed P-256 certificate for 127.0.0.1, used by every
        peer as its own and as the CA it trusts."""
        crt = os.path.join(self.base_dir, "peer.crt")
        key = os.path.join(self.base_dir, "peer.key")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", "/CN=etcd-bench", "-keyout", key, "-out", crt,
             "-addext", "subjectAltName=IP:127.0.0.1",
             "-addext", "extendedKeyUsage=serverAuth,clientAuth"],
            check=True, capture_output=True, timeout=30)
        return crt, key

    def argv(self, i):
        cluster = ",".join("%s=%s" % (self.names[j], self._peer_url(j))
                           for j in range(len(self.names)))
        client = "http://" + self.client_hostport(i)
        a = [self.etcd, "--name", self.names[i],
             "--data-dir", os.path.join(self.base_dir, self.names[i]),
             "--listen-client-urls", client,
             "--advertise-client-urls", client,
             "--listen-peer-urls", self._peer_url(i),
             "--initial-advertise-peer-urls", self._peer_url(i),
             "--initial-cluster", cluster,
             "--initial-cluster-token", "bench-%d" % os.getpid(),
             "--initial-cluster-state", "new",
             "--logger", "zap", "--log-outputs", "stderr",
             "--log-level", "warn"]
        if self.tls:
            a += ["--peer-cert-file", self.crt, "--peer-key-file", self.key,
                  "--peer-trusted-ca-file", self.crt,
                  "--peer-client-cert-auth"]
        return a

    def start(self, timeout=60):
        if self.tls:
            self.crt, self.key = self._make_cert()
        for i in range(len(self.names)):
            log = open(os.path.join(self.base_dir, self.names[i] + ".log"),
                       "ab")
            self.logs.append(log)
            self.procs.append(subprocess.Popen(
                self.argv(i), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=drcluster._pdeathsig))
        self.wait_leader(timeout)
        return self

    def wait_leader(self, timeout=30):
        """Index of the leader, once every member names the same one."""
        # A list, as index 0 would read as "not yet" to wait_until.
        return drcluster.wait_until(
            lambda: [i for i in [self.leader()] if i is not None], timeout,
            "etcd members to agree on a leader")[0]

    def _post(self, i, path, body, timeout=2.0):
        req = urllib.request.Request(
            "http://%s%s" % (self.client_hostport(i), path),
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())

    def status(self, i):
        """Member i's /v3/maintenance/status reply (a dict)."""
        return self._post(i, "/v3/maintenance/status", {})

    def leader(self):
        """Index of the leader once every member names the same one,
        else None."""
        for p in self.procs:
            if p.poll() is not None:
                raise AssertionError("etcd exited with %s (logs in %s)" % (
                    p.returncode, self.base_dir))
        sts = [self.status(i) for i in range(len(self.names))]
        leaders = {s.get("leader", "0") for s in sts}
        if len(leaders) != 1 or "0" in leaders:
            return None
        lead = leaders.pop()
        for i, s in enumerate(sts):
            if s["header"]["member_id"] == lead:
                return i
        return None

    def stop(self, timeout=20):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)
        for log in self.logs:
            log.close()
        self.procs = []
        self.logs = []
