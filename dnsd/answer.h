/* Prepared answers: what each name answers, computed when data changes (RFC
 * 1034 4.3.2). */
#ifndef DNSD_ANSWER_H
#define DNSD_ANSWER_H

#include "zonedb.h"

/* Longest CNAME chain followed inside our zones. */
#define ANSWER_MAX_CHAIN 16

/* Scratch space reused across builds. */
struct answer_builder;

struct answer_builder *answer_builder_new(void);
void answer_builder_free(struct answer_builder *ab);

/*
 * Builds the published answers of node n from the records as the commit
 * sees them, registering with db every name they depend on. Returns a
 * malloc'd blob owned by the caller (answer_free), or NULL when n is not
 * visible: outside served zones, or below a zone cut.
 */
struct zans *answer_build(struct answer_builder *ab, struct zonedb *db,
                          struct znode *n);

void answer_free(struct zans *a);

/*
 * Builds the SOA record appended to negative answers of zone z; NULL if
 * the zone has no (valid) SOA. Owned by the caller (free()).
 */
struct ztail *answer_tail(const struct zzone *z);

#endif
