/* The control commands: one table, argument parsing, raftd requests, replies.
 */
#ifndef CTLD_COMMANDS_H
#define CTLD_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/*
 * Everything here is pure (no I/O), so the unit tests drive it directly;
 * dispatch.c sends what commands_build prepares and formats raftd's answer
 * with commands_format.
 *
 * A line is words separated by spaces or tabs; command words match without
 * regard to case, arguments are taken as they are. The value of
 * "kv set KEY VALUE" is everything after the one space or tab following
 * KEY (it may hold spaces). "forwarded " in front of any command but
 * session and quit marks a line sent by a peer ctld: it runs here and is
 * never forwarded again.
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
};

#define COMMANDS_MAX_ARGS 4

struct command; /* an entry of the table */

struct commands_parsed {
	const struct command *cmd;
	enum commands_id id;
	bool forwarded;   /* the line came from a peer as "forwarded ..." */
	bool consistent;  /* kv get KEY consistent */
	bool forwardable; /* a write: sent to the leader on NOTLEADER */
	unsigned nargs;
	struct dr_str args[COMMANDS_MAX_ARGS]; /* borrowed from the line */
	struct dr_str body; /* the line without "forwarded " (borrowed) */
};

/* What the connection does after a reply. */
enum commands_action {
	COMMANDS_CONTINUE,
	COMMANDS_START_SESSION,
	COMMANDS_CLOSE,
};

/* Results of commands_build. */
#define COMMANDS_DONE 0 /* the reply is in out */
#define COMMANDS_SEND 1 /* msg holds a request for raftd */

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
 * whole IPC request into msg (reset first) and return COMMANDS_SEND. Bad
 * arguments found here (an invalid address...) give COMMANDS_DONE with an
 * ERROR reply.
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

/* Name of the command for logs ("kv set"). */
const char *commands_name(const struct commands_parsed *p);

#endif
