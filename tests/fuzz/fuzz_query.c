/* libFuzzer target: arbitrary bytes through dnsd's query path, UDP and TCP,
 * without and with a client (DNS cookies; RRL in its slip state). */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "dnsd_testzone.h"
#include "packet.h"
#include "query.h"
#include "rrl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct zonedb *fuzz_db;
static uint8_t fuzz_out[65535];
static struct sockaddr_in fuzz_src;
static struct cookie_mac fuzz_mac;
/* Cookies only; cookies and a bucket that is always empty (every answer
 * slips unless a valid cookie came), at fixed clocks: deterministic. */
static struct query_client fuzz_cookies, fuzz_slip;

static void
fuzz_init(void)
{
	static const uint8_t secret[COOKIE_SECRET_LEN] = "fuzzing secret!";

	fuzz_db = tz_new();
	fuzz_src.sin_family = AF_INET;
	fuzz_src.sin_addr.s_addr = htonl(0xC0000201);
	if (cookie_mac_init(&fuzz_mac, secret) != 0)
		abort();
	fuzz_cookies.addr = (const struct sockaddr *)&fuzz_src;
	fuzz_cookies.cookies = &fuzz_mac;
	fuzz_cookies.now_s = 1700000000u;
	fuzz_cookies.now_ms = 1000000;
	fuzz_slip = fuzz_cookies;
	fuzz_slip.rrl = rrl_new(1, 1, 1);
	(void)rrl_check(fuzz_slip.rrl, fuzz_slip.addr, fuzz_slip.now_ms);
}

static void
check_reply(const uint8_t *data, size_t size, int transport, size_t cap,
            const struct query_client *cl)
{
	struct query_result res;
	int rv = query_process(fuzz_db, data, size, transport, cl, fuzz_out,
	                       cap, &res);

	if (rv == QUERY_DROP)
		return;
	/* Invariants of any reply: fits the limit, is a response, same ID. */
	size_t limit = transport == QUERY_TCP ? cap : 4096;
	if (res.len < PKT_HDR || res.len > limit || res.len > cap)
		abort();
	if (!(fuzz_out[2] & 0x80) || memcmp(fuzz_out, data, 2) != 0)
		abort();
	if (transport == QUERY_UDP && res.len > 512) {
		/* Only an EDNS query may get more than 512 bytes. */
		if (pkt_u16(fuzz_out + 10) == 0)
			abort();
	}
	/* The reply must parse: every pointer and count consistent. */
	ldns_pkt *p = NULL;
	if (ldns_wire2pkt(&p, fuzz_out, res.len) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_db == NULL)
		fuzz_init();
	check_reply(data, size, QUERY_UDP, sizeof(fuzz_out), NULL);
	check_reply(data, size, QUERY_TCP, sizeof(fuzz_out), NULL);
	check_reply(data, size, QUERY_UDP, QUERY_OUT_MIN, NULL);
	check_reply(data, size, QUERY_UDP, sizeof(fuzz_out), &fuzz_cookies);
	check_reply(data, size, QUERY_TCP, sizeof(fuzz_out), &fuzz_cookies);
	check_reply(data, size, QUERY_UDP, QUERY_OUT_MIN, &fuzz_slip);
	return 0;
}
