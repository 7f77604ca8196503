/* Unit tests for record text: canonical lines, checks and zone files. */
#include <stdint.h>
#include <unistd.h>

#include "err.h"
#include "rr.h"
#include "unit.h"

static char errbuf[DR_RR_ERR_LEN];

/* Parses text relative to origin; returns the canonical line or NULL. */
static const char *
canon(const char *text, const char *origin)
{
	static char line[DR_RR_LINE_MAX + 1];
	struct dr_buf b;
	int rv;

	dr_buf_init(&b);
	rv = dr_rr_parse(text, origin, DR_RR_DEFAULT_TTL, &b, errbuf,
	                 sizeof(errbuf));
	if (rv == 0) {
		memcpy(line, b.data, b.len);
		line[b.len] = '\0';
	}
	dr_buf_close(&b);
	return rv == 0 ? line : NULL;
}

static void
test_parse(void)
{
	CHECK_EQ_STR(canon("www 300 A 1.2.3.4", "example.com."),
	             "www.example.com. 300 A 1.2.3.4");
	CHECK_EQ_STR(canon("WWW.Example.COM. IN A 1.2.3.4", NULL),
	             "www.example.com. 3600 A 1.2.3.4");
	CHECK_EQ_STR(canon("@ 60 MX 10 Mail", "example.com."),
	             "example.com. 60 MX 10 mail.example.com.");
	CHECK_EQ_STR(canon("t 60 TXT \"hello world\" two", "example.com."),
	             "t.example.com. 60 TXT \"hello world\" \"two\"");
	CHECK_EQ_STR(canon("u 60 TYPE65534 \\# 4 0a000001", "example.com."),
	             "u.example.com. 60 TYPE65534 \\# 4 0a000001");
	CHECK_EQ_STR(canon("s 60 SRV 1 2 53 NS1", "example.com."),
	             "s.example.com. 60 SRV 1 2 53 ns1.example.com.");
	/* Escapes survive the round trip; no raw control byte in a line. */
	CHECK_EQ_STR(canon("\\@at 60 A 1.2.3.4", "example.com."),
	             "\\@at.example.com. 60 A 1.2.3.4");
	CHECK_EQ_STR(canon("sp\\032ace 60 A 1.2.3.4", "example.com."),
	             "sp\\032ace.example.com. 60 A 1.2.3.4");
	CHECK_EQ_STR(canon("t 60 TXT \"tab\\009\\\"q\"", "example.com."),
	             "t.example.com. 60 TXT \"tab\\009\\\"q\"");
	CHECK_EQ_STR(canon("e 60 TYPE65280 \\# 0", "example.com."),
	             "e.example.com. 60 TYPE65280 \\# 0");
	CHECK(canon("e 60 A \\# 0", "example.com.") == NULL);
	CHECK(canon("www 300 A 1.2.3", "example.com.") == NULL);
	CHECK(canon("www 300 CH A 1.2.3.4", "example.com.") == NULL);
	CHECK(canon("www 300 ANY 1.2.3.4", "example.com.") == NULL);
	CHECK(canon("www 300 OPT 1.2.3.4", "example.com.") == NULL);
	CHECK(canon("", "example.com.") == NULL);
	CHECK(canon("www 300 A 1.2.3.4\n5", "example.com.") == NULL);
	CHECK(canon("www 300 BOGUS 1", "example.com.") == NULL);
	CHECK(canon("www 4294967295 A 1.2.3.4", "example.com.") == NULL);
}

static void
test_check(void)
{
	const char *good = "www.example.com. 300 A 1.2.3.4";
	const char *bad[] = {
		"www.example.com. 300 A 1.2.3.04",
		"WWW.example.com. 300 A 1.2.3.4",
		"www.example.com 300 A 1.2.3.4",
		"www.example.com.  300 A 1.2.3.4",
		"www.example.com. 0300 A 1.2.3.4",
		"www.example.com. 300 a 1.2.3.4",
		"www.example.com. 300 A",
		"t.example.com. 60 TXT \"tab\there\"",
		"a.example.com. 60 A \\# 4 01020304",
		"www.example.com. 300 A ",
		"www.example.com. 3000000000 A 1.2.3.4",
		"",
	};
	struct dr_rr rr;

	const char *goods[] = {
		good,
		"\\@at.example.com. 60 A 1.2.3.4",
		"t.example.com. 60 TXT \"tab\\009\\\"q\"",
		"e.example.com. 60 TYPE65280 \\# 0",
		"c.example.com. 60 CNAME \\@x.example.com.",
	};

	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		int rv = dr_rr_check(goods[i], strlen(goods[i]), errbuf,
		                     sizeof(errbuf));
		if (rv != 0)
			fprintf(stderr, "refused: %s (%s)\n", goods[i], errbuf);
		CHECK_EQ_INT(rv, 0);
	}
	CHECK_EQ_INT(dr_rr_split(good, strlen(good), &rr), 0);
	CHECK_EQ_INT(rr.ttl_value, 300);
	CHECK(rr.rdata.len == 7 && memcmp(rr.rdata.p, "1.2.3.4", 7) == 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rv =
		    dr_rr_check(bad[i], strlen(bad[i]), errbuf, sizeof(errbuf));
		if (rv == 0)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CHECK_EQ_INT(rv, DR_EINVAL);
	}
}

static struct dr_str
S(const char *z) {
	struct dr_str s = { z, strlen(z) };

	return s;
}

static void
test_in_zone(void)
{
	CHECK(dr_rr_in_zone(S("example.com."), S("example.com.")));
	CHECK(dr_rr_in_zone(S("a.b.example.com."), S("example.com.")));
	CHECK(!dr_rr_in_zone(S("badexample.com."), S("example.com.")));
	CHECK(!dr_rr_in_zone(S("a\\.example.com."), S("example.com.")));
	CHECK(!dr_rr_in_zone(S("com."), S("example.com.")));
	CHECK(dr_rr_in_zone(S("anything."), S(".")));
}

static void
test_zone_name(void)
{
	char z[256];

	CHECK_EQ_INT(dr_zone_name("Example.COM", z, sizeof(z)), 0);
	CHECK_EQ_STR(z, "example.com.");
	CHECK_EQ_INT(dr_zone_name(".", z, sizeof(z)), 0);
	CHECK_EQ_STR(z, ".");
	CHECK_EQ_INT(dr_zone_name("", z, sizeof(z)), DR_EINVAL);
	CHECK_EQ_INT(dr_zone_name("a b", z, sizeof(z)), DR_EINVAL);
	CHECK_EQ_INT(dr_zone_name("a..b", z, sizeof(z)), DR_EINVAL);
}

/* Writes text to a temp file and reads it as a zone. */
static int
read_zone(const char *text, struct dr_zonefile *zf, char *path)
{
	FILE *fp;
	int fd, rv;

	strcpy(path, "/tmp/test_rr_XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return DR_EIO;
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	rv = dr_zonefile_read(path, NULL, zf, errbuf, sizeof(errbuf));
	unlink(path);
	return rv;
}

static const char zone_ok[] = "; a comment\n"
                              "$ORIGIN example.com.\n"
                              "$TTL 300\n"
                              "@ IN SOA ns1 hostmaster (\n"
                              "      2024010101 ; serial\n"
                              "      3600 900 604800 60 )\n"
                              "  IN NS ns1\n"
                              "ns1 A 192.0.2.1\n"
                              "www 60 A 192.0.2.2 ; trailing comment\n"
                              "    AAAA 2001:db8::2\n"
                              "*.apps CNAME www\n"
                              "$ORIGIN lab.example.com.\n"
                              "@ NS ns.lab.example.com.\n"
                              "ns A 192.0.2.53\n"
                              "x TYPE65534 \\# 2 abcd\n"
                              "; last line a comment";

static void
test_zonefile(void)
{
	struct dr_zonefile zf;
	char path[64];

	CHECK_EQ_INT(read_zone(zone_ok, &zf, path), 0);
	CHECK_EQ_STR(zf.zone, "example.com.");
	CHECK_EQ_INT(zf.nrecords, 9);
	dr_buf_put(&zf.lines, "", 1);
	CHECK_EQ_STR((const char *)zf.lines.data,
	             "example.com. 300 SOA ns1.example.com. "
	             "hostmaster.example.com. 2024010101 3600 900 604800 60\n"
	             "example.com. 300 NS ns1.example.com.\n"
	             "ns1.example.com. 300 A 192.0.2.1\n"
	             "www.example.com. 60 A 192.0.2.2\n"
	             "www.example.com. 300 AAAA 2001:db8::2\n"
	             "*.apps.example.com. 300 CNAME www.example.com.\n"
	             "lab.example.com. 300 NS ns.lab.example.com.\n"
	             "ns.lab.example.com. 300 A 192.0.2.53\n"
	             "x.lab.example.com. 300 TYPE65534 \\# 2 abcd\n");
	dr_zonefile_free(&zf);
}

/* Each bad zone must fail with "path:line: ..." naming the given line. */
static void
test_zonefile_errors(void)
{
	static const struct {
		const char *text;
		int line;
	} bad[] = {
		{ "$ORIGIN example.com.\n@ SOA a b 1 2 3 4 5\nwww A 1.2.3\n",
		  3 },
		{ "$ORIGIN example.com.\nwww A 1.2.3.4\n", 2 },
		{ "$ORIGIN example.com.\n@ SOA a b 1 2 3 4 5\n@ SOA a b 1 2 3 "
		  "4 "
		  "5\n",
		  3 },
		{ "$ORIGIN example.com.\n@ SOA a b 1 2 3 4 5\nwww.example.org. "
		  "A 1.2.3.4\n",
		  3 },
		{ "$ORIGIN example.com.\n@ SOA a b 1 2 3 4 5\nw CNAME x\nw A "
		  "1.2.3.4\n",
		  4 },
		{ "$ORIGIN example.com.\n@ SOA a b 1 2 3 4 5\n$INCLUDE "
		  "/etc/x\n",
		  3 },
		{ "$ORIGIN example.com.\n@ SOA a b 1 2 3 4 5\nw CH A 1.2.3.4\n",
		  3 },
		{ "; nothing\n", 1 },
	};
	struct dr_zonefile zf;
	char path[64], want[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(read_zone(bad[i].text, &zf, path), DR_EINVAL);
		snprintf(want, sizeof(want), "%s:%d: ", path, bad[i].line);
		if (strncmp(errbuf, want, strlen(want)) != 0)
			fprintf(stderr,
			        "case %zu: got \"%s\", want \"%s...\"\n", i,
			        errbuf, want);
		CHECK(strncmp(errbuf, want, strlen(want)) == 0);
		CHECK_EQ_INT(zf.nrecords, 0);
	}
	CHECK_EQ_INT(dr_zonefile_read("/nonexistent/zone", NULL, &zf, errbuf,
	                              sizeof(errbuf)),
	             DR_EIO);
}

int
main(void)
{
	RUN(test_parse);
	RUN(test_check);
	RUN(test_in_zone);
	RUN(test_zone_name);
	RUN(test_zonefile);
	RUN(test_zonefile_errors);
	return UNIT_DONE();
}
