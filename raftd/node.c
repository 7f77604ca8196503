/* The c-raft node: transport, storage, bootstrap, leadership tracking. */
#include "node.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "log.h"
#include "membership.h"
#include "status.h"
#include "wire.h"

static void
node_applied_cb(void *arg, uint64_t index, const struct store_result *res,
                uint64_t leader_term)
{
	struct node *n = arg;

	if (n->hooks.applied_cb != NULL)
		n->hooks.applied_cb(n->hooks.arg, index, res);
	propose_applied(
	    &n->propose, index,
	    res->outcome == STORE_REJECTED ||
	            (res->outcome == STORE_DUPLICATE && res->first_rejected)
	        ? res->reason
	        : NULL,
	    leader_term);
}

/* Commits what c-raft applied, tells of each entry, then of the batch. */
static void
node_commit(struct node *n)
{
	fsm_flush(&n->fsm);
	if (n->hooks.flushed_cb != NULL)
		n->hooks.flushed_cb(n->hooks.arg);
}

/* Before the loop sleeps: commit what c-raft applied, then tell. */
static void
node_flush_cb(uv_prepare_t *h)
{
	struct node *n = h->data;

	node_commit(n);
	propose_flush(&n->propose);
}

static void
node_reset_cb(void *arg)
{
	struct node *n = arg;

	if (n->hooks.reset_cb != NULL)
		n->hooks.reset_cb(n->hooks.arg);
}

/* Name of a server for logs: its member id, or its Raft id. */
static void
node_server_name(struct node *n, raft_id id, char *out, size_t outlen)
{
	struct store_member m;

	if (id == 0)
		snprintf(out, outlen, "none");
	else if (store_member_by_raft_id(n->store, id, &m) == 0)
		snprintf(out, outlen, "%s", m.id);
	else
		snprintf(out, outlen, "%llu", id);
}

static void
node_log_config(struct node *n)
{
	const struct raft_configuration *c = &n->raft.configuration;
	char line[1024], name[STORE_ID_MAX + 24];
	size_t used = 0;
	unsigned i;

	line[0] = '\0';
	for (i = 0; i < c->n && used < sizeof(line); i++) {
		int k;

		node_server_name(n, c->servers[i].id, name, sizeof(name));
		k = snprintf(line + used, sizeof(line) - used, "%s%s %s %s",
		             i ? ", " : "", name, c->servers[i].address,
		             status_role_name(c->servers[i].role));
		if (k < 0)
			break;
		used += (size_t)k;
	}
	log_info("configuration, now %u servers at index %llu (%s)", c->n,
	         n->raft.configuration_index, line);
}

/* Logs elections and leadership changes; fails proposals on step-down. */
static void
node_role_changed(struct node *n, int state, raft_id leader, raft_term term)
{
	char name[STORE_ID_MAX + 24];
	bool was_leader = n->last_state == RAFT_LEADER;

	if (was_leader && state != RAFT_LEADER) {
		log_info("%s, lost leadership (term %llu)", n->cfg->id, term);
		propose_fail_all(&n->propose, "leadership lost");
	}
	switch (state) {
	case RAFT_LEADER:
		if (!was_leader || term != n->last_term) {
			log_info("%s, became leader (term %llu)", n->cfg->id,
			         term);
			membership_ensure_self(n);
		}
		break;
	case RAFT_CANDIDATE:
		if (n->last_state != RAFT_CANDIDATE || term != n->last_term)
			log_info("%s, election started (term %llu)", n->cfg->id,
			         term);
		break;
	case RAFT_FOLLOWER:
		if (leader != 0 && leader != n->last_leader) {
			node_server_name(n, leader, name, sizeof(name));
			log_info("%s, following leader %s (term %llu)",
			         n->cfg->id, name, term);
		} else if (leader == 0 && n->last_leader != 0) {
			log_info("%s, leader unknown (term %llu)", n->cfg->id,
			         term);
		}
		break;
	default:
		break;
	}
}

static void
node_watch_cb(uv_check_t *h)
{
	struct node *n = h->data;
	struct raft *r = &n->raft;
	const char *addr;
	raft_id leader;
	int state;

	if (n->closing)
		return;
	node_commit(n);
	propose_flush(&n->propose);
	state = raft_state(r);
	raft_leader(r, &leader, &addr);
	if (state != n->last_state || leader != n->last_leader ||
	    r->current_term != n->last_term) {
		node_role_changed(n, state, leader, r->current_term);
		n->last_state = state;
		n->last_leader = leader;
		n->last_term = r->current_term;
		if (leader != 0 && n->hooks.leader_cb != NULL)
			n->hooks.leader_cb(n->hooks.arg);
	}
	if (r->configuration_index != n->last_conf_index) {
		n->last_conf_index = r->configuration_index;
		node_log_config(n);
	}
}

/* Notes that a message from id arrived now (see struct node_contact). */
static void
node_note_contact(struct node *n, raft_id id)
{
	struct node_contact *slot = &n->contacts[0];
	unsigned i;

	if (id == 0)
		return;
	for (i = 0; i < NODE_CONTACTS; i++) {
		struct node_contact *c = &n->contacts[i];

		if (c->id == id) {
			slot = c;
			break;
		}
		if (c->id == 0 || c->at_ms < slot->at_ms)
			slot = c;
		if (c->id == 0)
			break;
	}
	slot->id = id;
	slot->at_ms = uv_now(n->loop);
}

/*
 * c-raft's raft_uv calls the receive callback given to io->start with the
 * io given to raft_uv_init, which is embedded in struct node.
 */
static void
node_recv_cb(struct raft_io *io, struct raft_message *msg)
{
	struct node *n =
	    (struct node *)((char *)io - offsetof(struct node, io));

	node_note_contact(n, msg->server_id);
	n->recv_cb(io, msg);
}

static int
node_io_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
              raft_io_recv_cb recv)
{
	struct node *n =
	    (struct node *)((char *)io - offsetof(struct node, io));

	n->recv_cb = recv;
	return n->io_start(io, msecs, tick, node_recv_cb);
}

int64_t
node_last_contact_ms(struct node *n, raft_id id)
{
	uint64_t now = uv_now(n->loop);
	unsigned i;

	for (i = 0; i < NODE_CONTACTS; i++)
		if (n->contacts[i].id == id && id != 0)
			return now >= n->contacts[i].at_ms
			           ? (int64_t)(now - n->contacts[i].at_ms)
			           : 0;
	return -1;
}

int
node_init(struct node *n, uv_loop_t *loop, const struct dr_config *cfg,
          struct store *store, const struct node_hooks *hooks,
          struct dr_tls *raft_tls)
{
	struct fsm_hooks fh = { node_applied_cb, node_reset_cb, n };
	struct dr_addr bind;
	char bind_addr[DR_ADDR_LEN + 16];
	int rv;

	memset(n, 0, sizeof(*n));
	n->loop = loop;
	n->cfg = cfg;
	n->store = store;
	if (hooks != NULL)
		n->hooks = *hooks;
	n->id = dr_raft_id(cfg->id);
	if (dr_addr_advertise(cfg->raft_addr, n->raft_addr,
	                      sizeof(n->raft_addr)) != 0 ||
	    dr_addr_advertise(cfg->ctl_addr, n->ctl_addr,
	                      sizeof(n->ctl_addr)) != 0 ||
	    dr_addr_advertise(cfg->dns_addr, n->dns_addr,
	                      sizeof(n->dns_addr)) != 0 ||
	    dr_addr_parse(cfg->raft_addr, &bind) != 0) {
		log_warnx("%s, invalid address flags", cfg->id);
		return DR_EINVAL;
	}
	if ((size_t)snprintf(n->dir, sizeof(n->dir), "%s/raft",
	                     cfg->data_dir) >= sizeof(n->dir))
		return DR_EINVAL;
	if ((rv = dr_mkdirs(n->dir)) != 0)
		return rv;

	/* An empty host means every interface; peers dial n->raft_addr. */
	if (bind.host[0] == '\0')
		snprintf(bind_addr, sizeof(bind_addr), "0.0.0.0:%u", bind.port);
	else
		snprintf(bind_addr, sizeof(bind_addr), "%s", cfg->raft_addr);
	if ((rv = transport_init(&n->transport, loop, bind_addr, raft_tls)) !=
	    0) {
		log_warnx("raft, transport init failed (%s)", dr_strerror(rv));
		return DR_EIO;
	}
	if ((rv = raft_uv_init(&n->io, loop, n->dir, &n->transport.t)) != 0) {
		log_warnx("raft, storage init on %s failed (%s)", n->dir,
		          n->io.errmsg);
		return DR_EIO;
	}
	/* Sees every received message first, to know each peer's contact. */
	n->io_start = n->io.start;
	n->io.start = node_io_start;
	fsm_init(&n->fsm, &n->raft, store, &fh);
	fsm_use_io(&n->fsm, &n->io);
	if ((rv = raft_init(&n->raft, &n->io, &n->fsm.raft_fsm, n->id,
	                    n->raft_addr)) != 0) {
		log_warnx("raft, init failed (%s)", raft_errmsg(&n->raft));
		rv = DR_EIO;
		goto err_after_io;
	}
	n->raft.data = n;
	raft_set_election_timeout(&n->raft, cfg->election_timeout_ms);
	raft_set_heartbeat_timeout(&n->raft, cfg->heartbeat_timeout_ms);
	raft_set_snapshot_threshold(&n->raft, cfg->snapshot_threshold);
	raft_set_snapshot_trailing(&n->raft, cfg->snapshot_trailing);
	/* A node back from a partition must not depose a healthy leader. */
	raft_set_pre_vote(&n->raft, true);
	if (propose_init(&n->propose, loop, &n->raft) != 0 ||
	    uv_check_init(loop, &n->watch) != 0 ||
	    uv_prepare_init(loop, &n->flush) != 0)
		fatalx("raft, cannot create loop handles");
	n->watch.data = n;
	n->flush.data = n;
	n->last_state = RAFT_UNAVAILABLE;
	return 0;

err_after_io:
	raft_uv_close(&n->io);
	return rv;
}

static bool
node_file_exists(const char *dir, const char *name)
{
	char path[DR_PATH_LEN + 32];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

static int
node_bootstrap(struct node *n)
{
	struct raft_configuration conf;
	int rv;

	raft_configuration_init(&conf);
	rv = raft_configuration_add(&conf, n->id, n->raft_addr, RAFT_VOTER);
	if (rv == 0)
		rv = raft_bootstrap(&n->raft, &conf);
	raft_configuration_close(&conf);
	if (rv != 0) {
		log_warnx("raft, bootstrap failed (%s)", raft_errmsg(&n->raft));
		return DR_EIO;
	}
	n->bootstrapped = true;
	log_info("%s, bootstrapped a new cluster (raft id %" PRIu64 ", %s)",
	         n->cfg->id, n->id, n->raft_addr);
	return 0;
}

int
node_start(struct node *n)
{
	bool has_meta = node_file_exists(n->dir, "metadata1") ||
	                node_file_exists(n->dir, "metadata2");
	int rv;

	if (!has_meta) {
		/* A wiped raft dir next to a used state.db: never guess. */
		if (store_applied_index(n->store) > 0) {
			log_warnx("%s, %s has no raft state but state.db has "
			          "applied index %" PRIu64
			          "; refusing to start (restore the raft "
			          "directory, or remove state.db to resync "
			          "from the cluster)",
			          n->cfg->id, n->dir,
			          store_applied_index(n->store));
			return DR_EINVAL;
		}
		if (n->cfg->join == NULL && (rv = node_bootstrap(n)) != 0)
			return rv;
	}
	if ((rv = raft_start(&n->raft)) != 0) {
		log_warnx("raft, start failed (%s)", raft_errmsg(&n->raft));
		return DR_EIO;
	}
	uv_check_start(&n->watch, node_watch_cb);
	uv_prepare_start(&n->flush, node_flush_cb);
	log_info("%s, raft started (id %" PRIu64 ", %s, term %llu, last index "
	         "%llu, state applied index %" PRIu64 ")",
	         n->cfg->id, n->id, n->raft_addr, n->raft.current_term,
	         raft_last_index(&n->raft), store_applied_index(n->store));
	return 0;
}

static void
node_watch_close_cb(uv_handle_t *h)
{
	struct node *n = h->data;

	if (n->close_cb != NULL)
		n->close_cb(n);
}

static void
node_raft_close_cb(struct raft *r)
{
	struct node *n = r->data;

	node_commit(n);
	raft_uv_close(&n->io);
	propose_close(&n->propose);
	fsm_close(&n->fsm);
	uv_close((uv_handle_t *)&n->flush, NULL);
	uv_close((uv_handle_t *)&n->watch, node_watch_close_cb);
}

void
node_close(struct node *n, node_close_cb cb)
{
	if (n->closing)
		return;
	n->closing = true;
	n->close_cb = cb;
	uv_check_stop(&n->watch);
	uv_prepare_stop(&n->flush);
	n->raft.data = n;
	raft_close(&n->raft, node_raft_close_cb);
}

bool
node_is_leader(struct node *n)
{
	return !n->closing && raft_state(&n->raft) == RAFT_LEADER;
}

bool
node_is_voter(struct node *n)
{
	const struct raft_configuration *c = &n->raft.configuration;
	unsigned i;

	for (i = 0; i < c->n; i++)
		if (c->servers[i].id == n->id)
			return c->servers[i].role == RAFT_VOTER;
	return false;
}

int
node_leader_hint(struct node *n, char *out, size_t outlen)
{
	struct store_member m;
	struct dr_addr a;
	const char *addr;
	raft_id leader;

	out[0] = '\0';
	if (n->closing)
		return DR_ST_NOLEADER;
	raft_leader(&n->raft, &leader, &addr);
	if (leader == 0 || addr == NULL)
		return DR_ST_NOLEADER;
	if (store_member_by_raft_id(n->store, leader, &m) == 0) {
		snprintf(out, outlen, "%s %s", m.id, m.ctl_addr);
		return DR_ST_NOTLEADER;
	}
	/* Not recorded yet: guess the default ctl port (raft port + 200). */
	if (dr_addr_parse(addr, &a) != 0 || a.port > 65535 - 200)
		return DR_ST_NOLEADER;
	if (strchr(a.host, ':') != NULL)
		snprintf(out, outlen, "%llu [%s]:%u", leader, a.host,
		         a.port + 200u);
	else
		snprintf(out, outlen, "%llu %s:%u", leader,
		         a.host[0] ? a.host : "127.0.0.1", a.port + 200u);
	return DR_ST_NOTLEADER;
}

void
node_leader_name(struct node *n, char *out, size_t outlen)
{
	const char *addr;
	raft_id leader = 0;

	if (!n->closing)
		raft_leader(&n->raft, &leader, &addr);
	node_server_name(n, leader, out, outlen);
}

const char *
node_role_name(struct node *n)
{
	switch (n->closing ? RAFT_UNAVAILABLE : raft_state(&n->raft)) {
	case RAFT_LEADER:
		return "leader";
	case RAFT_FOLLOWER:
		return "follower";
	case RAFT_CANDIDATE:
		return "candidate";
	default:
		return "unavailable";
	}
}

struct node_barrier_req {
	struct raft_barrier req;
	node_done_cb cb;
	void *arg;
};

static void
node_barrier_cb(struct raft_barrier *req, int status)
{
	struct node_barrier_req *b = req->data;

	if (status == 0)
		b->cb(b->arg, DR_ST_OK, "");
	else
		b->cb(b->arg, DR_ST_NOTLEADER, raft_strerror(status));
	free(b);
}

int
node_barrier(struct node *n, node_done_cb cb, void *arg)
{
	struct node_barrier_req *b;
	int rv;

	if (!node_is_leader(n))
		return DR_ENOTLEADER;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		abort();
	b->cb = cb;
	b->arg = arg;
	b->req.data = b;
	rv = raft_barrier(&n->raft, &b->req, node_barrier_cb);
	if (rv != 0) {
		free(b);
		if (rv == RAFT_NOTLEADER || rv == RAFT_LEADERSHIPLOST)
			return DR_ENOTLEADER;
		log_warnx("raft, barrier failed (%s)", raft_errmsg(&n->raft));
		return DR_EIO;
	}
	return 0;
}
