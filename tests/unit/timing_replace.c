/*
 * Timing of large ZONE_REPLACE commands on the store (they block the raft
 * loop while they apply): figures are printed, never asserted. Only the
 * outcomes are checked. Usage: timing_replace [records] (default 1000000,
 * 100000 in sanitizer builds).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "log.h"
#include "store.h"
#include "unit.h"

#if defined(__SANITIZE_ADDRESS__)
#define TIMING_DEFAULT 100000
#else
#define TIMING_DEFAULT 1000000
#endif

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Record types: all five kinds, or only A records (as most big zones). */
static int mixed;

/* Record i of the generated zone; variant 1 changes a few TTLs. */
static void
put_record(struct dr_buf *b, unsigned i, int variant)
{
	char line[256];
	/* Scatter names so that the file is not in key order. */
	unsigned h = (unsigned)((i * 2654435761u) % 1000003u);
	unsigned ttl = variant == 1 && i % 100000 == 7 ? 7200 : 3600;
	int n;

	switch (mixed ? i % 5 : 0) {
	case 0:
		n = snprintf(line, sizeof(line),
		             "h%u.example.com. %u A 10.%u.%u.%u\n", h, ttl,
		             (i >> 16) & 255, (i >> 8) & 255, i & 255);
		break;
	case 1:
		n = snprintf(line, sizeof(line),
		             "h%u.example.com. %u AAAA 2001:db8:%x::%x\n", h,
		             ttl, (i >> 16) + 1, (i & 0xfff) + 1);
		break;
	case 2:
		n = snprintf(line, sizeof(line),
		             "h%u.example.com. %u TXT \"v=spf1 -all %u\"\n", h,
		             ttl, i);
		break;
	case 3:
		n = snprintf(line, sizeof(line),
		             "h%u.example.com. %u MX 10 mail%u.example.com.\n",
		             h, ttl, i);
		break;
	default:
		n = snprintf(line, sizeof(line),
		             "_sip._tcp.h%u.example.com. %u SRV 10 20 5060 "
		             "sip%u.example.com.\n",
		             h, ttl, i);
		break;
	}
	dr_buf_put(b, line, (size_t)n);
}

static void
make_replace(struct dr_buf *cmd, unsigned n, int variant)
{
	struct dr_cmd c = { .type = DR_CMD_ZONE_REPLACE, .nargs = 3 };
	struct dr_buf text;
	unsigned i;

	dr_buf_init(&text);
	{
		const char *soa = "example.com. 3600 SOA ns1.example.com. "
		                  "hostmaster.example.com. 1 3600 900 604800 "
		                  "300\n";

		dr_buf_put(&text, soa, strlen(soa));
	}
	for (i = 0; i < n; i++)
		put_record(&text, i, variant);
	c.args[0].p = "example.com.";
	c.args[0].len = strlen(c.args[0].p);
	c.args[1].p = "timing";
	c.args[1].len = 6;
	c.args[2].p = (const char *)text.data;
	c.args[2].len = text.len;
	dr_buf_reset(cmd);
	if (dr_cmd_encode(&c, cmd) != 0)
		abort();
	dr_buf_close(&text);
}

/* CPU seconds of the process, all threads: less noisy than wall time. */
static double
cpu(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
run(struct store *s, uint64_t index, const struct dr_buf *cmd, const char *what)
{
	struct store_result res;
	double t0, t1, t2, c0;

	c0 = cpu();
	t0 = now();
	CHECK_EQ_INT(store_apply(s, index, cmd->data, cmd->len, &res), 0);
	t1 = now();
	CHECK_EQ_INT(store_commit(s), 0);
	t2 = now();
	CHECK_EQ_INT(res.outcome, STORE_APPLIED);
	printf("%-32s apply %6.3f s  commit %6.3f s  total %6.3f s  "
	       "cpu %6.3f s  (%s, %zu bytes of effects)\n",
	       what, t1 - t0, t2 - t1, t2 - t0, cpu() - c0,
	       res.reload ? "reload" : "listed", res.effects_len);
}

static void
run_all(const char *dir, unsigned n)
{
	char path[128];
	struct store *s;
	struct dr_buf cmd, out;
	double t0;

	snprintf(path, sizeof(path), "%s/state-%d.db", dir, mixed);
	if (store_open(&s, path) != 0)
		exit(1);
	dr_buf_init(&cmd);
	dr_buf_init(&out);
	make_replace(&cmd, n, 0);
	printf("zone of %u records (%s), command of %zu bytes\n", n + 1,
	       mixed ? "A, AAAA, TXT, MX, SRV" : "A only", cmd.len);
	run(s, 1, &cmd, "replace into an empty zone");
	run(s, 2, &cmd, "same replace again (unchanged)");
	make_replace(&cmd, n, 1);
	run(s, 3, &cmd, "replace with a few TTL changes");
	t0 = now();
	CHECK_EQ_INT(store_zone_dump(s, "example.com.", &out), 0);
	printf("%-32s %6.3f s (%zu bytes)\n", "zone dump", now() - t0, out.len);
	dr_buf_close(&out);
	dr_buf_close(&cmd);
	store_close(s);
}

int
main(int argc, char **argv)
{
	char dir[64], cmdline[128];
	unsigned n = TIMING_DEFAULT;

	if (argc > 1)
		n = (unsigned)strtoul(argv[1], NULL, 10);
	dr_log_init("timing_replace", false);
	snprintf(dir, sizeof(dir), "/tmp/drtimingXXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	for (mixed = 0; mixed < 2; mixed++)
		run_all(dir, n);
	snprintf(cmdline, sizeof(cmdline), "rm -rf %s", dir);
	if (system(cmdline) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return UNIT_DONE();
}
