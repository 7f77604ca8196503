/* Unit tests for dnsd's zone index: input checks, commits, incremental updates.
 */
#include "dnsd_testzone.h"
#include "err.h"
#include "unit.h"

static int
rc(const struct zonedb *db, const char *name, ldns_rr_type type)
{
	ldns_pkt *p = tz_ask(db, name, type);
	int r = (int)ldns_pkt_get_rcode(p);
	ldns_pkt_free(p);
	return r;
}

/* Does the answer to name/type hold rr (in any section)? */
static int
answers(const struct zonedb *db, const char *name, ldns_rr_type type,
        const char *rr)
{
	ldns_pkt *p = tz_ask(db, name, type);
	int r = tz_has(AN(p), rr) || tz_has(NS(p), rr) || tz_has(AR(p), rr);
	ldns_pkt_free(p);
	return r;
}

static void
test_input_errors(void)
{
	struct zonedb *db = zonedb_new();
	CHECK_EQ_INT(
	    zonedb_add_record(db, EX, "a..example.com.", "A", 1, "1.2.3.4"),
	    DR_EINVAL);
	CHECK_EQ_INT(
	    zonedb_add_record(db, EX, "www.example.org.", "A", 1, "1.2.3.4"),
	    DR_EINVAL);
	CHECK_EQ_INT(zonedb_add_record(db, EX, EX, "BOGUS", 1, "1.2.3.4"),
	             DR_EINVAL);
	CHECK_EQ_INT(zonedb_add_record(db, EX, EX, "OPT", 1, ""), DR_EINVAL);
	CHECK_EQ_INT(zonedb_add_record(db, EX, EX, "ANY", 1, ""), DR_EINVAL);
	CHECK_EQ_INT(zonedb_add_record(db, EX, EX, "A", 1, "1.2.3"), DR_EINVAL);
	CHECK_EQ_INT(zonedb_add_record(db, EX, EX, "A", 1, "1.2.3.4 5"),
	             DR_EINVAL);
	CHECK_EQ_INT(zonedb_add_record(db, EX, EX, "AAAA", 1, "::g"),
	             DR_EINVAL);
	CHECK_EQ_INT(zonedb_add_record(db, EX, EX, "MX", 1, "mail."),
	             DR_EINVAL);
	CHECK_EQ_INT(zonedb_add_record(db, EX, EX, "SOA", 1, "a. b. 1 2"),
	             DR_EINVAL);
	CHECK_EQ_INT(
	    zonedb_add_record(db, EX, EX, "SRV", 1, "1 2 x t.example."),
	    DR_EINVAL);
	CHECK_EQ_INT(zonedb_add_record(db, EX, EX, "TYPE65534", 1, "\\# 3 01"),
	             DR_EINVAL);
	CHECK_EQ_INT(zonedb_add_record(db, EX, EX, "A", -1, "1.2.3.4"),
	             DR_EINVAL);
	CHECK_EQ_INT(
	    zonedb_add_record(db, EX, EX, "A", 2147483648LL, "1.2.3.4"),
	    DR_EINVAL);
	CHECK_EQ_INT(zonedb_add_record(db, EX, EX, "A", 1, NULL), DR_EINVAL);
	CHECK_EQ_INT(zonedb_add_record(db, EX, NULL, "A", 1, "1.2.3.4"),
	             DR_EINVAL);
	/* A label of 64 bytes. */
	CHECK_EQ_INT(
	    zonedb_add_record(
	        db, EX,
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	        "aaaaaaaa.example.com.",
	        "A", 1, "1.2.3.4"),
	    DR_EINVAL);
	CHECK_EQ_INT(zonedb_add_record(db, EX, EX, "mx", 1, "10 Mail.Example."),
	             0);
	CHECK_EQ_INT(
	    zonedb_add_record(db, EX, "WWW.Example.COM", "A", 1, "1.2.3.4"), 0);
	CHECK_EQ_INT(
	    zonedb_del_record(db, EX, "www.example.com.", "A", "1.2.3.5"),
	    DR_ENOTFOUND);
	CHECK_EQ_INT(zonedb_del_record(db, "example.net.", "www.example.net.",
	                               "A", "1.2.3.4"),
	             DR_ENOTFOUND);
	CHECK_EQ_INT(
	    zonedb_del_record(db, EX, "nope.example.com.", "A", "1.2.3.4"),
	    DR_ENOTFOUND);
	CHECK_EQ_INT(zonedb_del_record(db, EX, "www.example.com.", "A", "bad"),
	             DR_EINVAL);
	CHECK_EQ_INT(zonedb_del_zone(db, "example.net."), DR_ENOTFOUND);
	CHECK_EQ_INT(
	    zonedb_del_record(db, EX, "www.EXAMPLE.com.", "A", "1.2.3.4"), 0);
	CHECK_EQ_INT(zonedb_commit(db), 0);
	struct zonedb_stats st;
	zonedb_stats(db, &st);
	CHECK_EQ_INT(st.records, 1);
	CHECK_EQ_INT(st.zones, 0); /* no SOA: not served */
	CHECK_EQ_INT(rc(db, "example.com.", LDNS_RR_TYPE_MX),
	             LDNS_RCODE_REFUSED);
	zonedb_free(db);
}

static void
test_commit_visibility(void)
{
	struct zonedb *db = tz_new();
	const char *rr = "new.example.com. 60 IN A 10.0.0.1";

	CHECK_EQ_INT(
	    zonedb_add_record(db, EX, "new.example.com.", "A", 60, "10.0.0.1"),
	    0);
	/* Not committed: still the old state. */
	CHECK_EQ_INT(rc(db, "new.example.com.", LDNS_RR_TYPE_A),
	             LDNS_RCODE_NXDOMAIN);
	zonedb_commit(db);
	CHECK(answers(db, "new.example.com.", LDNS_RR_TYPE_A, rr));
	CHECK_EQ_INT(
	    zonedb_del_record(db, EX, "new.example.com.", "A", "10.0.0.1"), 0);
	CHECK(answers(db, "new.example.com.", LDNS_RR_TYPE_A, rr));
	zonedb_commit(db);
	CHECK_EQ_INT(rc(db, "new.example.com.", LDNS_RR_TYPE_A),
	             LDNS_RCODE_NXDOMAIN);
	/* Adding the same record twice is one record; TTL updated. */
	zonedb_add_record(db, EX, "new.example.com.", "A", 60, "10.0.0.1");
	zonedb_add_record(db, EX, "new.example.com.", "A", 30, "10.0.0.1");
	zonedb_commit(db);
	ldns_pkt *p = tz_ask(db, "new.example.com.", LDNS_RR_TYPE_A);
	CHECK_EQ_INT(NAN(p), 1);
	CHECK(tz_has(AN(p), "new.example.com. 30 IN A 10.0.0.1"));
	ldns_pkt_free(p);
	/* RRset TTL: the minimum of its records. */
	zonedb_add_record(db, EX, "new.example.com.", "A", 90, "10.0.0.2");
	zonedb_commit(db);
	CHECK(answers(db, "new.example.com.", LDNS_RR_TYPE_A,
	              "new.example.com. 30 IN A 10.0.0.2"));
	struct zonedb_stats st;
	zonedb_stats(db, &st);
	CHECK_EQ_INT(st.zones, 2);
	CHECK(st.touched < 10); /* only what depends on the name */
	zonedb_free(db);
}

static void
test_dependents(void)
{
	struct zonedb *db = tz_new();

	/* The apex A changes: CNAME chains ending there follow. */
	zonedb_del_record(db, EX, EX, "A", "1.2.3.4");
	zonedb_add_record(db, EX, EX, "A", 3600, "5.6.7.8");
	zonedb_commit(db);
	CHECK(answers(db, "ftp.example.com.", LDNS_RR_TYPE_A,
	              "example.com. 3600 IN A 5.6.7.8"));
	CHECK(answers(db, "x.wild.example.com.", LDNS_RR_TYPE_A,
	              "example.com. 3600 IN A 5.6.7.8"));

	/* A dangling CNAME's target appears. */
	zonedb_add_record(db, EX, "nothere.example.com.", "TXT", 60, "hi");
	zonedb_commit(db);
	CHECK_EQ_INT(rc(db, "dangling.example.com.", LDNS_RR_TYPE_TXT),
	             LDNS_RCODE_NOERROR);
	CHECK(answers(db, "dangling.example.com.", LDNS_RR_TYPE_TXT,
	              "nothere.example.com. 60 IN TXT \"hi\""));

	/* MX target address changes: additional section follows. */
	zonedb_del_record(db, EX, "mail.example.com.", "A", "1.2.3.5");
	zonedb_add_record(db, EX, "mail.example.com.", "A", 3600, "1.2.3.99");
	zonedb_commit(db);
	CHECK(answers(db, "example.com.", LDNS_RR_TYPE_MX,
	              "mail.example.com. 3600 IN A 1.2.3.99"));
	CHECK(!answers(db, "example.com.", LDNS_RR_TYPE_MX,
	               "mail.example.com. 3600 IN A 1.2.3.5"));

	/* Glue changes: the referral follows. */
	zonedb_add_record(db, EX, "ns.lab.example.com.", "AAAA", 3600,
	                  "2001:db8::30");
	zonedb_commit(db);
	CHECK(answers(db, "www.lab.example.com.", LDNS_RR_TYPE_A,
	              "ns.lab.example.com. 3600 IN AAAA 2001:db8::30"));

	/* SOA changes: negative answers carry the new one. */
	zonedb_del_record(db, EX, EX, "SOA",
	                  "ns1.example.com. hostmaster.example.com. "
	                  "2026112701 7200 3600 1209600 300");
	zonedb_add_record(db, EX, EX, "SOA", 3600,
	                  "ns1.example.com. hostmaster.example.com. "
	                  "2026112702 7200 3600 1209600 120");
	zonedb_commit(db);
	const char *soa = "example.com. 120 IN SOA ns1.example.com. "
	                  "hostmaster.example.com. 2026112702 7200 3600 "
	                  "1209600 120";
	CHECK(answers(db, "nope.example.com.", LDNS_RR_TYPE_A, soa));
	CHECK(answers(db, "www.example.com.", LDNS_RR_TYPE_SRV, soa));
	CHECK(answers(db, "dangling.example.com.", LDNS_RR_TYPE_A, soa));
	zonedb_free(db);
}

static void
test_structure(void)
{
	struct zonedb *db = tz_new();

	/* A new wildcard at the apex catches unknown names... */
	zonedb_add_record(db, EX, "*.example.com.", "A", 60, "7.7.7.7");
	zonedb_commit(db);
	CHECK(answers(db, "nope.example.com.", LDNS_RR_TYPE_A,
	              "nope.example.com. 60 IN A 7.7.7.7"));
	/* ...and dangling CNAMEs into them. */
	CHECK(answers(db, "dangling.example.com.", LDNS_RR_TYPE_A,
	              "nothere.example.com. 60 IN A 7.7.7.7"));
	/* ...but not below existing names or empty non-terminals. */
	CHECK_EQ_INT(rc(db, "x.c.example.com.", LDNS_RR_TYPE_A),
	             LDNS_RCODE_NXDOMAIN);
	zonedb_del_record(db, EX, "*.example.com.", "A", "7.7.7.7");
	zonedb_commit(db);
	CHECK_EQ_INT(rc(db, "nope.example.com.", LDNS_RR_TYPE_A),
	             LDNS_RCODE_NXDOMAIN);
	CHECK_EQ_INT(rc(db, "dangling.example.com.", LDNS_RR_TYPE_A),
	             LDNS_RCODE_NXDOMAIN);

	/* Removing the only name below empty non-terminals removes them. */
	zonedb_del_record(db, EX, "a.b.c.example.com.", "A", "1.2.3.40");
	zonedb_commit(db);
	CHECK_EQ_INT(rc(db, "b.c.example.com.", LDNS_RR_TYPE_A),
	             LDNS_RCODE_NXDOMAIN);
	CHECK_EQ_INT(rc(db, "c.example.com.", LDNS_RR_TYPE_A),
	             LDNS_RCODE_NXDOMAIN);

	/* A new delegation turns the subtree into referrals... */
	zonedb_add_record(db, EX, "apps.example.com.", "NS", 60,
	                  "ns1.example.com.");
	zonedb_commit(db);
	ldns_pkt *p = tz_ask(db, "host.apps.example.com.", LDNS_RR_TYPE_A);
	CHECK(!ldns_pkt_aa(p));
	CHECK(tz_has(NS(p), "apps.example.com. 60 IN NS ns1.example.com."));
	ldns_pkt_free(p);
	p = tz_ask(db, "foo.apps.example.com.", LDNS_RR_TYPE_A);
	CHECK(!ldns_pkt_aa(p));
	CHECK_EQ_INT(NAN(p), 0);
	ldns_pkt_free(p);
	/* ...and removing it restores them. */
	zonedb_del_record(db, EX, "apps.example.com.", "NS",
	                  "ns1.example.com.");
	zonedb_commit(db);
	CHECK(answers(db, "host.apps.example.com.", LDNS_RR_TYPE_A,
	              "host.apps.example.com. 3600 IN A 9.9.9.9"));
	CHECK(answers(db, "foo.apps.example.com.", LDNS_RR_TYPE_A,
	              "foo.apps.example.com. 3600 IN A 1.2.3.20"));

	/* Removing the child zone: the parent's delegation answers. */
	CHECK_EQ_INT(zonedb_del_zone(db, SUB), 0);
	zonedb_commit(db);
	p = tz_ask(db, "www.sub.example.com.", LDNS_RR_TYPE_A);
	CHECK(!ldns_pkt_aa(p));
	CHECK(tz_has(NS(p), "sub.example.com. 3600 IN NS ns.sub.example.com."));
	CHECK(tz_has(AR(p), "ns.sub.example.com. 3600 IN A 1.2.3.50"));
	ldns_pkt_free(p);
	/* Removing the parent: nothing is served. */
	CHECK_EQ_INT(zonedb_del_zone(db, EX), 0);
	CHECK_EQ_INT(rc(db, "example.com.", LDNS_RR_TYPE_A),
	             LDNS_RCODE_NOERROR); /* until the commit */
	zonedb_commit(db);
	CHECK_EQ_INT(rc(db, "example.com.", LDNS_RR_TYPE_A),
	             LDNS_RCODE_REFUSED);
	struct zonedb_stats st;
	zonedb_stats(db, &st);
	CHECK_EQ_INT(st.records, 0);
	CHECK_EQ_INT(st.zones, 0);
	CHECK_EQ_INT(st.names, 1); /* the root stays */
	zonedb_free(db);
}

/*
 * Incremental updates must give exactly what a fresh build of the same
 * records gives. A pool of records with many interdependencies is added
 * and removed at random; after each commit a fresh index is built from
 * the current set and both answer the same questions.
 */
static const struct tz_rec pool[] = {
	{ EX, "t1.example.com.", "CNAME", 60, "t2.example.com." },
	{ EX, "t2.example.com.", "CNAME", 60, "t3.example.com." },
	{ EX, "t2.example.com.", "A", 60, "10.0.0.2" },
	{ EX, "t3.example.com.", "A", 60, "10.0.0.3" },
	{ EX, "t3.example.com.", "MX", 60, "5 t4.example.com." },
	{ EX, "t4.example.com.", "A", 60, "10.0.0.4" },
	{ EX, "t4.example.com.", "AAAA", 60, "2001:db8::4" },
	{ EX, "*.example.com.", "A", 60, "10.0.0.99" },
	{ EX, "*.example.com.", "CNAME", 60, "t3.example.com." },
	{ EX, "x.y.example.com.", "A", 60, "10.0.0.5" },
	{ EX, "y.example.com.", "NS", 60, "ns.y.example.com." },
	{ EX, "ns.y.example.com.", "A", 60, "10.0.0.6" },
	{ EX, "t5.example.com.", "CNAME", 60, "x.y.example.com." },
	{ EX, "t6.example.com.", "CNAME", 60, "q.z.example.com." },
	{ EX, "*.z.example.com.", "TXT", 60, "wild" },
	{ EX, "z.example.com.", "NS", 60, "t4.example.com." },
	{ EX, "t7.example.com.", "NS", 60, "t4.example.com." },
	{ EX, "t7.example.com.", "DS", 60,
	  "1 8 2 "
	  "49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE8A4D2B6B5F6B2B7D4A2E8A1C" },
	{ EX, EX, "MX", 60, "1 t4.example.com." },
	{ "t8.example.com.", "t8.example.com.", "SOA", 60,
	  "t4.example.com. h.t8.example.com. 1 2 3 4 5" },
	{ "t8.example.com.", "a.t8.example.com.", "A", 60, "10.0.0.8" },
	{ EX, "a.t8.example.com.", "A", 60, "10.0.0.9" },
	{ EX, "t9.example.com.", "CNAME", 60, "a.t8.example.com." },
	{ EX, "t9.example.com.", "CNAME", 60, "t1.example.com." },
	{ EX, EX, "SOA", 3600,
	  "ns1.example.com. hostmaster.example.com. 7 7200 3600 1209600 30" },
};
#define NPOOL (sizeof(pool) / sizeof(pool[0]))

static const char *qnames[] = {
	"t1.example.com.",    "t2.example.com.",   "t3.example.com.",
	"t4.example.com.",    "t5.example.com.",   "t6.example.com.",
	"t7.example.com.",    "t9.example.com.",   "x.y.example.com.",
	"y.example.com.",     "ns.y.example.com.", "q.z.example.com.",
	"z.example.com.",     "a.t8.example.com.", "t8.example.com.",
	"nope.example.com.",  "example.com.",      "a.b.example.com.",
	"w.x.y.example.com.", "www.example.com.",  "*.example.com.",
};
static const ldns_rr_type qtypes[] = {
	LDNS_RR_TYPE_A,   LDNS_RR_TYPE_AAAA,  LDNS_RR_TYPE_MX,
	LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_NS,    LDNS_RR_TYPE_DS,
	LDNS_RR_TYPE_SOA, LDNS_RR_TYPE_CNAME, LDNS_RR_TYPE_ANY,
};

static void
sort_sections(ldns_pkt *p)
{
	ldns_rr_list_sort(ldns_pkt_answer(p));
	ldns_rr_list_sort(ldns_pkt_authority(p));
	ldns_rr_list_sort(ldns_pkt_additional(p));
}

static bool
same_answer(const struct zonedb *a, const struct zonedb *b, const char *name,
            ldns_rr_type type)
{
	ldns_pkt *x = tz_ask(a, name, type), *y = tz_ask(b, name, type);
	bool same = ldns_pkt_get_rcode(x) == ldns_pkt_get_rcode(y) &&
	            ldns_pkt_aa(x) == ldns_pkt_aa(y) &&
	            ldns_pkt_tc(x) == ldns_pkt_tc(y);
	sort_sections(x);
	sort_sections(y);
	same = same && ldns_rr_list_compare(AN(x), AN(y)) == 0 &&
	       ldns_rr_list_compare(NS(x), NS(y)) == 0 &&
	       ldns_rr_list_compare(AR(x), AR(y)) == 0;
	if (!same) {
		fprintf(stderr, "differs: %s type %d\nincremental:\n", name,
		        (int)type);
		ldns_pkt_print(stderr, x);
		fprintf(stderr, "fresh:\n");
		ldns_pkt_print(stderr, y);
	}
	ldns_pkt_free(x);
	ldns_pkt_free(y);
	return same;
}

static void
incremental_run(unsigned seed)
{
	struct zonedb *inc = tz_new();
	bool in[NPOOL] = { false };
	int diffs = 0;

	for (int round = 0; round < 120 && diffs < 3; round++) {
		int nops = 1 + (int)(rand_r(&seed) % 4);
		for (int k = 0; k < nops; k++) {
			size_t i = rand_r(&seed) % NPOOL;
			const struct tz_rec *r = &pool[i];
			if (in[i])
				CHECK_EQ_INT(
				    zonedb_del_record(inc, r->zone, r->owner,
				                      r->type, r->rdata),
				    0);
			else
				CHECK_EQ_INT(zonedb_add_record(
				                 inc, r->zone, r->owner,
				                 r->type, r->ttl, r->rdata),
				             0);
			in[i] = !in[i];
		}
		zonedb_commit(inc);

		struct zonedb *fresh = zonedb_new();
		for (size_t i = 0; i < sizeof(tz_example) / sizeof(*tz_example);
		     i++) {
			const struct tz_rec *r = &tz_example[i];
			zonedb_add_record(fresh, r->zone, r->owner, r->type,
			                  r->ttl, r->rdata);
		}
		tz_add_big(fresh, 20);
		for (size_t i = 0; i < NPOOL; i++)
			if (in[i])
				zonedb_add_record(fresh, pool[i].zone,
				                  pool[i].owner, pool[i].type,
				                  pool[i].ttl, pool[i].rdata);
		zonedb_commit(fresh);
		for (size_t n = 0; n < sizeof(qnames) / sizeof(*qnames); n++)
			for (size_t t = 0; t < sizeof(qtypes) / sizeof(*qtypes);
			     t++)
				if (!same_answer(inc, fresh, qnames[n],
				                 qtypes[t]))
					diffs++;
		zonedb_free(fresh);
	}
	CHECK_EQ_INT(diffs, 0);
	zonedb_free(inc);
}

static void
test_incremental_equals_fresh(void)
{
	incremental_run(12345);
	incremental_run(777);
	incremental_run(4242);
}

/* Many names: every one answers, the index grows and shrinks. */
static void
test_bulk(void)
{
	struct zonedb *db = tz_new();
	char name[64], addr[32];
	int bad = 0;

	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "h%d.bulk.example.com.", i);
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16,
		         (i >> 8) & 255, i & 255);
		if (zonedb_add_record(db, EX, name, "A", 60, addr) != 0)
			bad++;
	}
	zonedb_commit(db);
	for (int i = 0; i < 20000; i += 97) {
		snprintf(name, sizeof(name), "H%d.Bulk.Example.com.", i);
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16,
		         (i >> 8) & 255, i & 255);
		char rr[128];
		snprintf(rr, sizeof(rr), "%s 60 IN A %s", name, addr);
		if (!answers(db, name, LDNS_RR_TYPE_A, rr))
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "h%d.bulk.example.com.", i);
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16,
		         (i >> 8) & 255, i & 255);
		if (zonedb_del_record(db, EX, name, "A", addr) != 0)
			bad++;
	}
	zonedb_commit(db);
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(rc(db, "h5.bulk.example.com.", LDNS_RR_TYPE_A),
	             LDNS_RCODE_NXDOMAIN);
	CHECK_EQ_INT(rc(db, "bulk.example.com.", LDNS_RR_TYPE_A),
	             LDNS_RCODE_NXDOMAIN);
	struct zonedb *fresh = tz_new();
	struct zonedb_stats a, b;
	zonedb_stats(db, &a);
	zonedb_stats(fresh, &b);
	CHECK_EQ_INT(a.names, b.names);
	CHECK_EQ_INT(a.records, b.records);
	zonedb_free(fresh);
	zonedb_free(db);
}

int
main(void)
{
	RUN(test_input_errors);
	RUN(test_commit_visibility);
	RUN(test_dependents);
	RUN(test_structure);
	RUN(test_incremental_equals_fresh);
	RUN(test_bulk);
	return UNIT_DONE();
}
