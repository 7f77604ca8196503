/* A DNS message writer with name compression, for building prepared answers. */
#include "wirebuf.h"

#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "rdata.h"

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL)
		abort();
	return p;
}

void
wbuf_init(struct wbuf *wb)
{
	memset(wb, 0, sizeof(*wb));
}

void
wbuf_close(struct wbuf *wb)
{
	free(wb->buf);
	free(wb->fix);
	free(wb->targets);
	memset(wb, 0, sizeof(*wb));
}

static void
wbuf_reserve(struct wbuf *wb, size_t n)
{
	if (wb->len + n <= wb->cap)
		return;
	size_t cap = wb->cap ? wb->cap : 512;
	while (cap < wb->len + n)
		cap *= 2;
	wb->buf = xrealloc(wb->buf, cap);
	wb->cap = cap;
}

void
wbuf_put_bytes(struct wbuf *wb, const void *p, size_t n)
{
	wbuf_reserve(wb, n);
	memcpy(wb->buf + wb->len, p, n);
	wb->len += n;
}

void
wbuf_put_u16(struct wbuf *wb, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	wbuf_put_bytes(wb, b, 2);
}

void
wbuf_put_u32(struct wbuf *wb, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
		         (uint8_t)(v >> 8), (uint8_t)v };
	wbuf_put_bytes(wb, b, 4);
}

static void
wbuf_add_target(struct wbuf *wb, size_t off)
{
	if (off >= WBUF_PTR_LIMIT)
		return;
	if (wb->wild && off == WBUF_QNAME_OFF)
		return;
	if (wb->ntargets == wb->tcap) {
		wb->tcap = wb->tcap ? wb->tcap * 2 : 32;
		wb->targets =
		    xrealloc(wb->targets, wb->tcap * sizeof(*wb->targets));
	}
	wb->targets[wb->ntargets++] = (uint16_t)off;
}

static void
wbuf_put_ptr(struct wbuf *wb, size_t target)
{
	if (wb->nfix == wb->fixcap) {
		wb->fixcap = wb->fixcap ? wb->fixcap * 2 : 16;
		wb->fix = xrealloc(wb->fix, wb->fixcap * sizeof(*wb->fix));
	}
	wb->fix[wb->nfix++] = (uint16_t)wb->len;
	wbuf_put_u16(wb, (uint16_t)(0xC000 | target));
}

void
wbuf_begin(struct wbuf *wb, const uint8_t *qname, size_t qlen, bool wild)
{
	static const uint8_t hdr[12];
	static const uint8_t qtc[4];

	wb->len = 0;
	wb->nfix = 0;
	wb->ntargets = 0;
	wb->wild = wild;
	wbuf_put_bytes(wb, hdr, sizeof(hdr));
	wbuf_put_name(wb, qname, qlen, false);
	wbuf_put_bytes(wb, qtc, sizeof(qtc));
	wb->qend = wb->len;
	/* The question name was written before qend: forget its pointers. */
	wb->nfix = 0;
}

/* Does the (possibly compressed) name at off in buf equal name? */
static bool
wbuf_name_at(const struct wbuf *wb, size_t off, const uint8_t *name)
{
	const uint8_t *b = wb->buf;
	size_t i = 0;

	for (int hops = 0; hops < 64;) {
		uint8_t l = b[off];
		if ((l & 0xC0) == 0xC0) {
			off = ((size_t)(l & 0x3F) << 8) | b[off + 1];
			hops++;
			continue;
		}
		if (l != name[i])
			return false;
		if (l == 0)
			return true;
		for (size_t k = 1; k <= l; k++) {
			uint8_t x = b[off + k], y = name[i + k];
			if (x >= 'A' && x <= 'Z')
				x += 32;
			if (y >= 'A' && y <= 'Z')
				y += 32;
			if (x != y)
				return false;
		}
		off += (size_t)l + 1;
		i += (size_t)l + 1;
	}
	return false;
}

void
wbuf_put_name(struct wbuf *wb, const uint8_t *name, size_t len, bool compress)
{
	size_t i = 0;

	while (name[i] != 0) {
		if (compress) {
			for (size_t t = 0; t < wb->ntargets; t++) {
				if (wbuf_name_at(wb, wb->targets[t],
				                 name + i)) {
					wbuf_put_ptr(wb, wb->targets[t]);
					return;
				}
			}
		}
		wbuf_add_target(wb, wb->len);
		wbuf_put_bytes(wb, name + i, (size_t)name[i] + 1);
		i += (size_t)name[i] + 1;
	}
	(void)len;
	wbuf_put_bytes(wb, "", 1); /* the root label */
}

/* Copies one uncompressed name out of rdata; returns its length or 0. */
static size_t
rd_name(struct wbuf *wb, const uint8_t *rd, size_t rdlen, size_t off)
{
	int n;

	if (off >= rdlen)
		return 0;
	n = dname_wire_len(rd + off, rdlen - off);
	if (n < 0)
		return 0;
	wbuf_put_name(wb, rd + off, (size_t)n, true);
	return (size_t)n;
}

static void
wbuf_put_rdata(struct wbuf *wb, uint16_t type, const uint8_t *rd, size_t rdlen)
{
	size_t len = wb->len, nfix = wb->nfix, nt = wb->ntargets;
	size_t off = 0, n;

	switch (type) {
	case RR_NS:
	case RR_CNAME:
	case RR_PTR:
		if (rd_name(wb, rd, rdlen, 0) == rdlen)
			return;
		break;
	case RR_MX:
		if (rdlen < 3)
			break;
		wbuf_put_bytes(wb, rd, 2);
		if (rd_name(wb, rd, rdlen, 2) + 2 == rdlen)
			return;
		break;
	case RR_SOA:
		n = rd_name(wb, rd, rdlen, 0);
		off = n;
		n = n ? rd_name(wb, rd, rdlen, off) : 0;
		off += n;
		if (n == 0 || off + 20 != rdlen)
			break;
		wbuf_put_bytes(wb, rd + off, 20);
		return;
	default:
		break;
	}
	/* Other types, or a malformed name: copy the rdata verbatim. */
	wb->len = len;
	wb->nfix = nfix;
	wb->ntargets = nt;
	wbuf_put_bytes(wb, rd, rdlen);
}

void
wbuf_put_rr(struct wbuf *wb, const uint8_t *owner, size_t olen, uint16_t type,
            uint32_t ttl, const uint8_t *rd, size_t rdlen)
{
	size_t lenpos;

	if (owner == NULL)
		wbuf_put_ptr(wb, WBUF_QNAME_OFF);
	else
		wbuf_put_name(wb, owner, olen, true);
	wbuf_put_u16(wb, type);
	wbuf_put_u16(wb, 1); /* class IN */
	wbuf_put_u32(wb, ttl);
	lenpos = wb->len;
	wbuf_put_u16(wb, 0);
	wbuf_put_rdata(wb, type, rd, rdlen);
	size_t n = wb->len - lenpos - 2;
	wb->buf[lenpos] = (uint8_t)(n >> 8);
	wb->buf[lenpos + 1] = (uint8_t)n;
}
