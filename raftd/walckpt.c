/* WAL checkpoints of state.db, the bulk of them off the loop (walckpt.h). */
#include "walckpt.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "log.h"

/* A PASSIVE checkpoint: frames copied into *done. SQLite's code. */
static int
walckpt_passive(sqlite3 *db, int *done)
{
	int logged = -1;
	int src;

	*done = -1;
	src = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	                                &logged, done);
	if (src != SQLITE_OK && src != SQLITE_BUSY)
		log_warnx("state.db, checkpoint failed (%s)",
		          sqlite3_errmsg(db));
	return src;
}

static void
walckpt_run(struct walckpt *w, uint64_t gen)
{
	sqlite3 *db = NULL;
	int done = -1;
	int src;

	pthread_mutex_lock(&w->file);
	src = sqlite3_open_v2(
	    w->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	/* A connection sees the WAL only once it has read the database. */
	if (src == SQLITE_OK)
		src =
		    sqlite3_exec(db, "PRAGMA schema_version", NULL, NULL, NULL);
	if (src == SQLITE_OK)
		(void)walckpt_passive(db, &done);
	else
		log_warnx("state.db, checkpoint cannot open (%s)",
		          db != NULL ? sqlite3_errmsg(db)
		                     : sqlite3_errstr(src));
	sqlite3_close(db);
	pthread_mutex_unlock(&w->file);
	pthread_mutex_lock(&w->mu);
	w->stats.thread_runs++;
	w->done_gen = gen;
	w->done = done;
	pthread_mutex_unlock(&w->mu);
}

/* Waits until ms from now or a stop; mu is held. */
static void
walckpt_pause(struct walckpt *w, unsigned ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!w->stop &&
	       pthread_cond_timedwait(&w->cv, &w->mu, &until) != ETIMEDOUT)
		;
}

static void *
walckpt_main(void *arg)
{
	struct walckpt *w = arg;
	uint64_t gen;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->kick && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			break;
		w->kick = false;
		gen = w->gen;
		pthread_mutex_unlock(&w->mu);
		walckpt_run(w, gen);
		pthread_mutex_lock(&w->mu);
		walckpt_pause(w, WALCKPT_GAP_MS);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int
walckpt_start(struct walckpt *w, const char *path)
{
	memset(w, 0, sizeof(*w));
	if (strlen(path) >= sizeof(w->path))
		return DR_EINVAL;
	strcpy(w->path, path);
	pthread_mutex_init(&w->mu, NULL);
	pthread_mutex_init(&w->file, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->thread, NULL, walckpt_main, w) != 0) {
		log_warnx("state.db, cannot start the checkpoint thread");
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->file);
		pthread_mutex_destroy(&w->mu);
		return DR_EIO;
	}
	w->started = true;
	return 0;
}

void
walckpt_committed(struct walckpt *w, sqlite3 *db, int pages)
{
	bool tail, full;
	int done;

	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	if (pages < w->last_pages)
		w->gen++; /* the WAL started over */
	w->last_pages = pages;
	if (pages < WALCKPT_PAGES) {
		pthread_mutex_unlock(&w->mu);
		return;
	}
	full = pages >= WALCKPT_PAGES_MAX;
	tail = w->done_gen == w->gen && w->done >= 0 &&
	       pages - w->done <= WALCKPT_SLACK;
	if (!tail && !full && !w->kick) {
		w->kick = true;
		pthread_cond_signal(&w->cv);
	}
	if (tail || full) {
		w->stats.loop_runs++;
		w->stats.loop_full += full;
	}
	pthread_mutex_unlock(&w->mu);
	if (tail || full)
		(void)walckpt_passive(db, &done);
}

void
walckpt_lock(struct walckpt *w)
{
	if (w->started)
		pthread_mutex_lock(&w->file);
}

void
walckpt_unlock(struct walckpt *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	w->gen++; /* a new state.db: what the thread did is of the old one */
	w->last_pages = 0;
	pthread_mutex_unlock(&w->mu);
	pthread_mutex_unlock(&w->file);
}

void
walckpt_stats(struct walckpt *w, struct walckpt_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	*out = w->stats;
	pthread_mutex_unlock(&w->mu);
}

void
walckpt_stop(struct walckpt *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->file);
	pthread_mutex_destroy(&w->mu);
	w->started = false;
}
