/* Record reads for ctld: one name, the zone list, a zone as a master file. */
#ifndef RAFTD_ZONEREAD_H
#define RAFTD_ZONEREAD_H

#include "wire.h"

struct sqlite3;
struct sqlite3_stmt;

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

#endif
