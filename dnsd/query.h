/* The per-query path: a received packet in, a response out, from prepared
 * answers. */
#ifndef DNSD_QUERY_H
#define DNSD_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cookie.h"
#include "rrl.h"
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
	uint8_t rrl;    /* RRL_PASS, or RRL_DROP / RRL_SLIP: rate-limited */
	uint8_t cookie; /* COOKIE_NONE, COOKIE_NEW or COOKIE_VALID */
};

/*
 * Who asked, for what depends on it: DNS cookies and, over UDP, response
 * rate limiting. All borrowed; the caller owns the clocks so that tests
 * can drive them.
 */
struct query_client {
	const struct sockaddr *addr; /* the source */
	struct cookie_mac *cookies;  /* NULL: COOKIE options are ignored */
	struct rrl *rrl;             /* NULL: no rate limit */
	uint64_t now_ms;             /* monotonic clock, for rrl */
	uint32_t now_s;              /* Unix time, for cookies */
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
 * QUERY_XFR; res is filled for the latter two, and res->rrl and
 * res->cookie always.
 *
 * With a client cl (NULL: none of this): an EDNS query's COOKIE option
 * gets our server cookie back in the reply's OPT (RFC 7873, RFC 9018);
 * then, over UDP and unless the query brought a valid server cookie, the
 * response counts against cl->rrl: over the rate it is dropped
 * (QUERY_DROP, res->rrl RRL_DROP) or slips out as an empty TC=1 answer
 * (header, question, OPT: res->rrl RRL_SLIP), before any lookup.
 *
 * Safe to call concurrently from several threads on the same db as long
 * as nobody writes to it, each thread with its own cl->cookies.
 */
int query_process(const struct zonedb *db, const uint8_t *pkt, size_t len,
                  int transport, const struct query_client *cl, uint8_t *out,
                  size_t cap, struct query_result *res);

#endif
