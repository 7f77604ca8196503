/* The start of every dns-raft main: flags, -h, -check, logging, limits. */
#include "startup.h"

#include <sys/resource.h>

#include "check.h"
#include "err.h"
#include "key.h"
#include "log.h"

/*
 * Every listener caps its connections well below the hard limit; the soft
 * limit (often 1024) would otherwise be the first to give.
 */
static void
startup_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("setrlimit RLIMIT_NOFILE");
}

/*
 * Every process refuses a bad key file before it starts anything, even
 * one that does not use the key itself (dnsd): an operator sees the error
 * whichever unit starts first.
 */
static int
startup_keys(const struct dr_config *cfg, const char *prog)
{
	struct dr_keyring kr;
	char err[1024];
	unsigned i;

	if (cfg->n_cluster_keys == 0)
		return 0;
	if (dr_keyring_load(cfg, &kr, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: -cluster.key: %s\n", prog, err);
		return DR_EINVAL;
	}
	for (i = 0; i < kr.n; i++)
		log_info("cluster key, key id %s %s (%s)", kr.keys[i].id,
		         i == 0 ? "in use" : "also accepted",
		         cfg->cluster_keys[i]);
	dr_keyring_wipe(&kr);
	return 0;
}

int
dr_startup(struct dr_config *cfg, int argc, char **argv, const char *prog,
           const char *help_extra,
           int (*check_more)(FILE *out, FILE *errf, const char *prog))
{
	char err[1024];
	int rv;

	if (dr_flags_parse(cfg, argc, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\nsee %s -h\n", prog, err, prog);
		return 2;
	}
	if (cfg->help) {
		dr_flags_usage(stdout, prog);
		if (help_extra != NULL)
			fputs(help_extra, stdout);
		dr_flags_free(cfg);
		return 0;
	}
	dr_log_init(prog, cfg->verbose);
	if (cfg->check) {
		rv = dr_check(cfg, prog, stdout, stderr, check_more);
		dr_flags_free(cfg);
		return rv == 0 ? 0 : 1;
	}
	if (startup_keys(cfg, prog) != 0) {
		dr_flags_free(cfg);
		return 2;
	}
	startup_nofile();
	if (cfg->loopback_default)
		log_info("no -cluster.key: raft %s and control %s listen on "
		         "loopback only",
		         cfg->raft_addr, cfg->ctl_addr);
	return -1;
}
