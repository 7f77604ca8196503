/* The req/rep socket: answers ctld's DR_MSG_* requests (brief's protocol). */
#include "serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "log.h"
#include "membership.h"
#include "relay.h"
#include "status.h"

/*
 * A read request, decoded: GET, RR_GET, ZONE_LIST, TOKEN_CHECK or
 * TOKEN_LIST.
 */
struct serve_read {
	uint8_t type;
	char *arg[2]; /* owned, NUL-terminated copies; NULL if absent */
	size_t len[2];
};

/* A request waiting for raft (apply, barrier, membership change). */
struct serve_call {
	struct serve *s;
	struct serve_to to;
	struct serve_read rd; /* consistent reads */
};

static void
serve_reply(struct serve *s, struct serve_to to, int status,
            const void *payload, size_t len)
{
	struct store *st = s->node->store;
	struct dr_msg_hdr h;

	memset(&h, 0, sizeof(h));
	h.type = DR_MSG_REPLY;
	h.status = status;
	h.index = store_applied_index(st);
	h.seq = store_change_seq(st);
	dr_wire_begin(&s->out, &h);
	if (len > 0)
		dr_buf_put(&s->out, payload, len);
	dr_wire_end(&s->out);
	to.fn(to.ctx, s->out.data, s->out.len);
}

static void
serve_reply_str(struct serve *s, struct serve_to to, int status,
                const char *msg)
{
	serve_reply(s, to, status, msg, strlen(msg));
}

static void
serve_reply_notleader(struct serve *s, struct serve_to to)
{
	char hint[STORE_ID_MAX + DR_ADDR_LEN + 8];
	int st = node_leader_hint(s->node, hint, sizeof(hint));

	serve_reply_str(s, to, st, hint);
}

static void
serve_malformed(struct serve *s, struct serve_to to, const char *what)
{
	log_warnx("serve, %s rejected", what);
	serve_reply_str(s, to, DR_ST_ERROR, what);
}

static struct serve_call *
serve_call_new(struct serve *s, struct serve_to to)
{
	struct serve_call *c = calloc(1, sizeof(*c));

	if (c == NULL)
		abort();
	c->s = s;
	c->to = to;
	s->inflight++;
	return c;
}

static void
serve_read_free(struct serve_read *rd)
{
	free(rd->arg[0]);
	free(rd->arg[1]);
	memset(rd, 0, sizeof(*rd));
}

static void
serve_call_free(struct serve_call *c)
{
	c->s->inflight--;
	serve_read_free(&c->rd);
	free(c);
}

/* Completion of an apply, a membership change or a transfer. */
static void
serve_done_cb(void *arg, int status, const char *msg)
{
	struct serve_call *c = arg;

	serve_reply_str(c->s, c->to, status, msg);
	serve_call_free(c);
}

/* Copies a wire string into a C string; false if too long or has NUL. */
static bool
serve_cstr(struct dr_str v, char *out, size_t outlen)
{
	if (v.len >= outlen || (v.len > 0 && memchr(v.p, '\0', v.len)))
		return false;
	if (v.len > 0)
		memcpy(out, v.p, v.len);
	out[v.len] = '\0';
	return true;
}

static void
serve_apply(struct serve *s, struct serve_to to, struct dr_cursor *cur)
{
	struct serve_call *c;
	struct dr_cmd cmd;
	int rv;

	if (dr_cmd_decode(cur->p, cur->left, &cmd) != 0) {
		serve_malformed(s, to, "malformed command");
		return;
	}
	if (cmd.type == DR_CMD_MEMBER_ADD || cmd.type == DR_CMD_MEMBER_DEL) {
		serve_malformed(
		    s, to, "membership changes go through join and remove");
		return;
	}
	if (!node_is_leader(s->node)) {
		serve_reply_notleader(s, to);
		return;
	}
	c = serve_call_new(s, to);
	rv = propose_submit(&s->node->propose, cur->p, cur->left, serve_done_cb,
	                    c);
	if (rv != 0) {
		serve_call_free(c);
		if (rv == DR_ENOTLEADER)
			serve_reply_notleader(s, to);
		else
			serve_reply_str(s, to, DR_ST_ERROR, dr_strerror(rv));
	}
}

/*
 * Decodes a read's arguments: GET's key (any bytes), RR_GET's name and
 * type, TOKEN_CHECK's hash (text without NUL), nothing for ZONE_LIST and
 * TOKEN_LIST.
 */
static bool
serve_read_parse(uint8_t type, struct dr_cursor *cur, struct serve_read *rd)
{
	unsigned n = type == DR_MSG_RR_GET ? 2
	             : type == DR_MSG_ZONE_LIST || type == DR_MSG_TOKEN_LIST
	                 ? 0
	                 : 1;
	struct dr_str v;
	unsigned i;

	memset(rd, 0, sizeof(*rd));
	rd->type = type;
	for (i = 0; i < n; i++) {
		if (dr_get_str(cur, &v) != 0)
			return false;
		if (type != DR_MSG_GET &&
		    (v.len > 1024 ||
		     (v.len > 0 && memchr(v.p, '\0', v.len) != NULL)))
			return false;
		rd->arg[i] = dr_str_dup(v);
		rd->len[i] = v.len;
	}
	return cur->left == 0;
}

static void
serve_read_local(struct serve *s, struct serve_to to,
                 const struct serve_read *rd)
{
	struct store *st = s->node->store;
	struct dr_buf v;
	int rv;

	dr_buf_init(&v);
	switch (rd->type) {
	case DR_MSG_GET:
		rv = store_kv_get(st, rd->arg[0], rd->len[0], &v);
		break;
	case DR_MSG_RR_GET:
		rv = store_rr_get(st, rd->arg[0], rd->arg[1], &v);
		break;
	case DR_MSG_ZONE_LIST:
		rv = store_zone_list(st, &v);
		break;
	case DR_MSG_TOKEN_CHECK:
		rv = store_token_check(st, rd->arg[0], &v);
		break;
	case DR_MSG_TOKEN_LIST:
		rv = store_token_list(st, &v);
		break;
	default:
		rv = DR_EINVAL;
		break;
	}
	if (rv == 0)
		serve_reply(s, to, DR_ST_OK, v.data, v.len);
	else if (rv == DR_ENOTFOUND)
		serve_reply(s, to, DR_ST_NOTFOUND, NULL, 0);
	else if (rv == DR_EINVAL)
		serve_reply_str(s, to, DR_ST_ERROR, "invalid name or type");
	else
		serve_reply_str(s, to, DR_ST_ERROR, "database error");
	dr_buf_close(&v);
}

static void
serve_read_barrier_cb(void *arg, int status, const char *msg)
{
	struct serve_call *c = arg;

	if (status == DR_ST_OK)
		serve_read_local(c->s, c->to, &c->rd);
	else
		serve_reply_str(c->s, c->to, status, msg);
	serve_call_free(c);
}

/* Reads are local; DR_WF_CONSISTENT waits for a barrier on the leader. */
static void
serve_read(struct serve *s, struct serve_to to, const struct dr_msg_hdr *h,
           struct dr_cursor *cur)
{
	struct serve_call *c;
	struct serve_read rd;
	int rv;

	if (!serve_read_parse(h->type, cur, &rd)) {
		serve_read_free(&rd);
		serve_malformed(s, to, "malformed read request");
		return;
	}
	if (!(h->flags & DR_WF_CONSISTENT)) {
		serve_read_local(s, to, &rd);
		serve_read_free(&rd);
		return;
	}
	if (!node_is_leader(s->node)) {
		serve_read_free(&rd);
		serve_reply_notleader(s, to);
		return;
	}
	c = serve_call_new(s, to);
	c->rd = rd; /* owned by c from now on */
	rv = node_barrier(s->node, serve_read_barrier_cb, c);
	if (rv != 0) {
		serve_call_free(c);
		if (rv == DR_ENOTLEADER)
			serve_reply_notleader(s, to);
		else
			serve_reply_str(s, to, DR_ST_ERROR, "barrier failed");
	}
}

/*
 * One chunk of a zone dump: u64 next cursor (0: the last), then text; a
 * chunk size of 0 ends the dump at cursor instead (wire.h).
 */
static void
serve_dump(struct serve *s, struct serve_to to, struct dr_cursor *cur)
{
	char zone[256];
	struct dr_buf v;
	struct dr_str z;
	uint64_t cursor, next;
	uint32_t max;
	int rv;

	if (dr_get_str(cur, &z) != 0 || dr_get_u64(cur, &cursor) != 0 ||
	    dr_get_u32(cur, &max) != 0 || cur->left != 0 ||
	    !serve_cstr(z, zone, sizeof(zone))) {
		serve_malformed(s, to, "malformed dump request");
		return;
	}
	dr_buf_init(&v);
	dr_buf_put_u64(&v, 0);
	if (max == 0) {
		/* ctld's client left: the snapshot goes (gone already: OK). */
		(void)dumps_end(&s->dumps, cursor);
		serve_reply(s, to, DR_ST_OK, v.data, v.len);
		dr_buf_close(&v);
		return;
	}
	rv = dumps_next(&s->dumps, zone, cursor, max, &next, &v);
	if (rv == 0) {
		for (int i = 0; i < 8; i++)
			v.data[i] = (uint8_t)(next >> (56 - 8 * i));
		serve_reply(s, to, DR_ST_OK, v.data, v.len);
	} else if (rv == DR_ENOTFOUND) {
		serve_reply(s, to, DR_ST_NOTFOUND, NULL, 0);
	} else if (rv == DR_EBUSY) {
		serve_reply_str(s, to, DR_ST_BUSY, "too many dumps running");
	} else if (rv == DR_EINVAL) {
		serve_reply_str(s, to, DR_ST_ERROR, "dump expired");
	} else {
		serve_reply_str(s, to, DR_ST_ERROR, "database error");
	}
	dr_buf_close(&v);
}

static void
serve_text(struct serve *s, struct serve_to to, bool members)
{
	struct dr_buf text;

	dr_buf_init(&text);
	if (members) {
		status_members_text(s->node, &text);
	} else {
		char line[48];
		int n;

		status_text(s->node, &text);
		n = snprintf(line, sizeof(line), "dumps_running %u\n",
		             dumps_count(&s->dumps));
		dr_buf_put(&text, line, (size_t)n);
	}
	serve_reply(s, to, DR_ST_OK, text.data, text.len);
	dr_buf_close(&text);
}

enum serve_member_op { SERVE_JOIN, SERVE_UPDATE, SERVE_REMOVE, SERVE_TRANSFER };

static void
serve_member(struct serve *s, struct serve_to to, struct dr_cursor *cur,
             enum serve_member_op op)
{
	char arg[4][DR_ADDR_LEN];
	unsigned nargs = op == SERVE_JOIN || op == SERVE_UPDATE ? 4 : 1, i;
	struct serve_call *c;
	struct dr_str v;
	int rv;

	for (i = 0; i < nargs; i++) {
		if (dr_get_str(cur, &v) != 0 ||
		    !serve_cstr(v, arg[i], sizeof(arg[i]))) {
			serve_malformed(s, to, "malformed membership request");
			return;
		}
	}
	if (cur->left != 0) {
		serve_malformed(s, to, "malformed membership request");
		return;
	}
	if (!node_is_leader(s->node)) {
		serve_reply_notleader(s, to);
		return;
	}
	c = serve_call_new(s, to);
	switch (op) {
	case SERVE_JOIN:
		rv = membership_join(s->node, arg[0], arg[1], arg[2], arg[3],
		                     serve_done_cb, c);
		break;
	case SERVE_UPDATE:
		rv = membership_update(s->node, arg[0], arg[1], arg[2], arg[3],
		                       serve_done_cb, c);
		break;
	case SERVE_REMOVE:
		rv = membership_remove(s->node, arg[0], serve_done_cb, c);
		break;
	default:
		rv = membership_transfer(s->node, arg[0], serve_done_cb, c);
		break;
	}
	if (rv != 0) {
		serve_call_free(c);
		serve_reply_notleader(s, to);
	}
}

/* --- acknowledgement waits (ackwait.h) --- */

static void
serve_wait_local_cb(void *arg, bool have)
{
	struct serve_call *c = arg;

	if (have)
		serve_reply(c->s, c->to, DR_ST_OK, NULL, 0);
	else
		serve_reply(c->s, c->to, DR_ST_NOTFOUND, NULL, 0);
	serve_call_free(c);
}

/* names: space-separated node names (ackwait_all_cb). */
static void
serve_wait_all_cb(void *arg, unsigned have, unsigned voters, const char *names)
{
	struct serve_call *c = arg;
	struct dr_buf v;
	const char *p = names, *sp;

	dr_buf_init(&v);
	dr_wait_reply_begin(&v, have, voters);
	while (*p != '\0') {
		sp = strchr(p, ' ');
		if (sp == NULL)
			sp = p + strlen(p);
		dr_buf_put_str(&v, p, (size_t)(sp - p));
		p = *sp == ' ' ? sp + 1 : sp;
	}
	serve_reply(c->s, c->to, DR_ST_OK, v.data, v.len);
	dr_buf_close(&v);
	serve_call_free(c);
}

static void
serve_wait(struct serve *s, struct serve_to to, const struct dr_msg_hdr *h,
           struct dr_cursor *cur)
{
	struct serve_call *c;
	struct dr_wait w;
	int rv;

	if (dr_wait_decode(cur, &w) != 0) {
		serve_malformed(s, to, "malformed wait request");
		return;
	}
	/* On the leader: the followers learn the commit index now. */
	ackwait_nudge(&s->ackwait);
	c = serve_call_new(s, to);
	if (h->flags & DR_WF_LOCAL)
		rv = ackwait_local(&s->ackwait, w.index, w.bound_ms,
		                   serve_wait_local_cb, c);
	else
		rv = ackwait_all(&s->ackwait, w.index, w.bound_ms,
		                 serve_wait_all_cb, c);
	if (rv != 0) {
		serve_call_free(c);
		if (rv == DR_EBUSY)
			serve_reply_str(s, to, DR_ST_BUSY,
			                "too many acknowledgement waits");
		else
			serve_reply_str(s, to, DR_ST_ERROR, "shutting down");
	}
}

/*
 * dnsd's served reports (ackwait.h). dnsd has one report out at a time
 * and sends the next, its latest index, as soon as the reply comes. While
 * nothing here waits for a served index, the reply is held (a long poll,
 * at most SERVE_PARK_MS), so dnsd does not report every change it takes
 * for nothing; a wait that starts lets it go at once: dnsd's next report
 * comes one round trip later.
 */
static void
serve_unpark(struct serve *s)
{
	if (!s->have_parked)
		return;
	s->have_parked = false;
	uv_timer_stop(&s->park);
	serve_reply(s, s->parked, DR_ST_OK, NULL, 0);
}

static void
serve_park_cb(uv_timer_t *t)
{
	serve_unpark(t->data);
}

static void
serve_want_cb(void *arg)
{
	serve_unpark(arg);
}

static void
serve_served(struct serve *s, struct serve_to to, const struct dr_msg_hdr *h,
             struct dr_cursor *cur)
{
	if (cur->left != 0) {
		serve_malformed(s, to, "malformed served report");
		return;
	}
	ackwait_served(&s->ackwait, h->index);
	serve_unpark(s); /* one held at a time: an older one goes now */
	if (ackwait_waiting(&s->ackwait)) {
		serve_reply(s, to, DR_ST_OK, NULL, 0);
		return;
	}
	s->parked = to;
	s->have_parked = true;
	uv_timer_start(&s->park, serve_park_cb, SERVE_PARK_MS, 0);
}

/* Whether a request must run on the leader. */
static bool
serve_needs_leader(const struct dr_msg_hdr *h)
{
	switch (h->type) {
	case DR_MSG_APPLY:
	case DR_MSG_JOIN:
	case DR_MSG_MEMBER_UPDATE:
	case DR_MSG_REMOVE:
	case DR_MSG_TRANSFER:
		return true;
	case DR_MSG_GET:
		return (h->flags & DR_WF_CONSISTENT) != 0;
	default:
		return false;
	}
}

/*
 * Runs one request here, once: a request for the leader on a node that
 * is not (any longer) the leader is answered DR_ST_NOTLEADER.
 */
static void
serve_exec(struct serve *s, const struct dr_msg_hdr *h, struct dr_cursor *cur,
           struct serve_to to)
{
	switch (h->type) {
	case DR_MSG_APPLY:
		serve_apply(s, to, cur);
		break;
	case DR_MSG_GET:
	case DR_MSG_RR_GET:
	case DR_MSG_ZONE_LIST:
	case DR_MSG_TOKEN_CHECK:
	case DR_MSG_TOKEN_LIST:
		serve_read(s, to, h, cur);
		break;
	case DR_MSG_ZONE_DUMP:
		serve_dump(s, to, cur);
		break;
	case DR_MSG_STATUS:
		serve_text(s, to, false);
		break;
	case DR_MSG_MEMBERS:
		serve_text(s, to, true);
		break;
	case DR_MSG_JOIN:
		serve_member(s, to, cur, SERVE_JOIN);
		break;
	case DR_MSG_MEMBER_UPDATE:
		serve_member(s, to, cur, SERVE_UPDATE);
		break;
	case DR_MSG_REMOVE:
		serve_member(s, to, cur, SERVE_REMOVE);
		break;
	case DR_MSG_TRANSFER:
		serve_member(s, to, cur, SERVE_TRANSFER);
		break;
	case DR_MSG_WAIT:
		serve_wait(s, to, h, cur);
		break;
	case DR_MSG_SERVED:
		serve_served(s, to, h, cur);
		break;
	default:
		serve_malformed(s, to, "unexpected message type");
		break;
	}
}

/* --- requests for the leader from this node's ctld --- */

/*
 * A request for the leader runs there, wherever that is: here while this
 * node leads, else relayed to the leader's raftd (relay.h), and tried
 * again (the same bytes: writes carry a request id, so the state machine
 * applies them once) whenever the attempt ends with "not leader", "no
 * leader" or a lost connection, until SERVE_ROUTE_MS. Then a write that
 * may have reached a leader is answered DR_ST_UNKNOWN, never OK or ERROR.
 */
struct serve_route {
	struct serve *s;
	struct serve_route *prev, *next;
	struct serve_to to; /* the final reply */
	uint8_t *msg;       /* owned: the request */
	size_t len;
	uint8_t type;
	uint64_t deadline;
	unsigned backoff_ms;
	unsigned attempts;
	bool maybe_sent; /* an attempt may have reached a leader */
	bool waiting;    /* timer running */
	uv_timer_t timer;
};

static void serve_route_attempt(struct serve_route *rt);

static void
serve_route_closed_cb(uv_handle_t *h)
{
	struct serve_route *rt = h->data;

	free(rt->msg);
	free(rt);
}

static void
serve_route_end(struct serve_route *rt)
{
	struct serve *s = rt->s;

	if (rt->prev != NULL)
		rt->prev->next = rt->next;
	else
		s->routes = rt->next;
	if (rt->next != NULL)
		rt->next->prev = rt->prev;
	s->inflight--;
	uv_close((uv_handle_t *)&rt->timer, serve_route_closed_cb);
}

/* The deadline passed, or raftd stops: the last word on the request. */
static void
serve_route_give_up(struct serve_route *rt, const char *why)
{
	struct serve *s = rt->s;

	if (rt->maybe_sent && rt->type != DR_MSG_GET)
		serve_reply_str(s, rt->to, DR_ST_UNKNOWN,
		                "timeout, outcome unknown");
	else if (s->draining)
		serve_reply_str(s, rt->to, DR_ST_ERROR, "shutting down");
	else
		serve_reply(s, rt->to, DR_ST_NOLEADER, NULL, 0);
	log_debug("route, gave up after %u attempts (%s)", rt->attempts, why);
	serve_route_end(rt);
}

static void
serve_route_timer_cb(uv_timer_t *t)
{
	struct serve_route *rt = t->data;

	rt->waiting = false;
	serve_route_attempt(rt);
}

/* Tries again soon (the leader may be changing). */
static void
serve_route_retry(struct serve_route *rt, const char *why)
{
	uint64_t now = uv_now(rt->s->node->loop);

	if (rt->s->draining || now + rt->backoff_ms >= rt->deadline) {
		serve_route_give_up(rt, why);
		return;
	}
	rt->waiting = true;
	uv_timer_start(&rt->timer, serve_route_timer_cb, rt->backoff_ms, 0);
	rt->backoff_ms = rt->backoff_ms * 2 > SERVE_ROUTE_BACKOFF_MAX_MS
	                     ? SERVE_ROUTE_BACKOFF_MAX_MS
	                     : rt->backoff_ms * 2;
}

void
serve_leader_known(struct serve *s)
{
	struct serve_route *rt;

	/* On the next loop turn, as the timers run: never from here. */
	for (rt = s->routes; rt != NULL; rt = rt->next) {
		if (!rt->waiting)
			continue;
		rt->backoff_ms = SERVE_ROUTE_BACKOFF_MIN_MS;
		uv_timer_start(&rt->timer, serve_route_timer_cb, 0, 0);
	}
}

/* An attempt's reply (a whole IPC message): final unless "try again". */
static void
serve_route_reply(struct serve_route *rt, const void *msg, size_t len)
{
	struct dr_msg_hdr h;
	struct dr_cursor c;

	if (dr_wire_decode(msg, len, &h, &c) != 0 || h.type != DR_MSG_REPLY) {
		serve_route_retry(rt, "malformed reply");
		return;
	}
	if (h.status == DR_ST_NOTLEADER || h.status == DR_ST_NOLEADER) {
		serve_route_retry(rt, "not leader");
		return;
	}
	rt->to.fn(rt->to.ctx, msg, len);
	serve_route_end(rt);
}

/* The reply target of a local attempt. */
static void
serve_route_local_cb(void *ctx, const void *msg, size_t len)
{
	serve_route_reply(ctx, msg, len);
}

static void
serve_route_relay_cb(void *arg, int rv, const void *reply, size_t len)
{
	struct serve_route *rt = arg;

	if (rv == 0) {
		serve_route_reply(rt, reply, len);
		return;
	}
	if (rv != DR_EIO)
		rt->maybe_sent = true; /* written, no answer */
	serve_route_retry(rt, dr_strerror(rv));
}

static void
serve_route_attempt(struct serve_route *rt)
{
	struct serve *s = rt->s;
	struct node *n = s->node;
	struct serve_to self = { serve_route_local_cb, rt };
	struct dr_msg_hdr h;
	struct dr_cursor c;
	const char *addr;
	raft_id leader;
	uint64_t now = uv_now(n->loop);

	if (s->draining || now >= rt->deadline) {
		serve_route_give_up(rt, "deadline");
		return;
	}
	rt->attempts++;
	if (node_is_leader(n)) {
		rt->maybe_sent = true;
		(void)dr_wire_decode(rt->msg, rt->len, &h, &c);
		serve_exec(s, &h, &c, self);
		return;
	}
	raft_leader(&n->raft, &leader, &addr);
	if (leader == 0 || addr == NULL || leader == n->id) {
		serve_route_retry(rt, "no leader");
		return;
	}
	relay_request(s->relay, leader, addr, rt->msg, rt->len,
	              (unsigned)(rt->deadline - now), serve_route_relay_cb, rt);
}

/*
 * The deadline of a request for the leader: longer for a big one (a zone
 * replace is parsed, replicated and diffed everywhere).
 */
static unsigned
serve_route_ms(size_t len)
{
	uint64_t ms = SERVE_ROUTE_MS + (uint64_t)(len >> 20) * 1000;

	return ms > SERVE_ROUTE_MAX_MS ? SERVE_ROUTE_MAX_MS : (unsigned)ms;
}

static void
serve_route(struct serve *s, const void *data, size_t len, uint8_t type,
            struct serve_to to)
{
	struct serve_route *rt = calloc(1, sizeof(*rt));

	if (rt == NULL)
		abort();
	rt->s = s;
	rt->to = to;
	rt->type = type;
	rt->msg = malloc(len);
	if (rt->msg == NULL)
		abort();
	memcpy(rt->msg, data, len);
	rt->len = len;
	rt->deadline = uv_now(s->node->loop) + serve_route_ms(len);
	rt->backoff_ms = SERVE_ROUTE_BACKOFF_MIN_MS;
	uv_timer_init(s->node->loop, &rt->timer);
	rt->timer.data = rt;
	rt->next = s->routes;
	if (s->routes != NULL)
		s->routes->prev = rt;
	s->routes = rt;
	s->inflight++;
	serve_route_attempt(rt);
}

/* --- where requests come from --- */

static void
serve_handle(struct serve *s, const void *data, size_t len, struct serve_to to,
             bool from_peer)
{
	struct dr_msg_hdr h;
	struct dr_cursor cur;

	if (dr_wire_decode(data, len, &h, &cur) != 0) {
		serve_malformed(s, to, "malformed request");
		return;
	}
	if (s->draining) {
		serve_reply_str(s, to, DR_ST_ERROR, "shutting down");
		return;
	}
	/*
	 * A peer may only ask about this node (no fan-out from a fan-out),
	 * and only our own dnsd reports what it serves.
	 */
	if (from_peer &&
	    (h.type == DR_MSG_SERVED ||
	     (h.type == DR_MSG_WAIT && !(h.flags & DR_WF_LOCAL)))) {
		serve_malformed(s, to, "not a peer request");
		return;
	}
	/* A relayed request runs once, here: its sender retries. */
	if (!from_peer && serve_needs_leader(&h)) {
		serve_route(s, data, len, h.type, to);
		return;
	}
	serve_exec(s, &h, &cur, to);
}

static void
serve_to_bus(void *ctx, const void *msg, size_t len)
{
	dr_bus_reply(ctx, msg, len);
}

static void
serve_request_cb(struct dr_bus_call *call, const void *data, size_t len,
                 void *arg)
{
	struct serve_to to = { serve_to_bus, call };

	serve_handle(arg, data, len, to, false);
}

static void
serve_to_relay(void *ctx, const void *msg, size_t len)
{
	relay_reply(ctx, msg, len);
}

void
serve_relayed(void *arg, const void *msg, size_t len,
              struct relay_reply_to *rto)
{
	struct serve *s = arg;
	struct serve_to to = { serve_to_relay, rto };

	if (s->bus == NULL) { /* not started, or stopped */
		struct dr_msg_hdr h;
		struct dr_buf b;

		memset(&h, 0, sizeof(h));
		h.type = DR_MSG_REPLY;
		h.status = DR_ST_NOTLEADER;
		dr_buf_init(&b);
		dr_wire_begin(&b, &h);
		dr_wire_end(&b);
		relay_reply(rto, b.data, b.len);
		dr_buf_close(&b);
		return;
	}
	serve_handle(s, msg, len, to, true);
}

int
serve_start(struct serve *s, uv_loop_t *loop, const char *url,
            struct node *node, struct relay *relay)
{
	memset(s, 0, sizeof(*s));
	s->node = node;
	s->relay = relay;
	dr_buf_init(&s->out);
	dumps_init(&s->dumps, loop, store_path(node->store));
	if (dr_bus_server_start(&s->bus, loop, url, SERVE_CONTEXTS,
	                        serve_request_cb, s) != 0) {
		dr_buf_close(&s->out);
		return DR_EIO;
	}
	ackwait_init(&s->ackwait, loop, node, relay);
	ackwait_on_want(&s->ackwait, serve_want_cb, s);
	uv_timer_init(loop, &s->park);
	s->park.data = s;
	return 0;
}

void
serve_drain(struct serve *s)
{
	struct serve_route *rt, *next;

	s->draining = true;
	serve_unpark(s);
	ackwait_drain(&s->ackwait);
	/* Those waiting to try again end now; the others as they come. */
	for (rt = s->routes; rt != NULL; rt = next) {
		next = rt->next;
		if (rt->waiting) {
			uv_timer_stop(&rt->timer);
			serve_route_give_up(rt, "shutting down");
		}
	}
}

void
serve_stop(struct serve *s)
{
	if (s->bus == NULL)
		return;
	if (s->inflight > 0)
		log_warnx("serve, %u requests unanswered at close",
		          s->inflight);
	s->have_parked = false; /* its context ends with the socket */
	uv_timer_stop(&s->park);
	uv_close((uv_handle_t *)&s->park, NULL);
	dr_bus_server_stop(s->bus);
	s->bus = NULL;
	ackwait_close(&s->ackwait);
	dumps_close(&s->dumps);
	dr_buf_close(&s->out);
}
