/* Response rate limiting over UDP (as Knot, NSD and BIND do it): a token
 * bucket per source prefix, with slip. */
#include "rrl.h"

#include <assert.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

#define RRL_ONE 1000 /* tokens are counted in thousandths of a response */

struct rrl_bucket {
	uint64_t key;     /* the prefix (see rrl_key), 0: never used */
	uint64_t last_ms; /* when tokens was last brought up to date */
	uint32_t tokens;  /* RRL_ONE per response that may go now */
	uint16_t limited; /* limited responses, counted for slip */
	atomic_flag lock;
};

/* RRL_BUCKETS of them make the 1.5 MiB that rrl.h promises. */
_Static_assert(sizeof(struct rrl_bucket) <= 24, "rrl bucket grew");

struct rrl {
	uint32_t rate;  /* responses per second = tokens per millisecond */
	uint32_t burst; /* most tokens a bucket holds */
	unsigned slip;
	uint64_t mask; /* nbuckets - 1 */
	uint64_t seed[2];
	struct rrl_bucket *b; /* owned, mask + 1 entries */
};

struct rrl *
rrl_new(unsigned rate, unsigned slip, unsigned nbuckets)
{
	struct rrl *r = calloc(1, sizeof(*r));

	assert(rate > 0 && rate <= 1000000);
	assert(nbuckets > 0 && (nbuckets & (nbuckets - 1)) == 0);
	if (r == NULL)
		abort();
	r->rate = rate;
	r->burst = rate * RRL_ONE;
	r->slip = slip;
	r->mask = nbuckets - 1;
	/* Without random bytes the table still works, just predictably. */
	(void)RAND_bytes((unsigned char *)r->seed, sizeof(r->seed));
	r->b = calloc(nbuckets, sizeof(*r->b));
	if (r->b == NULL)
		abort();
	for (unsigned i = 0; i < nbuckets; i++)
		atomic_flag_clear(&r->b[i].lock);
	return r;
}

void
rrl_free(struct rrl *r)
{
	if (r == NULL)
		return;
	free(r->b);
	free(r);
}

void
rrl_set_seed(struct rrl *r, uint64_t a, uint64_t b)
{
	r->seed[0] = a;
	r->seed[1] = b;
}

/*
 * The prefix of sa as one nonzero number: a family tag in the top byte,
 * then the /24 (IPv4) or the /56 (IPv6). 0 for another family.
 */
static uint64_t
rrl_key(const struct sockaddr *sa)
{
	uint8_t ip[ADDR_IP_MAX];
	size_t n = addr_ip(sa, ip), keep;
	uint64_t k;

	if (n == 0)
		return 0;
	k = n == 4 ? 4 : 6;
	keep = n == 4 ? RRL_V4_PREFIX / 8 : RRL_V6_PREFIX / 8;
	for (size_t i = 0; i < keep; i++)
		k = k << 8 | ip[i];
	return k;
}

/* A seeded 64-bit mix (multiply, xor-shift): spreads prefixes evenly. */
static uint64_t
rrl_hash(const struct rrl *r, uint64_t k)
{
	k ^= r->seed[0];
	k *= 0xFF51AFD7ED558CCDULL;
	k ^= k >> 33;
	k ^= r->seed[1];
	k *= 0xC4CEB9FE1A85EC53ULL;
	k ^= k >> 29;
	return k;
}

/* Brings b's tokens up to now; caller holds the lock. */
static void
rrl_refill(const struct rrl *r, struct rrl_bucket *b, uint64_t now_ms)
{
	uint64_t elapsed, t;

	if (b->key != 0 && now_ms <= b->last_ms)
		return; /* no time has passed (or the clock went back) */
	elapsed = now_ms - b->last_ms;
	/*
	 * A second refills any bucket (the burst is one second's worth), and
	 * a bucket never used is full, whatever the clock's origin.
	 */
	if (elapsed >= 1000 || b->key == 0)
		t = r->burst;
	else
		t = b->tokens + elapsed * r->rate;
	b->tokens = t > r->burst ? r->burst : (uint32_t)t;
	b->last_ms = now_ms;
}

int
rrl_check(struct rrl *r, const struct sockaddr *sa, uint64_t now_ms)
{
	uint64_t key = rrl_key(sa);
	struct rrl_bucket *b;
	int verdict = RRL_PASS;

	if (key == 0)
		return RRL_PASS; /* not an IP source: nothing to group by */
	b = &r->b[rrl_hash(r, key) & r->mask];
	while (
	    atomic_flag_test_and_set_explicit(&b->lock, memory_order_acquire))
		; /* held for a few instructions by another worker */
	rrl_refill(r, b, now_ms);
	if (b->key != key && b->tokens == r->burst) {
		/*
		 * Another prefix's bucket, full again: that prefix has been
		 * quiet long enough that its state says nothing more than a
		 * new bucket's would. Take it over. A bucket still in use is
		 * shared instead (the newcomer counts against it).
		 */
		b->key = key;
		b->limited = 0;
	}
	if (b->tokens >= RRL_ONE) {
		b->tokens -= RRL_ONE;
	} else {
		b->limited++;
		if (r->slip > 0 && b->limited % r->slip == 0) {
			verdict = RRL_SLIP;
			b->limited = 0;
		} else {
			verdict = RRL_DROP;
		}
	}
	atomic_flag_clear_explicit(&b->lock, memory_order_release);
	return verdict;
}
