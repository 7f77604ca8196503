/* Unit tests for the Raft command codec. */
#include <stdint.h>

#include "cmd.h"
#include "err.h"
#include "unit.h"

static struct dr_str
S(const char *z) {
	struct dr_str s = { z, strlen(z) };

	return s;
}

static void
test_roundtrip(void)
{
	struct dr_cmd in = { .type = DR_CMD_KV_SET, .nargs = 2 }, out;
	struct dr_buf b;
	char big[1000];

	in.args[0] = S("toto");
	in.args[1] = S("a value with spaces");
	dr_buf_init(&b);
	CHECK_EQ_INT(dr_cmd_encode(&in, &b), 0);
	CHECK_EQ_INT(b.len % 8, 0);
	CHECK_EQ_INT(dr_cmd_decode(b.data, b.len, &out), 0);
	CHECK_EQ_INT(out.type, DR_CMD_KV_SET);
	CHECK_EQ_INT(out.nargs, 2);
	CHECK(dr_str_eq(out.args[0], "toto"));
	CHECK(dr_str_eq(out.args[1], "a value with spaces"));

	/* Every length pads to 8, including the empty argument. */
	memset(big, 'x', sizeof(big));
	for (size_t n = 0; n < 20; n++) {
		struct dr_cmd del = { .type = DR_CMD_KV_DEL, .nargs = 1 };

		del.args[0].p = big;
		del.args[0].len = n;
		dr_buf_reset(&b);
		CHECK_EQ_INT(dr_cmd_encode(&del, &b), 0);
		CHECK_EQ_INT(b.len % 8, 0);
		CHECK_EQ_INT(dr_cmd_decode(b.data, b.len, &out), 0);
		CHECK_EQ_INT(out.args[0].len, n);
	}
	dr_buf_close(&b);
}

static void
test_encode_rejects(void)
{
	struct dr_cmd c = { .type = DR_CMD_KV_SET, .nargs = 1 };
	struct dr_buf b;

	c.args[0] = S("k");
	dr_buf_init(&b);
	CHECK_EQ_INT(dr_cmd_encode(&c, &b), DR_EINVAL);
	c.type = 0;
	c.nargs = 1;
	CHECK_EQ_INT(dr_cmd_encode(&c, &b), DR_EINVAL);
	c.type = DR_CMD_TYPE_MAX + 1;
	CHECK_EQ_INT(dr_cmd_encode(&c, &b), DR_EINVAL);
	CHECK_EQ_INT(b.len, 0);
	dr_buf_close(&b);
}

static void
test_decode_rejects(void)
{
	struct dr_cmd in = { .type = DR_CMD_KV_SET, .nargs = 2 }, out;
	struct dr_buf b;
	size_t i;

	in.args[0] = S("key");
	in.args[1] = S("v");
	dr_buf_init(&b);
	CHECK_EQ_INT(dr_cmd_encode(&in, &b), 0);
	for (i = 0; i < b.len; i++)
		CHECK_EQ_INT(dr_cmd_decode(b.data, i, &out), DR_EMALFORMED);
	b.data[0] = 9; /* version */
	CHECK_EQ_INT(dr_cmd_decode(b.data, b.len, &out), DR_EMALFORMED);
	b.data[0] = DR_CMD_VERSION;
	b.data[1] = 99; /* type */
	CHECK_EQ_INT(dr_cmd_decode(b.data, b.len, &out), DR_EMALFORMED);
	b.data[1] = DR_CMD_KV_DEL; /* arity mismatch */
	CHECK_EQ_INT(dr_cmd_decode(b.data, b.len, &out), DR_EMALFORMED);
	b.data[1] = DR_CMD_KV_SET;
	b.data[b.len - 1] = 1; /* non-zero padding */
	CHECK_EQ_INT(dr_cmd_decode(b.data, b.len, &out), DR_EMALFORMED);
	b.data[b.len - 1] = 0;
	b.data[11] = 200; /* first arg length runs past the body */
	CHECK_EQ_INT(dr_cmd_decode(b.data, b.len, &out), DR_EMALFORMED);
	b.data[11] = 3;
	b.data[7] += 8; /* body length larger than the entry */
	CHECK_EQ_INT(dr_cmd_decode(b.data, b.len, &out), DR_EMALFORMED);
	b.data[7] -= 8;
	CHECK_EQ_INT(dr_cmd_decode(b.data, b.len, &out), 0);
	dr_buf_close(&b);
}

/* Flipping any single byte never crashes the decoder. */
static void
test_bitflips(void)
{
	struct dr_cmd in = { .type = DR_CMD_MEMBER_ADD, .nargs = 5 }, out;
	struct dr_buf b;
	size_t i;
	int bit, ok = 0;

	in.args[0] = S("id3");
	in.args[1] = S("12345");
	in.args[2] = S("127.0.0.1:8303");
	in.args[3] = S("127.0.0.1:8503");
	in.args[4] = S("127.0.0.1:8603");
	dr_buf_init(&b);
	CHECK_EQ_INT(dr_cmd_encode(&in, &b), 0);
	for (i = 0; i < b.len; i++) {
		for (bit = 0; bit < 8; bit++) {
			b.data[i] ^= (uint8_t)(1u << bit);
			if (dr_cmd_decode(b.data, b.len, &out) == 0) {
				ok++;
				for (unsigned a = 0; a < out.nargs; a++)
					CHECK(out.args[a].p + out.args[a].len <=
					      (const char *)b.data + b.len);
			}
			b.data[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* Flips inside argument bytes still decode; the rest must not. */
	CHECK(ok > 0);
	dr_buf_close(&b);
}

/*
 * Record and token commands: arity per type, names, and effects lists back
 * to back.
 */
static void
test_record_commands(void)
{
	static const struct {
		unsigned type, nargs;
		const char *name;
	} t[] = {
		{ DR_CMD_RR_ADD, 5, "rr_add" },
		{ DR_CMD_RR_DEL, 4, "rr_del" },
		{ DR_CMD_ZONE_REPLACE, 3, "zone_replace" },
		{ DR_CMD_ZONE_DEL, 1, "zone_del" },
		{ DR_CMD_TOKEN_ADD, 3, "token_add" },
		{ DR_CMD_TOKEN_DEL, 1, "token_del" },
	};
	const char *args[] = { "example.com.", "www.example.com.", "A", "300",
		               "192.0.2.1" };
	struct dr_buf b;
	size_t i, off;
	unsigned a;

	dr_buf_init(&b);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dr_cmd in = { .type = t[i].type, .nargs = t[i].nargs };
		struct dr_cmd out;

		CHECK_EQ_STR(dr_cmd_name(t[i].type), t[i].name);
		for (a = 0; a < in.nargs; a++)
			in.args[a] = S(args[a]);
		dr_buf_reset(&b);
		CHECK_EQ_INT(dr_cmd_encode(&in, &b), 0);
		CHECK_EQ_INT(dr_cmd_decode(b.data, b.len, &out), 0);
		CHECK_EQ_INT(out.type, t[i].type);
		CHECK_EQ_INT(out.nargs, t[i].nargs);
		for (a = 0; a < in.nargs; a++)
			CHECK(dr_str_eq(out.args[a], args[a]));
		/* One argument too few or too many: refused both ways. */
		in.nargs = t[i].nargs - 1;
		CHECK_EQ_INT(dr_cmd_encode(&in, &b), DR_EINVAL);
		in.nargs = t[i].nargs + 1;
		in.args[in.nargs - 1] = S("x");
		CHECK_EQ_INT(dr_cmd_encode(&in, &b), DR_EINVAL);
	}
	CHECK_EQ_STR(dr_cmd_name(0), "unknown");
	CHECK_EQ_STR(dr_cmd_name(DR_CMD_TYPE_MAX + 1), "unknown");

	/* An effects list is encodings back to back, each 8-byte padded. */
	dr_buf_reset(&b);
	for (i = 0; i < 3; i++) {
		struct dr_cmd e = { .type =
			                i % 2 ? DR_CMD_RR_DEL : DR_CMD_RR_ADD };

		e.nargs = e.type == DR_CMD_RR_ADD ? 5 : 4;
		for (a = 0; a < e.nargs; a++)
			e.args[a] =
			    S(args[e.type == DR_CMD_RR_DEL && a == 3 ? 4 : a]);
		CHECK_EQ_INT(dr_cmd_encode(&e, &b), 0);
	}
	for (off = 0, i = 0; off < b.len; i++) {
		struct dr_cmd out;
		uint32_t body = (uint32_t)b.data[off + 4] << 24 |
		                (uint32_t)b.data[off + 5] << 16 |
		                (uint32_t)b.data[off + 6] << 8 |
		                b.data[off + 7];
		size_t len = (8 + (size_t)body + 7) / 8 * 8;

		CHECK_EQ_INT(dr_cmd_decode(b.data + off, len, &out), 0);
		CHECK_EQ_INT(out.type, i % 2 ? DR_CMD_RR_DEL : DR_CMD_RR_ADD);
		CHECK(dr_str_eq(out.args[out.nargs - 1], "192.0.2.1"));
		off += len;
	}
	CHECK_EQ_INT(i, 3);
	dr_buf_close(&b);
}

int
main(void)
{
	RUN(test_roundtrip);
	RUN(test_record_commands);
	RUN(test_encode_rejects);
	RUN(test_decode_rejects);
	RUN(test_bitflips);
	return UNIT_DONE();
}
