/* One request to a peer's ctld and its answer lines, in the clear or TLS. */
#include "lineclient.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "stream.h"

struct dr_lineclient {
	struct dr_stream *stream; /* owned */
	uv_timer_t timer;         /* the answer's deadline */
	dr_lineclient_cb cb;      /* NULL once called */
	void *arg;
	struct dr_lineclient_opts o;
	char *req; /* owned */
	size_t reqlen;
	char *in; /* owned: o.reply_max bytes */
	size_t inlen;
	unsigned open; /* the stream and the timer */
};

static void
lineclient_release(struct dr_lineclient *c)
{
	if (--c->open > 0)
		return;
	free(c->req);
	free(c->in);
	free(c);
}

static void
lineclient_timer_closed_cb(uv_handle_t *h)
{
	lineclient_release(h->data);
}

static void
lineclient_stream_closed_cb(struct dr_stream *s)
{
	lineclient_release(dr_stream_data(s));
}

/* Reports once and lets go of the stream and the timer. */
static void
lineclient_done(struct dr_lineclient *c, int rv, const char *why)
{
	dr_lineclient_cb cb = c->cb;

	if (cb == NULL)
		return;
	c->cb = NULL;
	cb(rv, rv == 0 ? c->in : NULL, rv == 0 ? c->inlen : 0, why, c->arg);
	dr_stream_close(c->stream, lineclient_stream_closed_cb);
	uv_close((uv_handle_t *)&c->timer, lineclient_timer_closed_cb);
}

void
dr_lineclient_cancel(struct dr_lineclient *c)
{
	lineclient_done(c, DR_ECLOSED, "cancelled");
}

static void
lineclient_timer_cb(uv_timer_t *t)
{
	lineclient_done(t->data, DR_ETIMEDOUT, "no answer in time");
}

static void
lineclient_alloc_cb(struct dr_stream *s, size_t sug, uv_buf_t *b)
{
	struct dr_lineclient *c = dr_stream_data(s);

	(void)sug;
	b->base = c->in + c->inlen;
	b->len = c->o.reply_max - c->inlen;
}

/* Length of the first n whole lines of c->in, or 0 if fewer came. */
static size_t
lineclient_lines(const struct dr_lineclient *c, unsigned n)
{
	const char *p = c->in, *end = c->in + c->inlen, *nl;

	while (n > 0 && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p = nl + 1;
		n--;
	}
	return n == 0 ? (size_t)(p - c->in) : 0;
}

static void
lineclient_read_cb(struct dr_stream *s, ssize_t n, const uv_buf_t *b)
{
	struct dr_lineclient *c = dr_stream_data(s);
	size_t whole;

	(void)b;
	if (n == 0 || c->cb == NULL)
		return;
	if (n < 0) {
		/* The peer closes after answering: its whole lines are it. */
		unsigned k;
		size_t w;

		whole = 0;
		for (k = 1; k <= c->o.lines && (w = lineclient_lines(c, k)) > 0;
		     k++)
			whole = w;
		if (whole > 0) {
			c->inlen = whole;
			lineclient_done(c, 0, "");
		} else {
			lineclient_done(c, n == UV_EOF ? DR_ECLOSED : DR_EIO,
			                n == UV_EOF ? "closed without an answer"
			                            : dr_stream_error(s));
		}
		return;
	}
	c->inlen += (size_t)n;
	whole = lineclient_lines(c, c->o.lines);
	if (whole > 0) {
		c->inlen = whole;
		lineclient_done(c, 0, "");
	} else if (c->inlen == c->o.reply_max) {
		lineclient_done(c, DR_ETOOBIG, "answer too long");
	}
}

static void
lineclient_written_cb(struct dr_stream *s, int status)
{
	struct dr_lineclient *c = dr_stream_data(s);

	if (status < 0)
		lineclient_done(c, DR_EIO, "write failed");
}

static void
lineclient_ready_cb(struct dr_stream *s, int status)
{
	struct dr_lineclient *c = dr_stream_data(s);

	if (c->cb == NULL)
		return;
	if (status != 0) {
		lineclient_done(c,
		                status == DR_ETIMEDOUT ? DR_ETIMEDOUT : DR_EIO,
		                dr_stream_error(s));
		return;
	}
	if (dr_stream_write(s, c->req, c->reqlen, lineclient_written_cb) != 0 ||
	    dr_stream_read_start(s, lineclient_alloc_cb, lineclient_read_cb) !=
	        0) {
		lineclient_done(c, DR_EIO, "write failed");
		return;
	}
	free(c->req);
	c->req = NULL;
	uv_timer_start(&c->timer, lineclient_timer_cb, c->o.reply_ms, 0);
}

int
dr_lineclient_start(struct dr_lineclient **out, uv_loop_t *loop,
                    const char *addr, const void *req, size_t reqlen,
                    const struct dr_lineclient_opts *o, dr_lineclient_cb cb,
                    void *arg)
{
	struct dr_stream_opts so;
	struct dr_lineclient *c;

	*out = NULL;
	if (o->lines == 0 || o->reply_max == 0)
		return DR_EINVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		abort();
	c->o = *o;
	c->cb = cb;
	c->arg = arg;
	memset(&so, 0, sizeof(so));
	so.mode = o->tls != NULL ? DR_STREAM_TLS : DR_STREAM_PLAIN;
	so.tls = o->tls;
	so.timeout_ms = o->connect_ms;
	so.ready_cb = lineclient_ready_cb;
	so.data = c;
	if (dr_stream_connect(&c->stream, loop, addr, &so) != 0) {
		free(c);
		return DR_EINVAL;
	}
	c->req = malloc(reqlen);
	c->in = malloc(o->reply_max);
	if (c->req == NULL || c->in == NULL)
		abort();
	memcpy(c->req, req, reqlen);
	c->reqlen = reqlen;
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	c->open = 2;
	*out = c;
	return 0;
}
