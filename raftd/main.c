/* raftd: the node's Raft member and the only writer of state.db. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "flags.h"
#include "join.h"
#include "log.h"
#include "node.h"
#include "notify.h"
#include "publish.h"
#include "relay.h"
#include "serve.h"
#include "startup.h"
#include "store.h"
#include "tls.h"

struct raftd {
	uv_loop_t loop;
	struct dr_config cfg;
	struct store *store;
	struct publish publish;
	struct node node;
	struct serve serve;
	struct join join;
	struct relay relay;
	bool have_relay;
	struct dr_tls *raft_tls; /* owned; NULL without a cluster key */
	struct dr_tls *ctl_tls;  /* owned: joining through a member's ctld */
	uv_signal_t sig_term, sig_int, sig_hup;
	bool have_node, have_signals, stopping;
	int exit_code;
};

/* Every entry took one change number: publish each, rejected ones too. */
static void
raftd_applied_cb(void *arg, uint64_t index, const struct store_result *res)
{
	struct raftd *d = arg;

	publish_change(&d->publish, index, res);
}

static void
raftd_reset_cb(void *arg)
{
	struct raftd *d = arg;

	publish_reset(&d->publish);
}

static void
raftd_flushed_cb(void *arg)
{
	struct raftd *d = arg;

	publish_flush(&d->publish);
}

static void
raftd_leader_cb(void *arg)
{
	struct raftd *d = arg;

	serve_leader_known(&d->serve);
}

static void
raftd_relay_cb(void *arg, struct dr_stream *stream, raft_id id,
               const uint8_t *extra, size_t len)
{
	relay_accept(arg, stream, id, extra, len);
}

/* Last step of the shutdown chain: raft is closed, nothing is pending. */
static void
raftd_node_closed_cb(struct node *n)
{
	struct raftd *d = n->hooks.arg;

	if (d->have_relay)
		relay_close(&d->relay); /* requests relayed end here */
	serve_stop(&d->serve);
	publish_stop(&d->publish);
	if (d->have_signals) {
		uv_close((uv_handle_t *)&d->sig_term, NULL);
		uv_close((uv_handle_t *)&d->sig_int, NULL);
		uv_close((uv_handle_t *)&d->sig_hup, NULL);
	}
	log_info("%s, stopped", d->cfg.id);
}

static void
raftd_stop(struct raftd *d, int exit_code)
{
	if (d->stopping)
		return;
	d->stopping = true;
	d->exit_code = exit_code;
	dr_notify_stopping(NULL);
	join_stop(&d->join);
	serve_drain(&d->serve);
	node_close(&d->node, raftd_node_closed_cb);
}

static void
raftd_signal_cb(uv_signal_t *h, int signum)
{
	struct raftd *d = h->data;

	if (signum == SIGHUP) {
		log_debug("%s, SIGHUP ignored (ctld loads the zone files)",
		          d->cfg.id);
		return;
	}
	log_info("%s, stopping (%s)", d->cfg.id, strsignal(signum));
	raftd_stop(d, 0);
}

static void
raftd_signals_start(struct raftd *d)
{
	uv_signal_t *h[] = { &d->sig_term, &d->sig_int, &d->sig_hup };
	int sig[] = { SIGTERM, SIGINT, SIGHUP };
	size_t i;

	for (i = 0; i < 3; i++) {
		if (uv_signal_init(&d->loop, h[i]) != 0 ||
		    uv_signal_start(h[i], raftd_signal_cb, sig[i]) != 0)
			fatalx("cannot watch signal %d", sig[i]);
		h[i]->data = d;
	}
	d->have_signals = true;
}

/*
 * Opens state.db, the pub socket and c-raft, then serves ctld. On a
 * failure after c-raft was set up the node is closed through the normal
 * shutdown chain, so the loop still has to run.
 */
static int
raftd_start(struct raftd *d)
{
	struct node_hooks hooks = { raftd_applied_cb, raftd_reset_cb,
		                    raftd_flushed_cb, raftd_leader_cb, d };
	char path[DR_PATH_LEN + 64];
	int rv;

	if ((rv = dr_tls_from_config(&d->cfg, "raft", &d->raft_tls)) != 0 ||
	    (rv = dr_tls_from_config(&d->cfg, "ctl", &d->ctl_tls)) != 0)
		return rv;
	dr_run_dir(&d->cfg, path, sizeof(path));
	if ((rv = dr_mkdirs(d->cfg.data_dir)) != 0 ||
	    (rv = dr_mkdirs(path)) != 0)
		return rv;
	snprintf(path, sizeof(path), "%s/state.db", d->cfg.data_dir);
	if ((rv = store_open(&d->store, path)) != 0)
		return rv;
	dr_ipc_url(&d->cfg, "pub", path, sizeof(path));
	if ((rv = publish_start(&d->publish, &d->loop, path, d->store)) != 0)
		goto err_after_store;
	if ((rv = node_init(&d->node, &d->loop, &d->cfg, d->store, &hooks,
	                    d->raft_tls)) != 0)
		goto err_after_publish;
	d->have_node = true;
	raftd_signals_start(d);
	if ((rv = node_start(&d->node)) != 0)
		goto err_after_node;
	if ((rv = relay_init(&d->relay, &d->loop, d->raft_tls, d->node.id,
	                     d->node.raft_addr, serve_relayed, &d->serve)) != 0)
		goto err_after_node;
	d->have_relay = true;
	dr_ipc_url(&d->cfg, "raftd", path, sizeof(path));
	if ((rv = serve_start(&d->serve, &d->loop, path, &d->node,
	                      &d->relay)) != 0)
		goto err_after_node;
	transport_set_relay(&d->node.transport, raftd_relay_cb, &d->relay);
	if ((rv = join_start(&d->join, &d->loop, &d->cfg, &d->node,
	                     d->ctl_tls)) != 0)
		goto err_after_node;
	/*
	 * Raft runs and both sockets are bound: ctld and dnsd can connect.
	 * A joining node is ready before it is a member: that needs the
	 * cluster, and local reads work meanwhile.
	 */
	dr_notify_ready("raft started");
	return 0;

err_after_node:
	raftd_stop(d, 1);
	return rv;
err_after_publish:
	publish_stop(&d->publish);
err_after_store:
	store_close(d->store);
	d->store = NULL;
	return rv;
}

int
main(int argc, char **argv)
{
	static struct raftd d;
	int rv;

	rv = dr_startup(&d.cfg, argc, argv, "raftd", NULL, NULL);
	if (rv >= 0)
		return rv;
	signal(SIGPIPE, SIG_IGN);
	dr_parent_death_signal();
	if (uv_loop_init(&d.loop) != 0)
		fatalx("cannot create the event loop");

	rv = raftd_start(&d);
	if (rv != 0 && !d.have_node) {
		log_warnx("%s, cannot start (%s)", d.cfg.id, dr_strerror(rv));
		dr_tls_free(d.raft_tls);
		dr_tls_free(d.ctl_tls);
		dr_flags_free(&d.cfg);
		return 1;
	}
	if (rv != 0)
		log_warnx("%s, cannot start (%s)", d.cfg.id, dr_strerror(rv));
	uv_run(&d.loop, UV_RUN_DEFAULT);
	store_close(d.store);
	dr_tls_free(d.raft_tls);
	dr_tls_free(d.ctl_tls);
	if (uv_loop_close(&d.loop) != 0)
		log_warnx("event loop closed with handles still open");
	dr_flags_free(&d.cfg);
	return d.exit_code;
}
