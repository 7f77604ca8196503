/* Keeps dnsd's zonedb in step with raftd: baseline from state.db, then the
 * pub/sub change stream, with gap detection and resync. */
#include "feed.h"

#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "cmd.h"
#include "err.h"
#include "log.h"

#define FEED_BACKOFF_MIN_MS 100
#define FEED_BACKOFF_MAX_MS 5000
/* Stream bytes kept while a baseline loads; beyond that, load again. */
#define FEED_HELD_MAX ((size_t)256 * 1024 * 1024)
/*
 * A change with more effects than this is not applied in place (its
 * commit, under the write lock, would stall UDP): the copy is rebuilt
 * aside instead.
 */
#define FEED_INLINE_MAX 20000
#define FEED_LOCK_CHUNK 512 /* effects applied per write-lock hold */
/* Least and most time between two reloads asked for by heartbeats. */
#define FEED_HB_BACKOFF_MIN_MS 2000
#define FEED_HB_BACKOFF_MAX_MS 30000
/* Reloads for held changes still ahead of state.db before giving up. */
#define FEED_LAG_LOADS   4
#define FEED_ABORT_EVERY 4096 /* rows between checks of abort_load */

/* ------------------------------------------------------------ baseline */

static int
feed_db_err(struct feed_load *l, sqlite3 *db, const char *what)
{
	(void)snprintf(l->err, sizeof(l->err), "%s (%s)", what,
	               sqlite3_errmsg(db));
	return DR_EIO;
}

static int
feed_read_meta(struct feed_load *l, sqlite3 *db, const char *key, uint64_t *out)
{
	sqlite3_stmt *st;
	int rc, rv = 0;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1,
	                       &st, NULL) != SQLITE_OK)
		return feed_db_err(l, db, "reading meta");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_int64(st, 0) >= 0)
		*out = (uint64_t)sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		(void)snprintf(l->err, sizeof(l->err),
		               "meta %s missing or invalid", key);
		rv = DR_EIO;
	} else
		rv = feed_db_err(l, db, "reading meta");
	sqlite3_finalize(st);
	return rv;
}

/* Adds every row of records to l->db; DR_ECLOSED if told to stop. */
static int
feed_read_records(struct feed_load *l, sqlite3 *db)
{
	sqlite3_stmt *st;
	size_t rows = 0;
	int rc, rv = 0;

	if (sqlite3_prepare_v2(db,
	                       "SELECT zone, owner, type, ttl, rdata FROM "
	                       "records",
	                       -1, &st, NULL) != SQLITE_OK)
		return feed_db_err(l, db, "reading records");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *zone = (const char *)sqlite3_column_text(st, 0);
		const char *owner = (const char *)sqlite3_column_text(st, 1);
		const char *type = (const char *)sqlite3_column_text(st, 2);
		const char *rdata = (const char *)sqlite3_column_text(st, 4);
		int64_t ttl = sqlite3_column_int64(st, 3);

		if (zone == NULL || owner == NULL || type == NULL ||
		    rdata == NULL ||
		    zonedb_add_record(l->db, zone, owner, type, ttl, rdata) !=
		        0) {
			if (l->skipped++ < 10)
				log_warnx(
				    "[%s] record refused, not served "
				    "(%s %s %s)",
				    zone ? zone : "?", owner ? owner : "?",
				    type ? type : "?", rdata ? rdata : "?");
		}
		if (++rows % FEED_ABORT_EVERY == 0 &&
		    atomic_load(&l->feed->abort_load)) {
			rv = DR_ECLOSED;
			break;
		}
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = feed_db_err(l, db, "reading records");
	sqlite3_finalize(st);
	return rv;
}

/*
 * One read transaction: the change counter, the applied index and every
 * record are of the same state.
 */
static int
feed_read_db(struct feed_load *l)
{
	sqlite3 *db = NULL;
	int rc, rv;

	rc = sqlite3_open_v2(l->path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		(void)snprintf(l->err, sizeof(l->err), "cannot open (%s)",
		               sqlite3_errstr(rc));
		sqlite3_close(db);
		return DR_EIO;
	}
	sqlite3_busy_timeout(db, 1000);
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		rv = feed_db_err(l, db, "begin");
		goto out;
	}
	l->db = zonedb_new();
	if ((rv = feed_read_meta(l, db, "change_seq", &l->seq)) != 0 ||
	    (rv = feed_read_meta(l, db, "applied_index", &l->index)) != 0 ||
	    (rv = feed_read_records(l, db)) != 0)
		goto out;
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
out:
	sqlite3_close(db);
	return rv;
}

static void
feed_load_work_cb(uv_work_t *w)
{
	struct feed_load *l = w->data;
	uint64_t t0 = uv_hrtime();

	l->rv = feed_read_db(l);
	if (l->rv == 0)
		zonedb_commit(l->db);
	l->ns = uv_hrtime() - t0;
}

static void feed_load_begin(struct feed *f);
static void feed_hold(struct feed *f, const void *data, size_t len);

static void
feed_retry_cb(uv_timer_t *t)
{
	struct feed *f = t->data;

	feed_load_begin(f);
}

static void
feed_gauges(struct feed *f)
{
	struct zonedb_stats zs;

	f->stats->change_seq = f->seq;
	f->stats->applied_index = f->index;
	if (f->view.db == NULL)
		return;
	/* Changes applied but not committed are not served yet. */
	if (f->served_cb != NULL && !f->dirty)
		f->served_cb(f, f->index, f->served_arg);
	zonedb_stats(f->view.db, &zs);
	f->stats->zones = zs.zones;
	f->stats->names = zs.names;
	f->stats->records = zs.records;
}

static void
feed_drop_held(struct feed *f)
{
	struct feed_msg *m, *next;

	for (m = f->held; m != NULL; m = next) {
		next = m->next;
		free(m);
	}
	f->held = NULL;
	f->held_tail = &f->held;
	f->held_bytes = 0;
}

static void
feed_load_failed(struct feed *f, struct feed_load *l)
{
	f->failures++;
	if (f->failures == 1 && f->view.db == NULL)
		/* Normal at a node's first start: raftd creates it soon. */
		log_info("state.db, %s; answering REFUSED until it can be "
		         "read",
		         l->err);
	else if (f->failures == 1 || f->failures % 50 == 0)
		log_warnx("state.db, %s; %s, retrying", l->err,
		          f->view.db ? "serving the previous copy"
		                     : "answering REFUSED");
	else
		log_debug("state.db, %s, retrying in %u ms", l->err,
		          f->backoff_ms);
	/* Messages keep being held until a load succeeds. */
	f->state = FEED_IDLE;
	uv_timer_start(&f->retry, feed_retry_cb, f->backoff_ms, 0);
	f->backoff_ms *= 2;
	if (f->backoff_ms > FEED_BACKOFF_MAX_MS)
		f->backoff_ms = FEED_BACKOFF_MAX_MS;
}

struct feed_free {
	uv_work_t work;
	struct zonedb *db; /* owned */
};

static void
feed_free_work_cb(uv_work_t *w)
{
	struct feed_free *ff = w->data;

	zonedb_free(ff->db);
	ff->db = NULL;
}

static void
feed_free_after_cb(uv_work_t *w, int status)
{
	struct feed_free *ff = w->data;

	zonedb_free(ff->db); /* if cancelled */
	free(ff);
}

/* Frees a replaced copy off the loop: a big one takes a while. */
static void
feed_free_aside(struct feed *f, struct zonedb *db)
{
	struct feed_free *ff;

	if (db == NULL)
		return;
	ff = malloc(sizeof(*ff));
	if (ff == NULL)
		abort();
	ff->db = db;
	ff->work.data = ff;
	if (uv_queue_work(f->loop, &ff->work, feed_free_work_cb,
	                  feed_free_after_cb) != 0) {
		zonedb_free(db);
		free(ff);
	}
}

/* Swaps the new copy in, then replays what arrived meanwhile. */
static void
feed_load_done(struct feed *f, struct feed_load *l)
{
	struct zonedb *old;
	struct feed_msg *m, *next;

	pthread_rwlock_wrlock(&f->view.lock);
	old = f->view.db;
	f->view.db = l->db;
	pthread_rwlock_unlock(&f->view.lock);
	l->db = NULL;
	feed_free_aside(f, old);
	f->seq = l->seq;
	f->index = l->index;
	f->dirty = false;
	f->state = FEED_LIVE;
	f->failures = 0;
	feed_gauges(f);
	log_info("state.db, loaded %" PRIu64 " records in %" PRIu64
	         " zones (change %" PRIu64 ", index %" PRIu64 ", %.3f s)",
	         f->stats->records, f->stats->zones, f->seq, f->index,
	         (double)l->ns / 1e9);
	if (f->ready_cb != NULL) {
		feed_ready_cb cb = f->ready_cb;

		f->ready_cb = NULL;
		cb(f, f->ready_arg);
	}
	if (f->again) {
		/* Held messages are replayed after the next baseline. */
		feed_load_begin(f);
		return;
	}
	m = f->held;
	f->held = NULL;
	f->held_tail = &f->held;
	f->held_bytes = 0;
	/* A replayed message may start another load: the rest is held. */
	f->replaying = true;
	for (; m != NULL; m = next) {
		next = m->next;
		feed_message(f, m->data, m->len);
		free(m);
	}
	f->replaying = false;
	if (f->state == FEED_LIVE) {
		f->backoff_ms = FEED_BACKOFF_MIN_MS;
		f->lag_loads = 0;
	}
}

static void
feed_load_after_cb(uv_work_t *w, int status)
{
	struct feed_load *l = w->data;
	struct feed *f = l->feed;

	f->load = NULL;
	if (f->closing || status == UV_ECANCELED)
		;
	else if (l->rv != 0)
		feed_load_failed(f, l);
	else
		feed_load_done(f, l);
	zonedb_free(l->db);
	free(l);
}

static void
feed_load_begin(struct feed *f)
{
	struct feed_load *l;

	assert(f->load == NULL);
	if (f->closing)
		return;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		abort();
	l->feed = f;
	l->work.data = l;
	(void)snprintf(l->path, sizeof(l->path), "%s", f->path);
	atomic_store(&f->abort_load, false);
	f->state = FEED_LOADING;
	f->again = false;
	f->load = l;
	if (uv_queue_work(f->loop, &l->work, feed_load_work_cb,
	                  feed_load_after_cb) != 0)
		fatalx("feed, cannot queue the state.db load");
}

void
feed_resync(struct feed *f, const char *why)
{
	if (f->closing)
		return;
	f->stats->resyncs++;
	log_info("feed, resync (%s)", why);
	switch (f->state) {
	case FEED_LOADING:
		/* The running load may predate the reason. */
		f->again = true;
		break;
	case FEED_IDLE:
		uv_timer_stop(&f->retry);
		feed_load_begin(f);
		break;
	case FEED_LIVE:
		/* Serve what was applied so far while the copy is rebuilt. */
		feed_flush(f);
		if (!f->replaying) {
			feed_load_begin(f);
			break;
		}
		/*
		 * The baseline just loaded is already behind what was held
		 * (state.db lags the stream): wait a little, not in a loop.
		 */
		f->lag_loads++;
		f->state = FEED_IDLE;
		uv_timer_start(&f->retry, feed_retry_cb, f->backoff_ms, 0);
		f->backoff_ms = f->backoff_ms * 2 > FEED_BACKOFF_MAX_MS
		                    ? FEED_BACKOFF_MAX_MS
		                    : f->backoff_ms * 2;
		break;
	}
}

/* -------------------------------------------------------------- stream */

static void
feed_hold(struct feed *f, const void *data, size_t len)
{
	struct feed_msg *m;

	if (f->held_bytes + len > FEED_HELD_MAX) {
		log_warnx("feed, too many changes while loading, loading "
		          "again");
		feed_drop_held(f);
		f->again = true;
		return;
	}
	m = malloc(sizeof(*m) + len);
	if (m == NULL)
		abort();
	m->next = NULL;
	m->len = len;
	memcpy(m->data, data, len);
	*f->held_tail = m;
	f->held_tail = &m->next;
	f->held_bytes += len;
}

/*
 * Splits the next effect off a CHANGE payload: an encoded RR_ADD or
 * RR_DEL, whose total length follows from its header.
 */
static int
feed_next_effect(struct dr_cursor *cur, struct dr_cmd *c)
{
	const uint8_t *p = cur->p;
	size_t body, total;
	unsigned i;

	if (cur->left < DR_CMD_HDR_LEN)
		return DR_EMALFORMED;
	body =
	    (size_t)p[4] << 24 | (size_t)p[5] << 16 | (size_t)p[6] << 8 | p[7];
	total = (DR_CMD_HDR_LEN + body + 7) & ~(size_t)7;
	if (body > cur->left || total > cur->left)
		return DR_EMALFORMED;
	if (dr_cmd_decode(p, total, c) != 0 ||
	    (c->type != DR_CMD_RR_ADD && c->type != DR_CMD_RR_DEL))
		return DR_EMALFORMED;
	/* Arguments become C strings: an embedded NUL would change them. */
	for (i = 0; i < c->nargs; i++)
		if (memchr(c->args[i].p, '\0', c->args[i].len) != NULL)
			return DR_EMALFORMED;
	cur->p += total;
	cur->left -= total;
	return 0;
}

/* Counts the effects of a payload; DR_EMALFORMED if any is bad. */
static int
feed_check_effects(struct dr_cursor cur, size_t *count)
{
	struct dr_cmd c;

	*count = 0;
	while (cur.left > 0) {
		if (feed_next_effect(&cur, &c) != 0)
			return DR_EMALFORMED;
		(*count)++;
	}
	return 0;
}

/* Strict decimal TTL, 0..2^31-1; -1 when it is not one. */
static int64_t
feed_ttl(struct dr_str s)
{
	int64_t v = 0;

	if (s.len == 0 || s.len > 10)
		return -1;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		v = v * 10 + (s.p[i] - '0');
	}
	return v <= INT32_MAX ? v : -1;
}

/* Copies the args of c into f->scratch as C strings; args[i] -> out[i]. */
static void
feed_cstrings(struct feed *f, const struct dr_cmd *c, const char **out)
{
	size_t off[DR_CMD_MAXARGS];
	unsigned i;

	dr_buf_reset(&f->scratch);
	for (i = 0; i < c->nargs; i++) {
		off[i] = f->scratch.len;
		dr_buf_put(&f->scratch, c->args[i].p, c->args[i].len);
		dr_buf_put_u8(&f->scratch, 0);
	}
	for (i = 0; i < c->nargs; i++)
		out[i] = (const char *)f->scratch.data + off[i];
}

static void
feed_apply_one(struct feed *f, const struct dr_cmd *c)
{
	const char *a[DR_CMD_MAXARGS] = { NULL };
	int rv;

	feed_cstrings(f, c, a);
	if (c->type == DR_CMD_RR_ADD) {
		int64_t ttl = feed_ttl(c->args[3]);

		rv = ttl < 0 ? DR_EINVAL
		             : zonedb_add_record(f->view.db, a[0], a[1], a[2],
		                                 ttl, a[4]);
		if (rv != 0)
			log_warnx("[%s] record refused, not served (%s %s %s "
			          "%s)",
			          a[0], a[1], a[3], a[2], a[4]);
		else
			log_debug("[%s] record added (%s %s %s %s)", a[0], a[1],
			          a[3], a[2], a[4]);
		return;
	}
	rv = zonedb_del_record(f->view.db, a[0], a[1], a[2], a[3]);
	if (rv != 0 && rv != DR_ENOTFOUND)
		log_warnx("[%s] record removal refused (%s %s %s)", a[0], a[1],
		          a[2], a[3]);
	else
		log_debug("[%s] record removed (%s %s %s)", a[0], a[1], a[2],
		          a[3]);
}

static void
feed_commit_cb(uv_check_t *h)
{
	struct feed *f = h->data;

	feed_flush(f);
}

void
feed_flush(struct feed *f)
{
	if (!f->closing)
		uv_check_stop(&f->commit);
	if (!f->dirty || f->view.db == NULL)
		return;
	pthread_rwlock_wrlock(&f->view.lock);
	zonedb_commit(f->view.db);
	pthread_rwlock_unlock(&f->view.lock);
	f->dirty = false;
	feed_gauges(f);
}

/* The next CHANGE in order: its effects go into the served copy. */
static void
feed_change(struct feed *f, const struct dr_msg_hdr *h, struct dr_cursor cur,
            const void *data, size_t len)
{
	struct dr_cmd c;
	size_t n;

	if (feed_check_effects(cur, &n) != 0) {
		log_warnx("feed, change %" PRIu64 " has malformed effects",
		          h->seq);
		feed_resync(f, "malformed change");
		return;
	}
	if (n > FEED_INLINE_MAX) {
		feed_resync(f, "large change");
		feed_hold(f, data, len);
		return;
	}
	/*
	 * Until the commit, readers see the previous commit's answers, so
	 * the lock may be let go between chunks: UDP waits for a chunk at
	 * most, never for the whole change.
	 */
	while (cur.left > 0) {
		pthread_rwlock_wrlock(&f->view.lock);
		for (unsigned k = 0; k < FEED_LOCK_CHUNK && cur.left > 0; k++) {
			if (feed_next_effect(&cur, &c) != 0) {
				cur.left = 0; /* cannot happen: checked above */
				break;
			}
			feed_apply_one(f, &c);
		}
		pthread_rwlock_unlock(&f->view.lock);
	}
	f->seq = h->seq;
	f->index = h->index;
	if (n > 0 && !f->dirty) {
		f->dirty = true;
		if (!f->closing)
			uv_check_start(&f->commit, feed_commit_cb);
	} else if (n == 0)
		feed_gauges(f);
}

/*
 * Whether a heartbeat comes from another raftd run than the last one seen
 * (the first one seen is remembered; no run id: older raftd, ignored).
 */
static bool
feed_raftd_restarted(struct feed *f, struct dr_cursor cur)
{
	uint64_t run;
	bool restarted;

	if (dr_get_u64(&cur, &run) != 0 || run == 0)
		return false;
	restarted = f->raftd_run != 0 && f->raftd_run != run;
	f->raftd_run = run;
	return restarted;
}

/* A stream message while following: in order, late, or a reason to resync. */
static void
feed_live(struct feed *f, const struct dr_msg_hdr *h, struct dr_cursor cur,
          const void *data, size_t len)
{
	char why[96];

	switch (h->type) {
	case DR_MSG_CHANGE:
		if (h->seq <= f->seq)
			return; /* already in the copy */
		if (h->seq != f->seq + 1 || (h->flags & DR_WF_RELOAD) != 0) {
			if (f->replaying && f->lag_loads >= FEED_LAG_LOADS) {
				/*
				 * state.db stays behind this message (or its
				 * seq is bogus): stop reloading for it. The
				 * heartbeat says if the copy is behind.
				 */
				log_warnx("feed, change %" PRIu64
				          " still ahead of state.db at %" PRIu64
				          ", dropped",
				          h->seq, f->seq);
				return;
			}
			if (h->flags & DR_WF_RELOAD)
				(void)snprintf(why, sizeof(why),
				               "change %" PRIu64
				               " asks for a reload",
				               h->seq);
			else
				(void)snprintf(why, sizeof(why),
				               "gap: change %" PRIu64
				               " after %" PRIu64,
				               h->seq, f->seq);
			feed_resync(f, why);
			/* The baseline may be older: replayed after it. */
			feed_hold(f, data, len);
			return;
		}
		feed_change(f, h, cur, data, len);
		return;
	case DR_MSG_RESET:
		feed_resync(f, "state.db replaced");
		return;
	case DR_MSG_HEARTBEAT:
		if (feed_raftd_restarted(f, cur)) {
			/* It may have replaced state.db while we were away. */
			feed_resync(f, "raftd restarted");
			return;
		}
		if (h->seq == f->seq) {
			f->hb_backoff_ms = FEED_HB_BACKOFF_MIN_MS;
			if (h->index > f->index) {
				f->index = h->index;
				feed_gauges(f);
			}
			return;
		}
		/*
		 * Behind (or ahead: raftd's state went back). Reloads for
		 * heartbeats are spaced out, so a state.db that keeps
		 * disagreeing with raftd cannot keep dnsd loading.
		 */
		if (uv_now(f->loop) < f->hb_next_ms) {
			log_debug("feed, heartbeat at change %" PRIu64
			          ", served %" PRIu64 ", reload deferred",
			          h->seq, f->seq);
			return;
		}
		f->hb_next_ms = uv_now(f->loop) + f->hb_backoff_ms;
		f->hb_backoff_ms = f->hb_backoff_ms * 2 > FEED_HB_BACKOFF_MAX_MS
		                       ? FEED_HB_BACKOFF_MAX_MS
		                       : f->hb_backoff_ms * 2;
		(void)snprintf(why, sizeof(why),
		               "heartbeat at change %" PRIu64
		               ", served %" PRIu64,
		               h->seq, f->seq);
		feed_resync(f, why);
		return;
	default:
		log_warnx("feed, unexpected message type %u", h->type);
		feed_resync(f, "unexpected message");
		return;
	}
}

static void
feed_malformed(struct feed *f, const char *what, size_t len)
{
	log_warnx("feed, malformed %s (%zu bytes)", what, len);
	if (f->state == FEED_LIVE)
		feed_resync(f, "malformed message");
}

/*
 * The CHANGE messages of a CHANGES, checked whole before the first is
 * taken: a batch is used all or not at all.
 */
static void
feed_batch(struct feed *f, const uint8_t *p, size_t len)
{
	struct dr_msg_hdr h;
	size_t off, n;

	if (len > 0 && dr_wire_parts(p, len, DR_MSG_CHANGE, UINT_MAX) == 0) {
		feed_malformed(f, "batch", len);
		return;
	}
	for (off = 0; off < len && !f->closing; off += n) {
		n = dr_wire_part(p + off, len - off, &h);
		feed_message(f, p + off, n);
	}
}

void
feed_message(struct feed *f, const void *data, size_t len)
{
	struct dr_msg_hdr h;
	struct dr_cursor cur;

	if (f->closing)
		return;
	if (dr_wire_decode(data, len, &h, &cur) != 0) {
		feed_malformed(f, "message", len);
		return;
	}
	if (h.type == DR_MSG_CHANGES) {
		feed_batch(f, cur.p, cur.left);
		return;
	}
	if (f->state == FEED_LIVE) {
		feed_live(f, &h, cur, data, len);
		return;
	}
	/* Loading or waiting to: keep changes for after the baseline. */
	switch (h.type) {
	case DR_MSG_CHANGE:
		feed_hold(f, data, len);
		break;
	case DR_MSG_RESET:
		if (f->state == FEED_LOADING)
			f->again = true; /* it may have read the old file */
		break;
	default:
		break; /* heartbeats are stale by the time we are done */
	}
}

static void
feed_sub_cb(const void *data, size_t len, void *arg)
{
	feed_message(arg, data, len);
}

/* ----------------------------------------------------------- lifecycle */

int
feed_init(struct feed *f, uv_loop_t *loop, const char *db_path,
          struct stats *stats)
{
	pthread_rwlockattr_t attr;

	memset(f, 0, sizeof(*f));
	f->loop = loop;
	f->stats = stats;
	(void)snprintf(f->path, sizeof(f->path), "%s", db_path);
	/* Writers first: a stream of reader batches must not starve them. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(
	    &attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&f->view.lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	f->state = FEED_IDLE;
	f->held_tail = &f->held;
	f->backoff_ms = FEED_BACKOFF_MIN_MS;
	f->hb_backoff_ms = FEED_HB_BACKOFF_MIN_MS;
	atomic_init(&f->abort_load, false);
	dr_buf_init(&f->scratch);
	uv_timer_init(loop, &f->retry);
	f->retry.data = f;
	uv_check_init(loop, &f->commit);
	f->commit.data = f;
	return 0;
}

void
feed_on_served(struct feed *f, feed_served_cb cb, void *arg)
{
	f->served_cb = cb;
	f->served_arg = arg;
}

void
feed_on_ready(struct feed *f, feed_ready_cb cb, void *arg)
{
	f->ready_cb = cb;
	f->ready_arg = arg;
}

int
feed_start(struct feed *f, const char *url)
{
	if (url != NULL &&
	    dr_bus_sub_start(&f->sub, f->loop, url, feed_sub_cb, f) != 0)
		return DR_EIO;
	feed_load_begin(f);
	return 0;
}

void
feed_stop(struct feed *f)
{
	if (f->closing)
		return;
	feed_flush(f);
	f->closing = true;
	if (f->sub != NULL)
		dr_bus_sub_stop(f->sub);
	f->sub = NULL;
	uv_close((uv_handle_t *)&f->retry, NULL);
	uv_close((uv_handle_t *)&f->commit, NULL);
	if (f->load != NULL) {
		atomic_store(&f->abort_load, true);
		uv_cancel((uv_req_t *)&f->load->work);
	}
	feed_drop_held(f);
}

void
feed_close(struct feed *f)
{
	zonedb_free(f->view.db);
	f->view.db = NULL;
	pthread_rwlock_destroy(&f->view.lock);
	dr_buf_close(&f->scratch);
}
