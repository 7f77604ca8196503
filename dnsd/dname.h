/* Domain names in uncompressed wire form: text parsing, case folding, hashing.
 */
#ifndef DNSD_DNAME_H
#define DNSD_DNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNAME_MAX       255 /* wire length, root label included */
#define DNAME_MAXLABELS 128 /* labels of a 255-byte name, root included */

/*
 * Converts an absolute presentation name ("www.example.com.", "\\046.",
 * "\\065.x.") into lowercase wire form in out (DNAME_MAX bytes). A missing
 * final dot is tolerated (the name is taken as absolute). Returns the wire
 * length, or DR_EINVAL for an empty label, a label over 63 bytes, a name
 * over 255 bytes or a bad escape.
 */
int dname_from_str(const char *s, uint8_t *out);

/*
 * Validates an uncompressed wire name in [p, p + max): returns its length
 * (root label included) or DR_EMALFORMED if it runs past max, holds a
 * compression pointer or an extended label type, or exceeds 255 bytes.
 */
int dname_wire_len(const uint8_t *p, size_t max);

/* ASCII-lowercases len bytes of a wire name from src into dst. */
void dname_lower(uint8_t *dst, const uint8_t *src, size_t len);

/* Case-insensitive equality of two wire names of lengths alen and blen. */
bool dname_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* Hash of a lowercase wire name; used by every index of dnsd. */
uint64_t dname_hash(const uint8_t *name, size_t len);

/*
 * Fills offs with the offset of each label (root excluded) of a valid wire
 * name and returns how many there are. offs holds DNAME_MAXLABELS entries.
 */
int dname_labels(const uint8_t *name, uint8_t *offs);

/*
 * True when sub equals parent or lies below it (both lowercase wire names
 * of lengths slen and plen); the match is label-aligned.
 */
bool dname_is_below(const uint8_t *sub, size_t slen, const uint8_t *parent,
                    size_t plen);

/* Offset of the parent name (first label skipped); 0 for the root. */
static inline size_t
dname_parent_off(const uint8_t *name)
{
	return name[0] == 0 ? 0 : (size_t)name[0] + 1;
}

#endif
