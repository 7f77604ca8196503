/* Example zones and ldns-based query helpers shared by the dnsd tests. */
#ifndef DNSD_TESTZONE_H
#define DNSD_TESTZONE_H

#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "zonedb.h"

struct tz_rec {
	const char *zone, *owner, *type;
	int ttl;
	const char *rdata;
};

#define TZ_UNUSED __attribute__((unused))

#define EX        "example.com."
#define SUB       "sub.example.com."

/* Every behaviour of RFC 1034 4.3.2 that dnsd prepares has a name here. */
static const struct tz_rec tz_example[] = {
	{ EX, EX, "SOA", 3600,
	  "ns1.example.com. hostmaster.example.com. 2026112701 7200 3600 "
	  "1209600 300" },
	{ EX, EX, "NS", 3600, "ns1.example.com." },
	{ EX, EX, "NS", 3600, "ns2.example.com." },
	{ EX, EX, "MX", 3600, "10 mail.example.com." },
	{ EX, EX, "MX", 3600, "20 mail2.example.com." },
	{ EX, EX, "A", 3600, "1.2.3.4" },
	{ EX, EX, "AAAA", 3600, "2001:db8::4" },
	{ EX, EX, "TXT", 3600, "\"v=spf1 mx -all\"" },
	{ EX, "ns1.example.com.", "A", 3600, "1.2.3.1" },
	{ EX, "ns1.example.com.", "AAAA", 3600, "2001:db8::1" },
	{ EX, "ns2.example.com.", "A", 3600, "1.2.3.2" },
	{ EX, "mail.example.com.", "A", 3600, "1.2.3.5" },
	{ EX, "mail2.example.com.", "A", 3600, "1.2.3.6" },
	{ EX, "www.example.com.", "CNAME", 3600, "example.com." },
	{ EX, "ftp.example.com.", "CNAME", 3600, "www.example.com." },
	{ EX, "api.example.com.", "A", 300, "1.2.3.10" },
	{ EX, "api.example.com.", "A", 300, "1.2.3.11" },
	{ EX, "_sip._tcp.example.com.", "SRV", 3600,
	  "10 60 5060 api.example.com." },
	{ EX, "*.apps.example.com.", "A", 3600, "1.2.3.20" },
	{ EX, "host.apps.example.com.", "A", 3600, "9.9.9.9" },
	{ EX, "*.wild.example.com.", "CNAME", 3600, "www.example.com." },
	{ EX, "lab.example.com.", "NS", 3600, "ns.lab.example.com." },
	{ EX, "ns.lab.example.com.", "A", 3600, "1.2.3.30" },
	{ EX, "secure.example.com.", "NS", 3600, "ns.lab.example.com." },
	{ EX, "secure.example.com.", "DS", 3600,
	  "12345 8 2 "
	  "49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE8A4D2B6B5F6B2B7D4A2E8A1C" },
	{ EX, "loop1.example.com.", "CNAME", 3600, "loop2.example.com." },
	{ EX, "loop2.example.com.", "CNAME", 3600, "loop1.example.com." },
	{ EX, "dangling.example.com.", "CNAME", 3600, "nothere.example.com." },
	{ EX, "outside.example.com.", "CNAME", 3600, "www.example.org." },
	{ EX, "tolab.example.com.", "CNAME", 3600, "host.lab.example.com." },
	{ EX, "a.b.c.example.com.", "A", 3600, "1.2.3.40" },
	{ EX, "unknown.example.com.", "TYPE65534", 3600, "\\# 3 010203" },
	/* Delegation in the parent, and the child zone hosted too. */
	{ EX, SUB, "NS", 3600, "ns.sub.example.com." },
	{ EX, SUB, "DS", 3600,
	  "2371 13 2 "
	  "1F987CC6583E92DF0890718C42A4A1B0D3A1E2F45D2F0B1C3A7C3E5D9F0A1B2C" },
	{ EX, "ns.sub.example.com.", "A", 3600, "1.2.3.50" },
	{ SUB, SUB, "SOA", 7200,
	  "ns.sub.example.com. admin.sub.example.com. 1 7200 3600 1209600 "
	  "60" },
	{ SUB, SUB, "NS", 7200, "ns.sub.example.com." },
	{ SUB, "ns.sub.example.com.", "A", 7200, "1.2.3.50" },
	{ SUB, "www.sub.example.com.", "A", 7200, "1.2.3.51" },
};

/* Adds n big TXT records at big.example.com. (an answer over 512 bytes). */
static TZ_UNUSED void
tz_add_big(struct zonedb *db, int n)
{
	for (int i = 0; i < n; i++) {
		char txt[128];
		snprintf(txt, sizeof(txt),
		         "\"record %03d of a large rrset, padding padding "
		         "padding padding\"",
		         i);
		if (zonedb_add_record(db, EX, "big.example.com.", "TXT", 60,
		                      txt) != 0)
			abort();
	}
}

static TZ_UNUSED struct zonedb *
tz_new(void)
{
	struct zonedb *db = zonedb_new();
	for (size_t i = 0; i < sizeof(tz_example) / sizeof(tz_example[0]);
	     i++) {
		const struct tz_rec *r = &tz_example[i];
		if (zonedb_add_record(db, r->zone, r->owner, r->type, r->ttl,
		                      r->rdata) != 0) {
			fprintf(stderr, "bad test record %s %s\n", r->owner,
			        r->type);
			abort();
		}
	}
	tz_add_big(db, 20);
	zonedb_commit(db);
	return db;
}

struct tz_opts {
	int tcp;  /* QUERY_TCP */
	int edns; /* add an OPT */
	uint16_t bufsize;
	int do_bit;
	uint16_t id;
	uint16_t qclass; /* 0: IN */
};

/* Runs a query through query_process; raw response copied to raw/rawlen. */
static TZ_UNUSED int
tz_raw(const struct zonedb *db, const uint8_t *q, size_t qlen, int tcp,
       uint8_t *raw, size_t *rawlen)
{
	struct query_result res;
	int rv = query_process(db, q, qlen, tcp, NULL, raw, 65535, &res);
	*rawlen = rv == QUERY_DROP ? 0 : res.len;
	return rv;
}

static TZ_UNUSED uint8_t tz_out[65535];
static TZ_UNUSED size_t tz_outlen;

/* Asks name/type; returns the parsed response (NULL if dropped). */
static TZ_UNUSED ldns_pkt *
tz_ask_opts(const struct zonedb *db, const char *name, ldns_rr_type type,
            const struct tz_opts *o)
{
	ldns_pkt *q = NULL, *r = NULL;
	uint8_t *wire = NULL;
	size_t wlen;

	if (ldns_pkt_query_new_frm_str(&q, name, type,
	                               o->qclass ? o->qclass : LDNS_RR_CLASS_IN,
	                               LDNS_RD) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_set_id(q, o->id ? o->id : 0x1234);
	if (o->edns) {
		ldns_pkt_set_edns_udp_size(q, o->bufsize ? o->bufsize : 1232);
		ldns_pkt_set_edns_do(q, o->do_bit != 0);
		/* ldns only emits an OPT when something is set. */
		ldns_pkt_set_edns_data(
		    q, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, 0, ""));
	}
	if (ldns_pkt2wire(&wire, q, &wlen) != LDNS_STATUS_OK)
		abort();
	int rv = tz_raw(db, wire, wlen, o->tcp, tz_out, &tz_outlen);
	if (rv != QUERY_DROP &&
	    ldns_wire2pkt(&r, tz_out, tz_outlen) != LDNS_STATUS_OK) {
		fprintf(stderr, "unparsable response to %s\n", name);
		abort();
	}
	free(wire);
	ldns_pkt_free(q);
	return r;
}

static TZ_UNUSED ldns_pkt *
tz_ask(const struct zonedb *db, const char *name, ldns_rr_type type)
{
	struct tz_opts o = { 0 };
	return tz_ask_opts(db, name, type, &o);
}

/* Does the section hold this record ("owner ttl IN type rdata")? */
static TZ_UNUSED int
tz_has(const ldns_rr_list *sec, const char *rrstr)
{
	ldns_rr *want = NULL;
	int found = 0;

	if (ldns_rr_new_frm_str(&want, rrstr, 0, NULL, NULL) !=
	    LDNS_STATUS_OK) {
		fprintf(stderr, "bad expectation %s\n", rrstr);
		abort();
	}
	for (size_t i = 0; i < ldns_rr_list_rr_count(sec); i++) {
		ldns_rr *rr = ldns_rr_list_rr(sec, i);
		if (ldns_rr_compare(rr, want) == 0 &&
		    ldns_rr_ttl(rr) == ldns_rr_ttl(want))
			found = 1;
	}
	ldns_rr_free(want);
	return found;
}

/*
 * A query in wire form by hand: ID 0xABCD, flags, one question (qname in
 * wire form, qtype, IN) and an OPT (payload 4096) whose rdata is the olen
 * bytes of opt. Returns its length.
 */
static TZ_UNUSED size_t
tz_query_opt(uint8_t *q, const char *qname, size_t qnamelen, uint16_t qtype,
             uint16_t flags, const uint8_t *opt, size_t olen)
{
	static const uint8_t head[12] = { 0xAB, 0xCD, 0, 0, 0, 1,
		                          0,    0,    0, 0, 0, 1 };
	static const uint8_t opthead[9] = { 0, 0, 41, 0x10, 0, 0, 0, 0, 0 };
	size_t n = 12;

	memcpy(q, head, 12);
	q[2] = (uint8_t)(flags >> 8);
	q[3] = (uint8_t)flags;
	memcpy(q + n, qname, qnamelen);
	n += qnamelen;
	q[n++] = (uint8_t)(qtype >> 8);
	q[n++] = (uint8_t)qtype;
	q[n++] = 0;
	q[n++] = 1;
	memcpy(q + n, opthead, sizeof(opthead));
	n += sizeof(opthead);
	q[n++] = (uint8_t)(olen >> 8);
	q[n++] = (uint8_t)olen;
	if (olen > 0)
		memcpy(q + n, opt, olen);
	return n + olen;
}

/*
 * A COOKIE option (code 10) of len data bytes into o: the client cookie
 * "clientck" (cut short if len < 8), then server (len - 8 bytes), or
 * filler if server is NULL. Returns the option's size.
 */
static TZ_UNUSED size_t
tz_cookie_opt(uint8_t *o, size_t len, const uint8_t *server)
{
	o[0] = 0;
	o[1] = 10;
	o[2] = (uint8_t)(len >> 8);
	o[3] = (uint8_t)len;
	memcpy(o + 4, "clientck", len < 8 ? len : 8);
	for (size_t i = 8; i < len; i++)
		o[4 + i] = server ? server[i - 8] : (uint8_t)i;
	return 4 + len;
}

/*
 * The 16-byte server cookie of a reply whose OPT record is last and holds
 * one COOKIE option echoing "clientck" (as dnsd sends them); NULL if the
 * reply has no such option.
 */
static TZ_UNUSED const uint8_t *
tz_reply_cookie(const uint8_t *r, size_t len)
{
	const uint8_t *o;

	if (len < 12 + 39)
		return NULL;
	o = r + len - 39;
	if (o[0] != 0 || o[1] != 0 || o[2] != 41 || o[9] != 0 || o[10] != 28 ||
	    o[11] != 0 || o[12] != 10 || o[13] != 0 || o[14] != 24 ||
	    memcmp(o + 15, "clientck", 8) != 0)
		return NULL;
	return o + 23;
}

#define AN(p)  ldns_pkt_answer(p)
#define NS(p)  ldns_pkt_authority(p)
#define AR(p)  ldns_pkt_additional(p)
#define NAN(p) ldns_pkt_ancount(p)
#define NNS(p) ldns_pkt_nscount(p)
#define NAR(p) ldns_pkt_arcount(p)

#endif
