/* The req/rep socket: answers ctld's DR_MSG_* requests (brief's protocol). */
#include "serve.h"

#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "log.h"
#include "membership.h"
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
	struct dr_bus_call *call;
	struct serve_read rd; /* consistent reads */
};

static void
serve_reply(struct serve *s, struct dr_bus_call *call, int status,
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
	dr_bus_reply(call, s->out.data, s->out.len);
}

static void
serve_reply_str(struct serve *s, struct dr_bus_call *call, int status,
                const char *msg)
{
	serve_reply(s, call, status, msg, strlen(msg));
}

static void
serve_reply_notleader(struct serve *s, struct dr_bus_call *call)
{
	char hint[STORE_ID_MAX + DR_ADDR_LEN + 8];
	int st = node_leader_hint(s->node, hint, sizeof(hint));

	serve_reply_str(s, call, st, hint);
}

static void
serve_malformed(struct serve *s, struct dr_bus_call *call, const char *what)
{
	log_warnx("serve, %s rejected", what);
	serve_reply_str(s, call, DR_ST_ERROR, what);
}

static struct serve_call *
serve_call_new(struct serve *s, struct dr_bus_call *call)
{
	struct serve_call *c = calloc(1, sizeof(*c));

	if (c == NULL)
		abort();
	c->s = s;
	c->call = call;
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

	serve_reply_str(c->s, c->call, status, msg);
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
serve_apply(struct serve *s, struct dr_bus_call *call, struct dr_cursor *cur)
{
	struct serve_call *c;
	struct dr_cmd cmd;
	int rv;

	if (dr_cmd_decode(cur->p, cur->left, &cmd) != 0) {
		serve_malformed(s, call, "malformed command");
		return;
	}
	if (cmd.type == DR_CMD_MEMBER_ADD || cmd.type == DR_CMD_MEMBER_DEL) {
		serve_malformed(
		    s, call, "membership changes go through join and remove");
		return;
	}
	if (!node_is_leader(s->node)) {
		serve_reply_notleader(s, call);
		return;
	}
	c = serve_call_new(s, call);
	rv = propose_submit(&s->node->propose, cur->p, cur->left, serve_done_cb,
	                    c);
	if (rv != 0) {
		serve_call_free(c);
		if (rv == DR_ENOTLEADER)
			serve_reply_notleader(s, call);
		else
			serve_reply_str(s, call, DR_ST_ERROR, dr_strerror(rv));
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
serve_read_local(struct serve *s, struct dr_bus_call *call,
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
		serve_reply(s, call, DR_ST_OK, v.data, v.len);
	else if (rv == DR_ENOTFOUND)
		serve_reply(s, call, DR_ST_NOTFOUND, NULL, 0);
	else if (rv == DR_EINVAL)
		serve_reply_str(s, call, DR_ST_ERROR, "invalid name or type");
	else
		serve_reply_str(s, call, DR_ST_ERROR, "database error");
	dr_buf_close(&v);
}

static void
serve_read_barrier_cb(void *arg, int status, const char *msg)
{
	struct serve_call *c = arg;

	if (status == DR_ST_OK)
		serve_read_local(c->s, c->call, &c->rd);
	else
		serve_reply_str(c->s, c->call, status, msg);
	serve_call_free(c);
}

/* Reads are local; DR_WF_CONSISTENT waits for a barrier on the leader. */
static void
serve_read(struct serve *s, struct dr_bus_call *call,
           const struct dr_msg_hdr *h, struct dr_cursor *cur)
{
	struct serve_call *c;
	struct serve_read rd;
	int rv;

	if (!serve_read_parse(h->type, cur, &rd)) {
		serve_read_free(&rd);
		serve_malformed(s, call, "malformed read request");
		return;
	}
	if (!(h->flags & DR_WF_CONSISTENT)) {
		serve_read_local(s, call, &rd);
		serve_read_free(&rd);
		return;
	}
	if (!node_is_leader(s->node)) {
		serve_read_free(&rd);
		serve_reply_notleader(s, call);
		return;
	}
	c = serve_call_new(s, call);
	c->rd = rd; /* owned by c from now on */
	rv = node_barrier(s->node, serve_read_barrier_cb, c);
	if (rv != 0) {
		serve_call_free(c);
		if (rv == DR_ENOTLEADER)
			serve_reply_notleader(s, call);
		else
			serve_reply_str(s, call, DR_ST_ERROR, "barrier failed");
	}
}

/* One chunk of a zone dump: u64 next cursor (0: the last), then text. */
static void
serve_dump(struct serve *s, struct dr_bus_call *call, struct dr_cursor *cur)
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
		serve_malformed(s, call, "malformed dump request");
		return;
	}
	dr_buf_init(&v);
	dr_buf_put_u64(&v, 0);
	if (max == 0) { /* the client left: end it */
		dumps_end(&s->dumps, cursor);
		serve_reply(s, call, DR_ST_OK, v.data, v.len);
		dr_buf_close(&v);
		return;
	}
	rv = dumps_next(&s->dumps, zone, cursor, max, &next, &v);
	if (rv == 0) {
		for (int i = 0; i < 8; i++)
			v.data[i] = (uint8_t)(next >> (56 - 8 * i));
		serve_reply(s, call, DR_ST_OK, v.data, v.len);
	} else if (rv == DR_ENOTFOUND) {
		serve_reply(s, call, DR_ST_NOTFOUND, NULL, 0);
	} else if (rv == DR_EBUSY) {
		serve_reply_str(s, call, DR_ST_BUSY, "too many dumps running");
	} else if (rv == DR_EINVAL) {
		serve_reply_str(s, call, DR_ST_ERROR, "dump expired");
	} else {
		serve_reply_str(s, call, DR_ST_ERROR, "database error");
	}
	dr_buf_close(&v);
}

static void
serve_text(struct serve *s, struct dr_bus_call *call, bool members)
{
	struct dr_buf text;

	dr_buf_init(&text);
	if (members)
		status_members_text(s->node, &text);
	else
		status_text(s->node, &text);
	serve_reply(s, call, DR_ST_OK, text.data, text.len);
	dr_buf_close(&text);
}

enum serve_member_op { SERVE_JOIN, SERVE_UPDATE, SERVE_REMOVE, SERVE_TRANSFER };

static void
serve_member(struct serve *s, struct dr_bus_call *call, struct dr_cursor *cur,
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
			serve_malformed(s, call,
			                "malformed membership request");
			return;
		}
	}
	if (cur->left != 0) {
		serve_malformed(s, call, "malformed membership request");
		return;
	}
	if (!node_is_leader(s->node)) {
		serve_reply_notleader(s, call);
		return;
	}
	c = serve_call_new(s, call);
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
		serve_reply_notleader(s, call);
	}
}

static void
serve_request_cb(struct dr_bus_call *call, const void *data, size_t len,
                 void *arg)
{
	struct serve *s = arg;
	struct dr_msg_hdr h;
	struct dr_cursor cur;

	if (dr_wire_decode(data, len, &h, &cur) != 0) {
		serve_malformed(s, call, "malformed request");
		return;
	}
	if (s->draining) {
		serve_reply_str(s, call, DR_ST_ERROR, "shutting down");
		return;
	}
	switch (h.type) {
	case DR_MSG_APPLY:
		serve_apply(s, call, &cur);
		break;
	case DR_MSG_GET:
	case DR_MSG_RR_GET:
	case DR_MSG_ZONE_LIST:
	case DR_MSG_TOKEN_CHECK:
	case DR_MSG_TOKEN_LIST:
		serve_read(s, call, &h, &cur);
		break;
	case DR_MSG_ZONE_DUMP:
		serve_dump(s, call, &cur);
		break;
	case DR_MSG_STATUS:
		serve_text(s, call, false);
		break;
	case DR_MSG_MEMBERS:
		serve_text(s, call, true);
		break;
	case DR_MSG_JOIN:
		serve_member(s, call, &cur, SERVE_JOIN);
		break;
	case DR_MSG_MEMBER_UPDATE:
		serve_member(s, call, &cur, SERVE_UPDATE);
		break;
	case DR_MSG_REMOVE:
		serve_member(s, call, &cur, SERVE_REMOVE);
		break;
	case DR_MSG_TRANSFER:
		serve_member(s, call, &cur, SERVE_TRANSFER);
		break;
	default:
		serve_malformed(s, call, "unexpected message type");
		break;
	}
}

int
serve_start(struct serve *s, uv_loop_t *loop, const char *url,
            struct node *node)
{
	memset(s, 0, sizeof(*s));
	s->node = node;
	dr_buf_init(&s->out);
	dumps_init(&s->dumps, loop, store_path(node->store));
	if (dr_bus_server_start(&s->bus, loop, url, SERVE_CONTEXTS,
	                        serve_request_cb, s) != 0) {
		dr_buf_close(&s->out);
		return DR_EIO;
	}
	return 0;
}

void
serve_drain(struct serve *s)
{
	s->draining = true;
}

void
serve_stop(struct serve *s)
{
	if (s->bus == NULL)
		return;
	if (s->inflight > 0)
		log_warnx("serve, %u requests unanswered at close",
		          s->inflight);
	dr_bus_server_stop(s->bus);
	s->bus = NULL;
	dumps_close(&s->dumps);
	dr_buf_close(&s->out);
}
