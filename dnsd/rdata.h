/* Record data: type mnemonics and presentation-format rdata to wire form. */
#ifndef DNSD_RDATA_H
#define DNSD_RDATA_H

#include <stddef.h>
#include <stdint.h>

#define RDATA_MAX 65535

enum {
	RR_A = 1,
	RR_NS = 2,
	RR_CNAME = 5,
	RR_SOA = 6,
	RR_PTR = 12,
	RR_HINFO = 13,
	RR_MX = 15,
	RR_TXT = 16,
	RR_AAAA = 28,
	RR_SRV = 33,
	RR_OPT = 41,
	RR_DS = 43,
	RR_TKEY = 249,
	RR_TSIG = 250,
	RR_IXFR = 251,
	RR_AXFR = 252,
	RR_MAILB = 253,
	RR_MAILA = 254,
	RR_ANY = 255,
};

/*
 * Translates a type mnemonic ("A", "mx", "TYPE65534") into its number.
 * Returns 0, or DR_EINVAL for an unknown name and for types that cannot be
 * stored in a zone (OPT, TSIG, TKEY, AXFR, IXFR, MAILA, MAILB, ANY, 0).
 */
int rdata_type_from_str(const char *s, uint16_t *type);

/*
 * Parses presentation-format rdata of the given type (as ldns prints it;
 * relative names are completed with origin, a lowercase wire name) into
 * wire form in out (RDATA_MAX bytes). Returns the wire length, or
 * DR_EINVAL when the text does not parse as that type. Never crashes on
 * arbitrary text.
 */
int rdata_from_str(uint16_t type, const char *type_str, const char *text,
                   const uint8_t *origin, uint8_t *out);

/*
 * For the types whose rdata names a host that DNS processing follows (CNAME
 * target, NS host, MX exchange, SRV target): sets *off to the offset of
 * that name in rd and returns its length; returns 0 for other types or a
 * malformed name.
 */
int rdata_target(uint16_t type, const uint8_t *rd, size_t len, size_t *off);

#endif
