/* The c-raft node: transport, storage, bootstrap, leadership tracking. */
#ifndef RAFTD_NODE_H
#define RAFTD_NODE_H

#include <raft.h>
#include <raft/uv.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "flags.h"
#include "fsm.h"
#include "propose.h"
#include "store.h"
#include "transport.h"

/*
 * Completion of an asynchronous node operation: status is a DR_ST_* reply
 * status, msg a one-line reason ("" on success) borrowed for the call.
 */
typedef void (*node_done_cb)(void *arg, int status, const char *msg);

struct node;
typedef void (*node_close_cb)(struct node *n);

/* Events for the rest of raftd (publishing); all optional. */
struct node_hooks {
	/* res as fsm_hooks.applied_cb gives it, borrowed for the call. */
	void (*applied_cb)(void *arg, uint64_t index,
	                   const struct store_result *res);
	void (*reset_cb)(void *arg);
	/* After each batch of applied_cb: the batch is complete. */
	void (*flushed_cb)(void *arg);
	/* A leader is known again, or a new one (this node included). */
	void (*leader_cb)(void *arg);
	void *arg;
};

/*
 * When this node last received a Raft message from a server (any RPC or
 * result): on the leader that is each follower's last answer, on a
 * follower the leader's last AppendEntries. At most NODE_CONTACTS
 * servers are kept (the oldest is forgotten first): peers name
 * themselves, so the table must not grow with what they claim.
 */
#define NODE_CONTACTS 32
struct node_contact {
	raft_id id;
	uint64_t at_ms; /* uv_now() of the last message */
};

struct node {
	uv_loop_t *loop;             /* borrowed */
	const struct dr_config *cfg; /* borrowed */
	struct store *store;         /* borrowed */
	struct node_hooks hooks;
	struct raft raft;
	struct raft_io io;
	struct transport transport; /* authenticated, bridged to c-raft */
	struct fsm fsm;
	struct propose propose;
	uint64_t id;                 /* dr_raft_id(cfg->id) */
	char raft_addr[DR_ADDR_LEN]; /* advertised addresses */
	char ctl_addr[DR_ADDR_LEN];
	char dns_addr[DR_ADDR_LEN];
	char dir[DR_PATH_LEN]; /* <data.dir>/raft */
	uv_check_t watch;      /* notices role, leader and config changes */
	uv_prepare_t flush;    /* commits applied entries before sleeping */
	struct node_contact contacts[NODE_CONTACTS];
	raft_io_recv_cb recv_cb; /* c-raft's, called after noting contact */
	int (*io_start)(struct raft_io *io, unsigned msecs,
	                raft_io_tick_cb tick, raft_io_recv_cb recv);
	int last_state;
	raft_id last_leader;
	raft_term last_term;
	raft_index last_conf_index;
	bool bootstrapped; /* this start created a new cluster */
	bool closing;
	node_close_cb close_cb;
};

/*
 * Sets up c-raft on <data.dir>/raft (transport, storage, state machine,
 * timeouts from cfg) without starting it. raft_tls (borrowed, outlives
 * the node; NULL without a cluster key) secures the raft connections. DR_EINVAL
 * / DR_EIO on failure, logged; the node is then unusable and needs no close.
 */
int node_init(struct node *n, uv_loop_t *loop, const struct dr_config *cfg,
              struct store *store, const struct node_hooks *hooks,
              struct dr_tls *raft_tls);

/*
 * Bootstraps a new single-voter cluster when <data.dir>/raft holds no
 * c-raft metadata and no -raft.join was given, then starts c-raft (which
 * restores the last snapshot and replays the log). Refuses (DR_EINVAL) to
 * start with an empty raft directory next to a state.db that already has
 * applied entries. On failure call node_close.
 */
int node_start(struct node *n);

/* Stops c-raft; pending operations fail; cb runs once all is closed. */
void node_close(struct node *n, node_close_cb cb);

bool node_is_leader(struct node *n);
/* True when this node is a voter in its current configuration. */
bool node_is_voter(struct node *n);

/*
 * For a request that needs the leader: writes "LEADER_ID CTL_ADDR" into
 * out and returns DR_ST_NOTLEADER, or returns DR_ST_NOLEADER (out "").
 * The ctl address comes from the members table; without a row, the
 * leader's Raft address with port + 200 and its numeric id.
 */
int node_leader_hint(struct node *n, char *out, size_t outlen);

/* Node id of the known leader ("none" if unknown) into out. */
void node_leader_name(struct node *n, char *out, size_t outlen);

/*
 * Milliseconds since the last Raft message from server id was received,
 * or -1 when none was since this raftd started.
 */
int64_t node_last_contact_ms(struct node *n, raft_id id);

/* "leader", "follower", "candidate" or "unavailable". */
const char *node_role_name(struct node *n);

/*
 * Appends a barrier; cb runs after every entry before it is applied
 * (DR_ST_OK) or when leadership is lost. DR_ENOTLEADER if not leader
 * (cb not called).
 */
int node_barrier(struct node *n, node_done_cb cb, void *arg);

#endif
