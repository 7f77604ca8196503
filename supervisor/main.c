/* dns-raft: runs a node's daemons (raftd, dnsd, ctld) and keeps them up. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "err.h"
#include "flags.h"
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
