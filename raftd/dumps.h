/* zone dump in bounded chunks, each dump reading one snapshot of state.db. */
#ifndef RAFTD_DUMPS_H
#define RAFTD_DUMPS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "flags.h"
#include "wire.h"

/*
 * A dump of a large zone is sent to ctld in chunks of at most a few
 * hundred KiB, each asked for only once the client read the previous one
 * (ctld/dispatch.c). So that the chunks make one consistent zone even
 * while writes go on, a dump holds a read transaction on its own
 * read-only connection to state.db (WAL readers do not block raftd's
 * writes) until its last chunk, or until nobody asked for a chunk for
 * DUMPS_IDLE_MS (then it is gone and its cursor unknown). At most
 * DUMPS_MAX dumps at once; more are refused as busy.
 */
#define DUMPS_MAX       16
#define DUMPS_IDLE_MS   30000
#define DUMPS_CHUNK_MAX (256 * 1024)

struct dump;

struct dumps {
	uv_loop_t *loop; /* borrowed */
	char path[DR_PATH_LEN];
	struct dump *d[DUMPS_MAX]; /* owned; NULL: free slot */
	uint64_t next_id;
};

void dumps_init(struct dumps *ds, uv_loop_t *loop, const char *db_path);
/* Ends every dump. */
void dumps_close(struct dumps *ds);

/*
 * Appends the next chunk (at most max bytes but for one record line more,
 * and at least one line) of the dump with cursor (0: start one of zone, a
 * canonical name) to out, as "owner ttl IN TYPE rdata\n" lines with the
 * SOA first; *next is the cursor to ask for the rest, 0 when this was the
 * last chunk. DR_ENOTFOUND (no such zone), DR_EINVAL (unknown or expired
 * cursor, or a cursor of another zone), DR_EBUSY (DUMPS_MAX dumps
 * running), DR_EIO (SQLite failed, logged).
 */
int dumps_next(struct dumps *ds, const char *zone, uint64_t cursor, size_t max,
               uint64_t *next, struct dr_buf *out);

/* Ends the dump with cursor now (its client left); unknown ones: none. */
void dumps_end(struct dumps *ds, uint64_t cursor);

#endif
