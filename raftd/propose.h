/* Batched proposals: commands queued per loop iteration, one raft_apply. */
#ifndef RAFTD_PROPOSE_H
#define RAFTD_PROPOSE_H

#include <raft.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/*
 * status is DR_ST_OK once the entry was committed and applied (msg ""),
 * DR_ST_ERROR with the state machine's one-line reason when it refused
 * it, or DR_ST_NOTLEADER (leadership lost, entry lost, shutting down):
 * then the outcome is unknown (the next leader may still commit it), and
 * the request (with its request id) must be sent again to the leader.
 */
typedef void (*propose_cb)(void *arg, int status, const char *msg);

struct propose_item;

/*
 * Batches proposed but not yet applied. While that many are in flight new
 * commands wait and join one bigger batch: fewer AppendEntries messages
 * and disk writes per command under load, no added delay when idle.
 */
#ifndef PROPOSE_MAX_INFLIGHT
#define PROPOSE_MAX_INFLIGHT 2
#endif

struct propose {
	struct raft *raft; /* borrowed */
	uv_check_t check;  /* flushes the queue after each poll */
	struct propose_item *queued, *queued_tail;   /* not yet proposed */
	struct propose_item *pending, *pending_tail; /* by index, ascending */
	unsigned nqueued;
	uint64_t batch_last[PROPOSE_MAX_INFLIGHT]; /* last index of each */
	unsigned nbatches;
	bool closed;
};

int propose_init(struct propose *p, uv_loop_t *loop, struct raft *raft);
/* Fails everything queued or pending ("shutting down"), closes handles. */
void propose_close(struct propose *p);

/*
 * Queues an encoded command (copied; len must be a multiple of 8). All
 * commands queued during one loop iteration go to c-raft in one
 * raft_apply. Returns DR_ENOTLEADER if this node is not the leader, or
 * DR_ECLOSED after close; otherwise cb runs exactly once, later.
 */
int propose_submit(struct propose *p, const void *cmd, size_t len,
                   propose_cb cb, void *arg);

/*
 * Called once entry index was applied (or rejected) and committed.
 * rejected is the state machine's reason when it refused the entry, NULL
 * when applied; the proposer gets it as its ERROR message. leader_term is
 * the term this node led in when the entry was applied (0 if it did not
 * lead): the entry is ours only if we proposed it in that term, since a
 * leader never overwrites its own log.
 */
void propose_applied(struct propose *p, uint64_t index, const char *rejected,
                     uint64_t leader_term);

/*
 * Proposes queued commands if fewer than PROPOSE_MAX_INFLIGHT batches are
 * in flight. Runs after every poll; call it too after entries were applied
 * so that waiting commands go out without waiting for the next wake-up.
 */
void propose_flush(struct propose *p);

/* Fails every queued and pending proposal with msg. */
void propose_fail_all(struct propose *p, const char *msg);

#endif
