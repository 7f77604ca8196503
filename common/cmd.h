/* Raft command encoding: the payload of every replicated log entry. */
#ifndef DR_CMD_H
#define DR_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/*
 * A command is a fixed header, its arguments, and zero padding up to a
 * multiple of 8 bytes (c-raft 0.15 corrupts its log otherwise). Integers
 * are big-endian.
 *
 *   off  len  field
 *     0    1  version       1, or 2 with a request id
 *     1    1  type          enum dr_cmd_type
 *     2    2  nargs         must match the type's arity
 *     4    4  body length   bytes of arguments that follow the header
 *   version 2 only, the request id (struct dr_reqid):
 *     8    8  origin        the Raft id of the node that made it
 *    16    8  run           that process's run (random at its start)
 *    24    8  seq           1, 2, ... within the run
 *    32    8  floor         every seq below it is finished: never sent again
 *     -    -  nargs times:  u32 length, then that many bytes
 *     -    -  0-7 zero bytes of padding
 *
 * Every command a client sends through Raft carries a request id, so
 * that a retry of it (the same bytes) is applied at most once: the state
 * machine remembers the ids it applied and answers a duplicate with the
 * first outcome (store.h). Effects on the change stream are version 1.
 */
#define DR_CMD_VERSION    1
#define DR_CMD_VERSION_ID 2
#define DR_CMD_HDR_LEN    8
#define DR_CMD_ID_HDR_LEN 40
#define DR_CMD_MAXARGS    8
#define DR_CMD_MAX_LEN    (192u * 1024 * 1024)

enum dr_cmd_type {
	DR_CMD_KV_SET = 1,     /* key, value */
	DR_CMD_KV_DEL = 2,     /* key */
	DR_CMD_MEMBER_ADD = 3, /* id, raft_id (decimal), raft, ctl, dns addr */
	DR_CMD_MEMBER_DEL = 4, /* id */
	/*
	 * Records (DESIGN.md section 3). Names are lowercase absolute names
	 * with the trailing dot ("www.example.com."), type the mnemonic
	 * ("A", "TYPE65534"), ttl decimal 0..2147483647, rdata presentation
	 * format as dr_rr_parse (rr.h) writes it.
	 */
	DR_CMD_RR_ADD = 5,       /* zone, owner, type, ttl, rdata */
	DR_CMD_RR_DEL = 6,       /* zone, owner, type, rdata */
	DR_CMD_ZONE_REPLACE = 7, /* zone, source, records */
	DR_CMD_ZONE_DEL = 8,     /* zone */
	/*
	 * Operator tokens (ctld auth): name as a node id ([A-Za-z0-9._-],
	 * 1-64), role "read", "write" or "admin", hash the SHA-256 of the
	 * token in 64 lowercase hex digits (the token itself never enters
	 * the log). Adding a name that exists is refused.
	 */
	DR_CMD_TOKEN_ADD = 9,  /* name, role, hash */
	DR_CMD_TOKEN_DEL = 10, /* name */
	DR_CMD_TYPE_MAX = 10,
};

/*
 * ZONE_REPLACE: source names where the records came from, for logs (a
 * file path, or "ctl"); records is the complete new content of the zone,
 * one canonical record per line as dr_rr_parse writes it ("owner ttl TYPE
 * rdata\n"), exactly one SOA at the apex among them.
 *
 * The same encoding carries the effects of an applied command on the pub
 * socket (wire.h, DR_MSG_CHANGE): a sequence of RR_ADD (record present
 * from now on, with this TTL) and RR_DEL (record gone) commands.
 */

/* A request id; origin 0 means none (a version 1 command). */
struct dr_reqid {
	uint64_t origin;
	uint64_t run;
	uint64_t seq;
	uint64_t floor;
};

struct dr_cmd {
	unsigned type;
	unsigned nargs;
	struct dr_str args[DR_CMD_MAXARGS]; /* borrowed */
	struct dr_reqid id;
};

/* Name of a command type for logs, "unknown" if out of range. */
const char *dr_cmd_name(unsigned type);

/*
 * Appends the encoding of c to out (which is not reset): version 2 when
 * c->id.origin is set, else version 1. Returns
 * DR_EINVAL if the type is unknown or nargs does not match its arity,
 * DR_ETOOBIG over DR_CMD_MAX_LEN.
 */
int dr_cmd_encode(const struct dr_cmd *c, struct dr_buf *out);

/*
 * Decodes one command occupying exactly len bytes. The args of c point
 * into data. Returns DR_EMALFORMED on any inconsistency (bad version,
 * unknown type, wrong arity, lengths, non-zero padding, len % 8 != 0).
 */
int dr_cmd_decode(const void *data, size_t len, struct dr_cmd *c);

#endif
