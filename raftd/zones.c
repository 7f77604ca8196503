/* Record and zone commands applied to state.db: checks, diff, serials. */
#include "zones.h"

#include <assert.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "log.h"
#include "rr.h"
#include "soa.h"
#include "zoneset.h"

enum {
	ZS_ZONE_GET,
	ZS_ZONE_SET,
	ZS_ZONE_DEL,
	ZS_SOA_GET,
	ZS_RR_TTL,
	ZS_RR_INSERT,
	ZS_RR_DELETE,
	ZS_RR_SET_TTL,
	ZS_OWNER_ROWS,
	ZS_ZONE_ROWS,
	ZS_ZONE_CLEAR,
	ZS_DIGEST_GET,
	ZS_DIGEST_SET,
	ZS_RR_INSERT_MANY, /* built in zones_init */
	ZS_COUNT
};

static_assert(ZS_COUNT == ZONES_NSTMT, "ZONES_NSTMT is the statement count");

#define RR_KEY "zone = ?1 AND owner = ?2 AND type = ?3 AND rdata = ?4"

/*
 * Rows per multi-row INSERT when a replace adds many records: a large
 * zone loads in ~40% less CPU than with one statement per row.
 */
#define ZONES_BATCH 64

static const char *const zones_sql[ZS_COUNT] = {
	[ZS_ZONE_GET] = "SELECT serial FROM zones WHERE name = ?1",
	/* Every change sets the serial; it also voids the digest. */
	[ZS_ZONE_SET] = "INSERT INTO zones(name, serial) VALUES (?1, ?2) "
	                "ON CONFLICT(name) DO UPDATE SET serial = "
	                "excluded.serial, digest1 = NULL, digest2 = NULL, "
	                "nrecords = NULL",
	[ZS_DIGEST_GET] = "SELECT digest1, digest2, nrecords FROM zones WHERE "
	                  "name = ?1 AND digest1 IS NOT NULL AND digest2 IS "
	                  "NOT NULL AND nrecords IS NOT NULL",
	[ZS_DIGEST_SET] = "UPDATE zones SET digest1 = ?2, digest2 = ?3, "
	                  "nrecords = ?4 WHERE name = ?1",
	[ZS_ZONE_DEL] = "DELETE FROM zones WHERE name = ?1",
	[ZS_SOA_GET] = "SELECT ttl, rdata FROM records WHERE zone = ?1 AND "
	               "owner = ?1 AND type = 'SOA'",
	[ZS_RR_TTL] = "SELECT ttl FROM records WHERE " RR_KEY,
	[ZS_RR_INSERT] = "INSERT INTO records(zone, owner, type, rdata, ttl) "
	                 "VALUES (?1, ?2, ?3, ?4, ?5)",
	[ZS_RR_DELETE] = "DELETE FROM records WHERE " RR_KEY,
	[ZS_RR_SET_TTL] = "UPDATE records SET ttl = ?5 WHERE " RR_KEY,
	[ZS_OWNER_ROWS] = "SELECT type, rdata FROM records WHERE zone = ?1 "
	                  "AND owner = ?2",
	/* Primary key order: no sort step, and the order zoneset sorts in. */
	[ZS_ZONE_ROWS] = "SELECT owner, type, rdata, ttl FROM records WHERE "
	                 "zone = ?1 ORDER BY owner, type, rdata",
	[ZS_ZONE_CLEAR] = "DELETE FROM records WHERE zone = ?1",
};

/* A record named by the arguments of a command or effect. */
struct zrec {
	struct dr_str zone, owner, type, rdata;
	uint32_t ttl;
};

/* A zone's current SOA. */
struct zsoa {
	uint32_t serial, ttl;
	struct dr_buf rdata;
};

int
zones_init(struct zones *z, struct sqlite3 *db)
{
	size_t i;

	struct dr_buf many;
	const char *sql;

	memset(z, 0, sizeof(*z));
	z->db = db;
	dr_buf_init(&many);
	sql = "INSERT INTO records(zone, owner, type, rdata, ttl) VALUES ";
	dr_buf_put(&many, sql, strlen(sql));
	for (i = 0; i < ZONES_BATCH; i++)
		dr_buf_put(&many, i ? ",(?,?,?,?,?)" : "(?,?,?,?,?)",
		           i ? 12 : 11);
	dr_buf_put(&many, "", 1);
	for (i = 0; i < ZS_COUNT; i++) {
		sql = i == ZS_RR_INSERT_MANY ? (const char *)many.data
		                             : zones_sql[i];
		if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT,
		                       &z->stmt[i], NULL) != SQLITE_OK) {
			log_warnx("state.db, %s failed (%s)", sql,
			          sqlite3_errmsg(db));
			dr_buf_close(&many);
			zones_close(z);
			return DR_EIO;
		}
	}
	dr_buf_close(&many);
	return 0;
}

void
zones_close(struct zones *z)
{
	size_t i;

	for (i = 0; i < ZS_COUNT; i++) {
		sqlite3_finalize(z->stmt[i]);
		z->stmt[i] = NULL;
	}
}

static int zones_refuse(char *reason, size_t reasonlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
zones_refuse(char *reason, size_t reasonlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, reasonlen, fmt, ap);
	va_end(ap);
	return DR_EINVAL;
}

static int
zones_db_err(struct zones *z, sqlite3_stmt *st)
{
	log_warnx("state.db, %s failed (%s)", sqlite3_sql(st),
	          sqlite3_errmsg(z->db));
	return DR_EIO;
}

static void
zones_bind(sqlite3_stmt *st, int col, struct dr_str v)
{
	sqlite3_bind_text(st, col, v.len ? v.p : "", (int)v.len, SQLITE_STATIC);
}

static void
zones_bind_key(sqlite3_stmt *st, const struct zrec *r)
{
	zones_bind(st, 1, r->zone);
	zones_bind(st, 2, r->owner);
	zones_bind(st, 3, r->type);
	zones_bind(st, 4, r->rdata);
}

static void
zones_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Steps a statement that returns no rows, then resets it. */
static int
zones_exec(struct zones *z, sqlite3_stmt *st)
{
	int rv = sqlite3_step(st) == SQLITE_DONE ? 0 : zones_db_err(z, st);

	zones_done(st);
	return rv;
}

static struct dr_str
zones_col(sqlite3_stmt *st, int col)
{
	struct dr_str s;

	s.p = (const char *)sqlite3_column_text(st, col);
	s.len = (size_t)sqlite3_column_bytes(st, col);
	if (s.p == NULL)
		s.p = "";
	return s;
}

static bool
zones_str_same(struct dr_str a, struct dr_str b)
{
	return a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
}

static struct dr_str
buf_str(const struct dr_buf *b)
{
	struct dr_str s = { b->len ? (const char *)b->data : "", b->len };

	return s;
}

/* ---- rows ---- */

/*
 * Runs a bound one-value query: column 0 of its row into *out. 0,
 * DR_ENOTFOUND (no row) or DR_EIO; the statement is reset either way.
 */
static int
zones_step_u32(struct zones *z, sqlite3_stmt *st, uint32_t *out)
{
	int src = sqlite3_step(st), rv;

	if (src == SQLITE_ROW) {
		*out = (uint32_t)sqlite3_column_int64(st, 0);
		rv = 0;
	} else if (src == SQLITE_DONE) {
		rv = DR_ENOTFOUND;
	} else {
		rv = zones_db_err(z, st);
	}
	zones_done(st);
	return rv;
}

/* Reads zones.serial. 0, DR_ENOTFOUND or DR_EIO. */
static int
zones_serial(struct zones *z, struct dr_str zone, uint32_t *serial)
{
	sqlite3_stmt *st = z->stmt[ZS_ZONE_GET];

	zones_bind(st, 1, zone);
	return zones_step_u32(z, st, serial);
}

/*
 * Loads the zone's SOA into soa (rdata initialised here; release with
 * dr_buf_close). 0, DR_ENOTFOUND (no zone) or DR_EIO.
 */
static int
zones_soa(struct zones *z, struct dr_str zone, struct zsoa *soa)
{
	sqlite3_stmt *st = z->stmt[ZS_SOA_GET];
	int rv;

	dr_buf_init(&soa->rdata);
	if ((rv = zones_serial(z, zone, &soa->serial)) != 0)
		return rv;
	zones_bind(st, 1, zone);
	if (sqlite3_step(st) == SQLITE_ROW) {
		struct dr_str r = zones_col(st, 1);

		soa->ttl = (uint32_t)sqlite3_column_int64(st, 0);
		dr_buf_put(&soa->rdata, r.p, r.len);
		rv = 0;
	} else {
		log_warnx("state.db, zone %.*s has no SOA record",
		          (int)zone.len, zone.p);
		rv = DR_EIO;
	}
	zones_done(st);
	return rv;
}

static int
zones_insert(struct zones *z, const struct zrec *r, struct effects *fx)
{
	sqlite3_stmt *st = z->stmt[ZS_RR_INSERT];

	zones_bind_key(st, r);
	sqlite3_bind_int64(st, 5, r->ttl);
	effects_add(fx, r->zone, r->owner, r->type, r->ttl, r->rdata);
	return zones_exec(z, st);
}

/* Inserts ZONES_BATCH records in one statement. */
static int
zones_insert_many(struct zones *z, const struct zrec *r, struct effects *fx)
{
	sqlite3_stmt *st = z->stmt[ZS_RR_INSERT_MANY];
	int i, col;

	for (i = 0; i < ZONES_BATCH; i++) {
		col = i * 5;
		zones_bind(st, col + 1, r[i].zone);
		zones_bind(st, col + 2, r[i].owner);
		zones_bind(st, col + 3, r[i].type);
		zones_bind(st, col + 4, r[i].rdata);
		sqlite3_bind_int64(st, col + 5, r[i].ttl);
		effects_add(fx, r[i].zone, r[i].owner, r[i].type, r[i].ttl,
		            r[i].rdata);
	}
	return zones_exec(z, st);
}

static int
zones_delete(struct zones *z, const struct zrec *r, struct effects *fx)
{
	sqlite3_stmt *st = z->stmt[ZS_RR_DELETE];

	zones_bind_key(st, r);
	effects_del(fx, r->zone, r->owner, r->type, r->rdata);
	return zones_exec(z, st);
}

static int
zones_set_ttl(struct zones *z, const struct zrec *r, struct effects *fx)
{
	sqlite3_stmt *st = z->stmt[ZS_RR_SET_TTL];

	zones_bind_key(st, r);
	sqlite3_bind_int64(st, 5, r->ttl);
	effects_del(fx, r->zone, r->owner, r->type, r->rdata);
	effects_add(fx, r->zone, r->owner, r->type, r->ttl, r->rdata);
	return zones_exec(z, st);
}

static int
zones_set_serial(struct zones *z, struct dr_str zone, uint32_t serial)
{
	sqlite3_stmt *st = z->stmt[ZS_ZONE_SET];

	zones_bind(st, 1, zone);
	sqlite3_bind_int64(st, 2, serial);
	return zones_exec(z, st);
}

/* Creates a zone from its SOA record. */
static int
zones_create(struct zones *z, const struct zrec *soa, struct effects *fx)
{
	uint32_t serial;
	size_t from, to;
	int rv;

	if (!soa_serial(soa->rdata, &serial, &from, &to))
		abort(); /* dr_rr_check passed */
	if ((rv = zones_set_serial(z, soa->zone, serial)) != 0)
		return rv;
	return zones_insert(z, soa, fx);
}

/*
 * The zone changed: rewrites its SOA from given (the SOA that came with
 * the change, or the stored one) with the next serial.
 */
static int
zones_bump(struct zones *z, struct dr_str zone, const struct zsoa *old,
           struct dr_str given, uint32_t ttl, struct effects *fx)
{
	struct zrec r = { zone, zone, { "SOA", 3 }, buf_str(&old->rdata), 0 };
	uint32_t serial, want;
	size_t from, to;
	struct dr_buf rdata;
	int rv;

	if (!soa_serial(given, &want, &from, &to))
		abort(); /* checked before */
	serial = soa_newer(want, old->serial) ? want : old->serial + 1;
	dr_buf_init(&rdata);
	if (!soa_with_serial(given, serial, &rdata))
		abort(); /* checked before */
	if ((rv = zones_delete(z, &r, fx)) == 0) {
		r.rdata = buf_str(&rdata);
		r.ttl = ttl;
		if ((rv = zones_insert(z, &r, fx)) == 0)
			rv = zones_set_serial(z, zone, serial);
	}
	dr_buf_close(&rdata);
	return rv;
}

/* ---- command arguments ---- */

/* The zone argument must already be a canonical zone name. */
static int
zones_check_zone(struct dr_str zone, char *reason, size_t reasonlen)
{
	char in[256], canon[256];

	if (zone.len == 0 || zone.len >= sizeof(in) ||
	    memchr(zone.p, '\0', zone.len) != NULL)
		return zones_refuse(reason, reasonlen, "invalid zone name");
	memcpy(in, zone.p, zone.len);
	in[zone.len] = '\0';
	if (dr_zone_name(in, canon, sizeof(canon)) != 0 ||
	    strcmp(in, canon) != 0)
		return zones_refuse(reason, reasonlen,
		                    "invalid zone name %.*s (want a lowercase "
		                    "absolute name)",
		                    (int)zone.len, zone.p);
	return 0;
}

/*
 * Checks an RR_ADD's record: the canonical line rebuilt from the fields
 * passes dr_rr_check and splits back into the same fields, and the owner
 * is in the zone. Sets r->ttl from the ttl argument.
 */
static int
zones_check_record(struct zrec *r, struct dr_str ttl, char *reason,
                   size_t reasonlen)
{
	char err[DR_RR_ERR_LEN];
	struct dr_rr f;
	struct dr_buf line;
	int rv = 0;

	dr_buf_init(&line);
	dr_buf_put(&line, r->owner.p, r->owner.len);
	dr_buf_put(&line, " ", 1);
	dr_buf_put(&line, ttl.p, ttl.len);
	dr_buf_put(&line, " ", 1);
	dr_buf_put(&line, r->type.p, r->type.len);
	dr_buf_put(&line, " ", 1);
	dr_buf_put(&line, r->rdata.p, r->rdata.len);
	if (dr_rr_split((const char *)line.data, line.len, &f) != 0 ||
	    !zones_str_same(f.owner, r->owner) || !zones_str_same(f.ttl, ttl) ||
	    !zones_str_same(f.type, r->type))
		rv = zones_refuse(reason, reasonlen, "malformed record");
	else if (dr_rr_check((const char *)line.data, line.len, err,
	                     sizeof(err)) != 0)
		rv = zones_refuse(reason, reasonlen, "%s", err);
	else if (!dr_rr_in_zone(r->owner, r->zone))
		rv = zones_refuse(
		    reason, reasonlen, "%.*s is outside the zone %.*s",
		    (int)r->owner.len, r->owner.p, (int)r->zone.len, r->zone.p);
	r->ttl = f.ttl_value;
	dr_buf_close(&line);
	return rv;
}

static bool
zones_is(struct dr_str type, const char *name)
{
	return dr_str_eq(type, name);
}

/*
 * A CNAME may not join other data at its owner, nor other data join a
 * CNAME. The same CNAME again (a TTL change) is fine.
 */
static int
zones_check_cname(struct zones *z, const struct zrec *r, char *reason,
                  size_t reasonlen)
{
	sqlite3_stmt *st = z->stmt[ZS_OWNER_ROWS];
	bool cname = zones_is(r->type, "CNAME"), clash = false;
	int src = SQLITE_DONE;

	zones_bind(st, 1, r->zone);
	zones_bind(st, 2, r->owner);
	while (!clash && (src = sqlite3_step(st)) == SQLITE_ROW) {
		struct dr_str t = zones_col(st, 0), d = zones_col(st, 1);

		if (cname)
			clash = !zones_is(t, "CNAME") ||
			        !zones_str_same(d, r->rdata);
		else
			clash = zones_is(t, "CNAME");
	}
	if (!clash && src != SQLITE_DONE) {
		int rv = zones_db_err(z, st);

		zones_done(st);
		return rv;
	}
	zones_done(st);
	if (clash)
		return zones_refuse(reason, reasonlen,
		                    "CNAME and other data at %.*s",
		                    (int)r->owner.len, r->owner.p);
	return 0;
}

/* Stored TTL of a record. 0, DR_ENOTFOUND or DR_EIO. */
static int
zones_find(struct zones *z, const struct zrec *r, uint32_t *ttl)
{
	sqlite3_stmt *st = z->stmt[ZS_RR_TTL];

	zones_bind_key(st, r);
	return zones_step_u32(z, st, ttl);
}

/* ---- RR_ADD, RR_DEL ---- */

/* An SOA given to an existing zone replaces its SOA. */
static int
zones_add_soa(struct zones *z, const struct zrec *r, struct effects *fx)
{
	struct zsoa old;
	int rv;

	if ((rv = zones_soa(z, r->zone, &old)) != 0)
		goto out;
	if (old.ttl == r->ttl &&
	    soa_same_but_serial(buf_str(&old.rdata), r->rdata))
		goto out;
	rv = zones_bump(z, r->zone, &old, r->rdata, r->ttl, fx);
out:
	dr_buf_close(&old.rdata);
	return rv;
}

/* Bumps the serial after a change to records other than the SOA. */
static int
zones_touch(struct zones *z, struct dr_str zone, struct effects *fx)
{
	struct zsoa old;
	int rv;

	if ((rv = zones_soa(z, zone, &old)) == 0)
		rv =
		    zones_bump(z, zone, &old, buf_str(&old.rdata), old.ttl, fx);
	dr_buf_close(&old.rdata);
	return rv;
}

static int
zones_rr_add(struct zones *z, const struct dr_cmd *c, struct effects *fx,
             char *reason, size_t reasonlen)
{
	struct zrec r = { c->args[0], c->args[1], c->args[2], c->args[4], 0 };
	uint32_t serial, ttl;
	size_t from, to;
	bool soa;
	int rv;

	if ((rv = zones_check_zone(r.zone, reason, reasonlen)) != 0 ||
	    (rv = zones_check_record(&r, c->args[3], reason, reasonlen)) != 0)
		return rv;
	soa = zones_is(r.type, "SOA");
	if (soa && !zones_str_same(r.owner, r.zone))
		return zones_refuse(reason, reasonlen,
		                    "SOA record only at the zone apex");
	if (soa && !soa_serial(r.rdata, &serial, &from, &to))
		return zones_refuse(reason, reasonlen, "bad SOA serial");
	rv = zones_serial(z, r.zone, &serial);
	if (rv == DR_ENOTFOUND) {
		if (!soa)
			return zones_refuse(reason, reasonlen,
			                    "zone %.*s does not exist",
			                    (int)r.zone.len, r.zone.p);
		return zones_create(z, &r, fx);
	}
	if (rv != 0)
		return rv;
	if (soa)
		return zones_add_soa(z, &r, fx);
	if ((rv = zones_check_cname(z, &r, reason, reasonlen)) != 0)
		return rv;
	rv = zones_find(z, &r, &ttl);
	if (rv == 0 && ttl == r.ttl)
		return 0; /* already there: nothing changes */
	if (rv == 0)
		rv = zones_set_ttl(z, &r, fx);
	else if (rv == DR_ENOTFOUND)
		rv = zones_insert(z, &r, fx);
	if (rv != 0)
		return rv;
	return zones_touch(z, r.zone, fx);
}

static int
zones_rr_del(struct zones *z, const struct dr_cmd *c, struct effects *fx,
             char *reason, size_t reasonlen)
{
	struct zrec r = { c->args[0], c->args[1], c->args[2], c->args[3], 0 };
	uint32_t serial, ttl;
	int rv;

	if ((rv = zones_check_zone(r.zone, reason, reasonlen)) != 0)
		return rv;
	rv = zones_serial(z, r.zone, &serial);
	if (rv == DR_ENOTFOUND)
		return zones_refuse(reason, reasonlen,
		                    "zone %.*s does not exist", (int)r.zone.len,
		                    r.zone.p);
	if (rv != 0)
		return rv;
	if (zones_is(r.type, "SOA"))
		return zones_refuse(reason, reasonlen,
		                    "the SOA record cannot be deleted (delete "
		                    "the zone instead)");
	rv = zones_find(z, &r, &ttl);
	if (rv == DR_ENOTFOUND)
		return zones_refuse(reason, reasonlen, "not found");
	if (rv != 0 || (rv = zones_delete(z, &r, fx)) != 0)
		return rv;
	return zones_touch(z, r.zone, fx);
}

/* ---- ZONE_DEL ---- */

static bool
zones_is_apex_soa(struct dr_str zone, struct dr_str owner, struct dr_str type)
{
	return zones_is(type, "SOA") && zones_str_same(owner, zone);
}

static int
zones_zone_del(struct zones *z, const struct dr_cmd *c, struct effects *fx,
               char *reason, size_t reasonlen)
{
	sqlite3_stmt *st = z->stmt[ZS_ZONE_ROWS];
	struct dr_str zone = c->args[0];
	struct zsoa soa;
	uint32_t serial;
	int src = SQLITE_DONE, rv;

	if ((rv = zones_check_zone(zone, reason, reasonlen)) != 0)
		return rv;
	rv = zones_serial(z, zone, &serial);
	if (rv == DR_ENOTFOUND)
		return zones_refuse(reason, reasonlen,
		                    "zone %.*s does not exist", (int)zone.len,
		                    zone.p);
	if (rv != 0)
		return rv;
	/*
	 * List the records while the list is short enough to publish, the
	 * SOA last: the zone exists for subscribers until its SOA goes.
	 */
	zones_bind(st, 1, zone);
	while (!fx->reload && (src = sqlite3_step(st)) == SQLITE_ROW) {
		struct dr_str o = zones_col(st, 0), t = zones_col(st, 1);

		if (!zones_is_apex_soa(zone, o, t))
			effects_del(fx, zone, o, t, zones_col(st, 2));
	}
	if (!fx->reload && src != SQLITE_DONE) {
		rv = zones_db_err(z, st);
		zones_done(st);
		return rv;
	}
	zones_done(st);
	if ((rv = zones_soa(z, zone, &soa)) == 0)
		effects_del(fx, zone, zone, (struct dr_str){ "SOA", 3 },
		            buf_str(&soa.rdata));
	dr_buf_close(&soa.rdata);
	if (rv != 0)
		return rv;
	st = z->stmt[ZS_ZONE_CLEAR];
	zones_bind(st, 1, zone);
	if ((rv = zones_exec(z, st)) != 0)
		return rv;
	st = z->stmt[ZS_ZONE_DEL];
	zones_bind(st, 1, zone);
	if ((rv = zones_exec(z, st)) != 0)
		return rv;
	log_info("[%.*s] deleted", (int)zone.len, zone.p);
	return 0;
}

/* ---- ZONE_REPLACE ---- */

/* Whether text is, line for line, what the zone's last replace stored. */
static int
zones_digest_same(struct zones *z, struct dr_str zone, struct dr_str text,
                  bool *same)
{
	sqlite3_stmt *st = z->stmt[ZS_DIGEST_GET];
	struct zoneset_digest stored, given;
	int src;

	*same = false;
	zones_bind(st, 1, zone);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		stored.a = (uint64_t)sqlite3_column_int64(st, 0);
		stored.b = (uint64_t)sqlite3_column_int64(st, 1);
		stored.n = (uint64_t)sqlite3_column_int64(st, 2);
	} else if (src != SQLITE_DONE) {
		int rv = zones_db_err(z, st);

		zones_done(st);
		return rv;
	}
	zones_done(st);
	if (src != SQLITE_ROW)
		return 0;
	zoneset_digest_text(text, &given);
	*same =
	    given.a == stored.a && given.b == stored.b && given.n == stored.n;
	return 0;
}

static int
zones_digest_set(struct zones *z, struct dr_str zone, const struct zoneset *zs)
{
	sqlite3_stmt *st = z->stmt[ZS_DIGEST_SET];
	struct zoneset_digest d;

	zoneset_digest(zs, &d);
	zones_bind(st, 1, zone);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)d.a);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)d.b);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)d.n);
	return zones_exec(z, st);
}

/* What a replace will do, found before anything is written. */
struct zdiff {
	struct zoneset set;
	struct dr_buf dels; /* stored records to delete: owner, type, rdata */
	size_t ndel, nttl, nnew;
	bool exists;      /* the zone has a zones row */
	bool soa_changed; /* the SOA differs other than by its serial */
	struct zsoa old;  /* when exists */
};

/* Next record of the set that takes part in the merge, from *i on. */
static struct zoneset_rec *
zones_next(struct zdiff *d, size_t *i)
{
	while (*i < d->set.n &&
	       (d->set.recs[*i].state == ZONESET_DUP || *i == d->set.soa))
		(*i)++;
	return *i < d->set.n ? &d->set.recs[*i] : NULL;
}

/*
 * Walks the stored records and the new set together, both in (owner,
 * type, rdata) order: stored only = delete, both = same or TTL change,
 * new only = insert (left ZONESET_NEW).
 */
static int
zones_merge(struct zones *z, struct dr_str zone, struct zdiff *d)
{
	sqlite3_stmt *st = z->stmt[ZS_ZONE_ROWS];
	struct zoneset_rec *r;
	size_t i = 0;
	int src, c;

	zones_bind(st, 1, zone);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		struct dr_str o = zones_col(st, 0), t = zones_col(st, 1),
		              rd = zones_col(st, 2);

		if (zones_is_apex_soa(zone, o, t))
			continue;
		c = 1;
		while ((r = zones_next(d, &i)) != NULL &&
		       (c = zoneset_cmp(&d->set, r, o, t, rd)) < 0)
			i++;
		if (r != NULL && c == 0) {
			r->state =
			    r->ttl == (uint32_t)sqlite3_column_int64(st, 3)
			        ? ZONESET_SAME
			        : ZONESET_TTL;
			d->nttl += r->state == ZONESET_TTL;
			i++;
			continue;
		}
		dr_buf_put_str(&d->dels, o.p, o.len);
		dr_buf_put_str(&d->dels, t.p, t.len);
		dr_buf_put_str(&d->dels, rd.p, rd.len);
		d->ndel++;
	}
	if (src != SQLITE_DONE) {
		int rv = zones_db_err(z, st);

		zones_done(st);
		return rv;
	}
	zones_done(st);
	return 0;
}

/* Counts the records to insert; the SOA stays out of the merge. */
static void
zones_count_new(struct zdiff *d)
{
	size_t i;

	for (i = 0; i < d->set.n; i++)
		if (i != d->set.soa && d->set.recs[i].state == ZONESET_NEW)
			d->nnew++;
}

static struct zrec
zones_rec(struct dr_str zone, const struct zoneset *zs,
          const struct zoneset_rec *r)
{
	struct zrec z = { zone, zoneset_owner(zs, r), zoneset_type(zs, r),
		          zoneset_rdata(zs, r), r->ttl };

	return z;
}

/*
 * Everything a replace checks, before it writes: the lines (zoneset),
 * the diff against the stored zone, then ldns on the records not stored
 * yet (stored ones passed the same check when they were written).
 */
static int
zones_plan(struct zones *z, struct dr_str zone, struct dr_str text,
           struct zdiff *d, char *reason, size_t reasonlen)
{
	const struct zoneset_rec *soa;
	struct dr_str soa_rdata;
	char err[DR_RR_ERR_LEN] = "";
	uint32_t serial;
	size_t from, to;
	int rv;

	if ((rv = zoneset_parse(&d->set, zone, text, reason, reasonlen)) != 0)
		return rv;
	soa = &d->set.recs[d->set.soa];
	soa_rdata = zoneset_rdata(&d->set, soa);
	if (dr_rr_check(d->set.text + soa->off, soa->len, err, sizeof(err)) !=
	        0 ||
	    !soa_serial(soa_rdata, &serial, &from, &to))
		return zones_refuse(reason, reasonlen, "line %u: %s",
		                    (unsigned)soa->lineno,
		                    err[0] ? err : "bad SOA serial");
	d->set.recs[d->set.soa].state = ZONESET_SAME; /* checked */
	rv = zones_soa(z, zone, &d->old);
	if (rv != 0 && rv != DR_ENOTFOUND)
		return rv;
	d->exists = rv == 0;
	d->soa_changed =
	    !d->exists || d->old.ttl != soa->ttl ||
	    !soa_same_but_serial(buf_str(&d->old.rdata), soa_rdata);
	if (d->exists && (rv = zones_merge(z, zone, d)) != 0)
		return rv;
	zones_count_new(d);
	return zoneset_check_new(&d->set, reason, reasonlen);
}

static int
zones_write_dels(struct zones *z, struct dr_str zone, struct zdiff *d,
                 struct effects *fx)
{
	struct dr_cursor cur;
	struct zrec r = { .zone = zone };
	int rv;

	dr_cursor_init(&cur, d->dels.data, d->dels.len);
	while (cur.left > 0) {
		if (dr_get_str(&cur, &r.owner) != 0 ||
		    dr_get_str(&cur, &r.type) != 0 ||
		    dr_get_str(&cur, &r.rdata) != 0)
			abort(); /* written just above */
		if ((rv = zones_delete(z, &r, fx)) != 0)
			return rv;
	}
	return 0;
}

static int
zones_write(struct zones *z, struct dr_str zone, struct zdiff *d,
            struct effects *fx)
{
	const struct zoneset *zs = &d->set;
	const struct zoneset_rec *soa = &zs->recs[zs->soa];
	struct zrec r, batch[ZONES_BATCH];
	size_t i, nbatch = 0;
	int rv;

	/* A new zone starts with its SOA, so that it exists for dnsd. */
	r = zones_rec(zone, zs, soa);
	if (!d->exists && (rv = zones_create(z, &r, fx)) != 0)
		return rv;
	if ((rv = zones_write_dels(z, zone, d, fx)) != 0)
		return rv;
	for (i = 0; i < zs->n; i++) {
		if (i == zs->soa || zs->recs[i].state != ZONESET_TTL)
			continue;
		r = zones_rec(zone, zs, &zs->recs[i]);
		if ((rv = zones_set_ttl(z, &r, fx)) != 0)
			return rv;
	}
	/* Sorted like the primary key: the b-trees grow at one end. */
	for (i = 0; i < zs->n; i++) {
		if (i == zs->soa || zs->recs[i].state != ZONESET_NEW)
			continue;
		batch[nbatch++] = zones_rec(zone, zs, &zs->recs[i]);
		if (nbatch == ZONES_BATCH) {
			if ((rv = zones_insert_many(z, batch, fx)) != 0)
				return rv;
			nbatch = 0;
		}
	}
	for (i = 0; i < nbatch; i++)
		if ((rv = zones_insert(z, &batch[i], fx)) != 0)
			return rv;
	if (!d->exists)
		return 0;
	r = zones_rec(zone, zs, soa);
	return zones_bump(z, zone, &d->old, r.rdata, r.ttl, fx);
}

/* Source names for logs: printable, bounded. */
static void
zones_source(struct dr_str src, char *out, size_t outlen)
{
	size_t i, n = src.len < outlen - 1 ? src.len : outlen - 1;

	for (i = 0; i < n; i++) {
		char c = src.p[i];

		if (c <= ' ' || c >= 0x7f)
			c = '?';
		out[i] = c;
	}
	out[n] = '\0';
}

static double
zones_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
zones_replace(struct zones *z, const struct dr_cmd *c, struct effects *fx,
              char *reason, size_t reasonlen)
{
	struct dr_str zone = c->args[0];
	double start = zones_now();
	struct zdiff d;
	char source[128];
	uint32_t serial;
	int rv;

	bool same;

	zones_source(c->args[1], source, sizeof(source));
	if ((rv = zones_check_zone(zone, reason, reasonlen)) != 0)
		return rv;
	/* The common reload: the same file again, nothing to do. */
	if ((rv = zones_digest_same(z, zone, c->args[2], &same)) != 0)
		return rv;
	if (same) {
		log_info("[%.*s] unchanged (from %s, same digest, %.3f s)",
		         (int)zone.len, zone.p, source, zones_now() - start);
		return 0;
	}
	memset(&d, 0, sizeof(d));
	dr_buf_init(&d.dels);
	dr_buf_init(&d.old.rdata);
	rv = zones_plan(z, zone, c->args[2], &d, reason, reasonlen);
	if (rv == 0 && d.exists && d.ndel + d.nttl + d.nnew == 0 &&
	    !d.soa_changed) {
		rv = zones_digest_set(z, zone, &d.set);
		log_info("[%.*s] unchanged (from %s, %zu records, %.3f s)",
		         (int)zone.len, zone.p, source, d.set.n,
		         zones_now() - start);
		goto out;
	}
	if (rv == 0)
		rv = zones_write(z, zone, &d, fx);
	if (rv == 0)
		rv = zones_digest_set(z, zone, &d.set);
	if (rv == 0 && zones_serial(z, zone, &serial) != 0)
		serial = 0;
	if (rv == 0)
		log_info(
		    "[%.*s] %s from %s, serial %" PRIu32 ": %zu added, "
		    "%zu removed, %zu TTL changes%s (%.3f s before commit)",
		    (int)zone.len, zone.p, d.exists ? "replaced" : "created",
		    source, serial, d.nnew, d.ndel, d.nttl,
		    d.exists && d.soa_changed ? ", new SOA" : "",
		    zones_now() - start);
out:
	zoneset_free(&d.set);
	dr_buf_close(&d.dels);
	dr_buf_close(&d.old.rdata);
	return rv;
}

int
zones_apply(struct zones *z, const struct dr_cmd *c, struct effects *fx,
            char *reason, size_t reasonlen)
{
	switch (c->type) {
	case DR_CMD_RR_ADD:
		return zones_rr_add(z, c, fx, reason, reasonlen);
	case DR_CMD_RR_DEL:
		return zones_rr_del(z, c, fx, reason, reasonlen);
	case DR_CMD_ZONE_REPLACE:
		return zones_replace(z, c, fx, reason, reasonlen);
	case DR_CMD_ZONE_DEL:
		return zones_zone_del(z, c, fx, reason, reasonlen);
	default:
		return zones_refuse(reason, reasonlen, "not a record command");
	}
}
