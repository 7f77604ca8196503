/* The joiner: asks a member's ctld to add this node until it succeeds. */
#ifndef RAFTD_JOIN_H
#define RAFTD_JOIN_H

#include <stdbool.h>
#include <uv.h>

#include "flags.h"
#include "lineclient.h"
#include "node.h"

#define JOIN_BACKOFF_MIN_MS 200
#define JOIN_BACKOFF_MAX_MS 3000
/* One attempt may wait for a snapshot to reach this node: be patient. */
#define JOIN_ATTEMPT_MS 60000
#define JOIN_REPLY_MAX  512

#define JOIN_CONNECT_MS 2000

enum join_state {
	JOIN_IDLE,    /* waiting for the backoff timer */
	JOIN_TALKING, /* the request is out, waiting for the reply line */
	JOIN_DONE,
};

struct join {
	uv_loop_t *loop;          /* borrowed */
	struct node *node;        /* borrowed */
	struct dr_tls *tls;       /* borrowed: "ctl" TLS, NULL: the clear */
	char target[DR_ADDR_LEN]; /* connectable form of -raft.join */
	char line[4 * DR_ADDR_LEN + 32];
	uv_timer_t timer;         /* the backoff */
	struct dr_lineclient *lc; /* in JOIN_TALKING */
	unsigned backoff_ms;
	unsigned attempts;
	enum join_state state;
	bool started, stopping;
};

/*
 * With -raft.join, and while this node is not a voter in its current
 * configuration, sends "cluster join ID RAFT_ADDR CTL_ADDR DNS_ADDR" to
 * the join address until a reply line says SUCCESS, with a backoff from
 * 200 ms doubling up to 3 s, over TLS with tls (borrowed; the "ctl"
 * context) when given. Does nothing without -raft.join. DR_EINVAL for a
 * bad join address.
 */
int join_start(struct join *j, uv_loop_t *loop, const struct dr_config *cfg,
               struct node *node, struct dr_tls *tls);
void join_stop(struct join *j);

#endif
