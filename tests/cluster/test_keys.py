"""Cluster key files: dns-raft keygen, and the checks a node makes of its
-cluster.key files before it starts anything."""

import os
import re
import stat

import pytest

import drcluster
from drcluster import pids_with_arg, wait_until

KEY_RE = re.compile(r"^[0-9a-f]{64}\n$")


def keygen(bins, tmp, path, umask=None):
    """dns-raft keygen path; (rc, stdout, stderr)."""
    old = os.umask(umask) if umask is not None else None
    try:
        return drcluster.run_bin(bins, "dns-raft", ["keygen", path], tmp)
    finally:
        if old is not None:
            os.umask(old)


def start_args(tmp, *keys):
    args = ["-id", "k0",
            "-raft.addr", "127.0.0.1:%d" % drcluster.free_port(),
            "-ctl.addr", "127.0.0.1:%d" % drcluster.free_port(),
            "-dns.addr", "127.0.0.1:%d" % drcluster.free_port(),
            "-data.dir", os.path.join(tmp, "d")]
    for k in keys:
        args += ["-cluster.key", k]
    return args


def refused(bins, tmp, *keys):
    """Starts dns-raft with keys, which must be refused before anything
    is created or started. Returns stderr."""
    rc, out, err = drcluster.run_bin(bins, "dns-raft",
                                     start_args(tmp, *keys), tmp)
    assert rc == 2, (rc, out, err)
    assert not os.path.exists(os.path.join(tmp, "d")), "data dir created"
    assert not pids_with_arg(os.path.join(tmp, "d")), "processes left"
    # One clear line, not a flood or a crash.
    assert len(err.strip().splitlines()) == 1, err
    assert "Sanitizer" not in err and "Segmentation" not in err
    return err


def test_keygen(bins, cluster):
    tmp = cluster.base_dir
    path = os.path.join(tmp, "a.key")
    # Mode 0600 whatever the umask says.
    rc, out, err = keygen(bins, tmp, path, umask=0)
    assert rc == 0, (rc, out, err)
    st = os.stat(path)
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    with open(path) as f:
        key = f.read()
    assert KEY_RE.match(key), key
    m = re.fullmatch(r"%s: new cluster key, key id ([0-9a-f]{16})\n" %
                     re.escape(path), out)
    assert m, out
    assert key[:-1] not in out + err  # the id is not the key

    # Never over an existing file: refused, the key unchanged.
    rc, out2, err2 = keygen(bins, tmp, path)
    assert rc == 1 and "exists" in err2, (rc, out2, err2)
    with open(path) as f:
        assert f.read() == key

    # Two keys differ (256 random bits each).
    other = os.path.join(tmp, "b.key")
    assert keygen(bins, tmp, other)[0] == 0
    with open(other) as f:
        assert f.read() != key

    for args in (["keygen"], ["keygen", path, "extra"], ["keygen", ""]):
        rc, out, err = drcluster.run_bin(bins, "dns-raft", args, tmp)
        assert rc == 2 and "usage" in err, (args, rc, err)
    rc, out, err = keygen(bins, tmp, os.path.join(tmp, "nodir", "c.key"))
    assert rc == 1 and "No such file" in err, (rc, err)


def test_node_logs_key_ids(bins, cluster):
    """The key ids keygen printed are what the node logs (never a key):
    the first key in use, the second accepted."""
    tmp = cluster.base_dir
    ids, keys = [], []
    for name in ("new.key", "old.key"):
        path = os.path.join(tmp, name)
        rc, out, err = keygen(bins, tmp, path)
        assert rc == 0, err
        ids.append(out.split()[-1])
        with open(path) as f:
            keys.append(f.read().strip())
    cluster.use_key(os.path.join(tmp, "new.key"))
    cluster.use_key(os.path.join(tmp, "old.key"))
    cluster.start(1)
    log = cluster.nodes[0].log_tail(200)
    assert "cluster key, key id %s in use (%s)" % (
        ids[0], os.path.join(tmp, "new.key")) in log, log
    assert "cluster key, key id %s also accepted (%s)" % (
        ids[1], os.path.join(tmp, "old.key")) in log, log
    assert "(TLS with the cluster key)" in log, log
    assert not any(k in log for k in keys)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o644, 0o660])
def test_key_readable_by_others_refused(bins, cluster, mode):
    tmp = cluster.base_dir
    path = os.path.join(tmp, "c.key")
    assert keygen(bins, tmp, path)[0] == 0
    os.chmod(path, mode)
    err = refused(bins, tmp, path)
    assert "key file %s: readable or writable by group or others " \
        "(mode %04o); chmod 600 %s" % (path, mode, path) in err, err


def test_bad_key_files_refused(bins, cluster):
    tmp = cluster.base_dir
    good = os.path.join(tmp, "good.key")
    assert keygen(bins, tmp, good)[0] == 0

    err = refused(bins, tmp, os.path.join(tmp, "missing.key"))
    assert "missing.key: cannot open (No such file" in err, err

    for name, text in (("short.key", "abcd\n"), ("empty.key", ""),
                       ("junk.key", "z" * 64 + "\n"),
                       ("long.key", "a" * 65 + "\n"),
                       ("two.key", "a" * 64 + "\n" + "b" * 64 + "\n")):
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        err = refused(bins, tmp, path)
        assert "key file %s: not a key" % path in err, (name, err)

    err = refused(bins, tmp, tmp)
    assert "not a regular file" in err, err
    # The same key twice is no rotation.
    twin = os.path.join(tmp, "twin.key")
    with open(good) as f, open(twin, "w") as g:
        g.write(f.read())
    os.chmod(twin, 0o600)
    err = refused(bins, tmp, good, twin)
    assert "hold the same key" in err, err
    # A third key is one too many.
    third = os.path.join(tmp, "third.key")
    assert keygen(bins, tmp, third)[0] == 0
    other = os.path.join(tmp, "other.key")
    assert keygen(bins, tmp, other)[0] == 0
    rc, out, err = drcluster.run_bin(
        bins, "dns-raft", start_args(tmp, good, other, third), tmp)
    assert rc == 2 and "cluster.key" in err, (rc, err)


def test_daemons_refuse_bad_key(bins, cluster):
    """raftd and ctld run alone (as systemd runs them) refuse a key file
    that others may read, and exit."""
    tmp = cluster.base_dir
    path = os.path.join(tmp, "d.key")
    assert keygen(bins, tmp, path)[0] == 0
    os.chmod(path, 0o640)
    for name in ("raftd", "ctld"):
        rc, out, err = drcluster.run_bin(bins, name, start_args(tmp, path),
                                         tmp)
        assert rc != 0, (name, rc, err)
        assert "readable or writable by group or others" in err, (name, err)
        wait_until(lambda: not pids_with_arg(os.path.join(tmp, "d")), 10,
                   "no %s left" % name)


def test_key_mode_0400_accepted(bins, cluster):
    """A read-only key (what systemd's LoadCredential= gives) is fine."""
    tmp = cluster.base_dir
    path = os.path.join(tmp, "ro.key")
    assert keygen(bins, tmp, path)[0] == 0
    os.chmod(path, 0o400)
    rc, out, err = drcluster.run_bin(
        bins, "dns-raft", start_args(tmp, path) + ["-check"], tmp)
    assert rc == 0, (rc, out, err)
    assert "cluster.key %s (key id" % path in out, out
