/* IPC message framing and the bounded byte cursor used by every decoder. */
#include "wire.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

/* Node names (flags.h DR_ID_MAX), or a numeric raft id. */
#define WIRE_NAME_MAX 64

_Static_assert(DR_WIRE_HDR_LEN == 4 + 1 + 1 + 2 + 4 + 4 + 8 + 8,
               "IPC header layout");

void
dr_buf_init(struct dr_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
dr_buf_close(struct dr_buf *b)
{
	free(b->data);
	dr_buf_init(b);
}

void
dr_buf_reset(struct dr_buf *b)
{
	b->len = 0;
}

void
dr_buf_put(struct dr_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap - b->len < n)
			cap *= 2;
		b->data = realloc(b->data, cap);
		if (b->data == NULL)
			abort();
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
dr_buf_put_u8(struct dr_buf *b, uint8_t v)
{
	dr_buf_put(b, &v, 1);
}

void
dr_buf_put_u16(struct dr_buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	dr_buf_put(b, x, sizeof(x));
}

void
dr_buf_put_u32(struct dr_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
		         (uint8_t)(v >> 8), (uint8_t)v };

	dr_buf_put(b, x, sizeof(x));
}

void
dr_buf_put_u64(struct dr_buf *b, uint64_t v)
{
	dr_buf_put_u32(b, (uint32_t)(v >> 32));
	dr_buf_put_u32(b, (uint32_t)v);
}

void
dr_buf_put_str(struct dr_buf *b, const char *p, size_t n)
{
	assert(n <= UINT32_MAX);
	dr_buf_put_u32(b, (uint32_t)n);
	dr_buf_put(b, p, n);
}

void
dr_buf_put_cstr(struct dr_buf *b, const char *s)
{
	dr_buf_put_str(b, s, strlen(s));
}

void
dr_cursor_init(struct dr_cursor *c, const void *p, size_t n)
{
	c->p = p;
	c->left = n;
}

int
dr_get_bytes(struct dr_cursor *c, size_t n, const uint8_t **out)
{
	if (c->left < n)
		return DR_EMALFORMED;
	*out = c->p;
	c->p += n;
	c->left -= n;
	return 0;
}

int
dr_get_u8(struct dr_cursor *c, uint8_t *v)
{
	const uint8_t *p;

	if (dr_get_bytes(c, 1, &p) != 0)
		return DR_EMALFORMED;
	*v = p[0];
	return 0;
}

int
dr_get_u16(struct dr_cursor *c, uint16_t *v)
{
	const uint8_t *p;

	if (dr_get_bytes(c, 2, &p) != 0)
		return DR_EMALFORMED;
	*v = (uint16_t)(p[0] << 8 | p[1]);
	return 0;
}

int
dr_get_u32(struct dr_cursor *c, uint32_t *v)
{
	const uint8_t *p;

	if (dr_get_bytes(c, 4, &p) != 0)
		return DR_EMALFORMED;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
	     p[3];
	return 0;
}

int
dr_get_u64(struct dr_cursor *c, uint64_t *v)
{
	uint32_t hi, lo;

	if (dr_get_u32(c, &hi) != 0 || dr_get_u32(c, &lo) != 0)
		return DR_EMALFORMED;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int
dr_get_str(struct dr_cursor *c, struct dr_str *out)
{
	uint32_t n;
	const uint8_t *p;

	if (dr_get_u32(c, &n) != 0 || dr_get_bytes(c, n, &p) != 0)
		return DR_EMALFORMED;
	out->p = (const char *)p;
	out->len = n;
	return 0;
}

void
dr_wire_begin(struct dr_buf *b, const struct dr_msg_hdr *h)
{
	dr_buf_reset(b);
	dr_buf_put_u32(b, DR_WIRE_MAGIC);
	dr_buf_put_u8(b, DR_WIRE_VERSION);
	dr_buf_put_u8(b, h->type);
	dr_buf_put_u16(b, h->flags);
	dr_buf_put_u32(b, 0); /* payload length, set by dr_wire_end */
	dr_buf_put_u32(b, (uint32_t)h->status);
	dr_buf_put_u64(b, h->index);
	dr_buf_put_u64(b, h->seq);
}

void
dr_wire_end(struct dr_buf *b)
{
	size_t n;

	assert(b->len >= DR_WIRE_HDR_LEN);
	n = b->len - DR_WIRE_HDR_LEN;
	assert(n <= DR_WIRE_MAX_PAYLOAD);
	b->data[8] = (uint8_t)(n >> 24);
	b->data[9] = (uint8_t)(n >> 16);
	b->data[10] = (uint8_t)(n >> 8);
	b->data[11] = (uint8_t)n;
}

static int
wire_type_known(uint8_t t)
{
	return (t >= DR_MSG_APPLY && t <= DR_MSG_BATCH) ||
	       (t >= DR_MSG_CHANGE && t <= DR_MSG_CHANGES);
}

int
dr_wire_decode(const void *data, size_t len, struct dr_msg_hdr *h,
               struct dr_cursor *payload)
{
	struct dr_cursor c;
	uint32_t magic, status;
	uint8_t version;

	dr_cursor_init(&c, data, len);
	if (dr_get_u32(&c, &magic) != 0 || magic != DR_WIRE_MAGIC)
		return DR_EMALFORMED;
	if (dr_get_u8(&c, &version) != 0 || version != DR_WIRE_VERSION)
		return DR_EMALFORMED;
	if (dr_get_u8(&c, &h->type) != 0 || !wire_type_known(h->type))
		return DR_EMALFORMED;
	if (dr_get_u16(&c, &h->flags) != 0 || dr_get_u32(&c, &h->len) != 0 ||
	    dr_get_u32(&c, &status) != 0 || dr_get_u64(&c, &h->index) != 0 ||
	    dr_get_u64(&c, &h->seq) != 0)
		return DR_EMALFORMED;
	if (h->len > DR_WIRE_MAX_PAYLOAD || h->len != c.left)
		return DR_EMALFORMED;
	h->status = (int32_t)status;
	*payload = c;
	return 0;
}

size_t
dr_wire_part(const void *p, size_t left, struct dr_msg_hdr *h)
{
	const uint8_t *b = p;
	struct dr_cursor cur;
	size_t n;

	if (left < DR_WIRE_HDR_LEN)
		return 0;
	n = DR_WIRE_HDR_LEN + ((size_t)b[8] << 24 | (size_t)b[9] << 16 |
	                       (size_t)b[10] << 8 | (size_t)b[11]);
	if (n > left || dr_wire_decode(p, n, h, &cur) != 0)
		return 0;
	return n;
}

unsigned
dr_wire_parts(const void *p, size_t len, uint8_t type, unsigned max)
{
	const uint8_t *b = p;
	struct dr_msg_hdr h;
	unsigned n = 0;
	size_t off, part;

	for (off = 0; off < len; off += part) {
		part = dr_wire_part(b + off, len - off, &h);
		if (part == 0 || h.type != type || ++n > max)
			return 0;
	}
	return n;
}

char *
dr_str_dup(struct dr_str s)
{
	char *p = malloc(s.len + 1);

	if (p == NULL)
		abort();
	if (s.len > 0)
		memcpy(p, s.p, s.len);
	p[s.len] = '\0';
	return p;
}

int
dr_str_eq(struct dr_str s, const char *z)
{
	size_t n = strlen(z);

	return s.len == n && (n == 0 || memcmp(s.p, z, n) == 0);
}

bool
dr_str_is_hex(struct dr_str s, size_t len)
{
	size_t i;

	if (s.len != len)
		return false;
	for (i = 0; i < s.len; i++)
		if (!((s.p[i] >= '0' && s.p[i] <= '9') ||
		      (s.p[i] >= 'a' && s.p[i] <= 'f')))
			return false;
	return true;
}

void
dr_wait_encode(struct dr_buf *b, const struct dr_wait *w)
{
	dr_buf_put_u64(b, w->index);
	dr_buf_put_u32(b, w->bound_ms);
}

int
dr_wait_decode(struct dr_cursor *c, struct dr_wait *w)
{
	if (dr_get_u64(c, &w->index) != 0 || dr_get_u32(c, &w->bound_ms) != 0 ||
	    c->left != 0 || w->bound_ms == 0 ||
	    w->bound_ms > DR_WAIT_BOUND_MAX_MS)
		return DR_EMALFORMED;
	return 0;
}

void
dr_wait_reply_begin(struct dr_buf *b, uint32_t have, uint32_t voters)
{
	dr_buf_put_u32(b, have);
	dr_buf_put_u32(b, voters);
}

/* A node name as flags.h allows it, loosely: printable, no blank. */
static bool
wire_name_ok(struct dr_str s)
{
	size_t i;

	if (s.len == 0 || s.len > WIRE_NAME_MAX)
		return false;
	for (i = 0; i < s.len; i++)
		if (s.p[i] <= 0x20 || s.p[i] >= 0x7f)
			return false;
	return true;
}

int
dr_wait_reply_decode(struct dr_cursor c, uint32_t *have, uint32_t *voters,
                     char *names, size_t namelen)
{
	size_t used = 0;
	struct dr_str s;
	uint32_t i;

	if (namelen > 0)
		names[0] = '\0';
	if (dr_get_u32(&c, have) != 0 || dr_get_u32(&c, voters) != 0 ||
	    *voters > DR_WAIT_NODES_MAX || *have > *voters)
		return DR_EMALFORMED;
	for (i = 0; i < *have; i++) {
		if (dr_get_str(&c, &s) != 0 || !wire_name_ok(s))
			return DR_EMALFORMED;
		/* Room for a blank, the name and the NUL. */
		if (namelen > 0 && used + (used > 0) + s.len < namelen) {
			if (used > 0)
				names[used++] = ' ';
			memcpy(names + used, s.p, s.len);
			used += s.len;
			names[used] = '\0';
		}
	}
	return c.left == 0 ? 0 : DR_EMALFORMED;
}
