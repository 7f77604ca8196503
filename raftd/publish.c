/* The pub socket: each applied change, resets and a heartbeat for dnsd. */
#include "publish.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

static void
publish_send(struct publish *p, uint8_t type, uint16_t flags, uint64_t index,
             uint64_t seq, const void *payload, size_t len)
{
	struct dr_msg_hdr h;

	memset(&h, 0, sizeof(h));
	h.type = type;
	h.flags = flags;
	h.index = index;
	h.seq = seq;
	dr_wire_begin(&p->buf, &h);
	if (len > 0)
		dr_buf_put(&p->buf, payload, len);
	dr_wire_end(&p->buf);
	/* Never blocks; a subscriber that misses one sees a seq gap. */
	if (dr_bus_publish(p->pub, p->buf.data, p->buf.len) != 0)
		log_debug("publish, message type %u dropped", type);
}

static void
publish_heartbeat_cb(uv_timer_t *t)
{
	struct publish *p = t->data;
	uint8_t id[8];

	for (int i = 0; i < 8; i++)
		id[i] = (uint8_t)(p->run_id >> (56 - 8 * i));
	publish_send(p, DR_MSG_HEARTBEAT, 0, store_applied_index(p->store),
	             store_change_seq(p->store), id, sizeof(id));
}

int
publish_start(struct publish *p, uv_loop_t *loop, const char *url,
              struct store *store)
{
	memset(p, 0, sizeof(*p));
	p->store = store;
	/* Differs between two runs of raftd, even within one clock tick. */
	p->run_id =
	    uv_hrtime() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
	dr_buf_init(&p->buf);
	if (dr_bus_pub_open(&p->pub, url) != 0) {
		dr_buf_close(&p->buf);
		return DR_EIO;
	}
	if (uv_timer_init(loop, &p->heartbeat) != 0)
		fatalx("publish, cannot create the heartbeat timer");
	p->heartbeat.data = p;
	uv_timer_start(&p->heartbeat, publish_heartbeat_cb,
	               PUBLISH_HEARTBEAT_MS, PUBLISH_HEARTBEAT_MS);
	p->started = true;
	return 0;
}

void
publish_stop(struct publish *p)
{
	if (!p->started)
		return;
	p->started = false;
	uv_timer_stop(&p->heartbeat);
	uv_close((uv_handle_t *)&p->heartbeat, NULL);
	dr_bus_pub_close(p->pub);
	p->pub = NULL;
	dr_buf_close(&p->buf);
}

void
publish_change(struct publish *p, uint64_t index,
               const struct store_result *res)
{
	if (!p->started)
		return;
	if (res->reload)
		publish_send(p, DR_MSG_CHANGE, DR_WF_RELOAD, index, res->seq,
		             NULL, 0);
	else
		publish_send(p, DR_MSG_CHANGE, 0, index, res->seq, res->effects,
		             res->effects_len);
}

void
publish_reset(struct publish *p)
{
	if (p->started)
		publish_send(p, DR_MSG_RESET, 0, store_applied_index(p->store),
		             store_change_seq(p->store), NULL, 0);
}
