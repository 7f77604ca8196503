/*
 * ctld: the node's control line protocol on TCP, backed by raftd; loads the
 * node's zone files at start and on SIGHUP.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "dispatch.h"
#include "flags.h"
#include "log.h"
#include "notify.h"
#include "server.h"
#include "startup.h"
#include "tls.h"
#include "zoneload.h"

struct ctld {
	struct server server;
	struct dispatch dispatch;
	struct zoneload zoneload;
	struct dr_tls *tls; /* owned: "ctl" TLS, NULL without a cluster key */
	uv_signal_t sigterm;
	uv_signal_t sigint;
	uv_signal_t sighup;
	bool stopping;
};

static void
ctld_signal_cb(uv_signal_t *sig, int signum)
{
	struct ctld *m = sig->data;

	if (m->stopping)
		return;
	m->stopping = true;
	log_info("ctld, stopping (%s)", strsignal(signum));
	dr_notify_stopping(NULL);
	server_stop(&m->server);
	zoneload_stop(&m->zoneload);
	dispatch_close(&m->dispatch);
	uv_close((uv_handle_t *)&m->sigterm, NULL);
	uv_close((uv_handle_t *)&m->sigint, NULL);
	uv_close((uv_handle_t *)&m->sighup, NULL);
}

/* SIGHUP: the zone files are read and submitted again. */
static void
ctld_sighup_cb(uv_signal_t *sig, int signum)
{
	struct ctld *m = sig->data;

	if (m->stopping)
		return;
	log_info("ctld, reloading %u zone files (%s)", m->zoneload.nfiles,
	         strsignal(signum));
	zoneload_reload(&m->zoneload, NULL, NULL);
}

/*
 * ldns takes and returns several 64 KiB buffers for every record it
 * parses; with glibc's default trim threshold the heap top then goes back
 * to the kernel and is taken again each time (brk twice per record: a
 * million-record zone took 5 s of system time instead of 1.7 s). Fixed
 * thresholds also stop glibc from raising them after a large free.
 */
static void
ctld_tune_malloc(void)
{
	if (mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024) != 1 ||
	    mallopt(M_MMAP_THRESHOLD, 1024 * 1024) != 1)
		log_warnx("ctld, cannot tune malloc");
}

int
main(int argc, char **argv)
{
	struct dr_config cfg;
	struct ctld m;
	uv_loop_t loop;
	int rv;

	rv = dr_startup(&cfg, argc, argv, "ctld", NULL, NULL);
	if (rv >= 0)
		return rv;
	(void)signal(SIGPIPE, SIG_IGN);
	dr_parent_death_signal();
	ctld_tune_malloc();
	memset(&m, 0, sizeof(m));

	rv = uv_loop_init(&loop);
	if (rv != 0)
		fatalx("ctld, cannot start the event loop (%s)",
		       uv_strerror(rv));
	rv = dr_tls_from_config(&cfg, "ctl", &m.tls);
	if (rv != 0)
		goto err_after_loop;
	rv = dispatch_init(&m.dispatch, &loop, &cfg);
	if (rv != 0)
		goto err_after_loop;
	m.dispatch.tls = m.tls;
	rv = server_start(&m.server, &loop, &cfg, &m.dispatch);
	if (rv != 0)
		goto err_after_dispatch;
	uv_signal_init(&loop, &m.sigterm);
	uv_signal_init(&loop, &m.sigint);
	uv_signal_init(&loop, &m.sighup);
	m.sigterm.data = &m;
	m.sigint.data = &m;
	m.sighup.data = &m;
	uv_signal_start(&m.sigterm, ctld_signal_cb, SIGTERM);
	uv_signal_start(&m.sigint, ctld_signal_cb, SIGINT);
	uv_signal_start(&m.sighup, ctld_sighup_cb, SIGHUP);
	zoneload_start(&m.zoneload, &loop, &cfg, &m.dispatch);
	/* Listening: commands are answered (writes wait for a leader). */
	dr_notify_ready("listening");

	uv_run(&loop, UV_RUN_DEFAULT);
	rv = uv_loop_close(&loop);
	if (rv != 0)
		log_warnx("ctld, loop closed with open handles (%s)",
		          uv_strerror(rv));
	log_info("ctld, stopped");
	dr_tls_free(m.tls);
	dr_flags_free(&cfg);
	return 0;

err_after_dispatch:
	dispatch_close(&m.dispatch);
err_after_loop:
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	dr_tls_free(m.tls);
	dr_flags_free(&cfg);
	return 1;
}
