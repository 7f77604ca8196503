/*
 * nng IPC: req/rep and pub/sub. nng completes aios on its own threads; each
 * object here queues completions under a mutex and wakes the uv loop with
 * uv_async_send, so every user callback runs on the loop thread.
 */
#include "bus.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "wire.h"

#define BUS_QUEUE_LEN 8192 /* pub/sub buffers: see DESIGN.md section 7 */
/* Writes bigger than this go alone; a batch is sent once this big. */
#define BUS_BATCH_PART_MAX ((size_t)64 << 10)
#define BUS_BATCH_BYTES    ((size_t)1 << 20)

static void *
bus_calloc(size_t n)
{
	void *p = calloc(1, n);

	if (p == NULL)
		abort();
	return p;
}

static nng_msg *
bus_msg_new(const void *data, size_t len)
{
	nng_msg *m;

	if (nng_msg_alloc(&m, 0) != 0 || nng_msg_append(m, data, len) != 0)
		abort();
	return m;
}

static int
bus_err(const char *what, const char *url, int nrv)
{
	log_warnx("%s %s, failed (%s)", what, url, nng_strerror(nrv));
	return DR_EIO;
}

/* nng refuses messages over 1 MB by default; ours go up to a whole zone. */
static void
bus_allow_large(nng_socket sock)
{
	nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ,
	                    (size_t)DR_WIRE_HDR_LEN + DR_WIRE_MAX_PAYLOAD);
}

/* Dials in the background and redials quickly after the peer restarts. */
static int
bus_dial(nng_socket sock, const char *url)
{
	int nrv;

	nng_socket_set_ms(sock, NNG_OPT_RECONNMINT, 20);
	nng_socket_set_ms(sock, NNG_OPT_RECONNMAXT, 500);
	nrv = nng_dial(sock, url, NULL, NNG_FLAG_NONBLOCK);
	if (nrv != 0)
		return bus_err("dial", url, nrv);
	return 0;
}

/*
 * A completion queue: items are linked through their first field, pushed
 * from nng threads and drained on the loop thread.
 */
struct bus_item {
	struct bus_item *next;
};

struct bus_queue {
	pthread_mutex_t mu;
	struct bus_item *head, *tail;
	uv_async_t async;
};

static int
bus_queue_init(struct bus_queue *q, uv_loop_t *loop, uv_async_cb cb,
               void *owner)
{
	pthread_mutex_init(&q->mu, NULL);
	q->head = q->tail = NULL;
	if (uv_async_init(loop, &q->async, cb) != 0)
		return DR_EIO;
	q->async.data = owner;
	return 0;
}

static void
bus_queue_push(struct bus_queue *q, struct bus_item *it)
{
	it->next = NULL;
	pthread_mutex_lock(&q->mu);
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	pthread_mutex_unlock(&q->mu);
	uv_async_send(&q->async);
}

/* Takes the whole list; the caller walks it through ->next. */
static struct bus_item *
bus_queue_take(struct bus_queue *q)
{
	struct bus_item *list;

	pthread_mutex_lock(&q->mu);
	list = q->head;
	q->head = q->tail = NULL;
	pthread_mutex_unlock(&q->mu);
	return list;
}

/* Closes the async handle; free_cb frees the owner afterwards. */
static void
bus_queue_close(struct bus_queue *q, uv_close_cb free_cb)
{
	pthread_mutex_destroy(&q->mu);
	uv_close((uv_handle_t *)&q->async, free_cb);
}

static void
bus_free_owner_cb(uv_handle_t *h)
{
	free(h->data);
}

/* ---------------------------------------------------------------- rep */

enum { CALL_RECV, CALL_SEND };

struct bus_batch;

struct dr_bus_call {
	struct bus_item item; /* must be first */
	struct dr_bus_server *server;
	nng_ctx ctx;
	nng_aio *aio;
	nng_msg *req; /* owned while queued or being handled */
	int state;
	struct bus_batch *batch; /* a part of one: its reply is kept there */
	unsigned slot;
};

/*
 * A DR_MSG_BATCH being answered: each part is handed to the callback as
 * a call of its own; once every part has its reply, they go back in one
 * message through the call that brought the batch.
 */
struct bus_batch {
	struct bus_batch *prev, *next; /* the server's, for stop */
	struct dr_bus_call *carrier;
	unsigned n, left;
	nng_msg **replies;
	struct dr_bus_call parts[];
};

struct dr_bus_server {
	struct bus_queue q;
	nng_socket sock;
	struct dr_bus_call *calls;
	unsigned ncalls;
	struct bus_batch *batches; /* being answered */
	unsigned long nbatches;    /* taken so far */
	dr_bus_request_cb cb;
	void *arg;
	atomic_bool closing;
};

static void
call_recv(struct dr_bus_call *call)
{
	call->state = CALL_RECV;
	nng_ctx_recv(call->ctx, call->aio);
}

static void
call_aio_cb(void *arg)
{
	struct dr_bus_call *call = arg;
	struct dr_bus_server *s = call->server;
	int nrv = nng_aio_result(call->aio);

	if (call->state == CALL_SEND) {
		if (nrv != 0)
			nng_msg_free(nng_aio_get_msg(call->aio));
		if (!atomic_load(&s->closing))
			call_recv(call);
		return;
	}
	if (nrv != 0) {
		if (nrv != NNG_ECLOSED && !atomic_load(&s->closing))
			call_recv(call);
		return;
	}
	call->req = nng_aio_get_msg(call->aio);
	bus_queue_push(&s->q, &call->item);
}

static void
batch_free(struct dr_bus_server *s, struct bus_batch *b)
{
	unsigned i;

	if (b->prev)
		b->prev->next = b->next;
	else
		s->batches = b->next;
	if (b->next)
		b->next->prev = b->prev;
	for (i = 0; i < b->n; i++)
		if (b->replies[i])
			nng_msg_free(b->replies[i]);
	free(b->replies);
	free(b);
}

/* Every part has its reply: one message back, in the parts' order. */
static void
batch_done(struct dr_bus_server *s, struct bus_batch *b)
{
	struct dr_msg_hdr h;
	struct dr_buf out;
	unsigned i;

	memset(&h, 0, sizeof(h));
	h.type = DR_MSG_BATCH;
	dr_buf_init(&out);
	dr_wire_begin(&out, &h);
	for (i = 0; i < b->n; i++)
		dr_buf_put(&out, nng_msg_body(b->replies[i]),
		           nng_msg_len(b->replies[i]));
	dr_wire_end(&out);
	dr_bus_reply(b->carrier, out.data, out.len);
	dr_buf_close(&out);
	batch_free(s, b);
}

/* A batch from a client: each part goes to the callback on its own. */
static void
server_batch(struct dr_bus_server *s, struct dr_bus_call *call,
             const uint8_t *p, size_t len)
{
	struct bus_batch *b;
	struct dr_msg_hdr h;
	unsigned n = dr_wire_parts(p, len, DR_MSG_APPLY, DR_BATCH_MAX), i;
	size_t off = 0, part;

	/* Checked whole first: 2 writes or more, nothing else. */
	if (n < 2) {
		dr_bus_reply_status(call, DR_ST_ERROR, "malformed batch", 15);
		return;
	}
	s->nbatches++;
	b = bus_calloc(sizeof(*b) + n * sizeof(b->parts[0]));
	b->replies = bus_calloc(n * sizeof(b->replies[0]));
	b->carrier = call;
	b->n = n;
	b->left = n + 1; /* and one for this loop: a part may answer at once */
	b->next = s->batches;
	if (s->batches)
		s->batches->prev = b;
	s->batches = b;
	for (i = 0; i < n; i++) {
		b->parts[i].server = s;
		b->parts[i].batch = b;
		b->parts[i].slot = i;
	}
	for (i = 0; i < n && !atomic_load(&s->closing); i++, off += part) {
		part = dr_wire_part(p + off, len - off, &h);
		s->cb(&b->parts[i], p + off, part, s->arg);
	}
	if (--b->left == 0)
		batch_done(s, b);
}

static void
server_async_cb(uv_async_t *a)
{
	struct dr_bus_server *s = a->data;
	struct bus_item *it = bus_queue_take(&s->q), *next;

	for (; it != NULL; it = next) {
		struct dr_bus_call *call = (struct dr_bus_call *)it;
		nng_msg *m = call->req;
		const uint8_t *body = nng_msg_body(m);
		size_t len = nng_msg_len(m);

		next = it->next;
		if (atomic_load(&s->closing)) {
			nng_msg_free(m);
			continue;
		}
		call->req = NULL;
		if (len >= DR_WIRE_HDR_LEN && body[5] == DR_MSG_BATCH)
			server_batch(s, call, body + DR_WIRE_HDR_LEN,
			             len - DR_WIRE_HDR_LEN);
		else
			s->cb(call, body, len, s->arg);
		nng_msg_free(m);
	}
}

int
dr_bus_server_start(struct dr_bus_server **out, uv_loop_t *loop,
                    const char *url, unsigned nctx, dr_bus_request_cb cb,
                    void *arg)
{
	struct dr_bus_server *s = bus_calloc(sizeof(*s));
	unsigned i;
	int nrv;

	s->cb = cb;
	s->arg = arg;
	atomic_init(&s->closing, false);
	if ((nrv = nng_rep0_open(&s->sock)) != 0) {
		bus_err("rep open", url, nrv);
		goto err_after_alloc;
	}
	bus_allow_large(s->sock);
	if ((nrv = nng_listen(s->sock, url, NULL, 0)) != 0) {
		bus_err("listen", url, nrv);
		goto err_after_open;
	}
	if (bus_queue_init(&s->q, loop, server_async_cb, s) != 0)
		goto err_after_open;
	s->calls = bus_calloc(nctx * sizeof(*s->calls));
	s->ncalls = nctx;
	for (i = 0; i < nctx; i++) {
		struct dr_bus_call *call = &s->calls[i];

		call->server = s;
		if (nng_ctx_open(&call->ctx, s->sock) != 0 ||
		    nng_aio_alloc(&call->aio, call_aio_cb, call) != 0)
			abort();
	}
	for (i = 0; i < nctx; i++)
		call_recv(&s->calls[i]);
	*out = s;
	return 0;

err_after_open:
	nng_close(s->sock);
err_after_alloc:
	free(s);
	return DR_EIO;
}

void
dr_bus_reply(struct dr_bus_call *call, const void *data, size_t len)
{
	struct bus_batch *b = call->batch;

	if (atomic_load(&call->server->closing))
		return;
	if (b != NULL) {
		if (b->replies[call->slot] != NULL)
			abort(); /* a second reply to one call */
		b->replies[call->slot] = bus_msg_new(data, len);
		if (--b->left == 0)
			batch_done(call->server, b);
		return;
	}
	call->state = CALL_SEND;
	nng_aio_set_msg(call->aio, bus_msg_new(data, len));
	nng_ctx_send(call->ctx, call->aio);
}

void
dr_bus_reply_status(struct dr_bus_call *call, int status, const void *payload,
                    size_t len)
{
	struct dr_msg_hdr h;
	struct dr_buf out;

	memset(&h, 0, sizeof(h));
	h.type = DR_MSG_REPLY;
	h.status = status;
	dr_buf_init(&out);
	dr_wire_begin(&out, &h);
	if (len > 0)
		dr_buf_put(&out, payload, len);
	dr_wire_end(&out);
	dr_bus_reply(call, out.data, out.len);
	dr_buf_close(&out);
}

unsigned long
dr_bus_server_batches(const struct dr_bus_server *s)
{
	return s->nbatches;
}

void
dr_bus_server_stop(struct dr_bus_server *s)
{
	struct bus_item *it, *next;
	unsigned i;

	atomic_store(&s->closing, true);
	nng_close(s->sock);
	for (i = 0; i < s->ncalls; i++)
		nng_aio_free(s->calls[i].aio); /* waits for its callback */
	for (it = bus_queue_take(&s->q); it != NULL; it = next) {
		next = it->next;
		nng_msg_free(((struct dr_bus_call *)it)->req);
	}
	while (s->batches != NULL)
		batch_free(s, s->batches);
	free(s->calls);
	bus_queue_close(&s->q, bus_free_owner_cb);
}

/* ---------------------------------------------------------------- req */

/*
 * A request in flight (it has the nng context), or a write waiting for
 * the end of the loop turn (client->batch): the writes of one turn go in
 * one DR_MSG_BATCH, sent by a carrier request that owns them (members)
 * and hands each its part of the reply.
 */
struct bus_req {
	struct bus_item item; /* must be first */
	struct dr_bus_client *client;
	struct bus_req *prev, *next_pending;
	nng_ctx ctx;
	nng_aio *aio;
	nng_msg *reply;
	dr_bus_reply_cb cb;
	void *arg;
	int state;
	int rv;
	nng_duration timeout;
	nng_msg *out;            /* waiting in a batch: the request */
	struct bus_req *next;    /* in the batch, or in the carrier's */
	struct bus_req *members; /* a carrier's */
};

struct dr_bus_client {
	struct bus_queue q;
	nng_socket sock;
	struct bus_req *pending;             /* every request in flight */
	struct bus_req *batch, **batch_tail; /* this turn's writes */
	unsigned nbatch;
	size_t batch_bytes;
	struct bus_item flush; /* queued once a turn has writes: */
	bool flush_queued;
	atomic_bool closing;
};

static void
req_aio_cb(void *arg)
{
	struct bus_req *r = arg;
	int nrv = nng_aio_result(r->aio);

	if (nrv == 0 && r->state == CALL_SEND) {
		r->state = CALL_RECV;
		nng_aio_set_timeout(r->aio, r->timeout);
		nng_ctx_recv(r->ctx, r->aio);
		return;
	}
	if (nrv != 0) {
		if (r->state == CALL_SEND)
			nng_msg_free(nng_aio_get_msg(r->aio));
		r->rv = nrv == NNG_ETIMEDOUT ? DR_ETIMEDOUT : DR_ECLOSED;
	} else {
		r->reply = nng_aio_get_msg(r->aio);
	}
	bus_queue_push(&r->client->q, &r->item);
}

static void
req_unlink(struct dr_bus_client *c, struct bus_req *r)
{
	if (r->prev)
		r->prev->next_pending = r->next_pending;
	else
		c->pending = r->next_pending;
	if (r->next_pending)
		r->next_pending->prev = r->prev;
}

/* A member's callback with its part of the reply (or rv); frees it. */
static void
member_finish(struct bus_req *m, int rv, const void *data, size_t len)
{
	if (m->out)
		nng_msg_free(m->out);
	m->cb(rv, data, len, m->arg);
	free(m);
}

/*
 * A batch's reply: the members' replies back to back, one each, in
 * order. Anything else (raftd refused the batch whole) goes to every
 * member as it is: none of them ran.
 */
static void
carrier_finish(struct bus_req *r)
{
	const uint8_t *p = r->reply ? nng_msg_body(r->reply) : NULL;
	size_t len = r->reply ? nng_msg_len(r->reply) : 0;
	size_t off = DR_WIRE_HDR_LEN, part;
	struct bus_req *m, *next;
	struct dr_msg_hdr h;
	unsigned n = 0;
	bool split;

	for (m = r->members; m != NULL; m = m->next)
		n++;
	split = len >= DR_WIRE_HDR_LEN && p[5] == DR_MSG_BATCH &&
	        dr_wire_parts(p + off, len - off, DR_MSG_REPLY, n) == n;
	for (m = r->members; m != NULL; m = next) {
		next = m->next;
		if (r->reply == NULL) {
			member_finish(m, r->rv, NULL, 0);
		} else if (split) {
			part = dr_wire_part(p + off, len - off, &h);
			member_finish(m, 0, p + off, part);
			off += part;
		} else {
			member_finish(m, 0, p, len);
		}
	}
}

/* Runs the user callback and frees the request (loop thread). */
static void
req_finish(struct bus_req *r)
{
	req_unlink(r->client, r);
	nng_aio_free(r->aio);
	nng_ctx_close(r->ctx);
	if (r->members) {
		carrier_finish(r);
		if (r->reply)
			nng_msg_free(r->reply);
		free(r);
		return;
	}
	if (r->reply)
		r->cb(0, nng_msg_body(r->reply), nng_msg_len(r->reply), r->arg);
	else
		r->cb(r->rv, NULL, 0, r->arg);
	if (r->reply)
		nng_msg_free(r->reply);
	free(r);
}

/* Opens r's context and sends msg (owned) with r's timeout. */
static int
req_send(struct dr_bus_client *c, struct bus_req *r, nng_msg *msg)
{
	if (nng_ctx_open(&r->ctx, c->sock) != 0) {
		nng_msg_free(msg);
		return DR_ECLOSED;
	}
	if (nng_aio_alloc(&r->aio, req_aio_cb, r) != 0)
		abort();
	r->next_pending = c->pending;
	r->prev = NULL;
	if (c->pending)
		c->pending->prev = r;
	c->pending = r;
	r->state = CALL_SEND;
	nng_aio_set_timeout(r->aio, r->timeout);
	nng_aio_set_msg(r->aio, msg);
	nng_ctx_send(r->ctx, r->aio);
	return 0;
}

/* The end of a loop turn with writes: one request, or one batch. */
static void
client_flush(struct dr_bus_client *c)
{
	struct bus_req *list = c->batch, *r, *carrier;
	struct dr_msg_hdr h;
	struct dr_buf out;

	c->batch = NULL;
	c->batch_tail = &c->batch;
	c->nbatch = 0;
	c->batch_bytes = 0;
	if (list == NULL)
		return;
	if (list->next == NULL) {
		nng_msg *m = list->out;

		list->out = NULL;
		if (req_send(c, list, m) != 0)
			member_finish(list, DR_ECLOSED, NULL, 0);
		return;
	}
	carrier = bus_calloc(sizeof(*carrier));
	carrier->client = c;
	carrier->members = list;
	memset(&h, 0, sizeof(h));
	h.type = DR_MSG_BATCH;
	dr_buf_init(&out);
	dr_wire_begin(&out, &h);
	for (r = list; r != NULL; r = r->next) {
		if (r->timeout > carrier->timeout)
			carrier->timeout = r->timeout;
		dr_buf_put(&out, nng_msg_body(r->out), nng_msg_len(r->out));
		nng_msg_free(r->out);
		r->out = NULL;
	}
	dr_wire_end(&out);
	if (req_send(c, carrier, bus_msg_new(out.data, out.len)) != 0) {
		carrier->rv = DR_ECLOSED;
		carrier_finish(carrier);
		free(carrier);
	}
	dr_buf_close(&out);
}

static void
client_async_cb(uv_async_t *a)
{
	struct dr_bus_client *c = a->data;
	struct bus_item *it = bus_queue_take(&c->q), *next;

	for (; it != NULL; it = next) {
		next = it->next;
		if (it == &c->flush) {
			c->flush_queued = false;
			client_flush(c);
		} else
			req_finish((struct bus_req *)it);
	}
}

int
dr_bus_client_start(struct dr_bus_client **out, uv_loop_t *loop,
                    const char *url)
{
	struct dr_bus_client *c = bus_calloc(sizeof(*c));
	int nrv;

	atomic_init(&c->closing, false);
	c->batch_tail = &c->batch;
	if ((nrv = nng_req0_open(&c->sock)) != 0) {
		bus_err("req open", url, nrv);
		goto err_after_alloc;
	}
	bus_allow_large(c->sock);
	/* Never resend: an APPLY proposed twice would be applied twice. */
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME,
	                  NNG_DURATION_INFINITE);
	if (bus_dial(c->sock, url) != 0)
		goto err_after_open;
	if (bus_queue_init(&c->q, loop, client_async_cb, c) != 0)
		goto err_after_open;
	*out = c;
	return 0;

err_after_open:
	nng_close(c->sock);
err_after_alloc:
	free(c);
	return DR_EIO;
}

int
dr_bus_request(struct dr_bus_client *c, const void *data, size_t len,
               unsigned timeout_ms, dr_bus_reply_cb cb, void *arg)
{
	struct bus_req *r;

	if (atomic_load(&c->closing))
		return DR_ECLOSED;
	r = bus_calloc(sizeof(*r));
	r->client = c;
	r->cb = cb;
	r->arg = arg;
	r->timeout = (nng_duration)timeout_ms;
	/* Small writes wait for the end of the loop turn, to go together. */
	if (len >= DR_WIRE_HDR_LEN && len <= BUS_BATCH_PART_MAX &&
	    ((const uint8_t *)data)[5] == DR_MSG_APPLY) {
		r->out = bus_msg_new(data, len);
		*c->batch_tail = r;
		c->batch_tail = &r->next;
		c->nbatch++;
		c->batch_bytes += len;
		if (!c->flush_queued) {
			c->flush_queued = true;
			bus_queue_push(&c->q, &c->flush);
		}
		if (c->nbatch >= DR_BATCH_MAX ||
		    c->batch_bytes >= BUS_BATCH_BYTES)
			client_flush(c);
		return 0;
	}
	if (req_send(c, r, bus_msg_new(data, len)) != 0) {
		free(r);
		return DR_ECLOSED;
	}
	return 0;
}

void
dr_bus_client_stop(struct dr_bus_client *c)
{
	struct bus_req *r;

	atomic_store(&c->closing, true);
	/* Cancel everything still in flight, then finish it all here. */
	for (r = c->pending; r != NULL; r = r->next_pending)
		nng_aio_stop(r->aio);
	nng_close(c->sock);
	bus_queue_take(&c->q);
	while ((r = c->batch) != NULL) {
		c->batch = r->next;
		member_finish(r, DR_ECLOSED, NULL, 0);
	}
	c->batch_tail = &c->batch;
	c->nbatch = 0;
	c->flush_queued = false;
	while ((r = c->pending) != NULL) {
		if (r->reply) {
			nng_msg_free(r->reply);
			r->reply = NULL;
		}
		r->rv = DR_ECLOSED;
		req_finish(r);
	}
	bus_queue_close(&c->q, bus_free_owner_cb);
}

/* ---------------------------------------------------------------- pub */

struct dr_bus_pub {
	nng_socket sock;
};

int
dr_bus_pub_open(struct dr_bus_pub **out, const char *url)
{
	struct dr_bus_pub *p = bus_calloc(sizeof(*p));
	int nrv;

	if ((nrv = nng_pub0_open(&p->sock)) != 0) {
		bus_err("pub open", url, nrv);
		free(p);
		return DR_EIO;
	}
	nng_socket_set_int(p->sock, NNG_OPT_SENDBUF, BUS_QUEUE_LEN);
	if ((nrv = nng_listen(p->sock, url, NULL, 0)) != 0) {
		bus_err("listen", url, nrv);
		nng_close(p->sock);
		free(p);
		return DR_EIO;
	}
	*out = p;
	return 0;
}

int
dr_bus_publish(struct dr_bus_pub *p, const void *data, size_t len)
{
	nng_msg *m = bus_msg_new(data, len);

	if (nng_sendmsg(p->sock, m, NNG_FLAG_NONBLOCK) != 0) {
		nng_msg_free(m);
		return DR_EBUSY;
	}
	return 0;
}

void
dr_bus_pub_close(struct dr_bus_pub *p)
{
	nng_close(p->sock);
	free(p);
}

/* ---------------------------------------------------------------- sub */

struct sub_msg {
	struct bus_item item; /* must be first */
	nng_msg *m;
};

struct dr_bus_sub {
	struct bus_queue q;
	nng_socket sock;
	nng_aio *aio;
	dr_bus_msg_cb cb;
	void *arg;
	atomic_bool closing;
};

static void
sub_aio_cb(void *arg)
{
	struct dr_bus_sub *s = arg;
	int nrv = nng_aio_result(s->aio);

	if (nrv == 0) {
		struct sub_msg *sm = bus_calloc(sizeof(*sm));

		sm->m = nng_aio_get_msg(s->aio);
		bus_queue_push(&s->q, &sm->item);
	}
	if (nrv != NNG_ECLOSED && !atomic_load(&s->closing))
		nng_recv_aio(s->sock, s->aio);
}

static void
sub_async_cb(uv_async_t *a)
{
	struct dr_bus_sub *s = a->data;
	struct bus_item *it = bus_queue_take(&s->q), *next;

	for (; it != NULL; it = next) {
		struct sub_msg *sm = (struct sub_msg *)it;

		next = it->next;
		if (!atomic_load(&s->closing))
			s->cb(nng_msg_body(sm->m), nng_msg_len(sm->m), s->arg);
		nng_msg_free(sm->m);
		free(sm);
	}
}

int
dr_bus_sub_start(struct dr_bus_sub **out, uv_loop_t *loop, const char *url,
                 dr_bus_msg_cb cb, void *arg)
{
	struct dr_bus_sub *s = bus_calloc(sizeof(*s));
	int nrv;

	s->cb = cb;
	s->arg = arg;
	atomic_init(&s->closing, false);
	if ((nrv = nng_sub0_open(&s->sock)) != 0) {
		bus_err("sub open", url, nrv);
		goto err_after_alloc;
	}
	bus_allow_large(s->sock);
	nng_socket_set_int(s->sock, NNG_OPT_RECVBUF, BUS_QUEUE_LEN);
	nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	if (bus_dial(s->sock, url) != 0)
		goto err_after_open;
	if (bus_queue_init(&s->q, loop, sub_async_cb, s) != 0)
		goto err_after_open;
	if (nng_aio_alloc(&s->aio, sub_aio_cb, s) != 0)
		abort();
	nng_recv_aio(s->sock, s->aio);
	*out = s;
	return 0;

err_after_open:
	nng_close(s->sock);
err_after_alloc:
	free(s);
	return DR_EIO;
}

void
dr_bus_sub_stop(struct dr_bus_sub *s)
{
	struct bus_item *it, *next;

	atomic_store(&s->closing, true);
	nng_close(s->sock);
	nng_aio_free(s->aio);
	for (it = bus_queue_take(&s->q); it != NULL; it = next) {
		next = it->next;
		nng_msg_free(((struct sub_msg *)it)->m);
		free(it);
	}
	bus_queue_close(&s->q, bus_free_owner_cb);
}
