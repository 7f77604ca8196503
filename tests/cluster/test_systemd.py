"""The systemd units: checked by systemd-analyze, then run without systemd.

The units are installed with `cmake --install <build> --prefix TMP`, so
their ExecStart lines name TMP/bin/... . test_units_verify runs
`systemd-analyze verify` (and `security --offline`, `systemd-sysusers
--dry-run`) on those files. test_exec_start_cluster takes the exact
ExecStart line of each unit, fills in its specifiers and the variables of
a node's environment file written from the installed example.env, as
systemd would, and runs the three processes of three nodes. Each process
gets NOTIFY_SOCKET pointing at a datagram socket of this test, as systemd
gives a Type=notify service, and is used right after its READY=1, without
retrying: readiness must mean "serves now". The cluster key is a file made
by `dns-raft keygen`, copied where %d (the unit's credentials directory)
points with the mode systemd gives credentials (LoadCredential=), and
`systemctl reload` is the ctld unit's ExecReload line, run as it is.
"""

import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time

import dns.exception
import dns.rcode
import pytest

import drcluster

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PROCS = ("raftd", "dnsd", "ctld")
UNIT = "dns-raft-%s@.service"


def build_dir():
    d = os.environ.get("DR_BUILD_DIR")
    if not d:
        d = os.path.dirname(drcluster.bin_dir())
    assert os.path.isfile(os.path.join(d, "cmake_install.cmake")), (
        "not a cmake build directory: %s" % d)
    return d


@pytest.fixture(scope="module")
def prefix():
    """An install prefix holding what `cmake --install` installs."""
    tmp = tempfile.mkdtemp(prefix="drsd", dir="/tmp")
    try:
        out = subprocess.run(
            ["cmake", "--install", build_dir(), "--prefix", tmp],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        assert out.returncode == 0, out.stdout.decode()
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def unit_dir(prefix):
    return os.path.join(prefix, "lib/systemd/system")


def read_unit(path):
    """{section: {key: [values...]}} of a unit file (no continuations)."""
    out, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = out.setdefault(line.strip("[]"), {})
                continue
            key, _, value = line.partition("=")
            section.setdefault(key.strip(), []).append(value.strip())
    return out


def read_env_file(path):
    """KEY=VALUE lines of an EnvironmentFile (# comments, "quotes")."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            key, sep, value = line.partition("=")
            assert sep, "%s: not KEY=VALUE: %r" % (path, line)
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and \
                    value[0] in "\"'":
                value = value[1:-1]
            env[key.strip()] = value
    return env


def expand_exec(line, specifiers, env):
    """argv of an ExecStart line, expanded the way systemd does it.

    %x specifiers first; then a word that is exactly $VAR becomes the
    value split on blanks (no word at all when empty), and ${VAR} inside
    a word is replaced by the value as it is.
    """
    argv = []
    for word in shlex.split(line):
        word = re.sub(r"%(.)", lambda m: specifiers[m.group(1)], word)
        m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if m:
            argv += env.get(m.group(1), "").split()
            continue
        word = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                      lambda m: env.get(m.group(1), ""), word)
        assert "$" not in word, "unexpanded variable in %r" % word
        argv.append(word)
    return argv


# --------------------------------------------------------------------------
# The unit files themselves


def test_units_verify(prefix):
    units = unit_dir(prefix)
    for p in PROCS:
        ex = read_unit(os.path.join(units, UNIT % p))["Service"]
        # The binary where cmake --install put it: verify checks it.
        assert ex["ExecStart"][0].startswith(
            os.path.join(prefix, "bin", p) + " "), ex["ExecStart"]
    # systemd-analyze loads the instances from the template files; it
    # needs no running systemd. Warnings (unknown keys, bad values) do
    # not change its exit status: any output is a failure.
    names = [os.path.join(units, (UNIT % p).replace("@", "@n0"))
             for p in PROCS] + [os.path.join(units, "dns-raft@n0.target")]
    env = dict(os.environ, SYSTEMD_LOG_LEVEL="notice")
    out = subprocess.run(["systemd-analyze", "verify", "--man=no"] + names,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=env, timeout=60)
    assert out.returncode == 0 and not out.stdout.strip(), \
        out.stdout.decode()
    # The hardening keeps every service's exposure low (1.5-1.7 now).
    for name in names[:3]:
        out = subprocess.run(
            ["systemd-analyze", "security", "--offline=yes",
             "--threshold=25", "--no-pager", name],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
            timeout=60)
        assert out.returncode == 0, out.stdout.decode()
    out = subprocess.run(
        ["systemd-sysusers", "--dry-run",
         os.path.join(prefix, "lib/sysusers.d/dns-raft.conf")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert out.returncode == 0 and b"dns-raft" in out.stdout, \
        out.stdout.decode()


def test_units_settings(prefix):
    """What the issue asks of the units, read back from the files."""
    units = unit_dir(prefix)
    u = {p: read_unit(os.path.join(units, UNIT % p)) for p in PROCS}
    for p in PROCS:
        svc = u[p]["Service"]
        assert svc["Type"] == ["notify"]
        assert svc["Restart"] == ["on-failure"]
        assert svc["User"] == ["dns-raft"]
        assert "DynamicUser" not in svc
        assert svc["EnvironmentFile"] == ["/etc/dns-raft/%i.env"]
        # One data directory per node, shared by its three processes.
        assert svc["StateDirectory"] == ["dns-raft/%i"]
        assert " -data.dir %S/dns-raft/%i " in svc["ExecStart"][0]
        assert " -id %i " in svc["ExecStart"][0]
        for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp",
                    "PrivateDevices", "ProtectKernelTunables",
                    "ProtectKernelModules", "ProtectControlGroups",
                    "RestrictNamespaces", "LockPersonality",
                    "MemoryDenyWriteExecute"):
            assert svc[key] == ["yes"], (p, key)
        assert svc["ProtectSystem"] == ["strict"]
        assert svc["SystemCallArchitectures"] == ["native"]
        assert svc["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
        caps = [] if p != "dnsd" else ["CAP_NET_BIND_SERVICE"]
        assert svc["CapabilityBoundingSet"][-1].split() == caps, p
        assert svc["AmbientCapabilities"][-1].split() == caps, p
        assert u[p]["Unit"]["PartOf"] == ["dns-raft@%i.target"]
    # dnsd and ctld start after raftd, but a raftd restart or failure
    # must not stop them: Wants, never Requires/BindsTo/PartOf raftd.
    for p in ("dnsd", "ctld"):
        unit = u[p]["Unit"]
        assert "dns-raft-raftd@%i.service" in " ".join(unit["After"])
        assert "dns-raft-raftd@%i.service" in " ".join(unit["Wants"])
        for key in ("Requires", "BindsTo", "Requisite"):
            assert key not in unit, (p, key)
    # Reload without a kill binary: dns-raft sends the SIGHUP itself.
    assert u["ctld"]["Service"]["ExecReload"] == [
        os.path.join(prefix, "bin", "dns-raft") + " signal HUP $MAINPID"]
    assert "ExecReload" not in u["raftd"]["Service"]
    assert "ExecReload" not in u["dnsd"]["Service"]
    for p in PROCS:
        svc = u[p]["Service"]
        assert svc["LimitNOFILE"] == ["65536"], p
        # The key as a credential, and as the first -cluster.key (the
        # one in use); a rotation drop-in may add a second one.
        assert svc["LoadCredential"] == [
            "cluster.key:/etc/dns-raft/cluster.key"], p
        assert " -cluster.key %d/cluster.key $DR_KEY_ARGS " in \
            svc["ExecStart"][0], p
        with open(os.path.join(units, UNIT % p)) as f:
            assert "/bin/kill" not in f.read(), p
    # raftd is restarted however often it fails (no start limit).
    assert u["raftd"]["Unit"]["StartLimitIntervalSec"] == ["0"]
    target = read_unit(os.path.join(units, "dns-raft@.target"))
    assert sorted(" ".join(target["Unit"]["Wants"]).split()) == sorted(
        (UNIT % p).replace("@", "@%i") for p in PROCS)


def readme_rotation_drop_in():
    """The key rotation drop-in shown in README.md: (its path, its text)."""
    with open(os.path.join(REPO, "README.md")) as f:
        text = f.read()
    m = re.search(r"^( +)# (/etc/systemd/system/dns-raft-\.service\.d/"
                  r"[\w.-]+\.conf)\n((?:\1\S.*\n)+)", text, re.M)
    assert m, "README.md shows no dns-raft-.service.d drop-in"
    body = "".join(ln[len(m.group(1)):] + "\n"
                   for ln in m.group(3).splitlines())
    return m.group(2), body


def analyze_verify(names):
    env = dict(os.environ, SYSTEMD_LOG_LEVEL="notice")
    out = subprocess.run(["systemd-analyze", "verify", "--man=no"] + names,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=env, timeout=60)
    return out.returncode, out.stdout.decode()


def test_rotation_drop_in(prefix):
    """The README's key rotation drop-in: systemd-analyze reads it for
    each of the three units (a dns-raft-.service.d drop-in applies to
    every dns-raft-* unit) and finds nothing wrong in it, and it gives each
    process a second -cluster.key, after the one in use."""
    path, body = readme_rotation_drop_in()
    tmp = tempfile.mkdtemp(prefix="drsd", dir="/tmp")
    try:
        units = os.path.join(tmp, "system")
        shutil.copytree(unit_dir(prefix), units)
        d = os.path.join(units, os.path.basename(os.path.dirname(path)))
        os.makedirs(d)
        conf = os.path.join(d, os.path.basename(path))
        names = [os.path.join(units, (UNIT % p).replace("@", "@n0"))
                 for p in PROCS]
        # It is read for every unit: a key it does not know is reported
        # once per unit at least.
        with open(conf, "w") as f:
            f.write(body + "NoSuchKey=1\n")
        rc, out = analyze_verify(names)
        assert rc == 0 and out.count("Unknown key 'NoSuchKey'") >= 3, out
        with open(conf, "w") as f:
            f.write(body)
        rc, out = analyze_verify(names)
        assert rc == 0 and not out.strip(), out

        svc = read_unit(conf)["Service"]
        (cred,) = svc["LoadCredential"]
        cred_id, _, source = cred.partition(":")
        assert source.startswith("/etc/dns-raft/"), cred
        (env_line,) = svc["Environment"]
        key, _, value = env_line.strip('"').partition("=")
        assert key == "DR_KEY_ARGS", env_line
        for p in PROCS:
            unit = read_unit(os.path.join(units, UNIT % p))
            creds = "/run/credentials/" + (UNIT % p).replace("@", "@n0")
            spec = {"i": "n0", "S": "/var/lib", "d": creds, "%": "%"}
            args = re.sub(r"%(.)", lambda m: spec[m.group(1)], value)
            env = {k: "x" for k in ("DR_RAFT_ADDR", "DR_CTL_ADDR",
                                    "DR_DNS_ADDR")}
            env["DR_KEY_ARGS"] = args
            argv = expand_exec(unit["Service"]["ExecStart"][0], spec, env)
            keys = [argv[i + 1] for i, a in enumerate(argv)
                    if a == "-cluster.key"]
            assert keys == [creds + "/cluster.key",
                            creds + "/" + cred_id], (p, argv)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------
# The ExecStart lines, run without systemd


class Proc:
    """One unit's process, started from its expanded ExecStart line."""

    def __init__(self, node, name, argv, env, tmp):
        self.node, self.name, self.argv = node, name, argv
        self.log_path = os.path.join(tmp, "%s-%s.log" % (node, name))
        self.sock_path = os.path.join(tmp, "%s-%s.sock" % (node, name))
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.sock_path)
        self.msgs = []
        self.env = dict(env, NOTIFY_SOCKET=self.sock_path)
        self.proc = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=drcluster._pdeathsig)

    def _recv(self, timeout):
        """One datagram's fields; timeout 0 = only one already queued."""
        if timeout == 0:
            data = self.notify.recv(4096, socket.MSG_DONTWAIT)
        else:
            self.notify.settimeout(timeout)
            data = self.notify.recv(4096)
        fields = dict(ln.split("=", 1) for ln in data.decode().splitlines())
        self.msgs.append(fields)
        return fields

    def wait_notify(self, key, timeout=20):
        """Waits for a datagram holding KEY=1; returns its fields."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert self.proc.poll() is None or left > 0, (
                "%s/%s exited %s before %s=1" %
                (self.node, self.name, self.proc.returncode, key))
            try:
                fields = self._recv(max(0.05, min(left, 0.5)))
            except socket.timeout:
                assert time.monotonic() < deadline, (
                    "%s/%s: no %s=1 within %d s" %
                    (self.node, self.name, key, timeout))
                assert self.proc.poll() is None, (
                    "%s/%s exited %s before %s=1" %
                    (self.node, self.name, self.proc.returncode, key))
                continue
            if fields.get(key) == "1":
                return fields

    def pending(self):
        """Datagrams already queued, without waiting."""
        out = []
        while True:
            try:
                out.append(self._recv(0))
            except (BlockingIOError, socket.timeout):
                return out

    def stop(self, timeout=20):
        """SIGTERM as systemctl stop does; the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.notify.close()

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""


def cluster_key(tmp, prefix):
    """etc/dns-raft/cluster.key under tmp, made once by dns-raft keygen."""
    path = os.path.join(tmp, "etc/dns-raft/cluster.key")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        out = subprocess.run(
            [os.path.join(prefix, "bin/dns-raft"), "keygen", path],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
        assert out.returncode == 0, out.stdout.decode()
    return path


def load_credential(tmp, unit_name, cred_id, source):
    """What LoadCredential=ID:SOURCE does before a unit starts: a copy
    of SOURCE at <credentials dir>/ID, mode 0400 (systemd's). Returns the
    credentials directory, the value of %d."""
    d = os.path.join(tmp, "run/credentials", unit_name)
    os.makedirs(d, exist_ok=True)
    dest = os.path.join(d, cred_id)
    shutil.copyfile(source, dest)
    os.chmod(dest, 0o400)
    return d


class SystemdNode:
    """A node as systemd would run it: /etc/dns-raft/<name>.env, the
    three units' ExecStart lines, StateDirectory under var/lib, the
    cluster key as a credential."""

    def __init__(self, tmp, prefix, name, join=None, zone_files=()):
        self.name = name
        self.raft_port = drcluster.free_port()
        self.ctl_port = drcluster.free_port()
        self.dns_port = drcluster.free_port()
        example = read_env_file(
            os.path.join(prefix, "share/doc/dns-raft/example.env"))
        settings = dict(example)
        settings.update(
            DR_RAFT_ADDR="127.0.0.1:%d" % self.raft_port,
            DR_CTL_ADDR="127.0.0.1:%d" % self.ctl_port,
            DR_DNS_ADDR="127.0.0.1:%d" % self.dns_port,
            DR_JOIN_ARGS="-raft.join %s" % join if join else "",
            DR_ZONE_ARGS=" ".join("-zone.file " + z for z in zone_files))
        assert set(settings) == set(example), "example.env lacks a key"
        etc = os.path.join(tmp, "etc/dns-raft")
        os.makedirs(etc, exist_ok=True)
        env_path = os.path.join(etc, name + ".env")
        with open(env_path, "w") as f:
            for k, v in settings.items():
                f.write('%s="%s"\n' % (k, v))
        env = read_env_file(env_path)
        # What systemd does for StateDirectory=dns-raft/%i (%S=/var/lib).
        state_root = os.path.join(tmp, "var/lib")
        self.data_dir = os.path.join(state_root, "dns-raft", name)
        os.makedirs(self.data_dir, mode=0o750)
        key = cluster_key(tmp, prefix)
        base = {k: v for k, v in os.environ.items()
                if k not in ("NOTIFY_SOCKET", "DR_SUPERVISED")}
        base.update(env)
        self.env = env
        self.units = {}
        self.specifiers = {}
        self.procs = {}
        for p in PROCS:
            unit = read_unit(os.path.join(unit_dir(prefix), UNIT % p))
            self.units[p] = unit
            (cred,) = unit["Service"]["LoadCredential"]
            cred_id, _, source = cred.partition(":")
            assert source == "/etc/dns-raft/cluster.key", cred
            creds = load_credential(tmp, (UNIT % p).replace("@", "@" + name),
                                    cred_id, key)
            specifiers = {"i": name, "S": state_root, "d": creds, "%": "%"}
            self.specifiers[p] = specifiers
            (line,) = unit["Service"]["ExecStart"]
            argv = expand_exec(line, specifiers, env)
            assert argv[0] == os.path.join(prefix, "bin", p)
            # Unset settings give no argument, never an empty one.
            assert "" not in argv, argv
            assert ("-raft.join" in argv) == bool(join), argv
            self.procs[p] = Proc(name, p, argv, base, tmp)

    @property
    def ctl_addr(self):
        return ("127.0.0.1", self.ctl_port)

    def ctl(self, line, timeout=10):
        return drcluster.ctl(self.ctl_addr, line, timeout=timeout)

    def dns(self, qname, qtype="A"):
        return drcluster.dns_query(self.dns_port, qname, qtype)

    def start(self, p):
        """Starts one unit's process and waits for its READY=1."""
        proc = self.procs[p]
        proc.start()
        fields = proc.wait_notify("READY")
        assert fields.get("STATUS"), fields
        return proc

    def has_zone(self, zone):
        return any(ln.split()[0] == zone
                   for ln in self.ctl("zone list").splitlines()[:-1])

    def members(self):
        return drcluster.parse_members(self.ctl("cluster members"))

    def addrs(self):
        """RAFT CTL DNS, as `cluster join` takes them."""
        return "127.0.0.1:%d 127.0.0.1:%d 127.0.0.1:%d" % (
            self.raft_port, self.ctl_port, self.dns_port)

    def reload(self, p):
        """systemctl reload: the unit's ExecReload line, with $MAINPID."""
        (line,) = self.units[p]["Service"]["ExecReload"]
        env = dict(self.env, MAINPID=str(self.procs[p].proc.pid))
        argv = expand_exec(line, self.specifiers[p], env)
        out = subprocess.run(argv, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=10)
        assert out.returncode == 0, (argv, out.stdout.decode())


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="drsd", dir="/tmp")
    nodes = []
    yield d, nodes
    bad = []
    for n in nodes:
        for p in n.procs.values():
            p.kill()
            log = p.log()
            print("---- %s/%s (%s)\n%s" % (n.name, p.name, p.log_path,
                                          "\n".join(log.splitlines()[-40:])))
            bad += ["%s/%s: %s" % (n.name, p.name, ln)
                    for ln in log.splitlines()
                    if drcluster.CRASH_RE.search(ln)]
    shutil.rmtree(d, ignore_errors=True)
    assert not bad, "\n".join(bad[:20])


def answers(node, qname, want):
    """True when node's dnsd answers qname A with exactly want."""
    m = node.dns(qname)
    return m.rcode() == dns.rcode.NOERROR and \
        drcluster.rdatas(m, "A") == [want]


def leader(nodes, timeout=20):
    """The node whose raftd says it is the leader."""
    def find():
        for n in nodes:
            try:
                st = drcluster.parse_status(n.ctl("cluster status"))
            except (OSError, drcluster.CtlError):
                continue
            if st.get("role") == "leader":
                return n
        return None
    return drcluster.wait_until(find, timeout, "a leader")


def check_dnsd_serves(node):
    """Right after READY=1: the zone's data, authoritatively, first try."""
    m = node.dns("mail.example.com")
    assert m.rcode() == dns.rcode.NOERROR and drcluster.is_aa(m), m
    assert drcluster.rdatas(m, "A") == ["1.2.3.5"], m


@pytest.mark.timeout(120)
def test_exec_start_cluster(prefix, tmp):
    tmpdir, nodes = tmp
    zone = os.path.join(tmpdir, "zone.txt")
    shutil.copyfile(os.path.join(REPO, "zones/zone.txt"), zone)
    n0 = SystemdNode(tmpdir, prefix, "n0", zone_files=[zone])
    nodes.append(n0)
    join = "127.0.0.1:%d" % n0.ctl_port
    nodes += [SystemdNode(tmpdir, prefix, "n%d" % i, join=join)
              for i in (1, 2)]
    for n in nodes:
        # raftd first (dnsd and ctld are After= it).
        n.start("raftd")
        run = os.path.join(n.data_dir, "run")
        for ep in ("raftd", "pub"):
            st = os.stat(os.path.join(run, ep + ".ipc"))
            assert stat.S_ISSOCK(st.st_mode), ep
        # The credential is the key in use: raft speaks TLS.
        assert "(TLS with the cluster key)" in n.procs["raftd"].log()
        n.start("ctld")
        assert n.ctl("kv ping") == "PONG"
        # ctld loads zone files (n0) or the node joins and catches up:
        # once the zone is in its state.db, dnsd must serve it as soon as
        # it says READY=1.
        drcluster.wait_until(lambda: n.has_zone("example.com."), 30,
                             "example.com on %s" % n.name)
        n.start("dnsd")
        check_dnsd_serves(n)
    members = drcluster.parse_members(n0.ctl("cluster members"))
    assert len(members) == 3, members

    # A write through a follower (forwarded to the leader's ctld over TLS)
    # is answered by every dnsd.
    follower = [n for n in nodes if n is not leader(nodes)][0]
    assert follower.ctl("rr add example.com sysd 60 A 192.0.2.77") == \
        "SUCCESS"
    for n in nodes:
        drcluster.wait_until(lambda: answers(n, "sysd.example.com",
                                             "192.0.2.77"), 10,
                             "sysd.example.com on %s" % n.name)
    assert leader(nodes).ctl("kv set unit systemd") == "SUCCESS"
    for n in nodes:
        drcluster.wait_until(lambda: n.ctl("kv get unit") == "systemd",
                             10, "kv get unit on " + n.name)

    # systemctl restart of one raftd: its dnsd keeps answering
    # throughout, and follows the new raftd.
    n2 = nodes[2]
    assert n2.procs["raftd"].stop() == 0
    assert n2.procs["raftd"].wait_notify("STOPPING", 1)
    assert answers(n2, "sysd.example.com", "192.0.2.77")
    n2.start("raftd")
    assert leader(nodes).ctl("rr add example.com sysd2 60 A 192.0.2.78") \
        == "SUCCESS"
    drcluster.wait_until(lambda: answers(n2, "sysd2.example.com",
                                         "192.0.2.78"), 15,
                         "sysd2.example.com on n2 after its raftd restart")

    # systemctl reload dns-raft-ctld@n0 (ExecReload): ctld reads the zone
    # file again, and every dnsd answers its new record (the file is the
    # whole zone: the records added with rr add above go).
    with open(zone, "a") as f:
        f.write("reloaded 60 A 192.0.2.79\n")
    n0.reload("ctld")
    for n in nodes:
        drcluster.wait_until(lambda: answers(n, "reloaded.example.com",
                                             "192.0.2.79"), 15,
                             "reloaded.example.com on %s" % n.name)
    assert "reloading 1 zone files" in n0.procs["ctld"].log()

    # systemctl stop dns-raft@N.target: ctld and dnsd, then raftd. Each
    # says STOPPING=1 and exits 0; READY=1 was said once per start.
    for p in ("ctld", "dnsd", "raftd"):
        for n in nodes:
            proc = n.procs[p]
            assert proc.stop() == 0, "%s/%s" % (n.name, p)
            assert proc.wait_notify("STOPPING", 1)
            proc.pending()
            ready = [m for m in proc.msgs if m.get("READY") == "1"]
            starts = 2 if (n is n2 and p == "raftd") else 1
            assert len(ready) == starts, (n.name, p, proc.msgs)


@pytest.mark.timeout(60)
def test_dnsd_not_ready_without_state(prefix, tmp):
    """dnsd alone (no state.db yet) answers REFUSED but is not ready; it
    says READY=1 once raftd has created state.db and it loaded it."""
    tmpdir, nodes = tmp
    n = SystemdNode(tmpdir, prefix, "n0")
    nodes.append(n)
    dnsd = n.procs["dnsd"]
    dnsd.start()
    # Serving (REFUSED) and its first state.db load failed, logged.
    def query():
        try:
            return n.dns("example.com", "SOA")
        except dns.exception.Timeout:
            return None

    m = drcluster.wait_until(query, 10, "dnsd to answer")
    assert m.rcode() == dns.rcode.REFUSED, m
    drcluster.wait_until(lambda: "state.db" in dnsd.log(), 10,
                         "dnsd to log its failed state.db load")
    assert not [f for f in dnsd.pending() if f.get("READY")], dnsd.msgs
    n.start("raftd")
    fields = dnsd.wait_notify("READY", 15)
    assert "0 zones" in fields["STATUS"], fields
    for p in ("dnsd", "raftd"):
        assert n.procs[p].stop() == 0, p
