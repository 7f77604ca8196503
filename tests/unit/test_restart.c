/* supervisor/restart: restart delays, their cap, and when to give up. */
#include "restart.h"
#include "unit.h"

/* Deaths right after each start: the delays double up to the cap. */
static void
test_backoff_capped(void)
{
	static const unsigned want[] = {
		100,  200,   400,   800,   1600,  3200,
		6400, 12800, 25600, 30000, 30000, 30000
	};
	struct restart r;
	unsigned delay, i;

	restart_init(&r);
	restart_ready(&r);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		delay = 0;
		CHECK(restart_next(&r, 50, &delay));
		CHECK_EQ_INT(delay, want[i]);
		CHECK_EQ_INT(r.failures, i + 1);
	}
	/* A started daemon is never given up on, however often it dies. */
	for (i = 0; i < 1000; i++)
		CHECK(restart_next(&r, 0, &delay));
	CHECK_EQ_INT(delay, RESTART_MAX_MS);
}

/* Up RESTART_STABLE_MS: the next death is a first one again. */
static void
test_stable_resets(void)
{
	struct restart r;
	unsigned delay;

	restart_init(&r);
	restart_ready(&r);
	CHECK(restart_next(&r, 10, &delay));
	CHECK(restart_next(&r, 10, &delay));
	CHECK(restart_next(&r, 10, &delay));
	CHECK_EQ_INT(delay, 400);
	CHECK(restart_next(&r, RESTART_STABLE_MS, &delay));
	CHECK_EQ_INT(delay, RESTART_MIN_MS);
	CHECK_EQ_INT(r.failures, 1);
	CHECK(restart_next(&r, RESTART_STABLE_MS - 1, &delay));
	CHECK_EQ_INT(delay, 2 * RESTART_MIN_MS);
}

/* Never ready: given up on at the RESTART_GIVE_UP-th death in a row. */
static void
test_give_up_only_before_start(void)
{
	struct restart r;
	unsigned delay, i;

	restart_init(&r);
	for (i = 1; i < RESTART_GIVE_UP; i++)
		CHECK(restart_next(&r, 20, &delay));
	CHECK(!restart_next(&r, 20, &delay));

	/* Up long enough counts as started, READY=1 or not. */
	restart_init(&r);
	CHECK(restart_next(&r, RESTART_STABLE_MS, &delay));
	CHECK(r.started);
	for (i = 0; i < 2 * RESTART_GIVE_UP; i++)
		CHECK(restart_next(&r, 0, &delay));

	/* Ready once, even after failed starts: restarted forever. */
	restart_init(&r);
	for (i = 1; i < RESTART_GIVE_UP; i++)
		CHECK(restart_next(&r, 20, &delay));
	restart_ready(&r);
	for (i = 0; i < 2 * RESTART_GIVE_UP; i++)
		CHECK(restart_next(&r, 20, &delay));
}

int
main(void)
{
	RUN(test_backoff_capped);
	RUN(test_stable_resets);
	RUN(test_give_up_only_before_start);
	return UNIT_DONE();
}
