/* Requests for the leader, sent by a follower's raftd over one connection. */
#include "relay.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "transport.h"

#define RELAY_HDR_LEN 12
#define RELAY_TICK_MS 20

/* Frames coming in on one connection, either side. */
struct relay_reader {
	uint8_t hdr[RELAY_HDR_LEN];
	size_t have; /* of hdr, then of body */
	uint32_t len;
	uint64_t tag;
	uint8_t *body; /* owned: len - 8 bytes */
};

typedef int (*relay_frame_fn)(void *arg, uint64_t tag, const uint8_t *msg,
                              size_t len);

struct relay_req {
	struct relay_req *prev, *next;
	struct relay_peer *peer;
	uint64_t tag;
	uint64_t deadline;
	relay_cb cb;
	void *arg;
	uint8_t *frame; /* owned until written */
	size_t framelen;
	bool sent;
	int fail; /* != 0: ends with this at the next tick */
};

struct relay_peer {
	struct relay *r;
	struct relay_peer *next;
	raft_id id;
	char address[256];
	struct dr_stream *stream; /* NULL while not connected */
	bool ready;
	struct relay_req *reqs, *reqs_tail; /* oldest first */
	struct relay_reader rd;
	uint8_t rbuf[64 * 1024];
};

struct relay_server_conn {
	struct relay *r;
	struct relay_server_conn *prev, *next;
	struct dr_stream *stream;
	raft_id peer;
	struct relay_reader rd;
	unsigned refs; /* replies owed, plus the stream while open */
	unsigned inflight;
	bool closed;
	uint8_t rbuf[64 * 1024];
};

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* A frame of msg with tag, in one heap buffer (*len its size). */
static uint8_t *
relay_frame(uint64_t tag, const void *msg, size_t len, size_t *outlen)
{
	uint8_t *f = malloc(RELAY_HDR_LEN + len);

	if (f == NULL)
		abort();
	put_be32(f, (uint32_t)(8 + len));
	put_be64(f + 4, tag);
	memcpy(f + RELAY_HDR_LEN, msg, len);
	*outlen = RELAY_HDR_LEN + len;
	return f;
}

static void
reader_reset(struct relay_reader *rd)
{
	free(rd->body);
	memset(rd, 0, sizeof(*rd));
}

/* Feeds bytes; fn gets each whole frame. 0, or DR_EMALFORMED. */
static int
reader_feed(struct relay_reader *rd, const uint8_t *p, size_t n,
            relay_frame_fn fn, void *arg)
{
	size_t k;
	int i, rv;

	while (n > 0) {
		if (rd->body == NULL) {
			k = RELAY_HDR_LEN - rd->have;
			k = n < k ? n : k;
			memcpy(rd->hdr + rd->have, p, k);
			rd->have += k;
			p += k;
			n -= k;
			if (rd->have < RELAY_HDR_LEN)
				break;
			rd->len = (uint32_t)rd->hdr[0] << 24 |
			          (uint32_t)rd->hdr[1] << 16 |
			          (uint32_t)rd->hdr[2] << 8 | rd->hdr[3];
			if (rd->len < 8 || rd->len > RELAY_FRAME_MAX)
				return DR_EMALFORMED;
			rd->tag = 0;
			for (i = 4; i < RELAY_HDR_LEN; i++)
				rd->tag = rd->tag << 8 | rd->hdr[i];
			rd->body = malloc(rd->len - 8 + 1);
			if (rd->body == NULL)
				abort();
			rd->have = 0;
		}
		k = rd->len - 8 - rd->have;
		k = n < k ? n : k;
		memcpy(rd->body + rd->have, p, k);
		rd->have += k;
		p += k;
		n -= k;
		if (rd->have < rd->len - 8)
			break;
		rv = fn(arg, rd->tag, rd->body, rd->len - 8);
		free(rd->body);
		rd->body = NULL;
		rd->have = 0;
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* --- outgoing: requests to a peer --- */

static void
req_unlink(struct relay_req *q)
{
	struct relay_peer *p = q->peer;

	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		p->reqs = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	else
		p->reqs_tail = q->prev;
}

/* Ends q with rv (0 with the reply) and frees it. */
static void
req_end(struct relay_req *q, int rv, const void *reply, size_t len)
{
	req_unlink(q);
	free(q->frame);
	q->cb(q->arg, rv, reply, len);
	free(q);
}

static void peer_drop(struct relay_peer *p, const char *why);
static void relay_tick_cb(uv_timer_t *t);

static void
relay_tick_start(struct relay *r)
{
	if (!uv_is_active((uv_handle_t *)&r->tick) && !r->closing)
		uv_timer_start(&r->tick, relay_tick_cb, RELAY_TICK_MS,
		               RELAY_TICK_MS);
}

static void
peer_write(struct relay_peer *p, struct relay_req *q)
{
	if (dr_stream_write(p->stream, q->frame, q->framelen, NULL) != 0) {
		peer_drop(p, "write failed");
		return;
	}
	q->sent = true;
	free(q->frame);
	q->frame = NULL;
}

static void
peer_stream_closed_cb(struct dr_stream *s)
{
	(void)s;
}

/*
 * Closes the connection; its requests end at the next tick (sent:
 * DR_ECLOSED, not: DR_EIO), never inside a caller's call.
 */
static void
peer_drop(struct relay_peer *p, const char *why)
{
	struct relay_req *q;

	if (p->stream != NULL) {
		log_debug("relay, connection to %llu closed (%s)",
		          (unsigned long long)p->id, why);
		dr_stream_close(p->stream, peer_stream_closed_cb);
		p->stream = NULL;
	}
	p->ready = false;
	reader_reset(&p->rd);
	for (q = p->reqs; q != NULL; q = q->next)
		if (q->fail == 0)
			q->fail = q->sent ? DR_ECLOSED : DR_EIO;
	relay_tick_start(p->r);
}

static int
peer_frame_cb(void *arg, uint64_t tag, const uint8_t *msg, size_t len)
{
	struct relay_peer *p = arg;
	struct relay_req *q;

	for (q = p->reqs; q != NULL; q = q->next)
		if (q->tag == tag && q->sent && q->fail == 0) {
			req_end(q, 0, msg, len);
			return 0;
		}
	return 0; /* timed out meanwhile */
}

static void
peer_alloc_cb(struct dr_stream *s, size_t sug, uv_buf_t *b)
{
	struct relay_peer *p = dr_stream_data(s);

	(void)sug;
	b->base = (char *)p->rbuf;
	b->len = sizeof(p->rbuf);
}

static void
peer_read_cb(struct dr_stream *s, ssize_t n, const uv_buf_t *b)
{
	struct relay_peer *p = dr_stream_data(s);

	if (n == 0)
		return;
	if (n < 0) {
		peer_drop(p, "closed by the peer");
		return;
	}
	if (reader_feed(&p->rd, (const uint8_t *)b->base, (size_t)n,
	                peer_frame_cb, p) != 0)
		peer_drop(p, "malformed frame");
}

static void
peer_ready_cb(struct dr_stream *s, int status)
{
	struct relay_peer *p = dr_stream_data(s);
	struct relay *r = p->r;
	uint8_t pre[TRANSPORT_HDR_LEN + TRANSPORT_ADDR_MAX];
	struct relay_req *q, *next;
	size_t n;

	if (status != 0) {
		peer_drop(p, dr_stream_error(s));
		return;
	}
	n = transport_preamble_encode(r->self, r->address,
	                              TRANSPORT_CHANNEL_RELAY, pre);
	if (n == 0 || dr_stream_write(s, pre, n, NULL) != 0 ||
	    dr_stream_read_start(s, peer_alloc_cb, peer_read_cb) != 0) {
		peer_drop(p, "cannot start");
		return;
	}
	p->ready = true;
	for (q = p->reqs; q != NULL && p->ready; q = next) {
		next = q->next;
		if (!q->sent && q->fail == 0)
			peer_write(p, q);
	}
}

static void
peer_connect(struct relay_peer *p)
{
	struct dr_stream_opts o;

	memset(&o, 0, sizeof(o));
	o.mode = p->r->tls != NULL ? DR_STREAM_TLS : DR_STREAM_PLAIN;
	o.tls = p->r->tls;
	o.timeout_ms = RELAY_CONNECT_MS;
	o.ready_cb = peer_ready_cb;
	o.data = p;
	if (dr_stream_connect(&p->stream, p->r->loop, p->address, &o) != 0)
		p->stream = NULL;
}

static struct relay_peer *
relay_peer_get(struct relay *r, raft_id id, const char *address)
{
	struct relay_peer *p;

	for (p = r->peers; p != NULL; p = p->next)
		if (p->id == id)
			break;
	if (p != NULL && strcmp(p->address, address) != 0)
		peer_drop(p, "address changed");
	if (p == NULL) {
		p = calloc(1, sizeof(*p));
		if (p == NULL)
			abort();
		p->r = r;
		p->id = id;
		p->next = r->peers;
		r->peers = p;
	}
	snprintf(p->address, sizeof(p->address), "%s", address);
	return p;
}

void
relay_request(struct relay *r, raft_id peer, const char *address,
              const void *msg, size_t len, unsigned timeout_ms, relay_cb cb,
              void *arg)
{
	struct relay_peer *p = relay_peer_get(r, peer, address);
	struct relay_req *q = calloc(1, sizeof(*q));

	if (q == NULL)
		abort();
	q->peer = p;
	q->tag = ++r->next_tag;
	q->deadline = uv_now(r->loop) + timeout_ms;
	q->cb = cb;
	q->arg = arg;
	q->frame = relay_frame(q->tag, msg, len, &q->framelen);
	q->prev = p->reqs_tail;
	if (p->reqs_tail != NULL)
		p->reqs_tail->next = q;
	else
		p->reqs = q;
	p->reqs_tail = q;
	if (r->closing || len + 8 > RELAY_FRAME_MAX)
		q->fail = DR_EIO;
	else if (p->stream == NULL)
		peer_connect(p);
	if (p->stream == NULL && q->fail == 0)
		q->fail = DR_EIO; /* an address we cannot dial */
	else if (p->ready && q->fail == 0)
		peer_write(p, q);
	relay_tick_start(r);
}

/* Ends what failed at once, and what passed its deadline. */
static void
relay_tick_cb(uv_timer_t *t)
{
	struct relay *r = t->data;
	uint64_t now = uv_now(r->loop);
	struct relay_peer *p;
	struct relay_req *q, *next;
	bool any = false;

	for (p = r->peers; p != NULL; p = p->next)
		for (q = p->reqs; q != NULL; q = next) {
			next = q->next;
			if (q->fail != 0)
				req_end(q, q->fail, NULL, 0);
			else if (now >= q->deadline)
				req_end(q, q->sent ? DR_ETIMEDOUT : DR_EIO,
				        NULL, 0);
			else
				any = true;
		}
	if (!any)
		uv_timer_stop(&r->tick);
}

/* --- incoming: requests a peer relays to us --- */

static void
conn_free_maybe(struct relay_server_conn *c)
{
	if (c->refs > 0)
		return;
	reader_reset(&c->rd);
	free(c);
}

static void
conn_stream_closed_cb(struct dr_stream *s)
{
	struct relay_server_conn *c = dr_stream_data(s);

	c->refs--;
	conn_free_maybe(c);
}

static void
conn_drop(struct relay_server_conn *c)
{
	struct relay *r = c->r;

	if (c->closed)
		return;
	c->closed = true;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		r->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	dr_stream_close(c->stream, conn_stream_closed_cb);
}

static int
conn_frame_cb(void *arg, uint64_t tag, const uint8_t *msg, size_t len)
{
	struct relay_server_conn *c = arg;
	struct relay_reply_to *to;

	if (c->inflight >= RELAY_INFLIGHT_MAX)
		return DR_ETOOBIG;
	to = malloc(sizeof(*to));
	if (to == NULL)
		abort();
	to->conn = c;
	to->tag = tag;
	c->refs++;
	c->inflight++;
	c->r->serve_cb(c->r->serve_arg, msg, len, to);
	return c->closed ? DR_ECLOSED : 0;
}

static void
conn_alloc_cb(struct dr_stream *s, size_t sug, uv_buf_t *b)
{
	struct relay_server_conn *c = dr_stream_data(s);

	(void)sug;
	b->base = (char *)c->rbuf;
	b->len = sizeof(c->rbuf);
}

static void
conn_read_cb(struct dr_stream *s, ssize_t n, const uv_buf_t *b)
{
	struct relay_server_conn *c = dr_stream_data(s);

	if (n == 0 || c->closed)
		return;
	if (n < 0 || reader_feed(&c->rd, (const uint8_t *)b->base, (size_t)n,
	                         conn_frame_cb, c) != 0)
		conn_drop(c);
}

void
relay_accept(struct relay *r, struct dr_stream *stream, raft_id peer,
             const uint8_t *extra, size_t len)
{
	struct relay_server_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		abort();
	c->r = r;
	c->stream = stream;
	c->peer = peer;
	c->refs = 1; /* the stream */
	dr_stream_set_data(stream, c);
	c->next = r->conns;
	if (r->conns != NULL)
		r->conns->prev = c;
	r->conns = c;
	if (r->closing ||
	    reader_feed(&c->rd, extra, len, conn_frame_cb, c) != 0 ||
	    (!c->closed &&
	     dr_stream_read_start(stream, conn_alloc_cb, conn_read_cb) != 0))
		conn_drop(c);
}

void
relay_reply(struct relay_reply_to *to, const void *msg, size_t len)
{
	struct relay_server_conn *c = to->conn;
	uint8_t *f;
	size_t flen;

	c->inflight--;
	if (!c->closed) {
		f = relay_frame(to->tag, msg, len, &flen);
		if (dr_stream_write(c->stream, f, flen, NULL) != 0)
			conn_drop(c);
		free(f);
	}
	free(to);
	c->refs--;
	conn_free_maybe(c);
}

/* --- the relay --- */

int
relay_init(struct relay *r, uv_loop_t *loop, struct dr_tls *tls, raft_id self,
           const char *address, relay_serve_cb serve_cb, void *serve_arg)
{
	memset(r, 0, sizeof(*r));
	r->loop = loop;
	r->tls = tls;
	r->self = self;
	snprintf(r->address, sizeof(r->address), "%s", address);
	r->serve_cb = serve_cb;
	r->serve_arg = serve_arg;
	if (uv_timer_init(loop, &r->tick) != 0)
		return DR_EIO;
	r->tick.data = r;
	return 0;
}

void
relay_close(struct relay *r)
{
	struct relay_peer *p, *pn;

	r->closing = true;
	for (p = r->peers; p != NULL; p = pn) {
		pn = p->next;
		peer_drop(p, "shutting down");
		while (p->reqs != NULL)
			req_end(p->reqs, DR_ECLOSED, NULL, 0);
		free(p);
	}
	r->peers = NULL;
	while (r->conns != NULL)
		conn_drop(r->conns);
	uv_close((uv_handle_t *)&r->tick, NULL);
}
