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

struct publish {
	struct dr_bus_pub *pub; /* owned */
	struct store *store;    /* borrowed: index and seq for heartbeats */
	uv_timer_t heartbeat;
	struct dr_buf buf;
	uint64_t run_id; /* in heartbeats: tells subscribers of a restart */
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
 * there were too many to list.
 */
void publish_change(struct publish *p, uint64_t index,
                    const struct store_result *res);
/* DR_MSG_RESET: state.db was replaced; subscribers must reopen it. */
void publish_reset(struct publish *p);

#endif
