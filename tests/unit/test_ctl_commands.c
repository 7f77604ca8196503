/* Unit tests for ctld's command table: parsing, requests, replies. */
#include <stdint.h>

#include "cmd.h"
#include "commands.h"
#include "err.h"
#include "unit.h"

static struct commands_parsed P;
static const char *E;

/* Parses a C string; returns 0 or the parser's error. */
static int
parse(const char *s)
{
	return commands_parse(s, strlen(s), &P, &E);
}

static int
arg_is(unsigned i, const char *z)
{
	return i < P.nargs && dr_str_eq(P.args[i], z);
}

/* The reply text for a parsed command, NUL-terminated (static). */
static const char *
reply_of(int status, const char *payload, size_t len)
{
	static char out[1024];
	struct dr_buf b;

	dr_buf_init(&b);
	commands_format(&P, status, (const uint8_t *)payload, len, &b);
	CHECK(b.len < sizeof(out));
	memcpy(out, b.data, b.len < sizeof(out) ? b.len : 0);
	out[b.len < sizeof(out) ? b.len : 0] = '\0';
	dr_buf_close(&b);
	return out;
}

static void
test_parse_kv(void)
{
	CHECK_EQ_INT(parse("kv ping"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_KV_PING);
	CHECK_EQ_INT(P.nargs, 0);
	CHECK(E == NULL);

	CHECK_EQ_INT(parse("kv set toto titi"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_KV_SET);
	CHECK(arg_is(0, "toto"));
	CHECK(arg_is(1, "titi"));
	CHECK(P.forwardable);

	/* The value is everything after the one space following KEY. */
	CHECK_EQ_INT(parse("kv set k a value  with spaces "), 0);
	CHECK(arg_is(0, "k"));
	CHECK(arg_is(1, "a value  with spaces "));
	CHECK_EQ_INT(parse("kv set k  lead"), 0);
	CHECK(arg_is(1, " lead"));
	CHECK_EQ_INT(parse("kv set k\tx\ty"), 0);
	CHECK(arg_is(1, "x\ty"));
	/* Extra separators between words are fine. */
	CHECK_EQ_INT(parse("  kv   set\tk v"), 0);
	CHECK(arg_is(0, "k"));
	CHECK(arg_is(1, "v"));

	CHECK_EQ_INT(parse("kv get toto"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_KV_GET);
	CHECK(!P.consistent);
	CHECK(!P.forwardable);
	CHECK_EQ_INT(P.nargs, 1);
	CHECK_EQ_INT(parse("kv get toto consistent"), 0);
	CHECK(P.consistent);
	CHECK(P.forwardable);
	CHECK_EQ_INT(P.nargs, 1);
	CHECK(arg_is(0, "toto"));

	CHECK_EQ_INT(parse("kv del toto"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_KV_DEL);
	CHECK(P.forwardable);

	/* Command words ignore case; keys keep it. */
	CHECK_EQ_INT(parse("KV Get Toto"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_KV_GET);
	CHECK(arg_is(0, "Toto"));
}

static void
test_parse_usage(void)
{
	CHECK_EQ_INT(parse("kv set"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: kv set KEY VALUE");
	CHECK_EQ_INT(parse("kv set key"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: kv set KEY VALUE");
	/* An empty value is no value. */
	CHECK_EQ_INT(parse("kv set key "), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: kv set KEY VALUE");
	CHECK_EQ_INT(parse("kv get"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: kv get KEY [consistent]");
	CHECK_EQ_INT(parse("kv get a b"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: kv get KEY [consistent]");
	CHECK_EQ_INT(parse("kv get a consistent more"), DR_EINVAL);
	CHECK_EQ_INT(parse("kv del"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: kv del KEY");
	CHECK_EQ_INT(parse("kv del a b"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: kv del KEY");
	CHECK_EQ_INT(parse("kv ping now"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: kv ping");
	CHECK_EQ_INT(parse("session now"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: session");
	CHECK_EQ_INT(parse("cluster status x"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: cluster status");
	CHECK_EQ_INT(parse("cluster join a b c"), DR_EINVAL);
	CHECK_EQ_STR(
	    E, "ERROR usage: cluster join ID RAFT_ADDR CTL_ADDR DNS_ADDR");
	CHECK_EQ_INT(parse("cluster join a b c d e"), DR_EINVAL);
	CHECK_EQ_INT(parse("cluster remove"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: cluster remove ID");
	CHECK_EQ_INT(parse("cluster transfer a b"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: cluster transfer [ID]");
}

static void
test_parse_unknown(void)
{
	const char *unknown[] = { "",
		                  "   ",
		                  "\t",
		                  "kv",
		                  "kv nope",
		                  "nope",
		                  "cluster",
		                  "cluster nope x",
		                  "ping",
		                  "set a b",
		                  "kvset a b",
		                  "forwarded",
		                  "forwarded session",
		                  "forwarded quit",
		                  "forwarded forwarded kv ping",
		                  "kv\xff ping" };
	size_t i;

	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		CHECK_EQ_INT(parse(unknown[i]), DR_EINVAL);
		CHECK_EQ_STR(E, "ERROR unknown command");
	}
}

static void
test_parse_cluster(void)
{
	CHECK_EQ_INT(parse("session"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_SESSION);
	CHECK_EQ_INT(parse("QUIT"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_QUIT);
	CHECK_EQ_INT(parse("cluster status"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_CLUSTER_STATUS);
	CHECK(!P.forwardable);
	CHECK_EQ_INT(parse("cluster members"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_CLUSTER_MEMBERS);
	CHECK_EQ_INT(parse("cluster join id3 127.0.0.1:8303 :8503 :8603"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_CLUSTER_JOIN);
	CHECK_EQ_INT(P.nargs, 4);
	CHECK(arg_is(0, "id3"));
	CHECK(arg_is(3, ":8603"));
	CHECK(P.forwardable);
	CHECK_EQ_INT(parse("cluster remove id3"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_CLUSTER_REMOVE);
	CHECK_EQ_INT(parse("cluster transfer"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_CLUSTER_TRANSFER);
	CHECK_EQ_INT(P.nargs, 0);
	CHECK_EQ_INT(parse("cluster transfer id1"), 0);
	CHECK_EQ_INT(P.nargs, 1);
	CHECK_EQ_STR(commands_name(&P), "cluster transfer");
}

static void
test_parse_forwarded(void)
{
	CHECK_EQ_INT(parse("forwarded kv set k v w"), 0);
	CHECK(P.forwarded);
	CHECK_EQ_INT(P.id, COMMANDS_KV_SET);
	CHECK(arg_is(1, "v w"));
	CHECK(P.body.len == strlen("kv set k v w"));
	CHECK(memcmp(P.body.p, "kv set k v w", P.body.len) == 0);
	/* A client's own line is forwarded whole. */
	CHECK_EQ_INT(parse("kv get k consistent"), 0);
	CHECK(!P.forwarded);
	CHECK(P.body.len == strlen("kv get k consistent"));
	CHECK_EQ_INT(parse("forwarded kv get k consistent"), 0);
	CHECK(P.forwarded);
	CHECK(P.consistent);
}

/* Decodes the request commands_build wrote into msg. */
static void
check_request(struct dr_buf *msg, uint8_t type, uint16_t flags,
              struct dr_cursor *payload)
{
	struct dr_msg_hdr h;

	CHECK_EQ_INT(dr_wire_decode(msg->data, msg->len, &h, payload), 0);
	CHECK_EQ_INT(h.type, type);
	CHECK_EQ_INT(h.flags, flags);
	CHECK_EQ_INT(h.status, 0);
}

static int
build(const char *line, struct dr_buf *msg, struct dr_buf *out,
      enum commands_action *act)
{
	CHECK_EQ_INT(parse(line), 0);
	dr_buf_reset(msg);
	dr_buf_reset(out);
	return commands_build(&P, msg, out, act);
}

static int
out_is(struct dr_buf *out, const char *z)
{
	return out->len == strlen(z) && memcmp(out->data, z, out->len) == 0;
}

static void
test_build(void)
{
	struct dr_buf msg, out;
	struct dr_cursor c;
	struct dr_str s;
	struct dr_cmd cmd;
	enum commands_action act;

	dr_buf_init(&msg);
	dr_buf_init(&out);

	CHECK_EQ_INT(build("kv ping", &msg, &out, &act), COMMANDS_DONE);
	CHECK(out_is(&out, "PONG\n"));
	CHECK_EQ_INT(act, COMMANDS_CONTINUE);
	CHECK_EQ_INT(build("session", &msg, &out, &act), COMMANDS_DONE);
	CHECK(out_is(&out, "OK\n"));
	CHECK_EQ_INT(act, COMMANDS_START_SESSION);
	CHECK_EQ_INT(build("quit", &msg, &out, &act), COMMANDS_DONE);
	CHECK(out_is(&out, "BYE\n"));
	CHECK_EQ_INT(act, COMMANDS_CLOSE);

	CHECK_EQ_INT(build("kv set k a b", &msg, &out, &act), COMMANDS_SEND);
	CHECK_EQ_INT(out.len, 0);
	check_request(&msg, DR_MSG_APPLY, 0, &c);
	CHECK_EQ_INT(dr_cmd_decode(c.p, c.left, &cmd), 0);
	CHECK_EQ_INT(cmd.type, DR_CMD_KV_SET);
	CHECK_EQ_INT(cmd.nargs, 2);
	CHECK(dr_str_eq(cmd.args[0], "k"));
	CHECK(dr_str_eq(cmd.args[1], "a b"));

	CHECK_EQ_INT(build("kv del k", &msg, &out, &act), COMMANDS_SEND);
	check_request(&msg, DR_MSG_APPLY, 0, &c);
	CHECK_EQ_INT(dr_cmd_decode(c.p, c.left, &cmd), 0);
	CHECK_EQ_INT(cmd.type, DR_CMD_KV_DEL);
	CHECK(dr_str_eq(cmd.args[0], "k"));

	CHECK_EQ_INT(build("kv get k", &msg, &out, &act), COMMANDS_SEND);
	check_request(&msg, DR_MSG_GET, 0, &c);
	CHECK_EQ_INT(dr_get_str(&c, &s), 0);
	CHECK(dr_str_eq(s, "k"));
	CHECK_EQ_INT(c.left, 0);
	CHECK_EQ_INT(build("kv get k consistent", &msg, &out, &act),
	             COMMANDS_SEND);
	check_request(&msg, DR_MSG_GET, DR_WF_CONSISTENT, &c);

	CHECK_EQ_INT(build("cluster status", &msg, &out, &act), COMMANDS_SEND);
	check_request(&msg, DR_MSG_STATUS, 0, &c);
	CHECK_EQ_INT(c.left, 0);
	CHECK_EQ_INT(build("cluster members", &msg, &out, &act), COMMANDS_SEND);
	check_request(&msg, DR_MSG_MEMBERS, 0, &c);

	CHECK_EQ_INT(build("cluster join id3 127.0.0.1:8303 :8503 "
	                   "[::1]:8603",
	                   &msg, &out, &act),
	             COMMANDS_SEND);
	check_request(&msg, DR_MSG_JOIN, 0, &c);
	CHECK_EQ_INT(dr_get_str(&c, &s), 0);
	CHECK(dr_str_eq(s, "id3"));
	CHECK_EQ_INT(dr_get_str(&c, &s), 0);
	CHECK(dr_str_eq(s, "127.0.0.1:8303"));
	CHECK_EQ_INT(dr_get_str(&c, &s), 0);
	CHECK(dr_str_eq(s, ":8503"));
	CHECK_EQ_INT(dr_get_str(&c, &s), 0);
	CHECK(dr_str_eq(s, "[::1]:8603"));
	CHECK_EQ_INT(c.left, 0);
	/* Bad ids and addresses never reach raftd. */
	CHECK_EQ_INT(build("cluster join i/d :1 :2 :3", &msg, &out, &act),
	             COMMANDS_DONE);
	CHECK(out_is(&out, "ERROR invalid id\n"));
	CHECK_EQ_INT(build("cluster join id :1 nowhere :3", &msg, &out, &act),
	             COMMANDS_DONE);
	CHECK(out_is(&out, "ERROR invalid address nowhere\n"));
	CHECK_EQ_INT(build("cluster join id :1 :2 :99999", &msg, &out, &act),
	             COMMANDS_DONE);
	CHECK(out_is(&out, "ERROR invalid address :99999\n"));

	CHECK_EQ_INT(build("cluster remove id3", &msg, &out, &act),
	             COMMANDS_SEND);
	check_request(&msg, DR_MSG_REMOVE, 0, &c);
	CHECK_EQ_INT(dr_get_str(&c, &s), 0);
	CHECK(dr_str_eq(s, "id3"));
	CHECK_EQ_INT(build("cluster transfer", &msg, &out, &act),
	             COMMANDS_SEND);
	check_request(&msg, DR_MSG_TRANSFER, 0, &c);
	CHECK_EQ_INT(dr_get_str(&c, &s), 0);
	CHECK_EQ_INT(s.len, 0);
	CHECK_EQ_INT(c.left, 0);
	CHECK_EQ_INT(build("cluster transfer id2", &msg, &out, &act),
	             COMMANDS_SEND);
	check_request(&msg, DR_MSG_TRANSFER, 0, &c);
	CHECK_EQ_INT(dr_get_str(&c, &s), 0);
	CHECK(dr_str_eq(s, "id2"));

	dr_buf_close(&msg);
	dr_buf_close(&out);
}

static void
test_format(void)
{
	CHECK_EQ_INT(parse("kv set k v"), 0);
	CHECK_EQ_STR(reply_of(DR_ST_OK, NULL, 0), "SUCCESS\n");
	CHECK_EQ_STR(reply_of(DR_ST_NOLEADER, NULL, 0), "ERROR no leader\n");
	CHECK_EQ_STR(reply_of(DR_ST_NOTLEADER, "id0 :8500", 9),
	             "ERROR not leader\n");
	CHECK_EQ_STR(reply_of(DR_ST_ERROR, "leadership lost", 15),
	             "ERROR leadership lost\n");
	CHECK_EQ_STR(reply_of(DR_ST_ERROR, NULL, 0), "ERROR failed\n");
	CHECK_EQ_STR(reply_of(DR_ST_BUSY, "membership change in progress", 29),
	             "ERROR membership change in progress\n");
	/* A reason keeps to one printable line. */
	CHECK_EQ_STR(reply_of(DR_ST_ERROR, "bad\tx\x01y\nsecond", 15),
	             "ERROR bad\tx?y\n");
	CHECK_EQ_STR(reply_of(99, NULL, 0),
	             "ERROR unexpected answer from raftd\n");

	CHECK_EQ_INT(parse("kv get k"), 0);
	CHECK_EQ_STR(reply_of(DR_ST_OK, "a value", 7), "a value\n");
	CHECK_EQ_STR(reply_of(DR_ST_NOTFOUND, NULL, 0), "ERROR not found\n");
	/* A value that would break framing is refused, not cut. */
	CHECK_EQ_STR(reply_of(DR_ST_OK, "two\nlines", 9),
	             "ERROR value not printable\n");
	CHECK_EQ_STR(reply_of(DR_ST_OK, "nul\0byte", 8),
	             "ERROR value not printable\n");
	CHECK_EQ_STR(reply_of(DR_ST_OK, "tab\tok", 6), "tab\tok\n");

	CHECK_EQ_INT(parse("cluster status"), 0);
	CHECK_EQ_STR(reply_of(DR_ST_OK, "id id0\nrole leader\n", 19),
	             "id id0\nrole leader\n.\n");
	/* Missing last newline, CRLF, empty lines, a lone dot. */
	CHECK_EQ_STR(reply_of(DR_ST_OK, "a 1\r\n\n.\nb\x01 2", 12),
	             "a 1\n..\nb? 2\n.\n");
	CHECK_EQ_STR(reply_of(DR_ST_OK, "", 0), ".\n");
	CHECK_EQ_INT(parse("cluster members"), 0);
	CHECK_EQ_STR(reply_of(DR_ST_OK, "id0 :8300 :8500 :8600 voter\n", 28),
	             "id0 :8300 :8500 :8600 voter\n.\n");
	CHECK_EQ_STR(reply_of(DR_ST_ERROR, "boom", 4), "ERROR boom\n");

	CHECK_EQ_INT(parse("cluster join a :1 :2 :3"), 0);
	CHECK_EQ_STR(reply_of(DR_ST_OK, NULL, 0), "SUCCESS\n");
}

int
main(void)
{
	RUN(test_parse_kv);
	RUN(test_parse_usage);
	RUN(test_parse_unknown);
	RUN(test_parse_cluster);
	RUN(test_parse_forwarded);
	RUN(test_build);
	RUN(test_format);
	return UNIT_DONE();
}
