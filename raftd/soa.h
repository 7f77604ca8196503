/* SOA serials: RFC 1982 arithmetic and rewriting the serial in rdata. */
#ifndef RAFTD_SOA_H
#define RAFTD_SOA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* RFC 1982 serial arithmetic: a is newer than b (2^31 apart: not newer). */
bool soa_newer(uint32_t a, uint32_t b);

/*
 * Finds the serial, the third field of canonical SOA rdata ("mname rname
 * serial refresh retry expire minimum"), at [*from, *to) in rdata. false
 * if absent or not a decimal below 2^32.
 */
bool soa_serial(struct dr_str rdata, uint32_t *serial, size_t *from,
                size_t *to);

/* Whether two SOA rdata are equal but for the serial. */
bool soa_same_but_serial(struct dr_str a, struct dr_str b);

/*
 * Writes rdata with its serial replaced into out (reset first). false,
 * and out empty, if rdata has no serial.
 */
bool soa_with_serial(struct dr_str rdata, uint32_t serial, struct dr_buf *out);

#endif
