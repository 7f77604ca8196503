/*
 * dnsd figures (not pass/fail): zone index build time and memory per record
 * for N generated A records, queries/s through the query path, and the
 * cost of one incremental change. Usage: dnsd_bench [N] (default 1000000).
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cookie.h"
#include "query.h"
#include "rrl.h"
#include "zonedb.h"

#define ZONE "bench.example."

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

/* A query for name (text, relative to ZONE), in wire form. */
static size_t
make_query(uint8_t *out, const char *label, uint16_t qtype, int edns)
{
	size_t n = 0;
	static const uint8_t hdr[12] = { 0x12, 0x34, 0x01, 0x00, 0, 1 };

	memcpy(out, hdr, 12);
	out[11] = edns ? 1 : 0;
	n = 12;
	out[n++] = (uint8_t)strlen(label);
	memcpy(out + n, label, strlen(label));
	n += strlen(label);
	memcpy(out + n, "\5bench\7example\0", 15);
	n += 15;
	out[n++] = (uint8_t)(qtype >> 8);
	out[n++] = (uint8_t)qtype;
	out[n++] = 0;
	out[n++] = 1;
	if (edns) {
		static const uint8_t opt[11] = { 0, 0, 41, 0x04, 0xD0 };
		memcpy(out + n, opt, 11);
		n += 11;
	}
	return n;
}

/*
 * The attack of issue 9: a 64 KiB query whose first additional record
 * holds, as rdata, a chain of compression pointers each pointing at the
 * one before it (up to offset 16383, the farthest a pointer reaches);
 * every further record's owner points at the end of that chain, so that
 * checking each name walks ~8000 pointers. Without a hop budget that is
 * ~32M hops per query.
 */
static size_t
make_pointer_chain(uint8_t *out, size_t cap)
{
	static const uint8_t hdr[12] = { 0x12, 0x34, 0x01, 0x00, 0, 1 };
	size_t n = 12, rdlen, start, last, count = 0;

	memcpy(out, hdr, 12);
	memcpy(out + n, "\1a\0\0\1\0\1", 7); /* a. A IN */
	n += 7;
	memcpy(out + n, "\0\0\x63\0\1\0\0\0\0", 9); /* . TYPE99 IN */
	n += 9;
	rdlen = n;
	n += 2;
	start = n;
	out[n++] = 0xC0; /* the chain's first pointer: to the QNAME */
	out[n++] = 12;
	while (n + 2 <= 0x3FFF) {
		out[n] = (uint8_t)(0xC0 | (n - 2) >> 8);
		out[n + 1] = (uint8_t)(n - 2);
		n += 2;
	}
	last = n - 2;
	out[rdlen] = (uint8_t)((n - start) >> 8);
	out[rdlen + 1] = (uint8_t)(n - start);
	count++;
	while (n + 12 <= cap && count < 65535) {
		out[n++] = (uint8_t)(0xC0 | last >> 8);
		out[n++] = (uint8_t)last;
		memcpy(out + n, "\0\x63\0\1\0\0\0\0\0\0", 10);
		n += 10;
		count++;
	}
	out[10] = (uint8_t)(count >> 8);
	out[11] = (uint8_t)count;
	return n;
}

/* Time per query of the pointer chain over TCP, in microseconds. */
static double
run_pointer_chain(const struct zonedb *db, unsigned *rcode)
{
	static uint8_t pkt[65535], out[65535];
	struct query_result res;
	size_t len = make_pointer_chain(pkt, sizeof(pkt));
	int n = 0;
	double t0 = now(), t;

	do {
		query_process(db, pkt, len, QUERY_TCP, NULL, out, sizeof(out),
		              &res);
		n++;
		t = now() - t0;
	} while (t < 0.5);
	*rcode = res.rcode;
	return t * 1e6 / n;
}

struct qset {
	uint8_t pkt[1024][64];
	size_t len[1024];
};

/*
 * Queries/s of qs through query_process for secs. With cl, query i comes
 * from sources[i % nsources] and the clocks advance as the loop runs.
 */
static double
run_queries(const struct zonedb *db, const struct qset *qs, double secs,
            struct query_client *cl, const struct sockaddr_in *sources,
            size_t nsources, size_t *bytes)
{
	static uint8_t out[65535];
	struct query_result res;
	size_t done = 0;
	double t0 = now(), t;

	*bytes = 0;
	do {
		if (cl != NULL) {
			cl->now_ms = (uint64_t)(now() * 1e3);
			cl->now_s = (uint32_t)time(NULL);
		}
		for (int k = 0; k < 100000; k++) {
			size_t i = done++ & 1023;
			if (cl != NULL)
				cl->addr = (const struct sockaddr
				                *)&sources[i % nsources];
			if (query_process(db, qs->pkt[i], qs->len[i], QUERY_UDP,
			                  cl, out, sizeof(out),
			                  &res) == QUERY_SEND)
				*bytes += res.len;
		}
		t = now() - t0;
	} while (t < secs);
	return (double)done / t;
}

/*
 * The query path with RRL on at a rate above the load (1M/s per prefix,
 * sources spread over 1024 prefixes, a 64k table), then with a COOKIE
 * option in every query (a client cookie only: one SipHash per query).
 */
static void
run_rrl_cookies(const struct zonedb *db, struct qset *qs)
{
	static struct sockaddr_in src[1024];
	struct query_client cl = { 0 };
	struct cookie_mac mac;
	uint8_t secret[COOKIE_SECRET_LEN] = { 1, 2, 3 };
	size_t bytes;
	double qps;

	for (size_t i = 0; i < 1024; i++) {
		src[i].sin_family = AF_INET;
		src[i].sin_addr.s_addr = htonl((uint32_t)(0x0A000000 | i << 8));
	}
	qps = run_queries(db, qs, 1.0, NULL, NULL, 0, &bytes);
	printf("queries/s %-16s %.2f M\n", "RRL off", qps / 1e6);
	cl.rrl = rrl_new(1000000, 2, RRL_BUCKETS);
	qps = run_queries(db, qs, 1.0, &cl, src, 1024, &bytes);
	printf("queries/s %-16s %.2f M\n", "RRL on", qps / 1e6);
	rrl_free(cl.rrl);
	cl.rrl = NULL;
	if (cookie_mac_init(&mac, secret) != 0)
		return;
	for (size_t i = 0; i < 1024; i++) {
		/* The EDNS query's OPT gets a 12-byte COOKIE option. */
		uint8_t *p = qs->pkt[i];
		static const uint8_t opt[] = { 0,   10,  0,   8,   'c', 'l',
			                       'i', 'e', 'n', 't', 'c', 'k' };
		memcpy(p + qs->len[i] - 2, "\0\x0c", 2);
		memcpy(p + qs->len[i], opt, sizeof(opt));
		qs->len[i] += sizeof(opt);
	}
	cl.cookies = &mac;
	qps = run_queries(db, qs, 1.0, &cl, src, 1024, &bytes);
	printf("queries/s %-16s %.2f M\n", "client cookies", qps / 1e6);
	cookie_mac_close(&mac);
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	char owner[64], addr[32];
	static struct qset qs;
	size_t bytes;

	if (n <= 0)
		n = 1000000;
	size_t heap0 = heap_used();
	double t0 = now();
	struct zonedb *db = zonedb_new();
	zonedb_add_record(db, ZONE, ZONE, "SOA", 3600,
	                  "ns1.bench.example. admin.bench.example. 1 7200 "
	                  "3600 1209600 300");
	zonedb_add_record(db, ZONE, ZONE, "NS", 3600, "ns1.bench.example.");
	zonedb_add_record(db, ZONE, "ns1." ZONE, "A", 3600, "10.255.0.1");
	zonedb_add_record(db, ZONE, "*.wild." ZONE, "A", 3600, "10.255.0.2");
	for (long i = 0; i < n; i++) {
		snprintf(owner, sizeof(owner), "h%ld." ZONE, i);
		snprintf(addr, sizeof(addr), "10.%ld.%ld.%ld", (i >> 16) & 255,
		         (i >> 8) & 255, i & 255);
		if (zonedb_add_record(db, ZONE, owner, "A", 3600, addr) != 0) {
			fprintf(stderr, "add failed at %ld\n", i);
			return 1;
		}
	}
	double t1 = now();
	zonedb_commit(db);
	double t2 = now();
	size_t heap1 = heap_used();
	struct zonedb_stats st;
	zonedb_stats(db, &st);
	printf("records            %zu (%zu names)\n", st.records, st.names);
	printf("add                %.2f s (%.0f records/s)\n", t1 - t0,
	       (double)n / (t1 - t0));
	printf("commit             %.2f s\n", t2 - t1);
	printf("build total        %.2f s\n", t2 - t0);
	printf("heap               %.1f MB, %.0f bytes/record\n",
	       (double)(heap1 - heap0) / 1e6,
	       (double)(heap1 - heap0) / (double)st.records);

	/* Incremental: one record added and committed, then removed. */
	double t3 = now();
	for (int i = 0; i < 1000; i++) {
		snprintf(owner, sizeof(owner), "new%d." ZONE, i);
		zonedb_add_record(db, ZONE, owner, "A", 60, "10.9.9.9");
		zonedb_commit(db);
	}
	double t4 = now();
	printf("incremental        %.1f us per add+commit\n",
	       (t4 - t3) * 1e6 / 1000);

	const struct {
		const char *what;
		int kind;
		int edns;
	} mixes[] = {
		{ "hit A", 0, 0 },          { "hit A, EDNS", 0, 1 },
		{ "NXDOMAIN", 1, 0 },       { "wildcard", 2, 0 },
		{ "90% hit 10% NX", 3, 0 },
	};
	for (size_t m = 0; m < sizeof(mixes) / sizeof(mixes[0]); m++) {
		unsigned seed = 1;
		for (int i = 0; i < 1024; i++) {
			char label[48];
			int kind = mixes[m].kind;
			if (kind == 3)
				kind = rand_r(&seed) % 10 == 0 ? 1 : 0;
			if (kind == 0)
				snprintf(label, sizeof(label), "h%ld",
				         (long)(rand_r(&seed) % n));
			else if (kind == 1)
				snprintf(label, sizeof(label), "nx%d", i);
			else
				snprintf(label, sizeof(label), "w%d", i);
			if (kind == 2) {
				/* x.wild.bench.example. */
				qs.len[i] = make_query(qs.pkt[i], "wild", 1,
				                       mixes[m].edns);
				memmove(qs.pkt[i] + 14, qs.pkt[i] + 12,
				        qs.len[i] - 12);
				qs.pkt[i][12] = 1;
				qs.pkt[i][13] = 'x';
				qs.len[i] += 2;
				continue;
			}
			qs.len[i] =
			    make_query(qs.pkt[i], label, 1, mixes[m].edns);
		}
		double qps = run_queries(db, &qs, 1.0, NULL, NULL, 0, &bytes);
		printf("queries/s %-16s %.2f M\n", mixes[m].what, qps / 1e6);
		if (m == 1)
			run_rrl_cookies(db, &qs); /* on "hit A, EDNS" */
	}
	unsigned rcode;
	double us = run_pointer_chain(db, &rcode);
	printf("pointer chain      %.1f us per 64 KiB TCP query (rcode %u)\n",
	       us, rcode);
	zonedb_free(db);
	return 0;
}
