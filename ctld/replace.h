/* The record lines that follow "zone replace": collecting and checking. */
#ifndef CTLD_REPLACE_H
#define CTLD_REPLACE_H

#include <stdbool.h>
#include <stddef.h>

#include "commands.h"
#include "rr.h"
#include "wire.h"

/*
 * "zone replace ZONE [SOURCE]" is followed by the zone's whole new
 * content, one record per line, and a line holding only ".":
 *
 *   zone replace example.com zones/zone.txt
 *   @ 3600 SOA ns1 hostmaster 1 7200 3600 1209600 3600
 *   www 300 A 1.2.3.4
 *   www.example.com. 300 AAAA 2001:db8::1
 *   .
 *
 * Each line is one record in master-file syntax with its owner, names
 * relative to ZONE (so canonical lines, as "zone dump" and the zone
 * loader send them, work as they are); no TTL = DR_RR_DEFAULT_TTL. Empty
 * lines and lines starting with ';' are skipped; no directives, no
 * parentheses. Exactly one SOA, at ZONE; every owner at or below ZONE.
 *
 * The first problem is remembered as "line N: reason" (N counts the
 * lines after the command) and the rest is read up to "." without being
 * kept, so the connection stays in step and nothing is sent.
 */

/* Bytes of canonical records one replace may carry (about 3M records). */
#define REPLACE_MAX_BYTES ((size_t)128 * 1024 * 1024)

#define REPLACE_MORE      0 /* wants more lines */
#define REPLACE_END       1 /* the "." line came */

struct replace {
	char *line; /* owned copy of the command line */
	size_t len;
	char zone[COMMANDS_NAME_LEN]; /* canonical, "" if the line has none */
	struct dr_buf records;        /* canonical lines, each ending "\n" */
	size_t nlines;                /* lines read after the command */
	size_t nrecords;
	unsigned nsoa;
	char err[DR_RR_ERR_LEN]; /* first problem, "" while none */
};

/*
 * Starts collecting for a command line (len bytes)
 * that commands_parse accepts as "zone replace"; an invalid zone name is
 * remembered as the error. Out of memory aborts.
 */
struct replace *replace_new(const char *line, size_t len);

/* Takes one line after the command. Returns REPLACE_MORE or REPLACE_END. */
int replace_line(struct replace *r, const char *line, size_t len);

/*
 * After REPLACE_END (or when the caller has trusted records in place):
 * checks the whole (an SOA is there). Returns 0, or DR_EINVAL with the
 * reason in r->err.
 */
int replace_finish(struct replace *r);

/*
 * Marks r as refused with reason (copied): its lines are read and
 * dropped, and replace_finish fails with that reason.
 */
void replace_deny(struct replace *r, const char *reason);

void replace_free(struct replace *r);

#endif
