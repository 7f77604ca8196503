/* Unit tests for the IPC header codec and the bounded cursor. */
#include "err.h"
#include "unit.h"
#include "wire.h"

static void
test_roundtrip(void)
{
	struct dr_buf b;
	struct dr_msg_hdr h = { .type = DR_MSG_GET,
		                .flags = DR_WF_CONSISTENT,
		                .status = DR_ST_NOTLEADER,
		                .index = 0x0102030405060708ull,
		                .seq = 42 };
	struct dr_msg_hdr out;
	struct dr_cursor c;
	struct dr_str key;

	dr_buf_init(&b);
	dr_wire_begin(&b, &h);
	dr_buf_put_cstr(&b, "toto");
	dr_wire_end(&b);
	CHECK_EQ_INT(b.len, DR_WIRE_HDR_LEN + 4 + 4);
	/* Big-endian on the wire: magic first, index at offset 16. */
	CHECK_EQ_INT(b.data[0], 'D');
	CHECK_EQ_INT(b.data[16], 0x01);
	CHECK_EQ_INT(b.data[23], 0x08);
	CHECK_EQ_INT(dr_wire_decode(b.data, b.len, &out, &c), 0);
	CHECK_EQ_INT(out.type, DR_MSG_GET);
	CHECK_EQ_INT(out.flags, DR_WF_CONSISTENT);
	CHECK_EQ_INT(out.status, DR_ST_NOTLEADER);
	CHECK(out.index == 0x0102030405060708ull);
	CHECK_EQ_INT(out.seq, 42);
	CHECK_EQ_INT(out.len, 8);
	CHECK_EQ_INT(dr_get_str(&c, &key), 0);
	CHECK(dr_str_eq(key, "toto"));
	CHECK_EQ_INT(c.left, 0);
	dr_buf_close(&b);
}

static void
test_reject(void)
{
	struct dr_buf b;
	struct dr_msg_hdr h = { .type = DR_MSG_STATUS }, out;
	struct dr_cursor c;
	size_t i;

	dr_buf_init(&b);
	dr_wire_begin(&b, &h);
	dr_buf_put(&b, "abc", 3);
	dr_wire_end(&b);
	CHECK_EQ_INT(dr_wire_decode(b.data, b.len, &out, &c), 0);
	/* Every truncation and one extra byte are rejected. */
	for (i = 0; i < b.len; i++)
		CHECK_EQ_INT(dr_wire_decode(b.data, i, &out, &c),
		             DR_EMALFORMED);
	dr_buf_put_u8(&b, 0);
	CHECK_EQ_INT(dr_wire_decode(b.data, b.len, &out, &c), DR_EMALFORMED);
	b.len--;
	b.data[0] ^= 1; /* magic */
	CHECK_EQ_INT(dr_wire_decode(b.data, b.len, &out, &c), DR_EMALFORMED);
	b.data[0] ^= 1;
	b.data[4] = 2; /* version */
	CHECK_EQ_INT(dr_wire_decode(b.data, b.len, &out, &c), DR_EMALFORMED);
	b.data[4] = DR_WIRE_VERSION;
	b.data[5] = 200; /* type */
	CHECK_EQ_INT(dr_wire_decode(b.data, b.len, &out, &c), DR_EMALFORMED);
	b.data[5] = 0;
	CHECK_EQ_INT(dr_wire_decode(b.data, b.len, &out, &c), DR_EMALFORMED);
	b.data[5] = DR_MSG_STATUS;
	b.data[8] = 0xff; /* payload length larger than the message */
	CHECK_EQ_INT(dr_wire_decode(b.data, b.len, &out, &c), DR_EMALFORMED);
	dr_buf_close(&b);
}

static void
test_cursor(void)
{
	static const uint8_t bytes[] = { 0, 0, 0, 9, 'a', 'b' };
	struct dr_cursor c;
	struct dr_str s;
	uint32_t v;
	uint64_t w;

	/* A string length that runs past the end is refused, not read. */
	dr_cursor_init(&c, bytes, sizeof(bytes));
	CHECK_EQ_INT(dr_get_str(&c, &s), DR_EMALFORMED);
	dr_cursor_init(&c, bytes, sizeof(bytes));
	CHECK_EQ_INT(dr_get_u32(&c, &v), 0);
	CHECK_EQ_INT(v, 9);
	CHECK_EQ_INT(dr_get_u64(&c, &w), DR_EMALFORMED);
	CHECK_EQ_INT(c.left, 2);
}

/* A WAIT reply of have of voters, with tail (encoded) after: refused. */
static void
check_wait_reply_bad(uint32_t have, uint32_t voters, const struct dr_buf *tail)
{
	struct dr_buf b;
	struct dr_cursor c;
	uint32_t h, v;
	char names[16];

	dr_buf_init(&b);
	dr_wait_reply_begin(&b, have, voters);
	if (tail->len > 0)
		dr_buf_put(&b, tail->data, tail->len);
	dr_cursor_init(&c, b.data, b.len);
	CHECK_EQ_INT(dr_wait_reply_decode(c, &h, &v, names, sizeof(names)),
	             DR_EMALFORMED);
	dr_buf_close(&b);
}

/* WAIT payloads: round trip, and every bad one refused, none read past. */
static void
test_wait(void)
{
	struct dr_wait w = { 0x0102030405060708ull, 1000 }, out;
	struct dr_buf b, t;
	struct dr_cursor c;
	uint32_t have, voters;
	char names[16];
	size_t n;

	dr_buf_init(&b);
	dr_wait_encode(&b, &w);
	CHECK_EQ_INT(b.len, 12);
	dr_cursor_init(&c, b.data, b.len);
	CHECK_EQ_INT(dr_wait_decode(&c, &out), 0);
	CHECK(out.index == w.index);
	CHECK_EQ_INT(out.bound_ms, 1000);
	/* Every truncation, and a trailing byte. */
	for (n = 0; n < b.len; n++) {
		dr_cursor_init(&c, b.data, n);
		CHECK_EQ_INT(dr_wait_decode(&c, &out), DR_EMALFORMED);
	}
	dr_buf_put_u8(&b, 0);
	dr_cursor_init(&c, b.data, b.len);
	CHECK_EQ_INT(dr_wait_decode(&c, &out), DR_EMALFORMED);
	/* Bounds of bound_ms. */
	w.bound_ms = 0;
	dr_buf_reset(&b);
	dr_wait_encode(&b, &w);
	dr_cursor_init(&c, b.data, b.len);
	CHECK_EQ_INT(dr_wait_decode(&c, &out), DR_EMALFORMED);
	w.bound_ms = DR_WAIT_BOUND_MAX_MS + 1;
	dr_buf_reset(&b);
	dr_wait_encode(&b, &w);
	dr_cursor_init(&c, b.data, b.len);
	CHECK_EQ_INT(dr_wait_decode(&c, &out), DR_EMALFORMED);

	/* Replies: counts and names. */
	dr_buf_reset(&b);
	dr_wait_reply_begin(&b, 2, 3);
	dr_buf_put_cstr(&b, "n1");
	dr_buf_put_cstr(&b, "node-three");
	dr_cursor_init(&c, b.data, b.len);
	CHECK_EQ_INT(
	    dr_wait_reply_decode(c, &have, &voters, names, sizeof(names)), 0);
	CHECK_EQ_INT(have, 2);
	CHECK_EQ_INT(voters, 3);
	CHECK_EQ_STR(names, "n1 node-three");
	/* Too small a buffer cuts the list, never overflows. */
	CHECK_EQ_INT(dr_wait_reply_decode(c, &have, &voters, names, 5), 0);
	CHECK_EQ_STR(names, "n1");
	for (n = 0; n < b.len; n++) {
		dr_cursor_init(&c, b.data, n);
		CHECK_EQ_INT(dr_wait_reply_decode(c, &have, &voters, names,
		                                  sizeof(names)),
		             DR_EMALFORMED);
	}
	/* have > voters, too many voters, a bad name, trailing bytes. */
	dr_buf_init(&t);
	dr_buf_put_cstr(&t, "n1");
	check_wait_reply_bad(1, 0, &t);
	dr_buf_reset(&t);
	check_wait_reply_bad(0, DR_WAIT_NODES_MAX + 1, &t);
	dr_buf_put_cstr(&t, "n 1");
	check_wait_reply_bad(1, 3, &t);
	dr_buf_reset(&t);
	dr_buf_put_str(&t, "", 0);
	check_wait_reply_bad(1, 3, &t);
	dr_buf_reset(&t);
	dr_buf_put_u8(&t, 7);
	check_wait_reply_bad(0, 3, &t);
	/* A name length past the end. */
	dr_buf_reset(&t);
	dr_buf_put_u32(&t, 0xffffffffu);
	check_wait_reply_bad(1, 3, &t);
	dr_buf_close(&t);
	dr_buf_close(&b);
}

/* The new message types decode; the one after them does not. */
static void
test_wait_types(void)
{
	struct dr_msg_hdr h = { .type = DR_MSG_SERVED, .index = 9 }, out;
	struct dr_buf b;
	struct dr_cursor c;

	dr_buf_init(&b);
	dr_wire_begin(&b, &h);
	dr_wire_end(&b);
	CHECK_EQ_INT(dr_wire_decode(b.data, b.len, &out, &c), 0);
	CHECK_EQ_INT(out.type, DR_MSG_SERVED);
	b.data[5] = DR_MSG_WAIT;
	CHECK_EQ_INT(dr_wire_decode(b.data, b.len, &out, &c), 0);
	b.data[5] = DR_MSG_BATCH;
	CHECK_EQ_INT(dr_wire_decode(b.data, b.len, &out, &c), 0);
	b.data[5] = DR_MSG_BATCH + 1;
	CHECK_EQ_INT(dr_wire_decode(b.data, b.len, &out, &c), DR_EMALFORMED);
	dr_buf_close(&b);
}

/* Messages back to back: counted only when they tile the bytes exactly. */
static void
test_parts(void)
{
	struct dr_msg_hdr a = { .type = DR_MSG_APPLY },
	                  g = { .type = DR_MSG_GET };
	struct dr_buf m, b;

	dr_buf_init(&m);
	dr_buf_init(&b);
	CHECK_EQ_INT(dr_wire_parts(b.data, 0, DR_MSG_APPLY, 8), 0);
	dr_wire_begin(&m, &a);
	dr_buf_put_cstr(&m, "one");
	dr_wire_end(&m);
	dr_buf_put(&b, m.data, m.len);
	dr_buf_put(&b, m.data, m.len);
	CHECK_EQ_INT(dr_wire_parts(b.data, b.len, DR_MSG_APPLY, 8), 2);
	CHECK_EQ_INT(dr_wire_parts(b.data, b.len, DR_MSG_APPLY, 1), 0);
	CHECK_EQ_INT(dr_wire_parts(b.data, b.len, DR_MSG_GET, 8), 0);
	CHECK_EQ_INT(dr_wire_parts(b.data, b.len - 1, DR_MSG_APPLY, 8), 0);
	/* Another type among them, and a stray byte at the end. */
	dr_wire_begin(&m, &g);
	dr_wire_end(&m);
	dr_buf_put(&b, m.data, m.len);
	CHECK_EQ_INT(dr_wire_parts(b.data, b.len, DR_MSG_APPLY, 8), 0);
	b.len -= m.len;
	dr_buf_put_u8(&b, 0);
	CHECK_EQ_INT(dr_wire_parts(b.data, b.len, DR_MSG_APPLY, 8), 0);
	dr_buf_close(&m);
	dr_buf_close(&b);
}

int
main(void)
{
	RUN(test_wait);
	RUN(test_wait_types);
	RUN(test_parts);
	RUN(test_roundtrip);
	RUN(test_reject);
	RUN(test_cursor);
	return UNIT_DONE();
}
