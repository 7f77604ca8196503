/* zone dump in bounded chunks, each dump reading one snapshot of state.db. */
#include "dumps.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "zoneread.h"

struct dump {
	uint64_t id;
	sqlite3 *db;
	sqlite3_stmt *rows; /* stepping through the zone */
	char zone[256];
	uint64_t last_ms; /* uv_now of the last chunk */
};

void
dumps_init(struct dumps *ds, uv_loop_t *loop, const char *db_path)
{
	memset(ds, 0, sizeof(*ds));
	ds->loop = loop;
	snprintf(ds->path, sizeof(ds->path), "%s", db_path);
	ds->next_id = 1;
}

static void
dump_free(struct dump *d)
{
	if (d == NULL)
		return;
	sqlite3_finalize(d->rows);
	sqlite3_close(d->db); /* ends the read transaction */
	free(d);
}

void
dumps_close(struct dumps *ds)
{
	size_t i;

	for (i = 0; i < DUMPS_MAX; i++) {
		dump_free(ds->d[i]);
		ds->d[i] = NULL;
	}
}

/* Ends dumps nobody asked for in DUMPS_IDLE_MS. */
static void
dumps_sweep(struct dumps *ds, uint64_t now)
{
	size_t i;

	for (i = 0; i < DUMPS_MAX; i++)
		if (ds->d[i] != NULL &&
		    now > ds->d[i]->last_ms + DUMPS_IDLE_MS) {
			log_debug("dump of %s, expired", ds->d[i]->zone);
			dump_free(ds->d[i]);
			ds->d[i] = NULL;
		}
}

static int
dump_err(struct dump *d, const char *what)
{
	log_warnx("state.db, dump %s failed (%s)", what,
	          d->db != NULL ? sqlite3_errmsg(d->db) : "out of memory");
	return DR_EIO;
}

/*
 * Opens a dump of zone: the SOA goes to out now (it also proves the zone
 * exists), and the rows statement stays open inside the transaction.
 */
static int
dump_open(struct dumps *ds, const char *zone, struct dump **out_d,
          struct dr_buf *out)
{
	struct dump *d = calloc(1, sizeof(*d));
	sqlite3_stmt *soa = NULL;
	int src, rv;

	if (d == NULL)
		abort();
	snprintf(d->zone, sizeof(d->zone), "%s", zone);
	if (sqlite3_open_v2(ds->path, &d->db,
	                    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK ||
	    sqlite3_exec(d->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(d->db, ZONEREAD_SOA_SQL, -1, &soa, NULL) !=
	        SQLITE_OK ||
	    sqlite3_prepare_v2(d->db, ZONEREAD_ROWS_SQL, -1, &d->rows, NULL) !=
	        SQLITE_OK) {
		rv = dump_err(d, "open");
		goto err;
	}
	sqlite3_bind_text(soa, 1, d->zone, -1, SQLITE_STATIC);
	sqlite3_bind_text(d->rows, 1, d->zone, -1, SQLITE_STATIC);
	/* The first step starts the snapshot. */
	src = sqlite3_step(soa);
	if (src == SQLITE_DONE) {
		rv = DR_ENOTFOUND;
		goto err;
	}
	if (src != SQLITE_ROW) {
		rv = dump_err(d, "read");
		goto err;
	}
	zoneread_put_row(out, soa, true);
	sqlite3_finalize(soa);
	*out_d = d;
	return 0;
err:
	sqlite3_finalize(soa);
	dump_free(d);
	return rv;
}

/* Appends rows up to max bytes; *done once the zone is through. */
static int
dump_rows(struct dump *d, size_t max, struct dr_buf *out, bool *done)
{
	size_t start = out->len;
	int src;

	*done = false;
	while (out->len - start < max) {
		src = sqlite3_step(d->rows);
		if (src == SQLITE_DONE) {
			*done = true;
			return 0;
		}
		if (src != SQLITE_ROW)
			return dump_err(d, "read");
		if (!zoneread_row_is_soa(d->rows, d->zone))
			zoneread_put_row(out, d->rows, true);
	}
	return 0;
}

int
dumps_next(struct dumps *ds, const char *zone, uint64_t cursor, size_t max,
           uint64_t *next, struct dr_buf *out)
{
	uint64_t now = uv_now(ds->loop);
	struct dump *d = NULL;
	size_t i, slot = DUMPS_MAX;
	bool done;
	int rv;

	*next = 0;
	dumps_sweep(ds, now);
	if (max == 0 || max > DUMPS_CHUNK_MAX)
		max = DUMPS_CHUNK_MAX;
	for (i = 0; i < DUMPS_MAX; i++) {
		if (ds->d[i] == NULL && slot == DUMPS_MAX)
			slot = i;
		if (cursor != 0 && ds->d[i] != NULL && ds->d[i]->id == cursor) {
			d = ds->d[i];
			slot = i;
		}
	}
	if (cursor != 0 && (d == NULL || strcmp(d->zone, zone) != 0))
		return DR_EINVAL;
	if (d == NULL) {
		if (slot == DUMPS_MAX)
			return DR_EBUSY;
		if ((rv = dump_open(ds, zone, &d, out)) != 0)
			return rv;
		d->id = ds->next_id++;
		ds->d[slot] = d;
	}
	d->last_ms = now;
	rv = dump_rows(d, max, out, &done);
	if (rv != 0 || done) {
		dump_free(d);
		ds->d[slot] = NULL;
		return rv;
	}
	*next = d->id;
	return 0;
}

void
dumps_end(struct dumps *ds, uint64_t cursor)
{
	size_t i;

	for (i = 0; i < DUMPS_MAX; i++)
		if (ds->d[i] != NULL && ds->d[i]->id == cursor) {
			dump_free(ds->d[i]);
			ds->d[i] = NULL;
		}
}
