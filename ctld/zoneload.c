/* Loading this node's zone files (-zone.file) into the cluster. */
#include "zoneload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "line.h"
#include "log.h"
#include "replace.h"

/* A "zone reload" waiting for the round it started to finish. */
struct zoneload_waiter {
	struct zoneload *zl;
	struct zoneload_waiter *prev, *next;
	uint64_t gen;
	uv_timer_t timer; /* the first check, then the bound on the wait */
	bool armed;       /* timer set to the bound */
	dispatch_done_cb cb;
	void *arg;
	bool answered; /* unlinked, freed once its timer is closed */
};

static void zoneload_file_start(struct zoneload_file *f);
static void zoneload_check(struct zoneload *zl);

/* --- waiters --- */

static void
waiter_close_cb(uv_handle_t *h)
{
	free(h->data);
}

/* Answers w with line (no newline) and frees it. */
static void
waiter_answer(struct zoneload_waiter *w, const char *line)
{
	struct zoneload *zl = w->zl;
	struct dr_buf b;

	w->answered = true;
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		zl->waiters = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	dr_buf_init(&b);
	if (strncmp(line, "ERROR ", 6) == 0)
		commands_put_error(&b, line + 6, strlen(line + 6));
	else
		commands_put_line(&b, line);
	w->cb((const char *)b.data, b.len, 0, w->arg);
	dr_buf_close(&b);
	uv_close((uv_handle_t *)&w->timer, waiter_close_cb);
}

/*
 * Answers w if every file finished an attempt of w's round (SUCCESS, or
 * the first file's reason), or if the others are all being retried for
 * want of a leader. Returns whether it did.
 */
static bool
waiter_try(struct zoneload_waiter *w)
{
	struct zoneload *zl = w->zl;
	const struct zoneload_file *waiting = NULL;
	char line[DR_RR_ERR_LEN + 80];
	unsigned i;

	/* Its answer may have led (through the reply) to this very check. */
	if (w->answered)
		return true;
	for (i = 0; i < zl->nfiles; i++) {
		const struct zoneload_file *f = &zl->files[i];

		if (f->done_gen >= w->gen)
			continue;
		if (f->retry_gen < w->gen)
			return false; /* still running */
		if (waiting == NULL)
			waiting = f;
	}
	for (i = 0; i < zl->nfiles; i++)
		if (zl->files[i].done_gen >= w->gen && zl->files[i].failed) {
			(void)snprintf(line, sizeof(line), "ERROR %s",
			               zl->files[i].reason);
			waiter_answer(w, line);
			return true;
		}
	if (waiting != NULL) {
		(void)snprintf(line, sizeof(line),
		               "ERROR %s (the zone files are retried in the "
		               "background)",
		               waiting->retry_reason);
		waiter_answer(w, line);
		return true;
	}
	waiter_answer(w, "SUCCESS");
	return true;
}

/*
 * The first chance to answer, never from inside zoneload_reload; then a
 * bound on the wait, should an attempt never end.
 */
static void
waiter_timer_cb(uv_timer_t *t)
{
	struct zoneload_waiter *w = t->data;

	if (waiter_try(w))
		return;
	if (!w->armed) {
		w->armed = true;
		uv_timer_start(&w->timer, waiter_timer_cb, ZONELOAD_WAIT_MAX_MS,
		               0);
		return;
	}
	waiter_answer(w, "ERROR zone reload still running (it goes on in "
	                 "the background)");
}

static void
zoneload_check(struct zoneload *zl)
{
	struct zoneload_waiter *w, *next;

	for (w = zl->waiters; w != NULL; w = next) {
		next = w->next;
		(void)waiter_try(w);
	}
}

/* --- one file --- */

static void file_submit(struct zoneload_file *f);

/* Submits the records read before again (a reload reads the file anew). */
static void
file_timer_cb(uv_timer_t *t)
{
	struct zoneload_file *f = t->data;

	file_submit(f);
}

/* Records the outcome of the attempt of round f->gen. */
static void
file_outcome(struct zoneload_file *f, bool failed, const char *reason)
{
	dr_zonefile_free(&f->zf);
	f->state = ZONELOAD_IDLE;
	f->done_gen = f->gen;
	f->failed = failed;
	(void)snprintf(f->reason, sizeof(f->reason), "%s",
	               failed ? reason : "");
}

/* Ends the attempt of round f->gen; a reload asked meanwhile starts. */
static void
file_finish(struct zoneload_file *f, bool failed, const char *reason)
{
	struct zoneload *zl = f->zl;

	file_outcome(f, failed, reason);
	if (f->again && !zl->stopping) {
		f->again = false;
		zoneload_file_start(f);
	}
	zoneload_check(zl);
}

/*
 * Answers that mean "ask again later": no leader (yet), raftd not up, a
 * leader that went away before the entry was applied (raftd's and
 * c-raft's words for it). A replace is idempotent, so sending it again
 * after an entry that did commit is harmless. Everything else is final.
 */
static bool
file_retryable(const char *line, size_t len)
{
	static const char *const again[] = {
		"ERROR no leader",
		"ERROR not leader",
		"ERROR raftd unavailable",
		"ERROR shutting down",
		"ERROR busy",
		"ERROR leadership lost",
		"ERROR entry lost",
		"ERROR server has lost leadership",
		"ERROR server is not the leader",
	};

	return line_is_one_of(line, len, again,
	                      sizeof(again) / sizeof(again[0]));
}

static void
file_retry(struct zoneload_file *f, const char *why, size_t len)
{
	struct zoneload *zl = f->zl;

	if (f->again) {
		/* A reload came meanwhile: its round starts now. */
		f->again = false;
		f->state = ZONELOAD_IDLE;
		zoneload_file_start(f);
		return;
	}
	f->retry_gen = f->gen;
	(void)snprintf(f->retry_reason, sizeof(f->retry_reason), "%.*s",
	               (int)len, why);
	if (f->tries == 1 || f->backoff_ms >= ZONELOAD_RETRY_MAX_MS)
		log_info("[%s] zone file %s, not loaded yet (%.*s), retrying",
		         f->zf.zone, f->path, (int)len, why);
	f->state = ZONELOAD_RETRYING;
	if (!f->timer_open) {
		uv_timer_init(zl->loop, &f->timer);
		f->timer.data = f;
		f->timer_open = true;
	}
	uv_timer_start(&f->timer, file_timer_cb, f->backoff_ms, 0);
	f->backoff_ms *= 2;
	if (f->backoff_ms > ZONELOAD_RETRY_MAX_MS)
		f->backoff_ms = ZONELOAD_RETRY_MAX_MS;
	zoneload_check(zl);
}

/* The reply to the zone replace: one line, SUCCESS or ERROR. */
static void
file_reply(struct zoneload_file *f, const char *reply, size_t len)
{
	char reason[DR_RR_ERR_LEN];
	const char *nl = memchr(reply, '\n', len);

	if (nl != NULL)
		len = (size_t)(nl - reply);
	if (f->zl->stopping) {
		file_finish(f, true, "shutting down");
		return;
	}
	if (len >= 7 && memcmp(reply, "SUCCESS", 7) == 0) {
		const char *note = reply + 7;
		size_t n = len - 7;

		while (n > 0 && *note == ' ') {
			note++;
			n--;
		}
		log_info("[%s] zone file %s, loaded %zu records (%s%s%.*s)",
		         f->zf.zone, f->path, f->zf.nrecords,
		         !f->loaded                       ? "first load"
		         : f->loaded_hash == f->read_hash ? "file unchanged"
		                                          : "file changed",
		         n > 0 ? "; raftd: " : "", (int)n, note);
		f->loaded = true;
		f->loaded_hash = f->read_hash;
		file_finish(f, false, NULL);
		return;
	}
	if (file_retryable(reply, len)) {
		file_retry(f, reply + 6, len - 6);
		return;
	}
	if (len >= 6 && memcmp(reply, "ERROR ", 6) == 0) {
		reply += 6;
		len -= 6;
	}
	log_warnx("[%s] zone file %s, rejected (%.*s)", f->zf.zone, f->path,
	          (int)len, reply);
	(void)snprintf(reason, sizeof(reason), "%s: %.*s", f->path, (int)len,
	               reply);
	file_finish(f, true, reason);
}

static void
file_reply_cb(const char *reply, size_t len, unsigned flags, void *arg)
{
	struct zoneload_file *f = arg;

	f->req = NULL;
	file_reply(f, reply, len);
}

/*
 * The "zone replace" line: the zone, then where it comes from for the
 * logs of the leader ("id1:zones/zone.txt"), made printable.
 */
static struct replace *
file_replace_new(struct zoneload_file *f)
{
	struct dr_buf line;
	struct replace *r;
	const char *p;

	dr_buf_init(&line);
	dr_buf_put(&line, "zone replace ", 13);
	dr_buf_put(&line, f->zf.zone, strlen(f->zf.zone));
	dr_buf_put_u8(&line, ' ');
	dr_buf_put(&line, f->zl->cfg->id, strlen(f->zl->cfg->id));
	dr_buf_put_u8(&line, ':');
	for (p = f->path; *p != '\0' && line.len < LINE_MAX_LEN - 1; p++)
		dr_buf_put_u8(&line, line_byte_ok((unsigned char)*p)
		                         ? (uint8_t)*p
		                         : (uint8_t)'?');
	r = replace_new((const char *)line.data, line.len);
	dr_buf_close(&line);
	/* dr_zonefile_read checked the records: one SOA at the apex. */
	dr_buf_put(&r->records, f->zf.lines.data, f->zf.lines.len);
	r->nrecords = f->zf.nrecords;
	r->nsoa = 1;
	return r;
}

static void
file_submit(struct zoneload_file *f)
{
	struct zoneload *zl = f->zl;
	struct replace *r = file_replace_new(f);
	struct dr_buf out;
	int rv;

	f->state = ZONELOAD_SUBMITTING;
	f->tries++;
	dr_buf_init(&out);
	rv = dispatch_replace(zl->dispatch, NULL, r, &out, file_reply_cb, f,
	                      &f->req);
	if (rv != DISPATCH_PENDING) {
		f->req = NULL;
		file_reply(f, (const char *)out.data, out.len);
	}
	dr_buf_close(&out);
}

/* 64-bit FNV-1a: tells a changed file from the same one in the logs. */
static uint64_t
file_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* On the thread pool: nothing here touches the loop. */
static void
file_read_work(uv_work_t *w)
{
	struct zoneload_file *f = w->data;

	f->read_rv = dr_zonefile_read(f->path, NULL, &f->zf, f->read_err,
	                              sizeof(f->read_err));
	if (f->read_rv == 0)
		f->read_hash = file_hash(f->zf.lines.data, f->zf.lines.len);
}

static void
file_read_done(uv_work_t *w, int status)
{
	struct zoneload_file *f = w->data;

	if (f->zl->stopping || status != 0) {
		dr_zonefile_free(&f->zf);
		f->state = ZONELOAD_IDLE;
		return;
	}
	if (f->read_rv != 0) {
		/* "file:line: reason": the cluster keeps what it has. */
		log_warnx("%s (zone file rejected, the cluster keeps the "
		          "previous version)",
		          f->read_err);
		file_finish(f, true, f->read_err);
		return;
	}
	log_debug("[%s] zone file %s, %zu records read", f->zf.zone, f->path,
	          f->zf.nrecords);
	file_submit(f);
}

static void
zoneload_file_start(struct zoneload_file *f)
{
	struct zoneload *zl = f->zl;
	int rv;

	if (f->state != ZONELOAD_IDLE) {
		f->again = true;
		return;
	}
	if (f->gen != zl->gen) {
		/* A new round: the retry delay starts over. */
		f->backoff_ms = ZONELOAD_RETRY_MIN_MS;
		f->tries = 0;
	}
	f->gen = zl->gen;
	f->state = ZONELOAD_READING;
	dr_zonefile_free(&f->zf);
	f->work.data = f;
	rv = uv_queue_work(zl->loop, &f->work, file_read_work, file_read_done);
	if (rv != 0) {
		log_warnx("zone file %s, cannot be read (%s)", f->path,
		          uv_strerror(rv));
		f->again = false;
		file_outcome(f, true, "cannot start reading");
		zoneload_check(zl);
	}
}

/* --- the loader --- */

static void
zoneload_hook(void *hook_arg, dispatch_done_cb cb, void *cb_arg)
{
	zoneload_reload(hook_arg, cb, cb_arg);
}

void
zoneload_start(struct zoneload *zl, uv_loop_t *loop,
               const struct dr_config *cfg, struct dispatch *dispatch)
{
	unsigned i;

	memset(zl, 0, sizeof(*zl));
	zl->loop = loop;
	zl->cfg = cfg;
	zl->dispatch = dispatch;
	zl->nfiles = cfg->n_zone_files;
	for (i = 0; i < zl->nfiles; i++) {
		struct zoneload_file *f = &zl->files[i];

		f->zl = zl;
		f->path = cfg->zone_files[i];
		dr_buf_init(&f->zf.lines);
	}
	dispatch_set_reload(dispatch, zoneload_hook, zl);
	if (zl->nfiles > 0) {
		log_info("zone files, loading %u", zl->nfiles);
		zoneload_reload(zl, NULL, NULL);
	}
}

void
zoneload_reload(struct zoneload *zl, dispatch_done_cb cb, void *arg)
{
	struct zoneload_waiter *w;
	unsigned i;

	if (zl->stopping) {
		if (cb != NULL)
			cb("ERROR shutting down\n", 20, 0, arg);
		return;
	}
	zl->gen++;
	for (i = 0; i < zl->nfiles; i++) {
		struct zoneload_file *f = &zl->files[i];

		if (f->state == ZONELOAD_RETRYING) {
			/* Do not wait for the backoff: read it now. */
			uv_timer_stop(&f->timer);
			f->state = ZONELOAD_IDLE;
		}
		zoneload_file_start(f);
	}
	if (cb == NULL)
		return;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		abort();
	w->zl = zl;
	w->gen = zl->gen;
	w->cb = cb;
	w->arg = arg;
	uv_timer_init(zl->loop, &w->timer);
	w->timer.data = w;
	w->next = zl->waiters;
	if (zl->waiters != NULL)
		zl->waiters->prev = w;
	zl->waiters = w;
	/* Never answered from inside this call: at the earliest next turn. */
	uv_timer_start(&w->timer, waiter_timer_cb, 0, 0);
}

void
zoneload_stop(struct zoneload *zl)
{
	unsigned i;

	if (zl->stopping)
		return;
	zl->stopping = true;
	while (zl->waiters != NULL)
		waiter_answer(zl->waiters, "ERROR shutting down");
	for (i = 0; i < zl->nfiles; i++) {
		struct zoneload_file *f = &zl->files[i];

		if (f->req != NULL) {
			/* It runs to its end; nobody listens. */
			dispatch_detach(f->req);
			f->req = NULL;
		}
		if (f->timer_open) {
			f->timer_open = false;
			uv_close((uv_handle_t *)&f->timer, NULL);
		}
		if (f->state != ZONELOAD_READING) {
			dr_zonefile_free(&f->zf);
			f->state = ZONELOAD_IDLE;
		}
	}
	dispatch_set_reload(zl->dispatch, NULL, NULL);
}
