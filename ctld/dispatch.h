/* Running commands: raftd requests, forwarding to the leader, retries. */
#ifndef CTLD_DISPATCH_H
#define CTLD_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "commands.h"
#include "flags.h"
#include "wire.h"

/* Timeout of one request to raftd. */
#define DISPATCH_RAFTD_TIMEOUT_MS 10000
/*
 * The same for a line a peer forwarded: shorter, so that when this node's
 * raftd is gone the forwarding ctld still has time to find the new leader
 * before its own deadline.
 */
#define DISPATCH_FORWARDED_TIMEOUT_MS 3000
/* A write waits this long for a leader before "ERROR no leader". */
#define DISPATCH_LEADER_DEADLINE_MS 5000
/*
 * A local read waits at most this long for this node's raftd to apply the
 * writes this ctld has already acknowledged, polling every
 * DISPATCH_CATCHUP_POLL_MS (see struct dispatch).
 */
#define DISPATCH_CATCHUP_MS      1000
#define DISPATCH_CATCHUP_POLL_MS 5
#define DISPATCH_BACKOFF_MIN_MS  25
#define DISPATCH_BACKOFF_MAX_MS  400

struct dispatch_req;

/*
 * Read-your-writes through a follower: a write forwarded to the leader is
 * acknowledged when the leader has applied it, before this node's raftd
 * may have. acked_seq is the highest change counter (raftd's seq, the same
 * on every node) of a write this ctld acknowledged; a local "kv get" is
 * answered only from a state at least that recent (the reply header says
 * which), so a client never reads older data here than it wrote here.
 */
struct dispatch {
	uv_loop_t *loop;             /* borrowed */
	const struct dr_config *cfg; /* borrowed */
	struct dr_bus_client *bus;   /* owned */
	uint64_t acked_seq;
	struct dispatch_req *reqs; /* every request in flight */
	unsigned nreqs;
	bool stopping;
};

/*
 * Delivers the reply of a pending command: reply holds whole lines ending
 * in "\n" and is borrowed for the call. The request is freed after.
 */
typedef void (*dispatch_done_cb)(const char *reply, size_t len, void *arg);

#define DISPATCH_DONE    0
#define DISPATCH_PENDING 1

/* Starts the raftd client (dialed in the background). DR_EIO on error. */
int dispatch_init(struct dispatch *d, uv_loop_t *loop,
                  const struct dr_config *cfg);

/*
 * Ends every request (their callbacks run, with an ERROR reply) and stops
 * the raftd client. Handles close on the next loop turns.
 */
void dispatch_close(struct dispatch *d);

/*
 * Runs one line (content only). Returns DISPATCH_DONE when the reply is
 * already appended to out, with *act telling the connection what to do
 * next; or DISPATCH_PENDING when cb will deliver it later (never from
 * inside this call) and *reqp identifies the request for
 * dispatch_detach. The line is copied.
 */
int dispatch_line(struct dispatch *d, const char *line, size_t len,
                  struct dr_buf *out, enum commands_action *act,
                  dispatch_done_cb cb, void *arg, struct dispatch_req **reqp);

/*
 * The caller no longer wants the reply (its connection closed). The
 * request still runs to its end, so a write is not cut in half.
 */
void dispatch_detach(struct dispatch_req *r);

#endif
