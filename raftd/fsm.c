/* c-raft state machine glue: apply, snapshot and restore onto the store. */
#include "fsm.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"

void
fsm_flush(struct fsm *f)
{
	struct fsm_event *events = f->events;
	size_t n = f->nevents, cap = f->cap, i;
	struct dr_buf data = f->data;

	if (store_commit(f->store) != 0)
		fatalx("state.db, commit failed; exiting so that a restart "
		       "replays the entries");
	if (n == 0)
		return;
	/* Detach the batch: a callback may make c-raft apply more. */
	f->events = NULL;
	f->nevents = f->cap = 0;
	dr_buf_init(&f->data);
	for (i = 0; i < n; i++) {
		struct fsm_event *e = &events[i];
		struct store_result res = e->res;

		res.effects = data.data + e->effects_off;
		res.reason = (const char *)data.data + e->reason_off;
		if (f->hooks.applied_cb != NULL)
			f->hooks.applied_cb(f->hooks.arg, e->index, &res,
			                    e->leader_term);
	}
	if (f->events == NULL) {
		/* Keep the arrays for the next batch. */
		dr_buf_close(&f->data);
		f->events = events;
		f->cap = cap;
		f->data = data;
		dr_buf_reset(&f->data);
	} else {
		free(events);
		dr_buf_close(&data);
	}
}

static void
fsm_event_add(struct fsm *f, uint64_t index, const struct store_result *res)
{
	struct fsm_event *e;

	if (f->nevents == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->events = realloc(f->events, f->cap * sizeof(*f->events));
		if (f->events == NULL)
			abort();
	}
	e = &f->events[f->nevents++];
	e->index = index;
	e->leader_term =
	    raft_state(f->raft) == RAFT_LEADER ? f->raft->current_term : 0;
	e->res = *res;
	e->res.effects = NULL;
	e->res.reason = NULL;
	e->effects_off = f->data.len;
	dr_buf_put(&f->data, res->effects, res->effects_len);
	e->reason_off = f->data.len;
	dr_buf_put(&f->data, res->reason, strlen(res->reason) + 1);
}

static int
fsm_apply_cb(struct raft_fsm *rf, const struct raft_buffer *buf, void **result)
{
	struct fsm *f = rf->data;
	uint64_t index = raft_last_applied(f->raft) + 1;
	struct store_result res;

	if (store_apply(f->store, index, buf->base, buf->len, &res) != 0)
		fatalx("entry %" PRIu64 ", cannot write state.db; exiting so "
		       "that a restart replays it",
		       index);
	f->last_outcome = (int)res.outcome;
	*result = &f->last_outcome;
	if (res.outcome != STORE_SKIPPED)
		fsm_event_add(f, index, &res);
	return 0;
}

/*
 * How long a leader waits for a follower to install the snapshot it sent
 * before it sends it again. c-raft 0.15 drops an InstallSnapshot that
 * reaches a follower while that follower writes a snapshot of its own
 * (RAFT_BUSY, and no reply), and the leader ignores the follower's
 * rejections meanwhile: the follower applies nothing until the leader's
 * timeout expires, 30 s by default. A restarted follower runs into this
 * often: the leader's messages queued while it was down bring it to its
 * own snapshot threshold just as the leader's snapshot arrives. So wait
 * only about as long as an image of this size may take to travel and
 * install; an early retry of a slow install costs one more transfer.
 */
#define FSM_INSTALL_BASE_MS    2000u
#define FSM_INSTALL_MS_PER_MIB 250u
#define FSM_INSTALL_MAX_MS     30000u

unsigned
fsm_install_timeout_ms(size_t image_len)
{
	uint64_t ms = FSM_INSTALL_BASE_MS +
	              (uint64_t)(image_len >> 20) * FSM_INSTALL_MS_PER_MIB;

	return ms > FSM_INSTALL_MAX_MS ? FSM_INSTALL_MAX_MS : (unsigned)ms;
}

static int
fsm_snapshot_cb(struct raft_fsm *rf, struct raft_buffer *bufs[],
                unsigned *n_bufs)
{
	struct fsm *f = rf->data;
	struct raft_buffer *b;

	b = raft_malloc(sizeof(*b));
	if (b == NULL)
		return RAFT_NOMEM;
	/* c-raft frees both the array and the data with raft_free. */
	if (store_serialize(f->store, raft_malloc, &b->base, &b->len) != 0) {
		raft_free(b);
		return RAFT_IOERR;
	}
	*bufs = b;
	*n_bufs = 1;
	/* The leader sends its latest snapshot: this one from now on. */
	raft_set_install_snapshot_timeout(f->raft,
	                                  fsm_install_timeout_ms(b->len));
	log_info("snapshot, taken at index %llu (state applied index %" PRIu64
	         ", %zu bytes)",
	         raft_last_applied(f->raft), store_applied_index(f->store),
	         b->len);
	return 0;
}

/*
 * On start c-raft restores its last snapshot and replays the log after
 * it; state.db is usually newer than that snapshot and the store then
 * leaves it alone. A newer image (InstallSnapshot from the leader)
 * replaces state.db.
 */
static int
fsm_restore_cb(struct raft_fsm *rf, struct raft_buffer *buf)
{
	struct fsm *f = rf->data;
	struct store_restore_info info;
	size_t len = buf->len;
	int rv;

	/* Subscribers must see the changes before the reset, in order. */
	fsm_flush(f);
	rv = store_restore(f->store, buf->base, buf->len, &info);
	if (rv != 0) {
		log_warnx("snapshot, restore refused (%s)", dr_strerror(rv));
		return rv == DR_EMALFORMED ? RAFT_MALFORMED : RAFT_IOERR;
	}
	/* On success the FSM owns the data. */
	raft_free(buf->base);
	/* Restored at start or installed: the snapshot a leader sends. */
	raft_set_install_snapshot_timeout(f->raft, fsm_install_timeout_ms(len));
	if (!info.replaced) {
		log_info("snapshot, restore skipped (state.db applied index "
		         "%" PRIu64 " is not older than the snapshot's %" PRIu64
		         ")",
		         info.db_applied, info.image_applied);
		return 0;
	}
	log_info("snapshot, restored (applied index %" PRIu64 " -> %" PRIu64
	         ", change %" PRIu64 ")",
	         info.db_applied, info.image_applied,
	         store_change_seq(f->store));
	if (f->hooks.reset_cb != NULL)
		f->hooks.reset_cb(f->hooks.arg);
	return 0;
}

void
fsm_init(struct fsm *f, struct raft *raft, struct store *store,
         const struct fsm_hooks *hooks)
{
	memset(f, 0, sizeof(*f));
	f->raft = raft;
	f->store = store;
	if (hooks != NULL)
		f->hooks = *hooks;
	/* Version 2 without snapshot_finalize: c-raft frees snapshot bufs. */
	f->raft_fsm.version = 2;
	f->raft_fsm.data = f;
	f->raft_fsm.apply = fsm_apply_cb;
	f->raft_fsm.snapshot = fsm_snapshot_cb;
	f->raft_fsm.restore = fsm_restore_cb;
	f->raft_fsm.snapshot_finalize = NULL;
	dr_buf_init(&f->data);
}

void
fsm_close(struct fsm *f)
{
	free(f->events);
	f->events = NULL;
	f->nevents = f->cap = 0;
	dr_buf_close(&f->data);
}
