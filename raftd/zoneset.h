/* The records of a ZONE_REPLACE command: split, sorted and checked. */
#ifndef RAFTD_ZONESET_H
#define RAFTD_ZONESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/*
 * One record line of the command, as offsets into its text so that a
 * million of them stay small. Lines are at most DR_RR_LINE_MAX bytes.
 */
struct zoneset_rec {
	uint64_t key;    /* owner's first 8 bytes, big-endian: fast order */
	uint32_t off;    /* line start in the text */
	uint32_t lineno; /* 1-based, for error messages */
	uint32_t ttl;
	uint16_t len;       /* line length without the newline */
	uint16_t owner_len; /* owner starts the line */
	uint16_t type_off, type_len;
	uint16_t rdata_off; /* rdata runs to the end of the line */
	uint8_t state;      /* enum zoneset_state */
};

enum zoneset_state {
	ZONESET_NEW,  /* not stored yet: to check with ldns, then insert */
	ZONESET_SAME, /* stored with the same TTL */
	ZONESET_TTL,  /* stored with another TTL */
	ZONESET_DUP,  /* repeats an earlier line: ignored */
};

struct zoneset {
	const char *text;         /* borrowed: the command's argument */
	struct zoneset_rec *recs; /* owned; sorted by owner, type, rdata */
	size_t n;
	size_t soa; /* index of the SOA in recs */
};

/*
 * Splits text ("owner ttl TYPE rdata\n" lines) into zs and checks what
 * needs no ldns: the line form (dr_rr_split), every owner in zone, exactly
 * one SOA and at the apex, no CNAME next to other data. Repeated records
 * are marked ZONESET_DUP (the first line wins). zone is canonical. Returns
 * 0, or DR_EINVAL with "line N: reason" in err (zs is then empty).
 * zs borrows text until zoneset_free.
 */
int zoneset_parse(struct zoneset *zs, struct dr_str zone, struct dr_str text,
                  char *err, size_t errlen);

/*
 * Runs dr_rr_check (ldns) on every record in state ZONESET_NEW, on several
 * threads when there are many. Returns 0, or DR_EINVAL with the reason of
 * the lowest failing line ("line N: reason") in err.
 */
int zoneset_check_new(struct zoneset *zs, char *err, size_t errlen);

void zoneset_free(struct zoneset *zs);

/*
 * A fingerprint of a zone's content: two independent 64-bit sums of a
 * hash per record line (SOA serial left out), and the number of lines.
 * Sums do not depend on the order of the lines, so a file and the stored
 * zone compare without sorting.
 */
struct zoneset_digest {
	uint64_t a, b;
	uint64_t n;
};

/* Digest of every line of text as it is (repeated lines count twice). */
void zoneset_digest_text(struct dr_str text, struct zoneset_digest *d);
/* Digest of the records of zs, repeats left out. */
void zoneset_digest(const struct zoneset *zs, struct zoneset_digest *d);

/*
 * A shortcut for the most common records (A, AAAA, CNAME, NS, PTR, MX
 * with plain lowercase names): true only if dr_rr_check would accept the
 * line, which it does at ~3 us a line (ldns). false means "ask
 * dr_rr_check". The unit tests hold the two against each other.
 */
bool zoneset_quick_ok(const char *line, size_t len);

/* Fields of a record (views into the text). */
struct dr_str zoneset_owner(const struct zoneset *zs,
                            const struct zoneset_rec *r);
struct dr_str zoneset_type(const struct zoneset *zs,
                           const struct zoneset_rec *r);
struct dr_str zoneset_rdata(const struct zoneset *zs,
                            const struct zoneset_rec *r);

/*
 * Orders r against a stored record the way SQLite's BINARY collation
 * orders (owner, type, rdata): <0, 0 or >0.
 */
int zoneset_cmp(const struct zoneset *zs, const struct zoneset_rec *r,
                struct dr_str owner, struct dr_str type, struct dr_str rdata);

#endif
