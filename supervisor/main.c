/* dns-raft: runs a node's daemons (raftd, dnsd, ctld) and keeps them up. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "err.h"
#include "flags.h"
#include "key.h"
#include "log.h"
#include "startup.h"
#include "supervise.h"
#include "tools.h"

static const char main_help[] =
    "\nsignals:\n"
    "  SIGHUP   ctld reads the -zone.file files again and loads them\n"
    "  SIGTERM  stops ctld, dnsd, then raftd (also SIGINT)\n" TOOLS_HELP;

static int
main_usage_error(const char *reason)
{
	fprintf(stderr, "dns-raft: %s\nsee dns-raft -h\n", reason);
	return 2;
}

/*
 * Every -cluster.key file loads (mode 0600 or 0400, one key each) before
 * anything is created or started; the daemons load them again. Logs the
 * key ids, never a key. Returns 0, or DR_EINVAL with the reason in err.
 */
static int
main_keys(const struct dr_config *cfg, char *err, size_t errlen)
{
	struct dr_keyring kr;
	char why[1024];
	unsigned i;

	if (dr_keyring_load(cfg, &kr, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "-cluster.key: %s", why);
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
main(int argc, char **argv)
{
	struct dr_config cfg;
	struct supervise *sup;
	uv_loop_t *loop;
	char err[1200];
	int rv;

	signal(SIGPIPE, SIG_IGN);
	rv = tools_run(argc, argv);
	if (rv >= 0)
		return rv;
	/* The daemons get the same argv: -config FILE included. */
	rv = dr_startup(&cfg, argc, argv, "dns-raft", main_help,
	                supervise_check);
	if (rv >= 0)
		return rv;
	if (main_keys(&cfg, err, sizeof(err)) != 0) {
		/* Exit status 2, as for any bad flag; nothing was created. */
		fprintf(stderr, "dns-raft: %s\n", err);
		dr_flags_free(&cfg);
		return 2;
	}
	rv = supervise_prepare(&cfg, err, sizeof(err));
	if (rv == DR_EINVAL) {
		dr_flags_free(&cfg);
		return main_usage_error(err);
	}
	if (rv != 0)
		fatalx("node %s, cannot create %s", cfg.id, cfg.data_dir);

	loop = uv_default_loop();
	if (supervise_new(loop, &cfg, argc, argv, &sup) != 0)
		fatalx("node %s, cannot start", cfg.id);
	/* On failure every handle is already closing; the run finishes it. */
	supervise_start(sup);
	uv_run(loop, UV_RUN_DEFAULT);
	rv = supervise_exit_code(sup);
	supervise_free(sup);
	uv_loop_close(loop);
	dr_flags_free(&cfg);
	return rv;
}
