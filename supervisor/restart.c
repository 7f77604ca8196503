/* When to start a daemon that went down again, and when to give up on it. */
#include "restart.h"

void
restart_init(struct restart *r)
{
	r->delay_ms = RESTART_MIN_MS;
	r->failures = 0;
	r->started = false;
}

void
restart_ready(struct restart *r)
{
	r->started = true;
}

bool
restart_next(struct restart *r, uint64_t up_ms, unsigned *delay_ms)
{
	if (up_ms >= RESTART_STABLE_MS) {
		/* It ran fine for a while: this death is a first one. */
		r->started = true;
		r->delay_ms = RESTART_MIN_MS;
		r->failures = 0;
	}
	r->failures++;
	if (!r->started && r->failures >= RESTART_GIVE_UP)
		return false;
	*delay_ms = r->delay_ms;
	r->delay_ms = r->delay_ms >= RESTART_MAX_MS / 2 ? RESTART_MAX_MS
	                                                : r->delay_ms * 2;
	return true;
}
