/* Unit tests for dnsd's answers: RFC 1034 lookup semantics on an example zone.
 */
#include "dnsd_testzone.h"
#include "unit.h"

static struct zonedb *db;

static void
test_apex_a(void)
{
	ldns_pkt *p = tz_ask(db, "example.com.", LDNS_RR_TYPE_A);
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CHECK(ldns_pkt_aa(p));
	CHECK(ldns_pkt_qr(p));
	CHECK(ldns_pkt_rd(p)); /* copied from the query */
	CHECK(!ldns_pkt_ra(p));
	CHECK(!ldns_pkt_tc(p));
	CHECK_EQ_INT(NAN(p), 1);
	CHECK_EQ_INT(NNS(p), 0);
	CHECK(tz_has(AN(p), "example.com. 3600 IN A 1.2.3.4"));
	ldns_pkt_free(p);
}

static void
test_rrset(void)
{
	ldns_pkt *p = tz_ask(db, "api.example.com.", LDNS_RR_TYPE_A);
	CHECK_EQ_INT(NAN(p), 2);
	CHECK(tz_has(AN(p), "api.example.com. 300 IN A 1.2.3.10"));
	CHECK(tz_has(AN(p), "api.example.com. 300 IN A 1.2.3.11"));
	ldns_pkt_free(p);
	p = tz_ask(db, "unknown.example.com.", 65534);
	CHECK_EQ_INT(NAN(p), 1);
	CHECK(tz_has(AN(p), "unknown.example.com. 3600 IN TYPE65534 "
	                    "\\# 3 010203"));
	ldns_pkt_free(p);
}

static void
test_id_and_case(void)
{
	struct tz_opts o = { .id = 0xBEEF };
	const char *mixed = "ApI.ExAmPlE.cOm.";
	ldns_pkt *p = tz_ask_opts(db, mixed, LDNS_RR_TYPE_A, &o);
	CHECK_EQ_INT(ldns_pkt_id(p), 0xBEEF);
	CHECK_EQ_INT(tz_out[0], 0xBE);
	CHECK_EQ_INT(tz_out[1], 0xEF);
	/* The question is echoed byte for byte, case included. */
	static const uint8_t wire[] = "\3ApI\7ExAmPlE\3cOm";
	CHECK(memcmp(tz_out + 12, wire, sizeof(wire)) == 0);
	CHECK_EQ_INT(NAN(p), 2);
	/* Answer owners point at the question: same case. */
	char *owner = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(AN(p), 0)));
	CHECK_EQ_STR(owner, "ApI.ExAmPlE.cOm.");
	free(owner);
	ldns_pkt_free(p);
	o.id = 7;
	p = tz_ask_opts(db, "FOO.Apps.EXAMPLE.com.", LDNS_RR_TYPE_A, &o);
	CHECK_EQ_INT(ldns_pkt_id(p), 7);
	CHECK(tz_has(AN(p), "foo.apps.example.com. 3600 IN A 1.2.3.20"));
	ldns_pkt_free(p);
}

static void
test_cname(void)
{
	ldns_pkt *p = tz_ask(db, "ftp.example.com.", LDNS_RR_TYPE_A);
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CHECK(ldns_pkt_aa(p));
	CHECK_EQ_INT(NAN(p), 3);
	CHECK(tz_has(AN(p), "ftp.example.com. 3600 IN CNAME www.example.com."));
	CHECK(tz_has(AN(p), "www.example.com. 3600 IN CNAME example.com."));
	CHECK(tz_has(AN(p), "example.com. 3600 IN A 1.2.3.4"));
	/* In chain order. */
	CHECK_EQ_INT(ldns_rr_get_type(ldns_rr_list_rr(AN(p), 0)),
	             LDNS_RR_TYPE_CNAME);
	CHECK_EQ_INT(ldns_rr_get_type(ldns_rr_list_rr(AN(p), 2)),
	             LDNS_RR_TYPE_A);
	ldns_pkt_free(p);

	/* QTYPE CNAME: the CNAME alone. */
	p = tz_ask(db, "ftp.example.com.", LDNS_RR_TYPE_CNAME);
	CHECK_EQ_INT(NAN(p), 1);
	CHECK(tz_has(AN(p), "ftp.example.com. 3600 IN CNAME www.example.com."));
	ldns_pkt_free(p);

	/* Chain to a type the target lacks: NODATA after the chain. */
	p = tz_ask(db, "www.example.com.", LDNS_RR_TYPE_SRV);
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CHECK_EQ_INT(NAN(p), 1);
	CHECK_EQ_INT(NNS(p), 1);
	CHECK(tz_has(NS(p), "example.com. 300 IN SOA ns1.example.com. "
	                    "hostmaster.example.com. 2026112701 7200 3600 "
	                    "1209600 300"));
	ldns_pkt_free(p);

	/* Chain to MX: additional data follows the target. */
	p = tz_ask(db, "www.example.com.", LDNS_RR_TYPE_MX);
	CHECK_EQ_INT(NAN(p), 3);
	CHECK(tz_has(AR(p), "mail.example.com. 3600 IN A 1.2.3.5"));
	ldns_pkt_free(p);
}

static void
test_cname_ends(void)
{
	ldns_pkt *p = tz_ask(db, "loop1.example.com.", LDNS_RR_TYPE_A);
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CHECK_EQ_INT(NAN(p), 2);
	CHECK(tz_has(AN(p), "loop1.example.com. 3600 IN CNAME "
	                    "loop2.example.com."));
	CHECK(tz_has(AN(p), "loop2.example.com. 3600 IN CNAME "
	                    "loop1.example.com."));
	ldns_pkt_free(p);

	p = tz_ask(db, "dangling.example.com.", LDNS_RR_TYPE_A);
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	CHECK(ldns_pkt_aa(p));
	CHECK_EQ_INT(NAN(p), 1);
	CHECK_EQ_INT(NNS(p), 1);
	CHECK_EQ_INT(ldns_rr_get_type(ldns_rr_list_rr(NS(p), 0)),
	             LDNS_RR_TYPE_SOA);
	ldns_pkt_free(p);

	p = tz_ask(db, "outside.example.com.", LDNS_RR_TYPE_A);
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CHECK(ldns_pkt_aa(p));
	CHECK_EQ_INT(NAN(p), 1);
	CHECK_EQ_INT(NNS(p), 0);
	ldns_pkt_free(p);

	/* Into a delegation: the CNAME, then a referral. */
	p = tz_ask(db, "tolab.example.com.", LDNS_RR_TYPE_A);
	CHECK_EQ_INT(NAN(p), 1);
	CHECK(tz_has(NS(p), "lab.example.com. 3600 IN NS ns.lab.example.com."));
	CHECK(tz_has(AR(p), "ns.lab.example.com. 3600 IN A 1.2.3.30"));
	ldns_pkt_free(p);
}

static void
test_negative(void)
{
	const char *soa = "example.com. 300 IN SOA ns1.example.com. "
	                  "hostmaster.example.com. 2026112701 7200 3600 "
	                  "1209600 300";
	ldns_pkt *p = tz_ask(db, "nope.example.com.", LDNS_RR_TYPE_A);
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	CHECK(ldns_pkt_aa(p));
	CHECK_EQ_INT(NAN(p), 0);
	CHECK_EQ_INT(NNS(p), 1);
	CHECK(tz_has(NS(p), soa)); /* TTL = min(3600, 300) */
	ldns_pkt_free(p);

	p = tz_ask(db, "deep.nope.example.com.", LDNS_RR_TYPE_TXT);
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	CHECK(tz_has(NS(p), soa));
	ldns_pkt_free(p);

	/* NODATA. */
	p = tz_ask(db, "ns2.example.com.", LDNS_RR_TYPE_AAAA);
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CHECK(ldns_pkt_aa(p));
	CHECK_EQ_INT(NAN(p), 0);
	CHECK(tz_has(NS(p), soa));
	ldns_pkt_free(p);

	/* Empty non-terminals exist. */
	const char *ents[] = { "b.c.example.com.", "c.example.com.",
		               "apps.example.com.", "_tcp.example.com." };
	for (size_t i = 0; i < 4; i++) {
		p = tz_ask(db, ents[i], LDNS_RR_TYPE_A);
		CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
		CHECK_EQ_INT(NAN(p), 0);
		CHECK(tz_has(NS(p), soa));
		ldns_pkt_free(p);
	}
	p = tz_ask(db, "a.b.c.example.com.", LDNS_RR_TYPE_A);
	CHECK(tz_has(AN(p), "a.b.c.example.com. 3600 IN A 1.2.3.40"));
	ldns_pkt_free(p);
}

static void
test_wildcard(void)
{
	ldns_pkt *p = tz_ask(db, "foo.apps.example.com.", LDNS_RR_TYPE_A);
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CHECK(ldns_pkt_aa(p));
	CHECK_EQ_INT(NAN(p), 1);
	CHECK(tz_has(AN(p), "foo.apps.example.com. 3600 IN A 1.2.3.20"));
	ldns_pkt_free(p);

	/* Several labels below the closest encloser match too. */
	p = tz_ask(db, "x.y.z.apps.example.com.", LDNS_RR_TYPE_A);
	CHECK(tz_has(AN(p), "x.y.z.apps.example.com. 3600 IN A 1.2.3.20"));
	ldns_pkt_free(p);

	/* An existing name stops the wildcard, also for names below it. */
	p = tz_ask(db, "host.apps.example.com.", LDNS_RR_TYPE_A);
	CHECK(tz_has(AN(p), "host.apps.example.com. 3600 IN A 9.9.9.9"));
	CHECK_EQ_INT(NAN(p), 1);
	ldns_pkt_free(p);
	p = tz_ask(db, "sub.host.apps.example.com.", LDNS_RR_TYPE_A);
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	CHECK_EQ_INT(NAN(p), 0);
	ldns_pkt_free(p);
	p = tz_ask(db, "host.apps.example.com.", LDNS_RR_TYPE_TXT);
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CHECK_EQ_INT(NAN(p), 0);
	ldns_pkt_free(p);

	/* Wildcard NODATA. */
	p = tz_ask(db, "foo.apps.example.com.", LDNS_RR_TYPE_MX);
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CHECK_EQ_INT(NAN(p), 0);
	CHECK_EQ_INT(NNS(p), 1);
	CHECK(ldns_pkt_aa(p));
	ldns_pkt_free(p);

	/* The wildcard name itself. */
	p = tz_ask(db, "*.apps.example.com.", LDNS_RR_TYPE_A);
	CHECK(tz_has(AN(p), "*.apps.example.com. 3600 IN A 1.2.3.20"));
	ldns_pkt_free(p);

	/* Wildcard CNAME, chased. */
	p = tz_ask(db, "some-long-label.wild.example.com.", LDNS_RR_TYPE_A);
	CHECK_EQ_INT(NAN(p), 3);
	CHECK(tz_has(AN(p), "some-long-label.wild.example.com. 3600 IN "
	                    "CNAME www.example.com."));
	CHECK(tz_has(AN(p), "www.example.com. 3600 IN CNAME example.com."));
	CHECK(tz_has(AN(p), "example.com. 3600 IN A 1.2.3.4"));
	ldns_pkt_free(p);
}

static void
test_referral(void)
{
	const char *names[] = { "lab.example.com.", "www.lab.example.com.",
		                "ns.lab.example.com.",
		                "a.b.c.lab.example.com." };
	for (size_t i = 0; i < 4; i++) {
		ldns_pkt *p = tz_ask(db, names[i], LDNS_RR_TYPE_A);
		CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
		CHECK(!ldns_pkt_aa(p));
		CHECK_EQ_INT(NAN(p), 0);
		CHECK_EQ_INT(NNS(p), 1);
		CHECK(tz_has(
		    NS(p), "lab.example.com. 3600 IN NS ns.lab.example.com."));
		CHECK_EQ_INT(NAR(p), 1);
		CHECK(tz_has(AR(p), "ns.lab.example.com. 3600 IN A 1.2.3.30"));
		ldns_pkt_free(p);
	}
	/* DS at the delegation point: the parent answers. */
	ldns_pkt *p = tz_ask(db, "lab.example.com.", LDNS_RR_TYPE_DS);
	CHECK(ldns_pkt_aa(p));
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CHECK_EQ_INT(NAN(p), 0);
	CHECK_EQ_INT(NNS(p), 1);
	CHECK_EQ_INT(ldns_rr_get_type(ldns_rr_list_rr(NS(p), 0)),
	             LDNS_RR_TYPE_SOA);
	ldns_pkt_free(p);
	p = tz_ask(db, "secure.example.com.", LDNS_RR_TYPE_DS);
	CHECK(ldns_pkt_aa(p));
	CHECK_EQ_INT(NAN(p), 1);
	CHECK_EQ_INT(ldns_rr_get_type(ldns_rr_list_rr(AN(p), 0)),
	             LDNS_RR_TYPE_DS);
	ldns_pkt_free(p);
	/* Below the cut, DS is the child's business: referral. */
	p = tz_ask(db, "x.secure.example.com.", LDNS_RR_TYPE_DS);
	CHECK(!ldns_pkt_aa(p));
	CHECK_EQ_INT(NNS(p), 1);
	CHECK(tz_has(NS(p),
	             "secure.example.com. 3600 IN NS ns.lab.example.com."));
	ldns_pkt_free(p);
}

static void
test_additional(void)
{
	ldns_pkt *p = tz_ask(db, "example.com.", LDNS_RR_TYPE_MX);
	CHECK_EQ_INT(NAN(p), 2);
	CHECK_EQ_INT(NAR(p), 2);
	CHECK(tz_has(AR(p), "mail.example.com. 3600 IN A 1.2.3.5"));
	CHECK(tz_has(AR(p), "mail2.example.com. 3600 IN A 1.2.3.6"));
	ldns_pkt_free(p);

	p = tz_ask(db, "example.com.", LDNS_RR_TYPE_NS);
	CHECK(ldns_pkt_aa(p));
	CHECK_EQ_INT(NAN(p), 2);
	CHECK_EQ_INT(NAR(p), 3);
	CHECK(tz_has(AR(p), "ns1.example.com. 3600 IN A 1.2.3.1"));
	CHECK(tz_has(AR(p), "ns1.example.com. 3600 IN AAAA 2001:db8::1"));
	CHECK(tz_has(AR(p), "ns2.example.com. 3600 IN A 1.2.3.2"));
	ldns_pkt_free(p);

	p = tz_ask(db, "_sip._tcp.example.com.", LDNS_RR_TYPE_SRV);
	CHECK_EQ_INT(NAN(p), 1);
	CHECK_EQ_INT(NAR(p), 2);
	CHECK(tz_has(AR(p), "api.example.com. 300 IN A 1.2.3.10"));
	ldns_pkt_free(p);
}

static void
test_any_refused(void)
{
	ldns_pkt *p = tz_ask(db, "example.com.", LDNS_RR_TYPE_ANY);
	CHECK(ldns_pkt_aa(p));
	CHECK_EQ_INT(NAN(p), 1); /* RFC 8482: one RRset, the lowest type */
	CHECK(tz_has(AN(p), "example.com. 3600 IN A 1.2.3.4"));
	ldns_pkt_free(p);
	p = tz_ask(db, "www.example.com.", LDNS_RR_TYPE_ANY);
	CHECK_EQ_INT(NAN(p), 1);
	CHECK_EQ_INT(ldns_rr_get_type(ldns_rr_list_rr(AN(p), 0)),
	             LDNS_RR_TYPE_CNAME);
	ldns_pkt_free(p);
	p = tz_ask(db, "c.example.com.", LDNS_RR_TYPE_ANY);
	CHECK_EQ_INT(NAN(p), 0);
	CHECK_EQ_INT(NNS(p), 1);
	ldns_pkt_free(p);

	const char *out[] = { "www.example.org.", "com.", ".", "example.net." };
	for (size_t i = 0; i < 4; i++) {
		p = tz_ask(db, out[i], LDNS_RR_TYPE_A);
		CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
		CHECK(!ldns_pkt_aa(p));
		CHECK_EQ_INT(NAN(p) + NNS(p) + NAR(p), 0);
		CHECK_EQ_INT(ldns_pkt_qdcount(p), 1);
		ldns_pkt_free(p);
	}
	/* No zone at all. */
	p = tz_ask(NULL, "example.com.", LDNS_RR_TYPE_A);
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
}

static void
test_child_zone(void)
{
	/* The closest enclosing zone answers. */
	ldns_pkt *p = tz_ask(db, "www.sub.example.com.", LDNS_RR_TYPE_A);
	CHECK(ldns_pkt_aa(p));
	CHECK(tz_has(AN(p), "www.sub.example.com. 7200 IN A 1.2.3.51"));
	ldns_pkt_free(p);
	p = tz_ask(db, "nope.sub.example.com.", LDNS_RR_TYPE_A);
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	CHECK(ldns_pkt_aa(p));
	CHECK(tz_has(NS(p), "sub.example.com. 60 IN SOA ns.sub.example.com. "
	                    "admin.sub.example.com. 1 7200 3600 1209600 60"));
	ldns_pkt_free(p);
	p = tz_ask(db, "sub.example.com.", LDNS_RR_TYPE_NS);
	CHECK(ldns_pkt_aa(p));
	CHECK(tz_has(AN(p), "sub.example.com. 7200 IN NS ns.sub.example.com."));
	ldns_pkt_free(p);
	/* DS comes from the parent zone. */
	p = tz_ask(db, "sub.example.com.", LDNS_RR_TYPE_DS);
	CHECK(ldns_pkt_aa(p));
	CHECK_EQ_INT(NAN(p), 1);
	CHECK_EQ_INT(ldns_rr_get_type(ldns_rr_list_rr(AN(p), 0)),
	             LDNS_RR_TYPE_DS);
	ldns_pkt_free(p);
}

static void
test_truncation(void)
{
	struct tz_opts o = { 0 };
	ldns_pkt *p = tz_ask_opts(db, "big.example.com.", LDNS_RR_TYPE_TXT, &o);
	CHECK(ldns_pkt_tc(p));
	CHECK(ldns_pkt_aa(p));
	CHECK_EQ_INT(NAN(p), 0);
	CHECK_EQ_INT(ldns_pkt_qdcount(p), 1);
	CHECK(tz_outlen <= 512);
	ldns_pkt_free(p);

	o.edns = 1;
	o.bufsize = 1232;
	p = tz_ask_opts(db, "big.example.com.", LDNS_RR_TYPE_TXT, &o);
	CHECK(ldns_pkt_tc(p));
	CHECK(tz_outlen <= 1232);
	CHECK(ldns_pkt_edns(p));
	ldns_pkt_free(p);

	o.bufsize = 4096;
	p = tz_ask_opts(db, "big.example.com.", LDNS_RR_TYPE_TXT, &o);
	CHECK(!ldns_pkt_tc(p));
	CHECK_EQ_INT(NAN(p), 20);
	CHECK(tz_outlen > 1232 && tz_outlen <= 4096);
	ldns_pkt_free(p);

	struct tz_opts t = { .tcp = QUERY_TCP };
	p = tz_ask_opts(db, "big.example.com.", LDNS_RR_TYPE_TXT, &t);
	CHECK(!ldns_pkt_tc(p));
	CHECK_EQ_INT(NAN(p), 20);
	CHECK(!ldns_pkt_edns(p));
	ldns_pkt_free(p);
}

static void
test_edns(void)
{
	struct tz_opts o = { .edns = 1, .bufsize = 100, .do_bit = 1 };
	ldns_pkt *p = tz_ask_opts(db, "example.com.", LDNS_RR_TYPE_A, &o);
	CHECK(ldns_pkt_edns(p));
	CHECK_EQ_INT(ldns_pkt_edns_udp_size(p), 4096);
	CHECK(ldns_pkt_edns_do(p));
	CHECK_EQ_INT(ldns_pkt_edns_version(p), 0);
	CHECK_EQ_INT(NAN(p), 1);
	ldns_pkt_free(p);
	/* Payload 100 is read as 512: the big answer is truncated at 512. */
	p = tz_ask_opts(db, "big.example.com.", LDNS_RR_TYPE_TXT, &o);
	CHECK(ldns_pkt_tc(p));
	ldns_pkt_free(p);
	/* No OPT in, no OPT out; DO off echoes off. */
	struct tz_opts n = { 0 };
	p = tz_ask_opts(db, "example.com.", LDNS_RR_TYPE_A, &n);
	CHECK(!ldns_pkt_edns(p));
	ldns_pkt_free(p);
	o.do_bit = 0;
	o.bufsize = 65000; /* clamped to 4096 */
	p = tz_ask_opts(db, "example.com.", LDNS_RR_TYPE_A, &o);
	CHECK(!ldns_pkt_edns_do(p));
	CHECK(ldns_pkt_edns(p));
	ldns_pkt_free(p);
}

/* Additional data is dropped, not truncated, when the answer fits alone. */
static void
test_drop_additional(void)
{
	struct zonedb *d = tz_new();
	char name[64], rd[96];
	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "mx%02d-host-name.example.com.",
		         i);
		snprintf(rd, sizeof(rd), "%d %s", i, name);
		CHECK_EQ_INT(
		    zonedb_add_record(d, EX, "mx.example.com.", "MX", 60, rd),
		    0);
		CHECK_EQ_INT(
		    zonedb_add_record(d, EX, name, "AAAA", 60, "2001:db8::99"),
		    0);
	}
	zonedb_commit(d);
	struct tz_opts o = { 0 };
	ldns_pkt *p = tz_ask_opts(d, "mx.example.com.", LDNS_RR_TYPE_MX, &o);
	CHECK(!ldns_pkt_tc(p));
	CHECK_EQ_INT(NAN(p), 12);
	CHECK_EQ_INT(NAR(p), 0);
	ldns_pkt_free(p);
	o.tcp = QUERY_TCP;
	p = tz_ask_opts(d, "mx.example.com.", LDNS_RR_TYPE_MX, &o);
	CHECK_EQ_INT(NAN(p), 12);
	CHECK_EQ_INT(NAR(p), 12);
	ldns_pkt_free(p);
	zonedb_free(d);
}

static void
test_qclass_any(void)
{
	struct tz_opts o = { .qclass = LDNS_RR_CLASS_ANY };
	ldns_pkt *p = tz_ask_opts(db, "example.com.", LDNS_RR_TYPE_A, &o);
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CHECK_EQ_INT(NAN(p), 1);
	ldns_pkt_free(p);
	o.qclass = LDNS_RR_CLASS_CH;
	p = tz_ask_opts(db, "example.com.", LDNS_RR_TYPE_TXT, &o);
	CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
}

int
main(void)
{
	db = tz_new();
	RUN(test_apex_a);
	RUN(test_rrset);
	RUN(test_id_and_case);
	RUN(test_cname);
	RUN(test_cname_ends);
	RUN(test_negative);
	RUN(test_wildcard);
	RUN(test_referral);
	RUN(test_additional);
	RUN(test_any_refused);
	RUN(test_child_zone);
	RUN(test_truncation);
	RUN(test_edns);
	RUN(test_drop_additional);
	RUN(test_qclass_any);
	zonedb_free(db);
	return UNIT_DONE();
}
