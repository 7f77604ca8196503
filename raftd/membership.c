/* Cluster membership on the leader: join, remove, transfer, self record. */
#include "membership.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "log.h"

struct member_op {
	struct node *n;
	raft_id id;
	char name[STORE_ID_MAX + 1];
	char raft_addr[DR_ADDR_LEN];
	char ctl_addr[DR_ADDR_LEN];
	char dns_addr[DR_ADDR_LEN];
	struct raft_change change;
	struct raft_transfer transfer;
	node_done_cb cb;
	void *arg;
};

static struct member_op *
member_op_new(struct node *n, node_done_cb cb, void *arg)
{
	struct member_op *op = calloc(1, sizeof(*op));

	if (op == NULL)
		abort();
	op->n = n;
	op->cb = cb;
	op->arg = arg;
	op->change.data = op;
	op->transfer.data = op;
	return op;
}

static void
member_op_done(struct member_op *op, int status, const char *msg)
{
	op->cb(op->arg, status, msg);
	free(op);
}

/* Ends op with the reply matching a c-raft error code. */
static void
member_op_raft_err(struct member_op *op, const char *what, int rv)
{
	char msg[RAFT_ERRMSG_BUF_SIZE + 64];

	switch (rv) {
	case RAFT_CANTCHANGE:
		member_op_done(op, DR_ST_BUSY, "membership change in progress");
		return;
	case RAFT_NOTLEADER:
	case RAFT_LEADERSHIPLOST:
		member_op_done(op, DR_ST_NOTLEADER, "leadership lost");
		return;
	case RAFT_NOCONNECTION:
		snprintf(msg, sizeof(msg), "%s %s: did not catch up in time",
		         what, op->name);
		break;
	default:
		snprintf(msg, sizeof(msg), "%s %s: %s", what, op->name,
		         raft_strerror(rv));
		break;
	}
	log_warnx("membership, %s", msg);
	member_op_done(op, DR_ST_ERROR, msg);
}

static bool
member_valid_id(const char *id)
{
	size_t n = strlen(id), i;

	if (n == 0 || n > STORE_ID_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return false;
	}
	return true;
}

static const struct raft_server *
member_find(struct node *n, raft_id id)
{
	const struct raft_configuration *c = &n->raft.configuration;
	unsigned i;

	for (i = 0; i < c->n; i++)
		if (c->servers[i].id == id)
			return &c->servers[i];
	return NULL;
}

static const struct raft_server *
member_find_addr(struct node *n, const char *addr)
{
	const struct raft_configuration *c = &n->raft.configuration;
	unsigned i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->servers[i].address, addr) == 0)
			return &c->servers[i];
	return NULL;
}

static void
member_proposed_cb(void *arg, int status, const char *msg)
{
	struct member_op *op = arg;

	if (status == DR_ST_OK)
		log_info("membership, members table updated for %s", op->name);
	member_op_done(op, status, msg);
}

static void
member_propose(struct member_op *op, const struct dr_cmd *c)
{
	struct dr_buf b;
	int rv;

	dr_buf_init(&b);
	rv = dr_cmd_encode(c, &b);
	if (rv == 0)
		rv = propose_submit(&op->n->propose, b.data, b.len,
		                    member_proposed_cb, op);
	dr_buf_close(&b);
	if (rv == DR_ENOTLEADER)
		member_op_done(op, DR_ST_NOTLEADER, "leadership lost");
	else if (rv != 0)
		member_op_done(op, DR_ST_ERROR, dr_strerror(rv));
}

static struct dr_str
member_str(const char *s)
{
	struct dr_str v = { s, strlen(s) };

	return v;
}

/* Makes sure members has op's row exactly; proposes MEMBER_ADD if not. */
static void
member_record(struct member_op *op)
{
	struct store_member m;
	struct dr_cmd c;
	char raft_id[24];

	if (store_member_get(op->n->store, op->name, &m) == 0 &&
	    m.raft_id == op->id && strcmp(m.raft_addr, op->raft_addr) == 0 &&
	    strcmp(m.ctl_addr, op->ctl_addr) == 0 &&
	    strcmp(m.dns_addr, op->dns_addr) == 0) {
		member_op_done(op, DR_ST_OK, "");
		return;
	}
	snprintf(raft_id, sizeof(raft_id), "%llu", op->id);
	memset(&c, 0, sizeof(c));
	c.type = DR_CMD_MEMBER_ADD;
	c.nargs = 5;
	c.args[0] = member_str(op->name);
	c.args[1] = member_str(raft_id);
	c.args[2] = member_str(op->raft_addr);
	c.args[3] = member_str(op->ctl_addr);
	c.args[4] = member_str(op->dns_addr);
	member_propose(op, &c);
}

static void
member_assigned_cb(struct raft_change *req, int status)
{
	struct member_op *op = req->data;

	if (status != 0) {
		member_op_raft_err(op, "promoting", status);
		return;
	}
	log_info("membership, %s is now a voter", op->name);
	member_record(op);
}

static void
member_assign_voter(struct member_op *op)
{
	int rv = raft_assign(&op->n->raft, &op->change, op->id, RAFT_VOTER,
	                     member_assigned_cb);

	if (rv != 0)
		member_op_raft_err(op, "promoting", rv);
	else
		log_info("membership, promoting %s to voter", op->name);
}

static void
member_added_cb(struct raft_change *req, int status)
{
	struct member_op *op = req->data;

	if (status != 0) {
		member_op_raft_err(op, "adding", status);
		return;
	}
	log_info("membership, %s added as spare (%s)", op->name, op->raft_addr);
	member_assign_voter(op);
}

/*
 * Fills op's name, id and connectable addresses; false (op ended with the
 * reason) if any is invalid.
 */
static bool
member_op_addrs(struct member_op *op, const char *what, const char *id,
                const char *raft_addr, const char *ctl_addr,
                const char *dns_addr)
{
	/* Record connectable addresses (":8301" -> "127.0.0.1:8301"). */
	if (!member_valid_id(id) ||
	    dr_addr_advertise(raft_addr, op->raft_addr,
	                      sizeof(op->raft_addr)) != 0 ||
	    dr_addr_advertise(ctl_addr, op->ctl_addr, sizeof(op->ctl_addr)) !=
	        0 ||
	    dr_addr_advertise(dns_addr, op->dns_addr, sizeof(op->dns_addr)) !=
	        0) {
		log_warnx("membership, %s of \"%.64s\" rejected (invalid id "
		          "or address)",
		          what, id);
		member_op_done(op, DR_ST_ERROR, "invalid id or address");
		return false;
	}
	snprintf(op->name, sizeof(op->name), "%s", id);
	op->id = dr_raft_id(id);
	return true;
}

static void
member_refuse(struct member_op *op, const char *what, const char *msg)
{
	log_warnx("membership, %s of %s rejected (%s)", what, op->name, msg);
	member_op_done(op, DR_ST_ERROR, msg);
}

int
membership_join(struct node *n, const char *id, const char *raft_addr,
                const char *ctl_addr, const char *dns_addr, node_done_cb cb,
                void *arg)
{
	const struct raft_server *srv, *other;
	struct store_member m;
	struct member_op *op;
	char msg[4 * DR_ADDR_LEN + 128];
	int rv;

	if (!node_is_leader(n))
		return DR_ENOTLEADER;
	op = member_op_new(n, cb, arg);
	if (!member_op_addrs(op, "join", id, raft_addr, ctl_addr, dns_addr))
		return 0;
	srv = member_find(n, op->id);
	other = member_find_addr(n, op->raft_addr);
	if (other != NULL && other->id != op->id) {
		if (store_member_by_raft_id(n->store, other->id, &m) == 0)
			snprintf(msg, sizeof(msg),
			         "raft address %s is member %s's (at %s %s %s)",
			         op->raft_addr, m.id, m.raft_addr, m.ctl_addr,
			         m.dns_addr);
		else
			snprintf(msg, sizeof(msg),
			         "raft address %s is already a member's (raft "
			         "id %llu)",
			         op->raft_addr, (unsigned long long)other->id);
		member_refuse(op, "join", msg);
		return 0;
	}
	if (store_member_get(n->store, op->name, &m) == 0 &&
	    (strcmp(m.raft_addr, op->raft_addr) != 0 ||
	     strcmp(m.ctl_addr, op->ctl_addr) != 0 ||
	     strcmp(m.dns_addr, op->dns_addr) != 0)) {
		snprintf(msg, sizeof(msg),
		         "%s is already a member at %s %s %s; use cluster "
		         "update to change its addresses",
		         op->name, m.raft_addr, m.ctl_addr, m.dns_addr);
		member_refuse(op, "join", msg);
		return 0;
	}
	if (srv != NULL && strcmp(srv->address, op->raft_addr) != 0) {
		snprintf(msg, sizeof(msg), "%s is already a member at %s",
		         op->name, srv->address);
		member_refuse(op, "join", msg);
		return 0;
	}
	if (srv == NULL) {
		log_info("membership, adding %s (%s)", op->name, op->raft_addr);
		rv = raft_add(&n->raft, &op->change, op->id, op->raft_addr,
		              member_added_cb);
		if (rv != 0)
			member_op_raft_err(op, "adding", rv);
	} else if (srv->role != RAFT_VOTER) {
		member_assign_voter(op);
	} else {
		member_record(op);
	}
	return 0;
}

int
membership_update(struct node *n, const char *id, const char *raft_addr,
                  const char *ctl_addr, const char *dns_addr, node_done_cb cb,
                  void *arg)
{
	const struct raft_server *srv;
	struct member_op *op;
	char msg[2 * DR_ADDR_LEN + 128];

	if (!node_is_leader(n))
		return DR_ENOTLEADER;
	op = member_op_new(n, cb, arg);
	if (!member_op_addrs(op, "update", id, raft_addr, ctl_addr, dns_addr))
		return 0;
	srv = member_find(n, op->id);
	if (srv == NULL) {
		member_refuse(op, "update", "no such member");
		return 0;
	}
	if (strcmp(srv->address, op->raft_addr) != 0) {
		snprintf(msg, sizeof(msg),
		         "%s has raft address %s; a new raft address needs "
		         "cluster remove and a new join",
		         op->name, srv->address);
		member_refuse(op, "update", msg);
		return 0;
	}
	log_info("membership, updating %s to %s %s %s", op->name, op->raft_addr,
	         op->ctl_addr, op->dns_addr);
	member_record(op);
	return 0;
}

static void
member_removed_cb(struct raft_change *req, int status)
{
	struct member_op *op = req->data;
	struct dr_cmd c;

	if (status != 0) {
		member_op_raft_err(op, "removing", status);
		return;
	}
	log_info("membership, %s removed from the configuration", op->name);
	memset(&c, 0, sizeof(c));
	c.type = DR_CMD_MEMBER_DEL;
	c.nargs = 1;
	c.args[0] = member_str(op->name);
	member_propose(op, &c);
}

int
membership_remove(struct node *n, const char *id, node_done_cb cb, void *arg)
{
	struct store_member m;
	struct member_op *op;
	bool recorded;
	int rv;

	if (!node_is_leader(n))
		return DR_ENOTLEADER;
	op = member_op_new(n, cb, arg);
	if (!member_valid_id(id)) {
		member_op_done(op, DR_ST_ERROR, "invalid member id");
		return 0;
	}
	snprintf(op->name, sizeof(op->name), "%s", id);
	recorded = store_member_get(n->store, id, &m) == 0;
	op->id = recorded ? m.raft_id : dr_raft_id(id);
	if (op->id == n->id) {
		member_op_done(
		    op, DR_ST_ERROR,
		    "cannot remove the leader; transfer leadership first");
		return 0;
	}
	if (member_find(n, op->id) != NULL) {
		log_info("membership, removing %s", op->name);
		rv = raft_remove(&n->raft, &op->change, op->id,
		                 member_removed_cb);
		if (rv != 0)
			member_op_raft_err(op, "removing", rv);
	} else if (recorded) {
		member_removed_cb(&op->change, 0);
	} else {
		member_op_done(op, DR_ST_ERROR, "no such member");
	}
	return 0;
}

static void
member_transfer_cb(struct raft_transfer *req)
{
	struct member_op *op = req->data;
	struct node *n = op->n;
	char name[STORE_ID_MAX + 24];

	if (raft_state(&n->raft) == RAFT_LEADER) {
		log_warnx("membership, leadership transfer did not complete");
		member_op_done(op, DR_ST_ERROR,
		               "leadership transfer did not complete");
		return;
	}
	node_leader_name(n, name, sizeof(name));
	log_info("membership, leadership transferred (new leader %s)", name);
	member_op_done(op, DR_ST_OK, "");
}

int
membership_transfer(struct node *n, const char *id, node_done_cb cb, void *arg)
{
	struct store_member m;
	struct member_op *op;
	int rv;

	if (!node_is_leader(n))
		return DR_ENOTLEADER;
	op = member_op_new(n, cb, arg);
	if (id[0] != '\0') {
		if (!member_valid_id(id)) {
			member_op_done(op, DR_ST_ERROR, "invalid member id");
			return 0;
		}
		snprintf(op->name, sizeof(op->name), "%s", id);
		op->id = store_member_get(n->store, id, &m) == 0
		             ? m.raft_id
		             : dr_raft_id(id);
		if (op->id == n->id) {
			member_op_done(op, DR_ST_OK, ""); /* already leader */
			return 0;
		}
	} else {
		snprintf(op->name, sizeof(op->name), "any voter");
	}
	log_info("membership, transferring leadership to %s", op->name);
	rv = raft_transfer(&n->raft, &op->transfer, op->id, member_transfer_cb);
	if (rv == RAFT_BADID || rv == RAFT_NOTFOUND) {
		member_op_done(op, DR_ST_ERROR,
		               rv == RAFT_BADID
		                   ? "not a voting follower"
		                   : "no voting follower to transfer to");
	} else if (rv != 0) {
		member_op_raft_err(op, "transferring to", rv);
	}
	return 0;
}

static void
member_self_done_cb(void *arg, int status, const char *msg)
{
	(void)arg;
	if (status != DR_ST_OK)
		log_warnx("membership, recording self failed (%s)", msg);
}

static void
member_self_barrier_cb(void *arg, int status, const char *msg)
{
	struct node *n = arg;
	struct member_op *op;

	(void)msg;
	if (status != DR_ST_OK || !node_is_leader(n))
		return; /* the next leader checks again */
	op = member_op_new(n, member_self_done_cb, NULL);
	snprintf(op->name, sizeof(op->name), "%s", n->cfg->id);
	op->id = n->id;
	snprintf(op->raft_addr, sizeof(op->raft_addr), "%s", n->raft_addr);
	snprintf(op->ctl_addr, sizeof(op->ctl_addr), "%s", n->ctl_addr);
	snprintf(op->dns_addr, sizeof(op->dns_addr), "%s", n->dns_addr);
	member_record(op);
}

void
membership_ensure_self(struct node *n)
{
	int rv = node_barrier(n, member_self_barrier_cb, n);

	if (rv != 0)
		log_warnx("membership, cannot check own members row (%s)",
		          dr_strerror(rv));
}
