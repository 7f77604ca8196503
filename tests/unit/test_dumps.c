/* dumps: zone dumps in chunks, one snapshot each, slots, ends, restores. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "dumps.h"
#include "err.h"
#include "log.h"
#include "store.h"
#include "unit.h"
#include "unit_cmd.h"

#define ZONE "example.com."
#define SOA1 "ns1.example.com. h.example.com. 1 3600 900 604800 300"

static char tmpdir[64];
static uv_loop_t loop;
static uint64_t next_index = 1;

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
	if (store_open(&s, path) != 0)
		exit(1);
	return s;
}

/* Applies one command and commits it (what dumps see). */
static void
apply(struct store *s, unsigned type, unsigned nargs, const char **args)
{
	struct store_result res;
	struct dr_buf b;

	dr_buf_init(&b);
	unit_cmd_encode(type, nargs, args, &b);
	CHECK_EQ_INT(store_apply(s, next_index++, b.data, b.len, &res), 0);
	CHECK_EQ_INT(res.outcome, STORE_APPLIED);
	CHECK_EQ_INT(store_commit(s), 0);
	dr_buf_close(&b);
}

static void
rr(struct store *s, bool add, const char *owner, const char *type,
   const char *rdata)
{
	const char *a[] = { ZONE, owner, type, "300", rdata };
	const char *d[] = { ZONE, owner, type, rdata };

	if (add)
		apply(s, DR_CMD_RR_ADD, 5, a);
	else
		apply(s, DR_CMD_RR_DEL, 4, d);
}

/* A zone of n A records besides its SOA. */
static void
fill(struct store *s, unsigned n)
{
	char owner[64], ip[32];
	unsigned i;

	rr(s, true, ZONE, "SOA", SOA1);
	for (i = 0; i < n; i++) {
		snprintf(owner, sizeof(owner), "h%04u." ZONE, i);
		snprintf(ip, sizeof(ip), "10.0.%u.%u", i / 256, i % 256);
		rr(s, true, owner, "A", ip);
	}
}

/*
 * The whole dump of zone in chunks of max bytes into out (reset first).
 * Returns the number of chunks, 0 on an error.
 */
static unsigned
dump_all(struct dumps *ds, const char *zone, size_t max, struct dr_buf *out)
{
	uint64_t cursor = 0, next;
	unsigned n = 0;

	dr_buf_reset(out);
	do {
		if (dumps_next(ds, zone, cursor, max, &next, out) != 0)
			return 0;
		n++;
		cursor = next;
	} while (cursor != 0);
	return n;
}

/* The zone as one read of the store (store_zone_dump), as a string. */
static char *
whole(struct store *s)
{
	struct dr_buf b;
	char *z;

	dr_buf_init(&b);
	CHECK_EQ_INT(store_zone_dump(s, ZONE, &b), 0);
	z = malloc(b.len + 1);
	memcpy(z, b.data, b.len);
	z[b.len] = '\0';
	dr_buf_close(&b);
	return z;
}

static bool
buf_is(const struct dr_buf *b, const char *z)
{
	return b->len == strlen(z) && memcmp(b->data, z, b->len) == 0;
}

/* Chunks add up to the zone, SOA first, whatever their size. */
static void
test_chunks(void)
{
	struct store *s = open_db("chunks");
	struct dumps ds;
	struct dr_buf out;
	char path[256], *z;
	unsigned n;

	fill(s, 300);
	db_path("chunks", path, sizeof(path));
	dumps_init(&ds, &loop, path);
	dr_buf_init(&out);
	z = whole(s);
	CHECK(strncmp(z, ZONE " 300 IN SOA ", strlen(ZONE " 300 IN SOA ")) ==
	      0);
	n = dump_all(&ds, ZONE, 1000, &out);
	CHECK(n > 5);
	CHECK(buf_is(&out, z));
	CHECK_EQ_INT(dump_all(&ds, ZONE, DUMPS_CHUNK_MAX, &out), 1);
	CHECK(buf_is(&out, z));
	/* One line at least per chunk, however small the ask. */
	CHECK_EQ_INT(dump_all(&ds, ZONE, 1, &out), 301);
	CHECK(buf_is(&out, z));
	CHECK_EQ_INT(dumps_count(&ds), 0);
	free(z);
	dr_buf_close(&out);
	dumps_close(&ds);
	store_close(s);
}

/* Writes during a dump do not show in it; the next dump has them. */
static void
test_one_snapshot(void)
{
	struct store *s = open_db("snap");
	struct dumps ds;
	struct dr_buf out;
	char path[256], *before, *after;
	uint64_t next;

	fill(s, 200);
	db_path("snap", path, sizeof(path));
	dumps_init(&ds, &loop, path);
	dr_buf_init(&out);
	before = whole(s);
	CHECK_EQ_INT(dumps_next(&ds, ZONE, 0, 500, &next, &out), 0);
	CHECK(next != 0);
	rr(s, true, "late." ZONE, "A", "192.0.2.1");
	rr(s, false, "h0150." ZONE, "A", "10.0.0.150");
	rr(s, false, "h0001." ZONE, "A", "10.0.0.1");
	while (next != 0)
		CHECK_EQ_INT(dumps_next(&ds, ZONE, next, 500, &next, &out), 0);
	CHECK(buf_is(&out, before));
	after = whole(s);
	CHECK(strcmp(after, before) != 0);
	CHECK(strstr(after, "late." ZONE " 300 IN A 192.0.2.1\n") != NULL);
	CHECK(dump_all(&ds, ZONE, 500, &out) > 0);
	CHECK(buf_is(&out, after));
	free(before);
	free(after);
	dr_buf_close(&out);
	dumps_close(&ds);
	store_close(s);
}

/* DUMPS_MAX at once; ending one frees its slot; bad cursors refused. */
static void
test_slots_and_ends(void)
{
	struct store *s = open_db("slots");
	uint64_t cursors[DUMPS_MAX], next;
	struct dumps ds;
	struct dr_buf out;
	char path[256];
	unsigned i;

	fill(s, 50);
	db_path("slots", path, sizeof(path));
	dumps_init(&ds, &loop, path);
	dr_buf_init(&out);
	for (i = 0; i < DUMPS_MAX; i++) {
		CHECK_EQ_INT(dumps_next(&ds, ZONE, 0, 100, &cursors[i], &out),
		             0);
		CHECK(cursors[i] != 0);
	}
	CHECK_EQ_INT(dumps_count(&ds), DUMPS_MAX);
	CHECK_EQ_INT(dumps_next(&ds, ZONE, 0, 100, &next, &out), DR_EBUSY);
	/* The client of one left: its slot is free at once. */
	CHECK_EQ_INT(dumps_end(&ds, cursors[3]), 0);
	CHECK_EQ_INT(dumps_end(&ds, cursors[3]), DR_EINVAL);
	CHECK_EQ_INT(dumps_count(&ds), DUMPS_MAX - 1);
	CHECK_EQ_INT(dumps_next(&ds, ZONE, cursors[3], 100, &next, &out),
	             DR_EINVAL);
	CHECK_EQ_INT(dumps_next(&ds, ZONE, 0, 100, &cursors[3], &out), 0);
	/* A cursor is its zone's only; unknown zones and cursors fail. */
	CHECK_EQ_INT(
	    dumps_next(&ds, "example.org.", cursors[0], 100, &next, &out),
	    DR_EINVAL);
	CHECK_EQ_INT(dumps_next(&ds, ZONE, 987654321, 100, &next, &out),
	             DR_EINVAL);
	CHECK_EQ_INT(dumps_end(&ds, 0), DR_EINVAL);
	for (i = 0; i < DUMPS_MAX; i++)
		CHECK_EQ_INT(dumps_end(&ds, cursors[i]), 0);
	CHECK_EQ_INT(dumps_count(&ds), 0);
	CHECK_EQ_INT(dumps_next(&ds, "example.org.", 0, 100, &next, &out),
	             DR_ENOTFOUND);
	CHECK_EQ_INT(dumps_count(&ds), 0);
	dr_buf_close(&out);
	dumps_close(&ds);
	store_close(s);
}

/*
 * A snapshot restore replaces state.db under a running dump: the dump
 * goes on reading the old file, and ending it leaves the new database and
 * its WAL alone (writes after the restore survive a reopen).
 */
static void
test_restore_under_a_dump(void)
{
	struct store *s = open_db("restore"), *t = open_db("restore-src");
	struct store_restore_info info;
	const char *kv[] = { "after", "restore" };
	struct dumps ds;
	struct dr_buf out, v;
	char path[256], *before;
	uint64_t next;
	void *img = NULL;
	size_t len = 0;

	fill(s, 100);
	before = whole(s);
	next_index = 1000; /* the image is newer than s */
	fill(t, 10);
	CHECK_EQ_INT(store_serialize(t, malloc, &img, &len), 0);
	db_path("restore", path, sizeof(path));
	dumps_init(&ds, &loop, path);
	dr_buf_init(&out);
	CHECK_EQ_INT(dumps_next(&ds, ZONE, 0, 300, &next, &out), 0);
	CHECK_EQ_INT(store_restore(s, img, len, &info), 0);
	CHECK(info.replaced);
	free(img);
	apply(s, DR_CMD_KV_SET, 2, kv);
	while (next != 0)
		CHECK_EQ_INT(dumps_next(&ds, ZONE, next, 300, &next, &out), 0);
	CHECK(buf_is(&out, before));
	dumps_close(&ds);
	store_close(s);
	s = open_db("restore");
	dr_buf_init(&v);
	CHECK_EQ_INT(store_kv_get(s, "after", 5, &v), 0);
	CHECK(buf_is(&v, "restore"));
	dr_buf_close(&v);
	free(before);
	before = whole(s);
	CHECK(strstr(before, "h0009." ZONE) != NULL);
	CHECK(strstr(before, "h0099." ZONE) == NULL);
	free(before);
	dr_buf_close(&out);
	store_close(s);
	store_close(t);
}

int
main(void)
{
	dr_log_init("test", getenv("VERBOSE") != NULL);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dumpstest.XXXXXX");
	unit_tmpdir(tmpdir);
	uv_loop_init(&loop);
	RUN(test_chunks);
	RUN(test_one_snapshot);
	RUN(test_slots_and_ends);
	RUN(test_restore_under_a_dump);
	uv_loop_close(&loop);
	unit_rmdir(tmpdir);
	return UNIT_DONE();
}
