/* One TCP connection on the libuv loop, in the clear or inside TLS. */
#include "stream.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "flags.h"

/* TCP reads of ciphertext (and of a sniffed first chunk) go here. */
#define STREAM_CIPHER_BUF (16 * 1024 + 512)
/* Plaintext asked from the caller per SSL_read. */
#define STREAM_PLAIN_SUGGEST (64 * 1024)
/* The first byte of a TLS record carrying a handshake message. */
#define STREAM_TLS_HANDSHAKE 0x16

enum stream_state {
	ST_RESOLVE,       /* connect: resolving the host name */
	ST_CONNECT,       /* connect: TCP connect in flight */
	ST_SNIFF,         /* accept: waiting for the first bytes */
	ST_HANDSHAKE,     /* TLS handshake in flight */
	ST_READY_PENDING, /* ready_cb(0) on the next loop turn */
	ST_OPEN,          /* usable */
	ST_FAILED,        /* ready_cb had an error; waits for close */
	ST_CLOSED,
};

struct stream_write {
	uv_write_t req;
	struct dr_stream *s;
	dr_stream_write_cb cb;
	size_t len;
	char data[];
};

struct dr_stream {
	uv_loop_t *loop; /* borrowed */
	uv_tcp_t tcp;
	uv_timer_t timer; /* deadline before OPEN, delivery turns after */
	uv_getaddrinfo_t gai;
	uv_connect_t connect;
	uv_shutdown_t shutdown;
	SSL *ssl;           /* owned; NULL in the clear */
	struct dr_tls *tls; /* borrowed */
	enum dr_stream_mode mode;
	enum stream_state state;
	unsigned timeout_ms;
	dr_stream_ready_cb ready_cb;
	dr_stream_alloc_cb alloc_cb;
	dr_stream_read_cb read_cb;
	dr_stream_shutdown_cb shutdown_cb;
	dr_stream_close_cb close_cb;
	void *data;
	char *early; /* owned: sniffed plaintext not yet delivered */
	size_t earlylen, earlypos;
	size_t queued;
	unsigned nrefs; /* handles and requests libuv still holds */
	bool tcp_inited;
	bool tcp_reading;
	bool want_read; /* between read_start and read_stop */
	bool tcp_end;   /* TCP gave EOF or an error: tcp_err */
	int tcp_err;
	bool gai_pending;
	struct dr_addr addr;
	char peer[INET6_ADDRSTRLEN + 8];
	char err[160];
	char cbuf[STREAM_CIPHER_BUF];
};

static void stream_deliver(struct dr_stream *s);

static void
stream_maybe_free(struct dr_stream *s)
{
	dr_stream_close_cb cb;

	if (s->state != ST_CLOSED || s->nrefs > 0)
		return;
	cb = s->close_cb;
	if (cb != NULL)
		cb(s);
	SSL_free(s->ssl);
	free(s->early);
	free(s);
}

static void
stream_handle_closed_cb(uv_handle_t *h)
{
	struct dr_stream *s = h->data;

	s->nrefs--;
	stream_maybe_free(s);
}

/* Before OPEN: reports the failure once; the caller closes. */
static void
stream_fail(struct dr_stream *s, int rv, const char *fmt, const char *arg)
{
	if (s->state == ST_FAILED || s->state == ST_CLOSED ||
	    s->state == ST_OPEN)
		return;
	s->state = ST_FAILED;
	snprintf(s->err, sizeof(s->err), fmt, arg);
	uv_timer_stop(&s->timer);
	if (s->tcp_reading) {
		uv_read_stop((uv_stream_t *)&s->tcp);
		s->tcp_reading = false;
	}
	s->ready_cb(s, rv);
}

/* The reason OpenSSL queued for the last failure, then clears the queue. */
static const char *
stream_ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "protocol error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static void
stream_peer_name(struct dr_stream *s)
{
	struct sockaddr_storage ss;
	char ip[INET6_ADDRSTRLEN];
	unsigned port;

	snprintf(s->peer, sizeof(s->peer), "?");
	if (!dr_stream_peer_addr(s, &ss))
		return;
	if (ss.ss_family == AF_INET) {
		uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof(ip));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		snprintf(s->peer, sizeof(s->peer), "%s:%u", ip, port);
	} else if (ss.ss_family == AF_INET6) {
		uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof(ip));
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		snprintf(s->peer, sizeof(s->peer), "[%s]:%u", ip, port);
	}
}

static void
stream_write_cb(uv_write_t *req, int status)
{
	struct stream_write *w = (struct stream_write *)req;
	struct dr_stream *s = w->s;

	s->queued -= w->len;
	s->nrefs--;
	if (s->state != ST_CLOSED && w->cb != NULL)
		w->cb(s, status);
	free(w);
	stream_maybe_free(s);
}

/* Writes len bytes at p (copied) to the socket. 0 or a UV_* code. */
static int
stream_tcp_write(struct dr_stream *s, const void *p, size_t len,
                 dr_stream_write_cb cb)
{
	struct stream_write *w = malloc(sizeof(*w) + len);
	uv_buf_t b;
	int rv;

	if (w == NULL)
		abort();
	w->s = s;
	w->cb = cb;
	w->len = len;
	memcpy(w->data, p, len);
	b = uv_buf_init(w->data, (unsigned)len);
	rv = uv_write(&w->req, (uv_stream_t *)&s->tcp, &b, 1, stream_write_cb);
	if (rv != 0) {
		free(w);
		return rv;
	}
	s->queued += len;
	s->nrefs++;
	return 0;
}

/* Sends what TLS produced; cb runs when that write completes. */
static int
stream_flush(struct dr_stream *s, dr_stream_write_cb cb)
{
	BIO *wbio = SSL_get_wbio(s->ssl);
	size_t n = BIO_ctrl_pending(wbio);
	struct stream_write *w;
	uv_buf_t b;
	int rv;

	if (n == 0) {
		if (cb != NULL) /* nothing to wait for: still call back */
			return stream_tcp_write(s, "", 0, cb);
		return 0;
	}
	w = malloc(sizeof(*w) + n);
	if (w == NULL)
		abort();
	if (BIO_read(wbio, w->data, (int)n) != (int)n)
		abort(); /* a memory BIO hands out what it holds */
	w->s = s;
	w->cb = cb;
	w->len = n;
	b = uv_buf_init(w->data, (unsigned)n);
	rv = uv_write(&w->req, (uv_stream_t *)&s->tcp, &b, 1, stream_write_cb);
	if (rv != 0) {
		free(w);
		return rv;
	}
	s->queued += n;
	s->nrefs++;
	return 0;
}

static void stream_cipher_alloc_cb(uv_handle_t *h, size_t sug, uv_buf_t *b);
static void stream_cipher_read_cb(uv_stream_t *st, ssize_t n,
                                  const uv_buf_t *b);
static void stream_plain_alloc_cb(uv_handle_t *h, size_t sug, uv_buf_t *b);
static void stream_plain_read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *b);

/* Reads the socket: into cbuf for TLS and sniffing, else the caller's. */
static int
stream_tcp_read(struct dr_stream *s)
{
	int rv;

	if (s->tcp_reading || s->tcp_end)
		return 0;
	if (s->ssl != NULL || s->state == ST_SNIFF || s->state == ST_HANDSHAKE)
		rv = uv_read_start((uv_stream_t *)&s->tcp,
		                   stream_cipher_alloc_cb,
		                   stream_cipher_read_cb);
	else
		rv = uv_read_start((uv_stream_t *)&s->tcp,
		                   stream_plain_alloc_cb, stream_plain_read_cb);
	if (rv == 0)
		s->tcp_reading = true;
	return rv;
}

static void
stream_tcp_read_stop(struct dr_stream *s)
{
	if (s->tcp_reading) {
		uv_read_stop((uv_stream_t *)&s->tcp);
		s->tcp_reading = false;
	}
}

/* Becomes OPEN and tells the owner; reading waits for read_start. */
static void
stream_ready(struct dr_stream *s)
{
	uv_timer_stop(&s->timer);
	stream_tcp_read_stop(s);
	s->state = ST_OPEN;
	s->ready_cb(s, 0);
}

static void
stream_handshake(struct dr_stream *s)
{
	char why[128];
	int r = SSL_do_handshake(s->ssl);
	int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(s->ssl, r);

	/* Whatever happened, send what TLS wrote (alerts included). */
	if (stream_flush(s, NULL) != 0) {
		stream_fail(s, DR_EIO, "%s", "write failed during handshake");
		return;
	}
	if (r == 1) {
		stream_ready(s);
		return;
	}
	if (e == SSL_ERROR_WANT_READ)
		return;
	stream_fail(s, DR_EIO, "tls handshake failed (%s)",
	            stream_ssl_reason(why, sizeof(why)));
}

static void
stream_timer_cb(uv_timer_t *t)
{
	struct dr_stream *s = t->data;

	switch (s->state) {
	case ST_READY_PENDING:
		stream_ready(s);
		break;
	case ST_OPEN:
		stream_deliver(s);
		break;
	case ST_RESOLVE:
	case ST_CONNECT:
		stream_fail(s, DR_ETIMEDOUT, "%s", "connect timed out");
		break;
	case ST_SNIFF:
	case ST_HANDSHAKE:
		stream_fail(s, DR_ETIMEDOUT, "%s", "tls handshake timed out");
		break;
	default:
		break;
	}
}

static void
stream_cipher_alloc_cb(uv_handle_t *h, size_t sug, uv_buf_t *b)
{
	struct dr_stream *s = h->data;

	(void)sug;
	b->base = s->cbuf;
	b->len = sizeof(s->cbuf);
}

/* The first bytes of a SNIFF stream decide: TLS or the clear. */
static void
stream_sniffed(struct dr_stream *s, const char *p, size_t n)
{
	if ((unsigned char)p[0] == STREAM_TLS_HANDSHAKE && s->tls != NULL) {
		s->ssl = dr_tls_session(s->tls, true);
		if (s->ssl == NULL)
			abort();
		s->state = ST_HANDSHAKE;
		uv_timer_start(&s->timer, stream_timer_cb, s->timeout_ms, 0);
		if (BIO_write(SSL_get_rbio(s->ssl), p, (int)n) != (int)n)
			abort();
		stream_handshake(s);
		return;
	}
	s->early = malloc(n);
	if (s->early == NULL)
		abort();
	memcpy(s->early, p, n);
	s->earlylen = n;
	stream_ready(s);
}

static void
stream_cipher_read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct dr_stream *s = st->data;

	if (n == 0 || s->state == ST_CLOSED || s->state == ST_FAILED)
		return;
	if (n < 0) {
		stream_tcp_read_stop(s);
		s->tcp_end = true;
		s->tcp_err = (int)n;
		if (s->state == ST_OPEN)
			stream_deliver(s);
		else
			stream_fail(s, DR_ECLOSED, "%s",
			            "closed by the peer during the handshake");
		return;
	}
	if (s->state == ST_SNIFF) {
		stream_sniffed(s, b->base, (size_t)n);
		return;
	}
	if (BIO_write(SSL_get_rbio(s->ssl), b->base, (int)n) != (int)n)
		abort(); /* memory BIOs grow; only out of memory fails */
	if (s->state == ST_HANDSHAKE)
		stream_handshake(s);
	else if (s->state == ST_OPEN)
		stream_deliver(s);
}

static void
stream_plain_alloc_cb(uv_handle_t *h, size_t sug, uv_buf_t *b)
{
	struct dr_stream *s = h->data;

	s->alloc_cb(s, sug, b);
}

static void
stream_plain_read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct dr_stream *s = st->data;

	if (s->state != ST_OPEN)
		return;
	if (n < 0) {
		stream_tcp_read_stop(s);
		s->tcp_end = true;
		s->tcp_err = (int)n;
	}
	s->read_cb(s, n, b);
}

/* Hands the sniffed bytes to the reader; false if it stopped or closed. */
static bool
stream_deliver_early(struct dr_stream *s)
{
	while (s->earlypos < s->earlylen && s->want_read &&
	       s->state == ST_OPEN) {
		size_t left = s->earlylen - s->earlypos, n;
		uv_buf_t b;

		s->alloc_cb(s, left, &b);
		n = b.len < left ? b.len : left;
		memcpy(b.base, s->early + s->earlypos, n);
		s->earlypos += n;
		s->read_cb(s, (ssize_t)n, &b);
	}
	if (s->earlypos < s->earlylen)
		return false;
	free(s->early);
	s->early = NULL;
	s->earlylen = s->earlypos = 0;
	return s->want_read && s->state == ST_OPEN;
}

/* Decrypts what is buffered for the reader while it reads. */
static void
stream_deliver_tls(struct dr_stream *s)
{
	char why[128];
	uv_buf_t b;
	int r, e;

	while (s->want_read && s->state == ST_OPEN) {
		s->alloc_cb(s, STREAM_PLAIN_SUGGEST, &b);
		if (b.len == 0) { /* as libuv does */
			s->read_cb(s, UV_ENOBUFS, &b);
			return;
		}
		r = SSL_read(s->ssl, b.base, (int)b.len);
		if (r > 0) {
			s->read_cb(s, r, &b);
			continue;
		}
		e = SSL_get_error(s->ssl, r);
		/* A key update may have to be answered. */
		if (stream_flush(s, NULL) != 0)
			e = SSL_ERROR_SYSCALL;
		if (e == SSL_ERROR_WANT_READ && !s->tcp_end) {
			s->read_cb(s, 0, &b); /* returns the buffer */
			if (s->want_read && s->state == ST_OPEN &&
			    stream_tcp_read(s) != 0)
				s->read_cb(s, UV_EIO, &b);
			return;
		}
		if (e == SSL_ERROR_ZERO_RETURN ||
		    (e == SSL_ERROR_WANT_READ && s->tcp_err == UV_EOF)) {
			s->want_read = false;
			s->read_cb(s, UV_EOF, &b);
			return;
		}
		snprintf(s->err, sizeof(s->err), "tls read failed (%s)",
		         e == SSL_ERROR_WANT_READ
		             ? uv_strerror(s->tcp_err)
		             : stream_ssl_reason(why, sizeof(why)));
		s->want_read = false;
		s->read_cb(s, UV_EPROTO, &b);
		return;
	}
}

static void
stream_deliver(struct dr_stream *s)
{
	uv_buf_t b;

	if (!s->want_read || s->state != ST_OPEN)
		return;
	if (s->ssl != NULL) {
		stream_deliver_tls(s);
		return;
	}
	if (!stream_deliver_early(s))
		return;
	if (s->tcp_end) {
		s->alloc_cb(s, 1, &b);
		s->want_read = false;
		s->read_cb(s, s->tcp_err, &b);
		return;
	}
	if (stream_tcp_read(s) != 0) {
		s->alloc_cb(s, 1, &b);
		s->want_read = false;
		s->read_cb(s, UV_EIO, &b);
	}
}

static struct dr_stream *
stream_new(uv_loop_t *loop, const struct dr_stream_opts *o)
{
	struct dr_stream *s = calloc(1, sizeof(*s));

	if (s == NULL)
		abort();
	s->loop = loop;
	s->mode = o->mode;
	s->tls = o->tls;
	s->timeout_ms = o->timeout_ms ? o->timeout_ms : DR_STREAM_HANDSHAKE_MS;
	s->ready_cb = o->ready_cb;
	s->data = o->data;
	snprintf(s->peer, sizeof(s->peer), "?");
	uv_timer_init(loop, &s->timer);
	s->timer.data = s;
	s->nrefs = 1;
	return s;
}

static void
stream_tcp_init(struct dr_stream *s)
{
	uv_tcp_init(s->loop, &s->tcp);
	s->tcp.data = s;
	s->tcp_inited = true;
	s->nrefs++;
}

int
dr_stream_accept(struct dr_stream **out, uv_loop_t *loop, uv_stream_t *listener,
                 const struct dr_stream_opts *o)
{
	struct dr_stream *s;

	*out = NULL;
	if (o->mode != DR_STREAM_PLAIN && o->tls == NULL)
		return DR_EINVAL;
	s = stream_new(loop, o);
	stream_tcp_init(s);
	if (uv_accept(listener, (uv_stream_t *)&s->tcp) != 0) {
		dr_stream_close(s, NULL);
		return DR_EIO;
	}
	uv_tcp_nodelay(&s->tcp, 1);
	stream_peer_name(s);
	switch (o->mode) {
	case DR_STREAM_PLAIN:
		s->state = ST_READY_PENDING;
		uv_timer_start(&s->timer, stream_timer_cb, 0, 0);
		break;
	case DR_STREAM_TLS:
		s->ssl = dr_tls_session(s->tls, true);
		if (s->ssl == NULL)
			abort();
		s->state = ST_HANDSHAKE;
		uv_timer_start(&s->timer, stream_timer_cb, s->timeout_ms, 0);
		break;
	case DR_STREAM_SNIFF:
		s->state = ST_SNIFF;
		break;
	}
	if (s->state != ST_READY_PENDING && stream_tcp_read(s) != 0) {
		dr_stream_close(s, NULL);
		return DR_EIO;
	}
	*out = s;
	return 0;
}

static void
stream_connect_cb(uv_connect_t *req, int status)
{
	struct dr_stream *s = req->data;

	s->nrefs--;
	if (s->state != ST_CONNECT) {
		stream_maybe_free(s);
		return;
	}
	if (status < 0) {
		stream_fail(s, DR_EIO, "connect failed (%s)",
		            uv_strerror(status));
		return;
	}
	uv_tcp_nodelay(&s->tcp, 1);
	stream_peer_name(s);
	if (s->mode == DR_STREAM_PLAIN) {
		stream_ready(s);
		return;
	}
	s->ssl = dr_tls_session(s->tls, false);
	if (s->ssl == NULL)
		abort();
	s->state = ST_HANDSHAKE;
	if (stream_tcp_read(s) != 0) {
		stream_fail(s, DR_EIO, "%s", "cannot read");
		return;
	}
	stream_handshake(s);
}

static void
stream_connect_to(struct dr_stream *s, const struct sockaddr *sa)
{
	int rv;

	stream_tcp_init(s);
	s->state = ST_CONNECT;
	s->connect.data = s;
	rv = uv_tcp_connect(&s->connect, &s->tcp, sa, stream_connect_cb);
	if (rv != 0) {
		stream_fail(s, DR_EIO, "connect failed (%s)", uv_strerror(rv));
		return;
	}
	s->nrefs++;
}

static void
stream_gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct dr_stream *s = req->data;

	s->gai_pending = false;
	s->nrefs--;
	if (s->state == ST_RESOLVE) {
		if (status < 0 || res == NULL)
			stream_fail(s, DR_EIO, "cannot resolve (%s)",
			            uv_strerror(status));
		else
			stream_connect_to(s, res->ai_addr);
	}
	uv_freeaddrinfo(res);
	stream_maybe_free(s);
}

/* Resolving or connecting starts on a loop turn: never a callback inside. */
static void
stream_begin_cb(uv_timer_t *t)
{
	struct dr_stream *s = t->data;
	struct sockaddr_storage ss;
	struct addrinfo hints;
	const char *host = s->addr.host;
	char port[8];
	int rv;

	uv_timer_start(&s->timer, stream_timer_cb, s->timeout_ms, 0);
	if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0)
		host = "127.0.0.1";
	else if (strcmp(host, "::") == 0)
		host = "::1";
	if (uv_ip4_addr(host, s->addr.port, (struct sockaddr_in *)&ss) == 0 ||
	    uv_ip6_addr(host, s->addr.port, (struct sockaddr_in6 *)&ss) == 0) {
		stream_connect_to(s, (struct sockaddr *)&ss);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", s->addr.port);
	s->gai.data = s;
	rv =
	    uv_getaddrinfo(s->loop, &s->gai, stream_gai_cb, host, port, &hints);
	if (rv != 0) {
		stream_fail(s, DR_EIO, "cannot resolve (%s)", uv_strerror(rv));
		return;
	}
	s->gai_pending = true;
	s->nrefs++;
}

int
dr_stream_connect(struct dr_stream **out, uv_loop_t *loop, const char *addr,
                  const struct dr_stream_opts *o)
{
	struct dr_stream *s;
	struct dr_addr a;

	*out = NULL;
	if (dr_addr_parse(addr, &a) != 0 || o->mode == DR_STREAM_SNIFF ||
	    (o->mode == DR_STREAM_TLS && o->tls == NULL))
		return DR_EINVAL;
	s = stream_new(loop, o);
	s->addr = a;
	s->state = ST_RESOLVE;
	uv_timer_start(&s->timer, stream_begin_cb, 0, 0);
	*out = s;
	return 0;
}

int
dr_stream_read_start(struct dr_stream *s, dr_stream_alloc_cb alloc_cb,
                     dr_stream_read_cb read_cb)
{
	if (s->state != ST_OPEN)
		return UV_EINVAL;
	s->alloc_cb = alloc_cb;
	s->read_cb = read_cb;
	if (s->want_read)
		return 0;
	s->want_read = true;
	uv_timer_start(&s->timer, stream_timer_cb, 0, 0);
	return 0;
}

void
dr_stream_read_stop(struct dr_stream *s)
{
	s->want_read = false;
	if (s->state == ST_OPEN) {
		uv_timer_stop(&s->timer);
		stream_tcp_read_stop(s);
	}
}

/* In the clear, a stream may be written before it is ready (refusals). */
static bool
stream_writable(const struct dr_stream *s)
{
	return s->state == ST_OPEN ||
	       (s->ssl == NULL && s->tcp_inited &&
	        (s->state == ST_SNIFF || s->state == ST_READY_PENDING));
}

int
dr_stream_write(struct dr_stream *s, const void *data, size_t len,
                dr_stream_write_cb cb)
{
	if (!stream_writable(s))
		return UV_EINVAL;
	if (s->ssl == NULL)
		return stream_tcp_write(s, data, len, cb);
	if (len > 0 && SSL_write(s->ssl, data, (int)len) != (int)len) {
		ERR_clear_error();
		return DR_EIO;
	}
	return stream_flush(s, cb);
}

size_t
dr_stream_queued(const struct dr_stream *s)
{
	return s->queued;
}

static void
stream_shutdown_cb(uv_shutdown_t *req, int status)
{
	struct dr_stream *s = req->data;

	s->nrefs--;
	if (s->state != ST_CLOSED && s->shutdown_cb != NULL)
		s->shutdown_cb(s, status);
	stream_maybe_free(s);
}

int
dr_stream_shutdown(struct dr_stream *s, dr_stream_shutdown_cb cb)
{
	int rv;

	if (!stream_writable(s))
		return UV_EINVAL;
	if (s->ssl != NULL) {
		(void)SSL_shutdown(s->ssl); /* queues close_notify */
		ERR_clear_error();
		rv = stream_flush(s, NULL);
		if (rv != 0)
			return rv;
	}
	s->shutdown_cb = cb;
	s->shutdown.data = s;
	rv = uv_shutdown(&s->shutdown, (uv_stream_t *)&s->tcp,
	                 stream_shutdown_cb);
	if (rv == 0)
		s->nrefs++;
	return rv;
}

void
dr_stream_close(struct dr_stream *s, dr_stream_close_cb cb)
{
	if (s->state == ST_CLOSED)
		return;
	s->state = ST_CLOSED;
	s->close_cb = cb;
	s->want_read = false;
	if (s->gai_pending)
		uv_cancel((uv_req_t *)&s->gai);
	if (s->tcp_inited)
		uv_close((uv_handle_t *)&s->tcp, stream_handle_closed_cb);
	uv_close((uv_handle_t *)&s->timer, stream_handle_closed_cb);
}

bool
dr_stream_is_tls(const struct dr_stream *s)
{
	return s->ssl != NULL;
}

const char *
dr_stream_key_id(const struct dr_stream *s)
{
	return s->ssl != NULL && s->state == ST_OPEN
	           ? dr_tls_peer_key_id(s->ssl)
	           : NULL;
}

const char *
dr_stream_peer(const struct dr_stream *s)
{
	return s->peer;
}

bool
dr_stream_peer_addr(const struct dr_stream *s, struct sockaddr_storage *ss)
{
	int len = sizeof(*ss);

	memset(ss, 0, sizeof(*ss));
	return s->tcp_inited &&
	       uv_tcp_getpeername(&s->tcp, (struct sockaddr *)ss, &len) == 0;
}

const char *
dr_stream_error(const struct dr_stream *s)
{
	return s->err;
}

void *
dr_stream_data(const struct dr_stream *s)
{
	return s->data;
}

void
dr_stream_set_data(struct dr_stream *s, void *data)
{
	s->data = data;
}
