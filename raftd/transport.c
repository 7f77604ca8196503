/* c-raft's transport: authenticated peer connections bridged to c-raft. */
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "frames.h"
#include "wire.h"

/* Read size on both sides of a bridge. */
#define TRANSPORT_BUF (64 * 1024)

enum conn_state {
	CONN_AUTH,    /* incoming: TLS handshake or preamble pending */
	CONN_DIAL,    /* outgoing: connecting, TLS handshake */
	CONN_BRIDGED, /* c-raft has its end of the socketpair */
	CONN_CLOSING,
};

struct transport_conn {
	struct transport *tr;
	struct transport_conn *prev, *next;
	enum conn_state state;
	bool incoming;
	struct dr_stream *stream; /* owned until closed */
	uv_timer_t timer;         /* incoming: TRANSPORT_AUTH_MS */
	uv_pipe_t bridge;         /* our end of the socketpair */
	bool timer_open, bridge_open, stream_open;
	bool bridge_reading, stream_reading;
	size_t pipe_queued;   /* written to the bridge, not yet taken */
	struct frames frames; /* incoming: checks what goes to c-raft */
	/* outgoing: c-raft's request, answered once */
	struct raft_uv_connect *req;
	raft_id peer_id;
	char src[INET6_ADDRSTRLEN]; /* incoming: the source address */
	uint8_t pre[TRANSPORT_HDR_LEN + TRANSPORT_ADDR_MAX];
	size_t prelen;
	char rbuf[TRANSPORT_BUF]; /* reads of either side */
};

struct bridge_write {
	uv_write_t req;
	struct transport_conn *c;
	struct dr_buf data; /* owned */
};

static void conn_close(struct transport_conn *c);

static void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

size_t
transport_preamble_encode(raft_id id, const char *address, int channel,
                          uint8_t *out)
{
	size_t n = strlen(address);

	if (n == 0 || n > TRANSPORT_ADDR_MAX)
		return 0;
	memcpy(out, TRANSPORT_MAGIC, 4);
	out[4] = TRANSPORT_VERSION;
	out[5] = (uint8_t)channel;
	put_be16(out + 6, (uint16_t)n);
	put_be64(out + 8, id);
	memcpy(out + TRANSPORT_HDR_LEN, address, n);
	return TRANSPORT_HDR_LEN + n;
}

int
transport_preamble_decode(const uint8_t *p, size_t len, raft_id *id,
                          char *address, size_t *used, int *channel)
{
	size_t n, i, have = len < TRANSPORT_HDR_LEN ? len : TRANSPORT_HDR_LEN;
	uint64_t v = 0;

	/* Reject as soon as what came cannot be a preamble. */
	if (memcmp(p, TRANSPORT_MAGIC, have < 4 ? have : 4) != 0 ||
	    (have > 4 && p[4] != TRANSPORT_VERSION) ||
	    (have > 5 && p[5] != TRANSPORT_CHANNEL_RAFT &&
	     p[5] != TRANSPORT_CHANNEL_RELAY))
		return DR_EMALFORMED;
	if (len < TRANSPORT_HDR_LEN)
		return 1;
	n = (size_t)p[6] << 8 | p[7];
	for (i = 8; i < 16; i++)
		v = v << 8 | p[i];
	if (n == 0 || n > TRANSPORT_ADDR_MAX || v == 0)
		return DR_EMALFORMED;
	for (i = 0; i < n && TRANSPORT_HDR_LEN + i < len; i++)
		if (p[TRANSPORT_HDR_LEN + i] < 0x21 ||
		    p[TRANSPORT_HDR_LEN + i] > 0x7e)
			return DR_EMALFORMED;
	if (len < TRANSPORT_HDR_LEN + n)
		return 1;
	memcpy(address, p + TRANSPORT_HDR_LEN, n);
	address[n] = '\0';
	*id = v;
	*used = TRANSPORT_HDR_LEN + n;
	*channel = p[5];
	return 0;
}

/* Logs a refused or failed connection, at most once per second. */
static void
transport_refused(struct transport *tr, const char *who, const char *why)
{
	uint64_t quiet;

	tr->refused++;
	if (!dr_ratelog_allow(&tr->refused_log, uv_now(tr->loop), &quiet))
		return;
	if (quiet > 0)
		log_warnx("raft, connection %s refused (%s) (and %" PRIu64
		          " more not logged)",
		          who, why, quiet);
	else
		log_warnx("raft, connection %s refused (%s)", who, why);
}

static void
transport_maybe_closed(struct transport *tr)
{
	raft_uv_transport_close_cb cb = tr->close_cb;

	if (!tr->closing || tr->nopen > 0 || tr->conns != NULL || tr->listening)
		return;
	tr->close_cb = NULL;
	if (cb != NULL)
		cb(&tr->t);
}

static void
conn_free_maybe(struct transport_conn *c)
{
	struct transport *tr = c->tr;

	if (c->timer_open || c->bridge_open || c->stream_open)
		return;
	frames_close(&c->frames);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		tr->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
	transport_maybe_closed(tr);
}

static void
conn_timer_closed_cb(uv_handle_t *h)
{
	struct transport_conn *c = h->data;

	c->timer_open = false;
	conn_free_maybe(c);
}

static void
conn_bridge_closed_cb(uv_handle_t *h)
{
	struct transport_conn *c = h->data;

	c->bridge_open = false;
	conn_free_maybe(c);
}

static void
conn_stream_closed_cb(struct dr_stream *s)
{
	struct transport_conn *c = dr_stream_data(s);

	c->stream_open = false;
	conn_free_maybe(c);
}

/* Answers c-raft's connect request once, with a stream or an error. */
static void
conn_answer(struct transport_conn *c, struct uv_stream_s *stream, int rv)
{
	struct raft_uv_connect *req = c->req;

	if (req == NULL)
		return;
	c->req = NULL;
	req->cb(req, stream, rv);
}

/* Ends the connection; the other side of the bridge sees it closed. */
static void
conn_close(struct transport_conn *c)
{
	struct transport *tr = c->tr;

	if (c->state == CONN_CLOSING)
		return;
	if (c->state == CONN_AUTH)
		tr->npending--;
	else if (c->state == CONN_BRIDGED)
		tr->nbridged--;
	c->state = CONN_CLOSING;
	conn_answer(c, NULL, tr->closing ? RAFT_CANCELED : RAFT_NOCONNECTION);
	if (c->timer_open)
		uv_close((uv_handle_t *)&c->timer, conn_timer_closed_cb);
	if (c->bridge_open)
		uv_close((uv_handle_t *)&c->bridge, conn_bridge_closed_cb);
	if (c->stream_open)
		dr_stream_close(c->stream, conn_stream_closed_cb);
}

static void conn_stream_alloc_cb(struct dr_stream *s, size_t sug, uv_buf_t *b);
static void conn_stream_read_cb(struct dr_stream *s, ssize_t n,
                                const uv_buf_t *b);
static void conn_bridge_alloc_cb(uv_handle_t *h, size_t sug, uv_buf_t *b);
static void conn_bridge_read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *b);

static void
conn_stream_read(struct transport_conn *c, bool on)
{
	if (on == c->stream_reading || c->state == CONN_CLOSING)
		return;
	if (on && dr_stream_read_start(c->stream, conn_stream_alloc_cb,
	                               conn_stream_read_cb) != 0) {
		conn_close(c);
		return;
	}
	if (!on)
		dr_stream_read_stop(c->stream);
	c->stream_reading = on;
}

static void
conn_bridge_read(struct transport_conn *c, bool on)
{
	if (on == c->bridge_reading || c->state != CONN_BRIDGED)
		return;
	if (on && uv_read_start((uv_stream_t *)&c->bridge, conn_bridge_alloc_cb,
	                        conn_bridge_read_cb) != 0) {
		conn_close(c);
		return;
	}
	if (!on)
		uv_read_stop((uv_stream_t *)&c->bridge);
	c->bridge_reading = on;
}

static void
bridge_write_cb(uv_write_t *req, int status)
{
	struct bridge_write *w = (struct bridge_write *)req;
	struct transport_conn *c = w->c;

	c->pipe_queued -= w->data.len;
	dr_buf_close(&w->data);
	free(w);
	if (c->state != CONN_BRIDGED)
		return;
	if (status < 0) { /* c-raft closed its end */
		conn_close(c);
		return;
	}
	if (c->pipe_queued < TRANSPORT_QUEUE_LOW)
		conn_stream_read(c, true);
}

static void
conn_frames_out(void *arg, const uint8_t *p, size_t len)
{
	dr_buf_put(arg, p, len);
}

/*
 * Peer -> c-raft: plaintext from the stream, checked message by message
 * (frames.h), into the bridge.
 */
static void
conn_to_craft(struct transport_conn *c, const void *p, size_t len)
{
	struct bridge_write *w;
	uv_buf_t b;

	if (len == 0)
		return;
	w = malloc(sizeof(*w));
	if (w == NULL)
		abort();
	w->c = c;
	dr_buf_init(&w->data);
	if (frames_feed(&c->frames, p, len, conn_frames_out, &w->data) != 0) {
		log_warnx("raft, peer %s sent a malformed message (%s); "
		          "connection dropped",
		          dr_stream_peer(c->stream), c->frames.why);
		dr_buf_close(&w->data);
		free(w);
		conn_close(c);
		return;
	}
	if (w->data.len == 0) { /* a header still incomplete */
		dr_buf_close(&w->data);
		free(w);
		return;
	}
	b = uv_buf_init((char *)w->data.data, (unsigned)w->data.len);
	if (uv_write(&w->req, (uv_stream_t *)&c->bridge, &b, 1,
	             bridge_write_cb) != 0) {
		dr_buf_close(&w->data);
		free(w);
		conn_close(c);
		return;
	}
	c->pipe_queued += w->data.len;
	if (c->pipe_queued > TRANSPORT_QUEUE_HIGH)
		conn_stream_read(c, false);
}

static void
conn_stream_written_cb(struct dr_stream *s, int status)
{
	struct transport_conn *c = dr_stream_data(s);

	if (c->state != CONN_BRIDGED)
		return;
	if (status < 0) {
		conn_close(c);
		return;
	}
	if (dr_stream_queued(s) < TRANSPORT_QUEUE_LOW)
		conn_bridge_read(c, true);
}

static void
conn_bridge_alloc_cb(uv_handle_t *h, size_t sug, uv_buf_t *b)
{
	struct transport_conn *c = h->data;

	(void)sug;
	b->base = c->rbuf;
	b->len = sizeof(c->rbuf);
}

/* c-raft -> peer: what c-raft wrote into its end goes out encrypted. */
static void
conn_bridge_read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct transport_conn *c = st->data;

	if (n == 0 || c->state != CONN_BRIDGED)
		return;
	if (n < 0 || dr_stream_write(c->stream, b->base, (size_t)n,
	                             conn_stream_written_cb) != 0) {
		conn_close(c);
		return;
	}
	if (dr_stream_queued(c->stream) > TRANSPORT_QUEUE_HIGH)
		conn_bridge_read(c, false);
}

/*
 * Makes the socketpair: one end for c-raft (allocated with raft_malloc,
 * c-raft closes and frees it), the other bridged here. NULL on failure.
 */
static uv_stream_t *
conn_bridge(struct transport_conn *c)
{
	struct transport *tr = c->tr;
	uv_pipe_t *craft;
	int fds[2];

	if (tr->nbridged >= TRANSPORT_CONNS_MAX) {
		transport_refused(tr, dr_stream_peer(c->stream),
		                  "too many connections");
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
	               fds) != 0) {
		log_warn("raft, socketpair");
		return NULL;
	}
	craft = raft_malloc(sizeof(*craft));
	if (craft == NULL)
		abort();
	uv_pipe_init(tr->loop, craft, 0);
	uv_pipe_init(tr->loop, &c->bridge, 0);
	c->bridge.data = c;
	c->bridge_open = true;
	if (uv_pipe_open(craft, fds[0]) != 0 ||
	    uv_pipe_open(&c->bridge, fds[1]) != 0) {
		log_warnx("raft, cannot open a bridge");
		uv_close((uv_handle_t *)craft, (uv_close_cb)raft_free);
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (c->state == CONN_AUTH)
		tr->npending--;
	c->state = CONN_BRIDGED;
	tr->nbridged++;
	conn_bridge_read(c, true);
	return (uv_stream_t *)craft;
}

static void
conn_stream_alloc_cb(struct dr_stream *s, size_t sug, uv_buf_t *b)
{
	struct transport_conn *c = dr_stream_data(s);

	(void)sug;
	if (c->state == CONN_AUTH) {
		/* Never past the longest preamble: the rest stays queued. */
		b->base = (char *)c->pre + c->prelen;
		b->len = sizeof(c->pre) - c->prelen;
		return;
	}
	b->base = c->rbuf;
	b->len = sizeof(c->rbuf);
}

/*
 * A relay connection is the relay's from now on: the stream leaves this
 * connection (which then closes without it).
 */
static void
conn_hand_to_relay(struct transport_conn *c, raft_id id, size_t used)
{
	struct transport *tr = c->tr;
	struct dr_stream *s = c->stream;

	conn_stream_read(c, false);
	c->stream_open = false;
	c->stream = NULL;
	log_debug("raft, relay connection from %s (id %llu)", dr_stream_peer(s),
	          (unsigned long long)id);
	tr->relay_cb(tr->relay_arg, s, id, c->pre + used, c->prelen - used);
	conn_close(c);
}

/* Incoming: the preamble so far is in c->pre; bridge once it is whole. */
static void
conn_preamble(struct transport_conn *c)
{
	struct transport *tr = c->tr;
	char address[TRANSPORT_ADDR_MAX + 1];
	uv_stream_t *craft;
	raft_id id;
	size_t used;
	int rv, channel;

	rv = transport_preamble_decode(c->pre, c->prelen, &id, address, &used,
	                               &channel);
	if (rv == 1)
		return;
	if (rv != 0 || id == tr->id ||
	    (channel == TRANSPORT_CHANNEL_RELAY && tr->relay_cb == NULL)) {
		transport_refused(tr, dr_stream_peer(c->stream),
		                  rv != 0        ? "malformed preamble"
		                  : id == tr->id ? "it claims our own id"
		                                 : "no relay here");
		conn_close(c);
		return;
	}
	uv_timer_stop(&c->timer);
	if (channel == TRANSPORT_CHANNEL_RELAY) {
		conn_hand_to_relay(c, id, used);
		return;
	}
	craft = conn_bridge(c);
	if (craft == NULL) {
		conn_close(c);
		return;
	}
	log_debug("raft, connection from %s (%s, id %llu)",
	          dr_stream_peer(c->stream), address, (unsigned long long)id);
	tr->accept_cb(&tr->t, id, address, craft);
	/* What followed the preamble is c-raft's. */
	conn_to_craft(c, c->pre + used, c->prelen - used);
}

static void
conn_stream_read_cb(struct dr_stream *s, ssize_t n, const uv_buf_t *b)
{
	struct transport_conn *c = dr_stream_data(s);

	(void)b;
	if (n == 0 || c->state == CONN_CLOSING)
		return;
	if (n < 0) {
		if (c->state == CONN_AUTH)
			transport_refused(c->tr, dr_stream_peer(s),
			                  "closed before its preamble");
		conn_close(c);
		return;
	}
	if (c->state == CONN_AUTH) {
		c->prelen += (size_t)n;
		conn_preamble(c);
		return;
	}
	/* On a connection we dialed the peer only ever closes. */
	if (c->state == CONN_BRIDGED && c->incoming)
		conn_to_craft(c, b->base, (size_t)n);
}

static void
conn_auth_timeout_cb(uv_timer_t *t)
{
	struct transport_conn *c = t->data;

	transport_refused(c->tr, dr_stream_peer(c->stream),
	                  "not authenticated in time");
	conn_close(c);
}

static void
conn_incoming_ready_cb(struct dr_stream *s, int status)
{
	struct transport_conn *c = dr_stream_data(s);

	if (status != 0) {
		transport_refused(c->tr, dr_stream_peer(s), dr_stream_error(s));
		conn_close(c);
		return;
	}
	conn_stream_read(c, true);
}

static struct transport_conn *
conn_new(struct transport *tr, bool incoming)
{
	struct transport_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		abort();
	c->tr = tr;
	c->incoming = incoming;
	frames_init(&c->frames);
	c->next = tr->conns;
	if (tr->conns != NULL)
		tr->conns->prev = c;
	tr->conns = c;
	return c;
}

/* The source address of an accepted stream, for the per-source cap. */
static void
conn_source(struct transport_conn *c)
{
	struct sockaddr_storage ss;

	c->src[0] = '\0';
	if (!dr_stream_peer_addr(c->stream, &ss))
		return;
	if (ss.ss_family == AF_INET)
		uv_ip4_name((struct sockaddr_in *)&ss, c->src, sizeof(c->src));
	else if (ss.ss_family == AF_INET6)
		uv_ip6_name((struct sockaddr_in6 *)&ss, c->src, sizeof(c->src));
}

static unsigned
transport_pending_from(struct transport *tr, const char *src)
{
	struct transport_conn *c;
	unsigned n = 0;

	for (c = tr->conns; c != NULL; c = c->next)
		if (c->state == CONN_AUTH && strcmp(c->src, src) == 0)
			n++;
	return n;
}

static void
transport_connection_cb(uv_stream_t *listener, int status)
{
	struct transport *tr = listener->data;
	struct dr_stream_opts o;
	struct transport_conn *c;

	if (status < 0) {
		log_warnx("raft, accept failed (%s)", uv_strerror(status));
		return;
	}
	memset(&o, 0, sizeof(o));
	o.mode = tr->tls != NULL ? DR_STREAM_TLS : DR_STREAM_PLAIN;
	o.tls = tr->tls;
	o.timeout_ms = TRANSPORT_AUTH_MS;
	o.ready_cb = conn_incoming_ready_cb;
	c = conn_new(tr, true);
	o.data = c;
	if (dr_stream_accept(&c->stream, tr->loop, listener, &o) != 0) {
		c->state = CONN_CLOSING;
		conn_free_maybe(c);
		return;
	}
	c->stream_open = true;
	c->state = CONN_AUTH;
	tr->npending++;
	conn_source(c);
	uv_timer_init(tr->loop, &c->timer);
	c->timer.data = c;
	c->timer_open = true;
	if (tr->closing) {
		conn_close(c);
		return;
	}
	if (tr->npending > TRANSPORT_PENDING_MAX ||
	    transport_pending_from(tr, c->src) > TRANSPORT_PENDING_PER_SOURCE) {
		transport_refused(tr, dr_stream_peer(c->stream),
		                  "too many unauthenticated connections");
		conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, conn_auth_timeout_cb, TRANSPORT_AUTH_MS, 0);
}

/* Outgoing: TLS is up; send the preamble and hand c-raft its end. */
static void
conn_outgoing_ready_cb(struct dr_stream *s, int status)
{
	struct transport_conn *c = dr_stream_data(s);
	struct transport *tr = c->tr;
	uv_stream_t *craft;
	size_t n;

	if (status != 0) {
		log_debug("raft, connect to %llu failed (%s)",
		          (unsigned long long)c->peer_id, dr_stream_error(s));
		conn_close(c);
		return;
	}
	n = transport_preamble_encode(tr->id, tr->address,
	                              TRANSPORT_CHANNEL_RAFT, c->pre);
	if (n == 0 || dr_stream_write(s, c->pre, n, NULL) != 0) {
		conn_close(c);
		return;
	}
	craft = conn_bridge(c);
	if (craft == NULL) {
		conn_close(c);
		return;
	}
	/* The peer never writes on this connection but to close it. */
	conn_stream_read(c, true);
	if (c->state != CONN_BRIDGED) {
		uv_close((uv_handle_t *)craft, (uv_close_cb)raft_free);
		return;
	}
	conn_answer(c, craft, 0);
}

static int
transport_init_cb(struct raft_uv_transport *t, raft_id id, const char *address)
{
	struct transport *tr = t->impl;

	if (strlen(address) > TRANSPORT_ADDR_MAX) {
		snprintf(t->errmsg, sizeof(t->errmsg), "address too long");
		return RAFT_INVALID;
	}
	tr->id = id;
	snprintf(tr->address, sizeof(tr->address), "%s", address);
	return 0;
}

static int
transport_listen_cb(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
	struct transport *tr = t->impl;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct dr_addr a;
	int rv;

	tr->accept_cb = cb;
	if (dr_addr_parse(tr->bind, &a) != 0 ||
	    dr_addr_resolve(&a, &ss, &sslen) != 0) {
		snprintf(t->errmsg, sizeof(t->errmsg), "bad address %.200s",
		         tr->bind);
		return RAFT_INVALID;
	}
	uv_tcp_init(tr->loop, &tr->listener);
	tr->listener.data = tr;
	tr->listening = true;
	rv = uv_tcp_bind(&tr->listener, (struct sockaddr *)&ss, 0);
	if (rv == 0)
		rv = uv_listen((uv_stream_t *)&tr->listener, 128,
		               transport_connection_cb);
	if (rv != 0) {
		snprintf(t->errmsg, sizeof(t->errmsg), "listen on %.200s: %s",
		         tr->bind, uv_strerror(rv));
		return RAFT_IOERR;
	}
	log_info("raft, listening on %s (%s)", tr->bind,
	         tr->tls != NULL ? "TLS with the cluster key"
	                         : "in the clear, no cluster key");
	return 0;
}

static int
transport_connect_cb(struct raft_uv_transport *t, struct raft_uv_connect *req,
                     raft_id id, const char *address, raft_uv_connect_cb cb)
{
	struct transport *tr = t->impl;
	struct dr_stream_opts o;
	struct transport_conn *c;

	if (tr->closing)
		return RAFT_CANCELED;
	req->cb = cb;
	memset(&o, 0, sizeof(o));
	o.mode = tr->tls != NULL ? DR_STREAM_TLS : DR_STREAM_PLAIN;
	o.tls = tr->tls;
	o.timeout_ms = TRANSPORT_AUTH_MS;
	o.ready_cb = conn_outgoing_ready_cb;
	c = conn_new(tr, false);
	o.data = c;
	c->peer_id = id;
	if (dr_stream_connect(&c->stream, tr->loop, address, &o) != 0) {
		c->state = CONN_CLOSING;
		conn_free_maybe(c);
		snprintf(t->errmsg, sizeof(t->errmsg), "bad address %.200s",
		         address);
		return RAFT_NOCONNECTION;
	}
	c->stream_open = true;
	c->state = CONN_DIAL;
	c->req = req;
	return 0;
}

static void
transport_listener_closed_cb(uv_handle_t *h)
{
	struct transport *tr = h->data;

	tr->listening = false;
	transport_maybe_closed(tr);
}

static void
transport_close_cb(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
	struct transport *tr = t->impl;
	struct transport_conn *c, *next;

	tr->closing = true;
	tr->close_cb = cb;
	if (tr->listening)
		uv_close((uv_handle_t *)&tr->listener,
		         transport_listener_closed_cb);
	for (c = tr->conns; c != NULL; c = next) {
		next = c->next;
		conn_close(c);
	}
	transport_maybe_closed(tr);
}

void
transport_set_relay(struct transport *tr, transport_relay_cb cb, void *arg)
{
	tr->relay_cb = cb;
	tr->relay_arg = arg;
}

int
transport_init(struct transport *tr, uv_loop_t *loop, const char *bind_address,
               struct dr_tls *tls)
{
	struct dr_addr a;

	memset(tr, 0, sizeof(*tr));
	if (dr_addr_parse(bind_address, &a) != 0 ||
	    strlen(bind_address) >= sizeof(tr->bind))
		return DR_EINVAL;
	snprintf(tr->bind, sizeof(tr->bind), "%s", bind_address);
	tr->loop = loop;
	tr->tls = tls;
	tr->t.impl = tr;
	tr->t.init = transport_init_cb;
	tr->t.listen = transport_listen_cb;
	tr->t.connect = transport_connect_cb;
	tr->t.close = transport_close_cb;
	return 0;
}
