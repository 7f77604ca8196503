/* libFuzzer target: arbitrary bytes through dnsd's query path, UDP and TCP. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd_testzone.h"
#include "packet.h"
#include "query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct zonedb *fuzz_db;
static uint8_t fuzz_out[65535];

static void
check_reply(const uint8_t *data, size_t size, int transport, size_t cap)
{
	struct query_result res;
	int rv = query_process(fuzz_db, data, size, transport, NULL, fuzz_out,
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
		fuzz_db = tz_new();
	check_reply(data, size, QUERY_UDP, sizeof(fuzz_out));
	check_reply(data, size, QUERY_TCP, sizeof(fuzz_out));
	check_reply(data, size, QUERY_UDP, QUERY_OUT_MIN);
	return 0;
}
