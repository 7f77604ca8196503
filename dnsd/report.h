/* Tells this node's raftd which Raft index dnsd serves (ack all waits). */
#ifndef DNSD_REPORT_H
#define DNSD_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "bus.h"
#include "wire.h"

/*
 * raftd acknowledges an "ack all" write once every voter's dnsd serves it
 * (raftd/ackwait.h), so dnsd reports its served index (DR_MSG_SERVED,
 * wire.h) over raftd's req/rep socket: at once when it advances, with at
 * most one report outstanding (the latest value goes next; raftd holds
 * its reply while nothing waits for a served index), and every
 * REPORT_REFRESH_MS anyway, so that raftd notices a dnsd that is gone
 * (it stops counting one silent for raftd's ACKWAIT_SERVED_STALE_MS).
 */
#define REPORT_REFRESH_MS 1000
#define REPORT_TIMEOUT_MS 1000

struct report {
	struct dr_bus_client *bus; /* owned; NULL when not started */
	uv_timer_t refresh;
	struct dr_buf buf;
	uint64_t latest; /* served index to report */
	uint64_t sent;   /* of the outstanding report */
	bool have;       /* latest is set */
	bool outstanding;
	bool stopping;
};

/* Dials url (raftd's socket) in the background. DR_EIO on failure. */
int report_start(struct report *r, uv_loop_t *loop, const char *url);
/* dnsd serves index now: reported soon (feed_served_cb). */
void report_served(struct report *r, uint64_t index);
/* Stops the timer (closed on the next loop turn) and the client. */
void report_stop(struct report *r);

#endif
