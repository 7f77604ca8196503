/* Unit tests for the nng bus: req/rep round trips, timeouts, pub/sub. */
#include <stdlib.h>
#include <unistd.h>

#include "bus.h"
#include "err.h"
#include "unit.h"

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

int
main(void)
{
	RUN(test_bus);
	return UNIT_DONE();
}
