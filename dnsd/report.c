/* Tells this node's raftd which Raft index dnsd serves (ack all waits). */
#include "report.h"

#include <string.h>

#include "err.h"
#include "log.h"

static void report_send(struct report *r);

static void
report_reply_cb(int rv, const void *data, size_t len, void *arg)
{
	struct report *r = arg;

	(void)data;
	(void)len;
	r->outstanding = false;
	if (rv != 0)
		log_debug("report, raftd did not take the served index (%s)",
		          dr_strerror(rv));
	/* Something newer came meanwhile: it goes now. */
	if (rv == 0 && r->latest != r->sent)
		report_send(r);
}

static void
report_send(struct report *r)
{
	struct dr_msg_hdr h;

	if (r->stopping || r->outstanding || !r->have)
		return;
	memset(&h, 0, sizeof(h));
	h.type = DR_MSG_SERVED;
	h.index = r->latest;
	dr_wire_begin(&r->buf, &h);
	dr_wire_end(&r->buf);
	if (dr_bus_request(r->bus, r->buf.data, r->buf.len, REPORT_TIMEOUT_MS,
	                   report_reply_cb, r) != 0)
		return;
	r->outstanding = true;
	r->sent = r->latest;
}

static void
report_refresh_cb(uv_timer_t *t)
{
	report_send(t->data);
}

int
report_start(struct report *r, uv_loop_t *loop, const char *url)
{
	memset(r, 0, sizeof(*r));
	dr_buf_init(&r->buf);
	if (dr_bus_client_start(&r->bus, loop, url) != 0) {
		log_warnx("report, cannot dial raftd on %s", url);
		r->bus = NULL;
		dr_buf_close(&r->buf);
		return DR_EIO;
	}
	uv_timer_init(loop, &r->refresh);
	r->refresh.data = r;
	uv_timer_start(&r->refresh, report_refresh_cb, REPORT_REFRESH_MS,
	               REPORT_REFRESH_MS);
	return 0;
}

void
report_served(struct report *r, uint64_t index)
{
	if (r->bus == NULL)
		return;
	if (r->have && index == r->latest)
		return;
	r->latest = index;
	r->have = true;
	report_send(r);
}

void
report_stop(struct report *r)
{
	if (r->bus == NULL || r->stopping)
		return;
	r->stopping = true;
	uv_timer_stop(&r->refresh);
	uv_close((uv_handle_t *)&r->refresh, NULL);
	dr_bus_client_stop(r->bus); /* an outstanding report ends here */
	r->bus = NULL;
	dr_buf_close(&r->buf);
}
