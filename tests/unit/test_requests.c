/* store: request ids make every command apply at most once (issue 10). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "store.h"
#include "unit.h"

static char tmpdir[] = "/tmp/test_requests.XXXXXX";

static struct store *
open_db(const char *name)
{
	char path[256];
	struct store *s = NULL;

	snprintf(path, sizeof(path), "%s/%s.db", tmpdir, name);
	CHECK_EQ_INT(store_open(&s, path), 0);
	if (s == NULL)
		exit(1);
	return s;
}

/* kv set k v carrying id (origin 7, run, seq, floor). */
static void
encode_set(struct dr_buf *b, const char *k, const char *v, uint64_t run,
           uint64_t seq, uint64_t floor)
{
	struct dr_cmd c;

	memset(&c, 0, sizeof(c));
	c.type = DR_CMD_KV_SET;
	c.nargs = 2;
	c.args[0].p = k;
	c.args[0].len = strlen(k);
	c.args[1].p = v;
	c.args[1].len = strlen(v);
	c.id.origin = 7;
	c.id.run = run;
	c.id.seq = seq;
	c.id.floor = floor;
	dr_buf_reset(b);
	CHECK_EQ_INT(dr_cmd_encode(&c, b), 0);
}

static enum store_outcome
set(struct store *s, uint64_t index, const char *k, const char *v, uint64_t run,
    uint64_t seq, uint64_t floor, struct store_result *res)
{
	struct dr_buf b;

	dr_buf_init(&b);
	encode_set(&b, k, v, run, seq, floor);
	CHECK_EQ_INT(store_apply(s, index, b.data, b.len, res), 0);
	dr_buf_close(&b);
	return res->outcome;
}

static const char *
get(struct store *s, const char *key)
{
	static char out[256];
	struct dr_buf b;
	int rv;

	dr_buf_init(&b);
	rv = store_kv_get(s, key, strlen(key), &b);
	snprintf(out, sizeof(out), "%.*s", (int)b.len, (const char *)b.data);
	dr_buf_close(&b);
	return rv == 0 ? out : NULL;
}

/* The bug: a retried write must not undo a later one. */
static void
test_retry_applies_once(void)
{
	struct store *s = open_db("retry");
	struct store_result res;
	uint64_t seq0;

	CHECK_EQ_INT(set(s, 1, "k", "old", 1, 1, 1, &res), STORE_APPLIED);
	CHECK_EQ_INT(set(s, 2, "k", "new", 1, 2, 1, &res), STORE_APPLIED);
	seq0 = store_change_seq(s);
	/* The first write again (its reply was lost): nothing changes. */
	CHECK_EQ_INT(set(s, 3, "k", "old", 1, 1, 1, &res), STORE_DUPLICATE);
	CHECK(!res.first_rejected);
	CHECK_EQ_INT(res.effects_len, 0);
	CHECK_EQ_STR(get(s, "k"), "new");
	/* It still took its index and change number. */
	CHECK_EQ_INT(store_applied_index(s), 3);
	CHECK_EQ_INT(store_change_seq(s), seq0 + 1);
	CHECK_EQ_INT(store_commit(s), 0);
	/* Remembered across a restart. */
	store_close(s);
	s = open_db("retry");
	CHECK_EQ_INT(set(s, 4, "k", "new", 1, 2, 1, &res), STORE_DUPLICATE);
	/* Another run of the same origin is another request. */
	CHECK_EQ_INT(set(s, 5, "k", "other", 2, 1, 1, &res), STORE_APPLIED);
	CHECK_EQ_STR(get(s, "k"), "other");
	store_close(s);
}

/* A duplicate of a refused command is refused the same way. */
static void
test_duplicate_of_rejected(void)
{
	struct store *s = open_db("rejected");
	struct store_result res;
	char long_key[600];
	struct dr_buf b;

	memset(long_key, 'x', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	dr_buf_init(&b);
	{
		/* A record into an unknown zone is refused by the state
		 * machine. */
		struct dr_cmd c;

		memset(&c, 0, sizeof(c));
		c.type = DR_CMD_RR_ADD;
		c.nargs = 5;
		c.args[0].p = "nozone.test.";
		c.args[0].len = 12;
		c.args[1].p = "www.nozone.test.";
		c.args[1].len = 16;
		c.args[2].p = "A";
		c.args[2].len = 1;
		c.args[3].p = "60";
		c.args[3].len = 2;
		c.args[4].p = "192.0.2.1";
		c.args[4].len = 9;
		c.id.origin = 9;
		c.id.run = 1;
		c.id.seq = 5;
		c.id.floor = 1;
		CHECK_EQ_INT(dr_cmd_encode(&c, &b), 0);
	}
	CHECK_EQ_INT(store_apply(s, 1, b.data, b.len, &res), 0);
	CHECK_EQ_INT(res.outcome, STORE_REJECTED);
	CHECK(strlen(res.reason) > 0);
	{
		char first[256];

		snprintf(first, sizeof(first), "%s", res.reason);
		CHECK_EQ_INT(store_apply(s, 2, b.data, b.len, &res), 0);
		CHECK_EQ_INT(res.outcome, STORE_DUPLICATE);
		CHECK(res.first_rejected);
		CHECK_EQ_STR(res.reason, first);
	}
	dr_buf_close(&b);
	store_close(s);
}

/* Below its floor an id is forgotten: the sender never sends it again. */
static void
test_floor_forgets(void)
{
	struct store *s = open_db("floor");
	struct store_result res;
	uint64_t i;

	for (i = 1; i <= 100; i++)
		CHECK_EQ_INT(set(s, i, "f", "v", 1, i, i, &res), STORE_APPLIED);
	/* seq 100 is remembered, 99 (below floor 100) is not any more. */
	CHECK_EQ_INT(set(s, 101, "f", "x", 1, 100, 100, &res), STORE_DUPLICATE);
	CHECK_EQ_INT(set(s, 102, "f", "y", 1, 99, 99, &res), STORE_APPLIED);
	store_close(s);
}

/* Old ids of an origin go once it has STORE_REQUESTS_MAX newer ones. */
static void
test_cap_per_origin(void)
{
	struct store *s = open_db("cap");
	struct store_result res;
	uint64_t i, n = STORE_REQUESTS_MAX + 2 * STORE_REQUESTS_PRUNE;

	/* Floor never moves (a sender that forgot to say): the cap holds. */
	for (i = 1; i <= n; i++)
		CHECK_EQ_INT(set(s, i, "c", "v", 1, i, 1, &res), STORE_APPLIED);
	CHECK_EQ_INT(store_commit(s), 0);
	CHECK_EQ_INT(set(s, n + 1, "c", "v", 1, n, 1, &res), STORE_DUPLICATE);
	CHECK_EQ_INT(set(s, n + 2, "c", "v", 1, 1, 1, &res), STORE_APPLIED);
	store_close(s);
}

static void
test_malformed_ids(void)
{
	struct dr_cmd c, out;
	struct dr_buf b;

	memset(&c, 0, sizeof(c));
	c.type = DR_CMD_KV_DEL;
	c.nargs = 1;
	c.args[0].p = "k";
	c.args[0].len = 1;
	c.id.origin = 3;
	c.id.run = 4;
	c.id.seq = 5;
	c.id.floor = 2;
	dr_buf_init(&b);
	CHECK_EQ_INT(dr_cmd_encode(&c, &b), 0);
	CHECK_EQ_INT(b.len % 8, 0);
	CHECK_EQ_INT(dr_cmd_decode(b.data, b.len, &out), 0);
	CHECK_EQ_INT(out.id.origin, 3);
	CHECK_EQ_INT(out.id.run, 4);
	CHECK_EQ_INT(out.id.seq, 5);
	CHECK_EQ_INT(out.id.floor, 2);
	/* floor above seq, seq 0, origin 0: refused. */
	b.data[39] = 9;
	CHECK_EQ_INT(dr_cmd_decode(b.data, b.len, &out), DR_EMALFORMED);
	b.data[39] = 2;
	b.data[31] = 0;
	CHECK_EQ_INT(dr_cmd_decode(b.data, b.len, &out), DR_EMALFORMED);
	b.data[31] = 5;
	b.data[15] = 0;
	CHECK_EQ_INT(dr_cmd_decode(b.data, b.len, &out), DR_EMALFORMED);
	dr_buf_close(&b);
}

int
main(void)
{
	unit_tmpdir(tmpdir);
	RUN(test_retry_applies_once);
	RUN(test_duplicate_of_rejected);
	RUN(test_floor_forgets);
	RUN(test_cap_per_origin);
	RUN(test_malformed_ids);
	unit_rmdir(tmpdir);
	return UNIT_DONE();
}
