/* Running commands: raftd requests, forwarding to the leader, retries. */
#include "dispatch.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bus.h"
#include "err.h"
#include "forward.h"
#include "line.h"
#include "log.h"

enum req_state {
	REQ_RAFTD,   /* waiting for raftd's reply */
	REQ_FORWARD, /* waiting for the leader's ctld */
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
	struct forward *fwd;     /* in REQ_FORWARD */
	struct replace *replace; /* owned: zone replace's records */
	struct dr_buf text;      /* cluster status: raftd's part */
	size_t raftd_len;        /* cluster status: raftd's bytes in text */
	bool raftd_up;           /* cluster status: raftd answered */
	dispatch_done_cb cb;     /* NULL once detached */
	void *arg;
	struct dispatch_client *cl; /* borrowed; NULL once detached */
	/* token add: the token, sent instead of the SUCCESS of token set */
	char secret[COMMANDS_TOKEN_LEN + 1];
	unsigned flags; /* DISPATCH_F_* of the reply */
	unsigned parts; /* zone dump: parts delivered */
	bool ending;    /* zone dump: telling raftd to end it */
};

int
dispatch_init(struct dispatch *d, uv_loop_t *loop, const struct dr_config *cfg)
{
	char url[DR_PATH_LEN + 64];
	int rv;

	memset(d, 0, sizeof(*d));
	d->loop = loop;
	d->cfg = cfg;
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

static void
req_timer_close_cb(uv_handle_t *h)
{
	free(h);
}

/* Delivers the reply in r->reply and frees r. */
static void
req_finish(struct dispatch_req *r)
{
	struct dispatch *d = r->d;

	if (r->secret[0] != '\0' && r->reply.len == 8 &&
	    memcmp(r->reply.data, "SUCCESS\n", 8) == 0) {
		dr_buf_reset(&r->reply);
		commands_put_line(&r->reply, r->secret);
	}
	OPENSSL_cleanse(r->secret, sizeof(r->secret));
	if (r->cb != NULL)
		r->cb((const char *)r->reply.data, r->reply.len, r->flags,
		      r->arg);
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		d->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	d->nreqs--;
	if (r->timer != NULL)
		uv_close((uv_handle_t *)r->timer, req_timer_close_cb);
	dr_buf_close(&r->msg);
	dr_buf_close(&r->reply);
	dr_buf_close(&r->text);
	replace_free(r->replace);
	free(r->line);
	free(r);
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
	return r->p.forwarded ? DISPATCH_FORWARDED_TIMEOUT_MS
	                      : DISPATCH_RAFTD_TIMEOUT_MS;
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

/* No leader answered: try again after a pause, or give up. */
static void
req_retry(struct dispatch_req *r)
{
	struct dispatch *d = r->d;

	if (d->stopping) {
		req_finish_line(r, "ERROR shutting down");
		return;
	}
	if (uv_now(d->loop) + r->backoff_ms >= r->deadline) {
		log_debug("%s, no leader after %u tries", commands_name(&r->p),
		          r->tries);
		req_finish_line(r, "ERROR no leader");
		return;
	}
	req_wait(r, r->backoff_ms);
	r->backoff_ms *= 2;
	if (r->backoff_ms > DISPATCH_BACKOFF_MAX_MS)
		r->backoff_ms = DISPATCH_BACKOFF_MAX_MS;
}

/*
 * Answers from the leader's ctld that mean "ask again who leads": it lost
 * its leadership or has none, its raftd is gone, or it is stopping.
 */
static bool
forward_retryable(const char *line, size_t len)
{
	static const char *const again[] = {
		"ERROR not leader",
		"ERROR no leader",
		"ERROR raftd unavailable",
		"ERROR shutting down",
	};

	return line_is_one_of(line, len, again,
	                      sizeof(again) / sizeof(again[0]));
}

static void
req_forward_cb(int rv, const char *line, size_t len, uint64_t seq, void *arg)
{
	struct dispatch_req *r = arg;
	size_t i;

	r->fwd = NULL;
	if (rv != 0) {
		log_debug("%s, forward failed (%s)", commands_name(&r->p),
		          dr_strerror(rv));
		req_retry(r);
		return;
	}
	if (forward_retryable(line, len)) {
		req_retry(r);
		return;
	}
	for (i = 0; i < len; i++)
		if (!line_byte_ok((unsigned char)line[i])) {
			log_warnx("%s, leader sent an unprintable reply",
			          commands_name(&r->p));
			req_finish_line(r, "ERROR bad reply from leader");
			return;
		}
	dr_buf_put(&r->reply, line, len);
	dr_buf_put_u8(&r->reply, '\n');
	if (len < 5 || memcmp(line, "ERROR", 5) != 0) {
		if (seq > r->d->acked_seq)
			r->d->acked_seq = seq;
	}
	req_finish(r);
}

/* NOTLEADER "ID CTL_ADDR": relay the line to that ctld. */
static void
req_forward(struct dispatch_req *r, const uint8_t *payload, size_t len)
{
	char addr[DR_ADDR_LEN];
	const uint8_t *sp;
	size_t n = 0;
	int rv;

	sp = memchr(payload, ' ', len);
	if (sp != NULL) {
		sp++;
		n = len - (size_t)(sp - payload);
		while (n > 0 && (sp[n - 1] == '\n' || sp[n - 1] == '\r' ||
		                 sp[n - 1] == ' '))
			n--;
	}
	if (sp == NULL || n == 0 || n >= sizeof(addr)) {
		log_warnx("%s, raftd sent a malformed leader address",
		          commands_name(&r->p));
		req_retry(r);
		return;
	}
	memcpy(addr, sp, n);
	addr[n] = '\0';
	if (r->replace != NULL)
		rv = forward_start(
		    &r->fwd, r->d->loop, r->d->tls, addr, r->p.body.p,
		    r->p.body.len, r->replace->records.data,
		    r->replace->records.len, DISPATCH_ZONE_TIMEOUT_MS + 10000,
		    req_forward_cb, r);
	else
		rv = forward_start(&r->fwd, r->d->loop, r->d->tls, addr,
		                   r->p.body.p, r->p.body.len, NULL, 0, 0,
		                   req_forward_cb, r);
	if (rv != 0) {
		log_warnx("%s, raftd sent a bad leader address",
		          commands_name(&r->p));
		req_retry(r);
		return;
	}
	log_debug("%s, forwarded to %s", commands_name(&r->p), addr);
	r->state = REQ_FORWARD;
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
	dr_buf_init(&procs);
	commands_status_processes(r->raftd_up ? r->text.data : NULL,
	                          r->raftd_len, dnsd_up ? c.p : NULL,
	                          dnsd_up ? c.left : 0, &procs);
	dr_buf_put(&r->text, procs.data, procs.len);
	dr_buf_close(&procs);
	commands_format(&r->p, DR_ST_OK, r->text.data, r->text.len, &r->reply);
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
	if (r->cb == NULL) { /* the client left while this chunk came */
		r->state = REQ_MORE;
		dispatch_detach(r);
		return;
	}
	r->cb((const char *)r->reply.data, r->reply.len, DISPATCH_F_MORE,
	      r->arg);
	dr_buf_reset(&r->reply);
	r->state = REQ_MORE;
}

static void
req_raftd_cb(int rv, const void *data, size_t len, void *arg)
{
	struct dispatch_req *r = arg;
	struct dr_msg_hdr h;
	struct dr_cursor c;

	if (rv != 0) {
		log_debug("%s, request failed (%s)", commands_name(&r->p),
		          dr_strerror(rv));
		/* Still a status: raftd down, and what dnsd says. */
		if (r->p.id == COMMANDS_CLUSTER_STATUS && !r->d->stopping &&
		    req_status_dnsd(r, NULL, 0))
			return;
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
	/* A peer's forwarded line is answered here, never sent on. */
	if (r->p.forwardable && !r->p.forwarded) {
		if (h.status == DR_ST_NOTLEADER) {
			req_forward(r, c.p, c.left);
			return;
		}
		if (h.status == DR_ST_NOLEADER) {
			req_retry(r);
			return;
		}
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
	if (r->ending) {
		req_finish(r);
		return;
	}
	if (r->p.id == COMMANDS_ZONE_DUMP &&
	    (h.status == DR_ST_OK || r->parts > 0)) {
		req_dump_part(r, h.status, c.p, c.left);
		return;
	}
	commands_format(&r->p, h.status, c.p, c.left, &r->reply);
	if (r->p.forwarded) {
		/* For the forwarding ctld: see forward.h. */
		char seq[32];
		int n = snprintf(seq, sizeof(seq), "seq %llu\n",
		                 (unsigned long long)h.seq);

		dr_buf_put(&r->reply, seq, (size_t)n);
	}
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

/* Frees a request that never started. */
static void
req_drop(struct dispatch_req *r)
{
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
		dispatch_refused(
		    d, &d->denied_log, cl->peer, "permission denied",
		    p->forwarded ? "forwarded line" : commands_name(p));
		commands_put_line(out, "ERROR permission denied");
	}
	return false;
}

/*
 * token add NAME ROLE: the token is made here, and what runs (here or at
 * the leader) is "token set NAME ROLE HASH"; the reply is the token.
 */
static int
dispatch_token_add(struct dispatch *d, struct dispatch_client *cl,
                   const struct commands_parsed *p, struct dr_buf *out,
                   dispatch_done_cb cb, void *arg, struct dispatch_req **reqp)
{
	char token[COMMANDS_TOKEN_LEN + 1], hash[COMMANDS_HASH_LEN + 1];
	char line[LINE_MAX_LEN + 1];
	enum commands_action act;
	struct dispatch_req *r;
	int n;

	n = snprintf(line, sizeof(line), "token set %.*s %.*s ",
	             (int)p->args[0].len, p->args[0].p, (int)p->args[1].len,
	             p->args[1].p);
	if (n < 0 || (size_t)n + COMMANDS_HASH_LEN >= sizeof(line)) {
		commands_put_line(out, "ERROR line too long");
		return DISPATCH_DONE;
	}
	commands_token_new(token, hash);
	memcpy(line + n, hash, COMMANDS_HASH_LEN + 1);
	r = req_new(d, cl, line, strlen(line), cb, arg);
	memcpy(r->secret, token, sizeof(r->secret));
	OPENSSL_cleanse(token, sizeof(token));
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
		commands_put_line(out, err);
		dispatch_rejected(d, line, len, err + 6, strlen(err + 6));
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
	if (p.id == COMMANDS_TOKEN_ADD) {
		if (d->stopping) {
			commands_put_line(out, "ERROR shutting down");
			return DISPATCH_DONE;
		}
		return dispatch_token_add(d, cl, &p, out, cb, arg, reqp);
	}
	dr_buf_init(&msg);
	rv = commands_build(&p, &msg, out, act);
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

int
dispatch_replace(struct dispatch *d, struct replace *rp, struct dr_buf *out,
                 dispatch_done_cb cb, void *arg, struct dispatch_req **reqp)
{
	struct dispatch_req *r;
	enum commands_action act;

	if (replace_finish(rp) != 0) {
		commands_put_error(out, rp->err, strlen(rp->err));
		replace_free(rp);
		return DISPATCH_DONE;
	}
	if (d->stopping) {
		commands_put_line(out, "ERROR shutting down");
		replace_free(rp);
		return DISPATCH_DONE;
	}
	r = req_new(d, NULL, rp->line, rp->len, cb, arg);
	r->replace = rp;
	r->p.records.p = (const char *)rp->records.data;
	r->p.records.len = rp->records.len;
	if (commands_build(&r->p, &r->msg, out, &act) != COMMANDS_SEND) {
		req_drop(r);
		return DISPATCH_DONE;
	}
	return req_start(r, out, reqp);
}

void
dispatch_detach(struct dispatch_req *r)
{
	r->cb = NULL;
	r->cl = NULL;
	/* Nobody wants the rest: raftd can let the snapshot go. */
	if (r->state == REQ_MORE) {
		r->ending = true;
		if (r->d->stopping ||
		    commands_dump_msg(&r->p, r->dump_cursor, 0, &r->msg) != 0)
			req_finish(r);
		else
			req_send(r);
	}
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
		} else if (r->state == REQ_FORWARD) {
			/* Its callback retries, sees stopping and ends r. */
			forward_cancel(r->fwd);
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
