/* DNS over UDP (one SO_REUSEPORT socket per worker thread, recvmmsg and
 * sendmmsg) and TCP (RFC 7766, on the loop thread). */
#ifndef DNSD_LISTEN_H
#define DNSD_LISTEN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "feed.h"
#include "stats.h"

#define LISTEN_WORKERS_MAX 4
#define LISTEN_TCP_MAX     256   /* connections; more are closed at once */
#define LISTEN_TCP_IDLE_MS 10000 /* RFC 7766 6.2.3: idle timeout */

struct listen_worker;
struct tcp_conn;

struct listen {
	uv_loop_t *loop;        /* borrowed */
	struct feed_view *view; /* borrowed */
	struct stats *stats;    /* borrowed: shards 0..nworkers-1 for UDP,
	                           shard nworkers for TCP */
	struct listen_worker *workers; /* owned, nworkers entries */
	unsigned nworkers;
	atomic_bool stopping; /* tells the workers to exit */
	uint16_t port;        /* the bound port */
	uv_tcp_t tcp;
	bool tcp_open;
	struct tcp_conn *conns; /* owned: open TCP connections */
	unsigned nconns;
	unsigned idle_ms;
	uint64_t tally[STATS_NCOUNTERS]; /* TCP, flushed per read */
	uint8_t *out; /* owned: one TCP response, 65535 bytes */
};

/*
 * Binds UDP and TCP on addr ("host:port", empty host = all interfaces)
 * and starts nworkers
 * UDP threads (1..LISTEN_WORKERS_MAX) answering from view. stats needs
 * nworkers + 1 shards. Returns DR_EINVAL for a bad address, DR_EIO if a
 * socket cannot be bound (logged); nothing is left running then.
 */
int listen_start(struct listen *l, uv_loop_t *loop, const char *addr,
                 unsigned nworkers, struct feed_view *view,
                 struct stats *stats);

/*
 * Stops and joins the workers, closes the listener and every TCP
 * connection (the loop finishes the closes).
 */
void listen_stop(struct listen *l);

/* Workers to run on this machine: one per CPU, 1..LISTEN_WORKERS_MAX. */
unsigned listen_default_workers(void);

#endif
