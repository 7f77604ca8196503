/* Forwarding one command line to the leader's ctld over TCP. */
#include "forward.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "flags.h"
#include "line.h"
#include "log.h"

struct forward {
	uv_loop_t *loop; /* borrowed */
	forward_cb cb;   /* NULL once called */
	void *arg;
	uv_timer_t timer;
	uv_tcp_t tcp;
	uv_getaddrinfo_t gai;
	uv_connect_t connect;
	uv_write_t write;
	struct dr_addr addr;
	char port[8];
	char *out; /* owned: "forwarded <line>\n", records and "." */
	size_t outlen;
	unsigned reply_ms;
	char in[FORWARD_REPLY_MAX];
	size_t inlen;
	unsigned open; /* handles and requests libuv still holds */
	bool tcp_open;
	bool gai_pending;
};

static void
forward_maybe_free(struct forward *f)
{
	if (f->open > 0)
		return;
	free(f->out);
	free(f);
}

static void
forward_close_cb(uv_handle_t *h)
{
	struct forward *f = h->data;

	f->open--;
	forward_maybe_free(f);
}

/* Reports rv once and lets go of every libuv resource. */
static void
forward_done(struct forward *f, int rv, const char *line, size_t len,
             uint64_t seq)
{
	forward_cb cb = f->cb;

	if (cb == NULL)
		return;
	f->cb = NULL;
	cb(rv, line, len, seq, f->arg);
	if (f->gai_pending)
		uv_cancel((uv_req_t *)&f->gai);
	if (f->tcp_open) {
		f->tcp_open = false;
		uv_close((uv_handle_t *)&f->tcp, forward_close_cb);
	}
	uv_close((uv_handle_t *)&f->timer, forward_close_cb);
}

void
forward_cancel(struct forward *f)
{
	forward_done(f, DR_ECLOSED, NULL, 0, 0);
}

static void
forward_timer_cb(uv_timer_t *t)
{
	struct forward *f = t->data;

	forward_done(f, DR_ETIMEDOUT, NULL, 0, 0);
}

static void
forward_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct forward *f = h->data;

	buf->base = f->in + f->inlen;
	buf->len = sizeof(f->in) - f->inlen;
}

/* Splits the answer in f->in into the reply line and the seq line. */
static void
forward_parse(struct forward *f)
{
	const char *p = f->in, *end = f->in + f->inlen, *nl;
	unsigned long long seq = 0;
	size_t n;

	nl = memchr(p, '\n', f->inlen);
	if (nl == NULL) {
		forward_done(f, DR_ECLOSED, NULL, 0, 0);
		return;
	}
	n = (size_t)(nl - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (end - (nl + 1) > 4 && memcmp(nl + 1, "seq ", 4) == 0) {
		const char *q;

		for (q = nl + 5; q < end && *q >= '0' && *q <= '9'; q++) {
			if (seq > (UINT64_MAX - 9) / 10) {
				seq = 0;
				break;
			}
			seq = seq * 10 + (unsigned)(*q - '0');
		}
	}
	forward_done(f, 0, p, n, (uint64_t)seq);
}

static void
forward_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct forward *f = s->data;
	char *nl;

	if (f->cb == NULL)
		return;
	if (nread < 0) {
		/* The peer closes after answering: parse what came. */
		if (memchr(f->in, '\n', f->inlen) != NULL)
			forward_parse(f);
		else
			forward_done(f, nread == UV_EOF ? DR_ECLOSED : DR_EIO,
			             NULL, 0, 0);
		return;
	}
	f->inlen += (size_t)nread;
	/* Two lines are the whole answer; else wait for the peer to close. */
	nl = memchr(f->in, '\n', f->inlen);
	if (nl != NULL &&
	    memchr(nl + 1, '\n', f->inlen - (size_t)(nl + 1 - f->in)))
		forward_parse(f);
	else if (f->inlen == sizeof(f->in))
		forward_done(f, DR_ETOOBIG, NULL, 0, 0);
}

static void
forward_write_cb(uv_write_t *w, int status)
{
	struct forward *f = w->data;

	f->open--;
	if (status < 0 && f->cb != NULL)
		forward_done(f, DR_EIO, NULL, 0, 0);
	forward_maybe_free(f);
}

static void
forward_connect_cb(uv_connect_t *c, int status)
{
	struct forward *f = c->data;
	uv_buf_t b;
	int rv;

	f->open--;
	if (f->cb == NULL) {
		forward_maybe_free(f);
		return;
	}
	if (status < 0) {
		log_debug("forward, connect to %s:%u failed (%s)", f->addr.host,
		          f->addr.port, uv_strerror(status));
		forward_done(f, DR_EIO, NULL, 0, 0);
		return;
	}
	b = uv_buf_init(f->out, (unsigned)f->outlen);
	f->write.data = f;
	rv = uv_write(&f->write, (uv_stream_t *)&f->tcp, &b, 1,
	              forward_write_cb);
	if (rv != 0) {
		forward_done(f, DR_EIO, NULL, 0, 0);
		return;
	}
	f->open++;
	rv = uv_read_start((uv_stream_t *)&f->tcp, forward_alloc_cb,
	                   forward_read_cb);
	if (rv != 0) {
		forward_done(f, DR_EIO, NULL, 0, 0);
		return;
	}
	uv_timer_start(&f->timer, forward_timer_cb, f->reply_ms, 0);
}

static void
forward_connect(struct forward *f, const struct sockaddr *sa)
{
	int rv;

	rv = uv_tcp_init(f->loop, &f->tcp);
	if (rv != 0) {
		forward_done(f, DR_EIO, NULL, 0, 0);
		return;
	}
	f->tcp.data = f;
	f->tcp_open = true;
	f->open++;
	uv_tcp_nodelay(&f->tcp, 1);
	f->connect.data = f;
	rv = uv_tcp_connect(&f->connect, &f->tcp, sa, forward_connect_cb);
	if (rv != 0) {
		log_debug("forward, connect to %s:%u failed (%s)", f->addr.host,
		          f->addr.port, uv_strerror(rv));
		forward_done(f, DR_EIO, NULL, 0, 0);
		return;
	}
	f->open++;
}

static void
forward_gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct forward *f = req->data;

	f->gai_pending = false;
	f->open--;
	if (f->cb != NULL) {
		if (status < 0 || res == NULL) {
			log_debug("forward, cannot resolve %s (%s)",
			          f->addr.host, uv_strerror(status));
			forward_done(f, DR_EIO, NULL, 0, 0);
		} else {
			forward_connect(f, res->ai_addr);
		}
	}
	uv_freeaddrinfo(res);
	forward_maybe_free(f);
}

/* Starts connecting (or resolving); errors arrive through the callback. */
static void
forward_begin_cb(uv_timer_t *t)
{
	struct forward *f = t->data;
	struct sockaddr_storage ss;
	struct addrinfo hints;
	const char *host = f->addr.host;
	int rv;

	uv_timer_start(&f->timer, forward_timer_cb, FORWARD_CONNECT_TIMEOUT_MS,
	               0);
	if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0)
		host = "127.0.0.1";
	else if (strcmp(host, "::") == 0)
		host = "::1";
	if (uv_ip4_addr(host, f->addr.port, (struct sockaddr_in *)&ss) == 0 ||
	    uv_ip6_addr(host, f->addr.port, (struct sockaddr_in6 *)&ss) == 0) {
		forward_connect(f, (struct sockaddr *)&ss);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	f->gai.data = f;
	rv = uv_getaddrinfo(f->loop, &f->gai, forward_gai_cb, host, f->port,
	                    &hints);
	if (rv != 0) {
		forward_done(f, DR_EIO, NULL, 0, 0);
		return;
	}
	f->gai_pending = true;
	f->open++;
}

int
forward_start(struct forward **out, uv_loop_t *loop, const char *addr,
              const char *line, size_t len, const void *body, size_t bodylen,
              unsigned reply_ms, forward_cb cb, void *arg)
{
	static const char prefix[] = LINE_FORWARDED;
	struct forward *f;
	char *p;

	f = calloc(1, sizeof(*f));
	if (f == NULL)
		abort();
	if (dr_addr_parse(addr, &f->addr) != 0) {
		free(f);
		return DR_EINVAL;
	}
	(void)snprintf(f->port, sizeof(f->port), "%u", f->addr.port);
	f->loop = loop;
	f->cb = cb;
	f->arg = arg;
	f->reply_ms = reply_ms > FORWARD_REPLY_TIMEOUT_MS
	                  ? reply_ms
	                  : FORWARD_REPLY_TIMEOUT_MS;
	f->outlen = sizeof(prefix) - 1 + len + 1;
	if (body != NULL)
		f->outlen += bodylen + 2;
	f->out = malloc(f->outlen);
	if (f->out == NULL)
		abort();
	p = f->out;
	memcpy(p, prefix, sizeof(prefix) - 1);
	p += sizeof(prefix) - 1;
	memcpy(p, line, len);
	p += len;
	*p++ = '\n';
	if (body != NULL) {
		memcpy(p, body, bodylen);
		p += bodylen;
		memcpy(p, ".\n", 2);
	}
	uv_timer_init(loop, &f->timer);
	f->timer.data = f;
	f->open = 1;
	/* Start on the next loop turn so cb never runs inside this call. */
	uv_timer_start(&f->timer, forward_begin_cb, 0, 0);
	*out = f;
	return 0;
}
