/* SOA serials: RFC 1982 arithmetic and rewriting the serial in rdata. */
#include "soa.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

bool
soa_newer(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(a - b) < 0x80000000u;
}

bool
soa_serial(struct dr_str rdata, uint32_t *serial, size_t *from, size_t *to)
{
	size_t i = 0, field = 0;
	uint64_t v = 0;

	while (i < rdata.len && field < 2)
		if (rdata.p[i++] == ' ')
			field++;
	if (field < 2)
		return false;
	*from = i;
	for (; i < rdata.len && rdata.p[i] != ' '; i++) {
		if (rdata.p[i] < '0' || rdata.p[i] > '9' || i - *from >= 10)
			return false;
		v = v * 10 + (uint64_t)(rdata.p[i] - '0');
	}
	if (i == *from || v > UINT32_MAX)
		return false;
	*to = i;
	*serial = (uint32_t)v;
	return true;
}

bool
soa_same_but_serial(struct dr_str a, struct dr_str b)
{
	uint32_t sa, sb;
	size_t fa, ta, fb, tb;

	if (!soa_serial(a, &sa, &fa, &ta) || !soa_serial(b, &sb, &fb, &tb))
		return a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
	return fa == fb && memcmp(a.p, b.p, fa) == 0 &&
	       a.len - ta == b.len - tb &&
	       memcmp(a.p + ta, b.p + tb, a.len - ta) == 0;
}

bool
soa_with_serial(struct dr_str rdata, uint32_t serial, struct dr_buf *out)
{
	char num[16];
	uint32_t old;
	size_t from, to;
	int n;

	dr_buf_reset(out);
	if (!soa_serial(rdata, &old, &from, &to))
		return false;
	n = snprintf(num, sizeof(num), "%" PRIu32, serial);
	dr_buf_put(out, rdata.p, from);
	dr_buf_put(out, num, (size_t)n);
	dr_buf_put(out, rdata.p + to, rdata.len - to);
	return true;
}
