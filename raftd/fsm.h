/* c-raft state machine glue: apply, snapshot and restore onto the store. */
#ifndef RAFTD_FSM_H
#define RAFTD_FSM_H

#include <raft.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "wire.h"

/* What the rest of raftd learns from the state machine; all optional. */
struct fsm_hooks {
	/*
	 * Entry index was applied or rejected (never for skipped replays),
	 * and its transaction is committed. res (its effects and reason
	 * included) is borrowed for the call. leader_term is the term this
	 * node led in when the entry was applied, 0 if it was not the leader
	 * then.
	 */
	void (*applied_cb)(void *arg, uint64_t index,
	                   const struct store_result *res,
	                   uint64_t leader_term);
	/* After a snapshot restore replaced state.db. */
	void (*reset_cb)(void *arg);
	void *arg;
};

/* An applied entry waiting for its commit before applied_cb. */
struct fsm_event {
	uint64_t index;
	uint64_t leader_term;
	struct store_result res; /* pointers unset: see the offsets */
	size_t effects_off;      /* effects in fsm.data */
	size_t reason_off;       /* NUL-terminated reason in fsm.data */
};

struct fsm {
	struct raft_fsm raft_fsm; /* handed to raft_init */
	struct raft *raft;        /* borrowed: for raft_last_applied */
	struct store *store;      /* borrowed */
	struct fsm_hooks hooks;
	struct fsm_event *events; /* owned, since the last flush */
	size_t nevents, cap;
	struct dr_buf data; /* copies of the events' effects and reasons */
	int last_outcome;   /* what apply's *result points at */
};

/*
 * Fills f->raft_fsm for c-raft. The entry index given to the store is
 * raft_last_applied(raft) + 1 (c-raft 0.15 does not pass it). Entries
 * applied between two fsm_flush calls share one SQLite transaction. Apply
 * always returns 0 to c-raft: bad entries are rejected by the store, and
 * a SQLite failure (disk full, I/O error) is fatal since a committed entry
 * can be neither skipped nor applied later out of order.
 */
void fsm_init(struct fsm *f, struct raft *raft, struct store *store,
              const struct fsm_hooks *hooks);
void fsm_close(struct fsm *f);

/*
 * Commits the entries applied since the last flush, then runs applied_cb
 * for each, in order. Call once per loop iteration (before the loop
 * sleeps) and before anything reads state.db from outside.
 */
void fsm_flush(struct fsm *f);

/*
 * The install-snapshot timeout (ms) raftd gives c-raft once its latest
 * snapshot is an image of image_len bytes: 2 s plus 250 ms per MiB, at
 * most c-raft's default of 30 s (see fsm.c for why not the default).
 */
unsigned fsm_install_timeout_ms(size_t image_len);

#endif
