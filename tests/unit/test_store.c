/* store: apply in one transaction, idempotent replay, images, rejects. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "log.h"
#include "store.h"
#include "unit.h"
#include "walckpt.h"

static char tmpdir[64];

static void
db_path(const char *name, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s.db", tmpdir, name);
}

static struct store *
open_db(const char *name)
{
	char path[256];
	struct store *s = NULL;

	db_path(name, path, sizeof(path));
	CHECK_EQ_INT(store_open(&s, path), 0);
	if (s == NULL)
		exit(1);
	return s;
}

static struct dr_str
str(const char *s)
{
	struct dr_str v = { s, strlen(s) };

	return v;
}

/* Encodes a command into b (reset first). */
static void
encode(struct dr_buf *b, unsigned type, unsigned nargs, const char **args)
{
	struct dr_cmd c;
	unsigned i;

	memset(&c, 0, sizeof(c));
	c.type = type;
	c.nargs = nargs;
	for (i = 0; i < nargs; i++)
		c.args[i] = str(args[i]);
	dr_buf_reset(b);
	if (dr_cmd_encode(&c, b) != 0)
		abort();
}

static enum store_outcome
apply_cmd(struct store *s, uint64_t index, unsigned type, unsigned nargs,
          const char **args)
{
	struct store_result res;
	struct dr_buf b;

	dr_buf_init(&b);
	encode(&b, type, nargs, args);
	CHECK_EQ_INT(store_apply(s, index, b.data, b.len, &res), 0);
	dr_buf_close(&b);
	return res.outcome;
}

static enum store_outcome
kv_set(struct store *s, uint64_t index, const char *k, const char *v)
{
	const char *args[] = { k, v };

	return apply_cmd(s, index, DR_CMD_KV_SET, 2, args);
}

static enum store_outcome
kv_del(struct store *s, uint64_t index, const char *k)
{
	const char *args[] = { k };

	return apply_cmd(s, index, DR_CMD_KV_DEL, 1, args);
}

static enum store_outcome
member_add(struct store *s, uint64_t index, const char *id, const char *raft_id)
{
	const char *args[] = { id, raft_id, "127.0.0.1:8300", "127.0.0.1:8500",
		               "127.0.0.1:8600" };

	return apply_cmd(s, index, DR_CMD_MEMBER_ADD, 5, args);
}

/* The value of key as a C string, or NULL if absent. Static buffer. */
static const char *
get(struct store *s, const char *key)
{
	static char out[256];
	struct dr_buf b;
	int rv;

	dr_buf_init(&b);
	rv = store_kv_get(s, key, strlen(key), &b);
	if (rv == 0) {
		snprintf(out, sizeof(out), "%.*s", (int)b.len,
		         b.len ? (const char *)b.data : "");
	}
	dr_buf_close(&b);
	if (rv != 0 && rv != DR_ENOTFOUND)
		CHECK(!"kv get failed");
	return rv == 0 ? out : NULL;
}

static void
test_kv_set_del(void)
{
	struct store *s = open_db("kv");

	CHECK_EQ_INT(store_applied_index(s), 0);
	CHECK_EQ_INT(store_change_seq(s), 0);
	CHECK(get(s, "a") == NULL);
	CHECK_EQ_INT(kv_set(s, 1, "a", "one"), STORE_APPLIED);
	CHECK_EQ_STR(get(s, "a"), "one");
	CHECK_EQ_INT(store_applied_index(s), 1);
	CHECK_EQ_INT(store_change_seq(s), 1);
	/* Indices need not be contiguous: barriers take some. */
	CHECK_EQ_INT(kv_set(s, 5, "a", "value with spaces"), STORE_APPLIED);
	CHECK_EQ_STR(get(s, "a"), "value with spaces");
	CHECK_EQ_INT(kv_set(s, 6, "b", ""), STORE_APPLIED);
	CHECK_EQ_STR(get(s, "b"), "");
	CHECK_EQ_INT(kv_del(s, 7, "a"), STORE_APPLIED);
	CHECK(get(s, "a") == NULL);
	CHECK_EQ_STR(get(s, "b"), "");
	CHECK_EQ_INT(store_applied_index(s), 7);
	CHECK_EQ_INT(store_change_seq(s), 4);
	store_close(s);
}

static void
test_replay_idempotent(void)
{
	struct store *s = open_db("replay");
	struct store_result res;
	struct dr_buf b;
	const char *args[] = { "x" };

	CHECK_EQ_INT(kv_set(s, 1, "x", "1"), STORE_APPLIED);
	CHECK_EQ_INT(kv_set(s, 2, "y", "2"), STORE_APPLIED);
	CHECK_EQ_INT(kv_del(s, 3, "x"), STORE_APPLIED);
	store_close(s);

	/* After a restart c-raft replays the same entries. */
	s = open_db("replay");
	CHECK_EQ_INT(store_applied_index(s), 3);
	CHECK_EQ_INT(store_change_seq(s), 3);
	CHECK_EQ_INT(kv_set(s, 1, "x", "1"), STORE_SKIPPED);
	CHECK_EQ_INT(kv_set(s, 2, "y", "2"), STORE_SKIPPED);
	CHECK_EQ_INT(kv_del(s, 3, "x"), STORE_SKIPPED);
	CHECK(get(s, "x") == NULL); /* set x not applied a second time */
	CHECK_EQ_STR(get(s, "y"), "2");
	CHECK_EQ_INT(store_change_seq(s), 3);
	CHECK_EQ_INT(store_applied_index(s), 3);

	/* A skipped entry reports the current seq; the next one goes on. */
	dr_buf_init(&b);
	encode(&b, DR_CMD_KV_DEL, 1, args);
	CHECK_EQ_INT(store_apply(s, 2, b.data, b.len, &res), 0);
	CHECK_EQ_INT(res.outcome, STORE_SKIPPED);
	CHECK_EQ_INT(res.seq, 3);
	CHECK_EQ_INT(store_apply(s, 4, b.data, b.len, &res), 0);
	CHECK_EQ_INT(res.outcome, STORE_APPLIED);
	CHECK_EQ_INT(res.seq, 4);
	dr_buf_close(&b);
	store_close(s);

	s = open_db("replay");
	CHECK_EQ_INT(store_applied_index(s), 4);
	CHECK_EQ_INT(store_change_seq(s), 4);
	store_close(s);
}

/* meta as another connection (dnsd, sqlite3 -readonly) sees it. */
static void
peek_meta(const char *name, long long *applied, long long *seq, int *nkv)
{
	char path[256];
	sqlite3 *db;
	sqlite3_stmt *st;

	*applied = *seq = -1;
	*nkv = -1;
	db_path(name, path, sizeof(path));
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	        SQLITE_OK ||
	    sqlite3_prepare_v2(
	        db,
	        "SELECT (SELECT value FROM meta WHERE key='applied_index'), "
	        "(SELECT value FROM meta WHERE key='change_seq'), "
	        "(SELECT count(*) FROM kv)",
	        -1, &st, NULL) != SQLITE_OK) {
		CHECK(!"cannot read the database");
		sqlite3_close(db);
		return;
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		*applied = sqlite3_column_int64(st, 0);
		*seq = sqlite3_column_int64(st, 1);
		*nkv = sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Entries become visible, with their meta, only together at commit. */
static void
test_group_commit(void)
{
	struct store *s = open_db("group");
	long long applied, seq;
	int nkv;

	CHECK(!store_uncommitted(s));
	CHECK_EQ_INT(kv_set(s, 1, "a", "1"), STORE_APPLIED);
	CHECK_EQ_INT(kv_set(s, 2, "b", "2"), STORE_APPLIED);
	CHECK_EQ_INT(kv_set(s, 3, "c", "3"), STORE_APPLIED);
	CHECK(store_uncommitted(s));
	peek_meta("group", &applied, &seq, &nkv);
	CHECK_EQ_INT(applied, 0);
	CHECK_EQ_INT(seq, 0);
	CHECK_EQ_INT(nkv, 0);
	CHECK_EQ_INT(store_commit(s), 0);
	CHECK(!store_uncommitted(s));
	peek_meta("group", &applied, &seq, &nkv);
	CHECK_EQ_INT(applied, 3);
	CHECK_EQ_INT(seq, 3);
	CHECK_EQ_INT(nkv, 3);
	CHECK_EQ_INT(store_commit(s), 0); /* nothing open: no-op */
	store_close(s);
}

static long long
file_size(const char *name, const char *suffix)
{
	char path[256], full[300];
	struct stat st;

	db_path(name, path, sizeof(path));
	snprintf(full, sizeof(full), "%s%s", path, suffix);
	return stat(full, &st) == 0 ? (long long)st.st_size : -1;
}

/*
 * Commits never checkpoint the whole WAL on the committing connection
 * (the loop): the thread copies the bulk once the WAL holds
 * WALCKPT_PAGES pages, the loop the tail, the WAL starts over and stays
 * bounded, and the pages reach state.db while the store stays open.
 */
static void
test_checkpoint_off_loop(void)
{
	struct store *s = open_db("ckpt");
	struct walckpt_stats st;
	char key[32], value[1001];
	long long db0, wal_max = 0;
	uint64_t index = 0;
	unsigned i;

	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	CHECK_EQ_INT(store_commit(s), 0);
	db0 = file_size("ckpt", "");
	/* Well below the threshold: no checkpoint at all. */
	for (i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		CHECK_EQ_INT(kv_set(s, ++index, key, value), STORE_APPLIED);
		CHECK_EQ_INT(store_commit(s), 0);
	}
	store_checkpoints(s, &st);
	CHECK_EQ_INT(st.thread_runs + st.loop_runs, 0);
	CHECK(file_size("ckpt", "") == db0);
	/*
	 * Past it: one commit at a time, as raftd's loop does, paced a
	 * little (a loop that commits waits for the disk and the network
	 * between its commits), 10000 commits of 3 or more WAL pages each.
	 */
	for (i = 50; i < 10000; i++) {
		long long wal;

		snprintf(key, sizeof(key), "k%u", i % 3000);
		CHECK_EQ_INT(kv_set(s, ++index, key, value), STORE_APPLIED);
		CHECK_EQ_INT(store_commit(s), 0);
		if ((wal = file_size("ckpt", "-wal")) > wal_max)
			wal_max = wal;
		if (i % 8 == 0)
			usleep(1000);
	}
	store_checkpoints(s, &st);
	/* How the work was shared depends on the disk: printed only. */
	fprintf(stderr,
	        "checkpoints: %llu by the thread, %llu by the loop (%llu "
	        "over the maximum), WAL file at most %lld bytes\n",
	        (unsigned long long)st.thread_runs,
	        (unsigned long long)st.loop_runs,
	        (unsigned long long)st.loop_full, wal_max);
	CHECK(st.thread_runs > 0);
	CHECK(st.loop_runs > 0);
	/* 3000 rows of 1000 bytes: most are in state.db itself. */
	CHECK(file_size("ckpt", "") > 2000LL * 1000);
	/* 30000+ frames written; the WAL stayed within its bound. */
	CHECK(wal_max < (long long)(WALCKPT_PAGES_MAX + 64) * (4096 + 24));
	CHECK(strncmp(get(s, "k2999"), value, 255) == 0);
	store_close(s);
}

/* A crash before the commit loses the batch whole; a replay redoes it. */
static void
test_crash_before_commit(void)
{
	struct store *s;
	pid_t pid;
	int status = -1;

	pid = fork();
	if (pid == 0) {
		s = open_db("crash");
		kv_set(s, 1, "a", "1");
		kv_set(s, 2, "b", "2");
		store_commit(s);
		kv_set(s, 3, "a", "changed");
		kv_del(s, 4, "b");
		_exit(0); /* no commit, no close */
	}
	CHECK(pid > 0);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	s = open_db("crash");
	CHECK_EQ_INT(store_applied_index(s), 2);
	CHECK_EQ_INT(store_change_seq(s), 2);
	CHECK_EQ_STR(get(s, "a"), "1");
	CHECK_EQ_STR(get(s, "b"), "2");
	CHECK_EQ_INT(kv_set(s, 2, "b", "2"), STORE_SKIPPED);
	CHECK_EQ_INT(kv_set(s, 3, "a", "changed"), STORE_APPLIED);
	CHECK_EQ_INT(kv_del(s, 4, "b"), STORE_APPLIED);
	store_close(s);
	s = open_db("crash");
	CHECK_EQ_INT(store_applied_index(s), 4);
	CHECK_EQ_INT(store_change_seq(s), 4);
	CHECK_EQ_STR(get(s, "a"), "changed");
	CHECK(get(s, "b") == NULL);
	store_close(s);
}

static void
test_malformed_skipped(void)
{
	struct store *s = open_db("malformed");
	struct store_result res;
	struct store_member m;
	uint8_t junk[16] = { 0xff, 1, 2, 3, 4, 5, 6, 7 };
	uint8_t odd[13] = { 1, 1, 0, 2 };
	struct dr_buf b;

	CHECK_EQ_INT(kv_set(s, 1, "k", "v"), STORE_APPLIED);
	CHECK_EQ_INT(store_apply(s, 2, junk, sizeof(junk), &res), 0);
	CHECK_EQ_INT(res.outcome, STORE_REJECTED);
	/* A rejected entry takes a change number too (wire.h). */
	CHECK_EQ_INT(res.seq, 2);
	CHECK_EQ_STR(res.reason, "undecodable command");
	CHECK_EQ_INT(res.effects_len, 0);
	CHECK_EQ_INT(store_apply(s, 3, odd, sizeof(odd), &res), 0);
	CHECK_EQ_INT(res.outcome, STORE_REJECTED);
	CHECK_EQ_INT(store_apply(s, 4, NULL, 0, &res), 0);
	CHECK_EQ_INT(res.outcome, STORE_REJECTED);

	/* A valid kv_set with one byte of padding flipped. */
	dr_buf_init(&b);
	{
		const char *args[] = { "k", "v2" }; /* 19 bytes + 5 pad */

		encode(&b, DR_CMD_KV_SET, 2, args);
	}
	CHECK_EQ_INT(b.len, 24);
	b.data[b.len - 1] = 0x01;
	CHECK_EQ_INT(store_apply(s, 5, b.data, b.len, &res), 0);
	CHECK_EQ_INT(res.outcome, STORE_REJECTED);
	dr_buf_close(&b);

	/* Decodable but meaningless: a member with a bad raft id. */
	CHECK_EQ_INT(member_add(s, 6, "n1", "12x"), STORE_REJECTED);
	CHECK_EQ_INT(member_add(s, 7, "n1", "0"), STORE_REJECTED);
	CHECK_EQ_INT(member_add(s, 8, "bad id", "12"), STORE_REJECTED);
	CHECK_EQ_INT(store_member_get(s, "n1", &m), DR_ENOTFOUND);
	CHECK_EQ_INT(store_members_count(s), 0);

	CHECK_EQ_STR(get(s, "k"), "v");
	CHECK_EQ_INT(store_applied_index(s), 8);
	CHECK_EQ_INT(store_change_seq(s), 8);
	CHECK_EQ_INT(kv_set(s, 9, "k", "w"), STORE_APPLIED);
	CHECK_EQ_INT(store_change_seq(s), 9);
	store_close(s);

	s = open_db("malformed");
	CHECK_EQ_INT(store_applied_index(s), 9);
	CHECK_EQ_STR(get(s, "k"), "w");
	store_close(s);
}

#define HASH_A \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static enum store_outcome
token_add(struct store *s, uint64_t index, const char *name, const char *role,
          const char *hash, const char **reason)
{
	const char *args[] = { name, role, hash };
	struct store_result res;
	struct dr_buf b;

	dr_buf_init(&b);
	encode(&b, DR_CMD_TOKEN_ADD, 3, args);
	CHECK_EQ_INT(store_apply(s, index, b.data, b.len, &res), 0);
	dr_buf_close(&b);
	if (reason != NULL) {
		static char r[256];

		snprintf(r, sizeof(r), "%s", res.reason);
		*reason = r;
	}
	return res.outcome;
}

/* store_token_check or _list as a C string ("" when not found). */
static const char *
tokens(struct store *s, const char *hash)
{
	static char out[512];
	struct dr_buf b;
	int rv;

	dr_buf_init(&b);
	rv = hash != NULL ? store_token_check(s, hash, &b)
	                  : store_token_list(s, &b);
	snprintf(out, sizeof(out), "%.*s", (int)b.len,
	         b.len ? (const char *)b.data : "");
	dr_buf_close(&b);
	CHECK(rv == 0 || rv == DR_ENOTFOUND);
	return out;
}

/* Tokens: names unique, hashes unique, roles and hashes checked. */
static void
test_tokens(void)
{
	struct store *s = open_db("tokens");
	const char *del[] = { "ops" }, *why;

	CHECK_EQ_STR(tokens(s, NULL), "");
	CHECK_EQ_INT(token_add(s, 1, "ops", "admin", HASH_A, NULL),
	             STORE_APPLIED);
	CHECK_EQ_INT(token_add(s, 2, "ci", "write", HASH_B, NULL),
	             STORE_APPLIED);
	CHECK_EQ_STR(tokens(s, HASH_A), "ops admin");
	CHECK_EQ_STR(tokens(s, HASH_B), "ci write");
	CHECK_EQ_STR(tokens(s, HASH_A "0"), "");
	CHECK_EQ_STR(tokens(s, NULL), "ci write\nops admin\n");
	/* Refused, nothing changed: a name or hash again, bad fields. */
	CHECK_EQ_INT(token_add(s, 3, "ops", "read", HASH_B, &why),
	             STORE_REJECTED);
	CHECK_EQ_STR(why, "token ops already exists");
	CHECK_EQ_INT(token_add(s, 4, "other", "read", HASH_A, NULL),
	             STORE_REJECTED);
	CHECK_EQ_INT(token_add(s, 5, "x", "root", HASH_A, &why),
	             STORE_REJECTED);
	CHECK_EQ_STR(why, "invalid role (read, write or admin)");
	CHECK_EQ_INT(token_add(s, 6, "x", "read", "ABCD", &why),
	             STORE_REJECTED);
	CHECK_EQ_STR(why, "invalid token hash");
	CHECK_EQ_INT(token_add(s, 7, "x", "read",
	                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	                       "AAAAAAAAAAAAAAAAAAAAAAAA",
	                       NULL),
	             STORE_REJECTED);
	CHECK_EQ_INT(token_add(s, 8, "bad name", "read", HASH_A "", &why),
	             STORE_REJECTED);
	CHECK_EQ_STR(why, "invalid token name");
	CHECK_EQ_STR(tokens(s, NULL), "ci write\nops admin\n");
	CHECK_EQ_INT(apply_cmd(s, 9, DR_CMD_TOKEN_DEL, 1, del), STORE_APPLIED);
	CHECK_EQ_INT(apply_cmd(s, 10, DR_CMD_TOKEN_DEL, 1, del),
	             STORE_REJECTED);
	CHECK_EQ_STR(tokens(s, HASH_A), "");
	CHECK_EQ_STR(tokens(s, NULL), "ci write\n");
	store_close(s);
	/* They are state.db's: there after a restart. */
	s = open_db("tokens");
	CHECK_EQ_STR(tokens(s, HASH_B), "ci write");
	store_close(s);
}

static void
test_members(void)
{
	struct store *s = open_db("members");
	struct store_member m;
	const char *del[] = { "n1" };

	CHECK_EQ_INT(member_add(s, 1, "n1", "9223372036854775807"),
	             STORE_APPLIED);
	CHECK_EQ_INT(member_add(s, 2, "n2", "42"), STORE_APPLIED);
	CHECK_EQ_INT(store_members_count(s), 2);
	CHECK_EQ_INT(store_member_get(s, "n1", &m), 0);
	CHECK(m.raft_id == 9223372036854775807ull);
	CHECK_EQ_STR(m.ctl_addr, "127.0.0.1:8500");
	CHECK_EQ_INT(store_member_by_raft_id(s, 42, &m), 0);
	CHECK_EQ_STR(m.id, "n2");
	CHECK_EQ_INT(store_member_by_raft_id(s, 43, &m), DR_ENOTFOUND);
	CHECK_EQ_INT(apply_cmd(s, 3, DR_CMD_MEMBER_DEL, 1, del), STORE_APPLIED);
	CHECK_EQ_INT(store_member_get(s, "n1", &m), DR_ENOTFOUND);
	CHECK_EQ_INT(store_members_count(s), 1);
	store_close(s);
}

struct collect {
	char text[1024];
};

static int
collect_member(const struct store_member *m, void *arg)
{
	struct collect *c = arg;
	size_t n = strlen(c->text);

	snprintf(c->text + n, sizeof(c->text) - n, "%s %llu %s %s %s;", m->id,
	         (unsigned long long)m->raft_id, m->raft_addr, m->ctl_addr,
	         m->dns_addr);
	return 0;
}

/* Every kv row and member as one string, to compare two databases. */
static void
dump(struct store *s, char *out, size_t outlen)
{
	struct collect c;
	const char *keys[] = { "a", "b", "c", "d", "spaces key" };
	size_t i, n;

	memset(&c, 0, sizeof(c));
	store_members_foreach(s, collect_member, &c);
	snprintf(out, outlen, "%s|", c.text);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = get(s, keys[i]);

		n = strlen(out);
		snprintf(out + n, outlen - n, "%s=%s;", keys[i],
		         v ? v : "(none)");
	}
}

static void
test_snapshot_roundtrip(void)
{
	struct store *a = open_db("snap-a"), *b = open_db("snap-b");
	struct store_restore_info info;
	char da[2048], db[2048], path[256];
	void *img = NULL;
	size_t len = 0;
	sqlite3 *ro;
	sqlite3_stmt *st;

	CHECK_EQ_INT(kv_set(a, 1, "a", "1"), STORE_APPLIED);
	CHECK_EQ_INT(kv_set(a, 2, "b", "2"), STORE_APPLIED);
	CHECK_EQ_INT(kv_set(a, 3, "spaces key", "x y z"), STORE_APPLIED);
	CHECK_EQ_INT(member_add(a, 4, "n1", "11"), STORE_APPLIED);
	CHECK_EQ_INT(member_add(a, 6, "n2", "22"), STORE_APPLIED);
	CHECK_EQ_INT(kv_del(a, 7, "b"), STORE_APPLIED);
	/* b has some older state of its own that the image replaces. */
	CHECK_EQ_INT(kv_set(b, 1, "c", "only in b"), STORE_APPLIED);

	CHECK_EQ_INT(store_serialize(a, malloc, &img, &len), 0);
	CHECK(len >= 4096 && len % 512 == 0);
	CHECK_EQ_INT(store_restore(b, img, len, &info), 0);
	CHECK(info.replaced);
	CHECK_EQ_INT(info.image_applied, 7);
	CHECK_EQ_INT(info.db_applied, 1);
	free(img);

	CHECK_EQ_INT(store_applied_index(b), 7);
	CHECK_EQ_INT(store_change_seq(b), 6);
	dump(a, da, sizeof(da));
	dump(b, db, sizeof(db));
	CHECK_EQ_STR(db, da);
	CHECK(get(b, "c") == NULL);
	CHECK(strstr(db, "n2 22 127.0.0.1:8300") != NULL);

	/* The restored database keeps working, in WAL mode. */
	CHECK_EQ_INT(kv_set(b, 8, "d", "after"), STORE_APPLIED);
	CHECK_EQ_INT(store_commit(b), 0);
	CHECK_EQ_STR(get(b, "d"), "after");
	db_path("snap-b", path, sizeof(path));
	CHECK_EQ_INT(sqlite3_open_v2(path, &ro, SQLITE_OPEN_READONLY, NULL),
	             SQLITE_OK);
	CHECK_EQ_INT(sqlite3_prepare_v2(
	                 ro,
	                 "SELECT (SELECT count(*) FROM kv), "
	                 "(SELECT value FROM meta WHERE key='applied_index'), "
	                 "(SELECT journal_mode FROM pragma_journal_mode)",
	                 -1, &st, NULL),
	             SQLITE_OK);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_EQ_INT(sqlite3_column_int(st, 0), 3);
	CHECK_EQ_INT(sqlite3_column_int(st, 1), 8);
	CHECK_EQ_STR((const char *)sqlite3_column_text(st, 2), "wal");
	sqlite3_finalize(st);
	sqlite3_close(ro);
	store_close(b);

	b = open_db("snap-b");
	CHECK_EQ_INT(store_applied_index(b), 8);
	CHECK_EQ_STR(get(b, "d"), "after");
	store_close(b);
	store_close(a);
}

/* Tokens travel in snapshots (the image is state.db). */
static void
test_tokens_in_snapshot(void)
{
	struct store *a = open_db("tok-a"), *b = open_db("tok-b");
	struct store_restore_info info;
	void *img = NULL;
	size_t len = 0;

	CHECK_EQ_INT(token_add(a, 1, "ops", "admin", HASH_A, NULL),
	             STORE_APPLIED);
	CHECK_EQ_INT(token_add(b, 1, "old", "read", HASH_B, NULL),
	             STORE_APPLIED);
	CHECK_EQ_INT(kv_set(a, 2, "k", "v"), STORE_APPLIED);
	CHECK_EQ_INT(store_serialize(a, malloc, &img, &len), 0);
	CHECK_EQ_INT(store_restore(b, img, len, &info), 0);
	CHECK(info.replaced);
	free(img);
	CHECK_EQ_STR(tokens(b, HASH_A), "ops admin");
	CHECK_EQ_STR(tokens(b, HASH_B), "");
	CHECK_EQ_STR(tokens(b, NULL), "ops admin\n");
	store_close(a);
	store_close(b);
}

static void
test_restore_older_ignored(void)
{
	struct store *s = open_db("older");
	struct store_restore_info info;
	void *img = NULL;
	size_t len = 0;

	CHECK_EQ_INT(kv_set(s, 1, "a", "old"), STORE_APPLIED);
	CHECK_EQ_INT(kv_set(s, 2, "b", "2"), STORE_APPLIED);
	CHECK_EQ_INT(store_serialize(s, malloc, &img, &len), 0);
	CHECK_EQ_INT(kv_set(s, 3, "a", "new"), STORE_APPLIED);
	CHECK_EQ_INT(kv_del(s, 4, "b"), STORE_APPLIED);

	CHECK_EQ_INT(store_restore(s, img, len, &info), 0);
	CHECK(!info.replaced);
	CHECK_EQ_INT(info.image_applied, 2);
	CHECK_EQ_INT(info.db_applied, 4);
	CHECK_EQ_STR(get(s, "a"), "new");
	CHECK(get(s, "b") == NULL);
	CHECK_EQ_INT(store_applied_index(s), 4);
	CHECK_EQ_INT(store_change_seq(s), 4);

	/* An image at the same index is ignored too (state is identical). */
	free(img);
	CHECK_EQ_INT(store_serialize(s, malloc, &img, &len), 0);
	store_close(s);
	s = open_db("older");
	CHECK_EQ_INT(store_restore(s, img, len, &info), 0);
	CHECK(!info.replaced);
	CHECK_EQ_INT(info.image_applied, 4);
	CHECK_EQ_STR(get(s, "a"), "new");
	free(img);
	store_close(s);
}

static void
test_restore_garbage(void)
{
	struct store *s = open_db("garbage");
	struct store_restore_info info;
	char junk[8192];
	void *img = NULL;
	size_t len = 0;

	CHECK_EQ_INT(kv_set(s, 1, "a", "keep"), STORE_APPLIED);
	memset(junk, 0x5a, sizeof(junk));
	CHECK_EQ_INT(store_restore(s, junk, sizeof(junk), &info),
	             DR_EMALFORMED);
	CHECK_EQ_INT(store_restore(s, junk, 10, &info), DR_EMALFORMED);

	/* A real header with its pages cut off. */
	CHECK_EQ_INT(store_serialize(s, malloc, &img, &len), 0);
	memcpy(junk, img, 100);
	CHECK_EQ_INT(store_restore(s, junk, 4096, &info), DR_EMALFORMED);
	/* Any other sqlite database without our meta rows. */
	free(img);
	{
		sqlite3 *db;

		CHECK_EQ_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
		CHECK_EQ_INT(
		    sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_int64 n = 0;
		unsigned char *p = sqlite3_serialize(db, "main", &n, 0);

		CHECK(p != NULL);
		CHECK_EQ_INT(store_restore(s, p, (size_t)n, &info),
		             DR_EMALFORMED);
		sqlite3_free(p);
		sqlite3_close(db);
	}
	CHECK_EQ_STR(get(s, "a"), "keep");
	CHECK_EQ_INT(store_applied_index(s), 1);
	store_close(s);
}

int
main(void)
{
	char cmd[128];

	dr_log_init("test_store", false);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/drstoreXXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	RUN(test_kv_set_del);
	RUN(test_replay_idempotent);
	RUN(test_group_commit);
	RUN(test_checkpoint_off_loop);
	RUN(test_crash_before_commit);
	RUN(test_malformed_skipped);
	RUN(test_members);
	RUN(test_tokens);
	RUN(test_snapshot_roundtrip);
	RUN(test_tokens_in_snapshot);
	RUN(test_restore_older_ignored);
	RUN(test_restore_garbage);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return UNIT_DONE();
}
