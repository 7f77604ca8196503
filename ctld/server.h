/* The control protocol's TCP side: listener, connections, line framing. */
#ifndef CTLD_SERVER_H
#define CTLD_SERVER_H

#include <stdbool.h>
#include <uv.h>

#include "dispatch.h"
#include "flags.h"

/* A connection that is not a session must send its line within this. */
#define SERVER_LINE_TIMEOUT_MS 10000
/* After the last reply, how long to drain the peer before closing. */
#define SERVER_LINGER_MS 2000
/* Unprocessed input kept per connection; reading pauses when full. */
#define SERVER_INPUT_MAX ((size_t)64 * 1024)
/* Processing pauses while this much output waits for the peer. */
#define SERVER_OUTPUT_MAX ((size_t)256 * 1024)
/* Commands answered in one go before other connections get a turn. */
#define SERVER_BATCH 64
/* The same for the record lines of a zone replace (parsed with ldns). */
#define SERVER_BODY_BATCH 1024

struct conn;

struct server {
	uv_loop_t *loop;             /* borrowed */
	const struct dr_config *cfg; /* borrowed */
	struct dispatch *dispatch;   /* borrowed */
	uv_tcp_t listener;
	struct conn *conns; /* every connection not yet closed */
	unsigned nconns;    /* counted against ctl_max_conns */
	unsigned nrefused;  /* refused, still being answered */
	bool full;          /* refusing since the last warning */
	bool listening;
	bool stopping;
};

/*
 * Listens on cfg->ctl_addr (an empty host means all interfaces). Returns
 * DR_EINVAL for an unusable address, DR_EIO if it cannot listen (logged).
 */
int server_start(struct server *s, uv_loop_t *loop, const struct dr_config *cfg,
                 struct dispatch *dispatch);

/* Stops listening and closes every connection (handles close later). */
void server_stop(struct server *s);

#endif
