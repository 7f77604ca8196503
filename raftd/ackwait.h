/* Acknowledgement waits: until every voter has applied and serves a write. */
#ifndef RAFTD_ACKWAIT_H
#define RAFTD_ACKWAIT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "wire.h"

/*
 * "ack all" (ctld): a write is acknowledged once every voter has applied
 * it and its dnsd serves it, or once a bound has passed; the reply then
 * says which nodes have it. ctld asks its raftd (DR_MSG_WAIT, wire.h)
 * with the index in the write's reply. This raftd asks every other voter
 * over the relay (a WAIT with DR_WF_LOCAL: "tell me when you have index
 * I, or after T ms", relay.h, so authenticated and encrypted with the
 * cluster key like every peer connection) and checks itself.
 *
 * A node has index I when its state.db applied it and its dnsd reported
 * (DR_MSG_SERVED) a served copy at I or later within the last
 * ACKWAIT_SERVED_STALE_MS. dnsd reports whenever its copy advances (the
 * reply to its last report holds it back while nothing waits here, at
 * most SERVE_PARK_MS: serve.c) and at least every second; without a
 * fresh report (dnsd down or stuck) the node does not count. The served
 * index only moves on a report, so local waits are checked on reports
 * (and at their deadline), never polled.
 *
 * A follower learns that an entry is committed only from the leader's
 * next AppendEntries: with nothing else to send, a heartbeat up to two
 * heartbeat intervals later (c-raft sends one when its tick finds the
 * interval passed since the last message). So the leader, when asked to
 * wait, appends a barrier at once (ackwait_nudge): its AppendEntries
 * carries the commit index now. At most one barrier is in flight, and
 * one more is asked for the waits that came meanwhile.
 *
 * Nothing waits forever: every wait has a deadline (at most
 * DR_WAIT_BOUND_MAX_MS), and their number is capped (DR_EBUSY beyond).
 * A peer that is down, paused or cut off costs the bound, no more.
 */
#define ACKWAIT_SERVED_STALE_MS 3000
/*
 * Fan-outs from ctld at once: each holds one of serve's bus contexts
 * (serve.h SERVE_CONTEXTS), so leave most of them to other requests.
 */
#define ACKWAIT_OPS_MAX 128
/* Single-node waits (peers' and our own fan-outs' parts) at once. */
#define ACKWAIT_LOCAL_MAX 4096
/* How often deadlines are checked while anything waits. */
#define ACKWAIT_TICK_MS 10

struct node;
struct relay;
struct ackwait_local;
struct ackwait_op;

/* have: this node has the index (false: the deadline passed first). */
typedef void (*ackwait_local_cb)(void *arg, bool have);

/*
 * The outcome of a fan-out: have of voters have the index; names lists
 * them, space-separated (borrowed for the call).
 */
typedef void (*ackwait_all_cb)(void *arg, unsigned have, unsigned voters,
                               const char *names);

struct ackwait {
	uv_loop_t *loop;     /* borrowed */
	struct node *node;   /* borrowed: configuration, store, self id */
	struct relay *relay; /* borrowed: to the peers */
	uint64_t served;     /* latest index our dnsd reported */
	uint64_t served_at;  /* uv_now() of that report; 0: none yet */
	struct ackwait_local *locals; /* pending, unordered */
	unsigned nlocals;
	struct ackwait_op *ops; /* fan-outs not yet answered */
	unsigned nops;
	uv_timer_t tick;
	bool ticking;
	bool nudging;     /* a barrier is in flight */
	bool nudge_again; /* waits came meanwhile: one more after it */
	bool draining;    /* answered everything, takes nothing new */
	bool started;
	void (*want_cb)(void *arg); /* see ackwait_on_want */
	void *want_arg;
};

void ackwait_init(struct ackwait *a, uv_loop_t *loop, struct node *node,
                  struct relay *relay);

/* dnsd serves index (DR_MSG_SERVED): answers the waits it completes. */
void ackwait_served(struct ackwait *a, uint64_t index);
/* Whether a wait is pending here (a newer served report is wanted). */
bool ackwait_waiting(const struct ackwait *a);
/*
 * cb runs whenever a wait starts that this node does not satisfy yet:
 * serve.c then lets dnsd report at once (it holds dnsd's report while
 * nothing waits).
 */
void ackwait_on_want(struct ackwait *a, void (*cb)(void *arg), void *arg);

/* Whether this node has index (applied, and a fresh served report). */
bool ackwait_have(struct ackwait *a, uint64_t index);

/*
 * Waits until this node has index or bound_ms passed; cb runs exactly
 * once, possibly from inside this call (when it has index already).
 * DR_EBUSY past ACKWAIT_LOCAL_MAX, DR_ECLOSED while draining (cb not
 * called).
 */
int ackwait_local(struct ackwait *a, uint64_t index, unsigned bound_ms,
                  ackwait_local_cb cb, void *arg);

/*
 * Waits until every voter of the current configuration has index, or
 * bound_ms passed; cb runs exactly once, possibly from inside this call.
 * DR_EBUSY past ACKWAIT_OPS_MAX, DR_ECLOSED while draining (cb not
 * called).
 */
int ackwait_all(struct ackwait *a, uint64_t index, unsigned bound_ms,
                ackwait_all_cb cb, void *arg);

/*
 * On the leader: makes the followers learn the commit index now (a
 * barrier, see above). Does nothing elsewhere.
 */
void ackwait_nudge(struct ackwait *a);

/*
 * Answers every wait now with what is known (raftd stops) and refuses
 * new ones. Requests still out to peers end when the relay closes.
 */
void ackwait_drain(struct ackwait *a);

/* Closes the timer; after ackwait_drain. */
void ackwait_close(struct ackwait *a);

#endif
