/* Text reports for ctld: cluster status and the member list. */
#include "status.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

static void status_printf(struct dr_buf *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
status_printf(struct dr_buf *out, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	dr_buf_put(out, line, (size_t)n);
}

static unsigned
status_voters(const struct raft_configuration *c)
{
	unsigned i, v = 0;

	for (i = 0; i < c->n; i++)
		if (c->servers[i].role == RAFT_VOTER)
			v++;
	return v;
}

static const struct raft_server *
status_server(const struct raft_configuration *c, uint64_t id)
{
	unsigned i;

	for (i = 0; i < c->n; i++)
		if (c->servers[i].id == id)
			return &c->servers[i];
	return NULL;
}

const char *
status_role_name(int role)
{
	switch (role) {
	case RAFT_VOTER:
		return "voter";
	case RAFT_STANDBY:
		return "standby";
	case RAFT_SPARE:
		return "spare";
	default:
		return "unknown";
	}
}

static const char *
status_role(const struct raft_server *s)
{
	return s == NULL ? "unknown" : status_role_name(s->role);
}

void
status_text(struct node *n, struct dr_buf *out)
{
	struct raft *r = &n->raft;
	char leader[STORE_ID_MAX + 24];
	const char *addr;
	raft_id lid = 0;
	int members = store_members_count(n->store);

	if (!n->closing)
		raft_leader(r, &lid, &addr);
	node_leader_name(n, leader, sizeof(leader));
	status_printf(out, "id %s\n", n->cfg->id);
	status_printf(out, "raft_id %" PRIu64 "\n", n->id);
	status_printf(out, "role %s\n", node_role_name(n));
	status_printf(out, "leader %s\n", leader);
	status_printf(out, "leader_raft_id %llu\n", lid);
	status_printf(out, "term %llu\n", r->current_term);
	status_printf(out, "commit_index %llu\n", r->commit_index);
	status_printf(out, "last_index %llu\n", raft_last_index(r));
	status_printf(out, "applied_index %llu\n", raft_last_applied(r));
	status_printf(out, "change_seq %" PRIu64 "\n",
	              store_change_seq(n->store));
	status_printf(out, "members %d\n", members < 0 ? 0 : members);
	status_printf(out, "voters %u\n", status_voters(&r->configuration));
	status_printf(out, "snapshot_index %llu\n", r->log.snapshot.last_index);
}

struct status_members_ctx {
	struct node *n;
	struct dr_buf *out;
	raft_id leader;
};

/*
 * " STATE CONTACT" of a member: its Raft state as this node sees it (its
 * own for self, "leader" for the known leader, else "follower") and the
 * milliseconds since this node last heard from it ("-" for self or
 * never).
 */
static void
status_state_contact(struct node *n, raft_id id, raft_id leader,
                     struct dr_buf *out)
{
	int64_t ms = id == n->id ? -1 : node_last_contact_ms(n, id);
	const char *state = id == n->id                   ? node_role_name(n)
	                    : leader != 0 && id == leader ? "leader"
	                                                  : "follower";

	if (ms < 0)
		status_printf(out, " %s -", state);
	else
		status_printf(out, " %s %" PRId64, state, ms);
}

static int
status_member_line(const struct store_member *m, void *arg)
{
	struct status_members_ctx *ctx = arg;
	const struct raft_server *s =
	    status_server(&ctx->n->raft.configuration, m->raft_id);

	status_printf(ctx->out, "%s %s %s %s %s", m->id, m->raft_addr,
	              m->ctl_addr, m->dns_addr, status_role(s));
	status_state_contact(ctx->n, m->raft_id, ctx->leader, ctx->out);
	status_printf(
	    ctx->out, "%s%s\n", m->raft_id == ctx->n->id ? " self" : "",
	    ctx->leader != 0 && m->raft_id == ctx->leader ? " leader" : "");
	return 0;
}

void
status_members_text(struct node *n, struct dr_buf *out)
{
	const struct raft_configuration *c = &n->raft.configuration;
	struct status_members_ctx ctx = { n, out, 0 };
	struct store_member m;
	const char *addr;
	unsigned i;

	if (!n->closing)
		raft_leader(&n->raft, &ctx.leader, &addr);
	store_members_foreach(n->store, status_member_line, &ctx);
	for (i = 0; i < c->n; i++) {
		const struct raft_server *s = &c->servers[i];

		if (store_member_by_raft_id(n->store, s->id, &m) == 0)
			continue;
		status_printf(out, "%llu %s - - %s", s->id, s->address,
		              status_role(s));
		status_state_contact(n, s->id, ctx.leader, out);
		status_printf(out, "%s%s\n", s->id == n->id ? " self" : "",
		              s->id == ctx.leader ? " leader" : "");
	}
}
