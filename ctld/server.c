/* The control protocol's TCP side: listener, connections, line framing. */
#include "server.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "line.h"
#include "log.h"
#include "replace.h"
#include "stream.h"

/*
 * A connection WAITs until its stream is ready (TLS done, or its first
 * bytes seen), is OPEN while it reads and answers lines in order: one at a
 * time, except that a session pipelines (dispatch.h: dispatch_pipe_class)
 * up to SERVER_PIPELINE_MAX writes, or reads, each in a slot of its own
 * whose reply waits until the replies of the lines before it are out. Its
 * last reply sends it to ENDING: the reply is written,
 * the write side shut down, and in LINGER the input is drained until the
 * peer closes (or SERVER_LINGER_MS), so that closing never resets a
 * connection whose reply the peer has not read yet.
 */
enum conn_state {
	CONN_WAIT,
	CONN_OPEN,
	CONN_ENDING,
	CONN_LINGER,
	CONN_CLOSED,
};

/* One pipelined command of a session, in line order. */
struct conn_slot {
	struct conn_slot *next;
	struct conn *c;
	struct dispatch_req *req; /* NULL once answered */
	struct dr_buf out;        /* its reply */
};

struct conn {
	struct server *s;
	struct conn *prev, *next;
	struct dr_stream *stream; /* owned until closed */
	uv_timer_t timer;         /* line, idle, body, yield or linger */
	enum conn_state state;
	char *in; /* owned: input; in[inpos..inlen) not yet processed */
	size_t inpos, inlen, incap;
	size_t scanned;           /* see line_next */
	struct dr_buf out;        /* replies not yet handed to the stream */
	struct dispatch_req *req; /* the command in flight (not pipelined) */
	struct conn_slot *slots, **slots_tail; /* pipelined, oldest first */
	unsigned nslots;
	enum dispatch_pipe pipe; /* the kind of what is in the slots */
	size_t slot_bytes;       /* replies held in slots */
	struct replace *replace; /* owned: collecting a zone's lines */
	size_t body_bytes;       /* a replace's records, collected or run */
	size_t mem;              /* what this connection adds to s->mem */
	struct dispatch_client cl;
	unsigned nopen; /* handles not yet closed */
	bool session;
	bool reading;
	bool eof;
	bool loopback;
	bool stranger; /* not from loopback */
	bool counted;  /* in s->nconns (and s->nstrangers if a stranger) */
	bool unauth;   /* in s->nunauth */
	bool refused;  /* in s->nrefused */
	bool yielding; /* timer set to resume processing */
	bool more;     /* a part of a reply came: ask for the next */
	char src[INET6_ADDRSTRLEN];
	char peer[INET6_ADDRSTRLEN + 8];
};

static void conn_process(struct conn *c, bool progressed);
static void conn_timer_cb(uv_timer_t *t);

/* Keeps s->mem equal to the sum of every connection's holdings. */
static void
conn_mem_sync(struct conn *c)
{
	size_t now =
	    c->state == CONN_CLOSED
	        ? 0
	        : c->out.len + c->body_bytes + c->slot_bytes +
	              (c->stream != NULL ? dr_stream_queued(c->stream) : 0);

	c->s->mem = c->s->mem - c->mem + now;
	c->mem = now;
}

/* Drops every slot; their requests run on without a reply. */
static void
conn_slots_drop(struct conn *c)
{
	struct conn_slot *sl;

	while ((sl = c->slots) != NULL) {
		c->slots = sl->next;
		if (sl->req != NULL)
			dispatch_detach(sl->req);
		dr_buf_close(&sl->out);
		free(sl);
	}
	c->slots_tail = &c->slots;
	c->nslots = 0;
	c->slot_bytes = 0;
}

static void
conn_free_maybe(struct conn *c)
{
	if (c->nopen > 0)
		return;
	free(c->in);
	dr_buf_close(&c->out);
	replace_free(c->replace);
	free(c);
}

static void
conn_timer_closed_cb(uv_handle_t *h)
{
	struct conn *c = h->data;

	c->nopen--;
	conn_free_maybe(c);
}

static void
conn_stream_closed_cb(struct dr_stream *st)
{
	struct conn *c = dr_stream_data(st);

	c->nopen--;
	conn_free_maybe(c);
}

/* Leaves the unauthenticated count (a role came, or the end). */
static void
conn_authenticated(struct conn *c)
{
	if (c->unauth) {
		c->unauth = false;
		c->s->nunauth--;
	}
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
	conn_slots_drop(c);
	conn_authenticated(c);
	if (c->counted) {
		s->nconns--;
		if (c->stranger)
			s->nstrangers--;
	}
	if (c->refused)
		s->nrefused--;
	c->body_bytes = 0;
	conn_mem_sync(c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	dr_stream_close(c->stream, conn_stream_closed_cb);
	uv_close((uv_handle_t *)&c->timer, conn_timer_closed_cb);
}

static void
conn_read_stop(struct conn *c)
{
	if (c->reading) {
		dr_stream_read_stop(c->stream);
		c->reading = false;
	}
}

static void conn_alloc_cb(struct dr_stream *st, size_t suggested,
                          uv_buf_t *buf);
static void conn_read_cb(struct dr_stream *st, ssize_t nread,
                         const uv_buf_t *b);

static void
conn_read_start(struct conn *c)
{
	int rv;

	if (c->reading || c->eof || c->state == CONN_WAIT)
		return;
	rv = dr_stream_read_start(c->stream, conn_alloc_cb, conn_read_cb);
	if (rv != 0) {
		log_debug("conn %s, cannot read (%s)", c->peer,
		          uv_strerror(rv));
		conn_close(c);
		return;
	}
	c->reading = true;
}

/* Asks for the next part of a long reply once the client took this one. */
static void
conn_more(struct conn *c)
{
	if (!c->more || c->req == NULL ||
	    dr_stream_queued(c->stream) >= SERVER_OUTPUT_MAX / 2)
		return;
	c->more = false;
	uv_timer_stop(&c->timer); /* the next part is on its way */
	dispatch_more(c->req);
}

static void
conn_write_cb(struct dr_stream *st, int status)
{
	struct conn *c = dr_stream_data(st);

	conn_mem_sync(c);
	if (c->state == CONN_CLOSED)
		return;
	if (status < 0) {
		log_debug("conn %s, write failed (%s)", c->peer,
		          uv_strerror(status));
		conn_close(c);
		return;
	}
	conn_more(c);
	if (c->state == CONN_OPEN &&
	    dr_stream_queued(c->stream) < SERVER_OUTPUT_MAX / 2)
		conn_process(c, false);
}

/* Hands the pending replies to the stream in one write. */
static void
conn_flush(struct conn *c)
{
	int rv;

	if (c->out.len == 0 || c->state == CONN_CLOSED)
		return;
	rv = dr_stream_write(c->stream, c->out.data, c->out.len, conn_write_cb);
	dr_buf_reset(&c->out);
	conn_mem_sync(c);
	if (rv != 0) {
		log_debug("conn %s, write failed", c->peer);
		conn_close(c);
	}
}

static void
conn_shutdown_cb(struct dr_stream *st, int status)
{
	struct conn *c = dr_stream_data(st);

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
	if (c->state != CONN_OPEN && c->state != CONN_WAIT)
		return;
	conn_flush(c);
	if (c->state == CONN_CLOSED)
		return;
	c->state = CONN_ENDING;
	c->inlen = 0;
	c->inpos = 0;
	c->yielding = false;
	/* Bounds the time a peer that never reads can hold us. */
	uv_timer_start(&c->timer, conn_timer_cb, SERVER_LINE_TIMEOUT_MS, 0);
	if (dr_stream_shutdown(c->stream, conn_shutdown_cb) != 0) {
		conn_close(c);
		return;
	}
	if (!c->reading && !c->eof &&
	    dr_stream_read_start(c->stream, conn_alloc_cb, conn_read_cb) == 0)
		c->reading = true; /* drain, so closing does not reset */
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
	case CONN_WAIT:
		log_debug("conn %s, closed (nothing in time)", c->peer);
		break;
	case CONN_OPEN:
		log_debug("conn %s, closed (%s)", c->peer,
		          c->more              ? "reply not read in time"
		          : c->replace != NULL ? "zone replace body too slow"
		          : c->session         ? "idle timeout"
		                               : "no line in time");
		break;
	case CONN_ENDING:
		log_debug("conn %s, closed (reply not read in time)", c->peer);
		break;
	default:
		break;
	}
	conn_close(c);
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
conn_alloc_cb(struct dr_stream *st, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = dr_stream_data(st);
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
conn_read_cb(struct dr_stream *st, ssize_t nread, const uv_buf_t *b)
{
	struct conn *c = dr_stream_data(st);

	if (nread == 0 || c->state == CONN_CLOSED)
		return;
	if (nread < 0) {
		c->eof = true;
		c->reading = false;
		if (nread != UV_EOF)
			log_debug("conn %s, read failed (%s)", c->peer,
			          uv_strerror((int)nread));
		if (c->state == CONN_OPEN && nread == UV_EOF)
			conn_process(c, false);
		else
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

/* The connection's first line has its SERVER_LINE_TIMEOUT_MS again. */
static void
conn_restart_line_timer(struct conn *c)
{
	uv_timer_start(&c->timer, conn_timer_cb,
	               c->session ? c->s->cfg->ctl_idle_timeout_ms
	                          : SERVER_LINE_TIMEOUT_MS,
	               0);
}

/* SERVER_PART_TIMEOUT_MS, or the idle timeout when that is shorter. */
static uint64_t
conn_part_timeout(const struct conn *c)
{
	unsigned idle = c->s->cfg->ctl_idle_timeout_ms;

	return idle < SERVER_PART_TIMEOUT_MS ? idle : SERVER_PART_TIMEOUT_MS;
}

static void
conn_reply_cb(const char *reply, size_t len, unsigned flags, void *arg)
{
	struct conn *c = arg;

	dr_buf_put(&c->out, reply, len);
	conn_mem_sync(c);
	if (flags & DISPATCH_F_MORE) {
		c->more = true;
		conn_flush(c);
		/* Each part has this long to be taken, however it trickles. */
		uv_timer_start(&c->timer, conn_timer_cb, conn_part_timeout(c),
		               0);
		conn_more(c);
		return;
	}
	c->req = NULL;
	c->body_bytes = 0;
	conn_mem_sync(c);
	if (flags & DISPATCH_F_CLOSE) {
		conn_end(c);
		return;
	}
	if (flags & DISPATCH_F_AUTH) {
		conn_authenticated(c);
		conn_restart_line_timer(c);
		conn_process(c, false);
		return;
	}
	if (!c->session)
		conn_end(c);
	else
		conn_process(c, true);
}

/* Moves the replies of the answered slots at the head to out, in order. */
static bool
conn_slots_take(struct conn *c)
{
	struct conn_slot *sl;
	bool progressed = false;

	while ((sl = c->slots) != NULL && sl->req == NULL) {
		c->slots = sl->next;
		if (c->slots == NULL)
			c->slots_tail = &c->slots;
		c->nslots--;
		c->slot_bytes -= sl->out.len;
		dr_buf_put(&c->out, sl->out.data, sl->out.len);
		dr_buf_close(&sl->out);
		free(sl);
		progressed = true;
	}
	conn_mem_sync(c);
	return progressed;
}

/* The same from a reply: sends them, and processing goes on. */
static void
conn_slots_flush(struct conn *c)
{
	if (!conn_slots_take(c))
		return;
	conn_flush(c);
	conn_process(c, true);
}

static void
conn_slot_reply_cb(const char *reply, size_t len, unsigned flags, void *arg)
{
	struct conn_slot *sl = arg;
	struct conn *c = sl->c;

	(void)flags; /* pipelined commands are none of MORE, AUTH, CLOSE */
	dr_buf_put(&sl->out, reply, len);
	c->slot_bytes += len;
	sl->req = NULL;
	if (sl == c->slots)
		conn_slots_flush(c);
	else
		conn_mem_sync(c);
}

/*
 * Runs a pipelined line in a new slot at the tail; an answer that comes
 * at once waits there for the slots before it.
 */
static void
conn_slot_line(struct conn *c, const char *line, size_t len,
               enum dispatch_pipe pipe)
{
	struct conn_slot *sl = calloc(1, sizeof(*sl));
	enum commands_action act;
	int rv;

	if (sl == NULL)
		abort();
	sl->c = c;
	dr_buf_init(&sl->out);
	*c->slots_tail = sl;
	c->slots_tail = &sl->next;
	c->nslots++;
	c->pipe = pipe;
	rv = dispatch_line(c->s->dispatch, &c->cl, line, len, &sl->out, &act,
	                   conn_slot_reply_cb, sl, &sl->req);
	if (rv != DISPATCH_PENDING)
		sl->req = NULL;
	c->slot_bytes += sl->out.len;
	conn_mem_sync(c);
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

/* What ctld holds against its memory budget. */
static size_t
server_mem(const struct server *s)
{
	return s->mem + s->dispatch->held;
}

/* Counts and logs (at a bounded rate) a body refused for the budget. */
static void
server_over_budget(struct server *s, const struct conn *c)
{
	uint64_t quiet;

	s->over_budget++;
	if (!dr_ratelog_allow(&s->refused_log, uv_now(s->loop), &quiet))
		return;
	log_warnx("conn %s, zone replace %s refused (memory budget of %zu "
	          "MiB reached)%s",
	          c->peer, c->replace->zone, s->mem_max >> 20,
	          quiet > 0 ? " (and more refusals not logged)" : "");
}

/* One of the record lines after "zone replace", or its final ".". */
static enum conn_next
conn_replace_line(struct conn *c, size_t linelen, size_t consumed)
{
	struct replace *r = c->replace;
	int rv;

	rv = replace_line(r, c->in + c->inpos, linelen);
	conn_consume(c, consumed);
	c->body_bytes = r->records.len;
	conn_mem_sync(c);
	if (rv == REPLACE_MORE) {
		if (server_mem(c->s) <= c->s->mem_max)
			return CONN_NEXT_LINE;
		server_over_budget(c->s, c);
		commands_put_line(&c->out, "ERROR busy (memory budget)");
		replace_free(r);
		c->replace = NULL;
		c->body_bytes = 0;
		conn_mem_sync(c);
		conn_end(c);
		return CONN_NEXT_GONE;
	}
	c->replace = NULL;
	log_debug("conn %s, zone replace %s with %zu records", c->peer, r->zone,
	          r->nrecords);
	rv = dispatch_replace(c->s->dispatch, &c->cl, r, &c->out, conn_reply_cb,
	                      c, &c->req);
	c->body_bytes = 0; /* dispatch counts the records it holds */
	conn_mem_sync(c);
	return conn_dispatched(c, rv, COMMANDS_CONTINUE);
}

/* A command line: run it, or start collecting its body. */
static enum conn_next
conn_command_line(struct conn *c, size_t linelen, size_t consumed)
{
	struct server *s = c->s;
	enum commands_action act = COMMANDS_CONTINUE;
	enum dispatch_pipe pipe = DISPATCH_PIPE_SERIAL;
	int rv;

	if (c->session)
		pipe = dispatch_pipe_class(&c->cl, c->in + c->inpos, linelen);
	if (c->nslots > 0 &&
	    (pipe != c->pipe || c->nslots >= SERVER_PIPELINE_MAX))
		return CONN_NEXT_WAIT; /* the line waits, unconsumed */
	if (pipe != DISPATCH_PIPE_SERIAL) {
		conn_slot_line(c, c->in + c->inpos, linelen, pipe);
		conn_consume(c, consumed);
		conn_slots_take(c);
		return CONN_NEXT_LINE;
	}
	rv = dispatch_line(s->dispatch, &c->cl, c->in + c->inpos, linelen,
	                   &c->out, &act, conn_reply_cb, c, &c->req);
	if (rv == DISPATCH_BODY || rv == DISPATCH_BODY_DENIED) {
		c->replace = replace_new(c->in + c->inpos, linelen);
		if (rv == DISPATCH_BODY_DENIED)
			replace_deny(c->replace, "permission denied");
		/* The whole body has one deadline; lines do not extend it. */
		uv_timer_start(&c->timer, conn_timer_cb, SERVER_BODY_TIMEOUT_MS,
		               0);
	}
	conn_consume(c, consumed);
	return c->replace != NULL ? CONN_NEXT_LINE
	                          : conn_dispatched(c, rv, act);
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
	enum line_status st;
	enum conn_next next;
	size_t linelen, consumed;
	unsigned n = 0, nbody = 0;

	if (c->state != CONN_OPEN || c->req != NULL || c->yielding)
		return;
	for (;;) {
		if (dr_stream_queued(c->stream) > SERVER_OUTPUT_MAX)
			break; /* resumed by conn_write_cb */
		if (n == SERVER_BATCH || nbody == SERVER_BODY_BATCH) {
			c->yielding = true;
			uv_timer_start(&c->timer, conn_timer_cb, 0, 0);
			break;
		}
		st = line_next(c->in + c->inpos, c->inlen - c->inpos, c->eof,
		               &c->scanned, &linelen, &consumed);
		if (c->nslots > 0 && st != LINE_OK)
			break; /* after the pipelined replies */
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
			log_debug("conn %s, rejected and closed (%s)", c->peer,
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
			next = conn_command_line(c, linelen, consumed);
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
	if (c->nslots > 0) {
		uv_timer_stop(&c->timer); /* commands are in flight */
		return;
	}
	/* Only a whole command restarts the idle timer, never bytes. */
	if (c->session && c->replace == NULL && (n > 0 || progressed))
		uv_timer_start(&c->timer, conn_timer_cb,
		               s->cfg->ctl_idle_timeout_ms, 0);
}

/*
 * The one place that decides who a new connection is (commands.h has the
 * roles), once its stream is ready: a peer that proved the cluster key
 * over TLS (stream.h) is a peer; a loopback client is trusted unless
 * -ctl.trust-loopback=false (without a key the whole cluster is on
 * loopback, so such a client is also taken as a peer); anyone else has
 * no role and must send "auth TOKEN" first.
 */
static enum commands_role
server_initial_role(const struct server *s, const struct conn *c)
{
	if (dr_stream_is_tls(c->stream))
		return COMMANDS_ROLE_PEER;
	if (c->loopback && s->cfg->ctl_trust_loopback)
		return s->cfg->n_cluster_keys == 0 ? COMMANDS_ROLE_PEER
		                                   : COMMANDS_ROLE_ADMIN;
	return COMMANDS_ROLE_NONE;
}

static void
conn_ready_cb(struct dr_stream *st, int status)
{
	struct conn *c = dr_stream_data(st);
	struct server *s = c->s;
	uint64_t quiet;

	if (c->state != CONN_WAIT)
		return;
	if (status != 0) {
		if (dr_ratelog_allow(&s->refused_log, uv_now(s->loop), &quiet))
			log_warnx("conn %s, closed (%s)%s", c->peer,
			          dr_stream_error(st),
			          quiet > 0 ? " (and more not logged)" : "");
		conn_close(c);
		return;
	}
	c->state = CONN_OPEN;
	c->cl.role = server_initial_role(s, c);
	if (c->cl.role != COMMANDS_ROLE_NONE)
		conn_authenticated(c);
	log_debug("conn %s, %s (role %s)", c->peer,
	          dr_stream_is_tls(st) ? "peer proved the cluster key"
	                               : "accepted",
	          commands_role_name(c->cl.role));
	conn_read_start(c);
}

static unsigned
server_count_from(const struct server *s, const char *src, bool unauth)
{
	const struct conn *c;
	unsigned n = 0;

	for (c = s->conns; c != NULL; c = c->next)
		if (c->counted && c->stranger && strcmp(c->src, src) == 0 &&
		    (!unauth || c->unauth))
			n++;
	return n;
}

/*
 * Why a new connection from c->src may not have a slot (see server.h), or
 * NULL when it may.
 */
static const char *
server_admit(const struct server *s, const struct conn *c)
{
	unsigned max = s->cfg->ctl_max_conns;
	unsigned strangers_max =
	    max > 2 * SERVER_RESERVED ? max - SERVER_RESERVED : max / 2 + 1;

	if (s->nconns >= max)
		return "connection limit";
	if (!c->stranger)
		return NULL;
	if (s->nstrangers >= strangers_max)
		return "limit for non-loopback clients";
	if (server_count_from(s, c->src, false) >= SERVER_PER_SOURCE)
		return "limit per source address";
	if (s->nunauth >= SERVER_UNAUTH_MAX)
		return "limit for unauthenticated clients";
	if (server_count_from(s, c->src, true) >= SERVER_UNAUTH_PER_SOURCE)
		return "unauthenticated limit per source address";
	return NULL;
}

static void
conn_source(struct conn *c)
{
	struct sockaddr_storage ss;
	char host[sizeof(c->src)] = "?";

	snprintf(c->peer, sizeof(c->peer), "%s", dr_stream_peer(c->stream));
	c->stranger = true;
	if (!dr_stream_peer_addr(c->stream, &ss))
		return;
	if (ss.ss_family == AF_INET)
		uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof(host));
	else if (ss.ss_family == AF_INET6)
		uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof(host));
	/* An IPv4 client of a dual-stack listener counts as its IPv4. */
	if (ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&ss)->sin6_addr))
		inet_ntop(AF_INET,
		          &((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr[12],
		          host, sizeof(host));
	snprintf(c->src, sizeof(c->src), "%s", host);
	c->loopback = dr_host_is_loopback(host);
	c->stranger = !c->loopback;
}

/* Tells a client over a limit so, at a bounded rate in the log. */
static void
server_refuse(struct server *s, struct conn *c, const char *why)
{
	uint64_t quiet;

	s->refused++;
	if (dr_ratelog_allow(&s->refused_log, uv_now(s->loop), &quiet)) {
		if (quiet > 0)
			log_warnx("connections, %s refused (%s) (and %" PRIu64
			          " more not logged)",
			          c->peer, why, quiet);
		else
			log_warnx("connections, %s refused (%s)", c->peer, why);
	}
	if (s->nrefused >= SERVER_REFUSED_MAX) {
		conn_close(c); /* do not even answer */
		return;
	}
	c->refused = true;
	s->nrefused++;
	commands_put_line(&c->out, "ERROR too many connections");
	conn_end(c);
}

static void
server_connection_cb(uv_stream_t *listener, int status)
{
	struct server_listener *l = listener->data;
	struct server *s = l->s;
	struct dr_stream_opts o;
	const char *why;
	struct conn *c;

	if (status < 0) {
		log_warnx("listener, accept failed (%s)", uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		abort();
	c->s = s;
	c->slots_tail = &c->slots;
	dr_buf_init(&c->out);
	memset(&o, 0, sizeof(o));
	o.tls = s->dispatch->tls;
	o.mode = o.tls != NULL ? DR_STREAM_SNIFF : DR_STREAM_PLAIN;
	o.ready_cb = conn_ready_cb;
	o.data = c;
	if (dr_stream_accept(&c->stream, s->loop, listener, &o) != 0) {
		free(c);
		return;
	}
	uv_timer_init(s->loop, &c->timer);
	c->timer.data = c;
	c->nopen = 2;
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	c->cl.peer = c->peer;
	conn_source(c);
	if (s->stopping) {
		conn_close(c);
		return;
	}
	why = server_admit(s, c);
	if (why != NULL) {
		server_refuse(s, c, why);
		return;
	}
	c->counted = true;
	s->nconns++;
	if (c->stranger) {
		s->nstrangers++;
		c->unauth = true;
		s->nunauth++;
	}
	log_debug("conn %s, accepted", c->peer);
	/* The first line has this long, however its bytes trickle in. */
	uv_timer_start(&c->timer, conn_timer_cb, SERVER_LINE_TIMEOUT_MS, 0);
}

static int
server_listen(struct server *s, struct server_listener *l, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct dr_addr a;
	int rv;

	if (dr_addr_parse(addr, &a) != 0) {
		log_warnx("listener, invalid address %s", addr);
		return DR_EINVAL;
	}
	rv = dr_addr_resolve(&a, &ss, &sslen);
	if (rv != 0)
		return rv;
	l->s = s;
	uv_tcp_init(s->loop, &l->tcp);
	l->tcp.data = l;
	l->open = true;
	rv = uv_tcp_bind(&l->tcp, (struct sockaddr *)&ss, 0);
	if (rv == 0)
		rv = uv_listen((uv_stream_t *)&l->tcp, 4096,
		               server_connection_cb);
	if (rv != 0) {
		log_warnx("listener, cannot listen on %s (%s)", addr,
		          uv_strerror(rv));
		return DR_EIO;
	}
	log_info("listener, serving the control protocol on %s%s", addr,
	         s->dispatch->tls != NULL ? " (peers: TLS with the cluster key)"
	                                  : "");
	return 0;
}

/* The "ctld." lines of cluster status: connections, refusals, memory. */
static void
server_status(void *arg, struct dr_buf *out)
{
	const struct server *s = arg;
	char text[256];
	int n;

	n = snprintf(text, sizeof(text),
	             "ctld.connections %u\n"
	             "ctld.connections_refused %" PRIu64 "\n"
	             "ctld.memory_bytes %zu\n"
	             "ctld.memory_refused %" PRIu64 "\n",
	             s->nconns, s->refused, server_mem(s), s->over_budget);
	if (n > 0 && (size_t)n < sizeof(text))
		dr_buf_put(out, text, (size_t)n);
}

int
server_start(struct server *s, uv_loop_t *loop, const struct dr_config *cfg,
             struct dispatch *dispatch)
{
	char local[DR_ADDR_LEN];
	struct dr_addr a;
	int rv;

	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->cfg = cfg;
	s->dispatch = dispatch;
	s->mem_max = (size_t)cfg->ctl_max_memory_mb << 20;
	rv = server_listen(s, &s->listeners[0], cfg->ctl_addr);
	/* A wildcard (a dual-stack "::" too) already serves loopback. */
	if (rv == 0 && dr_addr_parse(cfg->ctl_addr, &a) == 0 &&
	    a.host[0] != '\0' && strcmp(a.host, "0.0.0.0") != 0 &&
	    strcmp(a.host, "::") != 0 && !dr_host_is_loopback(a.host)) {
		snprintf(local, sizeof(local), "127.0.0.1:%u", a.port);
		rv = server_listen(s, &s->listeners[1], local);
	}
	if (rv != 0) {
		server_stop(s);
		return rv;
	}
	if (!cfg->ctl_trust_loopback && cfg->n_cluster_keys == 0)
		log_warnx("listener, loopback clients need a token: without a "
		          "cluster key no peer can prove it is one, so nodes "
		          "cannot join through this one on their own");
	dispatch_set_status(dispatch, server_status, s);
	return 0;
}

void
server_stop(struct server *s)
{
	size_t i;

	s->stopping = true;
	dispatch_set_status(s->dispatch, NULL, NULL);
	for (i = 0; i < 2; i++)
		if (s->listeners[i].open) {
			s->listeners[i].open = false;
			uv_close((uv_handle_t *)&s->listeners[i].tcp, NULL);
		}
	while (s->conns != NULL)
		conn_close(s->conns);
}
