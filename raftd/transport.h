/* c-raft's TCP transport with TCP_NODELAY on every connection. */
#ifndef RAFTD_TRANSPORT_H
#define RAFTD_TRANSPORT_H

#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

/*
 * c-raft 0.15 leaves Nagle's algorithm on: a small AppendEntries or its
 * result can wait for the peer's delayed ACK. This wraps raft_uv_tcp and
 * sets TCP_NODELAY on each stream it accepts or connects, then hands the
 * stream to c-raft unchanged. Give &transport->t to raft_uv_init.
 */
struct transport {
	struct raft_uv_transport t;     /* what raft_uv_init uses */
	struct raft_uv_transport inner; /* raft_uv_tcp */
	raft_uv_accept_cb accept_cb;
	raft_uv_transport_close_cb close_cb;
};

/* raft_uv_tcp_init; bind_address NULL = the server address. RAFT_* codes. */
int transport_init(struct transport *tr, uv_loop_t *loop,
                   const char *bind_address);
/* Frees what transport_init allocated (after raft_uv_close). */
void transport_close(struct transport *tr);

#endif
