/* Record and zone commands applied to state.db: checks, diff, serials. */
#ifndef RAFTD_ZONES_H
#define RAFTD_ZONES_H

#include <stddef.h>

#include "cmd.h"
#include "effects.h"

struct sqlite3;
struct sqlite3_stmt;

#define ZONES_NSTMT 14

/*
 * The rules (DESIGN.md section 3, issue 3), applied identically on every
 * node so that they are part of the replicated state machine:
 *
 * - Records are unique on (zone, owner, type, rdata): a delegation's NS
 *   rows may sit both in the parent zone and at the child's apex.
 * - A zone exists when it has a zones row, and then exactly one SOA, at
 *   its apex, whose serial is zones.serial.
 * - Every change to a zone's records bumps its serial: to the serial of
 *   the SOA given with the change if that one is newer (RFC 1982), else
 *   to the stored serial + 1, modulo 2^32. Serials never go backwards.
 *   The SOA row is rewritten with the new serial (an RR_DEL of the old
 *   SOA and an RR_ADD of the new one in the effects).
 * - SOAs are compared without their serial: a replace with an identical
 *   zone changes nothing, whatever serial its file carries.
 * - A CNAME never shares its owner with other data in a zone.
 *
 * A replace leaves a digest of the zone's records in zones (NULL after
 * any other change): the next replace with the same lines is recognised
 * as unchanged without sorting, merging or checking a million lines.
 */
struct zones {
	struct sqlite3 *db; /* borrowed */
	struct sqlite3_stmt *stmt[ZONES_NSTMT];
};

/* Prepares the statements on db. DR_EIO on failure (logged). */
int zones_init(struct zones *z, struct sqlite3 *db);
void zones_close(struct zones *z);

/*
 * Applies a decoded RR_ADD, RR_DEL, ZONE_REPLACE or ZONE_DEL inside the
 * open transaction, appending what changed to fx. Returns 0 when applied
 * (fx may be empty: nothing to change), DR_EINVAL when refused (a
 * one-line reason in reason; nothing was written), DR_EIO when SQLite
 * failed (the transaction is unusable).
 */
int zones_apply(struct zones *z, const struct dr_cmd *c, struct effects *fx,
                char *reason, size_t reasonlen);

#endif
