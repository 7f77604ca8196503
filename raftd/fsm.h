/* c-raft state machine glue: apply, snapshot and restore onto the store. */
#ifndef RAFTD_FSM_H
#define RAFTD_FSM_H

#include <raft.h>
#include <stddef.h>
#include <stdint.h>

#include "flags.h"
#include "snapimage.h"
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

/*
 * The snapshot c-raft is taking: begun on the loop (commit, then a read
 * transaction on a connection of its own), imaged on a pool thread,
 * finalized on the loop once c-raft wrote it.
 */
struct fsm_take {
	struct snapimage_reader reader; /* open from begin to image */
	struct raft_buffer buf;         /* the image (snapimage_free) */
	uint64_t index;                 /* raft_last_applied at begin */
	uint64_t begin_ns;              /* monotonic, at begin */
	uint64_t loop_ns;               /* how long begin took */
	bool active;
};

/*
 * An InstallSnapshot being written: c-raft's own put and a copy of the
 * image into state.db.snap (checked, fsynced) run at once on pool threads;
 * c-raft hears of its put once both are done, and its restore then only
 * swaps the staged file in.
 */
struct fsm_install {
	struct raft_io_async_work work;
	struct raft_io_snapshot_put *req; /* borrowed: c-raft's */
	raft_io_snapshot_put_cb cb;       /* c-raft's */
	const void *base;                 /* borrowed: the image */
	size_t len;
	char path[DR_PATH_LEN + 8]; /* state.db.snap */
	uint64_t applied;           /* the staged image's applied_index */
	int stage_rv;               /* of snapimage_stage */
	int put_status;             /* of c-raft's put */
	bool put_done, stage_done;
	bool active; /* between the put and c-raft's callback */
	bool ready;  /* staged: restore of base/len may swap path in */
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
	struct fsm_take take;
	struct fsm_install install;
	/* io's own snapshot_put, wrapped by fsm_use_io; NULL without. */
	int (*io_snapshot_put)(struct raft_io *io, unsigned trailing,
	                       struct raft_io_snapshot_put *req,
	                       const struct raft_snapshot *snapshot,
	                       raft_io_snapshot_put_cb cb);
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

/*
 * Snapshots off the loop (c-raft's fsm version 3). Call after
 * raft_uv_init, before raft_init. Taking a snapshot: on the loop only a
 * commit and the start of a read transaction (a few ms at most, whatever
 * the size of state.db); the image is copied from that transaction on a
 * pool thread (snapshot_async) and freed in snapshot_finalize. Installing
 * one: io's snapshot_put is wrapped so that the image is written to
 * state.db.snap and checked on a pool thread (io->async_work) while
 * c-raft writes its own copy; restore, which c-raft runs on the loop and
 * needs done when it returns, then closes state.db, renames the staged
 * file over it and reopens it. raft_uv 0.15 has async_work but says
 * io->version 1, which c-raft refuses for async snapshots: it is set to 2.
 * Without io->async_work snapshots are taken on the loop as before.
 */
void fsm_use_io(struct fsm *f, struct raft_io *io);
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
