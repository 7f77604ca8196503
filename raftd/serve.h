/* The req/rep socket: answers ctld's DR_MSG_* requests (brief's protocol). */
#ifndef RAFTD_SERVE_H
#define RAFTD_SERVE_H

#include <stdbool.h>
#include <uv.h>

#include "ackwait.h"
#include "bus.h"
#include "dumps.h"
#include "node.h"
#include "wire.h"

/* Requests handled concurrently; more wait inside nng. */
#define SERVE_CONTEXTS 256

/* Where a reply goes: ctld's request, a peer's relayed one, a retry. */
struct serve_to {
	void (*fn)(void *ctx, const void *msg, size_t len);
	void *ctx;
};

/* How long a request for the leader is tried (serve.c), at least. */
/* dnsd's served report is held at most this long (serve.c). */
#define SERVE_PARK_MS              500
#define SERVE_ROUTE_MS             8000
#define SERVE_ROUTE_MAX_MS         120000
#define SERVE_ROUTE_BACKOFF_MIN_MS 5
#define SERVE_ROUTE_BACKOFF_MAX_MS 200

struct serve_route;
struct relay;
struct relay_reply_to;

struct serve {
	struct dr_bus_server *bus;  /* owned */
	struct node *node;          /* borrowed */
	struct relay *relay;        /* borrowed: to the leader's raftd */
	struct serve_route *routes; /* requests for the leader in flight */
	struct dr_buf out;          /* reply being built */
	struct dumps dumps;         /* zone dumps in chunks */
	struct ackwait ackwait;     /* DR_MSG_SERVED, DR_MSG_WAIT */
	unsigned inflight;          /* requests waiting for raft */
	struct serve_to parked;     /* dnsd's last report, held: */
	bool have_parked;           /* while nothing waits (serve.c) */
	uv_timer_t park;
	bool draining; /* new requests get ERROR */
};

/*
 * Listens on url. Requests for the leader (writes, consistent reads,
 * membership changes) are relayed through relay while this node is not
 * the leader. DR_EIO on failure (logged).
 */
int serve_start(struct serve *s, uv_loop_t *loop, const char *url,
                struct node *node, struct relay *relay);

/*
 * Serves a request a follower relayed (a relay_serve_cb): run once here,
 * "not leader" if this node does not lead.
 */
void serve_relayed(void *arg, const void *msg, size_t len,
                   struct relay_reply_to *to);
/*
 * A leader is known (again, or a new one): requests for the leader that
 * wait to try again try at once, not after their backoff.
 */
void serve_leader_known(struct serve *s);
/* From now on every new request is answered "ERROR shutting down". */
void serve_drain(struct serve *s);
/*
 * Closes the socket. Call after the node has closed, so that every
 * request waiting for raft has been answered.
 */
void serve_stop(struct serve *s);

#endif
