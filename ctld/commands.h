/* The control commands: one table, argument parsing, raftd requests, replies.
 */
#ifndef CTLD_COMMANDS_H
#define CTLD_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd.h"
#include "wire.h"

/*
 * Everything here is pure (no I/O), so the unit tests drive it directly;
 * dispatch.c sends what commands_build prepares and formats raftd's answer
 * with commands_format.
 *
 * A line is words separated by spaces or tabs; command words match without
 * regard to case, arguments are taken as they are. The value of
 * "kv set KEY VALUE" is everything after the one space or tab following
 * KEY (it may hold spaces). A write is encoded here, once, as the Raft
 * command that raftd proposes (or relays to the leader's raftd) as it is.
 *
 * Records (rr.h has the canonical form):
 *
 *   rr add ZONE RR        RR in master-file syntax, names relative to ZONE
 *   rr del ZONE RR        ("www 300 A 1.2.3.4", "@ MX 10 mx", absolute
 *                         names too); no TTL = DR_RR_DEFAULT_TTL
 *   rr get NAME [TYPE]    the records at NAME (of TYPE), one canonical
 *                         line each, then "."
 *   zone list             "zone serial records" per zone, then "."
 *   zone dump ZONE        master file (SOA first, absolute names), then "."
 *   zone del ZONE         removes the zone and its records
 *   zone reload           re-reads this node's -zone.file files (SIGHUP)
 *   zone replace ZONE [SOURCE]
 *                         followed by the zone's records, one per line, and
 *                         a line "." (see body.h); SOURCE names them in logs
 *   stats                 dnsd's counters, "key value" lines, then "."
 *
 * Operators and members:
 *
 *   auth TOKEN            gives the connection the token's role
 *   token add NAME ROLE   a new token; the reply is the token, once (only
 *                         its hash goes into the command)
 *   token list            "NAME ROLE" per token, then "."
 *   token del NAME
 *   cluster update ID RAFT CTL DNS
 *                         changes a member's recorded addresses
 *
 * Per connection (a "session"'s later lines):
 *
 *   ack all|leader        when a write answers SUCCESS: "leader" (the
 *                         leader applied it) or "all" (every reachable
 *                         voter applied it and its dnsd serves it; a
 *                         voter that does not within -ctl.ack-timeout
 *                         makes it "SUCCESS applied N/M (NAMES...)",
 *                         raftd/ackwait.h); the default is -ctl.ack
 */

enum commands_id {
	COMMANDS_SESSION,
	COMMANDS_QUIT,
	COMMANDS_KV_PING,
	COMMANDS_KV_SET,
	COMMANDS_KV_GET,
	COMMANDS_KV_DEL,
	COMMANDS_CLUSTER_STATUS,
	COMMANDS_CLUSTER_MEMBERS,
	COMMANDS_CLUSTER_JOIN,
	COMMANDS_CLUSTER_REMOVE,
	COMMANDS_CLUSTER_TRANSFER,
	COMMANDS_RR_ADD,
	COMMANDS_RR_DEL,
	COMMANDS_RR_GET,
	COMMANDS_ZONE_LIST,
	COMMANDS_ZONE_DUMP,
	COMMANDS_ZONE_DEL,
	COMMANDS_ZONE_RELOAD,
	COMMANDS_ZONE_REPLACE,
	COMMANDS_STATS,
	COMMANDS_AUTH,
	COMMANDS_TOKEN_ADD,
	COMMANDS_TOKEN_LIST,
	COMMANDS_TOKEN_DEL,
	COMMANDS_CLUSTER_UPDATE,
	COMMANDS_ACK,
};

/*
 * A connection's acknowledgement mode ("ack"); DEFAULT (zero) follows
 * -ctl.ack.
 */
enum commands_ack {
	COMMANDS_ACK_DEFAULT,
	COMMANDS_ACK_LEADER,
	COMMANDS_ACK_ALL,
};

/* Parses "all" or "leader" (any case). 0 or DR_EINVAL. */
int commands_ack_parse(struct dr_str s, enum commands_ack *a);

/*
 * Who may run a command. A connection starts with a role (server.c):
 * loopback clients admin (with -ctl.trust-loopback; peer too without a
 * cluster key), a node that proved the cluster key (a joining node) peer,
 * everyone else none until "auth TOKEN" gives the token's role. Each role
 * may do what the ones before it may:
 *
 *   none    quit, auth
 *   read    session, ack, kv ping, kv get, rr get, zone list, zone dump,
 *           cluster status, cluster members, stats
 *   write   kv set, kv del, rr add, rr del, zone del, zone replace,
 *           zone reload
 *   admin   cluster join, update, remove, transfer; token add, list, del
 *   peer    the same as admin
 */
enum commands_role {
	COMMANDS_ROLE_NONE,
	COMMANDS_ROLE_READ,
	COMMANDS_ROLE_WRITE,
	COMMANDS_ROLE_ADMIN,
	COMMANDS_ROLE_PEER,
};

/* "none", "read", "write", "admin" or "peer". */
const char *commands_role_name(enum commands_role r);
/* Parses "read", "write" or "admin". 0 or DR_EINVAL. */
int commands_role_parse(struct dr_str s, enum commands_role *r);

#define COMMANDS_MAX_ARGS 4
/* Operator tokens: "drt_" and 64 hex digits; hashes: 64 hex digits. */
#define COMMANDS_TOKEN_LEN 68
#define COMMANDS_HASH_LEN  64

/* Which process a request built by commands_build goes to. */
enum commands_target {
	COMMANDS_TO_RAFTD,
	COMMANDS_TO_DNSD,
};

struct command; /* an entry of the table */

struct commands_parsed {
	const struct command *cmd;
	enum commands_id id;

	bool consistent; /* kv get KEY consistent */
	bool write;      /* one Raft command: set id before building */
	bool local_read; /* from this node's state (read your writes) */
	bool has_body;   /* record lines and "." follow the line (body.h) */
	enum commands_target target;
	enum commands_role role; /* needed to run it */
	unsigned nargs;
	struct dr_str args[COMMANDS_MAX_ARGS]; /* borrowed from the line */
	/*
	 * Writes: the request id its Raft command carries (cmd.h), set by
	 * the caller before commands_build (dispatch.c assigns them).
	 */
	struct dr_reqid reqid;
	/* token add: the hash of the token the caller made (borrowed) */
	const char *token_hash;
	/*
	 * has_body: the canonical records that followed the line, each
	 * ending in "\n", already checked (body.h); set by the caller before
	 * commands_build (borrowed).
	 */
	struct dr_str records;
};

/* What the connection does after a reply. */
enum commands_action {
	COMMANDS_CONTINUE,
	COMMANDS_START_SESSION,
	COMMANDS_CLOSE,
};

/* Results of commands_build. */
#define COMMANDS_DONE   0 /* the reply is in out */
#define COMMANDS_SEND   1 /* msg holds a request for p->target */
#define COMMANDS_RELOAD 2 /* zone reload: the caller runs the zone loader */

/*
 * Parses one line (content only, no terminator). Returns 0, or DR_EINVAL
 * with *err pointing at a static reply line without "\n" ("ERROR unknown
 * command", "ERROR usage: kv set KEY VALUE", ...).
 */
int commands_parse(const char *line, size_t len, struct commands_parsed *p,
                   const char **err);

/*
 * Runs the table entry of a parsed command. Local commands append their
 * reply to out and return COMMANDS_DONE with *act set; the others write a
 * whole IPC request into msg (reset first) and return COMMANDS_SEND, or
 * COMMANDS_RELOAD for "zone reload". Bad arguments found here (an invalid
 * address, zone name or record...) give COMMANDS_DONE with an ERROR reply
 * and nothing to send.
 */
int commands_build(const struct commands_parsed *p, struct dr_buf *msg,
                   struct dr_buf *out, enum commands_action *act);

/*
 * Appends the reply for raftd's answer (status and payload of a
 * DR_MSG_REPLY) to out. Handles OK, NOTFOUND, ERROR, BUSY and unknown
 * statuses; NOTLEADER and NOLEADER are the caller's (they become
 * "ERROR not leader" / "ERROR no leader" here).
 *
 * Framing is never broken by what raftd sends: a kv value holding a byte
 * that cannot appear in a line (control bytes but "\t", so also "\n") is
 * refused with "ERROR value not printable"; in error reasons and multi-line
 * text such bytes become '?', and a text line that is exactly "." is sent
 * as ".." so it cannot end the reply early.
 */
void commands_format(const struct commands_parsed *p, int status,
                     const uint8_t *payload, size_t len, struct dr_buf *out);

/* Appends "ERROR <reason>\n", reason sanitized to one printable line. */
void commands_put_error(struct dr_buf *out, const char *reason, size_t len);

/* Appends s and "\n". */
void commands_put_line(struct dr_buf *out, const char *s);

/*
 * Appends text (lines ending in "\n", the last one may lack it) as a
 * multi-line reply: bytes that cannot be in a line become '?', a line "."
 * becomes "..", empty lines are dropped, and "." ends it.
 */
void commands_put_text(struct dr_buf *out, const uint8_t *text, size_t len);
/* The same without the final ".": a part of a longer reply. */
void commands_put_lines(struct dr_buf *out, const uint8_t *text, size_t len);

/* Bytes of master file a zone dump asks raftd for at once. */
#define COMMANDS_DUMP_CHUNK (128 * 1024)
/*
 * The request (into msg, reset first) for the chunk of at most chunk bytes
 * at cursor of the "zone dump" p (raftd/dumps.h); chunk 0 asks raftd to
 * end that dump instead (wire.h). DR_EINVAL for a bad zone name.
 */
int commands_dump_msg(const struct commands_parsed *p, uint64_t cursor,
                      uint32_t chunk, struct dr_buf *msg);

/*
 * Reads the value of the "key value" line named key in text as a number.
 * Returns 0, or DR_ENOTFOUND when no such line holds a number.
 */
int commands_text_u64(const uint8_t *text, size_t len, const char *key,
                      uint64_t *v);

/*
 * Appends the process lines of "cluster status", from raftd's status text
 * and dnsd's counters (NULL: that process did not answer):
 *
 *   process.raftd up applied_index N     (or "process.raftd down")
 *   process.dnsd up applied_index N lag K (or "process.dnsd down")
 *   process.ctld up
 *
 * lag is how many changes dnsd's copy is behind raftd's state (change
 * counters), left out when raftd did not answer; a key missing from a
 * reply leaves its word pair out.
 */
void commands_status_processes(const uint8_t *raftd, size_t rlen,
                               const uint8_t *dnsd, size_t dlen,
                               struct dr_buf *out);

/* Size of a canonical domain name buffer, NUL included. */
#define COMMANDS_NAME_LEN 256

/*
 * Writes the canonical form of the domain name s (lowercase, trailing
 * dot) into out (COMMANDS_NAME_LEN bytes). Returns 0 or DR_EINVAL.
 */
int commands_name_arg(struct dr_str s, char *out);

/*
 * A new random token (COMMANDS_TOKEN_LEN + 1 bytes) and its hash
 * (COMMANDS_HASH_LEN + 1 bytes, see commands_token_hash).
 */
void commands_token_new(char *token, char *hash);
/* The stored form of a token: SHA-256 of its text, lowercase hex. */
void commands_token_hash(const char *token, size_t len, char *hash);

/* Name of the command for logs ("kv set"). */
const char *commands_name(const struct commands_parsed *p);

#endif
