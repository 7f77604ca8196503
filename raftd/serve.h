/* The req/rep socket: answers ctld's DR_MSG_* requests (brief's protocol). */
#ifndef RAFTD_SERVE_H
#define RAFTD_SERVE_H

#include <stdbool.h>
#include <uv.h>

#include "bus.h"
#include "dumps.h"
#include "node.h"
#include "wire.h"

/* Requests handled concurrently; more wait inside nng. */
#define SERVE_CONTEXTS 256

struct serve {
	struct dr_bus_server *bus; /* owned */
	struct node *node;         /* borrowed */
	struct dr_buf out;         /* reply being built */
	struct dumps dumps;        /* zone dumps in chunks */
	unsigned inflight;         /* requests waiting for raft */
	bool draining;             /* new requests get ERROR */
};

/* Listens on url. DR_EIO on failure (logged). */
int serve_start(struct serve *s, uv_loop_t *loop, const char *url,
                struct node *node);
/* From now on every new request is answered "ERROR shutting down". */
void serve_drain(struct serve *s);
/*
 * Closes the socket. Call after the node has closed, so that every
 * request waiting for raft has been answered.
 */
void serve_stop(struct serve *s);

#endif
