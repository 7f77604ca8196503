/* DNS over UDP (one SO_REUSEPORT socket per worker thread, recvmmsg and
 * sendmmsg) and TCP (RFC 7766, on the loop thread). */
#ifndef DNSD_LISTEN_H
#define DNSD_LISTEN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cookie.h"
#include "feed.h"
#include "log.h"
#include "rrl.h"
#include "stats.h"

#define LISTEN_WORKERS_MAX 4
/*
 * TCP limits (RFC 7766 6.2.3 leaves them to the server). A connection
 * holds a slot only while it makes progress: its first query must arrive
 * whole within LISTEN_TCP_FIRST_MS of the accept, every later one within
 * LISTEN_TCP_QUERY_MS of its first byte, and between queries it may stay
 * LISTEN_TCP_IDLE_MS after the last complete query was answered. Bytes
 * that do not complete a query never extend a deadline, so a client
 * trickling bytes is closed within a few seconds; one address holds at
 * most LISTEN_TCP_PER_SOURCE of the LISTEN_TCP_MAX slots (an IPv6 host:
 * its /64, see addr_same_source).
 */
#define LISTEN_TCP_MAX        256 /* connections; more are closed at once */
#define LISTEN_TCP_PER_SOURCE 16  /* from one IPv4 address or IPv6 /64 */
#define LISTEN_TCP_FIRST_MS   3000
#define LISTEN_TCP_QUERY_MS   3000
#define LISTEN_TCP_IDLE_MS    10000

struct listen_worker;
struct tcp_conn;

/* What listen_start serves, and how. */
struct listen_config {
	const char *addr;  /* "host:port", empty host = all interfaces */
	unsigned nworkers; /* UDP threads, clamped to 1..LISTEN_WORKERS_MAX */
	unsigned rrl_rate; /* UDP responses/s per source prefix, 0 = off */
	unsigned rrl_slip; /* every Nth limited one is a TC=1, 0 = none */
};

struct listen {
	uv_loop_t *loop;        /* borrowed */
	struct feed_view *view; /* borrowed */
	struct stats *stats;    /* borrowed: shards 0..nworkers-1 for UDP,
	                           shard nworkers for TCP */
	struct listen_worker *workers; /* owned, nworkers entries */
	unsigned nworkers;
	atomic_bool stopping; /* tells the workers to exit */
	uint16_t port;        /* the bound port */
	struct rrl *rrl;      /* owned, NULL when RRL is off */
	bool cookies;         /* false: no SipHash, COOKIE options ignored */
	uint8_t secret[COOKIE_SECRET_LEN]; /* random at every start */
	struct cookie_mac tcp_mac;         /* the loop thread's */
	uv_tcp_t tcp;
	bool tcp_open;
	struct tcp_conn *conns; /* owned: open TCP connections */
	unsigned nconns;
	/* TCP limits: LISTEN_TCP_* at start; tests may lower them. */
	unsigned tcp_per_source, first_ms, query_ms, idle_ms;
	struct dr_ratelog refused_log;   /* "refused" lines, 1 per second */
	uint64_t tally[STATS_NCOUNTERS]; /* TCP, flushed per read */
	uint8_t *out; /* owned: one TCP response, 65535 bytes */
};

/*
 * Binds UDP and TCP on cfg->addr and starts cfg->nworkers UDP threads
 * answering from view, with response rate limiting as cfg says and DNS
 * cookies (a server secret drawn now: see cookie.h). stats needs
 * nworkers + 1 shards. Returns DR_EINVAL for a bad address, DR_EIO if a
 * socket cannot be bound (logged); nothing is left running then.
 */
int listen_start(struct listen *l, uv_loop_t *loop,
                 const struct listen_config *cfg, struct feed_view *view,
                 struct stats *stats);

/*
 * Stops and joins the workers, closes the listener and every TCP
 * connection (the loop finishes the closes).
 */
void listen_stop(struct listen *l);

/* Workers to run on this machine: one per CPU, 1..LISTEN_WORKERS_MAX. */
unsigned listen_default_workers(void);

#endif
