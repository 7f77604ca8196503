/* Record reads for ctld: one name, the zone list, a zone as a master file. */
#include "zoneread.h"

#include <assert.h>
#include <ctype.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "rr.h"

enum { ZR_NAME, ZR_NAME_TYPE, ZR_ZONES, ZR_SOA, ZR_ZONE_ROWS, ZR_COUNT };

static_assert(ZR_COUNT == ZONEREAD_NSTMT, "ZONEREAD_NSTMT is the count");

#define ZR_COLS ZONEREAD_COLS

static const char *const zoneread_sql[ZR_COUNT] = {
	/* A delegation's NS rows sit in two zones: list them once. */
	[ZR_NAME] = "SELECT DISTINCT " ZR_COLS " FROM records WHERE "
	            "owner = ?1 ORDER BY type, rdata, ttl",
	[ZR_NAME_TYPE] = "SELECT DISTINCT " ZR_COLS " FROM records WHERE "
	                 "owner = ?1 AND type = ?2 ORDER BY rdata, ttl",
	[ZR_ZONES] = "SELECT name, serial, (SELECT count(*) FROM records "
	             "WHERE zone = zones.name) FROM zones ORDER BY name",
	[ZR_SOA] = ZONEREAD_SOA_SQL,
	[ZR_ZONE_ROWS] = ZONEREAD_ROWS_SQL,
};

int
zoneread_init(struct zoneread *r, struct sqlite3 *db)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->db = db;
	for (i = 0; i < ZR_COUNT; i++) {
		if (sqlite3_prepare_v3(db, zoneread_sql[i], -1,
		                       SQLITE_PREPARE_PERSISTENT, &r->stmt[i],
		                       NULL) != SQLITE_OK) {
			log_warnx("state.db, %s failed (%s)", zoneread_sql[i],
			          sqlite3_errmsg(db));
			zoneread_close(r);
			return DR_EIO;
		}
	}
	return 0;
}

void
zoneread_close(struct zoneread *r)
{
	size_t i;

	for (i = 0; i < ZR_COUNT; i++) {
		sqlite3_finalize(r->stmt[i]);
		r->stmt[i] = NULL;
	}
}

static void
zr_put_col(struct dr_buf *out, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	if (t != NULL)
		dr_buf_put(out, t, (size_t)sqlite3_column_bytes(st, col));
}

void
zoneread_put_row(struct dr_buf *out, sqlite3_stmt *st, bool class_in)
{
	zr_put_col(out, st, 0);
	dr_buf_put(out, " ", 1);
	zr_put_col(out, st, 1);
	dr_buf_put(out, class_in ? " IN " : " ", class_in ? 4 : 1);
	zr_put_col(out, st, 2);
	dr_buf_put(out, " ", 1);
	zr_put_col(out, st, 3);
	dr_buf_put(out, "\n", 1);
}

/*
 * Steps st, appending every row (but the SOA at zone's apex when
 * skip_soa). Returns the number of rows written, or DR_EIO. Resets st.
 */
static int
zr_rows(struct zoneread *r, sqlite3_stmt *st, bool class_in, bool skip_soa,
        const char *zone, struct dr_buf *out)
{
	int src, n = 0;

	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (skip_soa && zoneread_row_is_soa(st, zone))
			continue;
		zoneread_put_row(out, st, class_in);
		n++;
	}
	if (src != SQLITE_DONE) {
		log_warnx("state.db, %s failed (%s)", sqlite3_sql(st),
		          sqlite3_errmsg(r->db));
		n = DR_EIO;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return n;
}

bool
zoneread_row_is_soa(sqlite3_stmt *st, const char *apex)
{
	return strcmp((const char *)sqlite3_column_text(st, 2), "SOA") == 0 &&
	       strcmp((const char *)sqlite3_column_text(st, 0), apex) == 0;
}

/* Uppercase mnemonic ("a" -> "A"); false if it cannot be a type. */
static bool
zr_type(const char *in, char *out, size_t outlen)
{
	size_t i, n = strlen(in);

	if (n == 0 || n >= outlen)
		return false;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)in[i]) && in[i] != '-')
			return false;
		out[i] = (char)toupper((unsigned char)in[i]);
	}
	out[n] = '\0';
	return true;
}

int
zoneread_rr_get(struct zoneread *r, const char *name, const char *type,
                struct dr_buf *out)
{
	char owner[256], t[32];
	sqlite3_stmt *st;
	int n;

	if (dr_zone_name(name, owner, sizeof(owner)) != 0)
		return DR_EINVAL;
	if (type != NULL && type[0] != '\0') {
		if (!zr_type(type, t, sizeof(t)))
			return DR_EINVAL;
		st = r->stmt[ZR_NAME_TYPE];
		sqlite3_bind_text(st, 2, t, -1, SQLITE_TRANSIENT);
	} else {
		st = r->stmt[ZR_NAME];
	}
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_TRANSIENT);
	n = zr_rows(r, st, false, false, NULL, out);
	return n < 0 ? n : n == 0 ? DR_ENOTFOUND : 0;
}

int
zoneread_list(struct zoneread *r, struct dr_buf *out)
{
	sqlite3_stmt *st = r->stmt[ZR_ZONES];
	char line[512];
	int src, n = 0, len;

	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		len = snprintf(line, sizeof(line), "%s %lld %lld\n",
		               (const char *)sqlite3_column_text(st, 0),
		               (long long)sqlite3_column_int64(st, 1),
		               (long long)sqlite3_column_int64(st, 2));
		dr_buf_put(out, line, (size_t)len);
		n++;
	}
	if (src != SQLITE_DONE) {
		log_warnx("state.db, zone list failed (%s)",
		          sqlite3_errmsg(r->db));
		n = DR_EIO;
	}
	sqlite3_reset(st);
	return n < 0 ? n : n == 0 ? DR_ENOTFOUND : 0;
}

int
zoneread_dump(struct zoneread *r, const char *zone, struct dr_buf *out)
{
	char apex[256];
	sqlite3_stmt *st;
	int n;

	if (dr_zone_name(zone, apex, sizeof(apex)) != 0)
		return DR_EINVAL;
	/* The SOA first: it opens a master file (and names the zone). */
	st = r->stmt[ZR_SOA];
	sqlite3_bind_text(st, 1, apex, -1, SQLITE_TRANSIENT);
	if ((n = zr_rows(r, st, true, false, NULL, out)) <= 0)
		return n < 0 ? n : DR_ENOTFOUND;
	st = r->stmt[ZR_ZONE_ROWS];
	sqlite3_bind_text(st, 1, apex, -1, SQLITE_TRANSIENT);
	n = zr_rows(r, st, true, true, apex, out);
	return n < 0 ? n : 0;
}
