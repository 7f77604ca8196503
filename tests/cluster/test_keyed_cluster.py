"""A cluster with a key on a real network: three nodes, each in a network
namespace of its own, talk raft over TLS at their non-loopback addresses;
an attacker host on the same network, without the key, gets nothing past
the raft ports (the packet that crashed c-raft 0.15 included). Nodes join
and followers forward writes over TLS to the leader's ctld."""

import re
import struct

import pytest

import drcluster
from drcluster import wait_until
from netns import net  # noqa: F401 (the fixture)


def le(*words):
    return b"".join(struct.pack("<Q", w) for w in words)


def craft_handshake(raft_id, address):
    """c-raft 0.15's own handshake: protocol 1, server id, address length
    (padded to 8), the NUL-terminated address."""
    a = address.encode() + b"\0"
    a += b"\0" * (-len(a) % 8)
    return le(1, raft_id, len(a)) + a


def append_entries_type0(term=1):
    """An AppendEntries whose one entry has type byte 0: c-raft 0.15 fails
    to decode the batch, keeps n_entries = 1 with a NULL entries array and
    crashes in uvDecodeMessage (issue 9)."""
    hdr = le(term, 0, 0, 0, 1)              # term, prev index/term, commit, n
    hdr += le(term) + bytes([0, 0, 0, 0]) + struct.pack("<I", 8)  # entry 0
    hdr += le(0)
    return le(1, len(hdr)) + hdr + b"x" * 8  # type 1 = AppendEntries


@pytest.mark.timeout(180)
def test_keyed_cluster_refuses_keyless_peers(net, cluster):
    drcluster.dnsd_present()
    cluster.net = net
    cluster.use_key()
    cluster.start_with_example_zone(3)
    attacker = net.host("attacker")
    nodes = cluster.nodes

    # Raft runs over TLS at the non-loopback addresses: every member is
    # recorded there, and every raftd listens there only.
    lead = cluster.wait_converged()
    rows = {r[0]: r for r in lead.members()}
    for n in nodes:
        assert rows[n.name][1:4] == [n.raft_hostport, n.ctl_hostport,
                                     n.dns_hostport], rows
        assert not n.ip.startswith("127.")
        assert "raft, listening on %s (TLS with the cluster key)" % (
            n.raft_hostport) in n.log_tail(400)

    # It replicates: written on the leader, read on every node; and a
    # follower forwards its writes to the leader over TLS.
    assert lead.set("net", "keyed") == "SUCCESS"
    for n in cluster.nodes:
        if n is not lead:
            assert n.set("fwd-" + n.name, "tls") == "SUCCESS"
            assert lead.get("fwd-" + n.name) == "tls"
    for n in nodes:
        wait_until(lambda: n.get("net") == "keyed", 10, "kv on " + n.name)
    assert lead.ctl("rr add example.com netns 60 A 192.0.2.90") == \
        "SUCCESS"
    # DNS is for everyone: the attacker host asks every node.
    for n in nodes:
        drcluster.wait_dns(n.dns_port, "netns.example.com", "A",
                           drcluster.answers_with("192.0.2.90"), 10,
                           host=n.ip, netns=attacker)

    raftds = {n.name: n.child_pid("raftd") for n in nodes}

    # The attacker: a c-raft handshake claiming to be a member, then the
    # packet of death, to every raft port, 8 times each.
    victim_id = 1 << 40
    packet = craft_handshake(victim_id, "%s:8300" % attacker.ip) + \
        append_entries_type0()
    for n in nodes:
        for _ in range(8):
            got, secs = attacker.exchange((n.ip, n.raft_port), packet)
            # Dropped at once (no TLS ClientHello), and nothing that
            # c-raft would have said came back.
            assert secs < 3, secs
            assert not got.startswith(le(1)), got[:40]

    # Every raftd still runs (the same process), the node logged the
    # refusal, and the cluster still takes writes.
    refused = re.compile(r"warn raftd: raft, connection %s:\d+ refused \(" %
                         re.escape(attacker.ip))
    for n in nodes:
        wait_until(lambda: refused.search(n.log_tail(400)), 10,
                   "%s to log the refused connection" % n.name)
        assert n.child_pid("raftd") == raftds[n.name], n.name
        assert "raftd, down" not in n.log_tail(400), n.name
    lead = cluster.leader()
    assert lead.set("after", "attack") == "SUCCESS"
    for n in nodes:
        wait_until(lambda: n.get("after") == "attack", 10,
                   "kv after the attack on " + n.name)
    st = lead.status()
    assert st["members"] == "3" and st["voters"] == "3", st


def restart_with_keys(cluster, node, keys):
    """Restarts node with -cluster.key for each of keys (in order)."""
    assert node.stop(timeout=30) == 0
    node.extra_args = [a for k in keys for a in ("-cluster.key", k)]
    node.start()


@pytest.mark.timeout(240)
def test_key_rotation_rounds(net, cluster):
    """The README's rotation, node by node in three rounds (accept the new
    key, use it, drop the old one): the cluster takes writes after every
    restart. A node left with the old key alone is then refused."""
    cluster.net = net
    old = cluster.use_key()
    new = cluster.base_dir + "/new.key"
    rc, out, err = drcluster.run_bin(drcluster.bin_dir(), "dns-raft",
                                     ["keygen", new], cluster.base_dir)
    assert rc == 0, err
    cluster.start(3)
    nodes = cluster.nodes
    step = [0]

    def writable():
        step[0] += 1
        lead = cluster.wait_converged(timeout=60)
        key = "rot%d" % step[0]
        assert lead.set(key, "ok") == "SUCCESS"
        for n in nodes:
            wait_until(lambda: n.get(key) == "ok", 10, key + " on " + n.name)

    for keys in ([old, new], [new, old], [new]):
        for n in nodes:
            restart_with_keys(cluster, n, keys)
            writable()
    for n in nodes:
        assert "in use (%s)" % new in n.log_tail(40), n.name

    # The old key alone is no longer the cluster's.
    lone = nodes[2]
    restart_with_keys(cluster, lone, [old])
    refused = re.compile(r"raft, connection %s:\d+ refused \(" %
                         re.escape(lone.ip))
    wait_until(lambda: any(refused.search(n.log_tail(100))
                           for n in nodes[:2]), 20,
               "the others to refuse %s's old key" % lone.name)
    restart_with_keys(cluster, lone, [new])
    writable()
