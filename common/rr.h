/* Resource records in text: master-file parsing (ldns) into the canonical
 * line form stored in state.db and carried in Raft commands. */
#ifndef DR_RR_H
#define DR_RR_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* Longest canonical record line accepted anywhere (ctld lines are 8 KiB). */
#define DR_RR_LINE_MAX 8000
/* Room for an error message ("file:line: reason"). */
#define DR_RR_ERR_LEN 512
/* TTL when neither the record nor $TTL gives one. */
#define DR_RR_DEFAULT_TTL 3600

/*
 * The canonical form of a record is one line, fields separated by one
 * space, no class (always IN):
 *
 *   owner ttl TYPE rdata
 *
 *   owner  lowercase absolute name with the trailing dot ("www.example.com.")
 *   ttl    decimal, 0..2147483647
 *   TYPE   uppercase mnemonic, "TYPE65534" for types ldns does not know
 *   rdata  presentation format as ldns prints it after RFC 4034 6.2
 *          canonicalisation (names in rdata lowercased for the types that
 *          list requires); "\# len hex" for unknown types
 *
 * Two records are the same record when owner, TYPE and rdata are equal as
 * strings; the TTL is an attribute.
 */
struct dr_rr {
	struct dr_str owner, ttl, type, rdata; /* views into the line */
	uint32_t ttl_value;
};

/*
 * Parses one record in master-file syntax, relative names completed with
 * origin (an absolute name, "example.com."), missing TTL = default_ttl,
 * class IN or absent. Appends its canonical line (no newline) to out.
 * Returns 0, or DR_EINVAL with a one-line reason in err (errlen bytes).
 * Refuses syntax errors, other classes and meta types (OPT, ANY, AXFR,
 * TSIG ...). Owners outside origin are not refused here: see
 * dr_rr_in_zone.
 */
int dr_rr_parse(const char *text, const char *origin, uint32_t default_ttl,
                struct dr_buf *out, char *err, size_t errlen);

/*
 * Splits a canonical line (len bytes, no newline) into its fields and
 * checks their form (owner ends with '.', no uppercase; ttl in range;
 * TYPE non-empty; rdata non-empty). Does not call ldns. Returns 0 or
 * DR_EINVAL.
 */
int dr_rr_split(const char *line, size_t len, struct dr_rr *rr);

/*
 * Full check of a canonical line as it must arrive in a Raft command: it
 * splits, and re-parsing it with ldns gives back exactly the same line.
 * Returns 0 or DR_EINVAL with a reason in err.
 */
int dr_rr_check(const char *line, size_t len, char *err, size_t errlen);

/* Whether owner (canonical, lowercase) is zone or below it. */
int dr_rr_in_zone(struct dr_str owner, struct dr_str zone);

/*
 * Canonical zone name: lowercase, trailing dot added, validated as a
 * domain name. Writes into out (256 bytes). Returns 0 or DR_EINVAL.
 */
int dr_zone_name(const char *text, char *out, size_t outlen);

/* A zone file read whole. */
struct dr_zonefile {
	char zone[256];      /* canonical apex (owner of the SOA) */
	struct dr_buf lines; /* canonical records, each ending in '\n' */
	size_t nrecords;
};

/*
 * Reads a master file ($ORIGIN, $TTL, relative names, parentheses,
 * comments; $INCLUDE refused). The zone is the owner of the SOA, which
 * must be the first record and the only SOA; every other owner must be
 * at or below it. A CNAME may not share its owner with other data.
 * origin (may be NULL) is the initial $ORIGIN. Returns 0 with zf filled
 * (release with dr_zonefile_free), or DR_EINVAL / DR_EIO with
 * "path:line: reason" in err; zf is then empty.
 */
int dr_zonefile_read(const char *path, const char *origin,
                     struct dr_zonefile *zf, char *err, size_t errlen);

void dr_zonefile_free(struct dr_zonefile *zf);

#endif
