/* Unit tests for the nng bus: req/rep round trips, timeouts, pub/sub. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "err.h"
#include "unit.h"
#include "wire.h"

struct fixture {
	uv_loop_t loop;
	uv_timer_t deadline;
	struct dr_bus_server *server;
	struct dr_bus_client *client;
	struct dr_bus_pub *pub;
	struct dr_bus_sub *sub;
	int replies, timeouts, published, received;
	uint8_t last_sub;
	int hold; /* server does not answer "hold" requests */
	char url_rep[128], url_pub[128];
};

static void
server_cb(struct dr_bus_call *call, const void *data, size_t len, void *arg)
{
	struct fixture *f = arg;
	char echo[64];

	if (len == 4 && memcmp(data, "hold", 4) == 0) {
		f->hold++;
		return; /* never answered: the client must time out */
	}
	snprintf(echo, sizeof(echo), "re:%.*s", (int)len, (const char *)data);
	dr_bus_reply(call, echo, strlen(echo));
}

static void
stop_all(struct fixture *f)
{
	uv_timer_stop(&f->deadline);
	uv_close((uv_handle_t *)&f->deadline, NULL);
	dr_bus_client_stop(f->client);
	dr_bus_server_stop(f->server);
	dr_bus_sub_stop(f->sub);
	dr_bus_pub_close(f->pub);
}

static void
check_done(struct fixture *f)
{
	if (f->replies == 50 && f->timeouts == 1 && f->received >= 1)
		stop_all(f);
}

static void
reply_cb(int rv, const void *data, size_t len, void *arg)
{
	struct fixture *f = arg;

	if (rv == DR_ETIMEDOUT) {
		f->timeouts++;
	} else {
		CHECK_EQ_INT(rv, 0);
		CHECK(len >= 3 && memcmp(data, "re:", 3) == 0);
		f->replies++;
	}
	check_done(f);
}

static void
sub_cb(const void *data, size_t len, void *arg)
{
	struct fixture *f = arg;

	CHECK_EQ_INT(len, 1);
	f->last_sub = *(const uint8_t *)data;
	f->received++;
	check_done(f);
}

/* Publishes until the subscriber has connected and seen something. */
static void
tick_cb(uv_timer_t *t)
{
	struct fixture *f = t->data;
	uint8_t b = (uint8_t)f->published++;

	if (f->published > 200) {
		CHECK(!"deadline passed");
		stop_all(f);
		return;
	}
	dr_bus_publish(f->pub, &b, 1);
}

static void
test_bus(void)
{
	struct fixture f;
	char dir[] = "/tmp/dr-bus-XXXXXX";
	int i;

	memset(&f, 0, sizeof(f));
	CHECK(mkdtemp(dir) != NULL);
	snprintf(f.url_rep, sizeof(f.url_rep), "ipc://%s/rep.ipc", dir);
	snprintf(f.url_pub, sizeof(f.url_pub), "ipc://%s/pub.ipc", dir);
	uv_loop_init(&f.loop);
	/* The client dials before the server listens: it must connect. */
	CHECK_EQ_INT(dr_bus_client_start(&f.client, &f.loop, f.url_rep), 0);
	CHECK_EQ_INT(dr_bus_server_start(&f.server, &f.loop, f.url_rep, 8,
	                                 server_cb, &f),
	             0);
	CHECK_EQ_INT(dr_bus_pub_open(&f.pub, f.url_pub), 0);
	CHECK_EQ_INT(dr_bus_sub_start(&f.sub, &f.loop, f.url_pub, sub_cb, &f),
	             0);
	for (i = 0; i < 50; i++) {
		char msg[16];

		snprintf(msg, sizeof(msg), "m%d", i);
		CHECK_EQ_INT(dr_bus_request(f.client, msg, strlen(msg), 5000,
		                            reply_cb, &f),
		             0);
	}
	CHECK_EQ_INT(dr_bus_request(f.client, "hold", 4, 200, reply_cb, &f), 0);
	uv_timer_init(&f.loop, &f.deadline);
	f.deadline.data = &f;
	uv_timer_start(&f.deadline, tick_cb, 10, 50);
	uv_run(&f.loop, UV_RUN_DEFAULT);
	CHECK_EQ_INT(f.replies, 50);
	CHECK_EQ_INT(f.timeouts, 1);
	CHECK_EQ_INT(f.hold, 1);
	CHECK(f.received >= 1);
	CHECK_EQ_INT(uv_loop_close(&f.loop), 0);
	char path[160];
	snprintf(path, sizeof(path), "%s/rep.ipc", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/pub.ipc", dir);
	unlink(path);
	rmdir(dir);
}

/* ------------------------------------------------------------ batches */

#define NPARTS 20

struct bfix {
	uv_loop_t loop;
	uv_timer_t deadline;
	struct dr_bus_server *server;
	struct dr_bus_client *client;
	struct dr_bus_call *calls[NPARTS];
	int ncalls, replies, errors, timeouts, phase;
	unsigned long nbatches; /* the server's count, at the end */
	char url[128];
};

/* What a request's reply must say. */
struct barg {
	struct bfix *f;
	uint64_t want; /* the reply's index; 0: a refused batch */
};

static void
put_msg(struct dr_buf *b, uint8_t type, uint64_t index, const char *payload)
{
	struct dr_msg_hdr h;

	memset(&h, 0, sizeof(h));
	h.type = type;
	h.index = index;
	dr_wire_begin(b, &h);
	dr_buf_put(b, payload, strlen(payload));
	dr_wire_end(b);
}

/* Answers once all parts are in, last first, with the part's index. */
static void
bserver_cb(struct dr_bus_call *call, const void *data, size_t len, void *arg)
{
	struct bfix *f = arg;
	struct dr_msg_hdr h;
	struct dr_cursor cur;
	struct dr_buf out;
	int i;

	CHECK_EQ_INT(dr_wire_decode(data, len, &h, &cur), 0);
	CHECK_EQ_INT(h.type, DR_MSG_APPLY);
	if (cur.left == 4 && memcmp(cur.p, "hold", 4) == 0)
		return;      /* the whole batch times out */
	if (f->phase == 1) { /* the others of that batch: answered */
		dr_buf_init(&out);
		put_msg(&out, DR_MSG_REPLY, 0, "ok");
		dr_bus_reply(call, out.data, out.len);
		dr_buf_close(&out);
		return;
	}
	if (f->ncalls >= NPARTS) {
		CHECK(!"more parts than sent");
		return;
	}
	f->calls[f->ncalls++] = call;
	if (f->ncalls < NPARTS)
		return;
	dr_buf_init(&out);
	for (i = NPARTS - 1; i >= 0; i--) {
		dr_buf_reset(&out);
		/* index i + 1: what the i-th request said */
		put_msg(&out, DR_MSG_REPLY, (uint64_t)i + 1, "ok");
		dr_bus_reply(f->calls[i], out.data, out.len);
	}
	dr_buf_close(&out);
}

static void bsend_hold(struct bfix *f);

static void
bstop(struct bfix *f)
{
	uv_timer_stop(&f->deadline);
	uv_close((uv_handle_t *)&f->deadline, NULL);
	f->nbatches = dr_bus_server_batches(f->server);
	dr_bus_client_stop(f->client);
	dr_bus_server_stop(f->server);
}

static void
breply_cb(int rv, const void *data, size_t len, void *arg)
{
	struct barg *a = arg;
	struct bfix *f = a->f;
	uint64_t want = a->want;
	struct dr_msg_hdr h;
	struct dr_cursor cur;

	if (rv == DR_ETIMEDOUT) {
		CHECK_EQ_INT(f->phase, 1);
		if (++f->timeouts == 3)
			bstop(f);
		return;
	}
	CHECK_EQ_INT(rv, 0);
	CHECK_EQ_INT(dr_wire_decode(data, len, &h, &cur), 0);
	CHECK_EQ_INT(h.type, DR_MSG_REPLY);
	if (want == 0) { /* a malformed batch: refused whole */
		CHECK_EQ_INT(h.status, DR_ST_ERROR);
		f->errors++;
	} else {
		CHECK_EQ_INT(h.status, 0);
		CHECK(h.index == want);
		f->replies++;
	}
	if (f->phase == 0 && f->replies == NPARTS && f->errors == 2)
		bsend_hold(f);
}

static struct barg bargs[NPARTS + 8];

/* Phase 1: three writes of one turn, one of them never answered. */
static void
bsend_hold(struct bfix *f)
{
	struct dr_buf b;
	int i;

	f->phase = 1;
	dr_buf_init(&b);
	for (i = 0; i < 3; i++) {
		dr_buf_reset(&b);
		put_msg(&b, DR_MSG_APPLY, 0, i == 1 ? "hold" : "x");
		bargs[NPARTS + 2 + i].f = f;
		CHECK_EQ_INT(dr_bus_request(f->client, b.data, b.len,
		                            i == 2 ? 300 : 100, breply_cb,
		                            &bargs[NPARTS + 2 + i]),
		             0);
	}
	dr_buf_close(&b);
}

static void
bdeadline_cb(uv_timer_t *t)
{
	CHECK(!"deadline passed");
	bstop(t->data);
}

/*
 * Writes sent in one loop turn reach the server as one batch, whose
 * parts come to the callback one by one and may be answered in any
 * order; each reply reaches its own request. Malformed batches are
 * refused whole; a batch whose part is never answered times out for all.
 */
static void
test_batch(void)
{
	struct bfix *f = calloc(1, sizeof(*f));
	char dir[] = "/tmp/dr-bus-XXXXXX";
	struct dr_buf b, parts;
	uint64_t t0;
	int i;

	CHECK(f != NULL && mkdtemp(dir) != NULL);
	snprintf(f->url, sizeof(f->url), "ipc://%s/rep.ipc", dir);
	uv_loop_init(&f->loop);
	CHECK_EQ_INT(
	    dr_bus_server_start(&f->server, &f->loop, f->url, 8, bserver_cb, f),
	    0);
	CHECK_EQ_INT(dr_bus_client_start(&f->client, &f->loop, f->url), 0);
	dr_buf_init(&b);
	for (i = 0; i < NPARTS; i++) {
		char payload[16];

		snprintf(payload, sizeof(payload), "w%d", i);
		dr_buf_reset(&b);
		put_msg(&b, DR_MSG_APPLY, 0, payload);
		bargs[i].f = f;
		bargs[i].want = (uint64_t)i + 1;
		CHECK_EQ_INT(dr_bus_request(f->client, b.data, b.len, 5000,
		                            breply_cb, &bargs[i]),
		             0);
	}
	/* Hand-made batches: one part only, and a part that is no write. */
	dr_buf_init(&parts);
	put_msg(&parts, DR_MSG_APPLY, 0, "lone");
	dr_buf_reset(&b);
	put_msg(&b, DR_MSG_BATCH, 0, "");
	dr_buf_put(&b, parts.data, parts.len);
	dr_wire_end(&b);
	bargs[NPARTS].f = f;
	CHECK_EQ_INT(dr_bus_request(f->client, b.data, b.len, 5000, breply_cb,
	                            &bargs[NPARTS]),
	             0);
	put_msg(&parts, DR_MSG_GET, 0, "k");
	dr_buf_reset(&b);
	put_msg(&b, DR_MSG_BATCH, 0, "");
	dr_buf_put(&b, parts.data, parts.len);
	dr_wire_end(&b);
	bargs[NPARTS + 1].f = f;
	CHECK_EQ_INT(dr_bus_request(f->client, b.data, b.len, 5000, breply_cb,
	                            &bargs[NPARTS + 1]),
	             0);
	dr_buf_close(&b);
	dr_buf_close(&parts);
	uv_timer_init(&f->loop, &f->deadline);
	f->deadline.data = f;
	uv_timer_start(&f->deadline, bdeadline_cb, 10000, 0);
	t0 = uv_now(&f->loop);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	CHECK_EQ_INT(f->replies, NPARTS);
	CHECK_EQ_INT(f->errors, 2);
	CHECK_EQ_INT(f->timeouts, 3);
	/* The first round and the held one: two batches taken. */
	CHECK_EQ_INT(f->nbatches, 2);
	/* The held batch waited for the longest timeout of its writes. */
	CHECK(uv_now(&f->loop) - t0 >= 300);
	CHECK_EQ_INT(uv_loop_close(&f->loop), 0);
	free(f);
	char path[160];
	snprintf(path, sizeof(path), "%s/rep.ipc", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	RUN(test_bus);
	RUN(test_batch);
	return UNIT_DONE();
}
