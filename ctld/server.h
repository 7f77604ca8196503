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
/*
 * Limits that hold under abuse. A "stranger" is a client not on
 * loopback. A stranger that has no
 * role yet (it must send "auth TOKEN", or finish TLS as a peer) is
 * "unauthenticated": at most SERVER_UNAUTH_MAX of them at once and
 * SERVER_UNAUTH_PER_SOURCE from one address; one address holds at most
 * SERVER_PER_SOURCE connections of strangers; and SERVER_RESERVED of
 * -ctl.max-conns are kept for loopback clients (the local operator),
 * whatever strangers do. (Peers relay writes raftd to raftd, on the raft
 * port.)
 */
#define SERVER_UNAUTH_MAX        128
#define SERVER_UNAUTH_PER_SOURCE 8
#define SERVER_PER_SOURCE        32
#define SERVER_RESERVED          64
/* Refused clients still being told so, at most. */
#define SERVER_REFUSED_MAX 64
/* A whole "zone replace" body must arrive within this of its line. */
#define SERVER_BODY_TIMEOUT_MS 300000
/*
 * A part of a long reply (zone dump) must be taken by the client within
 * this (or -ctl.idle-timeout when shorter), or the connection ends (raftd
 * would drop the dump's snapshot after DUMPS_IDLE_MS anyway); reading a
 * few bytes does not extend it.
 */
#define SERVER_PART_TIMEOUT_MS 20000
/*
 * One budget (-ctl.max-memory) for what every connection holds: zone
 * replace bodies being collected or run (also after their client left,
 * dispatch.h), and replies not yet taken by the client. A body that would
 * pass it is refused ("ERROR busy (memory budget)", the connection ends);
 * replies are held back per connection (SERVER_OUTPUT_MAX, and zone dumps
 * come in chunks) instead.
 */

/* Pipelined commands of one session in flight at most (server.c). */
#define SERVER_PIPELINE_MAX 256
/* Commands answered in one go before other connections get a turn. */
#define SERVER_BATCH 64
/* The same for the record lines of a zone replace (parsed with ldns). */
#define SERVER_BODY_BATCH 1024

struct conn;
struct server;

struct server_listener {
	struct server *s;
	uv_tcp_t tcp;
	bool open;
};

struct server {
	uv_loop_t *loop;             /* borrowed */
	const struct dr_config *cfg; /* borrowed */
	struct dispatch *dispatch;   /* borrowed; its tls secures peers */
	struct server_listener listeners[2]; /* ctl.addr, 127.0.0.1 too */
	struct conn *conns;   /* every connection not yet closed */
	unsigned nconns;      /* counted against ctl_max_conns */
	unsigned nstrangers;  /* of them, strangers */
	unsigned nunauth;     /* of those, without a role yet */
	unsigned nrefused;    /* refused, still being answered */
	size_t mem;           /* bytes the connections hold */
	size_t mem_max;       /* -ctl.max-memory */
	uint64_t refused;     /* connections refused, in all */
	uint64_t over_budget; /* bodies refused for the memory budget */
	struct dr_ratelog refused_log;
	bool stopping;
};

/*
 * Listens on cfg->ctl_addr (an empty host means all interfaces), and on
 * 127.0.0.1 at the same port when that address is neither loopback nor a
 * wildcard, so that the node's own operator always has a door. With a
 * cluster key (dispatch->tls) a connection whose first byte starts TLS is
 * a peer that must prove the key (stream.h); other clients speak the line
 * protocol. Adds the "ctld." lines of cluster status (dispatch.h).
 * Returns DR_EINVAL for an unusable address, DR_EIO if it cannot listen
 * (logged).
 */
int server_start(struct server *s, uv_loop_t *loop, const struct dr_config *cfg,
                 struct dispatch *dispatch);

/* Stops listening and closes every connection (handles close later). */
void server_stop(struct server *s);

#endif
