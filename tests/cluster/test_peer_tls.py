"""A cluster with a key: peers prove it over TLS, strangers get nothing.

Three nodes on loopback with -cluster.key: raft connections, the relay of
followers' writes to the leader's raftd and joins run over TLS 1.3 with the
key (external PSK). A client without the key cannot speak to raft at all.
(Key rotation: test_keyed_cluster.)
"""

import socket
import ssl
import struct

import pytest

from drcluster import wait_until


@pytest.fixture(scope="module")
def keyed(module_cluster):
    c = module_cluster
    c.use_key()
    c.start(3)
    return c


def test_writes_through_followers(keyed):
    lead = keyed.wait_converged()
    for n in keyed.nodes:
        if n is not lead:
            assert n.set("via-" + n.name, "yes") == "SUCCESS"
    for n in keyed.nodes:
        for m in keyed.nodes:
            if m is not lead:
                wait_until(lambda: n.get("via-" + m.name) == "yes", 10,
                           "via-%s on %s" % (m.name, n.name))
    for n in keyed.nodes:
        log = open(n.log_path, errors="replace").read()
        assert "raft, listening on %s (TLS with the cluster key)" % \
            n.raft_hostport in log
        assert "cluster key, key id " in log and " in use (" in log


def test_no_text_forwarding(keyed):
    lead = keyed.wait_converged()
    # Followers relay writes raftd to raftd: no text line does that.
    assert lead.ctl("forwarded kv set fw evil") == "ERROR unknown command"
    assert lead.get("fw") == "ERROR not found"
    assert lead.ctl("kv ping") == "PONG"


def craft_handshake_and_crash():
    """c-raft 0.15's own handshake, then the AppendEntries that crashed it
    (one entry of type byte 0)."""
    addr = b"127.0.0.1:1\x00" + b"\x00" * 4
    hs = struct.pack("<QQQ", 1, 77, len(addr)) + addr
    body = struct.pack("<QQQQQ", 1, 0, 0, 0, 1)
    body += struct.pack("<QBxxxI", 1, 0, 8) + b"\x00" * 8
    msg = struct.pack("<QQ", 1, len(body)) + body + b"\x00" * 8
    return hs + msg


def test_raft_port_refuses_strangers(keyed):
    lead = keyed.wait_converged()
    before = {n.name: n.child_pid("raftd") for n in keyed.nodes}
    for n in keyed.nodes:
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", n.raft_port), 2)
            s.sendall(craft_handshake_and_crash())
            # Not TLS: dropped at once (EOF or reset), never answered.
            s.settimeout(4)
            try:
                assert s.recv(100) == b""
            except ConnectionResetError:
                pass
            s.close()
    # TLS with a key of our own: the handshake fails.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", lead.raft_port), 2)
    with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
        with ctx.wrap_socket(raw) as t:
            t.recv(1)
    assert lead.set("after-attack", "1") == "SUCCESS"
    assert {n.name: n.child_pid("raftd") for n in keyed.nodes} == before
    log = open(lead.log_path, errors="replace").read()
    assert "raft, connection 127.0.0.1:" in log and "refused" in log


def test_ctl_port_tls_needs_the_key(keyed):
    lead = keyed.wait_converged()
    # A TLS client without the PSK is dropped; the port keeps serving.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(lead.ctl_addr, 2)
    with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
        with ctx.wrap_socket(raw) as t:
            t.sendall(b"forwarded kv set tls evil\n")
            t.recv(100)
    assert lead.get("tls") == "ERROR not found"
    assert lead.ctl("kv ping") == "PONG"
