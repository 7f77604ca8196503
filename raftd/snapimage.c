/* Snapshot images of state.db: taken off the loop, checked and staged. */
#include "snapimage.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "flags.h"
#include "log.h"

#define SNAPIMAGE_HEAD 100 /* SQLite's database header */

static const char snapimage_magic[16] = "SQLite format 3";

int
snapimage_read_meta(struct sqlite3 *db, const char *key, uint64_t *out)
{
	sqlite3_stmt *st;
	int rv = DR_EIO;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1,
	                       &st, NULL) != SQLITE_OK) {
		log_warnx("state.db, reading meta failed (%s)",
		          sqlite3_errmsg(db));
		return DR_EIO;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) == SQLITE_INTEGER &&
	    sqlite3_column_int64(st, 0) >= 0) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
		rv = 0;
	}
	sqlite3_finalize(st);
	return rv;
}

int
snapimage_reader_open(struct snapimage_reader *r, const char *path)
{
	memset(r, 0, sizeof(*r));
	if (sqlite3_open_v2(path, &r->db,
	                    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK)
		goto err_after_open;
	sqlite3_busy_timeout(r->db, 5000);
	/* BEGIN takes no snapshot yet; the first read does. */
	if (sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		goto err_after_open;
	if (snapimage_read_meta(r->db, "applied_index", &r->applied_index) !=
	        0 ||
	    snapimage_read_meta(r->db, "change_seq", &r->change_seq) != 0)
		goto err_after_open;
	return 0;

err_after_open:
	log_warnx("snapshot, cannot open a reader on %s (%s)", path,
	          r->db != NULL ? sqlite3_errmsg(r->db) : "out of memory");
	snapimage_reader_close(r);
	return DR_EIO;
}

int
snapimage_reader_take(struct snapimage_reader *r, void **image, size_t *len)
{
	sqlite3_int64 n = 0;
	unsigned char *img;
	int rv = 0;

	if (r->db == NULL)
		return DR_EIO;
	/* Within the open transaction: its pages, the WAL's included. */
	img = sqlite3_serialize(r->db, "main", &n, 0);
	if (img == NULL || n < SNAPIMAGE_HEAD) {
		log_warnx("snapshot, serialize failed (%s)",
		          sqlite3_errmsg(r->db));
		sqlite3_free(img);
		rv = DR_EIO;
	} else {
		*image = img;
		*len = (size_t)n;
	}
	snapimage_reader_close(r);
	return rv;
}

void
snapimage_reader_close(struct snapimage_reader *r)
{
	if (r->db == NULL)
		return;
	/* Ends the read transaction: checkpoints may pass it again. */
	sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	if (sqlite3_close(r->db) != SQLITE_OK)
		log_warnx("snapshot, reader close failed (%s)",
		          sqlite3_errmsg(r->db));
	r->db = NULL;
}

void
snapimage_free(void *image)
{
	sqlite3_free(image);
}

/*
 * A quick_check first: the image comes from another node, and a corrupt
 * one must be refused before it replaces a good state.db.
 */
static int
snapimage_check(sqlite3 *db, uint64_t *applied)
{
	sqlite3_stmt *st;
	const char *ok;
	uint64_t seq;

	if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL) !=
	    SQLITE_OK)
		return DR_EMALFORMED;
	ok = sqlite3_step(st) == SQLITE_ROW
	         ? (const char *)sqlite3_column_text(st, 0)
	         : NULL;
	if (ok == NULL || strcmp(ok, "ok") != 0) {
		sqlite3_finalize(st);
		return DR_EMALFORMED;
	}
	sqlite3_finalize(st);
	if (snapimage_read_meta(db, "applied_index", applied) != 0 ||
	    snapimage_read_meta(db, "change_seq", &seq) != 0)
		return DR_EMALFORMED;
	return 0;
}

static int
snapimage_head_ok(const void *image, size_t len)
{
	if (len < SNAPIMAGE_HEAD ||
	    memcmp(image, snapimage_magic, sizeof(snapimage_magic)) != 0) {
		log_warnx("snapshot, image is not a state.db (bad header)");
		return DR_EMALFORMED;
	}
	return 0;
}

int
snapimage_probe(void *image, size_t len, uint64_t *applied)
{
	unsigned char *b = image;
	sqlite3 *db;
	int rv;

	if ((rv = snapimage_head_ok(image, len)) != 0)
		return rv;
	b[18] = 1;
	b[19] = 1;
	if (sqlite3_open_v2(":memory:", &db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return DR_EIO;
	}
	/* Reads the caller's bytes in place, no copy. */
	if (sqlite3_deserialize(db, "main", image, (sqlite3_int64)len,
	                        (sqlite3_int64)len,
	                        SQLITE_DESERIALIZE_READONLY) != SQLITE_OK)
		rv = DR_EMALFORMED;
	else
		rv = snapimage_check(db, applied);
	if (rv != 0)
		log_warnx("snapshot, image is not a state.db (%s)",
		          sqlite3_errmsg(db));
	sqlite3_close(db);
	return rv;
}

int
snapimage_stage(const char *path, const void *image, size_t len,
                uint64_t *applied)
{
	sqlite3 *db;
	int rv;

	if ((rv = snapimage_head_ok(image, len)) != 0)
		return rv;
	/*
	 * Written as it came, in WAL mode if the image says so: store_open
	 * then finds it in WAL mode already and has no journal mode to
	 * change (a change rewrites the header and syncs, on the loop).
	 */
	if ((rv = snapimage_write_file(path, NULL, image, len)) != 0)
		return rv;
	/* Read-write: read-only WAL needs a -shm; closing removes both. */
	if (sqlite3_open_v2(path, &db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK)
		rv = DR_EMALFORMED;
	else
		rv = snapimage_check(db, applied);
	if (rv != 0)
		log_warnx("snapshot, image is not a state.db (%s)",
		          db != NULL ? sqlite3_errmsg(db) : "out of memory");
	if (sqlite3_close(db) != SQLITE_OK)
		rv = DR_EIO;
	if (rv != 0)
		unlink(path);
	return rv;
}

static int
snapimage_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
snapimage_write_file(const char *path, const void *head, const void *data,
                     size_t len)
{
	const char *p = data;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_warn("%s, cannot create", path);
		return DR_EIO;
	}
	if (head != NULL) {
		if (snapimage_write_all(fd, head, SNAPIMAGE_HEAD) != 0)
			goto err_write;
		p += SNAPIMAGE_HEAD;
		len -= SNAPIMAGE_HEAD;
	}
	if (snapimage_write_all(fd, p, len) != 0)
		goto err_write;
	if (fsync(fd) != 0) {
		log_warn("%s, fsync failed", path);
		goto err_after_open;
	}
	close(fd);
	return 0;

err_write:
	log_warn("%s, write failed", path);
err_after_open:
	close(fd);
	unlink(path);
	return DR_EIO;
}

void
snapimage_fsync_dir(const char *path)
{
	char dir[DR_PATH_LEN];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		log_warn("%s, fsync failed", dir);
	if (fd >= 0)
		close(fd);
}
