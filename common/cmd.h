/* Raft command encoding: the payload of every replicated log entry. */
#ifndef DR_CMD_H
#define DR_CMD_H

#include <stddef.h>

#include "wire.h"

/*
 * A command is a fixed 8-byte header, its arguments, and zero padding up
 * to a multiple of 8 bytes (c-raft 0.15 corrupts its log otherwise).
 * Integers are big-endian.
 *
 *   off  len  field
 *     0    1  version       DR_CMD_VERSION
 *     1    1  type          enum dr_cmd_type
 *     2    2  nargs         must match the type's arity
 *     4    4  body length   bytes of arguments that follow the header
 *     8    -  nargs times:  u32 length, then that many bytes
 *     -    -  0-7 zero bytes of padding
 */
#define DR_CMD_VERSION 1
#define DR_CMD_HDR_LEN 8
#define DR_CMD_MAXARGS 8
#define DR_CMD_MAX_LEN (192u * 1024 * 1024)

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

struct dr_cmd {
	unsigned type;
	unsigned nargs;
	struct dr_str args[DR_CMD_MAXARGS]; /* borrowed */
};

/* Name of a command type for logs, "unknown" if out of range. */
const char *dr_cmd_name(unsigned type);

/*
 * Appends the encoding of c to out (which is not reset). Returns
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
