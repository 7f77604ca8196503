/* Unit tests for dnsd's response rate limiting, on a clock the tests drive:
 * token buckets, slip, prefixes, shared buckets, threads, the query path. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>

#include "dnsd_testzone.h"
#include "packet.h"
#include "rrl.h"
#include "unit.h"

#define T0 5000000 /* any clock origin will do */

static struct sockaddr_storage
v4(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	in->sin_family = AF_INET;
	in->sin_port = htons(5353);
	if (inet_pton(AF_INET, ip, &in->sin_addr) != 1)
		abort();
	return ss;
}

static struct sockaddr_storage
v6(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	in6->sin6_family = AF_INET6;
	if (inet_pton(AF_INET6, ip, &in6->sin6_addr) != 1)
		abort();
	return ss;
}

/* A table with a fixed seed: which prefixes share a bucket is then fixed. */
static struct rrl *
table(unsigned rate, unsigned slip, unsigned nbuckets)
{
	struct rrl *r = rrl_new(rate, slip, nbuckets);

	rrl_set_seed(r, 1, 2);
	return r;
}

static int
check(struct rrl *r, const struct sockaddr_storage *ss, uint64_t now)
{
	return rrl_check(r, (const struct sockaddr *)ss, now);
}

/* Passes among n responses to ss at now. */
static int
passes(struct rrl *r, const struct sockaddr_storage *ss, uint64_t now, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += check(r, ss, now) == RRL_PASS;
	return k;
}

static void
test_bucket(void)
{
	struct rrl *r = table(10, 2, 1024);
	struct sockaddr_storage a = v4("192.0.2.1");

	/* A burst of one second's worth, then limited. */
	CHECK_EQ_INT(passes(r, &a, T0, 10), 10);
	CHECK_EQ_INT(check(r, &a, T0), RRL_DROP);
	CHECK_EQ_INT(check(r, &a, T0), RRL_SLIP);
	CHECK_EQ_INT(check(r, &a, T0), RRL_DROP);
	CHECK_EQ_INT(check(r, &a, T0), RRL_SLIP);
	/* 10/s: one response every 100 ms, not before. */
	CHECK_EQ_INT(check(r, &a, T0 + 99), RRL_DROP);
	CHECK_EQ_INT(check(r, &a, T0 + 100), RRL_PASS);
	CHECK_EQ_INT(check(r, &a, T0 + 100), RRL_SLIP);
	CHECK_EQ_INT(passes(r, &a, T0 + 350, 10), 2);
	/* A quiet second refills the bucket, never beyond the burst. */
	CHECK_EQ_INT(passes(r, &a, T0 + 5000, 20), 10);
	/* A clock that goes back counts as no time. */
	CHECK_EQ_INT(passes(r, &a, T0, 5), 0);
	CHECK_EQ_INT(passes(r, &a, T0 + 5100, 5), 1);
	rrl_free(r);

	/* Over 10 s at a steady 50/s: 10 + 10 per second get through. */
	r = table(10, 0, 1024);
	int k = 0;
	for (uint64_t t = 0; t < 10000; t += 20)
		k += check(r, &a, T0 + t) == RRL_PASS;
	CHECK(k >= 100 && k <= 111);
	rrl_free(r);
}

static void
test_slip(void)
{
	struct sockaddr_storage a = v4("198.51.100.7");
	struct rrl *r;
	int slips = 0;

	/* slip 0: every limited response is dropped. */
	r = table(5, 0, 64);
	CHECK_EQ_INT(passes(r, &a, T0, 5), 5);
	for (int i = 0; i < 100; i++)
		slips += check(r, &a, T0) == RRL_SLIP;
	CHECK_EQ_INT(slips, 0);
	rrl_free(r);
	/* slip 1: every one slips. */
	r = table(5, 1, 64);
	CHECK_EQ_INT(passes(r, &a, T0, 5), 5);
	for (int i = 0; i < 100; i++)
		CHECK_EQ_INT(check(r, &a, T0), RRL_SLIP);
	rrl_free(r);
	/* slip 3: every third. */
	r = table(5, 3, 64);
	CHECK_EQ_INT(passes(r, &a, T0, 5), 5);
	slips = 0;
	for (int i = 0; i < 99; i++)
		slips += check(r, &a, T0) == RRL_SLIP;
	CHECK_EQ_INT(slips, 33);
	rrl_free(r);
}

static void
test_prefixes(void)
{
	struct rrl *r = table(4, 0, 65536);
	struct sockaddr_storage a = v4("203.0.113.1"), b = v4("203.0.113.254");
	struct sockaddr_storage c = v4("203.0.112.1");
	struct sockaddr_storage m = v6("::ffff:203.0.113.77");
	struct sockaddr_storage x = v6("2001:db8:0:100::1");
	struct sockaddr_storage y = v6("2001:db8:0:1ff:ffff::2");
	struct sockaddr_storage z = v6("2001:db8:0:200::1");

	/* One /24: a, b and the IPv4-mapped form share a bucket. */
	CHECK_EQ_INT(passes(r, &a, T0, 2), 2);
	CHECK_EQ_INT(passes(r, &b, T0, 1), 1);
	CHECK_EQ_INT(passes(r, &m, T0, 3), 1);
	CHECK_EQ_INT(passes(r, &b, T0, 1), 0);
	/* The next /24 has its own. */
	CHECK_EQ_INT(passes(r, &c, T0, 10), 4);
	/* One /56 for x and y, another for z. */
	CHECK_EQ_INT(passes(r, &x, T0, 3), 3);
	CHECK_EQ_INT(passes(r, &y, T0, 3), 1);
	CHECK_EQ_INT(passes(r, &z, T0, 10), 4);
	rrl_free(r);
}

static void
test_shared_bucket(void)
{
	/* One bucket for everybody: the table never grows. */
	struct rrl *r = table(3, 0, 1);
	struct sockaddr_storage a = v4("192.0.2.1"), b = v4("198.51.100.1");

	CHECK_EQ_INT(passes(r, &a, T0, 3), 3);
	/* b arrives while a's bucket is in use: it shares a's limit. */
	CHECK_EQ_INT(passes(r, &b, T0, 3), 0);
	/* Once the bucket is full again, b takes it over. */
	CHECK_EQ_INT(passes(r, &b, T0 + 1000, 5), 3);
	CHECK_EQ_INT(passes(r, &a, T0 + 1000, 1), 0);
	/* Many sources, one bucket: still 3 a second in all. */
	int k = 0;
	for (int i = 0; i < 1000; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
		struct sockaddr_storage s = v4(ip);
		k += check(r, &s, T0 + 3000) == RRL_PASS;
	}
	CHECK_EQ_INT(k, 3);
	rrl_free(r);
}

/* Workers share the table: no update may be lost or doubled. */
static struct rrl *shared;
static atomic_int shared_passes, shared_slips;

static void *
thread_main(void *arg)
{
	struct sockaddr_storage a = v4("192.0.2.99");
	int p = 0, s = 0;

	for (int i = 0; i < 100000; i++) {
		int v = check(shared, &a, T0);

		p += v == RRL_PASS;
		s += v == RRL_SLIP;
	}
	atomic_fetch_add(&shared_passes, p);
	atomic_fetch_add(&shared_slips, s);
	return arg;
}

static void
test_threads(void)
{
	pthread_t t[4];

	shared = table(1000, 4, 1024);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, thread_main, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ_INT(atomic_load(&shared_passes), 1000);
	CHECK_EQ_INT(atomic_load(&shared_slips), (400000 - 1000) / 4);
	rrl_free(shared);
}

/* ------------------------------------------------- on the query path */

static uint8_t out[65535];

/* A query for big.example.com TXT (an answer of ~1.7 KB), EDNS 4096. */
static size_t
big_query(uint8_t *q)
{
	static const uint8_t wire[] = "\x12\x34\0\0\0\1\0\0\0\0\0\1"
	                              "\3big\7example\3com\0\0\x10\0\1"
	                              "\0\0\x29\x10\0\0\0\0\0\0\0";

	memcpy(q, wire, sizeof(wire) - 1);
	return sizeof(wire) - 1;
}

static void
test_query_path(void)
{
	struct zonedb *db = tz_new();
	struct sockaddr_storage a = v4("192.0.2.1");
	struct query_client cl = {
		.addr = (const struct sockaddr *)&a,
		.rrl = table(2, 2, 64),
		.now_ms = T0,
	};
	struct query_result res;
	uint8_t q[512];
	size_t qlen = big_query(q);
	int v;

	for (int i = 0; i < 2; i++) {
		v = query_process(db, q, qlen, QUERY_UDP, &cl, out,
		                  PKT_EDNS_MAX, &res);
		CHECK_EQ_INT(v, QUERY_SEND);
		CHECK_EQ_INT(res.rrl, RRL_PASS);
		CHECK(res.len > 1000 && !res.tc);
	}
	/* Over the rate: dropped, then slipped as an empty TC=1 answer. */
	v = query_process(db, q, qlen, QUERY_UDP, &cl, out, PKT_EDNS_MAX, &res);
	CHECK_EQ_INT(v, QUERY_DROP);
	CHECK_EQ_INT(res.rrl, RRL_DROP);
	v = query_process(db, q, qlen, QUERY_UDP, &cl, out, PKT_EDNS_MAX, &res);
	CHECK_EQ_INT(v, QUERY_SEND);
	CHECK_EQ_INT(res.rrl, RRL_SLIP);
	CHECK(res.tc);
	CHECK_EQ_INT(res.len, qlen); /* header, question, OPT: no records */
	CHECK_EQ_INT(pkt_u16(out), 0x1234);
	CHECK_EQ_INT(out[2] & 0x82, 0x82);  /* QR, TC */
	CHECK_EQ_INT(pkt_u16(out + 4), 1);  /* the question */
	CHECK_EQ_INT(pkt_u16(out + 6), 0);  /* no answer */
	CHECK_EQ_INT(pkt_u16(out + 10), 1); /* the OPT */
	/* TCP is never limited. */
	v = query_process(db, q, qlen, QUERY_TCP, &cl, out, sizeof(out), &res);
	CHECK_EQ_INT(v, QUERY_SEND);
	CHECK_EQ_INT(res.rrl, RRL_PASS);
	CHECK(res.len > 1000);
	/* Another prefix is not affected; time brings the first one back. */
	struct sockaddr_storage b = v4("192.0.3.1");
	cl.addr = (const struct sockaddr *)&b;
	v = query_process(db, q, qlen, QUERY_UDP, &cl, out, PKT_EDNS_MAX, &res);
	CHECK_EQ_INT(res.rrl, RRL_PASS);
	cl.addr = (const struct sockaddr *)&a;
	cl.now_ms = T0 + 500;
	v = query_process(db, q, qlen, QUERY_UDP, &cl, out, PKT_EDNS_MAX, &res);
	CHECK_EQ_INT(v, QUERY_SEND);
	CHECK_EQ_INT(res.rrl, RRL_PASS);
	/* Malformed queries are dropped before RRL: they cost no token. */
	cl.now_ms = T0 + 1500;
	q[2] = 0x80; /* QR: a response */
	for (int i = 0; i < 10; i++)
		CHECK_EQ_INT(query_process(db, q, qlen, QUERY_UDP, &cl, out,
		                           PKT_EDNS_MAX, &res),
		             QUERY_DROP);
	CHECK_EQ_INT(res.rrl, RRL_PASS);
	q[2] = 0;
	CHECK_EQ_INT(
	    query_process(db, q, qlen, QUERY_UDP, &cl, out, PKT_EDNS_MAX, &res),
	    QUERY_SEND);
	CHECK_EQ_INT(res.rrl, RRL_PASS);
	rrl_free(cl.rrl);
	zonedb_free(db);
}

int
main(void)
{
	RUN(test_bucket);
	RUN(test_slip);
	RUN(test_prefixes);
	RUN(test_shared_bucket);
	RUN(test_threads);
	RUN(test_query_path);
	return UNIT_DONE();
}
