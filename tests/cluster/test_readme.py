"""README.md's walk-through, run as written against a real 3-node cluster.

The commands are read from the README itself, so the README cannot drift
from the code: the three node command lines give the nodes' flags, every
"$ command" line is run with bash and its output compared with the lines
the README shows under it, and the other command lines of the section
(sqlite3) must succeed. Only what makes the run hermetic is substituted:
the well-known ports 8300-8302/8500-8502/8600-8602 become free ports, the
zone file and data directory become temporary copies, and "pkill -SIGHUP
dns-raft" signals this test's nodes only. Reads are local to the node
asked, and a write takes a moment to reach every node, so reads (kv get,
dig) are retried until they match or 10 s pass; writes run once.
"""

import os
import re
import shutil
import subprocess

import pytest

from drcluster import Cluster, ROOT, dnsd_present, wait_until

README = os.path.join(ROOT, "README.md")


def walkthrough():
    """(node command lines, [(command, expected lines or None)]) of the
    README's Walk-through section."""
    text = open(README).read()
    m = re.search(r"^## Walk-through\n(.*?)^## ", text, re.S | re.M)
    assert m, "README.md has no Walk-through section"
    nodes, steps = [], []
    block = [l[4:] for l in m.group(1).splitlines() if l.startswith("    ")]
    for line in block:
        if line.startswith("build/bin/dns-raft "):
            nodes.append(line.split()[1:])
        elif line.startswith("$ "):
            steps.append([line[2:], []])
        elif line.startswith("sqlite3 "):
            steps.append([line, None])
        elif steps and steps[-1][1] is not None:
            steps[-1][1].append(line)
    return nodes, steps


def flags(argv):
    return dict(zip(argv[0::2], argv[1::2]))


@pytest.fixture
def readme_cluster():
    dnsd_present()
    nodes, steps = walkthrough()
    assert len(nodes) == 3, nodes
    f = [flags(a) for a in nodes]
    # The shape the substitutions below rely on.
    assert [x["-id"] for x in f] == ["id0", "id1", "id2"]
    assert f[0]["-zone.file"] == "zones/zone.txt" and "-raft.join" not in f[0]
    assert f[1]["-raft.join"] == f[2]["-raft.join"] == ":8500"
    c = Cluster().start_with_example_zone()
    yield c, f, steps
    for n in c.nodes:
        n.kill()
    shutil.rmtree(c.base_dir, ignore_errors=True)


def substitute(cmd, c, f):
    ports = {}
    for i, n in enumerate(c.nodes):
        ports[int(f[i]["-raft.addr"].lstrip(":"))] = n.raft_port
        ports[int(f[i]["-dns.addr"].lstrip(":"))] = n.dns_port
        ports[8500 + i] = n.ctl_port
    cmd = re.sub(r"\b(8[356]0[0-9])\b",
                 lambda m: str(ports.get(int(m.group(1)), m.group(1))), cmd)
    cmd = cmd.replace("zones/zone.txt", c.zone)
    cmd = cmd.replace("data/id0/", c.nodes[0].data_dir + "/")
    cmd = cmd.replace("pkill -SIGHUP dns-raft",
                      "kill -HUP %d" % c.nodes[0].pid)
    return cmd


def run(cmd):
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True,
                       timeout=20)
    return p.returncode, p.stdout.splitlines()


@pytest.mark.timeout(180)
def test_readme_walkthrough(readme_cluster):
    c, f, steps = readme_cluster
    assert len(steps) >= 8, steps
    for cmd, want in steps:
        real = substitute(cmd, c, f)
        if want is None:  # shown without output: must succeed
            rc, out = run(real)
            assert rc == 0, (cmd, real, out)
            continue
        if cmd.startswith("dig ") or "kv get" in cmd:
            # Reads are local to the node asked: another node answers a
            # write once it has applied it (milliseconds later).
            last = []

            def matches():
                rc, out = run(real)
                last[:] = out
                return out == want

            wait_until(matches, 10, "%r to print %r (last %r)" % (
                cmd, want, last))
            continue
        rc, out = run(real)
        assert out == want, (cmd, real, rc, out)
