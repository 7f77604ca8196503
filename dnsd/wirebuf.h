/* A DNS message writer with name compression, for building prepared answers. */
#ifndef DNSD_WIREBUF_H
#define DNSD_WIREBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Prepared answers are written as a whole message: a 12-byte header, the
 * template question name at offset 12, QTYPE/QCLASS, then the body. Every
 * compression pointer written in the body is recorded in fix[] so that the
 * query path can shift it when the real question name is longer than the
 * template's (wildcard synthesis, referrals below a zone cut).
 */
#define WBUF_QNAME_OFF 12
/* Pointers must stay valid after a shift by up to 255 bytes. */
#define WBUF_PTR_LIMIT (0x3FFF - 256)
/* The largest body a prepared answer may have (fits any 64 KiB message). */
#define WBUF_BODY_MAX 64000

struct wbuf {
	uint8_t *buf; /* owned */
	size_t len;
	size_t cap;
	uint16_t *fix; /* owned: offsets of pointers in buf */
	size_t nfix;
	size_t fixcap;
	uint16_t *targets; /* owned: label starts usable as pointer targets */
	size_t ntargets;
	size_t tcap;
	size_t qend; /* offset where the body starts */
	bool wild;   /* wildcard template: never compress to offset 12 */
};

void wbuf_init(struct wbuf *wb);
void wbuf_close(struct wbuf *wb);

/*
 * Starts a message for template question name qname (lowercase wire, qlen
 * bytes). wild: the template is used for wildcard synthesis, so offset 12
 * is only referenced by wbuf_put_owner_q.
 */
void wbuf_begin(struct wbuf *wb, const uint8_t *qname, size_t qlen, bool wild);

void wbuf_put_u16(struct wbuf *wb, uint16_t v);
void wbuf_put_u32(struct wbuf *wb, uint32_t v);
void wbuf_put_bytes(struct wbuf *wb, const void *p, size_t n);

/* Writes a name, compressed against what was written before when allowed. */
void wbuf_put_name(struct wbuf *wb, const uint8_t *name, size_t len,
                   bool compress);

/*
 * Writes one class IN record. owner NULL means the question name (a
 * pointer to offset 12). Names inside the rdata of the RFC 1035 types are
 * compressed; others are copied as is (RFC 3597).
 */
void wbuf_put_rr(struct wbuf *wb, const uint8_t *owner, size_t olen,
                 uint16_t type, uint32_t ttl, const uint8_t *rd, size_t rdlen);

/* Length of the body written so far. */
static inline size_t
wbuf_body_len(const struct wbuf *wb)
{
	return wb->len - wb->qend;
}

#endif
