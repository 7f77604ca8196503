/* The node's replicated state in SQLite (state.db): schema, apply, images. */
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "effects.h"
#include "err.h"
#include "flags.h"
#include "log.h"
#include "rr.h"
#include "snapimage.h"
#include "walckpt.h"
#include "zoneread.h"
#include "zones.h"

enum {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_META_SET,
	STMT_KV_SET,
	STMT_KV_DEL,
	STMT_KV_GET,
	STMT_MEMBER_SET,
	STMT_MEMBER_DEL,
	STMT_MEMBER_GET,
	STMT_MEMBER_BY_RAFT_ID,
	STMT_MEMBER_LIST,
	STMT_MEMBER_COUNT,
	STMT_TOKEN_ADD,
	STMT_TOKEN_DEL,
	STMT_TOKEN_BY_HASH,
	STMT_TOKEN_LIST,
	STMT_REQ_GET,
	STMT_REQ_ADD,
	STMT_REQ_FLOOR,
	STMT_REQ_ORIGINS,
	STMT_REQ_CAP,
	STMT_COUNT
};

#define MEMBER_COLS "id, raft_id, raft_addr, ctl_addr, dns_addr"

static const char *const store_sql[STMT_COUNT] = {
	[STMT_BEGIN] = "BEGIN",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_META_SET] = "INSERT OR REPLACE INTO meta(key, value) VALUES "
	                  "('applied_index', ?1), ('change_seq', ?2)",
	[STMT_KV_SET] = "INSERT INTO kv(key, value) VALUES (?1, ?2) "
	                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[STMT_KV_DEL] = "DELETE FROM kv WHERE key = ?1",
	[STMT_KV_GET] = "SELECT value FROM kv WHERE key = ?1",
	[STMT_MEMBER_SET] = "INSERT OR REPLACE INTO members(" MEMBER_COLS
	                    ") VALUES (?1, ?2, ?3, ?4, ?5)",
	[STMT_MEMBER_DEL] = "DELETE FROM members WHERE id = ?1",
	[STMT_MEMBER_GET] = "SELECT " MEMBER_COLS " FROM members WHERE id = ?1",
	[STMT_MEMBER_BY_RAFT_ID] =
	    "SELECT " MEMBER_COLS " FROM members WHERE raft_id = ?1 "
	    "ORDER BY id LIMIT 1",
	[STMT_MEMBER_LIST] = "SELECT " MEMBER_COLS " FROM members ORDER BY id",
	[STMT_MEMBER_COUNT] = "SELECT count(*) FROM members",
	[STMT_TOKEN_ADD] = "INSERT OR IGNORE INTO tokens(name, role, hash) "
	                   "VALUES (?1, ?2, ?3)",
	[STMT_TOKEN_DEL] = "DELETE FROM tokens WHERE name = ?1",
	[STMT_TOKEN_BY_HASH] = "SELECT name, role FROM tokens WHERE hash = ?1",
	[STMT_TOKEN_LIST] = "SELECT name, role FROM tokens ORDER BY name",
	[STMT_REQ_GET] = "SELECT rejected, reason FROM requests WHERE "
	                 "origin = ?1 AND run = ?2 AND seq = ?3",
	[STMT_REQ_ADD] =
	    "INSERT OR REPLACE INTO requests(origin, run, seq, "
	    "idx, rejected, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[STMT_REQ_FLOOR] = "DELETE FROM requests WHERE origin = ?1 AND "
	                   "run = ?2 AND seq < ?3",
	[STMT_REQ_ORIGINS] = "SELECT DISTINCT origin FROM requests",
	/* An origin keeps its newest STORE_REQUESTS_MAX ids. */
	[STMT_REQ_CAP] = "DELETE FROM requests WHERE origin = ?1 AND idx < "
	                 "(SELECT idx FROM requests WHERE origin = ?1 "
	                 "ORDER BY idx DESC LIMIT 1 OFFSET ?2)",
};

/*
 * Column types follow DESIGN.md section 3; all text is human-readable.
 * kv, meta and records are WITHOUT ROWID: one b-tree each (plus the
 * owner index for records), so a batch commit writes fewer pages to the
 * WAL, and a zone loaded in key order grows its b-trees at one end.
 */
/*
 * records.ttl has no NOT NULL: SQLite 3.40's quick_check (run on every
 * snapshot image) wrongly reports NULLs in a NOT NULL column of a WITHOUT
 * ROWID table that comes before primary key columns. The state machine
 * always writes a TTL.
 */
#define STORE_RECORDS_SQL                                              \
	"CREATE TABLE IF NOT EXISTS records(zone TEXT NOT NULL, "      \
	"owner TEXT NOT NULL, type TEXT NOT NULL, ttl INTEGER, "       \
	"rdata TEXT NOT NULL, PRIMARY KEY(zone, owner, type, rdata)) " \
	"WITHOUT ROWID;"                                               \
	"CREATE INDEX IF NOT EXISTS records_owner ON records(owner, type);"

/*
 * zones.digest1, digest2 and nrecords fingerprint the zone's records as
 * its last replace left them (zones.c), NULL after any other change.
 */
#define STORE_ZONES_DIGEST "digest1 INTEGER, digest2 INTEGER, nrecords INTEGER"

static const char store_schema[] = STORE_RECORDS_SQL
    "CREATE TABLE IF NOT EXISTS zones(name TEXT PRIMARY KEY, "
    "serial INTEGER NOT NULL, " STORE_ZONES_DIGEST ");"
    "CREATE TABLE IF NOT EXISTS kv(key TEXT PRIMARY KEY, value TEXT NOT "
    "NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS members(id TEXT PRIMARY KEY, "
    "raft_id INTEGER NOT NULL, raft_addr TEXT NOT NULL, "
    "ctl_addr TEXT NOT NULL, dns_addr TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tokens(name TEXT PRIMARY KEY, "
    "role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE);"
    "CREATE TABLE IF NOT EXISTS requests(origin INTEGER NOT NULL, "
    "run INTEGER NOT NULL, seq INTEGER NOT NULL, idx INTEGER NOT NULL, "
    "rejected INTEGER NOT NULL, reason TEXT NOT NULL, "
    "PRIMARY KEY(origin, run, seq)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS requests_idx ON requests(origin, idx);"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, "
    "value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta(key, value) VALUES ('applied_index', 0), "
    "('change_seq', 0);";

/*
 * The records table of the first schema was unique on (owner, type,
 * rdata) only. It never held rows (no command wrote records then), but
 * copy them anyway.
 */
static const char store_migrate_records[] =
    "ALTER TABLE records RENAME TO records_v1;" STORE_RECORDS_SQL
    "INSERT OR IGNORE INTO records(zone, owner, type, ttl, rdata) "
    "SELECT zone, owner, type, ttl, rdata FROM records_v1;"
    "DROP TABLE records_v1;";

#define STORE_REASON_LEN (DR_RR_ERR_LEN + 64)

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[STMT_COUNT];
	struct zones zones;
	struct zoneread zoneread;
	struct effects fx;             /* of the last applied entry */
	char reason[STORE_REASON_LEN]; /* of the last rejected entry */
	char path[DR_PATH_LEN];
	uint64_t applied_index; /* including the open transaction */
	uint64_t change_seq;    /* including the open transaction */
	bool dup_rejected;      /* of the last STORE_DUPLICATE */
	bool in_txn;            /* entries applied but not committed */
	struct walckpt ckpt;    /* checkpoints off the loop */
};

static int
store_db_err(sqlite3 *db, const char *what)
{
	log_warnx("state.db, %s failed (%s)", what, sqlite3_errmsg(db));
	return DR_EIO;
}

/* Runs a statement that returns no rows, then resets it for reuse. */
static int
store_step_done(struct store *s, sqlite3_stmt *st)
{
	int src = sqlite3_step(st);
	int rv = 0;

	if (src != SQLITE_DONE)
		rv = store_db_err(s->db, sqlite3_sql(st));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rv;
}

static void
store_db_close(struct store *s)
{
	size_t i;

	zones_close(&s->zones);
	zoneread_close(&s->zoneread);
	for (i = 0; i < STMT_COUNT; i++) {
		sqlite3_finalize(s->stmt[i]);
		s->stmt[i] = NULL;
	}
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		log_warnx("state.db, close failed (%s)", sqlite3_errmsg(s->db));
	s->db = NULL;
}

/* Adds the digest columns to a zones table of the first schema. */
static int
store_migrate_zones(sqlite3 *db)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "SELECT digest1 FROM zones LIMIT 0", -1, &st,
	                       NULL) == SQLITE_OK) {
		sqlite3_finalize(st);
		return 0;
	}
	if (sqlite3_exec(db,
	                 "ALTER TABLE zones ADD COLUMN digest1 INTEGER;"
	                 "ALTER TABLE zones ADD COLUMN digest2 INTEGER;"
	                 "ALTER TABLE zones ADD COLUMN nrecords INTEGER;",
	                 NULL, NULL, NULL) != SQLITE_OK)
		return store_db_err(db, "adding the zone digest columns");
	return 0;
}

/* Brings tables of the first schema to the current one. */
static int
store_migrate(sqlite3 *db)
{
	sqlite3_stmt *st;
	const char *sql;
	bool old;

	if (sqlite3_prepare_v2(db,
	                       "SELECT sql FROM sqlite_master WHERE type = "
	                       "'table' AND name = 'records'",
	                       -1, &st, NULL) != SQLITE_OK)
		return store_db_err(db, "reading the schema");
	sql = sqlite3_step(st) == SQLITE_ROW
	          ? (const char *)sqlite3_column_text(st, 0)
	          : NULL;
	old = sql != NULL && strstr(sql, "WITHOUT ROWID") == NULL;
	sqlite3_finalize(st);
	if (store_migrate_zones(db) != 0)
		return DR_EIO;
	if (!old)
		return 0;
	log_info("state.db, records table moved to the (zone, owner, type, "
	         "rdata) key");
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, store_migrate_records, NULL, NULL, NULL) !=
	        SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		store_db_err(db, "moving the records table");
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return DR_EIO;
	}
	return 0;
}

/* After each commit (the loop): hands big WALs to the checkpointer. */
static int
store_wal_cb(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *s = arg;

	(void)name;
	walckpt_committed(&s->ckpt, db, pages);
	return SQLITE_OK;
}

static int
store_db_open(struct store *s)
{
	sqlite3_stmt *st;
	const char *mode;
	size_t i;
	int rv;

	if (sqlite3_open_v2(s->path, &s->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                        SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		rv = store_db_err(s->db, s->path);
		goto err_after_open;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/*
	 * WAL lets dnsd and operators read while we write. synchronous=NORMAL
	 * does not fsync every commit: after a power loss state.db may lack
	 * the last entries, and the Raft log (fsynced by c-raft) replays them.
	 */
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st,
	                       NULL) != SQLITE_OK) {
		rv = store_db_err(s->db, "setting WAL mode");
		goto err_after_open;
	}
	mode = sqlite3_step(st) == SQLITE_ROW
	           ? (const char *)sqlite3_column_text(st, 0)
	           : NULL;
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		sqlite3_finalize(st);
		rv = store_db_err(s->db, "setting WAL mode");
		goto err_after_open;
	}
	sqlite3_finalize(st);
	/* No checkpoints on this connection: walckpt.h makes them. */
	sqlite3_wal_hook(s->db, store_wal_cb, s);
	/* 64 MiB of page cache: a large zone replace stays in memory. */
	if (sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL,
	                 NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, "PRAGMA cache_size=-65536", NULL, NULL, NULL) !=
	        SQLITE_OK ||
	    sqlite3_exec(s->db, store_schema, NULL, NULL, NULL) != SQLITE_OK) {
		rv = store_db_err(s->db, "creating the schema");
		goto err_after_open;
	}
	if ((rv = store_migrate(s->db)) != 0)
		goto err_after_open;
	for (i = 0; i < STMT_COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, store_sql[i], -1,
		                       SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
		                       NULL) != SQLITE_OK) {
			rv = store_db_err(s->db, store_sql[i]);
			goto err_after_open;
		}
	}
	if ((rv = zones_init(&s->zones, s->db)) != 0 ||
	    (rv = zoneread_init(&s->zoneread, s->db)) != 0)
		goto err_after_open;
	if (snapimage_read_meta(s->db, "applied_index", &s->applied_index) !=
	        0 ||
	    snapimage_read_meta(s->db, "change_seq", &s->change_seq) != 0) {
		log_warnx("state.db, meta table lacks applied_index or "
		          "change_seq");
		rv = DR_EIO;
		goto err_after_open;
	}
	return 0;

err_after_open:
	store_db_close(s);
	return rv;
}

int
store_open(struct store **out, const char *path)
{
	struct store *s;
	int rv;

	/* Room for the "-wal", "-shm", ".tmp" and ".snap" siblings. */
	if (strlen(path) + 8 >= sizeof(s->path)) {
		log_warnx("state.db, path too long (%s)", path);
		return DR_EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		abort();
	strcpy(s->path, path);
	effects_init(&s->fx);
	rv = store_db_open(s);
	if (rv == 0 && (rv = walckpt_start(&s->ckpt, path)) != 0)
		store_db_close(s);
	if (rv != 0) {
		effects_close(&s->fx);
		free(s);
		return rv;
	}
	log_debug("state.db, opened %s (applied index %" PRIu64
	          ", change %" PRIu64 ")",
	          path, s->applied_index, s->change_seq);
	*out = s;
	return 0;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (store_commit(s) != 0)
		log_warnx("state.db, last entries not committed; the raft log "
		          "replays them");
	walckpt_stop(&s->ckpt);
	store_db_close(s);
	effects_close(&s->fx);
	free(s);
}

void
store_checkpoints(struct store *s, struct walckpt_stats *out)
{
	walckpt_stats(&s->ckpt, out);
}

uint64_t
store_applied_index(const struct store *s)
{
	return s->applied_index;
}

const char *
store_path(const struct store *s)
{
	return s->path;
}

uint64_t
store_change_seq(const struct store *s)
{
	return s->change_seq;
}

/* Addresses end up in space-separated text replies: printable, no spaces. */
static bool
store_valid_addr(struct dr_str a)
{
	size_t i;

	if (a.len == 0 || a.len >= DR_ADDR_LEN)
		return false;
	for (i = 0; i < a.len; i++)
		if (a.p[i] <= ' ' || a.p[i] > '~')
			return false;
	return true;
}

static bool
store_parse_raft_id(struct dr_str s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s.len == 0 || s.len > 19)
		return false;
	for (i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	if (v == 0 || v > INT64_MAX)
		return false;
	*out = v;
	return true;
}

static bool
store_valid_role(struct dr_str r)
{
	static const char *const roles[] = { "read", "write", "admin" };
	size_t i;

	for (i = 0; i < 3; i++)
		if (r.len == strlen(roles[i]) &&
		    memcmp(r.p, roles[i], r.len) == 0)
			return true;
	return false;
}

/* Checks what dr_cmd_decode cannot: the meaning of the arguments. */
static const char *
store_cmd_check(const struct dr_cmd *c)
{
	uint64_t id;

	switch (c->type) {
	case DR_CMD_MEMBER_ADD:
		if (!dr_id_valid(c->args[0].p, c->args[0].len))
			return "invalid member id";
		if (!store_parse_raft_id(c->args[1], &id))
			return "invalid raft id";
		if (!store_valid_addr(c->args[2]) ||
		    !store_valid_addr(c->args[3]) ||
		    !store_valid_addr(c->args[4]))
			return "invalid address";
		return NULL;
	case DR_CMD_MEMBER_DEL:
		if (!dr_id_valid(c->args[0].p, c->args[0].len))
			return "invalid member id";
		return NULL;
	case DR_CMD_TOKEN_ADD:
		if (!store_valid_role(c->args[1]))
			return "invalid role (read, write or admin)";
		if (!dr_str_is_hex(c->args[2], 64))
			return "invalid token hash";
		/* fall through */
	case DR_CMD_TOKEN_DEL:
		if (!dr_id_valid(c->args[0].p, c->args[0].len))
			return "invalid token name";
		return NULL;
	default:
		return NULL;
	}
}

static void
store_bind_str(sqlite3_stmt *st, int col, struct dr_str v)
{
	sqlite3_bind_text(st, col, v.len ? v.p : "", (int)v.len, SQLITE_STATIC);
}

/*
 * TOKEN_ADD of a name (or hash) already there, or TOKEN_DEL of a name that
 * is not, is refused: DR_EINVAL with the reason, nothing written.
 */
static int
store_token_exec(struct store *s, const struct dr_cmd *c)
{
	bool add = c->type == DR_CMD_TOKEN_ADD;
	sqlite3_stmt *st = s->stmt[add ? STMT_TOKEN_ADD : STMT_TOKEN_DEL];
	int rv;

	store_bind_str(st, 1, c->args[0]);
	if (add) {
		store_bind_str(st, 2, c->args[1]);
		store_bind_str(st, 3, c->args[2]);
	}
	if ((rv = store_step_done(s, st)) != 0)
		return rv;
	if (sqlite3_changes(s->db) == 1)
		return 0;
	snprintf(s->reason, sizeof(s->reason), "token %.*s %s",
	         (int)c->args[0].len, c->args[0].p,
	         add ? "already exists" : "does not exist");
	return DR_EINVAL;
}

/*
 * Runs a checked command. Returns 0, DR_EINVAL when a record command is
 * refused (reason in s->reason, nothing written), or DR_EIO.
 */
static int
store_cmd_exec(struct store *s, const struct dr_cmd *c)
{
	sqlite3_stmt *st;
	uint64_t raft_id = 0;

	switch (c->type) {
	case DR_CMD_KV_SET:
		st = s->stmt[STMT_KV_SET];
		store_bind_str(st, 1, c->args[0]);
		store_bind_str(st, 2, c->args[1]);
		break;
	case DR_CMD_KV_DEL:
		st = s->stmt[STMT_KV_DEL];
		store_bind_str(st, 1, c->args[0]);
		break;
	case DR_CMD_MEMBER_ADD:
		st = s->stmt[STMT_MEMBER_SET];
		store_parse_raft_id(c->args[1], &raft_id);
		store_bind_str(st, 1, c->args[0]);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)raft_id);
		store_bind_str(st, 3, c->args[2]);
		store_bind_str(st, 4, c->args[3]);
		store_bind_str(st, 5, c->args[4]);
		break;
	case DR_CMD_MEMBER_DEL:
		st = s->stmt[STMT_MEMBER_DEL];
		store_bind_str(st, 1, c->args[0]);
		break;
	case DR_CMD_TOKEN_ADD:
	case DR_CMD_TOKEN_DEL:
		return store_token_exec(s, c);
	default:
		return zones_apply(&s->zones, c, &s->fx, s->reason,
		                   sizeof(s->reason));
	}
	return store_step_done(s, st);
}

static int
store_begin(struct store *s)
{
	int rv;

	if (s->in_txn)
		return 0;
	if ((rv = store_step_done(s, s->stmt[STMT_BEGIN])) != 0)
		return rv;
	s->in_txn = true;
	return 0;
}

static void
store_bind_id(sqlite3_stmt *st, const struct dr_reqid *id)
{
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id->origin);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)id->run);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)id->seq);
}

/*
 * Looks the request id up: 1 (with s->reason and *rejected set as the
 * first copy ended) when it was applied before, 0 when not, or DR_EIO.
 */
static int
store_request_seen(struct store *s, const struct dr_reqid *id, bool *rejected)
{
	sqlite3_stmt *st = s->stmt[STMT_REQ_GET];
	int src, rv = 0;

	store_bind_id(st, id);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		const unsigned char *why = sqlite3_column_text(st, 1);

		*rejected = sqlite3_column_int(st, 0) != 0;
		snprintf(s->reason, sizeof(s->reason), "%s",
		         why != NULL ? (const char *)why : "");
		rv = 1;
	} else if (src != SQLITE_DONE) {
		rv = store_db_err(s->db, "request lookup");
	}
	sqlite3_reset(st);
	return rv;
}

/* Every origin keeps its newest STORE_REQUESTS_MAX ids, no more. */
static int
store_requests_cap(struct store *s)
{
	sqlite3_stmt *list = s->stmt[STMT_REQ_ORIGINS];
	sqlite3_int64 origins[64];
	int src, n = 0, i, rv = 0;

	/* Origins are nodes (and their ctlds): few. */
	while (n < 64 && (src = sqlite3_step(list)) == SQLITE_ROW)
		origins[n++] = sqlite3_column_int64(list, 0);
	sqlite3_reset(list);
	for (i = 0; i < n && rv == 0; i++) {
		sqlite3_stmt *st = s->stmt[STMT_REQ_CAP];

		sqlite3_bind_int64(st, 1, origins[i]);
		sqlite3_bind_int64(st, 2, STORE_REQUESTS_MAX - 1);
		rv = store_step_done(s, st);
	}
	return rv;
}

/*
 * Records the outcome of request id, applied at index, and forgets what
 * its sender said it will never send again (below its floor), and, every
 * STORE_REQUESTS_PRUNE entries, what is past STORE_REQUESTS_MAX per
 * origin. Deterministic: the same on every node.
 */
static int
store_request_done(struct store *s, const struct dr_reqid *id, uint64_t index,
                   bool rejected)
{
	sqlite3_stmt *st = s->stmt[STMT_REQ_ADD];
	int rv;

	store_bind_id(st, id);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)index);
	sqlite3_bind_int(st, 5, rejected ? 1 : 0);
	sqlite3_bind_text(st, 6, rejected ? s->reason : "", -1, SQLITE_STATIC);
	if ((rv = store_step_done(s, st)) != 0)
		return rv;
	st = s->stmt[STMT_REQ_FLOOR];
	store_bind_id(st, id);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)id->floor);
	if ((rv = store_step_done(s, st)) != 0)
		return rv;
	if (index % STORE_REQUESTS_PRUNE != 0)
		return 0;
	return store_requests_cap(s);
}

/*
 * Checks and runs a decoded command; refusals leave s->reason set. A
 * command whose request id was applied before is not run again:
 * DR_EEXIST, with s->dup_rejected and s->reason as the first copy ended.
 */
static int
store_run(struct store *s, uint64_t index, const void *data, size_t len)
{
	const char *why;
	struct dr_cmd c;
	int rv;

	if (dr_cmd_decode(data, len, &c) != 0) {
		snprintf(s->reason, sizeof(s->reason), "undecodable command");
		return DR_EINVAL;
	}
	if (c.id.origin != 0) {
		rv = store_request_seen(s, &c.id, &s->dup_rejected);
		if (rv != 0)
			return rv < 0 ? rv : DR_EEXIST;
	}
	if ((why = store_cmd_check(&c)) != NULL) {
		snprintf(s->reason, sizeof(s->reason), "%s", why);
		rv = DR_EINVAL;
	} else {
		log_debug("entry %" PRIu64 ", applying %s", index,
		          dr_cmd_name(c.type));
		rv = store_cmd_exec(s, &c);
	}
	if ((rv == 0 || rv == DR_EINVAL) && c.id.origin != 0) {
		int rv2 = store_request_done(s, &c.id, index, rv == DR_EINVAL);

		if (rv2 != 0)
			return rv2;
	}
	return rv;
}

int
store_apply(struct store *s, uint64_t index, const void *data, size_t len,
            struct store_result *res)
{
	int rv;

	memset(res, 0, sizeof(*res));
	res->seq = s->change_seq;
	res->reason = "";
	if (index <= s->applied_index) {
		res->outcome = STORE_SKIPPED;
		return 0;
	}
	effects_reset(&s->fx);
	s->reason[0] = '\0';
	if ((rv = store_begin(s)) != 0)
		return rv;
	/*
	 * Record commands check everything before they write, so a refusal
	 * leaves the transaction as it was. Any other failure leaves it
	 * unusable; the caller must not go on (the entries of the
	 * transaction are replayed on restart).
	 */
	rv = store_run(s, index, data, len);
	if (rv != 0 && rv != DR_EINVAL && rv != DR_EEXIST)
		return rv;
	s->applied_index = index;
	s->change_seq++;
	res->seq = s->change_seq;
	if (rv == DR_EEXIST) {
		log_debug("entry %" PRIu64 ", a retry of a request applied "
		          "before: not applied again",
		          index);
		effects_reset(&s->fx);
		res->outcome = STORE_DUPLICATE;
		res->first_rejected = s->dup_rejected;
		res->reason = s->reason;
		return 0;
	}
	if (rv == DR_EINVAL) {
		log_warnx("entry %" PRIu64 ", rejected (%s, %zu bytes)", index,
		          s->reason, len);
		effects_reset(&s->fx);
		res->outcome = STORE_REJECTED;
		res->reason = s->reason;
		return 0;
	}
	res->outcome = STORE_APPLIED;
	res->reload = s->fx.reload;
	res->effects = s->fx.buf.data;
	res->effects_len = s->fx.buf.len;
	return 0;
}

int
store_commit(struct store *s)
{
	sqlite3_stmt *meta = s->stmt[STMT_META_SET];
	int rv;

	if (!s->in_txn)
		return 0;
	sqlite3_bind_int64(meta, 1, (sqlite3_int64)s->applied_index);
	sqlite3_bind_int64(meta, 2, (sqlite3_int64)s->change_seq);
	if ((rv = store_step_done(s, meta)) != 0 ||
	    (rv = store_step_done(s, s->stmt[STMT_COMMIT])) != 0) {
		store_step_done(s, s->stmt[STMT_ROLLBACK]);
		s->in_txn = false;
		return rv;
	}
	s->in_txn = false;
	return 0;
}

bool
store_uncommitted(const struct store *s)
{
	return s->in_txn;
}

int
store_kv_get(struct store *s, const char *key, size_t keylen,
             struct dr_buf *out)
{
	sqlite3_stmt *st = s->stmt[STMT_KV_GET];
	int src, rv;

	sqlite3_bind_text(st, 1, keylen ? key : "", (int)keylen, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		const void *v = sqlite3_column_blob(st, 0);

		dr_buf_put(out, v, (size_t)sqlite3_column_bytes(st, 0));
		rv = 0;
	} else if (src == SQLITE_DONE) {
		rv = DR_ENOTFOUND;
	} else {
		rv = store_db_err(s->db, "kv get");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rv;
}

int
store_token_check(struct store *s, const char *hash, struct dr_buf *out)
{
	sqlite3_stmt *st = s->stmt[STMT_TOKEN_BY_HASH];
	int src, rv = DR_ENOTFOUND;

	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		dr_buf_put(out, sqlite3_column_text(st, 0),
		           (size_t)sqlite3_column_bytes(st, 0));
		dr_buf_put_u8(out, ' ');
		dr_buf_put(out, sqlite3_column_text(st, 1),
		           (size_t)sqlite3_column_bytes(st, 1));
		rv = 0;
	} else if (src != SQLITE_DONE) {
		rv = store_db_err(s->db, "token check");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rv;
}

int
store_token_list(struct store *s, struct dr_buf *out)
{
	sqlite3_stmt *st = s->stmt[STMT_TOKEN_LIST];
	int src, n = 0;

	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		dr_buf_put(out, sqlite3_column_text(st, 0),
		           (size_t)sqlite3_column_bytes(st, 0));
		dr_buf_put_u8(out, ' ');
		dr_buf_put(out, sqlite3_column_text(st, 1),
		           (size_t)sqlite3_column_bytes(st, 1));
		dr_buf_put_u8(out, '\n');
		n++;
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return store_db_err(s->db, "token list");
	return n == 0 ? DR_ENOTFOUND : 0;
}

int
store_rr_get(struct store *s, const char *name, const char *type,
             struct dr_buf *out)
{
	return zoneread_rr_get(&s->zoneread, name, type, out);
}

int
store_zone_list(struct store *s, struct dr_buf *out)
{
	return zoneread_list(&s->zoneread, out);
}

int
store_zone_dump(struct store *s, const char *zone, struct dr_buf *out)
{
	return zoneread_dump(&s->zoneread, zone, out);
}

static void
store_copy_col(sqlite3_stmt *st, int col, char *out, size_t outlen)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, outlen, "%s", t ? (const char *)t : "");
}

static void
store_member_row(sqlite3_stmt *st, struct store_member *m)
{
	store_copy_col(st, 0, m->id, sizeof(m->id));
	m->raft_id = (uint64_t)sqlite3_column_int64(st, 1);
	store_copy_col(st, 2, m->raft_addr, sizeof(m->raft_addr));
	store_copy_col(st, 3, m->ctl_addr, sizeof(m->ctl_addr));
	store_copy_col(st, 4, m->dns_addr, sizeof(m->dns_addr));
}

/* Steps a one-row member query whose parameters are bound. */
static int
store_member_one(struct store *s, sqlite3_stmt *st, struct store_member *m)
{
	int src = sqlite3_step(st), rv;

	if (src == SQLITE_ROW) {
		store_member_row(st, m);
		rv = 0;
	} else if (src == SQLITE_DONE) {
		rv = DR_ENOTFOUND;
	} else {
		rv = store_db_err(s->db, "member lookup");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rv;
}

int
store_member_get(struct store *s, const char *id, struct store_member *m)
{
	sqlite3_stmt *st = s->stmt[STMT_MEMBER_GET];

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return store_member_one(s, st, m);
}

int
store_member_by_raft_id(struct store *s, uint64_t raft_id,
                        struct store_member *m)
{
	sqlite3_stmt *st = s->stmt[STMT_MEMBER_BY_RAFT_ID];

	sqlite3_bind_int64(st, 1, (sqlite3_int64)raft_id);
	return store_member_one(s, st, m);
}

int
store_members_foreach(struct store *s, store_member_cb cb, void *arg)
{
	sqlite3_stmt *st = s->stmt[STMT_MEMBER_LIST];
	struct store_member m;
	int src, rv = 0;

	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		store_member_row(st, &m);
		if (cb(&m, arg) != 0)
			break;
	}
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		rv = store_db_err(s->db, "member list");
	sqlite3_reset(st);
	return rv;
}

int
store_members_count(struct store *s)
{
	sqlite3_stmt *st = s->stmt[STMT_MEMBER_COUNT];
	int rv;

	if (sqlite3_step(st) == SQLITE_ROW)
		rv = sqlite3_column_int(st, 0);
	else
		rv = store_db_err(s->db, "member count");
	sqlite3_reset(st);
	return rv;
}

int
store_serialize(struct store *s, void *(*alloc)(size_t), void **out,
                size_t *len)
{
	struct snapimage_reader r;
	void *img, *p;
	size_t n;
	int rv;

	if ((rv = store_commit(s)) != 0)
		return rv;
	if ((rv = snapimage_reader_open(&r, s->path)) != 0)
		return rv;
	if ((rv = snapimage_reader_take(&r, &img, &n)) != 0)
		return rv;
	p = alloc(n);
	if (p == NULL)
		abort();
	memcpy(p, img, n);
	snapimage_free(img);
	*out = p;
	*len = n;
	return 0;
}

static void
store_unlink_sibling(const char *path, const char *suffix)
{
	char p[DR_PATH_LEN + 8];

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	if (unlink(p) != 0 && errno != ENOENT)
		log_warn("%s, cannot remove", p);
}

/* Renames the checked image file over state.db and reopens it. */
static int
store_swap(struct store *s, const char *file)
{
	int rv = 0;

	walckpt_lock(&s->ckpt);
	store_db_close(s);
	/* Readers (dnsd) keep the old inodes until they reopen on RESET. */
	store_unlink_sibling(s->path, "-wal");
	store_unlink_sibling(s->path, "-shm");
	if (rename(file, s->path) != 0) {
		log_warn("%s, cannot rename to %s", file, s->path);
		unlink(file);
		if (store_db_open(s) != 0)
			fatalx("state.db, cannot reopen after a failed "
			       "restore");
		rv = DR_EIO;
	} else {
		snapimage_fsync_dir(s->path);
		if (store_db_open(s) != 0)
			fatalx("state.db, cannot reopen after a restore");
	}
	walckpt_unlock(&s->ckpt);
	return rv;
}

int
store_restore(struct store *s, void *image, size_t len,
              struct store_restore_info *info)
{
	char tmp[DR_PATH_LEN + 8];
	int rv;

	memset(info, 0, sizeof(*info));
	if (store_commit(s) != 0)
		return DR_EIO;
	info->db_applied = s->applied_index;
	if ((rv = snapimage_probe(image, len, &info->image_applied)) != 0)
		return rv;
	if (info->image_applied <= s->applied_index)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->path);
	/* snapimage_probe marked the header: the file has no -wal. */
	if ((rv = snapimage_write_file(tmp, NULL, image, len)) != 0)
		return rv;
	if ((rv = store_swap(s, tmp)) != 0)
		return rv;
	info->replaced = true;
	return 0;
}

int
store_restore_file(struct store *s, const char *file, uint64_t image_applied,
                   struct store_restore_info *info)
{
	int rv;

	memset(info, 0, sizeof(*info));
	info->image_applied = image_applied;
	if (store_commit(s) != 0) {
		unlink(file);
		return DR_EIO;
	}
	info->db_applied = s->applied_index;
	if (image_applied <= s->applied_index) {
		unlink(file);
		return 0;
	}
	if ((rv = store_swap(s, file)) != 0)
		return rv;
	info->replaced = true;
	return 0;
}
