/* The per-query path: a received packet in, a response out, from prepared
 * answers. */
#ifndef DNSD_QUERY_H
#define DNSD_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zonedb.h"

/* What the caller does with the packet. */
enum {
	QUERY_DROP = 0, /* send nothing */
	QUERY_SEND = 1, /* send out[0..res.len) */
	QUERY_XFR = 2,  /* AXFR/IXFR over TCP: out holds a REFUSED reply the
	                   caller may send if it does not serve transfers */
};

enum {
	QUERY_UDP = 0,
	QUERY_TCP = 1,
};

/* Smallest output buffer query_process accepts. */
#define QUERY_OUT_MIN 512

struct query_result {
	size_t len;     /* response bytes */
	uint16_t rcode; /* extended rcode sent (BADVERS = 16) */
	bool tc;        /* truncated */
	bool aa;
};

/*
 * Answers one query from db (NULL: answer REFUSED to everything). pkt/len
 * is the received message; out/cap the caller's buffer (>= QUERY_OUT_MIN;
 * 65535 for TCP). Over UDP the response is limited to 512 bytes, or to the
 * EDNS payload size clamped to [512, 4096]; an answer that does not fit
 * loses its additional section (except referral glue) and, if that is not
 * enough, goes out with TC=1 and the question only. Does no allocation
 * and no lookup other than hash probes. AXFR/IXFR over UDP get FORMERR
 * (RFC 5936 4.2: transfers need TCP). Returns QUERY_DROP, QUERY_SEND or
 * QUERY_XFR; res is filled for the latter two. Safe to call concurrently
 * from several threads on the same db as long as nobody writes to it.
 */
int query_process(const struct zonedb *db, const uint8_t *pkt, size_t len,
                  int transport, uint8_t *out, size_t cap,
                  struct query_result *res);

#endif
