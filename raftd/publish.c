/* The pub socket: each applied change, resets and a heartbeat for dnsd. */
#include "publish.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

/* Builds a whole message in p->buf. */
static void
publish_build(struct publish *p, uint8_t type, uint16_t flags, uint64_t index,
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
}

static void
publish_out(struct publish *p, const struct dr_buf *b, uint8_t type)
{
	/* Never blocks; a subscriber that misses one sees a seq gap. */
	if (dr_bus_publish(p->pub, b->data, b->len) != 0)
		log_debug("publish, message type %u dropped", type);
}

void
publish_flush(struct publish *p)
{
	if (!p->started || p->batched == 0)
		return;
	if (p->batched == 1) {
		publish_out(p, &p->batch, DR_MSG_CHANGE);
	} else {
		publish_build(p, DR_MSG_CHANGES, 0, p->index, p->seq,
		              p->batch.data, p->batch.len);
		publish_out(p, &p->buf, DR_MSG_CHANGES);
	}
	dr_buf_reset(&p->batch);
	p->batched = 0;
}

/* Any message but a change: what is batched goes first. */
static void
publish_send(struct publish *p, uint8_t type, uint64_t index, uint64_t seq,
             const void *payload, size_t len)
{
	publish_flush(p);
	publish_build(p, type, 0, index, seq, payload, len);
	publish_out(p, &p->buf, type);
}

static void
publish_heartbeat_cb(uv_timer_t *t)
{
	struct publish *p = t->data;
	uint8_t id[8];

	for (int i = 0; i < 8; i++)
		id[i] = (uint8_t)(p->run_id >> (56 - 8 * i));
	publish_send(p, DR_MSG_HEARTBEAT, store_applied_index(p->store),
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
	dr_buf_init(&p->batch);
	if (dr_bus_pub_open(&p->pub, url) != 0) {
		dr_buf_close(&p->buf);
		dr_buf_close(&p->batch);
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
	publish_flush(p);
	p->started = false;
	uv_timer_stop(&p->heartbeat);
	uv_close((uv_handle_t *)&p->heartbeat, NULL);
	dr_bus_pub_close(p->pub);
	p->pub = NULL;
	dr_buf_close(&p->buf);
	dr_buf_close(&p->batch);
}

void
publish_change(struct publish *p, uint64_t index,
               const struct store_result *res)
{
	if (!p->started)
		return;
	if (res->reload)
		publish_build(p, DR_MSG_CHANGE, DR_WF_RELOAD, index, res->seq,
		              NULL, 0);
	else
		publish_build(p, DR_MSG_CHANGE, 0, index, res->seq,
		              res->effects, res->effects_len);
	dr_buf_put(&p->batch, p->buf.data, p->buf.len);
	p->batched++;
	p->index = index;
	p->seq = res->seq;
	if (p->batched >= PUBLISH_BATCH_MAX ||
	    p->batch.len >= PUBLISH_BATCH_BYTES)
		publish_flush(p);
}

void
publish_reset(struct publish *p)
{
	if (p->started)
		publish_send(p, DR_MSG_RESET, store_applied_index(p->store),
		             store_change_seq(p->store), NULL, 0);
}
