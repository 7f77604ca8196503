/* Keeps dnsd's zonedb in step with raftd: baseline from state.db, then the
 * pub/sub change stream, with gap detection and resync. */
#ifndef DNSD_FEED_H
#define DNSD_FEED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "stats.h"
#include "wire.h"
#include "zonedb.h"

/*
 * The copy being served. UDP workers hold lock shared while they answer a
 * batch from db; the feed, on the loop thread, holds it exclusive while
 * it changes db (records, commits, swapping in a rebuilt copy). Code on
 * the loop thread may read db without the lock: nobody else writes it.
 */
struct feed_view {
	pthread_rwlock_t lock;
	struct zonedb *db; /* owned by the feed; NULL until the first load */
};

enum feed_state {
	FEED_IDLE,    /* waiting to (re)load: changes are held */
	FEED_LOADING, /* a baseline is being built off the loop */
	FEED_LIVE,    /* following the stream */
};

/* A stream message kept while a baseline loads. */
struct feed_msg {
	struct feed_msg *next;
	size_t len;
	uint8_t data[]; /* the whole message, header included */
};

/* One baseline load, run on libuv's thread pool. */
struct feed_load {
	uv_work_t work;
	struct feed *feed;    /* borrowed */
	char path[4096 + 16]; /* state.db */
	struct zonedb *db;    /* owned: the result, committed */
	uint64_t seq, index;
	size_t skipped; /* rows zonedb refused */
	uint64_t ns;    /* time the load took */
	int rv;
	char err[256];
};

struct feed;

/* Told once, on the loop thread, when the first baseline is served. */
typedef void (*feed_ready_cb)(struct feed *f, void *arg);

/*
 * Told on the loop thread whenever the served copy (committed, what
 * queries see) is at Raft index index: after each commit, load and
 * change without records. May repeat a value.
 */
typedef void (*feed_served_cb)(struct feed *f, uint64_t index, void *arg);

struct feed {
	uv_loop_t *loop;        /* borrowed */
	struct stats *stats;    /* borrowed: resyncs and gauges */
	struct feed_view view;  /* served copy */
	char path[4096 + 16];   /* <data.dir>/state.db */
	struct dr_bus_sub *sub; /* owned, NULL when not subscribed */
	enum feed_state state;
	uint64_t seq;       /* change counter of view.db */
	uint64_t index;     /* Raft index of view.db */
	uint64_t raftd_run; /* run id in raftd's heartbeats, 0 = none seen */
	bool dirty;         /* changes applied but not committed */
	bool again;         /* load again once the running one is done */
	bool closing;
	bool replaying;         /* held messages are being replayed */
	unsigned lag_loads;     /* reloads in a row for held changes */
	uint64_t hb_next_ms;    /* no heartbeat reload before (uv_now) */
	unsigned hb_backoff_ms; /* spacing of heartbeat reloads */
	struct feed_load *load; /* running load, NULL if none */
	atomic_bool abort_load; /* tells a running load to give up */
	struct feed_msg *held, **held_tail; /* kept while loading */
	size_t held_bytes;
	unsigned backoff_ms; /* delay before the next retry */
	unsigned failures;   /* failed loads in a row */
	uv_timer_t retry;
	uv_check_t commit;      /* commits once per loop iteration */
	struct dr_buf scratch;  /* NUL-terminated copies of effect args */
	feed_ready_cb ready_cb; /* cleared once called */
	void *ready_arg;
	feed_served_cb served_cb; /* NULL: nobody asks */
	void *served_arg;
};

/*
 * Prepares f (handles on loop, no subscription, no load). db_path is
 * state.db (copied). stats is borrowed for the life of f. Returns 0.
 */
int feed_init(struct feed *f, uv_loop_t *loop, const char *db_path,
              struct stats *stats);

/*
 * Sets the callback told once when the first baseline of state.db is
 * served (before that, every query is REFUSED). Call before feed_start.
 */
void feed_on_ready(struct feed *f, feed_ready_cb cb, void *arg);

/* Sets the callback told what the served copy is at (NULL: none). */
void feed_on_served(struct feed *f, feed_served_cb cb, void *arg);

/*
 * Subscribes to url (raftd's pub socket; NULL: no subscription, for
 * tests) and starts the first baseline load. DR_EIO if the subscription
 * cannot be set up (logged).
 */
int feed_start(struct feed *f, const char *url);

/*
 * Handles one message of the stream (the subscription callback; public
 * for tests). Anything unexpected leads to a resync, never a crash.
 */
void feed_message(struct feed *f, const void *data, size_t len);

/* Commits what feed_message applied (the per-iteration check does it). */
void feed_flush(struct feed *f);

/*
 * Reloads state.db off the loop while the current copy keeps serving,
 * then swaps the new copy in. why is logged; counted in stats->resyncs.
 */
void feed_resync(struct feed *f, const char *why);

/*
 * Unsubscribes, closes the handles and tells a running load to stop. The
 * loop must run afterwards to finish the closes; then call feed_close.
 */
void feed_stop(struct feed *f);

/* Frees the served copy and the lock; after the loop has finished. */
void feed_close(struct feed *f);

#endif
