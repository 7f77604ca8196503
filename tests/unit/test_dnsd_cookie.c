/* Unit tests for dnsd's DNS cookies: RFC 9018's test vectors, verification
 * (expired, future, garbled), and cookies on the query path with RRL. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "cookie.h"
#include "dnsd_testzone.h"
#include "packet.h"
#include "rrl.h"
#include "unit.h"

static void
unhex(const char *s, uint8_t *out)
{
	size_t n = strlen(s) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			abort();
		out[i] = (uint8_t)v;
	}
}

static struct sockaddr_storage
ip(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &((struct sockaddr_in *)&ss)->sin_addr) ==
	    1) {
		ss.ss_family = AF_INET;
		return ss;
	}
	if (inet_pton(AF_INET6, text,
	              &((struct sockaddr_in6 *)&ss)->sin6_addr) != 1)
		abort();
	ss.ss_family = AF_INET6;
	return ss;
}

static struct cookie_mac mac;

static void
use_secret(const char *hex)
{
	uint8_t secret[COOKIE_SECRET_LEN];

	if (mac.ctx != NULL)
		cookie_mac_close(&mac);
	unhex(hex, secret);
	if (cookie_mac_init(&mac, secret) != 0)
		abort();
}

/* cookie_make's server cookie equals want (hex). */
static bool
made(const char *client, const char *addr, uint32_t now, const char *want)
{
	uint8_t cc[8], sc[16], w[16];
	struct sockaddr_storage ss = ip(addr);

	unhex(client, cc);
	unhex(want, w);
	cookie_make(&mac, cc, (struct sockaddr *)&ss, now, sc);
	return memcmp(sc, w, 16) == 0;
}

/* cookie_answer on "client|server" (hex); the cookie to send in out. */
static int
answer(const char *opt, const char *addr, uint32_t now, uint8_t *out)
{
	uint8_t o[COOKIE_OPT_MAX];
	struct sockaddr_storage ss = ip(addr);
	size_t len = strlen(opt) / 2;

	unhex(opt, o);
	return cookie_answer(&mac, o, len, (struct sockaddr *)&ss, now, out);
}

#define SECRET1 "e5e973e5a6b2a43f48e7dc849e37bfcf"
#define A1_IP   "198.51.100.100"
#define A1_CC   "2464c4abcf10c957"
#define A1_SC   "010000005cf79f111f8130c3eee29480"
#define A1_TS   1559731985u

static void
test_rfc9018_vectors(void)
{
	use_secret(SECRET1);
	/* A.1: a client learns a new server cookie. */
	CHECK(made(A1_CC, A1_IP, A1_TS, A1_SC));
	/* A.2: forty minutes on, it is renewed. */
	CHECK(made(A1_CC, A1_IP, 1559734385u,
	           "010000005cf7a871d4a564a1442aca77"));
	/* A.3: another client. */
	CHECK(made("fc93fc62807ddb86", "203.0.113.203", 1559734700u,
	           "010000005cf7a9acf73a7810aca2381e"));
	/* A.4: an IPv6 client, after a secret rollover. */
	use_secret("445536bcd2513298075a5d379663c962");
	CHECK(made("22681ab97d52c298", "2001:db8:220:1:59de:d0f4:8769:82b8",
	           1559741961u, "010000005cf7c609a6bb79d16625507a"));
	/* The IPv4-mapped form of an address is the IPv4 address. */
	use_secret(SECRET1);
	CHECK(made(A1_CC, "::ffff:198.51.100.100", A1_TS, A1_SC));
}

static void
test_verify(void)
{
	uint8_t out[16], want[16];

	use_secret(SECRET1);
	/* A client cookie alone: a new server cookie, made now. */
	CHECK_EQ_INT(answer(A1_CC, A1_IP, A1_TS, out), COOKIE_NEW);
	unhex(A1_SC, want);
	CHECK(memcmp(out, want, 16) == 0);
	/* Ours, young: valid and echoed as it is. */
	CHECK_EQ_INT(answer(A1_CC A1_SC, A1_IP, A1_TS, out), COOKIE_VALID);
	CHECK(memcmp(out, want, 16) == 0);
	CHECK_EQ_INT(answer(A1_CC A1_SC, A1_IP, A1_TS + 1800, out),
	             COOKIE_VALID);
	CHECK(memcmp(out, want, 16) == 0);
	/* Older than half an hour: still valid, but renewed (A.2). */
	CHECK_EQ_INT(answer(A1_CC A1_SC, A1_IP, 1559734385u, out),
	             COOKIE_VALID);
	unhex("010000005cf7a871d4a564a1442aca77", want);
	CHECK(memcmp(out, want, 16) == 0);
	/* Valid for an hour, then a client cookie only. */
	CHECK_EQ_INT(answer(A1_CC A1_SC, A1_IP, A1_TS + 3600, out),
	             COOKIE_VALID);
	CHECK_EQ_INT(answer(A1_CC A1_SC, A1_IP, A1_TS + 3601, out), COOKIE_NEW);
	uint8_t fresh[16];
	struct sockaddr_storage ss = ip(A1_IP);
	uint8_t cc[8];
	unhex(A1_CC, cc);
	cookie_make(&mac, cc, (struct sockaddr *)&ss, A1_TS + 3601, fresh);
	CHECK(memcmp(out, fresh, 16) == 0);
	/* From the future: 5 minutes of clock skew are fine, not more. */
	CHECK_EQ_INT(answer(A1_CC A1_SC, A1_IP, A1_TS - 300, out),
	             COOKIE_VALID);
	CHECK_EQ_INT(answer(A1_CC A1_SC, A1_IP, A1_TS - 301, out), COOKIE_NEW);
	/* Garbled: hash, timestamp, version, another client or address. */
	CHECK_EQ_INT(
	    answer(A1_CC "010000005cf79f111f8130c3eee29481", A1_IP, A1_TS, out),
	    COOKIE_NEW);
	CHECK_EQ_INT(
	    answer(A1_CC "010000005cf79f121f8130c3eee29480", A1_IP, A1_TS, out),
	    COOKIE_NEW);
	CHECK_EQ_INT(
	    answer(A1_CC "020000005cf79f111f8130c3eee29480", A1_IP, A1_TS, out),
	    COOKIE_NEW);
	CHECK_EQ_INT(
	    answer(A1_CC "010000015cf79f111f8130c3eee29480", A1_IP, A1_TS, out),
	    COOKIE_NEW);
	CHECK_EQ_INT(answer("2464c4abcf10c958" A1_SC, A1_IP, A1_TS, out),
	             COOKIE_NEW);
	CHECK_EQ_INT(answer(A1_CC A1_SC, "198.51.100.101", A1_TS, out),
	             COOKIE_NEW);
	/* Server cookies of other lengths are not ours. */
	CHECK_EQ_INT(answer(A1_CC "010000005cf79f11", A1_IP, A1_TS, out),
	             COOKIE_NEW);
	CHECK_EQ_INT(answer(A1_CC A1_SC A1_SC, A1_IP, A1_TS, out), COOKIE_NEW);
	/* Another secret (a restart, another node): not valid. */
	use_secret("445536bcd2513298075a5d379663c962");
	CHECK_EQ_INT(answer(A1_CC A1_SC, A1_IP, A1_TS, out), COOKIE_NEW);
	/* A.3: reserved bytes set elsewhere are hashed as received. */
	use_secret(SECRET1);
	CHECK_EQ_INT(answer("fc93fc62807ddb86"
	                    "01abcdef5cf78f71a314227b6679ebf5",
	                    "203.0.113.203", 1559727985u + 600, out),
	             COOKIE_VALID);
	/* Serial arithmetic: a cookie made just before 2^32 wraps. */
	cookie_make(&mac, cc, (struct sockaddr *)&ss, 0xFFFFFF00u, fresh);
	uint8_t opt[24];
	memcpy(opt, cc, 8);
	memcpy(opt + 8, fresh, 16);
	CHECK_EQ_INT(
	    cookie_answer(&mac, opt, 24, (struct sockaddr *)&ss, 0x10, out),
	    COOKIE_VALID);
}

/* --------------------------------------------------- the query path */

static struct zonedb *db;
static uint8_t reply[65535];
static size_t reply_len;

#define EXAMPLE "\7example\3com"

/* A query for example.com A with an OPT holding opt (olen bytes). */
static size_t
query_with(uint8_t *q, const uint8_t *opt, size_t olen, uint16_t flags)
{
	return tz_query_opt(q, EXAMPLE, sizeof(EXAMPLE), 1, flags, opt, olen);
}

static int
ask(const uint8_t *q, size_t qlen, int transport, const struct query_client *cl,
    struct query_result *res)
{
	int v = query_process(db, q, qlen, transport, cl, reply, sizeof(reply),
	                      res);

	reply_len = v == QUERY_DROP ? 0 : res->len;
	return v;
}

static const uint8_t *
reply_cookie(void)
{
	return tz_reply_cookie(reply, reply_len);
}

static void
test_query_cookies(void)
{
	struct sockaddr_storage ss = ip("192.0.2.53");
	struct query_client cl = {
		.addr = (struct sockaddr *)&ss,
		.cookies = &mac,
		.now_s = 1700000000u,
	};
	struct query_result res;
	uint8_t q[600], o[64], server[16];
	size_t qlen;

	use_secret(SECRET1);
	/* A client cookie: answered, with a server cookie that verifies. */
	qlen = query_with(q, o, tz_cookie_opt(o, 8, NULL), 0);
	CHECK_EQ_INT(ask(q, qlen, QUERY_UDP, &cl, &res), QUERY_SEND);
	CHECK_EQ_INT(res.cookie, COOKIE_NEW);
	CHECK_EQ_INT(reply[3] & 0xF, RCODE_NOERROR);
	CHECK_EQ_INT(pkt_u16(reply + 6), 1);
	CHECK(reply_cookie() != NULL);
	if (reply_cookie() == NULL)
		return;
	memcpy(server, reply_cookie(), 16);
	CHECK_EQ_INT(server[0], 1);
	/* Sent back: valid, echoed. Over TCP too. */
	qlen = query_with(q, o, tz_cookie_opt(o, 24, server), 0);
	CHECK_EQ_INT(ask(q, qlen, QUERY_UDP, &cl, &res), QUERY_SEND);
	CHECK_EQ_INT(res.cookie, COOKIE_VALID);
	CHECK(reply_cookie() && memcmp(reply_cookie(), server, 16) == 0);
	CHECK_EQ_INT(ask(q, qlen, QUERY_TCP, &cl, &res), QUERY_SEND);
	CHECK_EQ_INT(res.cookie, COOKIE_VALID);
	/* From another address it is a client cookie only. */
	struct sockaddr_storage other = ip("192.0.2.54");
	cl.addr = (struct sockaddr *)&other;
	CHECK_EQ_INT(ask(q, qlen, QUERY_UDP, &cl, &res), QUERY_SEND);
	CHECK_EQ_INT(res.cookie, COOKIE_NEW);
	CHECK_EQ_INT(reply[3] & 0xF, RCODE_NOERROR);
	CHECK(reply_cookie() && memcmp(reply_cookie(), server, 16) != 0);
	cl.addr = (struct sockaddr *)&ss;
	/* Errors carry the cookie too (NOTIMP for a NOTIFY). */
	qlen = query_with(q, o, tz_cookie_opt(o, 8, NULL), 4 << 11);
	CHECK_EQ_INT(ask(q, qlen, QUERY_UDP, &cl, &res), QUERY_SEND);
	CHECK_EQ_INT(reply[3] & 0xF, RCODE_NOTIMP);
	CHECK(reply_cookie() != NULL);
	/* Without cookies in use: no COOKIE option back. */
	qlen = query_with(q, o, tz_cookie_opt(o, 8, NULL), 0);
	CHECK_EQ_INT(ask(q, qlen, QUERY_UDP, NULL, &res), QUERY_SEND);
	CHECK_EQ_INT(res.cookie, COOKIE_NONE);
	CHECK(reply_cookie() == NULL);
	CHECK_EQ_INT(pkt_u16(reply + reply_len - 2), 0); /* OPT rdlen 0 */
}

static void
test_query_malformed(void)
{
	struct sockaddr_storage ss = ip("192.0.2.53");
	struct query_client cl = {
		.addr = (struct sockaddr *)&ss,
		.cookies = &mac,
		.now_s = 1700000000u,
	};
	struct query_result res;
	uint8_t q[600], o[128];
	size_t qlen, n;

	use_secret(SECRET1);
	/* RFC 7873 5.2.2: lengths other than 8 and 16..40 are FORMERR. */
	for (size_t len = 0; len <= 48; len++) {
		bool ok = len == 8 || (len >= 16 && len <= 40);

		qlen = query_with(q, o, tz_cookie_opt(o, len, NULL), 0);
		CHECK_EQ_INT(ask(q, qlen, QUERY_UDP, &cl, &res), QUERY_SEND);
		CHECK_EQ_INT(reply[3] & 0xF,
		             ok ? RCODE_NOERROR : RCODE_FORMERR);
		/* A malformed OPT gets no OPT back (RFC 6891 6.1.1). */
		CHECK_EQ_INT(pkt_u16(reply + 10), ok ? 1 : 0);
		CHECK_EQ_INT(res.cookie, ok ? COOKIE_NEW : COOKIE_NONE);
	}
	/* Two COOKIE options: FORMERR. */
	n = tz_cookie_opt(o, 8, NULL);
	n += tz_cookie_opt(o + n, 8, NULL);
	qlen = query_with(q, o, n, 0);
	CHECK_EQ_INT(ask(q, qlen, QUERY_UDP, &cl, &res), QUERY_SEND);
	CHECK_EQ_INT(reply[3] & 0xF, RCODE_FORMERR);
	CHECK_EQ_INT(res.cookie, COOKIE_NONE);
	/* A COOKIE among other options is found. */
	static const uint8_t pad[] = { 0, 12, 0, 3, 0, 0, 0 };
	memcpy(o, pad, sizeof(pad));
	n = sizeof(pad) + tz_cookie_opt(o + sizeof(pad), 8, NULL);
	qlen = query_with(q, o, n, 0);
	CHECK_EQ_INT(ask(q, qlen, QUERY_UDP, &cl, &res), QUERY_SEND);
	CHECK_EQ_INT(reply[3] & 0xF, RCODE_NOERROR);
	CHECK_EQ_INT(res.cookie, COOKIE_NEW);
	CHECK(reply_cookie() != NULL);
}

static void
test_query_rrl_exempt(void)
{
	struct sockaddr_storage ss = ip("192.0.2.53");
	struct query_client cl = {
		.addr = (struct sockaddr *)&ss,
		.cookies = &mac,
		.rrl = rrl_new(1, 0, 1024),
		.now_ms = 1000000,
		.now_s = 1700000000u,
	};
	struct query_result res;
	uint8_t q[600], o[64], server[16];
	size_t qlen;

	use_secret(SECRET1);
	/* The one response of this second, with a fresh server cookie. */
	qlen = query_with(q, o, tz_cookie_opt(o, 8, NULL), 0);
	CHECK_EQ_INT(ask(q, qlen, QUERY_UDP, &cl, &res), QUERY_SEND);
	CHECK(reply_cookie() != NULL);
	if (reply_cookie() == NULL)
		return;
	memcpy(server, reply_cookie(), 16);
	/* Over the rate without a valid cookie: dropped... */
	CHECK_EQ_INT(ask(q, qlen, QUERY_UDP, &cl, &res), QUERY_DROP);
	CHECK_EQ_INT(res.rrl, RRL_DROP);
	CHECK_EQ_INT(res.cookie, COOKIE_NEW);
	/* ...with a garbled one too... */
	server[15] ^= 1;
	qlen = query_with(q, o, tz_cookie_opt(o, 24, server), 0);
	CHECK_EQ_INT(ask(q, qlen, QUERY_UDP, &cl, &res), QUERY_DROP);
	server[15] ^= 1;
	/* ...but the valid one is never limited. */
	qlen = query_with(q, o, tz_cookie_opt(o, 24, server), 0);
	for (int i = 0; i < 100; i++) {
		CHECK_EQ_INT(ask(q, qlen, QUERY_UDP, &cl, &res), QUERY_SEND);
		CHECK_EQ_INT(res.rrl, RRL_PASS);
	}
	CHECK_EQ_INT(res.cookie, COOKIE_VALID);
	CHECK(!res.tc && pkt_u16(reply + 6) == 1);
	/* An hour later it is not valid any more: limited again. */
	cl.now_s += 3601;
	CHECK_EQ_INT(ask(q, qlen, QUERY_UDP, &cl, &res), QUERY_DROP);
	CHECK_EQ_INT(res.cookie, COOKIE_NEW);
	rrl_free(cl.rrl);
}

int
main(void)
{
	db = tz_new();
	RUN(test_rfc9018_vectors);
	RUN(test_verify);
	RUN(test_query_cookies);
	RUN(test_query_malformed);
	RUN(test_query_rrl_exempt);
	cookie_mac_close(&mac);
	zonedb_free(db);
	return UNIT_DONE();
}
