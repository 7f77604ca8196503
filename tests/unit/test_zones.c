/* store: record and zone commands, serials, effects, record reads. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "effects.h"
#include "err.h"
#include "log.h"
#include "rr.h"
#include "soa.h"
#include "store.h"
#include "unit.h"
#include "unit_cmd.h"
#include "zoneset.h"

static char tmpdir[64];

#define SOA_RDATA(serial)                                               \
	"ns1.example.com. hostmaster.example.com. " serial " 3600 900 " \
	"604800 300"

/* The last result, with its effects decoded as text. */
static struct {
	struct store_result res;
	char reason[600];
	char effects[1 << 20]; /* "+zone owner TYPE ttl rdata\n" or "-..." */
	size_t neffects;
} last;

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

/* Decodes an effects list into last.effects. */
static void
decode_effects(const uint8_t *p, size_t len)
{
	size_t off = 0, n = 0;

	last.effects[0] = '\0';
	last.neffects = 0;
	while (off < len) {
		struct dr_cmd c;
		uint32_t body;
		size_t total;

		CHECK(len - off >= 8);
		if (len - off < 8)
			return;
		body = (uint32_t)p[off + 4] << 24 | (uint32_t)p[off + 5] << 16 |
		       (uint32_t)p[off + 6] << 8 | p[off + 7];
		total = (8 + (size_t)body + 7) / 8 * 8;
		CHECK(total <= len - off);
		if (total > len - off ||
		    dr_cmd_decode(p + off, total, &c) != 0) {
			CHECK(!"effects do not decode");
			return;
		}
		if (c.type == DR_CMD_RR_ADD)
			n += (size_t)snprintf(
			    last.effects + n, sizeof(last.effects) - n,
			    "+%.*s %.*s %.*s %.*s %.*s\n", (int)c.args[0].len,
			    c.args[0].p, (int)c.args[1].len, c.args[1].p,
			    (int)c.args[2].len, c.args[2].p, (int)c.args[3].len,
			    c.args[3].p, (int)c.args[4].len, c.args[4].p);
		else if (c.type == DR_CMD_RR_DEL)
			n += (size_t)snprintf(
			    last.effects + n, sizeof(last.effects) - n,
			    "-%.*s %.*s %.*s %.*s\n", (int)c.args[0].len,
			    c.args[0].p, (int)c.args[1].len, c.args[1].p,
			    (int)c.args[2].len, c.args[2].p, (int)c.args[3].len,
			    c.args[3].p);
		else
			CHECK(!"effect is neither RR_ADD nor RR_DEL");
		CHECK(n < sizeof(last.effects));
		if (n >= sizeof(last.effects))
			return;
		last.neffects++;
		off += total;
	}
}

static enum store_outcome
apply_args(struct store *s, uint64_t index, unsigned type, unsigned nargs,
           const char **args)
{
	struct dr_buf b;

	dr_buf_init(&b);
	unit_cmd_encode(type, nargs, args, &b);
	CHECK_EQ_INT(store_apply(s, index, b.data, b.len, &last.res), 0);
	snprintf(last.reason, sizeof(last.reason), "%s", last.res.reason);
	decode_effects(last.res.effects, last.res.effects_len);
	dr_buf_close(&b);
	return last.res.outcome;
}

static enum store_outcome
rr_add(struct store *s, uint64_t index, const char *zone, const char *owner,
       const char *type, const char *ttl, const char *rdata)
{
	const char *args[] = { zone, owner, type, ttl, rdata };

	return apply_args(s, index, DR_CMD_RR_ADD, 5, args);
}

static enum store_outcome
rr_del(struct store *s, uint64_t index, const char *zone, const char *owner,
       const char *type, const char *rdata)
{
	const char *args[] = { zone, owner, type, rdata };

	return apply_args(s, index, DR_CMD_RR_DEL, 4, args);
}

static enum store_outcome
replace(struct store *s, uint64_t index, const char *zone, const char *text)
{
	const char *args[] = { zone, "test.zone", text };

	return apply_args(s, index, DR_CMD_ZONE_REPLACE, 3, args);
}

static enum store_outcome
zone_del(struct store *s, uint64_t index, const char *zone)
{
	const char *args[] = { zone };

	return apply_args(s, index, DR_CMD_ZONE_DEL, 1, args);
}

/* The zone's serial from zones (-1 if no zone), checked against its SOA. */
static long long
serial(struct store *s, const char *zone)
{
	struct dr_buf b;
	char want[300], *line, *save = NULL;
	long long rv = -1;

	dr_buf_init(&b);
	if (store_zone_list(s, &b) == 0) {
		dr_buf_put(&b, "", 1);
		for (line = strtok_r((char *)b.data, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char name[256];
			long long ser, n;

			if (sscanf(line, "%255s %lld %lld", name, &ser, &n) ==
			        3 &&
			    strcmp(name, zone) == 0)
				rv = ser;
		}
	}
	dr_buf_reset(&b);
	if (rv >= 0) {
		/* The SOA row carries the same serial. */
		CHECK_EQ_INT(store_rr_get(s, zone, "SOA", &b), 0);
		dr_buf_put(&b, "", 1);
		snprintf(want, sizeof(want), " %lld ", rv);
		CHECK(b.data != NULL && strstr((char *)b.data, want) != NULL);
	}
	dr_buf_close(&b);
	return rv;
}

/* rr get as text ("" when not found). Static buffer. */
static const char *
get(struct store *s, const char *name, const char *type)
{
	static char out[65536];
	struct dr_buf b;
	int rv;

	dr_buf_init(&b);
	rv = store_rr_get(s, name, type, &b);
	snprintf(out, sizeof(out), "%.*s", (int)b.len,
	         b.len ? (char *)b.data : "");
	CHECK(rv == 0 || rv == DR_ENOTFOUND);
	dr_buf_close(&b);
	return out;
}

/* zone dump as text ("" when not found). Static buffer. */
static const char *
dump(struct store *s, const char *zone)
{
	static char out[65536];
	struct dr_buf b;

	dr_buf_init(&b);
	store_zone_dump(s, zone, &b);
	snprintf(out, sizeof(out), "%.*s", (int)b.len,
	         b.len ? (char *)b.data : "");
	dr_buf_close(&b);
	return out;
}

static const char zone1[] = "example.com. 3600 SOA " SOA_RDATA(
    "10") "\n"
          "example.com. 3600 NS ns1.example.com.\n"
          "ns1.example.com. 3600 A 192.0.2.1\n"
          "www.example.com. 300 A 192.0.2.10\n"
          "www.example.com. 300 A 192.0.2.11\n"
          "mail.example.com. 3600 MX 10 mx.example.com.\n"
          "alias.example.com. 3600 CNAME www.example.com.\n";

static void
test_rr_add_del(void)
{
	struct store *s = open_db("rr");
	uint64_t seq;

	/* Records need their zone; an SOA at the apex creates it. */
	CHECK_EQ_INT(rr_add(s, 1, "example.com.", "www.example.com.", "A",
	                    "300", "192.0.2.1"),
	             STORE_REJECTED);
	CHECK_EQ_STR(last.reason, "zone example.com. does not exist");
	CHECK_EQ_INT(last.res.effects_len, 0);
	CHECK_EQ_INT(rr_add(s, 2, "example.com.", "example.com.", "SOA", "3600",
	                    SOA_RDATA("7")),
	             STORE_APPLIED);
	CHECK_EQ_STR(
	    last.effects,
	    "+example.com. example.com. SOA 3600 " SOA_RDATA("7") "\n");
	CHECK_EQ_INT(serial(s, "example.com."), 7);

	/* A new record: the record, then the SOA rewrite. */
	CHECK_EQ_INT(rr_add(s, 3, "example.com.", "www.example.com.", "A",
	                    "300", "192.0.2.1"),
	             STORE_APPLIED);
	CHECK_EQ_STR(last.effects,
	             "+example.com. www.example.com. A 300 192.0.2.1\n"
	             "-example.com. example.com. SOA " SOA_RDATA(
	                 "7") "\n"
	                      "+example.com. example.com. SOA 3600 " SOA_RDATA(
	                          "8") "\n");
	CHECK_EQ_INT(serial(s, "example.com."), 8);
	CHECK_EQ_STR(get(s, "www.example.com.", "A"),
	             "www.example.com. 300 A 192.0.2.1\n");

	/* The same record again: nothing changes, not even the serial. */
	seq = store_change_seq(s);
	CHECK_EQ_INT(rr_add(s, 4, "example.com.", "www.example.com.", "A",
	                    "300", "192.0.2.1"),
	             STORE_APPLIED);
	CHECK_EQ_INT(last.res.effects_len, 0);
	CHECK(!last.res.reload);
	CHECK_EQ_INT(serial(s, "example.com."), 8);
	CHECK_EQ_INT(store_change_seq(s), seq + 1); /* still one seq */

	/* Another TTL: updated, as a delete and an add. */
	CHECK_EQ_INT(rr_add(s, 5, "example.com.", "www.example.com.", "A",
	                    "600", "192.0.2.1"),
	             STORE_APPLIED);
	CHECK_EQ_STR(last.effects,
	             "-example.com. www.example.com. A 192.0.2.1\n"
	             "+example.com. www.example.com. A 600 192.0.2.1\n"
	             "-example.com. example.com. SOA " SOA_RDATA(
	                 "8") "\n"
	                      "+example.com. example.com. SOA 3600 " SOA_RDATA(
	                          "9") "\n");
	CHECK_EQ_STR(get(s, "www.example.com.", ""),
	             "www.example.com. 600 A 192.0.2.1\n");

	/* Delete: gone, serial bumped; again: not found, no change. */
	CHECK_EQ_INT(
	    rr_del(s, 6, "example.com.", "www.example.com.", "A", "192.0.2.1"),
	    STORE_APPLIED);
	CHECK_EQ_STR(last.effects,
	             "-example.com. www.example.com. A 192.0.2.1\n"
	             "-example.com. example.com. SOA " SOA_RDATA(
	                 "9") "\n"
	                      "+example.com. example.com. SOA 3600 " SOA_RDATA(
	                          "10") "\n");
	CHECK_EQ_STR(get(s, "www.example.com.", "A"), "");
	CHECK_EQ_INT(
	    rr_del(s, 7, "example.com.", "www.example.com.", "A", "192.0.2.1"),
	    STORE_REJECTED);
	CHECK_EQ_STR(last.reason, "not found");
	CHECK_EQ_INT(last.res.effects_len, 0);
	CHECK_EQ_INT(serial(s, "example.com."), 10);
	CHECK_EQ_INT(
	    rr_del(s, 8, "other.com.", "www.other.com.", "A", "192.0.2.1"),
	    STORE_REJECTED);
	CHECK_EQ_STR(last.reason, "zone other.com. does not exist");

	/* The SOA cannot be deleted alone. */
	CHECK_EQ_INT(rr_del(s, 9, "example.com.", "example.com.", "SOA",
	                    SOA_RDATA("10")),
	             STORE_REJECTED);
	CHECK(strstr(last.reason, "delete the zone instead") != NULL);
	CHECK_EQ_INT(serial(s, "example.com."), 10);
	CHECK_EQ_INT(store_applied_index(s), 9);
	store_close(s);
}

static void
test_rr_add_invalid(void)
{
	struct store *s = open_db("invalid");
	struct {
		const char *zone, *owner, *type, *ttl, *rdata, *why;
	} bad[] = {
		{ "Example.com.", "www.example.com.", "A", "1", "192.0.2.1",
		  "invalid zone name" },
		{ "example.com", "www.example.com.", "A", "1", "192.0.2.1",
		  "invalid zone name" },
		{ "", "www.example.com.", "A", "1", "192.0.2.1",
		  "invalid zone name" },
		{ "example.com.", "WWW.example.com.", "A", "1", "192.0.2.1",
		  "malformed record" },
		{ "example.com.", "www.example.com", "A", "1", "192.0.2.1",
		  "malformed record" },
		{ "example.com.", "www example.com.", "A", "1", "192.0.2.1",
		  "malformed record" },
		{ "example.com.", "www.example.com.", "A", "-1", "192.0.2.1",
		  "malformed record" },
		{ "example.com.", "www.example.com.", "A", "2147483648",
		  "192.0.2.1", "malformed record" },
		{ "example.com.", "www.example.com.", "a", "1", "192.0.2.1",
		  "malformed record" },
		{ "example.com.", "www.example.com.", "A", "1", "192.0.2.300",
		  NULL },
		{ "example.com.", "www.example.com.", "A", "1", "",
		  "malformed record" },
		{ "example.com.", "www.example.com.", "AAAA", "1",
		  "2001:DB8::1", "record not in canonical form" },
		{ "example.com.", "www.example.org.", "A", "1", "192.0.2.1",
		  "www.example.org. is outside the zone example.com." },
		{ "example.com.", "badexample.com.", "A", "1", "192.0.2.1",
		  "badexample.com. is outside the zone example.com." },
		{ "example.com.", "www.example.com.", "SOA", "1",
		  SOA_RDATA("1"), "SOA record only at the zone apex" },
		{ "example.com.", "www.example.com.", "A", "1",
		  "192.0.2.1\n1.2.3.4", NULL },
	};
	uint64_t i;

	CHECK_EQ_INT(replace(s, 1, "example.com.", zone1), STORE_APPLIED);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(rr_add(s, i + 2, bad[i].zone, bad[i].owner,
		                    bad[i].type, bad[i].ttl, bad[i].rdata),
		             STORE_REJECTED);
		if (bad[i].why != NULL)
			CHECK(strncmp(last.reason, bad[i].why,
			              strlen(bad[i].why)) == 0);
		CHECK(last.reason[0] != '\0');
	}
	CHECK_EQ_INT(serial(s, "example.com."), 10);
	CHECK_EQ_STR(get(s, "www.example.com.", ""),
	             "www.example.com. 300 A 192.0.2.10\n"
	             "www.example.com. 300 A 192.0.2.11\n");
	store_close(s);
}

static void
test_cname_conflicts(void)
{
	struct store *s = open_db("cname");

	CHECK_EQ_INT(replace(s, 1, "example.com.", zone1), STORE_APPLIED);
	/* CNAME next to an A, an A next to a CNAME: both refused. */
	CHECK_EQ_INT(rr_add(s, 2, "example.com.", "www.example.com.", "CNAME",
	                    "300", "ns1.example.com."),
	             STORE_REJECTED);
	CHECK_EQ_STR(last.reason, "CNAME and other data at www.example.com.");
	CHECK_EQ_INT(rr_add(s, 3, "example.com.", "alias.example.com.", "A",
	                    "300", "192.0.2.9"),
	             STORE_REJECTED);
	CHECK_EQ_STR(last.reason, "CNAME and other data at alias.example.com.");
	/* A second, different CNAME is other data too. */
	CHECK_EQ_INT(rr_add(s, 4, "example.com.", "alias.example.com.", "CNAME",
	                    "3600", "ns1.example.com."),
	             STORE_REJECTED);
	/* At the apex the SOA is there. */
	CHECK_EQ_INT(rr_add(s, 5, "example.com.", "example.com.", "CNAME",
	                    "3600", "www.example.com."),
	             STORE_REJECTED);
	CHECK_EQ_INT(serial(s, "example.com."), 10);
	/* The same CNAME with another TTL is fine. */
	CHECK_EQ_INT(rr_add(s, 6, "example.com.", "alias.example.com.", "CNAME",
	                    "60", "www.example.com."),
	             STORE_APPLIED);
	CHECK_EQ_STR(get(s, "alias.example.com.", ""),
	             "alias.example.com. 60 CNAME www.example.com.\n");
	CHECK_EQ_INT(serial(s, "example.com."), 11);
	store_close(s);
}

/* An SOA added to an existing zone replaces the SOA. */
static void
test_soa_add(void)
{
	struct store *s = open_db("soa");

	CHECK_EQ_INT(replace(s, 1, "example.com.", zone1), STORE_APPLIED);
	/* Only the serial differs: nothing changes. */
	CHECK_EQ_INT(rr_add(s, 2, "example.com.", "example.com.", "SOA", "3600",
	                    SOA_RDATA("500")),
	             STORE_APPLIED);
	CHECK_EQ_INT(last.res.effects_len, 0);
	CHECK_EQ_INT(serial(s, "example.com."), 10);
	/* New refresh and a newer serial: that serial is taken. */
	CHECK_EQ_INT(rr_add(s, 3, "example.com.", "example.com.", "SOA", "3600",
	                    "ns1.example.com. hostmaster.example.com. 500 "
	                    "7200 900 604800 300"),
	             STORE_APPLIED);
	CHECK_EQ_STR(
	    last.effects,
	    "-example.com. example.com. SOA " SOA_RDATA(
	        "10") "\n"
	              "+example.com. example.com. SOA 3600 ns1.example.com. "
	              "hostmaster.example.com. 500 7200 900 604800 300\n");
	CHECK_EQ_INT(serial(s, "example.com."), 500);
	/* An older serial with a change: old + 1. One SOA only. */
	CHECK_EQ_INT(rr_add(s, 4, "example.com.", "example.com.", "SOA", "60",
	                    SOA_RDATA("3")),
	             STORE_APPLIED);
	CHECK_EQ_STR(get(s, "example.com.", "SOA"),
	             "example.com. 60 SOA " SOA_RDATA("501") "\n");
	store_close(s);
}

/* RFC 1982: the file's serial when newer, else old + 1; never back. */
static void
test_serial_arithmetic(void)
{
	struct store *s = open_db("serial");
	char text[1024];

	CHECK_EQ_INT(rr_add(s, 1, "example.com.", "example.com.", "SOA", "3600",
	                    SOA_RDATA("4294967295")),
	             STORE_APPLIED);
	CHECK_EQ_INT(serial(s, "example.com."), 4294967295ll);
	/* old + 1 wraps to 0. */
	CHECK_EQ_INT(rr_add(s, 2, "example.com.", "a.example.com.", "A", "1",
	                    "192.0.2.1"),
	             STORE_APPLIED);
	CHECK_EQ_INT(serial(s, "example.com."), 0);
	/* 5 is newer than 0; 4294967290 is older than 5 (wraps back). */
	snprintf(text, sizeof(text),
	         "example.com. 3600 SOA %s\nb.example.com. 1 A 192.0.2.2\n",
	         SOA_RDATA("5"));
	CHECK_EQ_INT(replace(s, 3, "example.com.", text), STORE_APPLIED);
	CHECK_EQ_INT(serial(s, "example.com."), 5);
	snprintf(text, sizeof(text),
	         "example.com. 3600 SOA %s\nc.example.com. 1 A 192.0.2.2\n",
	         SOA_RDATA("4294967290"));
	CHECK_EQ_INT(replace(s, 4, "example.com.", text), STORE_APPLIED);
	CHECK_EQ_INT(serial(s, "example.com."), 6);
	/* Exactly 2^31 ahead is undefined: not newer. */
	snprintf(text, sizeof(text),
	         "example.com. 3600 SOA %s\nd.example.com. 1 A 192.0.2.2\n",
	         SOA_RDATA("2147483654"));
	CHECK_EQ_INT(replace(s, 5, "example.com.", text), STORE_APPLIED);
	CHECK_EQ_INT(serial(s, "example.com."), 7);
	/* Less than 2^31 ahead: newer. */
	snprintf(text, sizeof(text),
	         "example.com. 3600 SOA %s\ne.example.com. 1 A 192.0.2.2\n",
	         SOA_RDATA("2147483654"));
	CHECK_EQ_INT(replace(s, 6, "example.com.", text), STORE_APPLIED);
	CHECK_EQ_INT(serial(s, "example.com."), 2147483654ll);
	store_close(s);
}

static void
test_replace_diff(void)
{
	struct store *s = open_db("replace");
	static const char zone2[] = "example.com. 3600 SOA " SOA_RDATA(
	    "10") "\n"
	          "example.com. 3600 NS ns1.example.com.\n"
	          "ns1.example.com. 3600 A 192.0.2.1\n"
	          "www.example.com. 300 A 192.0.2.10\n"
	          "www.example.com. 60 A 192.0.2.12\n"
	          "mail.example.com. 7200 MX 10 mx.example.com.\n"
	          "alias.example.com. 3600 CNAME www.example.com.\n";

	CHECK_EQ_INT(replace(s, 1, "example.com.", zone1), STORE_APPLIED);
	CHECK_EQ_INT(last.neffects, 7); /* SOA first, then in key order */
	CHECK(
	    strncmp(last.effects,
	            "+example.com. example.com. SOA 3600 " SOA_RDATA("10") "\n",
	            strlen("+example.com. example.com. SOA 3600 " SOA_RDATA(
	                "10") "\n")) == 0);
	CHECK_EQ_INT(serial(s, "example.com."), 10);

	/* One record removed, one added, one TTL changed. */
	CHECK_EQ_INT(replace(s, 2, "example.com.", zone2), STORE_APPLIED);
	CHECK_EQ_STR(
	    last.effects,
	    "-example.com. www.example.com. A 192.0.2.11\n"
	    "-example.com. mail.example.com. MX 10 mx.example.com.\n"
	    "+example.com. mail.example.com. MX 7200 10 mx.example.com.\n"
	    "+example.com. www.example.com. A 60 192.0.2.12\n"
	    "-example.com. example.com. SOA " SOA_RDATA(
	        "10") "\n"
	              "+example.com. example.com. SOA 3600 " SOA_RDATA(
	                  "11") "\n");
	CHECK_EQ_INT(serial(s, "example.com."), 11);
	CHECK_EQ_STR(get(s, "www.example.com.", "A"),
	             "www.example.com. 300 A 192.0.2.10\n"
	             "www.example.com. 60 A 192.0.2.12\n");
	CHECK_EQ_STR(get(s, "mail.example.com.", "MX"),
	             "mail.example.com. 7200 MX 10 mx.example.com.\n");

	/* Unchanged: no effects, same serial, whatever the file's serial. */
	CHECK_EQ_INT(replace(s, 3, "example.com.", zone2), STORE_APPLIED);
	CHECK_EQ_INT(last.res.effects_len, 0);
	CHECK_EQ_INT(serial(s, "example.com."), 11);
	{
		char text[2048];

		snprintf(text, sizeof(text), "%s%s",
		         "example.com. 3600 SOA " SOA_RDATA("99") "\n",
		         strchr(zone2, '\n') + 1);
		CHECK_EQ_INT(replace(s, 4, "example.com.", text),
		             STORE_APPLIED);
		CHECK_EQ_INT(last.res.effects_len, 0);
		CHECK_EQ_INT(serial(s, "example.com."), 11);
	}
	/* Lines in another order and repeated: still the same zone. */
	CHECK_EQ_INT(replace(s, 5, "example.com.",
	                     "www.example.com. 60 A 192.0.2.12\n"
	                     "alias.example.com. 3600 CNAME www.example.com.\n"
	                     "mail.example.com. 7200 MX 10 mx.example.com.\n"
	                     "example.com. 3600 NS ns1.example.com.\n"
	                     "example.com. 3600 SOA " SOA_RDATA(
	                         "1") "\n"
	                              "www.example.com. 300 A 192.0.2.10\n"
	                              "ns1.example.com. 3600 A 192.0.2.1\n"
	                              "www.example.com. 300 A 192.0.2.10\n"),
	             STORE_APPLIED);
	CHECK_EQ_INT(last.res.effects_len, 0);
	CHECK_EQ_INT(serial(s, "example.com."), 11);

	/* Only the SOA changes (not its serial): a change. */
	{
		char text[2048];

		snprintf(text, sizeof(text), "%s%s",
		         "example.com. 60 SOA " SOA_RDATA("11") "\n",
		         strchr(zone2, '\n') + 1);
		CHECK_EQ_INT(replace(s, 6, "example.com.", text),
		             STORE_APPLIED);
		CHECK_EQ_STR(last.effects,
		             "-example.com. example.com. SOA " SOA_RDATA(
		                 "11") "\n+example.com. example.com. SOA "
		                       "60 " SOA_RDATA("12") "\n");
	}
	/* A newer serial with a change is taken as is. */
	{
		char text[2048];

		snprintf(text, sizeof(text), "%s%s",
		         "example.com. 60 SOA " SOA_RDATA("2024010101") "\n",
		         strchr(strchr(zone2, '\n') + 1, '\n') + 1);
		CHECK_EQ_INT(replace(s, 7, "example.com.", text),
		             STORE_APPLIED);
		CHECK_EQ_INT(serial(s, "example.com."), 2024010101ll);
		CHECK_EQ_STR(get(s, "example.com.", "NS"), "");
	}
	/* Replace with almost nothing: everything but the SOA goes. */
	CHECK_EQ_INT(replace(s, 8, "example.com.",
	                     "example.com. 60 SOA " SOA_RDATA("1") "\n"),
	             STORE_APPLIED);
	CHECK_EQ_INT(serial(s, "example.com."), 2024010102ll);
	CHECK_EQ_STR(dump(s, "example.com."),
	             "example.com. 60 IN SOA " SOA_RDATA("2024010102") "\n");
	store_close(s);
}

/* zones.digest1 of a zone as another connection sees it: 1 set, 0 NULL. */
static int
digest_set(const char *dbname, const char *zone)
{
	char path[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	int rv = -1;

	snprintf(path, sizeof(path), "%s/%s.db", tmpdir, dbname);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
	        SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT digest1 FROM zones WHERE name = ?1",
	                       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, zone, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			rv = sqlite3_column_type(st, 0) != SQLITE_NULL;
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return rv;
}

/*
 * The digest shortcut for an unchanged replace: any other change voids
 * it, so the same file then puts the zone back the way it says.
 */
static void
test_replace_digest(void)
{
	struct store *s = open_db("digest");
	char before[65536];

	CHECK_EQ_INT(replace(s, 1, "example.com.", zone1), STORE_APPLIED);
	CHECK_EQ_INT(store_commit(s), 0);
	CHECK_EQ_INT(digest_set("digest", "example.com."), 1);
	snprintf(before, sizeof(before), "%s", dump(s, "example.com."));

	/* An rr add voids it; the file then takes the record away. */
	CHECK_EQ_INT(rr_add(s, 2, "example.com.", "x.example.com.", "A", "60",
	                    "192.0.2.7"),
	             STORE_APPLIED);
	CHECK_EQ_INT(store_commit(s), 0);
	CHECK_EQ_INT(digest_set("digest", "example.com."), 0);
	CHECK_EQ_INT(replace(s, 3, "example.com.", zone1), STORE_APPLIED);
	CHECK_EQ_STR(last.effects,
	             "-example.com. x.example.com. A 192.0.2.7\n"
	             "-example.com. example.com. SOA " SOA_RDATA(
	                 "11") "\n"
	                       "+example.com. example.com. SOA 3600 " SOA_RDATA(
	                           "12") "\n");
	CHECK_EQ_INT(store_commit(s), 0);
	CHECK_EQ_INT(digest_set("digest", "example.com."), 1);

	/* Same with an rr del and with a new SOA. */
	CHECK_EQ_INT(
	    rr_del(s, 4, "example.com.", "www.example.com.", "A", "192.0.2.10"),
	    STORE_APPLIED);
	CHECK_EQ_INT(replace(s, 5, "example.com.", zone1), STORE_APPLIED);
	CHECK_EQ_INT(last.neffects, 3);
	CHECK_EQ_STR(get(s, "www.example.com.", "A"),
	             "www.example.com. 300 A 192.0.2.10\n"
	             "www.example.com. 300 A 192.0.2.11\n");
	CHECK_EQ_INT(rr_add(s, 6, "example.com.", "example.com.", "SOA", "60",
	                    SOA_RDATA("1")),
	             STORE_APPLIED);
	CHECK_EQ_INT(replace(s, 7, "example.com.", zone1), STORE_APPLIED);
	CHECK_EQ_STR(get(s, "example.com.", "SOA"),
	             "example.com. 3600 SOA " SOA_RDATA("16") "\n");

	/* Unchanged through the digest: any order, any serial in the file. */
	CHECK_EQ_INT(
	    replace(s, 8, "example.com.",
	            "alias.example.com. 3600 CNAME www.example.com.\n"
	            "mail.example.com. 3600 MX 10 mx.example.com.\n"
	            "www.example.com. 300 A 192.0.2.11\n"
	            "www.example.com. 300 A 192.0.2.10\n"
	            "ns1.example.com. 3600 A 192.0.2.1\n"
	            "example.com. 3600 NS ns1.example.com.\n"
	            "example.com. 3600 SOA " SOA_RDATA("4000000000") "\n"),
	    STORE_APPLIED);
	CHECK_EQ_INT(last.res.effects_len, 0);
	CHECK_EQ_INT(serial(s, "example.com."), 16);
	/* A repeated line misses the digest; the full diff finds no change. */
	{
		char text[4096];

		snprintf(text, sizeof(text), "%s%s", zone1,
		         "www.example.com. 300 A 192.0.2.10\n");
		CHECK_EQ_INT(replace(s, 9, "example.com.", text),
		             STORE_APPLIED);
		CHECK_EQ_INT(last.res.effects_len, 0);
	}
	/* A lookalike with one TTL changed is a change. */
	{
		char text[4096], *p;

		snprintf(text, sizeof(text), "%s", zone1);
		p = strstr(text, "ns1.example.com. 3600 A");
		memcpy(p, "ns1.example.com. 3601 A", 23);
		CHECK_EQ_INT(replace(s, 10, "example.com.", text),
		             STORE_APPLIED);
		CHECK_EQ_INT(last.neffects, 4);
	}
	/* A deleted zone is created anew by the same file. */
	CHECK_EQ_INT(zone_del(s, 11, "example.com."), STORE_APPLIED);
	CHECK_EQ_INT(replace(s, 12, "example.com.", zone1), STORE_APPLIED);
	CHECK_EQ_INT(last.neffects, 7);
	CHECK_EQ_INT(serial(s, "example.com."), 10);
	CHECK_EQ_STR(dump(s, "example.com."), before);
	store_close(s);
}

/* Any bad line rejects the whole replace, naming the line. */
static void
test_replace_rejects(void)
{
	struct store *s = open_db("rejects");
	char before[65536];
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "example.com. 3600 SOA " SOA_RDATA(
		      "1") "\n"
		           "www.example.com. 300 A 192.0.2.1\n"
		           "www.example.com. 300 A 192.0.2.256\n",
		  "line 3: " },
		{ "example.com. 3600 SOA " SOA_RDATA(
		      "1") "\n"
		           "WWW.example.com. 300 A 192.0.2.1\n",
		  "line 2: malformed record line" },
		{ "example.com. 3600 SOA " SOA_RDATA(
		      "1") "\n"
		           "www.example.com. 300 AAAA 2001:db8:0::1\n",
		  "line 2: record not in canonical form" },
		{ "example.com. 3600 SOA " SOA_RDATA(
		      "1") "\n"
		           "\n"
		           "www.example.com. 300 A 192.0.2.1\n",
		  "line 2: malformed record line" },
		{ "example.com. 3600 SOA " SOA_RDATA(
		      "1") "\n"
		           "www.example.org. 300 A 192.0.2.1\n",
		  "line 2: www.example.org. is outside the zone example.com." },
		{ "example.com. 3600 SOA " SOA_RDATA(
		      "1") "\n"
		           "example.com. 3600 SOA " SOA_RDATA("2") "\n",
		  "line 2: a second SOA record" },
		{ "www.example.com. 300 A 192.0.2.1\n",
		  "no SOA record at the apex example.com." },
		{ "", "no SOA record at the apex example.com." },
		{ "sub.example.com. 3600 SOA " SOA_RDATA("1") "\n",
		  "line 1: SOA record not at the apex" },
		{ "example.com. 3600 SOA " SOA_RDATA(
		      "1") "\n"
		           "www.example.com. 300 A 192.0.2.1\n"
		           "a.example.com. 300 A 192.0.2.1\n"
		           "www.example.com. 300 CNAME a.example.com.\n",
		  "line 4: CNAME and other data at www.example.com." },
		{ "example.com. 3600 SOA " SOA_RDATA(
		      "1") "\n"
		           "example.com. 300 CNAME a.example.com.\n",
		  "line 2: CNAME and other data at example.com." },
		{ "example.com. 3600 SOA ns1.example.com. "
		  "hostmaster.example.com. x 3600 900 604800 300\n",
		  "line 1: " },
		{ "example.com. 3600 SOA " SOA_RDATA(
		      "1") "\n"
		           "www.example.com. 300 A 192.0.2.1\tx\n",
		  "line 2: malformed record line" },
	};
	uint64_t i;

	CHECK_EQ_INT(replace(s, 1, "example.com.", zone1), STORE_APPLIED);
	snprintf(before, sizeof(before), "%s", dump(s, "example.com."));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(replace(s, i + 2, "example.com.", bad[i].text),
		             STORE_REJECTED);
		CHECK(strncmp(last.reason, bad[i].why, strlen(bad[i].why)) ==
		      0);
		if (strncmp(last.reason, bad[i].why, strlen(bad[i].why)) != 0)
			fprintf(stderr, "case %u: reason \"%s\"\n", (unsigned)i,
			        last.reason);
		CHECK_EQ_INT(last.res.effects_len, 0);
		CHECK_EQ_STR(dump(s, "example.com."), before);
	}
	CHECK_EQ_INT(serial(s, "example.com."), 10);
	/* A bad zone name; a refused replace of a zone that does not exist
	 * creates nothing. */
	CHECK_EQ_INT(replace(s, 100, "Example.com.", zone1), STORE_REJECTED);
	CHECK_EQ_INT(replace(s, 101, "example.org.", zone1), STORE_REJECTED);
	CHECK(strstr(last.reason, "outside the zone") != NULL);
	CHECK_EQ_INT(serial(s, "example.org."), -1);
	store_close(s);
}

/* A delegation: the NS rows in the parent and at the child's apex. */
static void
test_zone_in_zone(void)
{
	struct store *s = open_db("nested");
	static const char parent[] = "example.com. 3600 SOA " SOA_RDATA(
	    "1") "\n"
	         "example.com. 3600 NS ns1.example.com.\n"
	         "ns1.example.com. 3600 A 192.0.2.1\n"
	         "sub.example.com. 3600 NS ns.sub.example.com.\n"
	         "ns.sub.example.com. 3600 A 192.0.2.53\n";
	static const char child[] =
	    "sub.example.com. 3600 SOA ns.sub.example.com. "
	    "hostmaster.example.com. 1 3600 900 604800 300\n"
	    "sub.example.com. 3600 NS ns.sub.example.com.\n"
	    "ns.sub.example.com. 3600 A 192.0.2.53\n"
	    "www.sub.example.com. 3600 A 192.0.2.80\n";
	struct dr_buf b;

	CHECK_EQ_INT(replace(s, 1, "example.com.", parent), STORE_APPLIED);
	CHECK_EQ_INT(replace(s, 2, "sub.example.com.", child), STORE_APPLIED);
	CHECK_EQ_INT(last.neffects, 4);
	/* Both copies stored; rr get lists the identical line once. */
	CHECK_EQ_STR(get(s, "sub.example.com.", "NS"),
	             "sub.example.com. 3600 NS ns.sub.example.com.\n");
	CHECK(strstr(dump(s, "example.com."),
	             "sub.example.com. 3600 IN NS ns.sub.example.com.\n") !=
	      NULL);
	CHECK(strstr(dump(s, "sub.example.com."),
	             "sub.example.com. 3600 IN NS ns.sub.example.com.\n") !=
	      NULL);
	dr_buf_init(&b);
	CHECK_EQ_INT(store_zone_list(s, &b), 0);
	dr_buf_put(&b, "", 1);
	CHECK_EQ_STR((char *)b.data,
	             "example.com. 1 5\nsub.example.com. 1 4\n");
	dr_buf_close(&b);
	/* Deleting the child keeps the parent's delegation. */
	CHECK_EQ_INT(zone_del(s, 3, "sub.example.com."), STORE_APPLIED);
	CHECK_EQ_INT(last.neffects, 4);
	/* The SOA goes last: the zone exists until then. */
	CHECK_EQ_STR(
	    strstr(last.effects, "-sub.example.com. sub.example.com. SOA "),
	    "-sub.example.com. sub.example.com. SOA ns.sub.example.com. "
	    "hostmaster.example.com. 1 3600 900 604800 300\n");
	CHECK_EQ_STR(get(s, "sub.example.com.", "NS"),
	             "sub.example.com. 3600 NS ns.sub.example.com.\n");
	CHECK_EQ_STR(get(s, "www.sub.example.com.", ""), "");
	CHECK_EQ_INT(serial(s, "sub.example.com."), -1);
	CHECK_EQ_INT(serial(s, "example.com."), 1);
	CHECK_EQ_INT(zone_del(s, 4, "sub.example.com."), STORE_REJECTED);
	CHECK_EQ_STR(last.reason, "zone sub.example.com. does not exist");
	store_close(s);
}

/* Too many effects: DR_WF_RELOAD instead of a list. */
static void
test_effects_reload(void)
{
	struct store *s = open_db("reload");
	struct dr_buf text;
	char line[128];
	unsigned i, n;

	dr_buf_init(&text);
	snprintf(line, sizeof(line), "example.com. 3600 SOA %s\n",
	         SOA_RDATA("1"));
	dr_buf_put(&text, line, strlen(line));
	/* SOA + 9999 records = EFFECTS_MAX: still listed. */
	for (i = 0; i < EFFECTS_MAX - 1; i++) {
		n = (unsigned)snprintf(line, sizeof(line),
		                       "h%u.example.com. 60 A 10.0.%u.%u\n", i,
		                       i / 256, i % 256);
		dr_buf_put(&text, line, n);
	}
	dr_buf_put(&text, "", 1);
	CHECK_EQ_INT(replace(s, 1, "example.com.", (char *)text.data),
	             STORE_APPLIED);
	CHECK(!last.res.reload);
	CHECK_EQ_INT(last.neffects, EFFECTS_MAX);
	CHECK(strstr(last.effects,
	             "+example.com. h4321.example.com. A 60 10.0.16.225\n") !=
	      NULL);
	/* Rows written in batches land whole, each with its own fields. */
	CHECK_EQ_STR(get(s, "h0.example.com.", ""),
	             "h0.example.com. 60 A 10.0.0.0\n");
	CHECK_EQ_STR(get(s, "h4321.example.com.", "A"),
	             "h4321.example.com. 60 A 10.0.16.225\n");
	CHECK_EQ_STR(get(s, "h9998.example.com.", "A"),
	             "h9998.example.com. 60 A 10.0.39.14\n");
	/* One more record = 10001 effects with the SOA rewrite (3). */
	text.len--;
	snprintf(line, sizeof(line), "x.example.com. 60 A 10.1.0.0\n");
	dr_buf_put(&text, line, strlen(line) + 1);
	CHECK_EQ_INT(replace(s, 2, "example.com.", (char *)text.data),
	             STORE_APPLIED);
	CHECK(!last.res.reload);
	CHECK_EQ_INT(last.neffects, 3);
	/* Deleting the zone: 10001 effects. */
	CHECK_EQ_INT(zone_del(s, 3, "example.com."), STORE_APPLIED);
	CHECK(last.res.reload);
	CHECK_EQ_INT(last.res.effects_len, 0);
	/* Creating it again with 10001 records: reload too. */
	CHECK_EQ_INT(replace(s, 4, "example.com.", (char *)text.data),
	             STORE_APPLIED);
	CHECK(last.res.reload);
	CHECK_EQ_INT(last.res.effects_len, 0);
	CHECK_EQ_INT(serial(s, "example.com."), 1);
	dr_buf_close(&text);
	store_close(s);
}

/* Replays after a restart are skipped; images keep the records. */
static void
test_replay_and_snapshot(void)
{
	struct store *s = open_db("replay"), *t;
	struct store_restore_info info;
	char before[65536];
	void *img = NULL;
	size_t len = 0;

	CHECK_EQ_INT(replace(s, 1, "example.com.", zone1), STORE_APPLIED);
	CHECK_EQ_INT(rr_add(s, 2, "example.com.", "new.example.com.", "A", "60",
	                    "192.0.2.99"),
	             STORE_APPLIED);
	CHECK_EQ_INT(
	    rr_del(s, 3, "example.com.", "www.example.com.", "A", "192.0.2.10"),
	    STORE_APPLIED);
	snprintf(before, sizeof(before), "%s", dump(s, "example.com."));
	store_close(s);

	s = open_db("replay");
	CHECK_EQ_INT(replace(s, 1, "example.com.", zone1), STORE_SKIPPED);
	CHECK_EQ_INT(rr_add(s, 2, "example.com.", "new.example.com.", "A", "60",
	                    "192.0.2.99"),
	             STORE_SKIPPED);
	CHECK_EQ_INT(
	    rr_del(s, 3, "example.com.", "www.example.com.", "A", "192.0.2.10"),
	    STORE_SKIPPED);
	CHECK_EQ_STR(dump(s, "example.com."), before);
	CHECK_EQ_INT(serial(s, "example.com."), 12);
	CHECK_EQ_INT(store_change_seq(s), 3);

	CHECK_EQ_INT(store_serialize(s, malloc, &img, &len), 0);
	t = open_db("replay-copy");
	CHECK_EQ_INT(store_restore(t, img, len, &info), 0);
	CHECK(info.replaced);
	free(img);
	CHECK_EQ_STR(dump(t, "example.com."), before);
	CHECK_EQ_INT(serial(t, "example.com."), 12);
	/* The restored store applies on top. */
	CHECK_EQ_INT(rr_add(t, 4, "example.com.", "x.example.com.", "A", "60",
	                    "192.0.2.98"),
	             STORE_APPLIED);
	CHECK_EQ_INT(serial(t, "example.com."), 13);
	store_close(t);
	store_close(s);
}

/* rr get, zone list and a dump that reads back to the same records. */
static void
test_reads(void)
{
	struct store *s = open_db("reads");
	struct dr_zonefile zf;
	char path[256], err[DR_RR_ERR_LEN], *canon;
	const char *d;
	struct dr_buf b;
	FILE *fp;
	size_t i, j;

	dr_buf_init(&b);
	CHECK_EQ_INT(store_zone_list(s, &b), DR_ENOTFOUND);
	CHECK_EQ_INT(store_zone_dump(s, "example.com.", &b), DR_ENOTFOUND);
	CHECK_EQ_INT(store_rr_get(s, "www.example.com.", "", &b), DR_ENOTFOUND);
	CHECK_EQ_INT(
	    replace(s, 1, "example.com.",
	            "example.com. 3600 SOA " SOA_RDATA(
	                "10") "\n"
	                      "example.com. 3600 NS ns1.example.com.\n"
	                      "ns1.example.com. 3600 A 192.0.2.1\n"
	                      "www.example.com. 300 A 192.0.2.10\n"
	                      "www.example.com. 300 AAAA 2001:db8::10\n"
	                      "*.example.com. 300 TXT \"wild card\" \"x;y\"\n"
	                      "_sip._tcp.example.com. 60 SRV 0 5 5060 "
	                      "sip.example.com.\n"
	                      "u.example.com. 60 TYPE65534 \\# 3 010203\n"),
	    STORE_APPLIED);
	/* Names in any case, with or without the dot; types too. */
	CHECK_EQ_STR(get(s, "WWW.Example.COM", ""),
	             "www.example.com. 300 A 192.0.2.10\n"
	             "www.example.com. 300 AAAA 2001:db8::10\n");
	CHECK_EQ_STR(get(s, "www.example.com.", "aaaa"),
	             "www.example.com. 300 AAAA 2001:db8::10\n");
	CHECK_EQ_STR(get(s, "www.example.com.", "MX"), "");
	CHECK_EQ_INT(store_rr_get(s, "www..example.com", "", &b), DR_EINVAL);
	CHECK_EQ_INT(store_rr_get(s, "www.example.com", "A A", &b), DR_EINVAL);
	CHECK_EQ_INT(store_zone_list(s, &b), 0);
	dr_buf_put(&b, "", 1);
	CHECK_EQ_STR((char *)b.data, "example.com. 10 8\n");
	dr_buf_close(&b);

	d = dump(s, "example.com");
	CHECK(strncmp(d, "example.com. 3600 IN SOA ", 25) == 0);
	CHECK(strstr(d, "u.example.com. 60 IN TYPE65534 \\# 3 010203\n") !=
	      NULL);
	CHECK_EQ_STR(dump(s, "example.org."), "");
	d = dump(s, "example.com.");
	/* The dump is a master file that reads back to the same lines. */
	snprintf(path, sizeof(path), "%s/dump.zone", tmpdir);
	fp = fopen(path, "w");
	CHECK(fp != NULL);
	if (fp == NULL)
		return;
	fputs(d, fp);
	fclose(fp);
	CHECK_EQ_INT(dr_zonefile_read(path, NULL, &zf, err, sizeof(err)), 0);
	if (zf.nrecords == 0)
		fprintf(stderr, "zone file: %s\n", err);
	CHECK_EQ_STR(zf.zone, "example.com.");
	CHECK_EQ_INT(zf.nrecords, 8);
	/* The dump without " IN" is the canonical text. */
	canon = strdup(d);
	for (i = j = 0; d[i] != '\0'; i++) {
		if (strncmp(d + i, " IN ", 4) == 0 &&
		    (i == 0 || d[i - 1] != '"')) {
			/* Only the class field: after owner and TTL. */
			size_t k = i, sp = 0;

			while (k > 0 && d[k - 1] != '\n') {
				sp += d[k - 1] == ' ';
				k--;
			}
			if (sp == 1) {
				canon[j++] = ' ';
				i += 3;
				continue;
			}
		}
		canon[j++] = d[i];
	}
	canon[j] = '\0';
	CHECK(zf.lines.len == strlen(canon) &&
	      memcmp(zf.lines.data, canon, zf.lines.len) == 0);
	free(canon);
	dr_zonefile_free(&zf);
	store_close(s);
}

/* A state.db of the first schema (records unique on owner, type, rdata). */
static void
test_migrate_schema(void)
{
	char path[256];
	struct store *s;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/old.db", tmpdir);
	CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ_INT(
	    sqlite3_exec(db,
	                 "CREATE TABLE records(zone TEXT NOT NULL, owner TEXT "
	                 "NOT NULL, type TEXT NOT NULL, ttl INTEGER NOT NULL, "
	                 "rdata TEXT NOT NULL, UNIQUE(owner, type, rdata));"
	                 "CREATE TABLE zones(name TEXT PRIMARY KEY, serial "
	                 "INTEGER NOT NULL);"
	                 "INSERT INTO zones VALUES ('example.com.', 3);"
	                 "INSERT INTO records VALUES ('example.com.', "
	                 "'example.com.', 'SOA', 60, 'ns1.example.com. "
	                 "hostmaster.example.com. 3 3600 900 604800 300');",
	                 NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	s = open_db("old");
	CHECK_EQ_INT(serial(s, "example.com."), 3);
	CHECK_EQ_INT(rr_add(s, 1, "example.com.", "www.example.com.", "A", "60",
	                    "192.0.2.1"),
	             STORE_APPLIED);
	CHECK_EQ_INT(serial(s, "example.com."), 4);
	store_close(s);
}

static unsigned
rnd(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 16;
}

/* Appends a random name at out + n: labels of [a-z0-9_-*], a dot. */
static size_t
rnd_name(unsigned *seed, char *out, size_t n)
{
	static const char alpha[] = "abcz09-_*";
	unsigned labels = 1 + rnd(seed) % 4, l, j, len;

	for (l = 0; l < labels; l++) {
		len = 1 + rnd(seed) % (rnd(seed) % 50 ? 8 : 70);
		for (j = 0; j < len && n < 250; j++)
			out[n++] = alpha[rnd(seed) % (sizeof(alpha) - 1)];
		out[n++] = '.';
	}
	return n;
}

/* The shortcut never accepts what dr_rr_check (ldns) refuses. */
static void
test_quick_check(void)
{
	static const char *const lines[] = {
		"www.example.com. 300 A 192.0.2.1",
		"*.example.com. 300 A 0.0.0.0",
		"a-b_c.example.com. 0 A 255.255.255.255",
		"www.example.com. 300 AAAA 2001:db8::1",
		"www.example.com. 300 AAAA ::ffff:192.0.2.1",
		"www.example.com. 300 AAAA ::",
		"a.example.com. 300 CNAME b.example.com.",
		"example.com. 300 NS ns1.example.com.",
		"1.2.0.192.in-addr.arpa. 300 PTR www.example.com.",
		"example.com. 300 MX 0 mx.example.com.",
		"example.com. 300 MX 65535 mx.example.com.",
		/* and things it must leave to ldns */
		"www.example.com. 300 A 192.0.2.01",
		"www.example.com. 300 A 192.0.2",
		"www.example.com. 300 A 192.0.2.256",
		"www.example.com. 300 A 1.2.3.4 ",
		"www.example.com. 300 AAAA 2001:DB8::1",
		"www.example.com. 300 AAAA 2001:db8:0:0:0:0:0:1",
		"www.example.com. 300 AAAA 2001:db8::0:1",
		"a*.example.com. 300 A 192.0.2.1",
		"a.*.example.com. 300 A 192.0.2.1",
		"**.example.com. 300 A 192.0.2.1",
		"a..example.com. 300 A 192.0.2.1",
		"a\\.b.example.com. 300 A 192.0.2.1",
		".example.com. 300 A 192.0.2.1",
		". 300 NS a.root-servers.net.",
		"a.example.com. 300 CNAME b.example.com",
		"a.example.com. 300 CNAME B.example.com.",
		"a.example.com. 300 CNAME b.example.com. x",
		"example.com. 300 MX 65536 mx.example.com.",
		"example.com. 300 MX 010 mx.example.com.",
		"example.com. 300 MX 10  mx.example.com.",
		"example.com. 300 MX 10",
		"example.com. 300 TXT \"x\"",
		"example.com. 300 a 192.0.2.1",
		"01234567890123456789012345678901234567890123456789012345678901"
		"23."
		"example.com. 300 A 192.0.2.1",
		"01234567890123456789012345678901234567890123456789012345678901"
		"2."
		"example.com. 300 A 192.0.2.1",
	};
	char line[600], err[DR_RR_ERR_LEN];
	unsigned seed = 12345, quick = 0, i, j;
	size_t k;

	for (k = 0; k < sizeof(lines) / sizeof(lines[0]); k++) {
		bool q = zoneset_quick_ok(lines[k], strlen(lines[k]));
		int c =
		    dr_rr_check(lines[k], strlen(lines[k]), err, sizeof(err));

		if (q && c != 0)
			fprintf(stderr, "quick accepts \"%s\" (%s)\n", lines[k],
			        err);
		CHECK(!q || c == 0);
		quick += q;
	}
	/* The first 11, "a.*." and the 63-byte label. */
	CHECK_EQ_INT(quick, 13);
	/* Random lines, mostly well formed, with a few bad bytes. */
	for (i = 0; i < 20000; i++) {
		static const char *const types[] = { "A",  "AAAA", "CNAME",
			                             "NS", "PTR",  "MX" };
		unsigned type;
		size_t n;

		n = rnd_name(&seed, line, 0);
		type = rnd(&seed) % 6;
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %u %s ",
		                      rnd(&seed) % 100, types[type]);
		switch (type) {
		case 0:
			for (j = 0; j < 4; j++)
				n += (size_t)snprintf(
				    line + n, sizeof(line) - n, "%s%u",
				    j ? "." : "",
				    rnd(&seed) % 8 ? rnd(&seed) % 256
				                   : rnd(&seed) % 1000);
			break;
		case 1:
			for (j = 0; j < 1 + rnd(&seed) % 8; j++)
				n += (size_t)snprintf(
				    line + n, sizeof(line) - n, "%s%x",
				    j ? (rnd(&seed) % 6 ? ":" : "::") : "",
				    rnd(&seed) % 4 ? rnd(&seed) % 0x10000
				                   : rnd(&seed) % 4);
			break;
		case 5:
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%u ",
			                      rnd(&seed) % 70000);
			/* fall through */
		default:
			n = rnd_name(&seed, line, n);
			break;
		}
		if (rnd(&seed) % 16 == 0) /* one bad byte */
			line[rnd(&seed) % n] = "A .*\\;("[rnd(&seed) % 7];
		line[n] = '\0';
		if (zoneset_quick_ok(line, n)) {
			quick++;
			if (dr_rr_check(line, n, err, sizeof(err)) != 0) {
				fprintf(stderr, "quick accepts \"%s\" (%s)\n",
				        line, err);
				CHECK(!"quick accepted a line ldns refuses");
			}
		}
	}
	CHECK(quick > 13 + 1000);
}

static struct dr_str
S(const char *z) {
	struct dr_str s = { z, strlen(z) };

	return s;
}

/* RFC 1982 comparisons and the serial field of SOA rdata. */
static void
test_soa_helpers(void)
{
	struct dr_buf b;
	uint32_t v;
	size_t from, to;

	CHECK(soa_newer(2, 1));
	CHECK(!soa_newer(1, 2));
	CHECK(!soa_newer(7, 7));
	CHECK(soa_newer(0, 4294967295u));
	CHECK(soa_newer(5, 4294967290u));
	CHECK(!soa_newer(4294967290u, 5));
	CHECK(soa_newer(2147483647u, 0));
	CHECK(!soa_newer(2147483648u, 0)); /* undefined: not newer */
	CHECK(!soa_newer(0, 2147483648u));

	CHECK(soa_serial(S("a. b. 42 1 2 3 4"), &v, &from, &to));
	CHECK_EQ_INT(v, 42);
	CHECK_EQ_INT(from, 6);
	CHECK_EQ_INT(to, 8);
	CHECK(soa_serial(S("a. b. 4294967295 1 2 3 4"), &v, &from, &to));
	CHECK(v == 4294967295u);
	CHECK(!soa_serial(S("a. b. 4294967296 1 2 3 4"), &v, &from, &to));
	CHECK(!soa_serial(S("a. b. 00000000001 1 2 3 4"), &v, &from, &to));
	CHECK(!soa_serial(S("a. b. x1 1 2 3 4"), &v, &from, &to));
	CHECK(!soa_serial(S("a. b. "), &v, &from, &to));
	CHECK(!soa_serial(S("a. b."), &v, &from, &to));
	CHECK(!soa_serial(S(""), &v, &from, &to));
	CHECK(soa_serial(S("a. b. 7"), &v, &from, &to));

	CHECK(soa_same_but_serial(S("a. b. 1 2 3 4 5"), S("a. b. 99 2 3 4 5")));
	CHECK(!soa_same_but_serial(S("a. b. 1 2 3 4 5"), S("a. c. 1 2 3 4 5")));
	CHECK(!soa_same_but_serial(S("a. b. 1 2 3 4 5"), S("a. b. 1 2 3 4 6")));
	CHECK(!soa_same_but_serial(S("a. b. 1 2 3 4 5"), S("a. b. 1 2 3 4")));

	dr_buf_init(&b);
	CHECK(soa_with_serial(S("a. b. 1 2 3 4 5"), 4294967295u, &b));
	dr_buf_put(&b, "", 1);
	CHECK_EQ_STR((char *)b.data, "a. b. 4294967295 2 3 4 5");
	CHECK(!soa_with_serial(S("a. b."), 1, &b));
	CHECK_EQ_INT(b.len, 0);
	dr_buf_close(&b);
}

int
main(void)
{
	char cmd[128];

	dr_log_init("test_zones", false);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/drzonesXXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	RUN(test_soa_helpers);
	RUN(test_rr_add_del);
	RUN(test_rr_add_invalid);
	RUN(test_cname_conflicts);
	RUN(test_soa_add);
	RUN(test_serial_arithmetic);
	RUN(test_replace_diff);
	RUN(test_replace_digest);
	RUN(test_replace_rejects);
	RUN(test_zone_in_zone);
	RUN(test_effects_reload);
	RUN(test_replay_and_snapshot);
	RUN(test_reads);
	RUN(test_migrate_schema);
	RUN(test_quick_check);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return UNIT_DONE();
}
