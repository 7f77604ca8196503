/* Snapshot images of state.db: taken off the loop, checked and staged. */
#ifndef RAFTD_SNAPIMAGE_H
#define RAFTD_SNAPIMAGE_H

#include <stddef.h>
#include <stdint.h>

/*
 * An image is the bytes of state.db as a SQLite database file, pages 1..N
 * (what sqlite3_serialize returns), the WAL folded in. Its meta table says
 * which Raft index it holds (applied_index). Every raftd version so far
 * writes and reads this format; there is no header of our own.
 *
 *   offset  size  field
 *   0       16    "SQLite format 3\0"
 *   18      1     file format write version: 1 rollback, 2 WAL
 *   19      1     file format read version: likewise
 *   ...           the rest of SQLite's file format
 *
 * Images written by a WAL database say 2 in bytes 18 and 19. SQLite opens
 * such an image in memory only if they say 1 (DESIGN.md section 8), so
 * snapimage_probe marks it; as a file it opens either way.
 */

struct sqlite3;

/*
 * A read transaction on a connection of its own to state.db: in WAL mode
 * it sees the database as committed when it began while the store keeps
 * writing, so an image taken from it later is exactly that state.
 */
struct snapimage_reader {
	struct sqlite3 *db;     /* owned; NULL once closed */
	uint64_t applied_index; /* meta.applied_index it sees */
	uint64_t change_seq;    /* meta.change_seq it sees */
};

/*
 * Opens a read-only connection to path and begins its read transaction
 * (the first read fixes what it sees). Cheap: no page of the tables is
 * read. Call it on the thread that commits, right after a commit. DR_EIO
 * on failure (logged; nothing left open).
 */
int snapimage_reader_open(struct snapimage_reader *r, const char *path);

/*
 * Copies every page the read transaction sees into one buffer from
 * sqlite3_malloc (free it with snapimage_free), then ends the transaction
 * and closes the connection. Safe on any thread, one at a time per
 * reader. DR_EIO on failure (logged; the reader is closed all the same).
 */
int snapimage_reader_take(struct snapimage_reader *r, void **image,
                          size_t *len);

/* Closes the reader if it is still open. */
void snapimage_reader_close(struct snapimage_reader *r);

void snapimage_free(void *image);

/*
 * Reads meta.key (a non-negative integer) through db. DR_EIO if missing
 * or not an integer.
 */
int snapimage_read_meta(struct sqlite3 *db, const char *key, uint64_t *out);

/*
 * Checks an image in memory: header, PRAGMA quick_check and meta. Marks
 * its header as a rollback-journal database in place (bytes 18, 19).
 * Fills *applied with its applied_index. DR_EMALFORMED for anything that
 * is not a valid state.db, DR_EIO if SQLite cannot even open a memory
 * database.
 */
int snapimage_probe(void *image, size_t len, uint64_t *applied);

/*
 * Writes image to path (created or truncated, mode 0640) as it is, fsyncs
 * it, then checks the file as snapimage_probe checks memory (the check's
 * -wal and -shm are gone when it returns). image is only read: other
 * threads may read it meanwhile. Safe on any thread. On failure path is
 * removed:
 * DR_EMALFORMED for an image that is not a valid state.db, DR_EIO if it
 * could not be written.
 */
int snapimage_stage(const char *path, const void *image, size_t len,
                    uint64_t *applied);

/*
 * Writes len bytes to path and fsyncs; DR_EIO (logged, path removed) on
 * failure. If head is not NULL its 100 bytes are written in place of the
 * first 100 of data (len >= 100).
 */
int snapimage_write_file(const char *path, const void *head, const void *data,
                         size_t len);

/* Fsyncs the directory holding path (a rename there is then durable). */
void snapimage_fsync_dir(const char *path);

#endif
