/* Record reads for ctld: one name, the zone list, a zone as a master file. */
#ifndef RAFTD_ZONEREAD_H
#define RAFTD_ZONEREAD_H

#include <stdbool.h>

#include "wire.h"

struct sqlite3;
struct sqlite3_stmt;

/*
 * A zone as a master file, in two statements (?1 = the apex): its SOA,
 * then every row in key order (the SOA among them, to be skipped).
 */
#define ZONEREAD_COLS "owner, ttl, type, rdata"
#define ZONEREAD_SOA_SQL                                             \
	"SELECT " ZONEREAD_COLS " FROM records WHERE zone = ?1 AND " \
	"owner = ?1 AND type = 'SOA'"
#define ZONEREAD_ROWS_SQL                                        \
	"SELECT " ZONEREAD_COLS " FROM records WHERE zone = ?1 " \
	"ORDER BY owner, type, rdata"

#define ZONEREAD_NSTMT 5

struct zoneread {
	struct sqlite3 *db; /* borrowed */
	struct sqlite3_stmt *stmt[ZONEREAD_NSTMT];
};

/* Prepares the statements on db. DR_EIO on failure (logged). */
int zoneread_init(struct zoneread *r, struct sqlite3 *db);
void zoneread_close(struct zoneread *r);

/* As store_rr_get, store_zone_list and store_zone_dump (store.h). */
int zoneread_rr_get(struct zoneread *r, const char *name, const char *type,
                    struct dr_buf *out);
int zoneread_list(struct zoneread *r, struct dr_buf *out);
int zoneread_dump(struct zoneread *r, const char *zone, struct dr_buf *out);

/*
 * Appends "owner ttl [IN ]TYPE rdata\n" for the current row of a statement
 * selecting ZONEREAD_COLS.
 */
void zoneread_put_row(struct dr_buf *out, struct sqlite3_stmt *st,
                      bool class_in);
/* True when the current row (ZONEREAD_COLS) is the SOA at apex. */
bool zoneread_row_is_soa(struct sqlite3_stmt *st, const char *apex);

#endif
