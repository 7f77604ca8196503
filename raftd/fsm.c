/* c-raft state machine glue: apply, snapshot and restore onto the store. */
#include "fsm.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

static uint64_t
fsm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double
fsm_ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static int fsm_snapshot_async_cb(struct raft_fsm *rf,
                                 struct raft_buffer *bufs[], unsigned *n_bufs);

/*
 * On the loop, right after c-raft applied up to the index it snapshots
 * at: the commit makes state.db hold exactly that, and the reader's
 * transaction keeps seeing it while later entries are applied. The image
 * itself is made in fsm_snapshot_async_cb.
 */
static int
fsm_snapshot_cb(struct raft_fsm *rf, struct raft_buffer *bufs[],
                unsigned *n_bufs)
{
	struct fsm *f = rf->data;
	struct fsm_take *t = &f->take;
	uint64_t t0 = fsm_now_ns();

	if (t->active)
		return RAFT_BUSY;
	if (store_commit(f->store) != 0)
		fatalx("state.db, commit failed; exiting so that a restart "
		       "replays the entries");
	/* RAFT_BUSY: c-raft tries again after the next entries. */
	if (snapimage_reader_open(&t->reader, store_path(f->store)) != 0)
		return RAFT_BUSY;
	if (t->reader.applied_index != store_applied_index(f->store)) {
		log_warnx("snapshot, reader sees applied index %" PRIu64
		          ", not %" PRIu64 "; not taken",
		          t->reader.applied_index,
		          store_applied_index(f->store));
		snapimage_reader_close(&t->reader);
		return RAFT_BUSY;
	}
	t->index = raft_last_applied(f->raft);
	t->buf.base = NULL;
	t->buf.len = 0;
	t->begin_ns = t0;
	t->active = true;
	*bufs = &t->buf;
	*n_bufs = 1;
	if (f->raft_fsm.snapshot_async == NULL &&
	    fsm_snapshot_async_cb(rf, bufs, n_bufs) != 0) {
		t->active = false;
		return RAFT_IOERR;
	}
	t->loop_ns = fsm_now_ns() - t0;
	return 0;
}

/*
 * On a pool thread (io->async_work): touches only f->take, which the loop
 * leaves alone until snapshot_finalize.
 */
static int
fsm_snapshot_async_cb(struct raft_fsm *rf, struct raft_buffer *bufs[],
                      unsigned *n_bufs)
{
	struct fsm *f = rf->data;
	struct fsm_take *t = &f->take;

	if (*n_bufs != 1 || *bufs != &t->buf)
		return RAFT_INVALID;
	if (snapimage_reader_take(&t->reader, &t->buf.base, &t->buf.len) != 0)
		return RAFT_IOERR;
	return 0;
}

/* On the loop, after c-raft wrote the snapshot or gave up on it. */
static int
fsm_snapshot_finalize_cb(struct raft_fsm *rf, struct raft_buffer *bufs[],
                         unsigned *n_bufs)
{
	struct fsm *f = rf->data;
	struct fsm_take *t = &f->take;

	/* Still open if c-raft could not queue the async part. */
	snapimage_reader_close(&t->reader);
	if (t->buf.base != NULL) {
		/* The leader sends its latest snapshot: this one from now on.
		 */
		raft_set_install_snapshot_timeout(
		    f->raft, fsm_install_timeout_ms(t->buf.len));
		log_info("snapshot, taken at index %" PRIu64
		         " (%zu bytes, %.1f "
		         "ms on the loop, %.0f ms in all)",
		         t->index, t->buf.len, fsm_ms(t->loop_ns),
		         fsm_ms(fsm_now_ns() - t->begin_ns));
		snapimage_free(t->buf.base);
	} else {
		log_warnx("snapshot, not taken at index %" PRIu64, t->index);
	}
	t->buf.base = NULL;
	t->buf.len = 0;
	t->active = false;
	*bufs = NULL;
	*n_bufs = 0;
	return 0;
}

/*
 * On start c-raft restores its last snapshot and replays the log after
 * it; state.db is usually newer than that snapshot and the store then
 * leaves it alone. A newer image (InstallSnapshot from the leader)
 * replaces state.db: from the file staged meanwhile if there is one.
 */
static int
fsm_restore_cb(struct raft_fsm *rf, struct raft_buffer *buf)
{
	struct fsm *f = rf->data;
	struct fsm_install *in = &f->install;
	struct store_restore_info info;
	size_t len = buf->len;
	uint64_t t0 = fsm_now_ns();
	bool staged = in->active && in->base == buf->base && in->len == len;
	int rv;

	if (f->take.active)
		return RAFT_BUSY;
	/* Subscribers must see the changes before the reset, in order. */
	fsm_flush(f);
	if (staged && in->stage_rv == DR_EMALFORMED) {
		rv = DR_EMALFORMED;
	} else if (staged && in->ready) {
		in->ready = false;
		rv = store_restore_file(f->store, in->path, in->applied, &info);
	} else {
		staged = false;
		rv = store_restore(f->store, buf->base, buf->len, &info);
	}
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
	         ", change %" PRIu64 ", %.1f ms on the loop%s)",
	         info.db_applied, info.image_applied,
	         store_change_seq(f->store), fsm_ms(fsm_now_ns() - t0),
	         staged ? ", staged before" : "");
	if (f->hooks.reset_cb != NULL)
		f->hooks.reset_cb(f->hooks.arg);
	return 0;
}

/* io->data is the struct raft (raft_init), whose fsm is ours. */
static struct fsm *
fsm_of_io(struct raft_io *io)
{
	struct raft *r = io->data;

	return r->fsm->data;
}

/* c-raft passes &raft->snapshot.put as the request of every put. */
static struct fsm *
fsm_of_put(struct raft_io_snapshot_put *req)
{
	struct raft *r =
	    (struct raft *)((char *)req - offsetof(struct raft, snapshot.put));

	return r->fsm->data;
}

/* Both halves done: c-raft's callback runs restore (or discards). */
static void
fsm_install_maybe_done(struct fsm *f)
{
	struct fsm_install *in = &f->install;

	if (!in->put_done || !in->stage_done)
		return;
	in->ready = in->stage_rv == 0;
	in->cb(in->req, in->put_status);
	/* Not restored (c-raft gave up, or closes): drop the staged file. */
	if (in->ready)
		unlink(in->path);
	in->ready = false;
	in->active = false;
}

static void
fsm_install_put_cb(struct raft_io_snapshot_put *req, int status)
{
	struct fsm *f = fsm_of_put(req);

	f->install.put_status = status;
	f->install.put_done = true;
	fsm_install_maybe_done(f);
}

/* On a pool thread: reads the image, which c-raft keeps until its cb. */
static int
fsm_install_work(struct raft_io_async_work *w)
{
	struct fsm_install *in = w->data;

	in->stage_rv =
	    snapimage_stage(in->path, in->base, in->len, &in->applied);
	return 0;
}

static void
fsm_install_work_cb(struct raft_io_async_work *w, int status)
{
	struct fsm_install *in = w->data;
	struct fsm *f =
	    (struct fsm *)((char *)in - offsetof(struct fsm, install));

	(void)status;
	in->stage_done = true;
	fsm_install_maybe_done(f);
}

static int
fsm_snapshot_put(struct raft_io *io, unsigned trailing,
                 struct raft_io_snapshot_put *req,
                 const struct raft_snapshot *snapshot,
                 raft_io_snapshot_put_cb cb)
{
	struct fsm *f = fsm_of_io(io);
	struct fsm_install *in = &f->install;
	struct raft *r = io->data;
	int rv;

	/*
	 * Ours are the snapshots c-raft takes while f->take is active; with
	 * trailing 0 and none active, c-raft installs one from the leader.
	 */
	if (trailing != 0 || f->take.active || in->active ||
	    req != &r->snapshot.put || snapshot->n_bufs != 1)
		return f->io_snapshot_put(io, trailing, req, snapshot, cb);
	memset(in, 0, sizeof(*in));
	in->req = req;
	in->cb = cb;
	in->base = snapshot->bufs[0].base;
	in->len = snapshot->bufs[0].len;
	in->active = true;
	snprintf(in->path, sizeof(in->path), "%s.snap", store_path(f->store));
	rv =
	    f->io_snapshot_put(io, trailing, req, snapshot, fsm_install_put_cb);
	if (rv != 0) {
		in->active = false;
		return rv;
	}
	/* Tracked by raft_uv: its close waits for the work. */
	in->work.data = in;
	in->work.work = fsm_install_work;
	if (io->async_work(io, &in->work, fsm_install_work_cb) != 0) {
		in->stage_rv = DR_EIO;
		in->stage_done = true;
		fsm_install_maybe_done(f);
	}
	return 0;
}

void
fsm_use_io(struct fsm *f, struct raft_io *io)
{
	if (io->async_work == NULL) {
		f->raft_fsm.snapshot_async = NULL;
		return;
	}
	if (io->version < 2)
		io->version = 2;
	f->io_snapshot_put = io->snapshot_put;
	io->snapshot_put = fsm_snapshot_put;
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
	/* Version 3: the fsm owns its snapshot buffers (finalize frees). */
	f->raft_fsm.version = 3;
	f->raft_fsm.data = f;
	f->raft_fsm.apply = fsm_apply_cb;
	f->raft_fsm.snapshot = fsm_snapshot_cb;
	f->raft_fsm.restore = fsm_restore_cb;
	f->raft_fsm.snapshot_finalize = fsm_snapshot_finalize_cb;
	f->raft_fsm.snapshot_async = fsm_snapshot_async_cb;
	dr_buf_init(&f->data);
}

void
fsm_close(struct fsm *f)
{
	/* raft_uv's close waited for both kinds of snapshot work. */
	snapimage_reader_close(&f->take.reader);
	free(f->events);
	f->events = NULL;
	f->nevents = f->cap = 0;
	dr_buf_close(&f->data);
}
