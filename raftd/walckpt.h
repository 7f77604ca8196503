/* WAL checkpoints of state.db, the bulk of them off the loop. */
#ifndef RAFTD_WALCKPT_H
#define RAFTD_WALCKPT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "flags.h"

struct sqlite3;

/*
 * SQLite checkpoints a WAL database on the connection that commits, once
 * the WAL holds 1000 pages: on raftd's loop, copying them all into
 * state.db and fsyncing both files, which held the loop (the heartbeats,
 * and every node at once: all apply the same entries) for hundreds of ms
 * on a busy disk. The store turns that off and calls walckpt_committed
 * after each commit instead:
 *
 * - from WALCKPT_PAGES pages on, this thread makes a PASSIVE checkpoint
 *   on a connection of its own: it copies (and fsyncs) what is in the
 *   WAL while the loop goes on committing;
 * - a checkpoint that the writer raced is not complete, and SQLite starts
 *   the WAL over only after a complete one. So once the thread has copied
 *   all but WALCKPT_SLACK pages, the loop checkpoints the rest itself (a
 *   few pages, two small fsyncs), and the WAL starts over at its next
 *   commit;
 * - past WALCKPT_PAGES_MAX (the thread cannot keep up) the loop
 *   checkpoints whatever is left, as SQLite would have, so the WAL stays
 *   bounded.
 *
 * Thread runs are at least WALCKPT_GAP_MS apart. walckpt_lock keeps them
 * out while the store replaces state.db under its path.
 */
#define WALCKPT_PAGES     1000
#define WALCKPT_SLACK     256
#define WALCKPT_PAGES_MAX 16000
#define WALCKPT_GAP_MS    20

struct walckpt_stats {
	uint64_t thread_runs; /* checkpoints made by the thread */
	uint64_t loop_runs;   /* by the loop: tails and over the maximum */
	uint64_t loop_full;   /* of which over WALCKPT_PAGES_MAX */
};

struct walckpt {
	pthread_t thread;
	pthread_mutex_t mu; /* guards what follows up to file */
	pthread_cond_t cv;
	bool kick;
	bool stop;
	uint64_t gen;      /* WAL generation: the loop counts restarts */
	uint64_t done_gen; /* of the thread's last run: */
	int done;          /* WAL frames it left copied */
	struct walckpt_stats stats;
	pthread_mutex_t file; /* held by a run, and by walckpt_lock */
	char path[DR_PATH_LEN];
	int last_pages; /* the loop's: WAL size at the previous commit */
	bool started;
};

/* Starts the thread for the database at path. DR_EIO on failure. */
int walckpt_start(struct walckpt *w, const char *path);
/*
 * After a commit on db (the store's connection), whose WAL now holds
 * pages frames: kicks the thread or checkpoints the tail (see above).
 */
void walckpt_committed(struct walckpt *w, struct sqlite3 *db, int pages);
/* Waits for a thread run to end and keeps new ones out until unlock. */
void walckpt_lock(struct walckpt *w);
void walckpt_unlock(struct walckpt *w);
void walckpt_stats(struct walckpt *w, struct walckpt_stats *out);
/* Stops and joins the thread (a run in progress ends first). */
void walckpt_stop(struct walckpt *w);

#endif
