/* Running commands: raftd requests, request ids, retries, outcomes. */
#include "dispatch.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bus.h"
#include "err.h"
#include "line.h"
#include "log.h"

enum req_state {
	REQ_RAFTD,   /* waiting for raftd's reply */
	REQ_BACKOFF, /* waiting before the next try (or catch-up poll) */
	REQ_DNSD,    /* cluster status: waiting for dnsd's counters */
	REQ_LOCAL,   /* zone reload: waiting for the zone loader */
	REQ_MORE,    /* zone dump: a part is out, waiting for dispatch_more */
};

struct dispatch_req {
	struct dispatch *d;
	struct dispatch_req *prev, *next;
	char *line;               /* owned copy of the line */
	struct commands_parsed p; /* points into line */
	struct dr_buf msg;        /* the raftd request, resent on retries */
	struct dr_buf reply;
	enum req_state state;
	uint64_t deadline; /* uv_now() after which no retry starts */
	unsigned backoff_ms;
	unsigned tries;
	uint64_t min_seq;     /* a local read needs raftd at this seq */
	uint64_t dump_cursor; /* zone dump: where the next chunk starts */
	uint64_t catchup_deadline;
	uv_timer_t *timer;       /* owned, created on the first backoff */
	struct replace *replace; /* owned: zone replace's records */
	struct dr_buf text;      /* cluster status: raftd's part */
	size_t raftd_len;        /* cluster status: raftd's bytes in text */
	bool raftd_up;           /* cluster status: raftd answered */
	dispatch_done_cb cb;     /* NULL once detached */
	void *arg;
	struct dispatch_client *cl; /* borrowed; NULL once detached */
	/* token add: the token, sent instead of SUCCESS, and its hash */
	char secret[COMMANDS_TOKEN_LEN + 1];
	char hash[COMMANDS_HASH_LEN + 1];
	/* a write: in d's list of writes in flight, by seq */
	struct dispatch_req *wprev, *wnext;
	bool in_writes;
	unsigned flags; /* DISPATCH_F_* of the reply */
	unsigned parts; /* zone dump: parts delivered */
	bool ending;    /* zone dump: asking raftd to end it */
	bool ack_all;   /* a write: SUCCESS once every voter has it */
	bool acking;    /* its WAIT is out (the write succeeded) */
};

int
dispatch_init(struct dispatch *d, uv_loop_t *loop, const struct dr_config *cfg)
{
	char url[DR_PATH_LEN + 64];
	int rv;

	memset(d, 0, sizeof(*d));
	d->loop = loop;
	d->cfg = cfg;
	d->origin = dr_raft_id(cfg->id);
	/* A run id no earlier run of this node had: its seqs start over. */
	do {
		if (RAND_bytes((unsigned char *)&d->run, sizeof(d->run)) != 1)
			abort();
	} while (d->run == 0);
	dr_ipc_url(cfg, "raftd", url, sizeof(url));
	rv = dr_bus_client_start(&d->bus, loop, url);
	if (rv != 0) {
		log_warnx("raftd client, cannot start on %s (%s)", url,
		          dr_strerror(rv));
		return rv;
	}
	dr_ipc_url(cfg, "dnsd", url, sizeof(url));
	rv = dr_bus_client_start(&d->dnsd, loop, url);
	if (rv != 0) {
		log_warnx("dnsd client, cannot start on %s (%s)", url,
		          dr_strerror(rv));
		dr_bus_client_stop(d->bus);
		d->bus = NULL;
		return rv;
	}
	return 0;
}

void
dispatch_set_reload(struct dispatch *d, dispatch_reload_fn fn, void *arg)
{
	d->reload = fn;
	d->reload_arg = arg;
}

void
dispatch_set_status(struct dispatch *d, dispatch_status_fn fn, void *arg)
{
	d->status = fn;
	d->status_arg = arg;
}

static void
req_timer_close_cb(uv_handle_t *h)
{
	free(h);
}

static void req_drop(struct dispatch_req *r);

/* Delivers the reply in r->reply and frees r. */
static void
req_finish(struct dispatch_req *r)
{
	struct dispatch *d = r->d;

	/* token add: the token instead of "SUCCESS" (" applied ..." kept) */
	if (r->secret[0] != '\0' && r->reply.len >= 8 &&
	    memcmp(r->reply.data, "SUCCESS", 7) == 0 &&
	    (r->reply.data[7] == '\n' || r->reply.data[7] == ' ')) {
		struct dr_buf rest;

		dr_buf_init(&rest);
		dr_buf_put(&rest, r->reply.data + 7, r->reply.len - 7);
		dr_buf_reset(&r->reply);
		dr_buf_put(&r->reply, r->secret, strlen(r->secret));
		dr_buf_put(&r->reply, rest.data, rest.len);
		dr_buf_close(&rest);
	}
	if (r->cb != NULL)
		r->cb((const char *)r->reply.data, r->reply.len, r->flags,
		      r->arg);
	if (r->secret[0] != '\0' && r->reply.len > 0)
		OPENSSL_cleanse(r->reply.data, r->reply.len);
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		d->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	d->nreqs--;
	if (r->timer != NULL)
		uv_close((uv_handle_t *)r->timer, req_timer_close_cb);
	req_drop(r);
}

static void
req_finish_line(struct dispatch_req *r, const char *line)
{
	commands_put_line(&r->reply, line);
	req_finish(r);
}

static void req_send(struct dispatch_req *r);

static unsigned
req_timeout(const struct dispatch_req *r)
{
	if (r->p.target == COMMANDS_TO_DNSD)
		return DISPATCH_DNSD_TIMEOUT_MS;
	if (r->p.id == COMMANDS_CLUSTER_STATUS)
		return DISPATCH_STATUS_RAFTD_MS;
	if (r->p.has_body)
		return DISPATCH_ZONE_TIMEOUT_MS;
	return DISPATCH_RAFTD_TIMEOUT_MS;
}

static struct dr_bus_client *
req_bus(const struct dispatch_req *r)
{
	return r->p.target == COMMANDS_TO_DNSD ? r->d->dnsd : r->d->bus;
}

static void
req_timer_cb(uv_timer_t *t)
{
	struct dispatch_req *r = t->data;

	req_send(r);
}

/* Runs req_send again after ms. */
static void
req_wait(struct dispatch_req *r, unsigned ms)
{
	if (r->timer == NULL) {
		r->timer = malloc(sizeof(*r->timer));
		if (r->timer == NULL)
			abort();
		uv_timer_init(r->d->loop, r->timer);
		r->timer->data = r;
	}
	r->state = REQ_BACKOFF;
	uv_timer_start(r->timer, req_timer_cb, ms, 0);
}

/*
 * raftd did not answer a write (it restarts, or is slow): send the same
 * bytes again — the request id makes the state machine apply it once —
 * until the write's deadline; then its outcome is unknown, and said so.
 */
static void
req_retry(struct dispatch_req *r)
{
	struct dispatch *d = r->d;

	if (d->stopping) {
		req_finish_line(r, "ERROR shutting down, outcome unknown");
		return;
	}
	if (uv_now(d->loop) + r->backoff_ms >= r->deadline) {
		log_warnx("%s, no answer from raftd after %u tries: outcome "
		          "unknown",
		          commands_name(&r->p), r->tries);
		req_finish_line(r, "ERROR timeout, outcome unknown");
		return;
	}
	req_wait(r, r->backoff_ms);
	r->backoff_ms *= 2;
	if (r->backoff_ms > DISPATCH_BACKOFF_MAX_MS)
		r->backoff_ms = DISPATCH_BACKOFF_MAX_MS;
}

/* --- request ids (cmd.h) --- */

/*
 * Gives the write r the next request id of this ctld run. The floor it
 * carries is the oldest seq still in flight here: every seq below it is
 * answered and never sent again, so the state machine may forget it.
 */
static void
req_assign_id(struct dispatch_req *r)
{
	struct dispatch *d = r->d;

	r->p.reqid.origin = d->origin;
	r->p.reqid.run = d->run;
	r->p.reqid.seq = ++d->next_seq;
	r->wprev = d->writes_tail;
	if (d->writes_tail != NULL)
		d->writes_tail->wnext = r;
	else
		d->writes = r;
	d->writes_tail = r;
	r->in_writes = true;
	r->p.reqid.floor = d->writes->p.reqid.seq;
}

static void
req_unlink_write(struct dispatch_req *r)
{
	struct dispatch *d = r->d;

	if (!r->in_writes)
		return;
	if (r->wprev != NULL)
		r->wprev->wnext = r->wnext;
	else
		d->writes = r->wnext;
	if (r->wnext != NULL)
		r->wnext->wprev = r->wprev;
	else
		d->writes_tail = r->wprev;
	r->in_writes = false;
}

/* Appends dnsd's "key value" lines to r->text as "dnsd.key value". */
static void
req_dnsd_lines(struct dispatch_req *r, const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;

	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > 0) {
			dr_buf_put(&r->text, "dnsd.", 5);
			dr_buf_put(&r->text, p, n);
			dr_buf_put_u8(&r->text, '\n');
		}
		p = nl ? nl + 1 : end;
	}
}

/* The "ctld." lines of cluster status (dispatch_set_status). */
static void
req_status_ctld(struct dispatch *d, struct dr_buf *out)
{
	char text[128];
	int n;

	n = snprintf(text, sizeof(text),
	             "ctld.auth_failed %" PRIu64 "\n"
	             "ctld.permission_denied %" PRIu64 "\n"
	             "ctld.lines_rejected %" PRIu64 "\n",
	             d->auth_failed, d->denied, d->rejected);
	if (n > 0 && (size_t)n < sizeof(text))
		dr_buf_put(out, text, (size_t)n);
	if (d->status != NULL)
		d->status(d->status_arg, out);
}

/*
 * cluster status: raftd's lines, then dnsd's (or "dnsd unreachable"),
 * then one line per process of the node.
 */
static void
req_dnsd_status_cb(int rv, const void *data, size_t len, void *arg)
{
	struct dispatch_req *r = arg;
	struct dr_msg_hdr h;
	struct dr_cursor c;
	bool dnsd_up = rv == 0 && dr_wire_decode(data, len, &h, &c) == 0 &&
	               h.type == DR_MSG_REPLY && h.status == DR_ST_OK;
	struct dr_buf procs;

	if (dnsd_up)
		req_dnsd_lines(r, c.p, c.left);
	else
		dr_buf_put(&r->text, "dnsd unreachable\n", 17);
	req_status_ctld(r->d, &r->text);
	dr_buf_init(&procs);
	commands_status_processes(r->raftd_up ? r->text.data : NULL,
	                          r->raftd_len, dnsd_up ? c.p : NULL,
	                          dnsd_up ? c.left : 0, &procs);
	dr_buf_put(&r->text, procs.data, procs.len);
	dr_buf_close(&procs);
	const uint8_t *note =
	    r->text.len > 0 ? r->text.data : (const uint8_t *)"";

	commands_format(&r->p, DR_ST_OK, note, r->text.len, &r->reply);
	req_finish(r);
}

/*
 * Asks dnsd for its counters to add them to raftd's status text (p, len;
 * NULL when raftd did not answer).
 */
static bool
req_status_dnsd(struct dispatch_req *r, const uint8_t *p, size_t len)
{
	struct dr_msg_hdr h;

	r->raftd_up = p != NULL;
	if (p != NULL) {
		dr_buf_put(&r->text, p, len);
		if (len > 0 && p[len - 1] != '\n')
			dr_buf_put_u8(&r->text, '\n');
	}
	r->raftd_len = r->text.len;
	memset(&h, 0, sizeof(h));
	h.type = DR_MSG_STATUS;
	dr_wire_begin(&r->msg, &h);
	dr_wire_end(&r->msg);
	r->state = REQ_DNSD;
	return dr_bus_request(r->d->dnsd, r->msg.data, r->msg.len,
	                      DISPATCH_STATUS_DNSD_MS, req_dnsd_status_cb,
	                      r) == 0;
}

/* Counts and logs (at a bounded rate) a refused client. */
static void
dispatch_refused(struct dispatch *d, struct dr_ratelog *rl, const char *peer,
                 const char *what, const char *cmd)
{
	uint64_t quiet;

	if (!dr_ratelog_allow(rl, uv_now(d->loop), &quiet))
		return;
	if (quiet > 0)
		log_warnx("control, %s from %s (%s) (and %" PRIu64
		          " more not logged)",
		          what, peer, cmd, quiet);
	else
		log_warnx("control, %s from %s (%s)", what, peer, cmd);
}

/*
 * auth: raftd answered the token's hash with "NAME ROLE", or NOTFOUND. A
 * failure ends the connection.
 */
static void
req_auth_answer(struct dispatch_req *r, int status, const uint8_t *p,
                size_t len)
{
	struct dispatch *d = r->d;
	const uint8_t *sp = len > 0 ? memchr(p, ' ', len) : NULL;
	enum commands_role role;
	struct dr_str w;

	if (status == DR_ST_OK && sp != NULL) {
		w.p = (const char *)sp + 1;
		w.len = len - (size_t)(sp + 1 - p);
		if (commands_role_parse(w, &role) == 0) {
			if (r->cl != NULL) {
				r->cl->role = role;
				log_debug("control, %s authenticated as token "
				          "%.*s (%s)",
				          r->cl->peer, (int)(sp - p),
				          (const char *)p,
				          commands_role_name(role));
			}
			commands_put_line(&r->reply, "OK");
			r->flags |= DISPATCH_F_AUTH;
			req_finish(r);
			return;
		}
	}
	r->flags |= DISPATCH_F_CLOSE;
	if (status != DR_ST_OK && status != DR_ST_NOTFOUND) {
		commands_put_line(&r->reply, "ERROR raftd unavailable");
	} else {
		d->auth_failed++;
		dispatch_refused(d, &d->denied_log,
		                 r->cl != NULL ? r->cl->peer : "?",
		                 "auth failed", "unknown token");
		commands_put_line(&r->reply, "ERROR auth failed");
	}
	req_finish(r);
}

/*
 * A dump in REQ_MORE nobody wants any more: raftd is told to let its
 * snapshot go at once (else it would hold it, and one of its few dump
 * slots, until DUMPS_IDLE_MS), and r ends with raftd's answer.
 */
static void
req_dump_end(struct dispatch_req *r)
{
	r->ending = true;
	if (r->d->stopping ||
	    commands_dump_msg(&r->p, r->dump_cursor, 0, &r->msg) != 0) {
		req_finish(r);
		return;
	}
	req_send(r);
}

/*
 * A chunk of a zone dump: u64 cursor of the rest, then master-file lines.
 * Every chunk but the last is delivered as a DISPATCH_F_MORE part; a
 * failure after the first part can only end the connection (the reply
 * is then incomplete, without its ".").
 */
static void
req_dump_part(struct dispatch_req *r, int status, const uint8_t *p, size_t len)
{
	uint64_t next = 0;
	int i;

	if (status != DR_ST_OK || len < 8) {
		log_warnx("zone dump, ended after %u parts (%s)", r->parts,
		          status == DR_ST_OK ? "malformed reply" : "raftd");
		r->flags |= DISPATCH_F_CLOSE;
		req_finish(r);
		return;
	}
	for (i = 0; i < 8; i++)
		next = next << 8 | p[i];
	commands_put_lines(&r->reply, p + 8, len - 8);
	if (next == 0) {
		dr_buf_put(&r->reply, ".\n", 2);
		req_finish(r);
		return;
	}
	r->parts++;
	r->dump_cursor = next;
	r->state = REQ_MORE;
	if (r->cb == NULL) { /* the client left while this chunk came */
		req_dump_end(r);
		return;
	}
	r->cb((const char *)r->reply.data, r->reply.len, DISPATCH_F_MORE,
	      r->arg);
	dr_buf_reset(&r->reply);
}

/* --- "ack all" --- */

static void req_raftd_cb(int rv, const void *data, size_t len, void *arg);

/*
 * The write's own reply (its note kept in r->text: "SUCCESS serial 7,
 * ..."), with " what" added to its line unless what is NULL.
 */
static void
req_ack_finish(struct dispatch_req *r, const char *what)
{
	const uint8_t *note =
	    r->text.len > 0 ? r->text.data : (const uint8_t *)"";

	commands_format(&r->p, DR_ST_OK, note, r->text.len, &r->reply);
	if (what != NULL && r->reply.len > 0 &&
	    r->reply.data[r->reply.len - 1] == '\n') {
		r->reply.len--;
		dr_buf_put_u8(&r->reply, ' ');
		commands_put_line(&r->reply, what);
	}
	req_finish(r);
}

/*
 * The write r succeeded at the leader's index: ask raftd to wait for
 * every voter (wire.h DR_MSG_WAIT). r->msg is free: a write that
 * succeeded is never sent again.
 */
static void
req_ack_start(struct dispatch_req *r, uint64_t index)
{
	struct dispatch *d = r->d;
	struct dr_wait w = { index, d->cfg->ctl_ack_timeout_ms };
	struct dr_msg_hdr h;

	memset(&h, 0, sizeof(h));
	h.type = DR_MSG_WAIT;
	dr_wire_begin(&r->msg, &h);
	dr_wait_encode(&r->msg, &w);
	dr_wire_end(&r->msg);
	r->acking = true;
	r->state = REQ_RAFTD;
	if (dr_bus_request(d->bus, r->msg.data, r->msg.len,
	                   w.bound_ms + DISPATCH_ACK_SLACK_MS, req_raftd_cb,
	                   r) != 0)
		req_ack_finish(r, "applied unknown (raftd unavailable)");
}

/* raftd's answer to the WAIT of an acknowledged write. */
static void
req_ack_answer(struct dispatch_req *r, int rv, const void *data, size_t len)
{
	char names[512], line[600];
	uint32_t have, voters;
	struct dr_msg_hdr h;
	struct dr_cursor c;

	if (rv != 0) {
		req_ack_finish(r, "applied unknown (raftd unavailable)");
		return;
	}
	if (dr_wire_decode(data, len, &h, &c) != 0 || h.type != DR_MSG_REPLY ||
	    (h.status == DR_ST_OK &&
	     dr_wait_reply_decode(c, &have, &voters, names, sizeof(names)) !=
	         0)) {
		log_warnx("%s, malformed wait reply", commands_name(&r->p));
		req_ack_finish(r,
		               "applied unknown (malformed reply from raftd)");
		return;
	}
	if (h.status == DR_ST_BUSY) {
		req_ack_finish(
		    r, "applied unknown (too many acknowledgement waits)");
		return;
	}
	if (h.status != DR_ST_OK) {
		req_ack_finish(r, "applied unknown (wait failed)");
		return;
	}
	if (have == voters) {
		req_ack_finish(r, NULL);
		return;
	}
	(void)snprintf(line, sizeof(line), "applied %u/%u (%s)", (unsigned)have,
	               (unsigned)voters, have > 0 ? names : "none");
	req_ack_finish(r, line);
}

static void
req_raftd_cb(int rv, const void *data, size_t len, void *arg)
{
	struct dispatch_req *r = arg;
	struct dr_msg_hdr h;
	struct dr_cursor c;

	if (r->acking) {
		req_ack_answer(r, rv, data, len);
		return;
	}
	if (rv != 0) {
		log_debug("%s, request failed (%s)", commands_name(&r->p),
		          dr_strerror(rv));
		/* Still a status: raftd down, and what dnsd says. */
		if (r->p.id == COMMANDS_CLUSTER_STATUS && !r->d->stopping &&
		    req_status_dnsd(r, NULL, 0))
			return;
		if (r->p.write && !r->d->stopping) {
			req_retry(r); /* it may have reached raftd: resend */
			return;
		}
		if (r->p.id == COMMANDS_AUTH)
			r->flags |= DISPATCH_F_CLOSE;
		req_finish_line(r, r->p.target == COMMANDS_TO_DNSD
		                       ? "ERROR dnsd not reachable"
		                       : "ERROR raftd unavailable");
		return;
	}
	if (dr_wire_decode(data, len, &h, &c) != 0 || h.type != DR_MSG_REPLY) {
		log_warnx("%s, malformed reply", commands_name(&r->p));
		req_finish_line(r, r->p.target == COMMANDS_TO_DNSD
		                       ? "ERROR malformed reply from dnsd"
		                       : "ERROR malformed reply from raftd");
		return;
	}
	/*
	 * A write acknowledged by the leader (raftd relays it when this node
	 * follows): reads here wait until this node's state has it.
	 */
	if (r->p.write && h.status == DR_ST_OK && h.seq > r->d->acked_seq)
		r->d->acked_seq = h.seq;
	/* Also a retry that the state machine answered as a duplicate. */
	if (r->p.write && h.status == DR_ST_OK && r->ack_all &&
	    !r->d->stopping) {
		dr_buf_reset(&r->text);
		dr_buf_put(&r->text, c.p, c.left);
		req_ack_start(r, h.index);
		return;
	}
	if (h.seq < r->min_seq && r->parts == 0 &&
	    (h.status == DR_ST_OK || h.status == DR_ST_NOTFOUND)) {
		if (uv_now(r->d->loop) < r->catchup_deadline) {
			req_wait(r, DISPATCH_CATCHUP_POLL_MS);
			return;
		}
		/* Stuck behind: answer, and stop waiting for that seq. */
		log_warnx("%s, local state still at change %llu, wanted %llu",
		          commands_name(&r->p), (unsigned long long)h.seq,
		          (unsigned long long)r->min_seq);
		if (r->d->acked_seq <= r->min_seq)
			r->d->acked_seq = h.seq;
	}
	if (r->p.id == COMMANDS_CLUSTER_STATUS && h.status == DR_ST_OK &&
	    !r->d->stopping && req_status_dnsd(r, c.p, c.left))
		return;
	if (r->p.id == COMMANDS_AUTH) {
		req_auth_answer(r, h.status, c.p, c.left);
		return;
	}
	if (r->ending) { /* raftd ended the dump; nobody waits for r */
		req_finish(r);
		return;
	}
	if (r->p.id == COMMANDS_ZONE_DUMP &&
	    (h.status == DR_ST_OK || r->parts > 0)) {
		req_dump_part(r, h.status, c.p, c.left);
		return;
	}
	commands_format(&r->p, h.status, c.p, c.left, &r->reply);
	req_finish(r);
}

static void
req_send(struct dispatch_req *r)
{
	struct dispatch *d = r->d;
	int rv;

	if (d->stopping) {
		req_finish_line(r, "ERROR shutting down");
		return;
	}
	r->state = REQ_RAFTD;
	r->tries++;
	rv = dr_bus_request(req_bus(r), r->msg.data, r->msg.len, req_timeout(r),
	                    req_raftd_cb, r);
	if (rv != 0)
		req_finish_line(r, "ERROR raftd unavailable");
}

/* A request for line (copied and parsed again, so p points into it). */
static struct dispatch_req *
req_new(struct dispatch *d, struct dispatch_client *cl, const char *line,
        size_t len, dispatch_done_cb cb, void *arg)
{
	struct dispatch_req *r;
	const char *err;
	int rv;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		abort();
	r->line = malloc(len + 1);
	if (r->line == NULL)
		abort();
	memcpy(r->line, line, len);
	r->line[len] = '\0';
	/* Same bytes, so the same result; only the pointers move. */
	rv = commands_parse(r->line, len, &r->p, &err);
	(void)rv;
	r->d = d;
	dr_buf_init(&r->msg);
	dr_buf_init(&r->reply);
	dr_buf_init(&r->text);
	r->cb = cb;
	r->arg = arg;
	r->cl = cl;
	r->deadline = uv_now(d->loop) + DISPATCH_LEADER_DEADLINE_MS;
	r->backoff_ms = DISPATCH_BACKOFF_MIN_MS;
	if (r->p.local_read) {
		r->min_seq = d->acked_seq;
		r->catchup_deadline = uv_now(d->loop) + DISPATCH_CATCHUP_MS;
	}
	return r;
}

/* Frees r (unlinked, or a request that never started). */
static void
req_drop(struct dispatch_req *r)
{
	req_unlink_write(r);
	OPENSSL_cleanse(r->secret, sizeof(r->secret));
	if (r->replace != NULL)
		r->d->held -= r->replace->records.len;
	dr_buf_close(&r->msg);
	dr_buf_close(&r->reply);
	dr_buf_close(&r->text);
	replace_free(r->replace);
	free(r->line);
	free(r);
}

static void
req_link(struct dispatch_req *r, struct dispatch_req **reqp)
{
	struct dispatch *d = r->d;

	r->next = d->reqs;
	if (d->reqs != NULL)
		d->reqs->prev = r;
	d->reqs = r;
	d->nreqs++;
	*reqp = r;
}

/* Sends r->msg; on failure answers in out and frees r. */
static int
req_start(struct dispatch_req *r, struct dr_buf *out,
          struct dispatch_req **reqp)
{
	int rv;

	r->state = REQ_RAFTD;
	r->tries = 1;
	rv = dr_bus_request(req_bus(r), r->msg.data, r->msg.len, req_timeout(r),
	                    req_raftd_cb, r);
	if (rv != 0) {
		commands_put_line(out, r->p.target == COMMANDS_TO_DNSD
		                           ? "ERROR dnsd not reachable"
		                           : "ERROR raftd unavailable");
		req_drop(r);
		return DISPATCH_DONE;
	}
	req_link(r, reqp);
	return DISPATCH_PENDING;
}

static void
req_local_cb(const char *reply, size_t len, unsigned flags, void *arg)
{
	struct dispatch_req *r = arg;

	dr_buf_put(&r->reply, reply, len);
	req_finish(r);
}

/* zone reload: the zone loader answers through req_local_cb. */
static int
req_reload(struct dispatch *d, const char *line, size_t len, struct dr_buf *out,
           dispatch_done_cb cb, void *arg, struct dispatch_req **reqp)
{
	struct dispatch_req *r;

	if (d->reload == NULL) {
		commands_put_line(out, "ERROR zone reload unavailable");
		return DISPATCH_DONE;
	}
	r = req_new(d, NULL, line, len, cb, arg);
	r->state = REQ_LOCAL;
	req_link(r, reqp);
	d->reload(d->reload_arg, req_local_cb, r);
	return DISPATCH_PENDING;
}

/*
 * Logs a refused line: reason is the ERROR reply (up to its newline), the
 * line is shown cut and with unprintable bytes as '?'.
 */
static void
dispatch_rejected(struct dispatch *d, const char *line, size_t len,
                  const char *reason, size_t rlen)
{
	char shown[65], why[129];
	uint64_t quiet;
	size_t i;

	d->rejected++;
	if (!dr_ratelog_allow(&d->rejected_log, uv_now(d->loop), &quiet))
		return;
	/* A line of "auth" may hold a token: never log more of it. */
	if (len >= 4 && strncasecmp(line, "auth", 4) == 0)
		len = 4;
	for (i = 0; i < len && i < sizeof(shown) - 1; i++)
		shown[i] = line[i] >= 0x20 && line[i] < 0x7f ? line[i] : '?';
	shown[i] = '\0';
	for (i = 0; i < rlen && i < sizeof(why) - 1 && reason[i] != '\n'; i++)
		why[i] =
		    reason[i] >= 0x20 && reason[i] < 0x7f ? reason[i] : '?';
	why[i] = '\0';
	if (quiet > 0)
		log_warnx("control, line rejected (%s): \"%s%s\" (and %" PRIu64
		          " more not logged)",
		          why, shown, len >= sizeof(shown) ? "..." : "", quiet);
	else
		log_warnx("control, line rejected (%s): \"%s%s\"", why, shown,
		          len >= sizeof(shown) ? "..." : "");
}

/*
 * The connection's role must reach the command's: false with the refusal
 * in out (and *act) when it does not.
 */
static bool
dispatch_allowed(struct dispatch *d, struct dispatch_client *cl,
                 const struct commands_parsed *p, struct dr_buf *out,
                 enum commands_action *act)
{
	if (cl->role >= p->role)
		return true;
	d->denied++;
	if (cl->role == COMMANDS_ROLE_NONE) {
		dispatch_refused(d, &d->denied_log, cl->peer, "auth required",
		                 commands_name(p));
		commands_put_line(out, "ERROR auth required");
		*act = COMMANDS_CLOSE;
	} else {
		dispatch_refused(d, &d->denied_log, cl->peer,
		                 "permission denied", commands_name(p));
		commands_put_line(out, "ERROR permission denied");
	}
	return false;
}

/*
 * A write: one Raft command, encoded here once with the next request id
 * (for a zone replace rp holds its records, owned from now on; for token
 * add the token is made here and only its hash goes into the command).
 * raftd proposes it, or relays it to the leader, as it is; a retry sends
 * the same bytes.
 */
static int
dispatch_write(struct dispatch *d, struct dispatch_client *cl, const char *line,
               size_t len, struct replace *rp, struct dr_buf *out,
               dispatch_done_cb cb, void *arg, struct dispatch_req **reqp)
{
	enum commands_action act;
	struct dispatch_req *r;

	if (d->stopping) {
		replace_free(rp);
		commands_put_line(out, "ERROR shutting down");
		return DISPATCH_DONE;
	}
	r = req_new(d, cl, line, len, cb, arg);
	if (rp != NULL) {
		r->replace = rp;
		d->held += rp->records.len;
		r->p.records.p = (const char *)rp->records.data;
		r->p.records.len = rp->records.len;
	}
	if (r->p.id == COMMANDS_TOKEN_ADD) {
		commands_token_new(r->secret, r->hash);
		r->p.token_hash = r->hash;
	}
	req_assign_id(r);
	r->ack_all = cl != NULL && cl->ack != COMMANDS_ACK_DEFAULT
	                 ? cl->ack == COMMANDS_ACK_ALL
	                 : d->cfg->ctl_ack_all;
	r->deadline =
	    uv_now(d->loop) + (rp != NULL ? DISPATCH_ZONE_TIMEOUT_MS
	                                  : DISPATCH_WRITE_DEADLINE_MS);
	if (commands_build(&r->p, &r->msg, out, &act) != COMMANDS_SEND) {
		req_drop(r);
		return DISPATCH_DONE;
	}
	return req_start(r, out, reqp);
}

int
dispatch_line(struct dispatch *d, struct dispatch_client *cl, const char *line,
              size_t len, struct dr_buf *out, enum commands_action *act,
              dispatch_done_cb cb, void *arg, struct dispatch_req **reqp)
{
	struct dispatch_req *r;
	struct commands_parsed p;
	struct dr_buf msg;
	const char *err;
	size_t start;
	int rv;

	*act = COMMANDS_CONTINUE;
	start = out->len;
	if (commands_parse(line, len, &p, &err) != 0) {
		/*
		 * Before auth, only auth is answered: a stranger learns
		 * nothing of the commands by trying them.
		 */
		if (cl->role == COMMANDS_ROLE_NONE &&
		    (p.cmd == NULL || p.id != COMMANDS_AUTH)) {
			d->denied++;
			dispatch_refused(d, &d->denied_log, cl->peer,
			                 "auth required", "not a command");
			commands_put_line(out, "ERROR auth required");
			*act = COMMANDS_CLOSE;
			return DISPATCH_DONE;
		}
		commands_put_line(out, err);
		dispatch_rejected(d, line, len, err + 6, strlen(err + 6));
		if (cl->role == COMMANDS_ROLE_NONE)
			*act = COMMANDS_CLOSE;
		return DISPATCH_DONE;
	}
	if (!dispatch_allowed(d, cl, &p, out, act)) {
		if (!p.has_body || cl->role == COMMANDS_ROLE_NONE)
			return DISPATCH_DONE;
		out->len = start; /* answered after the body */
		return DISPATCH_BODY_DENIED;
	}
	if (p.has_body)
		return DISPATCH_BODY;
	if (p.write)
		return dispatch_write(d, cl, line, len, NULL, out, cb, arg,
		                      reqp);
	dr_buf_init(&msg);
	rv = commands_build(&p, &msg, out, act);
	if (rv == COMMANDS_DONE && p.id == COMMANDS_ACK &&
	    out->len - start == 3 && memcmp(out->data + start, "OK\n", 3) == 0)
		(void)commands_ack_parse(p.args[0], &cl->ack);
	if (rv == COMMANDS_DONE) {
		/* Local commands answer here too: only ERROR is a refusal. */
		if (out->len - start > 6 &&
		    memcmp(out->data + start, "ERROR ", 6) == 0)
			dispatch_rejected(d, line, len,
			                  (const char *)out->data + start + 6,
			                  out->len - start - 6);
		dr_buf_close(&msg);
		return DISPATCH_DONE;
	}
	if (d->stopping) {
		dr_buf_close(&msg);
		commands_put_line(out, "ERROR shutting down");
		return DISPATCH_DONE;
	}
	if (rv == COMMANDS_RELOAD) {
		dr_buf_close(&msg);
		return req_reload(d, line, len, out, cb, arg, reqp);
	}
	r = req_new(d, cl, line, len, cb, arg);
	dr_buf_close(&r->msg);
	r->msg = msg;
	return req_start(r, out, reqp);
}

enum dispatch_pipe
dispatch_pipe_class(const struct dispatch_client *cl, const char *line,
                    size_t len)
{
	struct commands_parsed p;
	const char *err;

	if (commands_parse(line, len, &p, &err) != 0 || cl->role < p.role ||
	    cl->role == COMMANDS_ROLE_NONE)
		return DISPATCH_PIPE_SERIAL;
	switch (p.id) {
	case COMMANDS_KV_SET:
	case COMMANDS_KV_DEL:
	case COMMANDS_RR_ADD:
	case COMMANDS_RR_DEL:
		return DISPATCH_PIPE_WRITE;
	case COMMANDS_KV_PING:
	case COMMANDS_KV_GET:
	case COMMANDS_RR_GET:
		return DISPATCH_PIPE_READ;
	default:
		return DISPATCH_PIPE_SERIAL;
	}
}

int
dispatch_replace(struct dispatch *d, struct dispatch_client *cl,
                 struct replace *rp, struct dr_buf *out, dispatch_done_cb cb,
                 void *arg, struct dispatch_req **reqp)
{
	if (replace_finish(rp) != 0) {
		commands_put_error(out, rp->err, strlen(rp->err));
		replace_free(rp);
		return DISPATCH_DONE;
	}
	return dispatch_write(d, cl, rp->line, rp->len, rp, out, cb, arg, reqp);
}

void
dispatch_detach(struct dispatch_req *r)
{
	r->cb = NULL;
	r->cl = NULL;
	if (r->state == REQ_MORE && !r->ending) /* nobody wants the rest */
		req_dump_end(r);
}

void
dispatch_more(struct dispatch_req *r)
{
	if (r->state != REQ_MORE)
		return;
	if (r->d->stopping ||
	    commands_dump_msg(&r->p, r->dump_cursor, COMMANDS_DUMP_CHUNK,
	                      &r->msg) != 0) {
		r->flags |= DISPATCH_F_CLOSE;
		req_finish(r);
		return;
	}
	req_send(r);
}

void
dispatch_close(struct dispatch *d)
{
	struct dispatch_req *r, *next;

	d->stopping = true;
	for (r = d->reqs; r != NULL; r = next) {
		next = r->next;
		if (r->state == REQ_BACKOFF) {
			uv_timer_stop(r->timer);
			req_finish_line(r, "ERROR shutting down");
		} else if (r->state == REQ_MORE) {
			r->flags |= DISPATCH_F_CLOSE;
			req_finish(r);
		} else if (r->state == REQ_LOCAL) {
			/* The loader was stopped first and answered. */
			log_warnx("%s, still running at stop",
			          commands_name(&r->p));
		}
	}
	/* Requests still waiting for raftd end from here (DR_ECLOSED). */
	if (d->bus != NULL) {
		dr_bus_client_stop(d->bus);
		d->bus = NULL;
	}
	if (d->dnsd != NULL) {
		dr_bus_client_stop(d->dnsd);
		d->dnsd = NULL;
	}
}
