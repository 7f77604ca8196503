/* The pub socket: each applied change, resets and a heartbeat for dnsd. */
#ifndef RAFTD_PUBLISH_H
#define RAFTD_PUBLISH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "bus.h"
#include "store.h"
#include "wire.h"

#define PUBLISH_HEARTBEAT_MS 1000
/* A batch goes out at the end of the loop turn, or once this big. */
#define PUBLISH_BATCH_MAX   1024
#define PUBLISH_BATCH_BYTES ((size_t)1 << 20)

struct publish {
	struct dr_bus_pub *pub; /* owned */
	struct store *store;    /* borrowed: index and seq for heartbeats */
	uv_timer_t heartbeat;
	struct dr_buf buf;
	struct dr_buf batch; /* CHANGE messages not sent yet */
	unsigned batched;    /* how many */
	uint64_t index, seq; /* of the last one batched */
	uint64_t run_id;     /* in heartbeats: tells subscribers of a restart */
	bool started;
};

/* Binds url and starts the 1 s heartbeat. DR_EIO on failure (logged). */
int publish_start(struct publish *p, uv_loop_t *loop, const char *url,
                  struct store *store);
/* Stops the heartbeat (handle closed asynchronously) and the socket. */
void publish_stop(struct publish *p);

/*
 * DR_MSG_CHANGE for an applied or rejected entry: hdr.index = Raft index,
 * hdr.seq = change counter after it, payload = its effects (empty for KV,
 * members and rejected entries), or DR_WF_RELOAD and no payload when
 * there were too many to list. Batched: sent by publish_flush (alone, or
 * with the others of the batch in one DR_MSG_CHANGES), or before any
 * other message.
 */
void publish_change(struct publish *p, uint64_t index,
                    const struct store_result *res);
/* Sends the batch: after each batch of applied entries (node.h). */
void publish_flush(struct publish *p);
/* DR_MSG_RESET: state.db was replaced; subscribers must reopen it. */
void publish_reset(struct publish *p);

#endif
