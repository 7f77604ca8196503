/* Response rate limiting over UDP (as Knot, NSD and BIND do it): a token
 * bucket per source prefix, with slip. */
#ifndef DNSD_RRL_H
#define DNSD_RRL_H

#include <stdint.h>
#include <sys/socket.h>

#define RRL_BUCKETS   65536 /* dnsd's table: 1.5 MiB, whatever the load */
#define RRL_V4_PREFIX 24    /* sources are grouped by /24... */
#define RRL_V6_PREFIX 56    /* ...and by /56 */

/* What to do with one response. */
enum {
	RRL_PASS = 0, /* send it */
	RRL_DROP = 1, /* over the rate: send nothing */
	RRL_SLIP = 2, /* over the rate: send an empty TC=1 answer instead,
	                 so that a real client retries over TCP */
};

struct rrl;

/*
 * A table of nbuckets (a power of two) token buckets: each source prefix
 * may get rate responses per second, with a burst of rate (one second's
 * worth, so at most about 2 * rate in the first second); every slip-th
 * limited response of a prefix slips (slip 0: every one is dropped, 1:
 * none is). Prefixes share a bucket when they hash to the same one while
 * both are active (the hash is seeded at random, which makes aiming at
 * someone else's bucket a guess); memory never grows. rate must be > 0.
 * Out of memory aborts.
 */
struct rrl *rrl_new(unsigned rate, unsigned slip, unsigned nbuckets);
void rrl_free(struct rrl *r);

/* Replaces the random seed of the hash: for tests that need to know which
 * prefixes share a bucket. */
void rrl_set_seed(struct rrl *r, uint64_t a, uint64_t b);

/*
 * Counts one response to sa at now_ms (any monotonic millisecond clock;
 * it must not go backwards by much: time that does counts as none).
 * Returns RRL_PASS, RRL_DROP or RRL_SLIP. Safe to call from several
 * threads at once (a spin lock per bucket).
 */
int rrl_check(struct rrl *r, const struct sockaddr *sa, uint64_t now_ms);

#endif
