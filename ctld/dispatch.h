/* Running commands: raftd requests, request ids, retries, outcomes. */
#ifndef CTLD_DISPATCH_H
#define CTLD_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "commands.h"
#include "flags.h"
#include "log.h"
#include "replace.h"
#include "tls.h"
#include "wire.h"

/*
 * Timeout of one request to raftd: above raftd's own deadline for a
 * request that must reach the leader (raftd/serve.h SERVE_ROUTE_MS), so
 * that raftd's answer (also "no leader", "outcome unknown") comes first.
 */
#define DISPATCH_RAFTD_TIMEOUT_MS 10000
/*
 * A write that raftd does not answer is sent again (same request id)
 * until this long after it came; then "ERROR timeout, outcome unknown".
 */
#define DISPATCH_WRITE_DEADLINE_MS 20000
/* Other requests: how long they are tried. */
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
/*
 * "zone replace" carries a whole zone (a million records are ~40 MB,
 * parsed, replicated and diffed on every node): its raftd requests wait
 * this long.
 */
#define DISPATCH_ZONE_TIMEOUT_MS 120000
/* dnsd answers its counters from memory: "stats" waits this long. */
#define DISPATCH_DNSD_TIMEOUT_MS 1000
/* "cluster status" adds dnsd's counters if they come within this. */
#define DISPATCH_STATUS_DNSD_MS 300
/*
 * "cluster status" waits this long for raftd, then answers with
 * "process.raftd down" and what dnsd said.
 */
#define DISPATCH_STATUS_RAFTD_MS 2000

/*
 * "ack all": after a write's SUCCESS, ctld asks its raftd to wait until
 * every voter has applied it and its dnsd serves it (DR_MSG_WAIT with the
 * index of the write's reply, bounded by -ctl.ack-timeout;
 * raftd/ackwait.h). raftd answers by the bound; this much more is allowed
 * for the answer before the reply says "SUCCESS applied unknown".
 */
#define DISPATCH_ACK_SLACK_MS 2000

/* At most one "line rejected" log line per this many ms. */
#define DISPATCH_REJECT_LOG_MS 1000

struct dispatch_req;

/*
 * Delivers the reply of a pending command: reply holds whole lines ending
 * in "\n" and is borrowed for the call; flags are DISPATCH_F_*. The
 * request is freed after, unless DISPATCH_F_MORE.
 */
typedef void (*dispatch_done_cb)(const char *reply, size_t len, unsigned flags,
                                 void *arg);

/* The connection must end after this reply (a failed auth). */
#define DISPATCH_F_CLOSE 1u
/* A good auth: the connection's next line counts as its first. */
#define DISPATCH_F_AUTH 2u
/*
 * One part of a long reply (zone dump): more follows once the caller,
 * having passed this part on, calls dispatch_more.
 */
#define DISPATCH_F_MORE 4u

/*
 * Runs "zone reload" (the zone loader, zoneload.h): must call cb exactly
 * once, later (never from inside this call), with the reply line.
 */
typedef void (*dispatch_reload_fn)(void *hook_arg, dispatch_done_cb cb,
                                   void *cb_arg);

/* Appends "ctld.KEY value" lines of its owner to a cluster status. */
typedef void (*dispatch_status_fn)(void *hook_arg, struct dr_buf *out);

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
	struct dr_bus_client *bus;   /* owned: raftd */
	struct dr_bus_client *dnsd;  /* owned: dnsd's counters */
	struct dr_tls *tls; /* borrowed: the "ctl" TLS context, or NULL */
	dispatch_reload_fn reload; /* NULL: "zone reload" unavailable */
	void *reload_arg;
	dispatch_status_fn status; /* NULL: none */
	void *status_arg;
	uint64_t acked_seq;
	/*
	 * Request ids of this ctld's writes (cmd.h): origin is the node's
	 * Raft id, run random at start, seq counts; writes in flight are
	 * listed oldest first (the floor every write carries).
	 */
	uint64_t origin, run, next_seq;
	struct dispatch_req *writes, *writes_tail;
	/*
	 * Lines refused (unknown command, bad arguments): each is counted,
	 * but logged at most once per DISPATCH_REJECT_LOG_MS, with how many
	 * went unlogged before it, so a client cannot flood the log.
	 */
	uint64_t rejected;
	struct dr_ratelog rejected_log;
	/* auth failures and permission refusals: counted, logged as above */
	uint64_t auth_failed;
	uint64_t denied;
	struct dr_ratelog denied_log;
	struct dispatch_req *reqs; /* every request in flight */
	unsigned nreqs;
	/*
	 * Bytes of zone replace records its requests hold: part of ctld's
	 * memory budget (server.h) also once their client has left.
	 */
	size_t held;
	bool stopping;
};

#define DISPATCH_DONE    0
#define DISPATCH_PENDING 1
#define DISPATCH_BODY    2 /* record lines follow: see dispatch_replace */
/*
 * The same, but the command is above the client's role: its record lines
 * are read and dropped (replace_deny) so the connection stays in step, and
 * the reply is "ERROR permission denied".
 */
#define DISPATCH_BODY_DENIED 3

/*
 * Starts the raftd and dnsd clients (dialed in the background). DR_EIO
 * on error.
 */
int dispatch_init(struct dispatch *d, uv_loop_t *loop,
                  const struct dr_config *cfg);

/* Sets who runs "zone reload". */
void dispatch_set_reload(struct dispatch *d, dispatch_reload_fn fn, void *arg);

/*
 * Sets who adds lines to "cluster status" (NULL: nobody), after
 * dispatch's own counters:
 *
 *   ctld.auth_failed N          "auth" with an unknown token
 *   ctld.permission_denied N    commands above their connection's role
 *   ctld.lines_rejected N       unknown commands, bad arguments
 */
void dispatch_set_status(struct dispatch *d, dispatch_status_fn fn, void *arg);

/*
 * Ends every request (their callbacks run, with an ERROR reply) and stops
 * the clients. Handles close on the next loop turns. The reload hook's
 * owner must have answered its calls before (zoneload_stop).
 */
void dispatch_close(struct dispatch *d);

/*
 * The caller's side of a command: who asks. role is the connection's
 * (commands.h); a good "auth TOKEN" raises it when its answer comes (the
 * connection must then still be attached). peer names it in logs.
 */
struct dispatch_client {
	enum commands_role role;
	const char *peer;      /* borrowed */
	enum commands_ack ack; /* "ack"; zero (DEFAULT): -ctl.ack */
};

/*
 * Runs one line (content only) for client cl. Returns DISPATCH_DONE when
 * the reply is already appended to out, with *act telling the connection
 * what to do next; or DISPATCH_PENDING when cb will deliver it later
 * (never from inside this call) and *reqp identifies the request for
 * dispatch_detach. The line is copied. DISPATCH_BODY: the line starts a
 * command followed by record lines; the caller collects them
 * (replace_new with this line) and then calls dispatch_replace.
 *
 * "ack all|leader" sets cl->ack (answered "OK"); a write by a client in
 * "ack all" mode (or, with the default, when -ctl.ack is all; zone
 * replace always follows -ctl.ack) answers "SUCCESS" only once every
 * voter has it, else at -ctl.ack-timeout "SUCCESS applied N/M (NAMES)",
 * NAMES the nodes that have it; "SUCCESS applied unknown (REASON)" when
 * raftd could not say.
 *
 * A command above cl's role is answered "ERROR permission denied" (or,
 * for a client without one, "ERROR auth required" with *act
 * COMMANDS_CLOSE); "auth" with a bad token "ERROR auth failed" and
 * COMMANDS_CLOSE. Both are logged at a bounded rate.
 */
int dispatch_line(struct dispatch *d, struct dispatch_client *cl,
                  const char *line, size_t len, struct dr_buf *out,
                  enum commands_action *act, dispatch_done_cb cb, void *arg,
                  struct dispatch_req **reqp);

/*
 * Runs a "zone replace" whose lines are all in r (replace_finish is called
 * here; r is owned by dispatch from now on, in every case) for client cl
 * (NULL: the zone loader; its "ack" setting applies). Returns and replies
 * as dispatch_line; like every write it is encoded once here and raftd
 * relays it to the leader.
 */
int dispatch_replace(struct dispatch *d, struct dispatch_client *cl,
                     struct replace *r, struct dr_buf *out, dispatch_done_cb cb,
                     void *arg, struct dispatch_req **reqp);

/*
 * Session pipelining (server.c): which commands of one connection may be
 * in flight together. Writes without a body (kv set, kv del, rr add,
 * rr del) may run beside other such writes, reads (kv ping, kv get,
 * rr get) beside reads; everything else (and a line that does not parse
 * or is above cl's role) runs alone, after what came before it is
 * answered. Replies always come back in the order of the lines.
 */
enum dispatch_pipe {
	DISPATCH_PIPE_SERIAL,
	DISPATCH_PIPE_WRITE,
	DISPATCH_PIPE_READ,
};

enum dispatch_pipe dispatch_pipe_class(const struct dispatch_client *cl,
                                       const char *line, size_t len);

/*
 * The caller no longer wants the reply (its connection closed). The
 * request still runs to its end, so a write is not cut in half.
 */
void dispatch_detach(struct dispatch_req *r);

/* After a DISPATCH_F_MORE part: fetch and deliver the next one. */
void dispatch_more(struct dispatch_req *r);

#endif
