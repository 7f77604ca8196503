/* dnsd: the node's read-only authoritative DNS server. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "feed.h"
#include "flags.h"
#include "listen.h"
#include "log.h"
#include "notify.h"
#include "report.h"
#include "startup.h"
#include "stats.h"

struct dnsd {
	uv_loop_t loop;
	struct dr_config cfg;
	struct stats stats;
	struct feed feed;
	struct report report; /* served index to raftd */
	struct listen listen;
	uv_signal_t sig_term, sig_int, sig_hup;
	bool have_signals, have_feed, have_listen, have_report, stopping;
	bool loaded; /* the first baseline of state.db is served */
};

/*
 * Ready for systemd once both the sockets are bound and a first copy of
 * state.db is served: before that every query would be REFUSED. Under
 * systemd raftd is ready (state.db exists) before dnsd starts, so this
 * takes one load; if state.db cannot be read, dnsd stays "activating".
 */
static void
dnsd_ready_check(struct dnsd *d)
{
	char status[128];

	if (!d->have_listen || !d->loaded || d->stopping)
		return;
	(void)snprintf(status, sizeof(status),
	               "serving %" PRIu64 " records in %" PRIu64 " zones",
	               d->stats.records, d->stats.zones);
	dr_notify_ready(status);
}

static void
dnsd_loaded_cb(struct feed *f, void *arg)
{
	struct dnsd *d = arg;

	d->loaded = true;
	dnsd_ready_check(d);
}

static void
dnsd_served_cb(struct feed *f, uint64_t index, void *arg)
{
	struct dnsd *d = arg;

	if (d->have_report)
		report_served(&d->report, index);
}

static void
dnsd_stop(struct dnsd *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	dr_notify_stopping(NULL);
	if (d->have_listen)
		listen_stop(&d->listen);
	if (d->have_feed)
		feed_stop(&d->feed);
	if (d->have_report)
		report_stop(&d->report);
	stats_serve_stop(&d->stats);
	if (d->have_signals) {
		uv_close((uv_handle_t *)&d->sig_term, NULL);
		uv_close((uv_handle_t *)&d->sig_int, NULL);
		uv_close((uv_handle_t *)&d->sig_hup, NULL);
	}
}

static void
dnsd_signal_cb(uv_signal_t *h, int signum)
{
	struct dnsd *d = h->data;

	if (signum == SIGHUP) {
		/* Zone files are ctld's; dnsd follows state.db. */
		log_debug("%s, SIGHUP ignored", d->cfg.id);
		return;
	}
	log_info("%s, stopping (%s)", d->cfg.id, strsignal(signum));
	dnsd_stop(d);
}

static void
dnsd_signals_start(struct dnsd *d)
{
	uv_signal_t *h[] = { &d->sig_term, &d->sig_int, &d->sig_hup };
	int sig[] = { SIGTERM, SIGINT, SIGHUP };

	for (size_t i = 0; i < 3; i++) {
		if (uv_signal_init(&d->loop, h[i]) != 0 ||
		    uv_signal_start(h[i], dnsd_signal_cb, sig[i]) != 0)
			fatalx("cannot watch signal %d", sig[i]);
		h[i]->data = d;
	}
	d->have_signals = true;
}

/*
 * Counters, then the feed (answers REFUSED until the first load), then
 * the sockets. Failures after the feed started go through dnsd_stop.
 */
static int
dnsd_start(struct dnsd *d)
{
	char path[DR_PATH_LEN + 64];
	unsigned workers = listen_default_workers();
	struct listen_config lc;
	int rv;

	dr_run_dir(&d->cfg, path, sizeof(path));
	if ((rv = dr_mkdirs(path)) != 0)
		return rv;
	stats_init(&d->stats, workers + 1);
	dr_ipc_url(&d->cfg, "dnsd", path, sizeof(path));
	if ((rv = stats_serve_start(&d->stats, &d->loop, path)) != 0)
		return rv;
	(void)snprintf(path, sizeof(path), "%s/state.db", d->cfg.data_dir);
	feed_init(&d->feed, &d->loop, path, &d->stats);
	feed_on_ready(&d->feed, dnsd_loaded_cb, d);
	feed_on_served(&d->feed, dnsd_served_cb, d);
	d->have_feed = true;
	dnsd_signals_start(d);
	dr_ipc_url(&d->cfg, "raftd", path, sizeof(path));
	if ((rv = report_start(&d->report, &d->loop, path)) != 0)
		goto err;
	d->have_report = true;
	dr_ipc_url(&d->cfg, "pub", path, sizeof(path));
	if ((rv = feed_start(&d->feed, path)) != 0)
		goto err;
	lc.addr = d->cfg.dns_addr;
	lc.nworkers = workers;
	lc.rrl_rate = d->cfg.dns_rrl;
	lc.rrl_slip = d->cfg.dns_rrl_slip;
	if ((rv = listen_start(&d->listen, &d->loop, &lc, &d->feed.view,
	                       &d->stats)) != 0)
		goto err;
	d->have_listen = true;
	dnsd_ready_check(d);
	return 0;

err:
	dnsd_stop(d);
	return rv;
}

int
main(int argc, char **argv)
{
	static struct dnsd d;
	int rv;

	rv = dr_startup(&d.cfg, argc, argv, "dnsd", NULL, NULL);
	if (rv >= 0)
		return rv;
	(void)signal(SIGPIPE, SIG_IGN);
	dr_parent_death_signal();
	if (uv_loop_init(&d.loop) != 0)
		fatalx("cannot create the event loop");

	rv = dnsd_start(&d);
	if (rv != 0)
		log_warnx("%s, cannot start (%s)", d.cfg.id, dr_strerror(rv));
	uv_run(&d.loop, UV_RUN_DEFAULT);
	if (d.have_feed)
		feed_close(&d.feed);
	stats_close(&d.stats);
	if (uv_loop_close(&d.loop) != 0)
		log_warnx("event loop closed with handles still open");
	if (rv == 0)
		log_info("%s, stopped", d.cfg.id);
	dr_flags_free(&d.cfg);
	return rv == 0 ? 0 : 1;
}
