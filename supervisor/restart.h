/* When to start a daemon that went down again, and when to give up on it. */
#ifndef DR_RESTART_H
#define DR_RESTART_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A daemon that dies is started again after a delay that starts at
 * RESTART_MIN_MS and doubles with each death in a row, up to
 * RESTART_MAX_MS. Once it has stayed up RESTART_STABLE_MS, the next death
 * starts the series over.
 *
 * Giving up is only for a daemon that never started: one that has not
 * said READY=1 (restart_ready) nor stayed up RESTART_STABLE_MS since the
 * supervisor began, and died RESTART_GIVE_UP times in a row (bad flags, a
 * port in use, an unusable data directory: what a restart cannot fix).
 * Once it has started, it is restarted forever: a raftd that keeps
 * crashing never takes the node's dnsd and ctld down with it.
 */
#define RESTART_MIN_MS    100
#define RESTART_MAX_MS    30000
#define RESTART_STABLE_MS 10000
#define RESTART_GIVE_UP   5

struct restart {
	unsigned delay_ms; /* before the next start */
	unsigned failures; /* deaths in a row (the last one included) */
	bool started;      /* ready, or up RESTART_STABLE_MS, once */
};

/* A daemon not started yet. */
void restart_init(struct restart *r);

/* The daemon said READY=1: it has started, whatever happens next. */
void restart_ready(struct restart *r);

/*
 * The daemon went down after up_ms. Returns true with *delay_ms set to
 * the time to wait before starting it again, or false to give up.
 */
bool restart_next(struct restart *r, uint64_t up_ms, unsigned *delay_ms);

#endif
