/* Requests for the leader, sent by a follower's raftd over one connection. */
#ifndef RAFTD_RELAY_H
#define RAFTD_RELAY_H

#include <raft.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "stream.h"

/*
 * A follower does not send ctld's writes (or consistent reads, or
 * membership changes) to the leader's ctld as text any more: its raftd
 * passes the request it got from ctld, the same IPC message (wire.h,
 * with the command encoded once by the ctld that received it and its
 * request id), to the leader's raftd, and relays the reply back. One
 * connection per peer, kept open, in TLS with the cluster key like the
 * raft connections (it is a raft-port connection whose preamble names
 * the relay channel, transport.h). Requests are multiplexed, each frame
 * (both ways, big endian):
 *
 *   offset  size  field
 *        0     4  length L of what follows, 8 .. RELAY_FRAME_MAX
 *        4     8  tag: the requester's, echoed by the reply
 *       12 L - 8  a whole IPC message: the request, or its DR_MSG_REPLY
 *
 * The leader answers every request once, in any order.
 */
#define RELAY_FRAME_MAX    ((uint32_t)(256u * 1024 * 1024 + 64))
#define RELAY_INFLIGHT_MAX 65536
#define RELAY_CONNECT_MS   2000
#define RELAY_QUEUE_HIGH   ((size_t)8 << 20)

struct relay;
struct relay_peer;
struct relay_server_conn;

/*
 * The answer to relay_request: rv 0 with the reply message (borrowed for
 * the call); DR_EIO when the request was never written to the peer (it
 * was not received: safe to send elsewhere); DR_ECLOSED or DR_ETIMEDOUT
 * when it was written and no reply came (it may have been received).
 */
typedef void (*relay_cb)(void *arg, int rv, const void *reply, size_t len);

/* Where a served request's reply goes (relay_reply). */
struct relay_reply_to {
	struct relay_server_conn *conn; /* NULL once the connection closed */
	uint64_t tag;
};

/*
 * Serves a request a peer relayed: must call relay_reply exactly once
 * with to (which it owns until then).
 */
typedef void (*relay_serve_cb)(void *arg, const void *msg, size_t len,
                               struct relay_reply_to *to);

struct relay {
	uv_loop_t *loop;    /* borrowed */
	struct dr_tls *tls; /* borrowed; NULL: the clear (loopback) */
	raft_id self;       /* our raft id and address, for preambles */
	char address[256];
	relay_serve_cb serve_cb;
	void *serve_arg;
	struct relay_peer *peers;        /* outgoing, one per peer */
	struct relay_server_conn *conns; /* incoming */
	uv_timer_t tick;                 /* request deadlines */
	uint64_t next_tag;
	bool closing;
};

/*
 * Sets the relay up; serve_cb answers what peers relay to us. DR_EIO on
 * failure.
 */
int relay_init(struct relay *r, uv_loop_t *loop, struct dr_tls *tls,
               raft_id self, const char *address, relay_serve_cb serve_cb,
               void *serve_arg);

/* Closes every connection; pending requests end with DR_ECLOSED. */
void relay_close(struct relay *r);

/*
 * Sends the IPC message msg (copied) to peer (its raft id and raft
 * address), over the connection kept to it (made if needed). cb runs
 * exactly once, never from inside this call, at the latest after
 * timeout_ms.
 */
void relay_request(struct relay *r, raft_id peer, const char *address,
                   const void *msg, size_t len, unsigned timeout_ms,
                   relay_cb cb, void *arg);

/*
 * Takes an incoming relay connection (transport_relay_cb): extra holds
 * what came after its preamble.
 */
void relay_accept(struct relay *r, struct dr_stream *stream, raft_id peer,
                  const uint8_t *extra, size_t len);

/* Sends the reply to a served request and releases to. */
void relay_reply(struct relay_reply_to *to, const void *msg, size_t len);

#endif
