/* dnsd's counters: per-thread query counters, feed gauges, the STATUS reply. */
#ifndef DNSD_STATS_H
#define DNSD_STATS_H

#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "query.h"
#include "wire.h"

/* Counters of the query path, one set per answering thread. */
enum stats_counter {
	STATS_QUERIES, /* packets received (answered or dropped) */
	STATS_UDP,     /* received over UDP */
	STATS_TCP,     /* received over TCP */
	STATS_NOERROR, /* answers by rcode */
	STATS_NXDOMAIN,
	STATS_REFUSED,
	STATS_FORMERR,
	STATS_SERVFAIL,
	STATS_NOTIMP,
	STATS_NOTAUTH,
	STATS_BADVERS,
	STATS_TRUNCATED,    /* answers sent with TC=1 (slipped ones too) */
	STATS_DROPPED,      /* no answer: malformed, or the send failed */
	STATS_RRL_LIMITED,  /* UDP answers over the rate: dropped or slipped */
	STATS_RRL_SLIPPED,  /* of those, sent as an empty TC=1 answer */
	STATS_COOKIE_VALID, /* queries with a valid server cookie */
	STATS_COOKIE_NEW,   /* queries given a new one (client cookie only,
	                       or a server cookie not valid) */
	STATS_NCOUNTERS,
};

/*
 * One thread's counters. Only the owning thread writes them (relaxed
 * load + store, no locked instruction); any thread may read them. Padded
 * to whole cache lines so that threads do not share lines.
 */
struct stats_shard {
	_Alignas(64) _Atomic uint64_t c[STATS_NCOUNTERS];
};

/*
 * Gauges are written and read on the loop thread only (feed, TCP and the
 * STATUS handler all run there).
 */
struct stats {
	struct stats_shard *shards; /* owned, nshards entries */
	unsigned nshards;
	uint64_t tcp_conns;          /* open TCP connections */
	uint64_t tcp_refused_full;   /* closed at accept: LISTEN_TCP_MAX open */
	uint64_t tcp_refused_source; /* closed at accept: per-source cap */
	uint64_t tcp_timeouts;       /* closed by a deadline or idle timer */
	uint64_t resyncs;       /* reloads of state.db after the first one */
	uint64_t change_seq;    /* change counter of the served copy */
	uint64_t applied_index; /* Raft index of the served copy */
	uint64_t zones, names, records;
	struct dr_bus_server *server; /* owned, NULL unless serving */
};

/* Allocates nshards zeroed shards. Out of memory aborts. */
void stats_init(struct stats *s, unsigned nshards);
/* Stops serving (if started) and frees the shards. */
void stats_close(struct stats *s);

/* Adds n to one counter of a shard; call from the shard's thread only. */
static inline void
stats_add(struct stats_shard *sh, enum stats_counter which, uint64_t n)
{
	uint64_t v = atomic_load_explicit(&sh->c[which], memory_order_relaxed);

	atomic_store_explicit(&sh->c[which], v + n, memory_order_relaxed);
}

/*
 * Adds the local tally t (STATS_NCOUNTERS entries) to a shard and zeroes
 * it: workers count a whole batch locally, then publish it at once.
 */
void stats_flush(struct stats_shard *sh, uint64_t *t);

/*
 * Tallies one query into t (STATS_NCOUNTERS entries): transport is
 * QUERY_UDP or QUERY_TCP, verdict what query_process returned (res->rrl
 * and res->cookie are read for every verdict). A rate-limited drop counts
 * as limited, not as dropped.
 */
void stats_tally(uint64_t *t, int transport, int verdict,
                 const struct query_result *res);

/* Sum of one counter over every shard. */
uint64_t stats_sum(const struct stats *s, enum stats_counter which);

/* Appends every counter and gauge as "key value\n" lines to out. */
void stats_format(const struct stats *s, struct dr_buf *out);

/*
 * Answers DR_MSG_STATUS requests on url (an nng rep socket) with
 * stats_format's lines. Returns DR_EIO if it cannot listen (logged).
 */
int stats_serve_start(struct stats *s, uv_loop_t *loop, const char *url);
/* Closes the rep socket, if open. */
void stats_serve_stop(struct stats *s);

#endif
