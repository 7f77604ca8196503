/* The joiner: asks a member's ctld to add this node until it succeeds. */
#ifndef RAFTD_JOIN_H
#define RAFTD_JOIN_H

#include <stdbool.h>
#include <uv.h>

#include "flags.h"
#include "node.h"

#define JOIN_BACKOFF_MIN_MS 200
#define JOIN_BACKOFF_MAX_MS 3000
/* One attempt may wait for a snapshot to reach this node: be patient. */
#define JOIN_ATTEMPT_MS 60000
#define JOIN_REPLY_MAX  512

enum join_state {
	JOIN_IDLE,      /* waiting for the backoff timer */
	JOIN_RESOLVING, /* getaddrinfo in flight */
	JOIN_TALKING,   /* connecting, sending, waiting for the reply line */
	JOIN_CLOSING,   /* tcp handle closing */
	JOIN_DONE,
};

struct join {
	uv_loop_t *loop;          /* borrowed */
	struct node *node;        /* borrowed */
	char target[DR_ADDR_LEN]; /* connectable form of -raft.join */
	struct dr_addr addr;
	char line[4 * DR_ADDR_LEN + 32];
	uv_timer_t timer; /* backoff when idle, deadline while talking */
	uv_getaddrinfo_t gai;
	uv_tcp_t tcp;
	uv_connect_t connect;
	uv_write_t write;
	char reply[JOIN_REPLY_MAX];
	size_t reply_len;
	unsigned backoff_ms;
	unsigned attempts;
	enum join_state state;
	bool succeeded; /* the attempt being closed got SUCCESS */
	bool started, stopping;
};

/*
 * With -raft.join, and while this node is not a voter in its current
 * configuration, sends "cluster join ID RAFT_ADDR CTL_ADDR DNS_ADDR" to
 * the join address until a reply line says SUCCESS, with a backoff from
 * 200 ms doubling up to 3 s. Does nothing without -raft.join. DR_EINVAL
 * for a bad join address.
 */
int join_start(struct join *j, uv_loop_t *loop, const struct dr_config *cfg,
               struct node *node);
void join_stop(struct join *j);

#endif
