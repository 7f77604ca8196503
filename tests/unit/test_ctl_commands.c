/* Unit tests for ctld's command table: parsing, requests, replies. */
#include <stdint.h>
#include <stdio.h>

#include "cmd.h"
#include "commands.h"
#include "err.h"
#include "replace.h"
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
	CHECK(P.write);

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
	CHECK(!P.write);
	CHECK_EQ_INT(P.nargs, 1);
	CHECK_EQ_INT(parse("kv get toto consistent"), 0);
	CHECK(P.consistent);
	CHECK(!P.write);
	CHECK_EQ_INT(P.nargs, 1);
	CHECK(arg_is(0, "toto"));

	CHECK_EQ_INT(parse("kv del toto"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_KV_DEL);
	CHECK(P.write);

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
	CHECK(!P.write);
	CHECK_EQ_INT(parse("cluster members"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_CLUSTER_MEMBERS);
	CHECK_EQ_INT(parse("cluster join id3 127.0.0.1:8303 :8503 :8603"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_CLUSTER_JOIN);
	CHECK_EQ_INT(P.nargs, 4);
	CHECK(arg_is(0, "id3"));
	CHECK(arg_is(3, ":8603"));
	CHECK(P.write);
	CHECK_EQ_INT(parse("cluster remove id3"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_CLUSTER_REMOVE);
	CHECK_EQ_INT(parse("cluster transfer"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_CLUSTER_TRANSFER);
	CHECK_EQ_INT(P.nargs, 0);
	CHECK_EQ_INT(parse("cluster transfer id1"), 0);
	CHECK_EQ_INT(P.nargs, 1);
	CHECK_EQ_STR(commands_name(&P), "cluster transfer");
}

/* There is no text forwarding: followers relay encoded writes (raftd). */
static void
test_parse_forwarded(void)
{
	CHECK_EQ_INT(parse("forwarded kv set k v w"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR unknown command");
	CHECK_EQ_INT(parse("token set n read x"), DR_EINVAL);
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

static void
test_parse_records(void)
{
	CHECK_EQ_INT(parse("rr add example.com www 300 A 1.2.3.4"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_RR_ADD);
	CHECK(P.write);
	CHECK(!P.local_read);
	CHECK(arg_is(0, "example.com"));
	CHECK(arg_is(1, "www 300 A 1.2.3.4"));
	CHECK_EQ_INT(parse("RR DEL example.com www A 1.2.3.4"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_RR_DEL);
	CHECK(P.write);
	CHECK_EQ_INT(parse("rr get www.example.com"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_RR_GET);
	CHECK(P.local_read);
	CHECK(!P.write);
	CHECK_EQ_INT(P.nargs, 1);
	CHECK_EQ_INT(parse("rr get www.example.com aaaa"), 0);
	CHECK_EQ_INT(P.nargs, 2);
	CHECK_EQ_INT(parse("zone list"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_ZONE_LIST);
	CHECK(P.local_read);
	CHECK_EQ_INT(parse("zone dump example.com"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_ZONE_DUMP);
	CHECK(P.local_read);
	CHECK_EQ_INT(parse("zone del example.com"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_ZONE_DEL);
	CHECK(P.write);
	CHECK_EQ_INT(parse("zone reload"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_ZONE_RELOAD);
	CHECK(!P.write);
	CHECK_EQ_INT(parse("zone replace example.com"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_ZONE_REPLACE);
	CHECK(P.has_body);
	CHECK(P.write);
	CHECK_EQ_INT(P.nargs, 1);
	CHECK_EQ_INT(parse("zone replace example.com id1:zones/my zone.txt"),
	             0);
	CHECK(arg_is(1, "id1:zones/my zone.txt"));
	CHECK_EQ_INT(parse("stats"), 0);
	CHECK_EQ_INT(P.id, COMMANDS_STATS);
	CHECK_EQ_INT(P.target, COMMANDS_TO_DNSD);
	CHECK_EQ_STR(commands_name(&P), "stats");
	CHECK_EQ_INT(parse("kv get k"), 0);
	CHECK(P.local_read);
	CHECK_EQ_INT(P.target, COMMANDS_TO_RAFTD);
	CHECK_EQ_INT(parse("kv get k consistent"), 0);
	CHECK(!P.local_read);

	/* Usage errors. */
	CHECK_EQ_INT(parse("rr add example.com"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: rr add ZONE RR");
	CHECK_EQ_INT(parse("rr add example.com "), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: rr add ZONE RR");
	CHECK_EQ_INT(parse("rr del"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: rr del ZONE RR");
	CHECK_EQ_INT(parse("rr get"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: rr get NAME [TYPE]");
	CHECK_EQ_INT(parse("rr get a A x"), DR_EINVAL);
	CHECK_EQ_INT(parse("zone list x"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: zone list");
	CHECK_EQ_INT(parse("zone dump"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: zone dump ZONE");
	CHECK_EQ_INT(parse("zone dump a b"), DR_EINVAL);
	CHECK_EQ_INT(parse("zone del"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: zone del ZONE");
	CHECK_EQ_INT(parse("zone reload now"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: zone reload");
	CHECK_EQ_INT(parse("zone replace"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: zone replace ZONE [SOURCE]");
	CHECK_EQ_INT(parse("stats now"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR usage: stats");
	CHECK_EQ_INT(parse("rr"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR unknown command");
	CHECK_EQ_INT(parse("zone nope"), DR_EINVAL);
	CHECK_EQ_STR(E, "ERROR unknown command");
}

/* Builds line and decodes the APPLY's command into cmd. */
static void
build_apply_cmd(const char *line, struct dr_buf *msg, struct dr_cmd *cmd)
{
	struct dr_buf out;
	struct dr_cursor c;
	enum commands_action act;

	dr_buf_init(&out);
	CHECK_EQ_INT(build(line, msg, &out, &act), COMMANDS_SEND);
	CHECK_EQ_INT(out.len, 0);
	check_request(msg, DR_MSG_APPLY, 0, &c);
	CHECK_EQ_INT(dr_cmd_decode(c.p, c.left, cmd), 0);
	dr_buf_close(&out);
}

/* The ERROR line a command gets without anything being sent. */
static const char *
build_error(const char *line)
{
	static char text[1024];
	struct dr_buf msg, out;
	enum commands_action act;
	int rv;

	dr_buf_init(&msg);
	dr_buf_init(&out);
	rv = build(line, &msg, &out, &act);
	CHECK_EQ_INT(rv, COMMANDS_DONE);
	CHECK_EQ_INT(msg.len, 0);
	snprintf(text, sizeof(text), "%.*s", (int)out.len,
	         (const char *)out.data);
	dr_buf_close(&msg);
	dr_buf_close(&out);
	return text;
}

static void
test_build_records(void)
{
	struct dr_buf msg, out;
	struct dr_cursor c;
	struct dr_str s;
	struct dr_cmd cmd;
	enum commands_action act;

	dr_buf_init(&msg);
	dr_buf_init(&out);

	build_apply_cmd("rr add Example.COM www 300 A 1.2.3.4", &msg, &cmd);
	CHECK_EQ_INT(cmd.type, DR_CMD_RR_ADD);
	CHECK_EQ_INT(cmd.nargs, 5);
	CHECK(dr_str_eq(cmd.args[0], "example.com."));
	CHECK(dr_str_eq(cmd.args[1], "www.example.com."));
	CHECK(dr_str_eq(cmd.args[2], "A"));
	CHECK(dr_str_eq(cmd.args[3], "300"));
	CHECK(dr_str_eq(cmd.args[4], "1.2.3.4"));
	/* Apex, class, no TTL, names in rdata completed with the zone. */
	build_apply_cmd("rr add example.com. @ IN MX 10 Mail", &msg, &cmd);
	CHECK(dr_str_eq(cmd.args[1], "example.com."));
	CHECK(dr_str_eq(cmd.args[2], "MX"));
	CHECK(dr_str_eq(cmd.args[3], "3600"));
	CHECK(dr_str_eq(cmd.args[4], "10 mail.example.com."));
	/* Absolute owner inside the zone; TXT with spaces. */
	build_apply_cmd("rr add example.com a.b.example.com. 60 TXT \"x y\"",
	                &msg, &cmd);
	CHECK(dr_str_eq(cmd.args[1], "a.b.example.com."));
	CHECK(dr_str_eq(cmd.args[4], "\"x y\""));
	/* Unknown types in RFC 3597 form. */
	build_apply_cmd("rr add example.com u 60 TYPE65534 \\# 2 abcd", &msg,
	                &cmd);
	CHECK(dr_str_eq(cmd.args[2], "TYPE65534"));
	CHECK(dr_str_eq(cmd.args[4], "\\# 2 abcd"));

	build_apply_cmd("rr del example.com www 300 A 1.2.3.4", &msg, &cmd);
	CHECK_EQ_INT(cmd.type, DR_CMD_RR_DEL);
	CHECK_EQ_INT(cmd.nargs, 4);
	CHECK(dr_str_eq(cmd.args[0], "example.com."));
	CHECK(dr_str_eq(cmd.args[1], "www.example.com."));
	CHECK(dr_str_eq(cmd.args[2], "A"));
	CHECK(dr_str_eq(cmd.args[3], "1.2.3.4"));

	build_apply_cmd("zone del Example.com", &msg, &cmd);
	CHECK_EQ_INT(cmd.type, DR_CMD_ZONE_DEL);
	CHECK_EQ_INT(cmd.nargs, 1);
	CHECK(dr_str_eq(cmd.args[0], "example.com."));

	/* Reads. */
	CHECK_EQ_INT(build("rr get WWW.example.com", &msg, &out, &act),
	             COMMANDS_SEND);
	check_request(&msg, DR_MSG_RR_GET, 0, &c);
	CHECK_EQ_INT(dr_get_str(&c, &s), 0);
	CHECK(dr_str_eq(s, "www.example.com."));
	CHECK_EQ_INT(dr_get_str(&c, &s), 0);
	CHECK_EQ_INT(s.len, 0);
	CHECK_EQ_INT(c.left, 0);
	CHECK_EQ_INT(build("rr get www.example.com. aaaa", &msg, &out, &act),
	             COMMANDS_SEND);
	check_request(&msg, DR_MSG_RR_GET, 0, &c);
	CHECK_EQ_INT(dr_get_str(&c, &s), 0);
	CHECK_EQ_INT(dr_get_str(&c, &s), 0);
	CHECK(dr_str_eq(s, "AAAA"));
	CHECK_EQ_INT(build("zone list", &msg, &out, &act), COMMANDS_SEND);
	check_request(&msg, DR_MSG_ZONE_LIST, 0, &c);
	CHECK_EQ_INT(c.left, 0);
	CHECK_EQ_INT(build("zone dump EXAMPLE.com", &msg, &out, &act),
	             COMMANDS_SEND);
	check_request(&msg, DR_MSG_ZONE_DUMP, 0, &c);
	CHECK_EQ_INT(dr_get_str(&c, &s), 0);
	CHECK(dr_str_eq(s, "example.com."));
	CHECK_EQ_INT(build("stats", &msg, &out, &act), COMMANDS_SEND);
	check_request(&msg, DR_MSG_STATUS, 0, &c);
	CHECK_EQ_INT(build("zone reload", &msg, &out, &act), COMMANDS_RELOAD);
	CHECK_EQ_INT(out.len, 0);

	/* Bad input: one ERROR line, nothing to send. */
	CHECK_EQ_STR(build_error("rr add exa..mple www A 1.2.3.4"),
	             "ERROR invalid zone name exa..mple\n");
	CHECK_EQ_STR(build_error("rr add example.com www A 1.2.3"),
	             "ERROR Syntax error, could not parse the RR's rdata\n");
	CHECK_EQ_STR(build_error("rr add example.com www 300 A 1.2.3.4 5"),
	             "ERROR Syntax error, superfluous text present\n");
	CHECK_EQ_STR(build_error("rr add example.com www 300 CH A 1.2.3.4"),
	             "ERROR only class IN is served\n");
	CHECK_EQ_STR(build_error("rr add example.com www.other.org. A 1.2.3.4"),
	             "ERROR www.other.org. is outside the zone example.com.\n");
	CHECK_EQ_STR(build_error("rr add example.com www 300 TYPE255 \\# 0"),
	             "ERROR type 255 cannot be stored\n");
	CHECK_EQ_STR(build_error("rr add example.com www"),
	             "ERROR Syntax error, could not parse the RR's TTL\n");
	CHECK(strncmp(build_error("rr del example.com www"), "ERROR ", 6) == 0);
	CHECK_EQ_STR(build_error("rr get bad..name"),
	             "ERROR invalid name bad..name\n");
	CHECK_EQ_STR(build_error("rr get www.example.com A/B"),
	             "ERROR invalid type A/B\n");
	CHECK_EQ_STR(build_error("zone dump a..b"),
	             "ERROR invalid zone name a..b\n");
	CHECK_EQ_STR(build_error("zone del a..b"),
	             "ERROR invalid zone name a..b\n");
	/* A replace line without its records (they are read elsewhere). */
	CHECK_EQ_STR(build_error("zone replace example.com"),
	             "ERROR no records\n");

	dr_buf_close(&msg);
	dr_buf_close(&out);
}

static void
test_format_records(void)
{
	CHECK_EQ_INT(parse("rr get www.example.com"), 0);
	CHECK_EQ_STR(reply_of(DR_ST_OK,
	                      "www.example.com. 300 A 1.2.3.4\n"
	                      "www.example.com. 300 A 1.2.3.5\n",
	                      62),
	             "www.example.com. 300 A 1.2.3.4\n"
	             "www.example.com. 300 A 1.2.3.5\n.\n");
	CHECK_EQ_STR(reply_of(DR_ST_NOTFOUND, NULL, 0), "ERROR not found\n");
	CHECK_EQ_INT(parse("zone list"), 0);
	CHECK_EQ_STR(reply_of(DR_ST_OK, "example.com. 7 12\n", 18),
	             "example.com. 7 12\n.\n");
	CHECK_EQ_INT(parse("zone dump example.com"), 0);
	CHECK_EQ_STR(reply_of(DR_ST_ERROR, "no such zone", 12),
	             "ERROR no such zone\n");
	CHECK_EQ_INT(parse("rr add example.com www A 1.2.3.4"), 0);
	CHECK_EQ_STR(reply_of(DR_ST_OK, NULL, 0), "SUCCESS\n");
	CHECK_EQ_STR(reply_of(DR_ST_ERROR, "CNAME and other data", 20),
	             "ERROR CNAME and other data\n");
	/* zone replace passes raftd's note on, on the same line. */
	CHECK_EQ_INT(parse("zone replace example.com"), 0);
	CHECK_EQ_STR(reply_of(DR_ST_OK, "unchanged\n", 10),
	             "SUCCESS unchanged\n");
	CHECK_EQ_STR(reply_of(DR_ST_OK, "", 0), "SUCCESS\n");
	CHECK_EQ_STR(reply_of(DR_ST_OK, "a\x01\nb", 4), "SUCCESS a?\n");
	CHECK_EQ_INT(parse("stats"), 0);
	CHECK_EQ_STR(reply_of(DR_ST_OK, "queries 5\n", 10), "queries 5\n.\n");
}

/* Feeds text's lines (up to the "." line) to a replace for header. */
static struct replace *
replace_of(const char *header, const char *text)
{
	struct replace *r = replace_new(header, strlen(header));
	const char *p = text;
	int end = REPLACE_MORE;

	while (*p != '\0' && end == REPLACE_MORE) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		end = replace_line(r, p, n);
		p += n + (nl != NULL);
	}
	CHECK_EQ_INT(end, REPLACE_END);
	return r;
}

static int
records_are(const struct replace *r, const char *z)
{
	return r->records.len == strlen(z) &&
	       memcmp(r->records.data, z, r->records.len) == 0;
}

static void
test_replace(void)
{
	struct replace *r;

	r = replace_of("zone replace Example.com",
	               "@ 3600 IN SOA ns1 host 1 7200 3600 1209600 300\n"
	               "; a comment\n"
	               "\n"
	               "www 300 A 1.2.3.4\n"
	               "  mail.example.com. MX 10 mx.other.org.\n"
	               ".\n"
	               "not read\n");
	CHECK_EQ_INT(replace_finish(r), 0);
	CHECK_EQ_STR(r->zone, "example.com.");
	CHECK_EQ_INT(r->nrecords, 3);
	CHECK_EQ_INT(r->nlines, 5);
	CHECK(records_are(r, "example.com. 3600 SOA ns1.example.com. "
	                     "host.example.com. 1 7200 3600 1209600 300\n"
	                     "www.example.com. 300 A 1.2.3.4\n"
	                     "mail.example.com. 3600 MX 10 mx.other.org.\n"));
	replace_free(r);

	/* The first problem wins; the rest is read to "." and dropped. */
	r = replace_of("zone replace example.com",
	               "@ SOA ns1 host 1 7200 3600 1209600 300\n"
	               "www A 1.2.3\n"
	               "www.other.org. A 1.2.3.4\n"
	               ".\n");
	CHECK_EQ_INT(replace_finish(r), DR_EINVAL);
	CHECK_EQ_STR(r->err,
	             "line 2: Syntax error, could not parse the RR's rdata");
	CHECK_EQ_INT(r->records.len, 0);
	replace_free(r);
	r = replace_of("zone replace example.com",
	               "@ SOA ns1 host 1 7200 3600 1209600 300\n"
	               "www.other.org. A 1.2.3.4\n.\n");
	CHECK_EQ_INT(replace_finish(r), DR_EINVAL);
	CHECK_EQ_STR(r->err, "line 2: www.other.org. is outside the zone "
	                     "example.com.");
	replace_free(r);
	r = replace_of("zone replace example.com", "www A 1.2.3.4\n.\n");
	CHECK_EQ_INT(replace_finish(r), DR_EINVAL);
	CHECK_EQ_STR(r->err, "no SOA record at example.com.");
	replace_free(r);
	r = replace_of("zone replace example.com",
	               "@ SOA ns1 host 1 7200 3600 1209600 300\n"
	               "@ SOA ns2 host 2 7200 3600 1209600 300\n.\n");
	CHECK_EQ_INT(replace_finish(r), DR_EINVAL);
	CHECK_EQ_STR(r->err, "line 2: a second SOA record");
	replace_free(r);
	r = replace_of("zone replace example.com",
	               "sub SOA ns1 host 1 7200 3600 1209600 300\n.\n");
	CHECK_EQ_INT(replace_finish(r), DR_EINVAL);
	CHECK_EQ_STR(r->err, "line 1: SOA not at the zone apex");
	replace_free(r);
	r = replace_of("zone replace bad..zone", "x A 1.2.3.4\n.\n");
	CHECK_EQ_INT(replace_finish(r), DR_EINVAL);
	CHECK_EQ_STR(r->err, "invalid zone name bad..zone");
	replace_free(r);
	r = replace_of("zone replace example.com", ".\n");
	CHECK_EQ_INT(replace_finish(r), DR_EINVAL);
	CHECK_EQ_INT(r->nlines, 0);
	replace_free(r);

	/* "zone dump" lines (absolute names, the class) read back. */
	r = replace_of("zone replace example.com",
	               "example.com. 60 IN SOA ns1.example.com. h.example.com. "
	               "1 2 3 4 5\n"
	               "www.example.com. 60 IN A 1.2.3.4\n.\n");
	CHECK_EQ_INT(replace_finish(r), 0);
	CHECK(records_are(r, "example.com. 60 SOA ns1.example.com. "
	                     "h.example.com. 1 2 3 4 5\n"
	                     "www.example.com. 60 A 1.2.3.4\n"));
	replace_free(r);
	r = replace_of("zone replace example.com",
	               "example.com. 60 SOA ns1.example.com. h.example.com. "
	               "1 2 3 4 5\n"
	               "www.other.org. 60 A 1.2.3.4\n.\n");
	CHECK_EQ_INT(replace_finish(r), DR_EINVAL);
	CHECK_EQ_STR(r->err, "line 2: www.other.org. is outside the zone "
	                     "example.com.");
	replace_free(r);
}

/* The process lines of "cluster status" as one string. */
static const char *
procs_of(const char *raftd, const char *dnsd)
{
	static char text[512];
	struct dr_buf out;

	dr_buf_init(&out);
	commands_status_processes(
	    (const uint8_t *)raftd, raftd ? strlen(raftd) : 0,
	    (const uint8_t *)dnsd, dnsd ? strlen(dnsd) : 0, &out);
	snprintf(text, sizeof(text), "%.*s", (int)out.len,
	         (const char *)out.data);
	dr_buf_close(&out);
	return text;
}

static void
test_status_processes(void)
{
	static const char raftd[] = "id id0\nrole leader\napplied_index 120\n"
	                            "change_seq 57\nsnapshot_index 0\n";
	static const char dnsd[] = "queries 3\nchange_seq 55\n"
	                           "applied_index 118";
	uint64_t v = 1;

	CHECK_EQ_INT(commands_text_u64((const uint8_t *)raftd, strlen(raftd),
	                               "change_seq", &v),
	             0);
	CHECK(v == 57);
	/* Whole keys only, digits only, the last line without "\n". */
	CHECK_EQ_INT(commands_text_u64((const uint8_t *)raftd, strlen(raftd),
	                               "change", &v),
	             DR_ENOTFOUND);
	CHECK_EQ_INT(commands_text_u64((const uint8_t *)raftd, strlen(raftd),
	                               "role", &v),
	             DR_ENOTFOUND);
	CHECK_EQ_INT(commands_text_u64((const uint8_t *)dnsd, strlen(dnsd),
	                               "applied_index", &v),
	             0);
	CHECK(v == 118);
	CHECK_EQ_INT(
	    commands_text_u64((const uint8_t *)"x 99999999999999999999", 22,
	                      "x", &v),
	    DR_ENOTFOUND);

	CHECK_EQ_STR(procs_of(raftd, dnsd),
	             "process.raftd up applied_index 120\n"
	             "process.dnsd up applied_index 118 lag 2\n"
	             "process.ctld up\n");
	/* raftd silent: no lag can be known. */
	CHECK_EQ_STR(procs_of(NULL, dnsd), "process.raftd down\n"
	                                   "process.dnsd up applied_index 118\n"
	                                   "process.ctld up\n");
	CHECK_EQ_STR(procs_of(raftd, NULL),
	             "process.raftd up applied_index 120\n"
	             "process.dnsd down\n"
	             "process.ctld up\n");
	/* dnsd ahead (raftd restarted on an older state): lag 0. */
	CHECK_EQ_STR(procs_of("change_seq 3\n", "change_seq 5\n"),
	             "process.raftd up\n"
	             "process.dnsd up lag 0\n"
	             "process.ctld up\n");
}

/* The role each command needs (commands.h has the table). */
static void
test_roles(void)
{
	static const struct {
		const char *line;
		enum commands_role role;
	} t[] = {
		{ "quit", COMMANDS_ROLE_NONE },
		{ "auth drt_x", COMMANDS_ROLE_NONE },
		{ "session", COMMANDS_ROLE_READ },
		{ "kv ping", COMMANDS_ROLE_READ },
		{ "kv get k", COMMANDS_ROLE_READ },
		{ "kv get k consistent", COMMANDS_ROLE_READ },
		{ "rr get www.example.com", COMMANDS_ROLE_READ },
		{ "zone list", COMMANDS_ROLE_READ },
		{ "zone dump example.com", COMMANDS_ROLE_READ },
		{ "cluster status", COMMANDS_ROLE_READ },
		{ "cluster members", COMMANDS_ROLE_READ },
		{ "stats", COMMANDS_ROLE_READ },
		{ "kv set k v", COMMANDS_ROLE_WRITE },
		{ "kv del k", COMMANDS_ROLE_WRITE },
		{ "rr add example.com www A 1.2.3.4", COMMANDS_ROLE_WRITE },
		{ "rr del example.com www A 1.2.3.4", COMMANDS_ROLE_WRITE },
		{ "zone del example.com", COMMANDS_ROLE_WRITE },
		{ "zone reload", COMMANDS_ROLE_WRITE },
		{ "zone replace example.com", COMMANDS_ROLE_WRITE },
		{ "cluster join a :1 :2 :3", COMMANDS_ROLE_ADMIN },
		{ "cluster update a :1 :2 :3", COMMANDS_ROLE_ADMIN },
		{ "cluster remove a", COMMANDS_ROLE_ADMIN },
		{ "cluster transfer", COMMANDS_ROLE_ADMIN },
		{ "token add n read", COMMANDS_ROLE_ADMIN },
		{ "token list", COMMANDS_ROLE_ADMIN },
		{ "token del n", COMMANDS_ROLE_ADMIN },
	};
	enum commands_role r;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK_EQ_INT(parse(t[i].line), 0);
		if (P.role != t[i].role)
			fprintf(stderr, "role of %s\n", t[i].line);
		CHECK_EQ_INT(P.role, t[i].role);
	}
	CHECK(COMMANDS_ROLE_NONE < COMMANDS_ROLE_READ &&
	      COMMANDS_ROLE_READ < COMMANDS_ROLE_WRITE &&
	      COMMANDS_ROLE_WRITE < COMMANDS_ROLE_ADMIN &&
	      COMMANDS_ROLE_ADMIN < COMMANDS_ROLE_PEER);
	CHECK_EQ_INT(commands_role_parse((struct dr_str){ "write", 5 }, &r), 0);
	CHECK_EQ_INT(r, COMMANDS_ROLE_WRITE);
	CHECK_EQ_INT(commands_role_parse((struct dr_str){ "peer", 4 }, &r),
	             DR_EINVAL);
	CHECK_EQ_INT(commands_role_parse((struct dr_str){ "none", 4 }, &r),
	             DR_EINVAL);
	CHECK_EQ_INT(commands_role_parse((struct dr_str){ "Admin", 5 }, &r), 0);
	CHECK_EQ_STR(commands_role_name(COMMANDS_ROLE_PEER), "peer");
}

/* Tokens: their form, their hash, and what goes to raftd. */
static void
test_tokens(void)
{
	char tok[COMMANDS_TOKEN_LEN + 1], tok2[COMMANDS_TOKEN_LEN + 1];
	char hash[COMMANDS_HASH_LEN + 1], hash2[COMMANDS_HASH_LEN + 1];
	char line[256];
	struct dr_buf msg, out;
	struct dr_cursor c;
	struct dr_cmd cmd;
	struct dr_str s;
	enum commands_action act;

	commands_token_new(tok, hash);
	commands_token_new(tok2, hash2);
	CHECK_EQ_INT(strlen(tok), COMMANDS_TOKEN_LEN);
	CHECK(strncmp(tok, "drt_", 4) == 0);
	CHECK_EQ_INT(strspn(tok + 4, "0123456789abcdef"), 64);
	CHECK_EQ_INT(strlen(hash), COMMANDS_HASH_LEN);
	CHECK(strcmp(tok, tok2) != 0 && strcmp(hash, hash2) != 0);
	/* SHA-256 of the token's text (of "abc": FIPS 180-2's example). */
	commands_token_hash("abc", 3, hash2);
	CHECK_EQ_STR(hash2, "ba7816bf8f01cfea414140de5dae2223"
	                    "b00361a396177a9cb410ff61f20015ad");
	commands_token_hash(tok, strlen(tok), hash2);
	CHECK_EQ_STR(hash2, hash);

	dr_buf_init(&msg);
	dr_buf_init(&out);
	/* auth sends the hash, never the token. */
	snprintf(line, sizeof(line), "auth %s", tok);
	CHECK_EQ_INT(build(line, &msg, &out, &act), COMMANDS_SEND);
	check_request(&msg, DR_MSG_TOKEN_CHECK, 0, &c);
	CHECK_EQ_INT(dr_get_str(&c, &s), 0);
	CHECK(dr_str_eq(s, hash));
	CHECK(memmem(msg.data, msg.len, tok + 4, 64) == NULL);
	/*
	 * token add: checked fields, a TOKEN_ADD of the hash the caller
	 * made (dispatch.c makes the token), the role's name, the request id.
	 */
	CHECK_EQ_INT(parse("token add ops Admin"), 0);
	P.token_hash = hash;
	P.reqid.origin = 5;
	P.reqid.run = 6;
	P.reqid.seq = 7;
	P.reqid.floor = 7;
	dr_buf_reset(&msg);
	dr_buf_reset(&out);
	CHECK_EQ_INT(commands_build(&P, &msg, &out, &act), COMMANDS_SEND);
	check_request(&msg, DR_MSG_APPLY, 0, &c);
	CHECK_EQ_INT(dr_cmd_decode(c.p, c.left, &cmd), 0);
	CHECK_EQ_INT(cmd.type, DR_CMD_TOKEN_ADD);
	CHECK(dr_str_eq(cmd.args[0], "ops"));
	CHECK(dr_str_eq(cmd.args[1], "admin"));
	CHECK(dr_str_eq(cmd.args[2], hash));
	CHECK_EQ_INT(cmd.id.seq, 7);
	CHECK(memmem(msg.data, msg.len, tok + 4, 64) == NULL);
	CHECK_EQ_INT(build("token add ops root", &msg, &out, &act),
	             COMMANDS_DONE);
	CHECK(out.len > 20 &&
	      memcmp(out.data, "ERROR invalid role (read, write or admin)",
	             41) == 0);
	CHECK_EQ_INT(build("token add o/s read", &msg, &out, &act),
	             COMMANDS_DONE);
	CHECK(out_is(&out, "ERROR invalid token name o/s\n"));
	/* Without a token made by the caller nothing is sent. */
	CHECK_EQ_INT(build("token add ops read", &msg, &out, &act),
	             COMMANDS_DONE);
	CHECK(out_is(&out, "ERROR no token made\n"));
	CHECK_EQ_INT(msg.len, 0);
	CHECK_EQ_INT(build("token del ops", &msg, &out, &act), COMMANDS_SEND);
	check_request(&msg, DR_MSG_APPLY, 0, &c);
	CHECK_EQ_INT(dr_cmd_decode(c.p, c.left, &cmd), 0);
	CHECK_EQ_INT(cmd.type, DR_CMD_TOKEN_DEL);
	CHECK_EQ_INT(build("token list", &msg, &out, &act), COMMANDS_SEND);
	check_request(&msg, DR_MSG_TOKEN_LIST, 0, &c);
	CHECK_EQ_INT(c.left, 0);
	/* token list: names and roles as raftd sent them. */
	CHECK_EQ_INT(parse("token list"), 0);
	CHECK_EQ_STR(reply_of(DR_ST_OK, "a1 admin\nr1 read\n", 17),
	             "a1 admin\nr1 read\n.\n");
	CHECK_EQ_STR(reply_of(DR_ST_NOTFOUND, NULL, 0), "ERROR not found\n");

	/* cluster update: the join's checks, its own request. */
	CHECK_EQ_INT(
	    build("cluster update id1 :1 10.0.0.1:2 [::1]:3", &msg, &out, &act),
	    COMMANDS_SEND);
	check_request(&msg, DR_MSG_MEMBER_UPDATE, 0, &c);
	CHECK_EQ_INT(dr_get_str(&c, &s), 0);
	CHECK(dr_str_eq(s, "id1"));
	CHECK_EQ_INT(
	    build("cluster update id1 :1 nowhere :3", &msg, &out, &act),
	    COMMANDS_DONE);
	CHECK(out_is(&out, "ERROR invalid address nowhere\n"));

	/* A zone dump's next chunk, and its end (chunk size 0). */
	{
		uint64_t cur;
		uint32_t chunk;

		CHECK_EQ_INT(parse("zone dump Example.COM"), 0);
		CHECK_EQ_INT(commands_dump_msg(&P, 77, 0, &msg), 0);
		check_request(&msg, DR_MSG_ZONE_DUMP, 0, &c);
		CHECK_EQ_INT(dr_get_str(&c, &s), 0);
		CHECK(dr_str_eq(s, "example.com."));
		CHECK_EQ_INT(dr_get_u64(&c, &cur), 0);
		CHECK_EQ_INT(cur, 77);
		CHECK_EQ_INT(dr_get_u32(&c, &chunk), 0);
		CHECK_EQ_INT(chunk, 0);
		CHECK_EQ_INT(c.left, 0);
	}
	dr_buf_close(&msg);
	dr_buf_close(&out);
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
	RUN(test_parse_records);
	RUN(test_build_records);
	RUN(test_format_records);
	RUN(test_replace);
	RUN(test_status_processes);
	RUN(test_roles);
	RUN(test_tokens);
	return UNIT_DONE();
}
