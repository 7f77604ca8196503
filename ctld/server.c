/* The control protocol's TCP side: listener, connections, line framing. */
#include "server.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "line.h"
#include "log.h"
#include "replace.h"

/*
 * A connection is OPEN while it reads and answers lines, one at a time and
 * in order. Its last reply sends it to ENDING: the reply is written, the
 * write side shut down, and in LINGER the input is drained until the peer
 * closes (or SERVER_LINGER_MS), so that closing never resets a connection
 * whose reply the peer has not read yet.
 */
enum conn_state {
	CONN_OPEN,
	CONN_ENDING,
	CONN_LINGER,
	CONN_CLOSED,
};

struct conn {
	struct server *s;
	struct conn *prev, *next;
	uv_tcp_t tcp;
	uv_timer_t timer; /* line, idle, yield or linger timeout */
	uv_shutdown_t shutdown;
	enum conn_state state;
	char *in; /* owned: input; in[inpos..inlen) not yet processed */
	size_t inpos, inlen, incap;
	size_t scanned;           /* see line_next */
	struct dr_buf out;        /* replies not yet handed to libuv */
	struct dispatch_req *req; /* the command in flight */
	struct replace *replace;  /* owned: collecting a zone's lines */
	unsigned nopen;           /* handles not yet closed */
	bool session;
	bool reading;
	bool eof;
	bool counted;  /* in s->nconns */
	bool refused;  /* in s->nrefused */
	bool yielding; /* timer set to resume processing */
	char peer[64];
};

struct conn_write {
	uv_write_t req;
	struct dr_buf data; /* owned */
};

static void conn_process(struct conn *c, bool progressed);

static void
conn_close_cb(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (--c->nopen > 0)
		return;
	free(c->in);
	dr_buf_close(&c->out);
	replace_free(c->replace);
	free(c);
}

/* Drops the connection at once; pending writes are cancelled. */
static void
conn_close(struct conn *c)
{
	struct server *s = c->s;

	if (c->state == CONN_CLOSED)
		return;
	c->state = CONN_CLOSED;
	if (c->req != NULL) {
		dispatch_detach(c->req);
		c->req = NULL;
	}
	if (c->counted) {
		s->nconns--;
		if (s->full) {
			s->full = false;
			log_info("connections, below the limit of %u again",
			         s->cfg->ctl_max_conns);
		}
	}
	if (c->refused)
		s->nrefused--;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	uv_close((uv_handle_t *)&c->tcp, conn_close_cb);
	uv_close((uv_handle_t *)&c->timer, conn_close_cb);
}

static void
conn_read_stop(struct conn *c)
{
	if (c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
}

static void conn_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void conn_read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *b);

static void
conn_read_start(struct conn *c)
{
	int rv;

	if (c->reading || c->eof)
		return;
	rv = uv_read_start((uv_stream_t *)&c->tcp, conn_alloc_cb, conn_read_cb);
	if (rv != 0) {
		log_debug("conn %s, cannot read (%s)", c->peer,
		          uv_strerror(rv));
		conn_close(c);
		return;
	}
	c->reading = true;
}

static void
conn_write_cb(uv_write_t *req, int status)
{
	struct conn_write *w = (struct conn_write *)req;
	struct conn *c = req->handle->data;

	dr_buf_close(&w->data);
	free(w);
	if (c->state == CONN_CLOSED)
		return;
	if (status < 0) {
		log_debug("conn %s, write failed (%s)", c->peer,
		          uv_strerror(status));
		conn_close(c);
		return;
	}
	if (c->state == CONN_OPEN &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) <
	        SERVER_OUTPUT_MAX / 2)
		conn_process(c, false);
}

/* Hands the pending replies to libuv in one write. */
static void
conn_flush(struct conn *c)
{
	struct conn_write *w;
	uv_buf_t b;
	int rv;

	if (c->out.len == 0 || c->state == CONN_CLOSED)
		return;
	w = malloc(sizeof(*w));
	if (w == NULL)
		abort();
	w->data = c->out;
	dr_buf_init(&c->out);
	b = uv_buf_init((char *)w->data.data, (unsigned)w->data.len);
	rv = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, conn_write_cb);
	if (rv != 0) {
		dr_buf_close(&w->data);
		free(w);
		log_debug("conn %s, write failed (%s)", c->peer,
		          uv_strerror(rv));
		conn_close(c);
	}
}

static void
conn_timer_cb(uv_timer_t *t)
{
	struct conn *c = t->data;

	if (c->yielding) {
		c->yielding = false;
		conn_process(c, true);
		return;
	}
	switch (c->state) {
	case CONN_OPEN:
		log_debug("conn %s, closed (%s)", c->peer,
		          c->session ? "idle timeout" : "no line in time");
		break;
	case CONN_ENDING:
		log_debug("conn %s, closed (reply not read in time)", c->peer);
		break;
	default:
		break;
	}
	conn_close(c);
}

static void
conn_shutdown_cb(uv_shutdown_t *req, int status)
{
	struct conn *c = req->data;

	if (c->state == CONN_CLOSED)
		return;
	if (status < 0 || c->eof) {
		conn_close(c);
		return;
	}
	c->state = CONN_LINGER;
	uv_timer_start(&c->timer, conn_timer_cb, SERVER_LINGER_MS, 0);
}

/* Sends what is in out, then closes gracefully. */
static void
conn_end(struct conn *c)
{
	int rv;

	if (c->state != CONN_OPEN)
		return;
	conn_flush(c);
	if (c->state != CONN_OPEN)
		return;
	c->state = CONN_ENDING;
	c->inlen = 0;
	c->inpos = 0;
	c->yielding = false;
	/* Bounds the time a peer that never reads can hold us. */
	uv_timer_start(&c->timer, conn_timer_cb, SERVER_LINE_TIMEOUT_MS, 0);
	c->shutdown.data = c;
	rv =
	    uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, conn_shutdown_cb);
	if (rv != 0) {
		conn_close(c);
		return;
	}
	conn_read_start(c); /* drain, so closing does not reset */
}

/* Moves the unprocessed input to the front of the buffer. */
static void
conn_compact(struct conn *c)
{
	if (c->inpos == 0)
		return;
	memmove(c->in, c->in + c->inpos, c->inlen - c->inpos);
	c->inlen -= c->inpos;
	c->inpos = 0;
}

static void
conn_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;
	size_t cap;

	if (c->state != CONN_OPEN)
		c->inlen = c->inpos = 0; /* draining: overwrite */
	conn_compact(c);
	if (c->incap - c->inlen < 4096 && c->incap < SERVER_INPUT_MAX) {
		cap = c->incap ? c->incap * 2 : 4096;
		if (cap > SERVER_INPUT_MAX)
			cap = SERVER_INPUT_MAX;
		c->in = realloc(c->in, cap);
		if (c->in == NULL)
			abort();
		c->incap = cap;
	}
	buf->base = c->in + c->inlen;
	buf->len = c->incap - c->inlen;
}

static void
conn_read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
	struct conn *c = st->data;

	if (nread == 0 || c->state == CONN_CLOSED)
		return;
	if (nread == UV_EOF) {
		c->eof = true;
		conn_read_stop(c);
		if (c->state == CONN_OPEN)
			conn_process(c, false);
		else if (c->state == CONN_LINGER)
			conn_close(c);
		return;
	}
	if (nread < 0) {
		log_debug("conn %s, read failed (%s)", c->peer,
		          uv_strerror((int)nread));
		conn_close(c);
		return;
	}
	if (c->state != CONN_OPEN)
		return;
	c->inlen += (size_t)nread;
	if (c->inlen == SERVER_INPUT_MAX)
		conn_read_stop(c); /* too many lines queued */
	conn_process(c, false);
}

static void
conn_reply_cb(const char *reply, size_t len, void *arg)
{
	struct conn *c = arg;

	c->req = NULL;
	dr_buf_put(&c->out, reply, len);
	if (!c->session)
		conn_end(c);
	else
		conn_process(c, true);
}

/*
 * Drops a processed line. The bytes move only once per batch
 * (conn_compact), not once per line: a zone's many short lines would
 * otherwise move the whole buffer each time.
 */
static void
conn_consume(struct conn *c, size_t n)
{
	c->inpos += n;
	c->scanned = 0;
}

/* What the loop of conn_process does after a line. */
enum conn_next {
	CONN_NEXT_LINE, /* read the next line */
	CONN_NEXT_WAIT, /* a command is in flight: stop for now */
	CONN_NEXT_GONE, /* the connection is ending */
};

/* After dispatch answered or took a command (DISPATCH_DONE / PENDING). */
static enum conn_next
conn_dispatched(struct conn *c, int rv, enum commands_action act)
{
	if (rv == DISPATCH_PENDING) {
		uv_timer_stop(&c->timer);
		return CONN_NEXT_WAIT;
	}
	if (act == COMMANDS_START_SESSION && !c->session) {
		c->session = true;
		log_debug("conn %s, session started", c->peer);
	}
	if (act == COMMANDS_CLOSE || !c->session) {
		conn_end(c);
		return CONN_NEXT_GONE;
	}
	return CONN_NEXT_LINE;
}

/* One of the record lines after "zone replace", or its final ".". */
static enum conn_next
conn_replace_line(struct conn *c, size_t linelen, size_t consumed)
{
	struct replace *r = c->replace;
	int rv;

	rv = replace_line(r, c->in + c->inpos, linelen);
	conn_consume(c, consumed);
	if (rv == REPLACE_MORE)
		return CONN_NEXT_LINE;
	c->replace = NULL;
	log_debug("conn %s, zone replace %s with %zu records", c->peer, r->zone,
	          r->nrecords);
	rv = dispatch_replace(c->s->dispatch, r, &c->out, conn_reply_cb, c,
	                      &c->req);
	return conn_dispatched(c, rv, COMMANDS_CONTINUE);
}

/*
 * Answers the complete lines in the input, in order, until one needs
 * raftd, the peer is slow to read, or SERVER_BATCH lines were answered
 * (SERVER_BODY_BATCH record lines of a zone replace).
 * progressed says a reply was just added, so the idle timer restarts.
 */
static void
conn_process(struct conn *c, bool progressed)
{
	struct server *s = c->s;
	enum commands_action act;
	enum line_status st;
	enum conn_next next;
	size_t linelen, consumed;
	unsigned n = 0, nbody = 0;
	int rv;

	if (c->state != CONN_OPEN || c->req != NULL || c->yielding)
		return;
	for (;;) {
		if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) >
		    SERVER_OUTPUT_MAX)
			break; /* resumed by conn_write_cb */
		if (n == SERVER_BATCH || nbody == SERVER_BODY_BATCH) {
			c->yielding = true;
			uv_timer_start(&c->timer, conn_timer_cb, 0, 0);
			break;
		}
		st = line_next(c->in + c->inpos, c->inlen - c->inpos, c->eof,
		               &c->scanned, &linelen, &consumed);
		if (st == LINE_NEED_MORE) {
			if (c->eof) {
				if (c->replace != NULL)
					commands_put_line(
					    &c->out, "ERROR zone replace "
					             "without its final \".\"");
				conn_end(c);
				return;
			}
			break;
		}
		if (st != LINE_OK) {
			/* One per connection: it is closed right after. */
			log_warnx("conn %s, rejected and closed (%s)", c->peer,
			          st == LINE_TOO_LONG ? "line too long"
			                              : "invalid input");
			commands_put_line(&c->out, st == LINE_TOO_LONG
			                               ? "ERROR line too long"
			                               : "ERROR invalid input");
			conn_end(c);
			return;
		}
		if (c->replace != NULL) {
			nbody++;
			next = conn_replace_line(c, linelen, consumed);
		} else {
			n++;
			rv = dispatch_line(s->dispatch, c->in + c->inpos,
			                   linelen, &c->out, &act,
			                   conn_reply_cb, c, &c->req);
			if (rv == DISPATCH_BODY)
				c->replace =
				    replace_new(c->in + c->inpos, linelen);
			conn_consume(c, consumed);
			next = rv == DISPATCH_BODY
			           ? CONN_NEXT_LINE
			           : conn_dispatched(c, rv, act);
		}
		if (next == CONN_NEXT_GONE)
			return;
		if (next == CONN_NEXT_WAIT)
			break;
	}
	conn_compact(c);
	conn_flush(c);
	if (c->state != CONN_OPEN)
		return;
	if (c->inlen < SERVER_INPUT_MAX)
		conn_read_start(c);
	if (c->state != CONN_OPEN || c->req != NULL || c->yielding)
		return;
	if (c->session && (n > 0 || progressed))
		uv_timer_start(&c->timer, conn_timer_cb,
		               s->cfg->ctl_idle_timeout_ms, 0);
	else if (c->replace != NULL && nbody > 0)
		/* Record lines keep coming: the timeout starts over. */
		uv_timer_start(&c->timer, conn_timer_cb,
		               c->session ? s->cfg->ctl_idle_timeout_ms
		                          : SERVER_LINE_TIMEOUT_MS,
		               0);
}

static void
conn_peer_name(struct conn *c)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];
	unsigned port = 0;

	strcpy(c->peer, "?");
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof(ip));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof(ip));
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		return;
	}
	(void)snprintf(c->peer, sizeof(c->peer), "%s:%u", ip, port);
}

static void
server_connection_cb(uv_stream_t *listener, int status)
{
	struct server *s = listener->data;
	struct conn *c;

	if (status < 0) {
		log_warnx("listener, accept failed (%s)", uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		abort();
	c->s = s;
	dr_buf_init(&c->out);
	uv_tcp_init(s->loop, &c->tcp);
	uv_timer_init(s->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->nopen = 2;
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0 || s->stopping) {
		conn_close(c);
		return;
	}
	conn_peer_name(c);
	uv_tcp_nodelay(&c->tcp, 1);
	if (s->nconns >= s->cfg->ctl_max_conns) {
		if (!s->full)
			log_warnx("connections, limit of %u reached, refusing",
			          s->cfg->ctl_max_conns);
		if (s->nrefused >= s->cfg->ctl_max_conns) {
			conn_close(c); /* do not even answer */
			return;
		}
		s->full = true;
		c->refused = true;
		s->nrefused++;
		commands_put_line(&c->out, "ERROR too many connections");
		conn_end(c);
		return;
	}
	c->counted = true;
	s->nconns++;
	log_debug("conn %s, accepted", c->peer);
	uv_timer_start(&c->timer, conn_timer_cb, SERVER_LINE_TIMEOUT_MS, 0);
	conn_read_start(c);
}

int
server_start(struct server *s, uv_loop_t *loop, const struct dr_config *cfg,
             struct dispatch *dispatch)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct dr_addr a;
	int rv;

	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->cfg = cfg;
	s->dispatch = dispatch;
	if (dr_addr_parse(cfg->ctl_addr, &a) != 0) {
		log_warnx("listener, invalid address %s", cfg->ctl_addr);
		return DR_EINVAL;
	}
	rv = dr_addr_resolve(&a, &ss, &sslen);
	if (rv != 0)
		return rv;
	uv_tcp_init(loop, &s->listener);
	s->listener.data = s;
	s->listening = true;
	rv = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0);
	if (rv == 0)
		rv = uv_listen((uv_stream_t *)&s->listener, 4096,
		               server_connection_cb);
	if (rv != 0) {
		log_warnx("listener, cannot listen on %s (%s)", cfg->ctl_addr,
		          uv_strerror(rv));
		server_stop(s);
		return DR_EIO;
	}
	log_info("listener, serving the control protocol on %s", cfg->ctl_addr);
	return 0;
}

void
server_stop(struct server *s)
{
	s->stopping = true;
	if (s->listening) {
		s->listening = false;
		uv_close((uv_handle_t *)&s->listener, NULL);
	}
	while (s->conns != NULL)
		conn_close(s->conns);
}
