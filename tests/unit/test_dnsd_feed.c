/* Unit tests for dnsd's feed: baseline from a state.db made here, change
 * ordering, gap/heartbeat/reset/reload resyncs, effects on the zonedb. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "cmd.h"
#include "dnsd_testzone.h"
#include "err.h"
#include "feed.h"
#include "log.h"
#include "stats.h"
#include "unit.h"

static char dir[] = "/tmp/test_dnsd_feed.XXXXXX";
static char dbpath[256];
static uv_loop_t loop;
static struct stats st;
static struct feed f;

/* ---------------------------------------------------------- state.db */

static void
db_exec(const char *sql)
{
	sqlite3 *db;
	char *err = NULL;

	if (sqlite3_open(dbpath, &db) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "sqlite: %s\n", err ? err : sqlite3_errmsg(db));
		abort();
	}
	sqlite3_close(db);
}

/* The schema of raftd/store.c (records, meta) in WAL mode. */
static void
db_create(void)
{
	db_exec("PRAGMA journal_mode=WAL;"
	        "CREATE TABLE records(zone TEXT NOT NULL, owner TEXT NOT "
	        "NULL, type TEXT NOT NULL, ttl INTEGER NOT NULL, rdata TEXT "
	        "NOT NULL, UNIQUE(zone, owner, type, rdata));"
	        "CREATE TABLE zones(name TEXT PRIMARY KEY, serial INTEGER "
	        "NOT NULL);"
	        "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT "
	        "NULL) WITHOUT ROWID;"
	        "INSERT INTO meta VALUES ('applied_index', 0), "
	        "('change_seq', 0);");
}

static void
db_meta(uint64_t seq, uint64_t index)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
	         "UPDATE meta SET value = %llu WHERE key = 'change_seq';"
	         "UPDATE meta SET value = %llu WHERE key = 'applied_index';",
	         (unsigned long long)seq, (unsigned long long)index);
	db_exec(sql);
}

static void
db_add(const char *owner, const char *type, const char *rdata)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
	         "INSERT INTO records VALUES ('example.com.', '%s', '%s', "
	         "60, '%s')",
	         owner, type, rdata);
	db_exec(sql);
}

/* ---------------------------------------------------------- messages */

struct effect {
	unsigned type; /* DR_CMD_RR_ADD / DR_CMD_RR_DEL */
	const char *owner, *rtype, *ttl, *rdata;
};

static void
put_effect(struct dr_buf *b, const struct effect *e)
{
	struct dr_cmd c;
	unsigned n = 0;

	memset(&c, 0, sizeof(c));
	c.type = e->type;
#define ARG(s) (c.args[n++] = (struct dr_str){ (s), strlen(s) })
	ARG("example.com.");
	ARG(e->owner);
	ARG(e->rtype);
	if (e->type == DR_CMD_RR_ADD)
		ARG(e->ttl);
	ARG(e->rdata);
#undef ARG
	c.nargs = n;
	if (dr_cmd_encode(&c, b) != 0)
		abort();
}

/* Builds and feeds one message; payload may be NULL. */
static void
send_msg(uint8_t type, uint16_t flags, uint64_t seq, uint64_t index,
         const void *payload, size_t len)
{
	struct dr_msg_hdr h;
	struct dr_buf b;

	memset(&h, 0, sizeof(h));
	h.type = type;
	h.flags = flags;
	h.seq = seq;
	h.index = index;
	dr_buf_init(&b);
	dr_wire_begin(&b, &h);
	if (len > 0)
		dr_buf_put(&b, payload, len);
	dr_wire_end(&b);
	feed_message(&f, b.data, b.len);
	dr_buf_close(&b);
}

static void
send_change(uint64_t seq, const struct effect *e, size_t n)
{
	struct dr_buf p;

	dr_buf_init(&p);
	for (size_t i = 0; i < n; i++)
		put_effect(&p, &e[i]);
	send_msg(DR_MSG_CHANGE, 0, seq, seq + 100, p.data, p.len);
	dr_buf_close(&p);
	feed_flush(&f);
}

/* ----------------------------------------------------------- helpers */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Runs the loop until the feed follows the stream again (5 s at most). */
static bool
wait_live(void)
{
	double end = now_ms() + 5000;

	while (now_ms() < end) {
		uv_run(&loop, UV_RUN_NOWAIT);
		if (f.state == FEED_LIVE && f.load == NULL)
			return true;
		usleep(1000);
	}
	return false;
}

static bool
wait_failures(unsigned n)
{
	double end = now_ms() + 5000;

	while (now_ms() < end) {
		uv_run(&loop, UV_RUN_NOWAIT);
		if (f.failures >= n)
			return true;
		usleep(1000);
	}
	return false;
}

/* rcode of name/A, and whether the answer holds "name 60 IN A addr". */
static int
ask_a(const char *name, const char *addr, bool *found)
{
	char rr[256];
	ldns_pkt *p = tz_ask(f.view.db, name, LDNS_RR_TYPE_A);
	int rcode;

	if (p == NULL)
		return -1;
	rcode = ldns_pkt_get_rcode(p);
	snprintf(rr, sizeof(rr), "%s 60 IN A %s", name, addr);
	*found = tz_has(AN(p), rr);
	ldns_pkt_free(p);
	return rcode;
}

static bool
has_a(const char *name, const char *addr)
{
	bool found = false;

	return ask_a(name, addr, &found) == LDNS_RCODE_NOERROR && found;
}

/* ------------------------------------------------------------- tests */

/* No state.db yet: REFUSED and retries; changes meanwhile are kept. */
static void
test_missing_then_baseline(void)
{
	const struct effect add = { DR_CMD_RR_ADD, "new.example.com.", "A",
		                    "60", "1.2.3.9" };
	bool found;

	CHECK_EQ_INT(feed_start(&f, NULL), 0);
	CHECK(wait_failures(1));
	CHECK(f.view.db == NULL);
	CHECK_EQ_INT(ask_a("www.example.com.", "1.2.3.7", &found),
	             LDNS_RCODE_REFUSED);
	send_change(6, &add, 1); /* held until a baseline exists */

	db_create();
	db_add("example.com.", "SOA",
	       "ns1.example.com. hostmaster.example.com. 1 7200 3600 "
	       "1209600 300");
	db_add("example.com.", "NS", "ns1.example.com.");
	db_add("ns1.example.com.", "A", "1.2.3.1");
	db_add("www.example.com.", "A", "1.2.3.7");
	db_meta(5, 50);
	CHECK(wait_live());
	feed_flush(&f);
	CHECK_EQ_INT(f.seq, 6);
	CHECK_EQ_INT(f.index, 106);
	CHECK(has_a("www.example.com.", "1.2.3.7"));
	CHECK(has_a("new.example.com.", "1.2.3.9"));
	CHECK_EQ_INT(st.records, 5);
	CHECK_EQ_INT(st.zones, 1);
	CHECK_EQ_INT(st.resyncs, 0);
}

/* In order: applied; late: ignored; odd removals: harmless. */
static void
test_order(void)
{
	const struct effect del_www = { DR_CMD_RR_DEL, "www.example.com.", "A",
		                        NULL, "1.2.3.7" };
	const struct effect two[] = {
		{ DR_CMD_RR_ADD, "api.example.com.", "A", "60", "10.0.0.1" },
		{ DR_CMD_RR_ADD, "api.example.com.", "A", "60", "10.0.0.2" },
	};
	const struct effect bad_rdata = { DR_CMD_RR_ADD, "x.example.com.", "A",
		                          "60", "not-an-address" };
	bool found;

	send_change(6, &del_www, 1); /* already have 6 */
	CHECK(has_a("www.example.com.", "1.2.3.7"));
	send_change(7, &del_www, 1);
	CHECK_EQ_INT(ask_a("www.example.com.", "1.2.3.7", &found),
	             LDNS_RCODE_NXDOMAIN);
	send_change(8, &del_www, 1); /* no such record: ignored */
	send_change(9, two, 2);
	CHECK(has_a("api.example.com.", "10.0.0.1"));
	CHECK(has_a("api.example.com.", "10.0.0.2"));
	send_change(10, NULL, 0);       /* a KV write: no effects */
	send_change(11, &bad_rdata, 1); /* refused by zonedb, logged */
	CHECK_EQ_INT(f.seq, 11);
	CHECK_EQ_INT(st.change_seq, 11);
	CHECK_EQ_INT(st.resyncs, 0);
	CHECK(f.state == FEED_LIVE);

	/* A heartbeat in step moves the index only. */
	send_msg(DR_MSG_HEARTBEAT, 0, 11, 500, NULL, 0);
	CHECK_EQ_INT(st.resyncs, 0);
	CHECK_EQ_INT(f.index, 500);
	CHECK_EQ_INT(st.applied_index, 500);
}

/* A gap reloads state.db; the change that showed it is replayed. */
static bool
first_load_done(void)
{
	return f.load == NULL && f.state != FEED_LOADING;
}

static bool
wait_until(bool (*cond)(void))
{
	double end = now_ms() + 5000;

	while (now_ms() < end) {
		uv_run(&loop, UV_RUN_NOWAIT);
		if (cond())
			return true;
		usleep(1000);
	}
	return false;
}

static void
test_gap(void)
{
	const struct effect add = { DR_CMD_RR_ADD, "gap2.example.com.", "A",
		                    "60", "10.0.0.12" };

	db_add("gap1.example.com.", "A", "10.0.0.11");
	db_meta(20, 600);
	send_change(22, &add, 1); /* 12..21 were missed */
	CHECK_EQ_INT(st.resyncs, 1);
	CHECK(f.state == FEED_LOADING);
	/* The old copy keeps answering meanwhile. */
	CHECK(has_a("api.example.com.", "10.0.0.1"));
	CHECK(wait_until(first_load_done));
	/*
	 * The baseline is at 20 and the held 22 still shows a gap (state.db
	 * lags the stream): another load, after a pause.
	 */
	CHECK_EQ_INT(f.seq, 20);
	CHECK_EQ_INT(st.resyncs, 2);
	CHECK(f.state == FEED_IDLE);
	CHECK(has_a("gap1.example.com.", "10.0.0.11"));
	CHECK(!has_a("api.example.com.", "10.0.0.1"));

	db_meta(21, 601);
	CHECK(wait_live());
	feed_flush(&f);
	CHECK_EQ_INT(f.seq, 22);
	CHECK(has_a("gap2.example.com.", "10.0.0.12"));
	/* The baseline replaced the stream's deletions: www is back. */
	CHECK(has_a("www.example.com.", "1.2.3.7"));
}

/* Behind per heartbeat, reset, reload flag, garbage: each resyncs. */
static void
test_resync_reasons(void)
{
	uint64_t r0 = st.resyncs;
	static const uint8_t junk[] = "not a message at all, but long enough";
	static const uint8_t bad_effect[16] = { 1, 5, 0, 5, 0, 0, 0, 200 };

	db_meta(25, 700);
	send_msg(DR_MSG_HEARTBEAT, 0, 25, 700, NULL, 0);
	CHECK_EQ_INT(st.resyncs, r0 + 1);
	CHECK(wait_live());
	CHECK_EQ_INT(f.seq, 25);

	send_msg(DR_MSG_RESET, 0, 25, 700, NULL, 0);
	CHECK_EQ_INT(st.resyncs, r0 + 2);
	CHECK(wait_live());

	db_meta(26, 701);
	send_msg(DR_MSG_CHANGE, DR_WF_RELOAD, 26, 701, NULL, 0);
	CHECK_EQ_INT(st.resyncs, r0 + 3);
	CHECK(wait_live());
	CHECK_EQ_INT(f.seq, 26);

	feed_message(&f, junk, sizeof(junk));
	CHECK_EQ_INT(st.resyncs, r0 + 4);
	CHECK(wait_live());

	send_msg(DR_MSG_CHANGE, 0, 27, 702, bad_effect, sizeof(bad_effect));
	CHECK_EQ_INT(st.resyncs, r0 + 5);
	CHECK(wait_live());
	CHECK_EQ_INT(f.seq, 26); /* nothing of 27 was applied */
	CHECK(has_a("gap1.example.com.", "10.0.0.11"));

	/* A message type dnsd does not follow. */
	send_msg(DR_MSG_STATUS, 0, 26, 702, NULL, 0);
	CHECK_EQ_INT(st.resyncs, r0 + 6);
	CHECK(wait_live());
}

/* A RESET while a load runs: that load may have read the old file. */
static void
test_reset_while_loading(void)
{
	db_meta(30, 800);
	send_msg(DR_MSG_CHANGE, DR_WF_RELOAD, 30, 800, NULL, 0);
	CHECK(f.state == FEED_LOADING);
	send_msg(DR_MSG_RESET, 0, 30, 800, NULL, 0);
	CHECK(f.again);
	CHECK(wait_live());
	CHECK(!f.again);
	CHECK_EQ_INT(f.seq, 30);
}

static void
test_stats_lines(void)
{
	struct dr_buf b;
	char *text;

	dr_buf_init(&b);
	stats_format(&st, &b);
	dr_buf_put_u8(&b, 0);
	text = (char *)b.data;
	CHECK(strstr(text, "queries 0\n") != NULL);
	CHECK(strstr(text, "change_seq 30\n") != NULL);
	CHECK(strstr(text, "applied_index 800\n") != NULL);
	CHECK(strstr(text, "zones 1\n") != NULL);
	CHECK(strstr(text, "\nrss ") != NULL);
	dr_buf_close(&b);
}

/* The counters over the dnsd rep socket, as ctld asks for them. */
struct reply {
	bool done;
	int rv;
	struct dr_msg_hdr h;
	char text[2048];
};

static void
reply_cb(int rv, const void *data, size_t len, void *arg)
{
	struct reply *r = arg;
	struct dr_cursor cur;

	r->done = true;
	r->rv = rv;
	if (rv == 0 && dr_wire_decode(data, len, &r->h, &cur) == 0) {
		size_t n = cur.left < sizeof(r->text) - 1 ? cur.left
		                                          : sizeof(r->text) - 1;
		memcpy(r->text, cur.p, n);
		r->text[n] = '\0';
	} else if (rv == 0)
		r->rv = DR_EMALFORMED;
}

static void
ask_stats(struct dr_bus_client *c, uint8_t type, struct reply *r)
{
	struct dr_msg_hdr h;
	struct dr_buf b;
	double end = now_ms() + 5000;

	memset(r, 0, sizeof(*r));
	memset(&h, 0, sizeof(h));
	h.type = type;
	dr_buf_init(&b);
	dr_wire_begin(&b, &h);
	dr_wire_end(&b);
	if (dr_bus_request(c, b.data, b.len, 3000, reply_cb, r) != 0)
		abort();
	dr_buf_close(&b);
	while (!r->done && now_ms() < end) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
}

static void
test_stats_socket(void)
{
	char url[300];
	struct dr_bus_client *c;
	struct reply r;

	snprintf(url, sizeof(url), "ipc://%s/dnsd.ipc", dir);
	CHECK_EQ_INT(stats_serve_start(&st, &loop, url), 0);
	CHECK_EQ_INT(dr_bus_client_start(&c, &loop, url), 0);
	ask_stats(c, DR_MSG_STATUS, &r);
	CHECK(r.done);
	CHECK_EQ_INT(r.rv, 0);
	CHECK_EQ_INT(r.h.type, DR_MSG_REPLY);
	CHECK_EQ_INT(r.h.status, DR_ST_OK);
	CHECK(strstr(r.text, "change_seq 30\n") != NULL);
	CHECK(strstr(r.text, "resyncs ") != NULL);
	ask_stats(c, DR_MSG_MEMBERS, &r);
	CHECK_EQ_INT(r.rv, 0);
	CHECK_EQ_INT(r.h.status, DR_ST_ERROR);
	dr_bus_client_stop(c);
	stats_serve_stop(&st);
}

/* Many effects: applied in chunks; too many: rebuilt from state.db. */
static void
test_big_changes(void)
{
	enum { N = 1500, HUGE = 20001 };
	static char names[HUGE][48];
	static struct effect e[HUGE];
	uint64_t r0 = st.resyncs;

	for (int i = 0; i < HUGE; i++) {
		snprintf(names[i], sizeof(names[i]), "h%d.example.com.", i);
		e[i] = (struct effect){ DR_CMD_RR_ADD, names[i], "A", "60",
			                "10.1.1.1" };
	}
	send_change(31, e, N);
	CHECK_EQ_INT(f.seq, 31);
	CHECK(has_a("h0.example.com.", "10.1.1.1"));
	CHECK(has_a("h1499.example.com.", "10.1.1.1"));
	CHECK_EQ_INT(st.resyncs, r0);

	/* state.db already holds it: the held change is then ignored. */
	db_meta(32, 900);
	send_change(32, e, HUGE);
	CHECK_EQ_INT(st.resyncs, r0 + 1);
	CHECK(wait_live());
	CHECK_EQ_INT(f.seq, 32);
	/* The rebuilt copy is state.db's, which lacks the h* names. */
	CHECK(!has_a("h0.example.com.", "10.1.1.1"));
}

/* Mutated stream messages: rejected or applied, never a crash. */
static void
test_mutated_messages(void)
{
	const struct effect e[] = {
		{ DR_CMD_RR_ADD, "m.example.com.", "A", "60", "10.2.2.2" },
		{ DR_CMD_RR_DEL, "m.example.com.", "A", NULL, "10.2.2.2" },
	};
	struct dr_msg_hdr h;
	struct dr_buf b, p;
	uint32_t seed = 12345;

	dr_buf_init(&p);
	put_effect(&p, &e[0]);
	put_effect(&p, &e[1]);
	dr_buf_init(&b);
	for (int i = 0; i < 20000; i++) {
		memset(&h, 0, sizeof(h));
		h.type = DR_MSG_CHANGE;
		h.seq = f.seq + 1;
		dr_wire_begin(&b, &h);
		dr_buf_put(&b, p.data, p.len);
		dr_wire_end(&b);
		/* Flip a few bytes, sometimes cut the tail. */
		for (int k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			b.data[(seed >> 8) % b.len] ^=
			    (uint8_t)(seed >> 24 | 1);
		}
		seed = seed * 1103515245u + 12345u;
		feed_message(&f, b.data,
		             i % 7 == 0 ? (seed >> 8) % b.len : b.len);
		feed_flush(&f);
		if (i % 1000 == 999)
			uv_run(&loop, UV_RUN_NOWAIT);
	}
	dr_buf_close(&b);
	dr_buf_close(&p);
	/* Whatever happened, the feed ends up serving state.db again. */
	f.hb_next_ms = 0;
	db_meta(f.seq + 1000, 9999);
	send_msg(DR_MSG_HEARTBEAT, 0, f.seq + 1000, 9999, NULL, 0);
	CHECK(wait_live());
	CHECK(f.view.db != NULL);
	CHECK(has_a("gap1.example.com.", "10.0.0.11"));
}

/* Heartbeat reloads are spaced out: a lasting disagreement is cheap. */
static void
test_heartbeat_spacing(void)
{
	uint64_t r0 = st.resyncs, s0 = f.seq;

	f.hb_next_ms = 0;
	db_meta(s0 + 1, 10000);
	send_msg(DR_MSG_HEARTBEAT, 0, s0 + 1, 10000, NULL, 0);
	CHECK_EQ_INT(st.resyncs, r0 + 1);
	CHECK(wait_live());
	CHECK_EQ_INT(f.seq, s0 + 1);
	/* Right after: deferred, the copy keeps serving as it is. */
	db_meta(s0 + 2, 10001);
	send_msg(DR_MSG_HEARTBEAT, 0, s0 + 2, 10001, NULL, 0);
	CHECK_EQ_INT(st.resyncs, r0 + 1);
	CHECK(f.state == FEED_LIVE);
	/* Once the spacing has passed, it reloads. */
	f.hb_next_ms = 0;
	send_msg(DR_MSG_HEARTBEAT, 0, s0 + 2, 10001, NULL, 0);
	CHECK_EQ_INT(st.resyncs, r0 + 2);
	CHECK(wait_live());
	CHECK_EQ_INT(f.seq, s0 + 2);
}

/* A heartbeat from a new raftd run reloads, even when nothing was missed. */
static void
test_raftd_restart(void)
{
	static const uint8_t run1[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t run2[8] = { 0, 0, 0, 0, 0, 0, 0, 2 };
	uint64_t r0 = st.resyncs, s0 = f.seq;

	send_msg(DR_MSG_HEARTBEAT, 0, s0, 10001, run1, sizeof(run1));
	send_msg(DR_MSG_HEARTBEAT, 0, s0, 10001, run1, sizeof(run1));
	CHECK_EQ_INT(st.resyncs, r0);
	send_msg(DR_MSG_HEARTBEAT, 0, s0, 10001, run2, sizeof(run2));
	CHECK_EQ_INT(st.resyncs, r0 + 1);
	CHECK(wait_live());
	CHECK_EQ_INT(f.seq, s0);
	/* The same run again, or a heartbeat without a run id: nothing. */
	send_msg(DR_MSG_HEARTBEAT, 0, s0, 10001, run2, sizeof(run2));
	send_msg(DR_MSG_HEARTBEAT, 0, s0, 10001, NULL, 0);
	CHECK_EQ_INT(st.resyncs, r0 + 1);
}

/* Appends a whole CHANGE message to b: seq, one effect (or none). */
static void
put_change(struct dr_buf *b, uint8_t type, uint64_t seq, const struct effect *e)
{
	struct dr_msg_hdr h;
	struct dr_buf m, p;

	memset(&h, 0, sizeof(h));
	h.type = type;
	h.seq = seq;
	h.index = seq + 10000;
	dr_buf_init(&m);
	dr_buf_init(&p);
	if (e != NULL)
		put_effect(&p, e);
	dr_wire_begin(&m, &h);
	if (p.len > 0)
		dr_buf_put(&m, p.data, p.len);
	dr_wire_end(&m);
	dr_buf_put(b, m.data, m.len);
	dr_buf_close(&m);
	dr_buf_close(&p);
}

/*
 * One loop turn's changes come as one CHANGES message: taken in order,
 * the batch whole or not at all (a bad part, a nested batch or another
 * type inside resyncs, and nothing of the batch is served).
 */
static void
test_batches(void)
{
	static const struct effect e[4] = {
		{ DR_CMD_RR_ADD, "b1.example.com.", "A", "60", "10.9.0.1" },
		{ DR_CMD_RR_ADD, "b2.example.com.", "A", "60", "10.9.0.2" },
		{ DR_CMD_RR_DEL, "b1.example.com.", "A", "60", "10.9.0.1" },
		{ DR_CMD_RR_ADD, "b4.example.com.", "A", "60", "10.9.0.4" },
	};
	uint64_t s0, r0;
	struct dr_buf b;
	int bad;

	CHECK(wait_live());
	s0 = f.seq;
	dr_buf_init(&b);
	put_change(&b, DR_MSG_CHANGE, s0 + 1, &e[0]);
	put_change(&b, DR_MSG_CHANGE, s0 + 2, NULL); /* a kv write */
	put_change(&b, DR_MSG_CHANGE, s0 + 3, &e[1]);
	put_change(&b, DR_MSG_CHANGE, s0 + 4, &e[2]);
	send_msg(DR_MSG_CHANGES, 0, s0 + 4, s0 + 10004, b.data, b.len);
	feed_flush(&f);
	CHECK_EQ_INT(f.seq, s0 + 4);
	CHECK_EQ_INT(f.index, s0 + 10004);
	CHECK(!has_a("b1.example.com.", "10.9.0.1"));
	CHECK(has_a("b2.example.com.", "10.9.0.2"));

	/* Bad batches: a good first part, then something else. */
	for (bad = 0; bad < 4; bad++) {
		r0 = st.resyncs;
		s0 = f.seq;
		dr_buf_reset(&b);
		put_change(&b, DR_MSG_CHANGE, s0 + 1, &e[3]);
		if (bad == 0)
			put_change(&b, DR_MSG_HEARTBEAT, s0 + 2, NULL);
		else if (bad == 1)
			put_change(&b, DR_MSG_CHANGES, s0 + 2, NULL);
		else if (bad == 2)
			b.len -= 3; /* the part is cut short */
		else
			dr_buf_put(&b, "DRNS", 4); /* a stray tail */
		db_meta(s0, s0 + 10000);
		send_msg(DR_MSG_CHANGES, 0, s0 + 2, s0 + 10002, b.data, b.len);
		CHECK_EQ_INT(st.resyncs, r0 + 1);
		CHECK_EQ_INT(f.seq, s0);
		CHECK(!has_a("b4.example.com.", "10.9.0.4"));
		CHECK(wait_live());
		CHECK_EQ_INT(f.seq, s0);
		CHECK(!has_a("b4.example.com.", "10.9.0.4"));
	}
	dr_buf_close(&b);
}

int
main(void)
{
	dr_log_init("test", false);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(dbpath, sizeof(dbpath), "%s/state.db", dir);
	uv_loop_init(&loop);
	stats_init(&st, 1);
	feed_init(&f, &loop, dbpath, &st);

	RUN(test_missing_then_baseline);
	RUN(test_order);
	RUN(test_gap);
	RUN(test_resync_reasons);
	RUN(test_reset_while_loading);
	RUN(test_stats_lines);
	RUN(test_stats_socket);
	RUN(test_big_changes);
	RUN(test_mutated_messages);
	RUN(test_heartbeat_spacing);
	RUN(test_raftd_restart);
	RUN(test_batches);

	feed_stop(&f);
	uv_run(&loop, UV_RUN_DEFAULT);
	feed_close(&f);
	stats_close(&st);
	CHECK_EQ_INT(uv_loop_close(&loop), 0);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return UNIT_DONE();
}
