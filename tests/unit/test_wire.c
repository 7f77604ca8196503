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

int
main(void)
{
	RUN(test_roundtrip);
	RUN(test_reject);
	RUN(test_cursor);
	return UNIT_DONE();
}
