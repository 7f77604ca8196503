/* Domain names in uncompressed wire form: text parsing, case folding, hashing.
 */
#include "dname.h"

#include <string.h>

#include "err.h"

static inline uint8_t
lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

int
dname_from_str(const char *s, uint8_t *out)
{
	size_t len = 0;
	size_t lab = 0; /* offset of the current label's length byte */

	if (s[0] == '.' && s[1] == '\0') {
		out[0] = 0;
		return 1;
	}
	out[0] = 0;
	len = 1;
	while (*s != '\0') {
		unsigned c = (unsigned char)*s++;
		if (c == '.') {
			if (out[lab] == 0)
				return DR_EINVAL; /* empty label */
			lab = len;
			if (len >= DNAME_MAX)
				return DR_EINVAL;
			out[len++] = 0;
			continue;
		}
		if (c == '\\') {
			if (s[0] >= '0' && s[0] <= '9') {
				if (!(s[1] >= '0' && s[1] <= '9' &&
				      s[2] >= '0' && s[2] <= '9'))
					return DR_EINVAL;
				c = (unsigned)(s[0] - '0') * 100 +
				    (unsigned)(s[1] - '0') * 10 +
				    (unsigned)(s[2] - '0');
				if (c > 255)
					return DR_EINVAL;
				s += 3;
			} else if (s[0] != '\0') {
				c = (unsigned char)*s++;
			} else {
				return DR_EINVAL;
			}
		}
		if (out[lab] == 63 || len >= DNAME_MAX)
			return DR_EINVAL;
		out[lab]++;
		out[len++] = lower((uint8_t)c);
	}
	if (out[lab] != 0) {
		/* No final dot: close the name. */
		if (len >= DNAME_MAX)
			return DR_EINVAL;
		out[len++] = 0;
	}
	return (int)len;
}

int
dname_wire_len(const uint8_t *p, size_t max)
{
	size_t i = 0;

	for (;;) {
		if (i >= max)
			return DR_EMALFORMED;
		uint8_t l = p[i];
		if (l == 0)
			break;
		if (l & 0xC0)
			return DR_EMALFORMED;
		i += (size_t)l + 1;
		if (i >= DNAME_MAX)
			return DR_EMALFORMED;
	}
	return (int)(i + 1);
}

void
dname_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
	/* Length bytes are <= 63 and never in 'A'..'Z', so fold everything. */
	for (size_t i = 0; i < len; i++)
		dst[i] = lower(src[i]);
}

bool
dname_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

uint64_t
dname_hash(const uint8_t *name, size_t len)
{
	/* Word-at-a-time multiply/xorshift; names are short and hot. */
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)len;
	uint64_t v;

	while (len >= 8) {
		memcpy(&v, name, 8);
		h = (h ^ v) * 0xFF51AFD7ED558CCDULL;
		h ^= h >> 32;
		name += 8;
		len -= 8;
	}
	v = 0;
	memcpy(&v, name, len);
	h = (h ^ v) * 0xC4CEB9FE1A85EC53ULL;
	h ^= h >> 29;
	h *= 0xFF51AFD7ED558CCDULL;
	h ^= h >> 32;
	return h;
}

int
dname_labels(const uint8_t *name, uint8_t *offs)
{
	int n = 0;
	size_t i = 0;

	while (name[i] != 0) {
		offs[n++] = (uint8_t)i;
		i += (size_t)name[i] + 1;
	}
	return n;
}

bool
dname_is_below(const uint8_t *sub, size_t slen, const uint8_t *parent,
               size_t plen)
{
	size_t i = 0;

	if (slen < plen)
		return false;
	/* Walk labels until the remaining suffix has the parent's length. */
	while (slen - i > plen)
		i += (size_t)sub[i] + 1;
	return slen - i == plen && memcmp(sub + i, parent, plen) == 0;
}
