/* fsm: the c-raft callbacks on a real store, driven like c-raft does. */
#include <pthread.h>
#include <raft.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "fsm.h"
#include "log.h"
#include "store.h"
#include "unit.h"
#include "unit_cmd.h"

static char tmpdir[64];

/* What the hooks saw. */
struct seen {
	unsigned applied, rejected, resets;
	uint64_t last_index, last_seq, last_leader_term;
	bool last_reload;
	char last_reason[512];
	size_t effects_len[8]; /* per call, the first 8 calls */
	unsigned calls;
	struct dr_buf effects; /* of the last entry */
	struct dr_buf seqs;    /* every seq seen, u64 each */
};

static void
seen_applied_cb(void *arg, uint64_t index, const struct store_result *res,
                uint64_t leader_term)
{
	struct seen *s = arg;

	s->last_leader_term = leader_term;
	if (res->outcome == STORE_APPLIED)
		s->applied++;
	else if (res->outcome == STORE_REJECTED)
		s->rejected++;
	s->last_index = index;
	s->last_seq = res->seq;
	s->last_reload = res->reload;
	snprintf(s->last_reason, sizeof(s->last_reason), "%s", res->reason);
	dr_buf_reset(&s->effects);
	dr_buf_put(&s->effects, res->effects, res->effects_len);
	if (s->calls < 8)
		s->effects_len[s->calls] = res->effects_len;
	s->calls++;
	dr_buf_put_u64(&s->seqs, res->seq);
}

static void
seen_reset_cb(void *arg)
{
	struct seen *s = arg;

	s->resets++;
}

/* A store, a stand-in for c-raft's struct raft, and the fsm between. */
struct rig {
	struct store *store;
	struct raft raft; /* only last_applied is read */
	struct fsm fsm;
	struct seen seen;
	bool batch; /* leave flushing to the test */
};

static void
rig_open(struct rig *r, const char *name)
{
	struct fsm_hooks hooks = { seen_applied_cb, seen_reset_cb, NULL };
	char path[256];

	memset(r, 0, sizeof(*r));
	dr_buf_init(&r->seen.effects);
	dr_buf_init(&r->seen.seqs);
	snprintf(path, sizeof(path), "%s/%s.db", tmpdir, name);
	if (store_open(&r->store, path) != 0)
		exit(1);
	hooks.arg = &r->seen;
	fsm_init(&r->fsm, &r->raft, r->store, &hooks);
}

static void
rig_close(struct rig *r)
{
	fsm_flush(&r->fsm);
	fsm_close(&r->fsm);
	store_close(r->store);
	dr_buf_close(&r->seen.effects);
	dr_buf_close(&r->seen.seqs);
}

/* Applies entry index as c-raft 0.15 does: last_applied is index - 1. */
static int
rig_apply(struct rig *r, uint64_t index, const void *data, size_t len)
{
	struct raft_buffer buf = { (void *)data, len };
	void *result = NULL;
	int rv;

	r->raft.last_applied = index - 1;
	rv = r->fsm.raft_fsm.apply(&r->fsm.raft_fsm, &buf, &result);
	CHECK(result != NULL);
	r->raft.last_applied = index;
	if (!r->batch)
		fsm_flush(&r->fsm);
	return rv;
}

static int
rig_kv_set(struct rig *r, uint64_t index, const char *k, const char *v)
{
	struct dr_cmd c;
	struct dr_buf b;
	int rv;

	memset(&c, 0, sizeof(c));
	c.type = DR_CMD_KV_SET;
	c.nargs = 2;
	c.args[0].p = k;
	c.args[0].len = strlen(k);
	c.args[1].p = v;
	c.args[1].len = strlen(v);
	dr_buf_init(&b);
	if (dr_cmd_encode(&c, &b) != 0)
		abort();
	rv = rig_apply(r, index, b.data, b.len);
	dr_buf_close(&b);
	return rv;
}

static int
rig_cmd(struct rig *r, uint64_t index, unsigned type, unsigned nargs,
        const char **args)
{
	struct dr_buf b;
	int rv;

	dr_buf_init(&b);
	unit_cmd_encode(type, nargs, args, &b);
	rv = rig_apply(r, index, b.data, b.len);
	dr_buf_close(&b);
	return rv;
}

#define SOA "ns1.example.com. hostmaster.example.com. 1 3600 900 604800 300"

static int
rig_rr_add(struct rig *r, uint64_t index, const char *owner, const char *type,
           const char *rdata)
{
	const char *args[] = { "example.com.", owner, type, "60", rdata };

	return rig_cmd(r, index, DR_CMD_RR_ADD, 5, args);
}

static const char *
rig_get(struct rig *r, const char *key)
{
	static char out[256];
	struct dr_buf b;
	int rv;

	dr_buf_init(&b);
	rv = store_kv_get(r->store, key, strlen(key), &b);
	snprintf(out, sizeof(out), "%.*s", (int)b.len,
	         b.len ? (const char *)b.data : "");
	dr_buf_close(&b);
	return rv == 0 ? out : NULL;
}

static void
test_apply_uses_raft_index(void)
{
	struct rig r;

	rig_open(&r, "index");
	CHECK_EQ_INT(rig_kv_set(&r, 3, "a", "1"), 0);
	CHECK_EQ_INT(r.seen.applied, 1);
	CHECK_EQ_INT(r.seen.last_index, 3);
	CHECK_EQ_INT(r.seen.last_seq, 1);
	CHECK_EQ_INT(r.seen.effects.len, 0); /* KV: no record effects */
	CHECK_EQ_INT(store_applied_index(r.store), 3);
	CHECK_EQ_INT(rig_kv_set(&r, 4, "a", "2"), 0);
	CHECK_EQ_INT(store_applied_index(r.store), 4);
	CHECK_EQ_INT(store_change_seq(r.store), 2);
	CHECK_EQ_STR(rig_get(&r, "a"), "2");
	rig_close(&r);
}

/* The value of key as another process (dnsd) sees it, or NULL. */
static const char *
peek(const char *name, const char *key)
{
	static char out[256];
	char path[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	const char *rv = NULL;

	snprintf(path, sizeof(path), "%s/%s.db", tmpdir, name);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	        SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT value FROM kv WHERE key = ?1", -1,
	                       &st, NULL) != SQLITE_OK) {
		CHECK(!"cannot read the database");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(out, sizeof(out), "%s", sqlite3_column_text(st, 0));
		rv = out;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rv;
}

/* Hooks (replies, publications) only run once the batch is committed. */
static void
test_flush_commits_then_tells(void)
{
	struct rig r;

	rig_open(&r, "flush");
	r.batch = true;
	r.raft.state = RAFT_LEADER;
	r.raft.current_term = 7;
	CHECK_EQ_INT(rig_kv_set(&r, 1, "a", "1"), 0);
	CHECK_EQ_INT(rig_kv_set(&r, 2, "b", "2"), 0);
	CHECK_EQ_INT(r.seen.applied, 0);
	CHECK(store_uncommitted(r.store));
	CHECK(peek("flush", "a") == NULL);
	/* Our own connection already reads the applied state. */
	CHECK_EQ_STR(rig_get(&r, "b"), "2");
	fsm_flush(&r.fsm);
	CHECK(!store_uncommitted(r.store));
	CHECK_EQ_INT(r.seen.applied, 2);
	CHECK_EQ_INT(r.seen.last_index, 2);
	CHECK_EQ_INT(r.seen.last_seq, 2);
	CHECK_EQ_INT(r.seen.last_leader_term, 7);
	CHECK_EQ_STR(peek("flush", "a"), "1");
	CHECK_EQ_STR(peek("flush", "b"), "2");
	/* A follower's entries carry no leader term. */
	r.raft.state = RAFT_FOLLOWER;
	CHECK_EQ_INT(rig_kv_set(&r, 3, "c", "3"), 0);
	fsm_flush(&r.fsm);
	CHECK_EQ_INT(r.seen.last_leader_term, 0);
	rig_close(&r);
}

static void
test_replay_not_applied_twice(void)
{
	struct rig r;

	rig_open(&r, "replay");
	CHECK_EQ_INT(rig_kv_set(&r, 1, "a", "1"), 0);
	CHECK_EQ_INT(rig_kv_set(&r, 2, "a", "2"), 0);
	rig_close(&r);

	/* Restart: c-raft replays from 1; the hooks must stay silent. */
	rig_open(&r, "replay");
	CHECK_EQ_INT(rig_kv_set(&r, 1, "a", "1"), 0);
	CHECK_EQ_INT(rig_kv_set(&r, 2, "a", "2"), 0);
	CHECK_EQ_INT(r.seen.applied + r.seen.rejected, 0);
	CHECK_EQ_INT(store_change_seq(r.store), 2);
	CHECK_EQ_STR(rig_get(&r, "a"), "2");
	CHECK_EQ_INT(rig_kv_set(&r, 3, "a", "3"), 0);
	CHECK_EQ_INT(r.seen.applied, 1);
	CHECK_EQ_INT(r.seen.last_seq, 3);
	rig_close(&r);
}

static void
test_malformed_entry(void)
{
	struct rig r;
	uint8_t junk[24];

	rig_open(&r, "malformed");
	memset(junk, 0xee, sizeof(junk));
	CHECK_EQ_INT(rig_kv_set(&r, 1, "a", "1"), 0);
	CHECK_EQ_INT(rig_apply(&r, 2, junk, sizeof(junk)), 0);
	CHECK_EQ_INT(rig_apply(&r, 3, junk, 5), 0);
	CHECK_EQ_INT(r.seen.rejected, 2);
	CHECK_EQ_INT(r.seen.applied, 1);
	CHECK_EQ_INT(store_applied_index(r.store), 3);
	/* Rejected entries take a change number too (gap detection). */
	CHECK_EQ_INT(store_change_seq(r.store), 3);
	CHECK_EQ_INT(r.seen.last_seq, 3);
	CHECK_EQ_STR(r.seen.last_reason, "undecodable command");
	CHECK_EQ_STR(rig_get(&r, "a"), "1");
	rig_close(&r);
}

/* Each entry of a batch reaches the hooks with its own effects and seq. */
static void
test_record_effects(void)
{
	const char *del[] = { "example.com.", "nope.example.com.", "A",
		              "192.0.2.1" };
	struct rig r;
	struct dr_cmd c;
	uint64_t seqs[5];
	size_t i;

	rig_open(&r, "effects");
	r.batch = true;
	CHECK_EQ_INT(rig_rr_add(&r, 1, "example.com.", "SOA", SOA), 0);
	CHECK_EQ_INT(rig_rr_add(&r, 2, "www.example.com.", "A", "192.0.2.1"),
	             0);
	CHECK_EQ_INT(rig_cmd(&r, 3, DR_CMD_RR_DEL, 4, del), 0);
	CHECK_EQ_INT(rig_kv_set(&r, 5, "k", "v"), 0);
	CHECK_EQ_INT(rig_rr_add(&r, 6, "www.example.com.", "A", "192.0.2.1"),
	             0);
	CHECK_EQ_INT(r.seen.calls, 0);
	fsm_flush(&r.fsm);
	CHECK_EQ_INT(r.seen.calls, 5);
	CHECK_EQ_INT(r.seen.applied, 4);
	CHECK_EQ_INT(r.seen.rejected, 1);
	/* SOA alone; record + SOA rewrite; rejected; KV; no change. */
	CHECK(r.seen.effects_len[0] > 0);
	CHECK(r.seen.effects_len[1] > r.seen.effects_len[0]);
	CHECK_EQ_INT(r.seen.effects_len[2], 0);
	CHECK_EQ_INT(r.seen.effects_len[3], 0);
	CHECK_EQ_INT(r.seen.effects_len[4], 0);
	/* One seq per entry, rejected included, no gap. */
	CHECK_EQ_INT(r.seen.seqs.len, 5 * 8);
	for (i = 0; i < 5; i++) {
		struct dr_cursor cur;

		dr_cursor_init(&cur, r.seen.seqs.data + i * 8, 8);
		dr_get_u64(&cur, &seqs[i]);
		CHECK_EQ_INT(seqs[i], i + 1);
	}
	CHECK_EQ_INT(store_change_seq(r.store), 5);

	/* The rejection's reason reaches the hook. */
	r.batch = false;
	CHECK_EQ_INT(rig_cmd(&r, 7, DR_CMD_RR_DEL, 4, del), 0);
	CHECK_EQ_STR(r.seen.last_reason, "not found");
	CHECK_EQ_INT(r.seen.last_seq, 6);
	/* The effects bytes are the record's RR_DEL, then the SOA's. */
	del[1] = "www.example.com.";
	CHECK_EQ_INT(rig_cmd(&r, 8, DR_CMD_RR_DEL, 4, del), 0);
	CHECK_EQ_STR(r.seen.last_reason, "");
	CHECK(r.seen.effects.len > 0);
	/* 8 + 4 * 4 + 12 + 16 + 1 + 9 = 62 bytes, padded to 64. */
	CHECK(r.seen.effects.len > 64);
	CHECK_EQ_INT(dr_cmd_decode(r.seen.effects.data, 64, &c), 0);
	CHECK_EQ_INT(c.type, DR_CMD_RR_DEL);
	CHECK(dr_str_eq(c.args[1], "www.example.com."));
	rig_close(&r);
}

/* Past EFFECTS_MAX the hook gets the reload flag and no list. */
static void
test_record_reload(void)
{
	const char *args[] = { "example.com.", "test", NULL };
	struct dr_buf text;
	char line[96];
	struct rig r;
	unsigned i;

	dr_buf_init(&text);
	snprintf(line, sizeof(line), "example.com. 60 SOA %s\n", SOA);
	dr_buf_put(&text, line, strlen(line));
	for (i = 0; i < 10000; i++) {
		snprintf(line, sizeof(line),
		         "h%u.example.com. 60 A 10.1.%u.%u\n", i, i / 256,
		         i % 256);
		dr_buf_put(&text, line, strlen(line));
	}
	dr_buf_put(&text, "", 1);
	args[2] = (const char *)text.data;
	rig_open(&r, "reload");
	CHECK_EQ_INT(rig_cmd(&r, 1, DR_CMD_ZONE_REPLACE, 3, args), 0);
	CHECK_EQ_INT(r.seen.applied, 1);
	CHECK(r.seen.last_reload);
	CHECK_EQ_INT(r.seen.effects.len, 0);
	CHECK_EQ_INT(rig_rr_add(&r, 2, "x.example.com.", "A", "192.0.2.1"), 0);
	CHECK(!r.seen.last_reload);
	CHECK(r.seen.effects.len > 0);
	rig_close(&r);
	dr_buf_close(&text);
}

/*
 * Takes a snapshot through the fsm as c-raft 0.15 does with fsm version 3:
 * snapshot on the loop, snapshot_async on a pool thread (here: the same),
 * snapshot_finalize once written. Returns a raft_malloc'ed copy.
 */
static struct raft_buffer
rig_snapshot(struct rig *r)
{
	struct raft_buffer *bufs = NULL, out = { NULL, 0 };
	unsigned n = 0;

	CHECK_EQ_INT(r->fsm.raft_fsm.version, 3);
	CHECK_EQ_INT(r->fsm.raft_fsm.snapshot(&r->fsm.raft_fsm, &bufs, &n), 0);
	CHECK_EQ_INT(n, 1);
	if (bufs == NULL || n != 1)
		return out;
	CHECK_EQ_INT(
	    r->fsm.raft_fsm.snapshot_async(&r->fsm.raft_fsm, &bufs, &n), 0);
	out.len = bufs[0].len;
	out.base = raft_malloc(out.len);
	memcpy(out.base, bufs[0].base, out.len);
	CHECK_EQ_INT(
	    r->fsm.raft_fsm.snapshot_finalize(&r->fsm.raft_fsm, &bufs, &n), 0);
	return out;
}

static void
test_snapshot_restore(void)
{
	struct rig a, b;
	struct raft_buffer snap;
	char key[16];
	int i;

	rig_open(&a, "snap-a");
	rig_open(&b, "snap-b");
	for (i = 1; i <= 48; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		CHECK_EQ_INT(rig_kv_set(&a, (uint64_t)i, key, key), 0);
	}
	CHECK_EQ_INT(rig_rr_add(&a, 49, "example.com.", "SOA", SOA), 0);
	CHECK_EQ_INT(rig_rr_add(&a, 50, "www.example.com.", "A", "192.0.2.1"),
	             0);
	snap = rig_snapshot(&a);
	CHECK(snap.len > 0);
	/* On success restore owns (and frees) the buffer. */
	CHECK_EQ_INT(b.fsm.raft_fsm.restore(&b.fsm.raft_fsm, &snap), 0);
	CHECK_EQ_INT(b.seen.resets, 1);
	CHECK_EQ_INT(store_applied_index(b.store), 50);
	CHECK_EQ_INT(store_change_seq(b.store), 50);
	CHECK_EQ_STR(rig_get(&b, "k1"), "k1");
	CHECK_EQ_STR(rig_get(&b, "k48"), "k48");
	{
		/* Records and zones came along. */
		struct dr_buf v;

		dr_buf_init(&v);
		CHECK_EQ_INT(store_rr_get(b.store, "www.example.com.", "A", &v),
		             0);
		dr_buf_put(&v, "", 1);
		CHECK_EQ_STR((char *)v.data,
		             "www.example.com. 60 A 192.0.2.1\n");
		dr_buf_reset(&v);
		CHECK_EQ_INT(store_zone_list(b.store, &v), 0);
		dr_buf_put(&v, "", 1);
		CHECK_EQ_STR((char *)v.data, "example.com. 2 2\n");
		dr_buf_close(&v);
	}
	/* Then c-raft applies what follows the snapshot. */
	b.raft.last_applied = 50;
	CHECK_EQ_INT(rig_kv_set(&b, 51, "k1", "changed"), 0);
	CHECK_EQ_STR(rig_get(&b, "k1"), "changed");
	CHECK_EQ_INT(store_change_seq(b.store), 51);

	/* A stale snapshot (a restart restoring the last one) is ignored. */
	snap = rig_snapshot(&a);
	CHECK_EQ_INT(b.fsm.raft_fsm.restore(&b.fsm.raft_fsm, &snap), 0);
	CHECK_EQ_INT(b.seen.resets, 1);
	CHECK_EQ_STR(rig_get(&b, "k1"), "changed");
	CHECK_EQ_INT(store_applied_index(b.store), 51);
	rig_close(&a);
	rig_close(&b);
}

static void
test_restore_garbage_refused(void)
{
	struct rig r;
	struct raft_buffer buf;

	rig_open(&r, "garbage");
	CHECK_EQ_INT(rig_kv_set(&r, 1, "a", "1"), 0);
	buf.len = 4096;
	buf.base = raft_malloc(buf.len);
	memset(buf.base, 0x11, buf.len);
	/* On failure c-raft keeps and frees the buffer itself. */
	CHECK(r.fsm.raft_fsm.restore(&r.fsm.raft_fsm, &buf) != 0);
	raft_free(buf.base);
	CHECK_EQ_INT(r.seen.resets, 0);
	CHECK_EQ_STR(rig_get(&r, "a"), "1");
	rig_close(&r);
}
/*
 * A leader waits for a follower's snapshot install about as long as an
 * image of its latest snapshot's size needs, not c-raft's 30 s: c-raft
 * 0.15 drops a snapshot that reaches a follower busy with its own, and
 * the follower applies nothing until the leader sends it again.
 */
static void
test_install_timeout(void)
{
	struct rig a, b, c;
	struct raft_buffer snap, bad;
	size_t len;

	CHECK_EQ_INT(fsm_install_timeout_ms(0), 2000);
	CHECK_EQ_INT(fsm_install_timeout_ms(36864), 2000);
	CHECK_EQ_INT(fsm_install_timeout_ms((size_t)8 << 20), 4000);
	CHECK_EQ_INT(fsm_install_timeout_ms(((size_t)8 << 20) + 1), 4000);
	CHECK_EQ_INT(fsm_install_timeout_ms((size_t)112 << 20), 30000);
	CHECK_EQ_INT(fsm_install_timeout_ms((size_t)1 << 40), 30000);
	CHECK_EQ_INT(fsm_install_timeout_ms(SIZE_MAX), 30000);

	/* Taking a snapshot sets it from the image's size. */
	rig_open(&a, "timeout-a");
	rig_open(&b, "timeout-b");
	rig_open(&c, "timeout-c");
	CHECK_EQ_INT(rig_kv_set(&a, 1, "k", "v"), 0);
	CHECK_EQ_INT(a.raft.install_snapshot_timeout, 0);
	snap = rig_snapshot(&a);
	len = snap.len;
	CHECK(len > 0);
	CHECK_EQ_INT(a.raft.install_snapshot_timeout,
	             fsm_install_timeout_ms(len));
	CHECK_EQ_INT(a.raft.install_snapshot_timeout, 2000);

	/* So does a restored or installed one (a follower may lead next). */
	CHECK_EQ_INT(b.fsm.raft_fsm.restore(&b.fsm.raft_fsm, &snap), 0);
	CHECK_EQ_INT(b.raft.install_snapshot_timeout,
	             fsm_install_timeout_ms(len));
	/* Not a refused one. */
	bad.len = 4096;
	bad.base = raft_malloc(bad.len);
	memset(bad.base, 0x11, bad.len);
	CHECK(c.fsm.raft_fsm.restore(&c.fsm.raft_fsm, &bad) != 0);
	raft_free(bad.base);
	CHECK_EQ_INT(c.raft.install_snapshot_timeout, 0);
	rig_close(&a);
	rig_close(&b);
	rig_close(&c);
}

/* snapshot_async on a thread of its own, as raft_uv's pool runs it. */
struct async_job {
	struct rig *rig;
	struct raft_buffer *bufs;
	unsigned n;
	int rv;
};

static void *
async_job_run(void *arg)
{
	struct async_job *j = arg;
	struct raft_fsm *rf = &j->rig->fsm.raft_fsm;

	j->rv = rf->snapshot_async(rf, &j->bufs, &j->n);
	return NULL;
}

/*
 * The image is the state at the index c-raft snapshots at, although the
 * loop goes on applying (and committing) entries after the cheap step
 * and while the image is made on another thread.
 */
static void
test_snapshot_async_is_point_in_time(void)
{
	struct rig a, b;
	struct async_job j = { 0 };
	struct raft_buffer snap;
	pthread_t th;
	char key[16], val[32];
	int i;

	rig_open(&a, "async-a");
	rig_open(&b, "async-b");
	for (i = 1; i <= 200; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		CHECK_EQ_INT(rig_kv_set(&a, (uint64_t)i, key, "before"), 0);
	}
	/* Entries applied but not committed: the cheap step commits them. */
	a.batch = true;
	CHECK_EQ_INT(rig_kv_set(&a, 201, "k201", "before"), 0);
	CHECK(store_uncommitted(a.store));
	j.rig = &a;
	CHECK_EQ_INT(a.fsm.raft_fsm.snapshot(&a.fsm.raft_fsm, &j.bufs, &j.n),
	             0);
	CHECK(!store_uncommitted(a.store));
	CHECK_EQ_INT(a.fsm.take.index, 201);
	/* A second one is refused while this one runs. */
	{
		struct raft_buffer *b2 = NULL;
		unsigned n2 = 0;

		CHECK_EQ_INT(a.fsm.raft_fsm.snapshot(&a.fsm.raft_fsm, &b2, &n2),
		             RAFT_BUSY);
	}
	a.batch = false;
	/* Later entries, some committed before the image is made. */
	for (i = 202; i <= 400; i++) {
		snprintf(key, sizeof(key), "k%d", i - 200);
		snprintf(val, sizeof(val), "after %d", i);
		CHECK_EQ_INT(rig_kv_set(&a, (uint64_t)i, key, val), 0);
		if (i == 300 &&
		    pthread_create(&th, NULL, async_job_run, &j) != 0)
			abort();
	}
	pthread_join(th, NULL);
	CHECK_EQ_INT(j.rv, 0);
	CHECK_EQ_INT(j.n, 1);
	snap.len = j.bufs[0].len;
	snap.base = raft_malloc(snap.len);
	memcpy(snap.base, j.bufs[0].base, snap.len);
	CHECK_EQ_INT(
	    a.fsm.raft_fsm.snapshot_finalize(&a.fsm.raft_fsm, &j.bufs, &j.n),
	    0);
	CHECK(!a.fsm.take.active);
	CHECK_EQ_INT(a.raft.install_snapshot_timeout,
	             fsm_install_timeout_ms(snap.len));
	CHECK_EQ_STR(rig_get(&a, "k2"), "after 202");

	CHECK_EQ_INT(b.fsm.raft_fsm.restore(&b.fsm.raft_fsm, &snap), 0);
	CHECK_EQ_INT(store_applied_index(b.store), 201);
	CHECK_EQ_INT(store_change_seq(b.store), 201);
	for (i = 1; i <= 201; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		CHECK_EQ_STR(rig_get(&b, key), "before");
	}
	CHECK(rig_get(&b, "k202") == NULL);
	/* Taking snapshots goes on working. */
	snap = rig_snapshot(&a);
	CHECK_EQ_INT(b.fsm.raft_fsm.restore(&b.fsm.raft_fsm, &snap), 0);
	CHECK_EQ_INT(store_applied_index(b.store), 400);
	CHECK_EQ_STR(rig_get(&b, "k200"), "after 400");
	rig_close(&a);
	rig_close(&b);
}

/*
 * A snapshot c-raft could not go on with (async_work failed): finalize
 * alone ends the read transaction and the next one works.
 */
static void
test_snapshot_finalize_without_async(void)
{
	struct rig a;
	struct raft_buffer *bufs = NULL, snap;
	unsigned n = 0;

	rig_open(&a, "noasync");
	CHECK_EQ_INT(rig_kv_set(&a, 1, "k", "v"), 0);
	CHECK_EQ_INT(a.fsm.raft_fsm.snapshot(&a.fsm.raft_fsm, &bufs, &n), 0);
	CHECK(a.fsm.take.reader.db != NULL);
	CHECK_EQ_INT(
	    a.fsm.raft_fsm.snapshot_finalize(&a.fsm.raft_fsm, &bufs, &n), 0);
	CHECK(a.fsm.take.reader.db == NULL);
	CHECK_EQ_INT(a.raft.install_snapshot_timeout, 0);
	snap = rig_snapshot(&a);
	CHECK(snap.len > 0);
	raft_free(snap.base);
	rig_close(&a);
}

/*
 * Images written by raftd before snapshots moved off the loop: the
 * writer's connection serialized state.db. The format is the same, and
 * such images (in c-raft's snapshot files of running clusters) restore.
 */
static void
test_restore_old_image(void)
{
	struct rig a, b;
	struct raft_buffer snap;
	sqlite3 *db;
	sqlite3_int64 n = 0;
	unsigned char *img;
	char path[256];

	rig_open(&a, "old-a");
	rig_open(&b, "old-b");
	CHECK_EQ_INT(rig_kv_set(&a, 1, "old", "image"), 0);
	CHECK_EQ_INT(rig_rr_add(&a, 2, "example.com.", "SOA", SOA), 0);
	snprintf(path, sizeof(path), "%s/old-a.db", tmpdir);
	CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
	img = sqlite3_serialize(db, "main", &n, 0);
	CHECK(img != NULL && n > 100);
	/* It says WAL, as the old images do. */
	CHECK_EQ_INT(img[18], 2);
	snap.len = (size_t)n;
	snap.base = raft_malloc(snap.len);
	memcpy(snap.base, img, snap.len);
	sqlite3_free(img);
	sqlite3_close(db);
	CHECK_EQ_INT(b.fsm.raft_fsm.restore(&b.fsm.raft_fsm, &snap), 0);
	CHECK_EQ_INT(b.seen.resets, 1);
	CHECK_EQ_INT(store_applied_index(b.store), 2);
	CHECK_EQ_STR(rig_get(&b, "old"), "image");
	/* And an image of today is a state.db any raftd reads. */
	snap = rig_snapshot(&b);
	CHECK(memcmp(snap.base, "SQLite format 3", 16) == 0);
	raft_free(snap.base);
	rig_close(&a);
	rig_close(&b);
}

/*
 * A stand-in for raft_uv: snapshot_put and async_work record their
 * requests; the test completes them, async work first or last.
 */
struct fake_io {
	struct raft_io io;
	raft_io_snapshot_put_cb put_cb;
	struct raft_io_snapshot_put *put_req;
	unsigned puts;
	struct raft_io_async_work *work;
	raft_io_async_work_cb work_cb;
};

static int
fake_put(struct raft_io *io, unsigned trailing,
         struct raft_io_snapshot_put *req, const struct raft_snapshot *snap,
         raft_io_snapshot_put_cb cb)
{
	struct fake_io *f = (struct fake_io *)io;

	(void)trailing;
	(void)snap;
	f->put_cb = cb;
	f->put_req = req;
	f->puts++;
	return 0;
}

static int
fake_async_work(struct raft_io *io, struct raft_io_async_work *req,
                raft_io_async_work_cb cb)
{
	struct fake_io *f = (struct fake_io *)io;

	f->work = req;
	f->work_cb = cb;
	return 0;
}

static void
fake_work_run(struct fake_io *f)
{
	struct raft_io_async_work *w = f->work;

	f->work = NULL;
	f->work_cb(w, w->work(w));
}

/* c-raft's installSnapshotCb: restores on success, else frees. */
static struct raft_snapshot craft_snap;
static int craft_restore_rv;
static unsigned craft_cbs;

static void
craft_install_cb(struct raft_io_snapshot_put *req, int status)
{
	struct raft *r =
	    (struct raft *)((char *)req - offsetof(struct raft, snapshot.put));

	craft_cbs++;
	craft_restore_rv = -1;
	if (status == 0)
		craft_restore_rv = r->fsm->restore(r->fsm, &craft_snap.bufs[0]);
	if (status != 0 || craft_restore_rv != 0)
		raft_free(craft_snap.bufs[0].base);
	raft_free(craft_snap.bufs);
}

static void
rig_fake_io(struct rig *r, struct fake_io *f)
{
	memset(f, 0, sizeof(*f));
	f->io.version = 1;
	f->io.snapshot_put = fake_put;
	f->io.async_work = fake_async_work;
	r->raft.fsm = &r->fsm.raft_fsm;
	f->io.data = &r->raft;
	fsm_use_io(&r->fsm, &f->io);
}

static void
craft_snap_set(struct raft_buffer image)
{
	memset(&craft_snap, 0, sizeof(craft_snap));
	craft_snap.bufs = raft_malloc(sizeof(*craft_snap.bufs));
	craft_snap.bufs[0] = image;
	craft_snap.n_bufs = 1;
}

static bool
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/*
 * An InstallSnapshot: the image is staged (written, checked) by async
 * work next to c-raft's own put, c-raft's callback waits for both, and
 * restore swaps the staged file in. A bad image is refused, a failed put
 * drops the staged file, and our own snapshots pass straight through.
 */
static void
test_install_staged(void)
{
	struct rig a, b;
	struct fake_io f;
	struct raft_buffer img;
	char snap_path[256];
	int order;

	rig_open(&a, "stage-a");
	rig_open(&b, "stage-b");
	rig_fake_io(&b, &f);
	CHECK_EQ_INT(f.io.version, 2);
	CHECK(b.fsm.raft_fsm.snapshot_async != NULL);
	snprintf(snap_path, sizeof(snap_path), "%s/stage-b.db.snap", tmpdir);
	CHECK_EQ_INT(rig_kv_set(&b, 1, "mine", "old"), 0);
	for (order = 0; order < 2; order++) {
		char key[16];

		snprintf(key, sizeof(key), "k%d", order);
		CHECK_EQ_INT(rig_kv_set(&a, (uint64_t)(10 + order), key, key),
		             0);
		img = rig_snapshot(&a);
		craft_snap_set(img);
		craft_cbs = 0;
		CHECK_EQ_INT(f.io.snapshot_put(&f.io, 0, &b.raft.snapshot.put,
		                               &craft_snap, craft_install_cb),
		             0);
		CHECK_EQ_INT(f.puts, 1 + (unsigned)order);
		CHECK(f.work != NULL);
		if (order == 0) {
			fake_work_run(&f);
			CHECK(exists(snap_path));
			CHECK_EQ_INT(craft_cbs, 0);
			f.put_cb(f.put_req, 0);
		} else {
			f.put_cb(f.put_req, 0);
			CHECK_EQ_INT(craft_cbs, 0);
			fake_work_run(&f);
		}
		CHECK_EQ_INT(craft_cbs, 1);
		CHECK_EQ_INT(craft_restore_rv, 0);
		CHECK(!exists(snap_path));
		{
			char side[300];

			snprintf(side, sizeof(side), "%s-wal", snap_path);
			CHECK(!exists(side));
			snprintf(side, sizeof(side), "%s-shm", snap_path);
			CHECK(!exists(side));
		}
		CHECK_EQ_INT(b.seen.resets, 1 + (unsigned)order);
		CHECK_EQ_INT(store_applied_index(b.store), 10 + order);
		CHECK_EQ_STR(rig_get(&b, key), key);
		CHECK(rig_get(&b, "mine") == NULL);
		CHECK(!b.fsm.install.active);
	}

	/* The put failed: c-raft discards, the staged file goes. */
	CHECK_EQ_INT(rig_kv_set(&a, 20, "k20", "x"), 0);
	craft_snap_set(rig_snapshot(&a));
	CHECK_EQ_INT(f.io.snapshot_put(&f.io, 0, &b.raft.snapshot.put,
	                               &craft_snap, craft_install_cb),
	             0);
	fake_work_run(&f);
	f.put_cb(f.put_req, RAFT_IOERR);
	CHECK(!exists(snap_path));
	CHECK(rig_get(&b, "k20") == NULL);
	CHECK_EQ_INT(b.seen.resets, 2);

	/* Garbage is refused by the staging, state.db untouched. */
	img.len = 8192;
	img.base = raft_malloc(img.len);
	memset(img.base, 0x11, img.len);
	memcpy(img.base, "SQLite format 3", 16);
	craft_snap_set(img);
	CHECK_EQ_INT(f.io.snapshot_put(&f.io, 0, &b.raft.snapshot.put,
	                               &craft_snap, craft_install_cb),
	             0);
	fake_work_run(&f);
	f.put_cb(f.put_req, 0);
	CHECK_EQ_INT(craft_restore_rv, RAFT_MALFORMED);
	CHECK(!exists(snap_path));
	CHECK_EQ_INT(b.seen.resets, 2);
	CHECK_EQ_STR(rig_get(&b, "k1"), "k1");

	/* A snapshot of its own (trailing > 0) is not staged. */
	craft_snap_set(rig_snapshot(&a));
	CHECK_EQ_INT(f.io.snapshot_put(&f.io, 16, &b.raft.snapshot.put,
	                               &craft_snap, craft_install_cb),
	             0);
	CHECK(f.work == NULL);
	CHECK(f.put_cb == craft_install_cb);
	raft_free(craft_snap.bufs[0].base);
	raft_free(craft_snap.bufs);
	rig_close(&a);
	rig_close(&b);
}

int
main(void)
{
	char cmd[128];

	dr_log_init("test_fsm", false);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/drfsmXXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	RUN(test_apply_uses_raft_index);
	RUN(test_flush_commits_then_tells);
	RUN(test_replay_not_applied_twice);
	RUN(test_malformed_entry);
	RUN(test_record_effects);
	RUN(test_record_reload);
	RUN(test_snapshot_restore);
	RUN(test_restore_garbage_refused);
	RUN(test_install_timeout);
	RUN(test_snapshot_async_is_point_in_time);
	RUN(test_snapshot_finalize_without_async);
	RUN(test_restore_old_image);
	RUN(test_install_staged);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return UNIT_DONE();
}
