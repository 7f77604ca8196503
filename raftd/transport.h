/* c-raft's transport: authenticated peer connections bridged to c-raft. */
#ifndef RAFTD_TRANSPORT_H
#define RAFTD_TRANSPORT_H

#include <raft.h>
#include <raft/uv.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "flags.h"
#include "log.h"
#include "stream.h"

/*
 * c-raft 0.15 trusts whoever talks to its TCP port: one AppendEntries
 * with an undecodable entry crashes it, its handshake's address is read
 * with strlen, terms are taken as sent. So c-raft never gets a socket:
 * this transport accepts and dials the TCP connections itself, runs TLS
 * with the cluster key on them (common/tls.h; in the clear without a key,
 * when the raft port is bound to loopback only), reads and checks its own
 * preamble, and only then hands c-raft one end of a socketpair whose other
 * end it bridges to the TLS stream. A peer that has not proven the key
 * never reaches c-raft's decoder.
 *
 * The preamble, sent by the dialing side once TLS is up (big endian):
 *
 *   offset  size  field
 *        0     4  magic "drRT"
 *        4     1  version (1)
 *        5     1  channel: 0 c-raft, 1 relay (relay.h: requests for the
 *                 leader from a follower's raftd)
 *        6     2  address length N, 1 .. TRANSPORT_ADDR_MAX
 *        8     8  the dialer's raft id, not 0, not ours
 *       16     N  the dialer's raft address, printable ASCII
 *
 * Bytes after it are c-raft's own stream (its messages), or the relay's
 * frames.
 *
 * Limits: a connection must be authenticated and its preamble complete
 * within TRANSPORT_AUTH_MS of being accepted; at most TRANSPORT_PENDING_MAX
 * such unauthenticated connections at once, TRANSPORT_PENDING_PER_SOURCE
 * from one address, and TRANSPORT_CONNS_MAX authenticated ones.
 */
#define TRANSPORT_MAGIC              "drRT"
#define TRANSPORT_VERSION            1
#define TRANSPORT_HDR_LEN            16
#define TRANSPORT_CHANNEL_RAFT       0
#define TRANSPORT_CHANNEL_RELAY      1
#define TRANSPORT_ADDR_MAX           255
#define TRANSPORT_AUTH_MS            2000
#define TRANSPORT_PENDING_MAX        64
#define TRANSPORT_PENDING_PER_SOURCE 8
#define TRANSPORT_CONNS_MAX          256
/* A bridge stops reading one side while this much waits for the other. */
#define TRANSPORT_QUEUE_HIGH ((size_t)4 << 20)
#define TRANSPORT_QUEUE_LOW  ((size_t)1 << 20)

struct transport_conn;

/*
 * Takes an authenticated relay connection from peer id (stream is owned
 * by the callee from now on; extra holds bytes already read after the
 * preamble, borrowed for the call).
 */
typedef void (*transport_relay_cb)(void *arg, struct dr_stream *stream,
                                   raft_id id, const uint8_t *extra,
                                   size_t len);

struct transport {
	struct raft_uv_transport t; /* what raft_uv_init uses */
	uv_loop_t *loop;            /* borrowed */
	struct dr_tls *tls;         /* borrowed; NULL: in the clear */
	raft_id id;                 /* ours, from init */
	char address[TRANSPORT_ADDR_MAX + 1];
	char bind[DR_ADDR_LEN]; /* listen address */
	uv_tcp_t listener;
	bool listening;
	raft_uv_accept_cb accept_cb;
	raft_uv_transport_close_cb close_cb;
	struct transport_conn *conns; /* every connection not yet closed */
	unsigned npending;            /* accepted, not yet authenticated */
	unsigned nbridged;
	unsigned nopen; /* handles still closing after close */
	bool closing;
	struct dr_ratelog refused_log;
	uint64_t refused;            /* connections refused or failed, in all */
	transport_relay_cb relay_cb; /* NULL: relay connections refused */
	void *relay_arg;
};

/*
 * Sets up the transport interface (listening starts when c-raft asks).
 * bind_address: where to listen ("host:port", empty host = every
 * interface); tls: the "raft" TLS context, or NULL to talk in the clear.
 * DR_EINVAL for an unusable address.
 */
int transport_init(struct transport *tr, uv_loop_t *loop,
                   const char *bind_address, struct dr_tls *tls);

/* Who takes incoming relay connections (before c-raft starts). */
void transport_set_relay(struct transport *tr, transport_relay_cb cb,
                         void *arg);

/*
 * Decodes a preamble at p[0..len): 0 with *id, the address
 * (NUL-terminated, in TRANSPORT_ADDR_MAX + 1 bytes) and *used = its
 * length and *channel; 1 when p holds only the start of one (more bytes
 * needed); or DR_EMALFORMED when it cannot be one (magic, version,
 * channel, length, id 0, an address byte outside 0x21..0x7e).
 */
int transport_preamble_decode(const uint8_t *p, size_t len, raft_id *id,
                              char *address, size_t *used, int *channel);

/*
 * Writes the preamble for id and address into out (TRANSPORT_HDR_LEN +
 * TRANSPORT_ADDR_MAX bytes). Returns its length, or 0 when address does
 * not fit.
 */
size_t transport_preamble_encode(raft_id id, const char *address, int channel,
                                 uint8_t *out);

#endif
