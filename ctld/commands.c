/* The control commands: one table, argument parsing, raftd requests, replies.
 */
#include "commands.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "err.h"
#include "flags.h"
#include "line.h"
#include "rr.h"

typedef int (*command_build_fn)(const struct commands_parsed *p,
                                struct dr_buf *msg, struct dr_buf *out,
                                enum commands_action *act);

struct command {
	const char *group; /* "kv", "cluster", or NULL for one word */
	const char *name;
	const char *usage; /* the whole ERROR line */
	command_build_fn build;
	enum commands_id id;
	unsigned min_args, max_args;
	bool rest;       /* the last argument is the rest of the line */
	bool write;      /* a Raft command with a request id (dispatch.c) */
	bool local_read; /* waits for this ctld's acknowledged writes */
	bool has_body;   /* record lines and "." follow */
	enum commands_target target;
	enum commands_role role;
};

static int build_session(const struct commands_parsed *, struct dr_buf *,
                         struct dr_buf *, enum commands_action *);
static int build_ack(const struct commands_parsed *, struct dr_buf *,
                     struct dr_buf *, enum commands_action *);
static int build_quit(const struct commands_parsed *, struct dr_buf *,
                      struct dr_buf *, enum commands_action *);
static int build_ping(const struct commands_parsed *, struct dr_buf *,
                      struct dr_buf *, enum commands_action *);
static int build_kv_set(const struct commands_parsed *, struct dr_buf *,
                        struct dr_buf *, enum commands_action *);
static int build_kv_get(const struct commands_parsed *, struct dr_buf *,
                        struct dr_buf *, enum commands_action *);
static int build_kv_del(const struct commands_parsed *, struct dr_buf *,
                        struct dr_buf *, enum commands_action *);
static int build_status(const struct commands_parsed *, struct dr_buf *,
                        struct dr_buf *, enum commands_action *);
static int build_members(const struct commands_parsed *, struct dr_buf *,
                         struct dr_buf *, enum commands_action *);
static int build_join(const struct commands_parsed *, struct dr_buf *,
                      struct dr_buf *, enum commands_action *);
static int build_remove(const struct commands_parsed *, struct dr_buf *,
                        struct dr_buf *, enum commands_action *);
static int build_transfer(const struct commands_parsed *, struct dr_buf *,
                          struct dr_buf *, enum commands_action *);
static int build_rr(const struct commands_parsed *, struct dr_buf *,
                    struct dr_buf *, enum commands_action *);
static int build_rr_get(const struct commands_parsed *, struct dr_buf *,
                        struct dr_buf *, enum commands_action *);
static int build_zone_list(const struct commands_parsed *, struct dr_buf *,
                           struct dr_buf *, enum commands_action *);
static int build_zone_dump(const struct commands_parsed *, struct dr_buf *,
                           struct dr_buf *, enum commands_action *);
static int build_zone_del(const struct commands_parsed *, struct dr_buf *,
                          struct dr_buf *, enum commands_action *);
static int build_zone_reload(const struct commands_parsed *, struct dr_buf *,
                             struct dr_buf *, enum commands_action *);
static int build_zone_replace(const struct commands_parsed *, struct dr_buf *,
                              struct dr_buf *, enum commands_action *);
static int build_stats(const struct commands_parsed *, struct dr_buf *,
                       struct dr_buf *, enum commands_action *);
static int build_auth(const struct commands_parsed *, struct dr_buf *,
                      struct dr_buf *, enum commands_action *);
static int build_token_add(const struct commands_parsed *, struct dr_buf *,
                           struct dr_buf *, enum commands_action *);
static int build_token_list(const struct commands_parsed *, struct dr_buf *,
                            struct dr_buf *, enum commands_action *);
static int build_token_del(const struct commands_parsed *, struct dr_buf *,
                           struct dr_buf *, enum commands_action *);
static int build_update(const struct commands_parsed *, struct dr_buf *,
                        struct dr_buf *, enum commands_action *);

#define CMD(id_, group_, name_, min_, max_, flags_, role_, usage_, build_) \
	{                                                                  \
		.id = (id_), .group = (group_), .name = (name_),           \
		.role = COMMANDS_ROLE_##role_, .min_args = (min_),         \
		.max_args = (max_), .rest = ((flags_)&F_REST) != 0,        \
		.write = ((flags_)&F_WRITE) != 0,                          \
		.local_read = ((flags_)&F_READ) != 0,                      \
		.has_body = ((flags_)&F_BODY) != 0,                        \
		.target = ((flags_)&F_DNSD) != 0 ? COMMANDS_TO_DNSD        \
		                                 : COMMANDS_TO_RAFTD,      \
		.usage = "ERROR usage: " usage_, .build = (build_)         \
	}
#define F_REST  1  /* the last argument is the rest of the line */
#define F_LOCAL 2  /* handled by ctld itself */
#define F_WRITE 4  /* a write: one Raft command, with a request id */
#define F_READ  8  /* a local read: sees the writes acknowledged here */
#define F_BODY  16 /* record lines and "." follow the line */
#define F_DNSD  32 /* asks dnsd, not raftd */

static const struct command command_table[] = {
	CMD(COMMANDS_SESSION, NULL, "session", 0, 0, F_LOCAL, READ, "session",
	    build_session),
	CMD(COMMANDS_ACK, NULL, "ack", 1, 1, F_LOCAL, READ, "ack all|leader",
	    build_ack),
	CMD(COMMANDS_QUIT, NULL, "quit", 0, 0, F_LOCAL, NONE, "quit",
	    build_quit),
	CMD(COMMANDS_AUTH, NULL, "auth", 1, 1, F_LOCAL, NONE, "auth TOKEN",
	    build_auth),
	CMD(COMMANDS_KV_PING, "kv", "ping", 0, 0, 0, READ, "kv ping",
	    build_ping),
	CMD(COMMANDS_KV_SET, "kv", "set", 2, 2, F_REST | F_WRITE, WRITE,
	    "kv set KEY VALUE", build_kv_set),
	CMD(COMMANDS_KV_GET, "kv", "get", 1, 2, F_READ, READ,
	    "kv get KEY [consistent]", build_kv_get),
	CMD(COMMANDS_KV_DEL, "kv", "del", 1, 1, F_WRITE, WRITE, "kv del KEY",
	    build_kv_del),
	CMD(COMMANDS_CLUSTER_STATUS, "cluster", "status", 0, 0, 0, READ,
	    "cluster status", build_status),
	CMD(COMMANDS_CLUSTER_MEMBERS, "cluster", "members", 0, 0, 0, READ,
	    "cluster members", build_members),
	CMD(COMMANDS_CLUSTER_JOIN, "cluster", "join", 4, 4, F_WRITE, ADMIN,
	    "cluster join ID RAFT_ADDR CTL_ADDR DNS_ADDR", build_join),
	CMD(COMMANDS_CLUSTER_UPDATE, "cluster", "update", 4, 4, F_WRITE, ADMIN,
	    "cluster update ID RAFT_ADDR CTL_ADDR DNS_ADDR", build_update),
	CMD(COMMANDS_CLUSTER_REMOVE, "cluster", "remove", 1, 1, F_WRITE, ADMIN,
	    "cluster remove ID", build_remove),
	CMD(COMMANDS_CLUSTER_TRANSFER, "cluster", "transfer", 0, 1, F_WRITE,
	    ADMIN, "cluster transfer [ID]", build_transfer),
	CMD(COMMANDS_RR_ADD, "rr", "add", 2, 2, F_REST | F_WRITE, WRITE,
	    "rr add ZONE RR", build_rr),
	CMD(COMMANDS_RR_DEL, "rr", "del", 2, 2, F_REST | F_WRITE, WRITE,
	    "rr del ZONE RR", build_rr),
	CMD(COMMANDS_RR_GET, "rr", "get", 1, 2, F_READ, READ,
	    "rr get NAME [TYPE]", build_rr_get),
	CMD(COMMANDS_ZONE_LIST, "zone", "list", 0, 0, F_READ, READ, "zone list",
	    build_zone_list),
	CMD(COMMANDS_ZONE_DUMP, "zone", "dump", 1, 1, F_READ, READ,
	    "zone dump ZONE", build_zone_dump),
	CMD(COMMANDS_ZONE_DEL, "zone", "del", 1, 1, F_WRITE, WRITE,
	    "zone del ZONE", build_zone_del),
	CMD(COMMANDS_ZONE_RELOAD, "zone", "reload", 0, 0, F_LOCAL, WRITE,
	    "zone reload", build_zone_reload),
	CMD(COMMANDS_ZONE_REPLACE, "zone", "replace", 1, 2,
	    F_REST | F_WRITE | F_BODY, WRITE, "zone replace ZONE [SOURCE]",
	    build_zone_replace),
	CMD(COMMANDS_STATS, NULL, "stats", 0, 0, F_DNSD, READ, "stats",
	    build_stats),
	CMD(COMMANDS_TOKEN_ADD, "token", "add", 2, 2, F_WRITE, ADMIN,
	    "token add NAME ROLE", build_token_add),
	CMD(COMMANDS_TOKEN_LIST, "token", "list", 0, 0, F_READ, ADMIN,
	    "token list", build_token_list),
	CMD(COMMANDS_TOKEN_DEL, "token", "del", 1, 1, F_WRITE, ADMIN,
	    "token del NAME", build_token_del),
};

#define N_COMMANDS (sizeof(command_table) / sizeof(command_table[0]))

static const char commands_unknown[] = "ERROR unknown command";

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Reads the next word at *pos, skipping separators before it. */
static bool
next_word(const char *line, size_t len, size_t *pos, struct dr_str *w)
{
	size_t i = *pos;

	while (i < len && is_space(line[i]))
		i++;
	if (i == len)
		return false;
	w->p = line + i;
	while (i < len && !is_space(line[i]))
		i++;
	w->len = (size_t)(line + i - w->p);
	*pos = i;
	return true;
}

static bool
word_is(struct dr_str w, const char *z)
{
	return strlen(z) == w.len && strncasecmp(w.p, z, w.len) == 0;
}

static const struct command *
commands_lookup(struct dr_str w1, const char *line, size_t len, size_t *pos)
{
	struct dr_str w2;
	size_t i;
	bool group = false;

	for (i = 0; i < N_COMMANDS; i++) {
		const struct command *c = &command_table[i];

		if (c->group == NULL && word_is(w1, c->name))
			return c;
		if (c->group != NULL && word_is(w1, c->group))
			group = true;
	}
	if (!group || !next_word(line, len, pos, &w2))
		return NULL;
	for (i = 0; i < N_COMMANDS; i++) {
		const struct command *c = &command_table[i];

		if (c->group != NULL && word_is(w1, c->group) &&
		    word_is(w2, c->name))
			return c;
	}
	return NULL;
}

int
commands_parse(const char *line, size_t len, struct commands_parsed *p,
               const char **err)
{
	const struct command *c;
	struct dr_str w;
	size_t pos = 0;

	memset(p, 0, sizeof(*p));
	*err = commands_unknown;
	if (!next_word(line, len, &pos, &w))
		return DR_EINVAL;
	c = commands_lookup(w, line, len, &pos);
	if (c == NULL)
		return DR_EINVAL;
	p->cmd = c;
	p->id = c->id;
	p->write = c->write;
	p->local_read = c->local_read;
	p->has_body = c->has_body;
	p->target = c->target;
	p->role = c->role;
	*err = c->usage;
	while (p->nargs < c->max_args) {
		if (c->rest && p->nargs == c->max_args - 1) {
			/* Exactly one separator, then everything. */
			if (pos + 1 >= len)
				break;
			p->args[p->nargs].p = line + pos + 1;
			p->args[p->nargs].len = len - pos - 1;
			p->nargs++;
			pos = len;
			break;
		}
		if (!next_word(line, len, &pos, &p->args[p->nargs]))
			break;
		p->nargs++;
	}
	if (p->nargs < c->min_args || next_word(line, len, &pos, &w))
		return DR_EINVAL;
	if (c->id == COMMANDS_KV_GET && p->nargs == 2) {
		if (!word_is(p->args[1], "consistent"))
			return DR_EINVAL;
		p->consistent = true;
		p->local_read = false;
		p->nargs = 1;
	}
	*err = NULL;
	return 0;
}

const char *
commands_name(const struct commands_parsed *p)
{
	static const char *const names[] = {
		[COMMANDS_SESSION] = "session",
		[COMMANDS_QUIT] = "quit",
		[COMMANDS_KV_PING] = "kv ping",
		[COMMANDS_KV_SET] = "kv set",
		[COMMANDS_KV_GET] = "kv get",
		[COMMANDS_KV_DEL] = "kv del",
		[COMMANDS_CLUSTER_STATUS] = "cluster status",
		[COMMANDS_CLUSTER_MEMBERS] = "cluster members",
		[COMMANDS_CLUSTER_JOIN] = "cluster join",
		[COMMANDS_CLUSTER_REMOVE] = "cluster remove",
		[COMMANDS_CLUSTER_TRANSFER] = "cluster transfer",
		[COMMANDS_RR_ADD] = "rr add",
		[COMMANDS_RR_DEL] = "rr del",
		[COMMANDS_RR_GET] = "rr get",
		[COMMANDS_ZONE_LIST] = "zone list",
		[COMMANDS_ZONE_DUMP] = "zone dump",
		[COMMANDS_ZONE_DEL] = "zone del",
		[COMMANDS_ZONE_RELOAD] = "zone reload",
		[COMMANDS_ZONE_REPLACE] = "zone replace",
		[COMMANDS_STATS] = "stats",
		[COMMANDS_AUTH] = "auth",
		[COMMANDS_TOKEN_ADD] = "token add",
		[COMMANDS_TOKEN_LIST] = "token list",
		[COMMANDS_TOKEN_DEL] = "token del",
		[COMMANDS_CLUSTER_UPDATE] = "cluster update",
		[COMMANDS_ACK] = "ack",
	};

	return names[p->id];
}

int
commands_build(const struct commands_parsed *p, struct dr_buf *msg,
               struct dr_buf *out, enum commands_action *act)
{
	*act = COMMANDS_CONTINUE;
	return p->cmd->build(p, msg, out, act);
}

void
commands_put_line(struct dr_buf *out, const char *s)
{
	dr_buf_put(out, s, strlen(s));
	dr_buf_put_u8(out, '\n');
}

/* Appends p[0..n) with bytes that cannot be in a line replaced by '?'. */
static void
put_sanitized(struct dr_buf *out, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dr_buf_put_u8(out, line_byte_ok((unsigned char)p[i])
		                       ? (uint8_t)p[i]
		                       : (uint8_t)'?');
}

void
commands_put_error(struct dr_buf *out, const char *reason, size_t len)
{
	const char *nl = memchr(reason, '\n', len);

	if (nl != NULL)
		len = (size_t)(nl - reason);
	dr_buf_put(out, "ERROR ", 6);
	if (len == 0)
		dr_buf_put(out, "failed", 6);
	put_sanitized(out, reason, len);
	dr_buf_put_u8(out, '\n');
}

void
commands_put_lines(struct dr_buf *out, const uint8_t *text, size_t len)
{
	const char *p = (const char *)text, *end = p + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0) {
			if (n == 1 && p[0] == '.')
				dr_buf_put_u8(out, '.');
			put_sanitized(out, p, n);
			dr_buf_put_u8(out, '\n');
		}
		p = nl ? nl + 1 : end;
	}
}

void
commands_put_text(struct dr_buf *out, const uint8_t *text, size_t len)
{
	commands_put_lines(out, text, len);
	dr_buf_put(out, ".\n", 2);
}

/*
 * "SUCCESS", followed by the first line of raftd's note when it sent one
 * ("SUCCESS unchanged", "SUCCESS serial 7, 3 added, 1 removed").
 */
static void
put_success_note(struct dr_buf *out, const uint8_t *note, size_t len)
{
	const uint8_t *nl = memchr(note, '\n', len);

	if (nl != NULL)
		len = (size_t)(nl - note);
	dr_buf_put(out, "SUCCESS", 7);
	if (len > 0) {
		dr_buf_put_u8(out, ' ');
		put_sanitized(out, (const char *)note, len);
	}
	dr_buf_put_u8(out, '\n');
}

int
commands_text_u64(const uint8_t *text, size_t len, const char *key, uint64_t *v)
{
	const char *p = (const char *)text, *end = p + len;
	size_t klen = strlen(key);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		if ((size_t)(eol - p) > klen + 1 && memcmp(p, key, klen) == 0 &&
		    p[klen] == ' ') {
			const char *d = p + klen + 1;
			uint64_t n = 0;

			if (d == eol)
				return DR_ENOTFOUND;
			for (; d < eol; d++) {
				if (*d < '0' || *d > '9' ||
				    n > (UINT64_MAX - 9) / 10)
					return DR_ENOTFOUND;
				n = n * 10 + (uint64_t)(*d - '0');
			}
			*v = n;
			return 0;
		}
		p = nl ? nl + 1 : end;
	}
	return DR_ENOTFOUND;
}

static void
put_u64_pair(struct dr_buf *out, const char *key, uint64_t v)
{
	char num[48];
	int n =
	    snprintf(num, sizeof(num), " %s %llu", key, (unsigned long long)v);

	dr_buf_put(out, num, (size_t)n);
}

void
commands_status_processes(const uint8_t *raftd, size_t rlen,
                          const uint8_t *dnsd, size_t dlen, struct dr_buf *out)
{
	uint64_t v, rseq, dseq;

	if (raftd == NULL) {
		commands_put_line(out, "process.raftd down");
	} else {
		dr_buf_put(out, "process.raftd up", 16);
		if (commands_text_u64(raftd, rlen, "applied_index", &v) == 0)
			put_u64_pair(out, "applied_index", v);
		dr_buf_put_u8(out, '\n');
	}
	if (dnsd == NULL) {
		commands_put_line(out, "process.dnsd down");
	} else {
		dr_buf_put(out, "process.dnsd up", 15);
		if (commands_text_u64(dnsd, dlen, "applied_index", &v) == 0)
			put_u64_pair(out, "applied_index", v);
		if (raftd != NULL &&
		    commands_text_u64(raftd, rlen, "change_seq", &rseq) == 0 &&
		    commands_text_u64(dnsd, dlen, "change_seq", &dseq) == 0)
			put_u64_pair(out, "lag", rseq > dseq ? rseq - dseq : 0);
		dr_buf_put_u8(out, '\n');
	}
	commands_put_line(out, "process.ctld up");
}

void
commands_format(const struct commands_parsed *p, int status,
                const uint8_t *payload, size_t len, struct dr_buf *out)
{
	size_t i;

	switch (status) {
	case DR_ST_OK:
		break;
	case DR_ST_NOTFOUND:
		commands_put_line(out, "ERROR not found");
		return;
	case DR_ST_NOTLEADER:
		commands_put_line(out, "ERROR not leader");
		return;
	case DR_ST_NOLEADER:
		commands_put_line(out, "ERROR no leader");
		return;
	case DR_ST_UNKNOWN:
		commands_put_line(out, "ERROR timeout, outcome unknown");
		return;
	case DR_ST_ERROR:
	case DR_ST_BUSY:
		if (len == 0)
			commands_put_line(out, status == DR_ST_BUSY
			                           ? "ERROR busy"
			                           : "ERROR failed");
		else
			commands_put_error(out, (const char *)payload, len);
		return;
	default:
		commands_put_line(out, "ERROR unexpected answer from raftd");
		return;
	}
	switch (p->id) {
	case COMMANDS_KV_GET:
		for (i = 0; i < len; i++)
			if (!line_byte_ok(payload[i])) {
				commands_put_line(out,
				                  "ERROR value not printable");
				return;
			}
		dr_buf_put(out, payload, len);
		dr_buf_put_u8(out, '\n');
		return;
	case COMMANDS_CLUSTER_STATUS:
	case COMMANDS_CLUSTER_MEMBERS:
	case COMMANDS_RR_GET:
	case COMMANDS_ZONE_LIST:
	case COMMANDS_ZONE_DUMP:
	case COMMANDS_STATS:
	case COMMANDS_TOKEN_LIST:
		commands_put_text(out, payload, len);
		return;
	case COMMANDS_ZONE_REPLACE:
		put_success_note(out, payload, len);
		return;
	default:
		commands_put_line(out, "SUCCESS");
		return;
	}
}

/* --- table entries --- */

static void
msg_begin(struct dr_buf *msg, uint8_t type, uint16_t flags)
{
	struct dr_msg_hdr h;

	memset(&h, 0, sizeof(h));
	h.type = type;
	h.flags = flags;
	dr_wire_begin(msg, &h);
}

static int
build_session(const struct commands_parsed *p, struct dr_buf *msg,
              struct dr_buf *out, enum commands_action *act)
{
	commands_put_line(out, "OK");
	*act = COMMANDS_START_SESSION;
	return COMMANDS_DONE;
}

/* Checks the mode only: dispatch.c sets it on the connection on "OK". */
static int
build_ack(const struct commands_parsed *p, struct dr_buf *msg,
          struct dr_buf *out, enum commands_action *act)
{
	enum commands_ack a;

	if (commands_ack_parse(p->args[0], &a) != 0)
		commands_put_line(out, "ERROR usage: ack all|leader");
	else
		commands_put_line(out, "OK");
	return COMMANDS_DONE;
}

static int
build_quit(const struct commands_parsed *p, struct dr_buf *msg,
           struct dr_buf *out, enum commands_action *act)
{
	commands_put_line(out, "BYE");
	*act = COMMANDS_CLOSE;
	return COMMANDS_DONE;
}

static int
build_ping(const struct commands_parsed *p, struct dr_buf *msg,
           struct dr_buf *out, enum commands_action *act)
{
	commands_put_line(out, "PONG");
	return COMMANDS_DONE;
}

/* The command c as the write p: it carries p's request id. */
static int
build_apply(const struct commands_parsed *p, struct dr_cmd *c,
            struct dr_buf *msg, struct dr_buf *out)
{
	int rv;

	c->id = p->reqid;
	msg_begin(msg, DR_MSG_APPLY, 0);
	rv = dr_cmd_encode(c, msg);
	if (rv != 0) {
		commands_put_error(out, dr_strerror(rv),
		                   strlen(dr_strerror(rv)));
		return COMMANDS_DONE;
	}
	dr_wire_end(msg);
	return COMMANDS_SEND;
}

static int
build_kv_set(const struct commands_parsed *p, struct dr_buf *msg,
             struct dr_buf *out, enum commands_action *act)
{
	struct dr_cmd c;

	memset(&c, 0, sizeof(c));
	c.type = DR_CMD_KV_SET;
	c.nargs = 2;
	c.args[0] = p->args[0];
	c.args[1] = p->args[1];
	return build_apply(p, &c, msg, out);
}

static int
build_kv_del(const struct commands_parsed *p, struct dr_buf *msg,
             struct dr_buf *out, enum commands_action *act)
{
	struct dr_cmd c;

	memset(&c, 0, sizeof(c));
	c.type = DR_CMD_KV_DEL;
	c.nargs = 1;
	c.args[0] = p->args[0];
	return build_apply(p, &c, msg, out);
}

static int
build_kv_get(const struct commands_parsed *p, struct dr_buf *msg,
             struct dr_buf *out, enum commands_action *act)
{
	msg_begin(msg, DR_MSG_GET, p->consistent ? DR_WF_CONSISTENT : 0);
	dr_buf_put_str(msg, p->args[0].p, p->args[0].len);
	dr_wire_end(msg);
	return COMMANDS_SEND;
}

static int
build_status(const struct commands_parsed *p, struct dr_buf *msg,
             struct dr_buf *out, enum commands_action *act)
{
	msg_begin(msg, DR_MSG_STATUS, 0);
	dr_wire_end(msg);
	return COMMANDS_SEND;
}

static int
build_members(const struct commands_parsed *p, struct dr_buf *msg,
              struct dr_buf *out, enum commands_action *act)
{
	msg_begin(msg, DR_MSG_MEMBERS, 0);
	dr_wire_end(msg);
	return COMMANDS_SEND;
}

/* Node ids follow the -id flag's rule: [A-Za-z0-9._-]{1,64}. */
static bool
addr_ok(struct dr_str s)
{
	char tmp[DR_ADDR_LEN];
	struct dr_addr a;

	if (s.len >= sizeof(tmp))
		return false;
	memcpy(tmp, s.p, s.len);
	tmp[s.len] = '\0';
	return dr_addr_parse(tmp, &a) == 0;
}

/* JOIN or MEMBER_UPDATE: id and three addresses. */
static int
build_member_addrs(const struct commands_parsed *p, uint8_t type,
                   struct dr_buf *msg, struct dr_buf *out)
{
	unsigned i;

	if (!dr_id_valid(p->args[0].p, p->args[0].len)) {
		commands_put_line(out, "ERROR invalid id");
		return COMMANDS_DONE;
	}
	for (i = 1; i < 4; i++)
		if (!addr_ok(p->args[i])) {
			dr_buf_put(out, "ERROR invalid address ", 22);
			put_sanitized(out, p->args[i].p, p->args[i].len);
			dr_buf_put_u8(out, '\n');
			return COMMANDS_DONE;
		}
	msg_begin(msg, type, 0);
	for (i = 0; i < 4; i++)
		dr_buf_put_str(msg, p->args[i].p, p->args[i].len);
	dr_wire_end(msg);
	return COMMANDS_SEND;
}

static int
build_join(const struct commands_parsed *p, struct dr_buf *msg,
           struct dr_buf *out, enum commands_action *act)
{
	return build_member_addrs(p, DR_MSG_JOIN, msg, out);
}

static int
build_update(const struct commands_parsed *p, struct dr_buf *msg,
             struct dr_buf *out, enum commands_action *act)
{
	return build_member_addrs(p, DR_MSG_MEMBER_UPDATE, msg, out);
}

static int
build_remove(const struct commands_parsed *p, struct dr_buf *msg,
             struct dr_buf *out, enum commands_action *act)
{
	if (!dr_id_valid(p->args[0].p, p->args[0].len)) {
		commands_put_line(out, "ERROR invalid id");
		return COMMANDS_DONE;
	}
	msg_begin(msg, DR_MSG_REMOVE, 0);
	dr_buf_put_str(msg, p->args[0].p, p->args[0].len);
	dr_wire_end(msg);
	return COMMANDS_SEND;
}

static int
build_transfer(const struct commands_parsed *p, struct dr_buf *msg,
               struct dr_buf *out, enum commands_action *act)
{
	if (p->nargs == 1 && !dr_id_valid(p->args[0].p, p->args[0].len)) {
		commands_put_line(out, "ERROR invalid id");
		return COMMANDS_DONE;
	}
	msg_begin(msg, DR_MSG_TRANSFER, 0);
	if (p->nargs == 1)
		dr_buf_put_str(msg, p->args[0].p, p->args[0].len);
	else
		dr_buf_put_str(msg, "", 0);
	dr_wire_end(msg);
	return COMMANDS_SEND;
}

/* --- records and zones --- */

int
commands_name_arg(struct dr_str s, char *out)
{
	char tmp[COMMANDS_NAME_LEN * 4 + 1];

	if (s.len == 0 || s.len >= sizeof(tmp))
		return DR_EINVAL;
	memcpy(tmp, s.p, s.len);
	tmp[s.len] = '\0';
	return dr_zone_name(tmp, out, COMMANDS_NAME_LEN);
}

/* Appends "ERROR invalid <what> <arg>" with arg sanitized. */
static int
put_invalid(struct dr_buf *out, const char *what, struct dr_str arg)
{
	dr_buf_put(out, "ERROR invalid ", 14);
	dr_buf_put(out, what, strlen(what));
	dr_buf_put_u8(out, ' ');
	put_sanitized(out, arg.p, arg.len > 256 ? 256 : arg.len);
	dr_buf_put_u8(out, '\n');
	return COMMANDS_DONE;
}

static struct dr_str
str_of(const char *z)
{
	struct dr_str s = { z, strlen(z) };

	return s;
}

/*
 * RR_ADD (zone, owner, type, ttl, rdata) or RR_DEL (zone, owner, type,
 * rdata) from "rr add|del ZONE RR": the record is parsed here, so raftd
 * only ever sees canonical lines and bad input never leaves ctld.
 */
static int
build_rr(const struct commands_parsed *p, struct dr_buf *msg,
         struct dr_buf *out, enum commands_action *act)
{
	char zone[COMMANDS_NAME_LEN], err[DR_RR_ERR_LEN];
	struct dr_buf line;
	struct dr_cmd c;
	struct dr_rr rr;
	char *text;
	int rv;

	if (commands_name_arg(p->args[0], zone) != 0)
		return put_invalid(out, "zone name", p->args[0]);
	text = dr_str_dup(p->args[1]);
	dr_buf_init(&line);
	rv =
	    dr_rr_parse(text, zone, DR_RR_DEFAULT_TTL, &line, err, sizeof(err));
	free(text);
	if (rv == 0 &&
	    dr_rr_split((const char *)line.data, line.len, &rr) != 0) {
		(void)snprintf(err, sizeof(err), "record cannot be stored");
		rv = DR_EINVAL;
	}
	if (rv == 0 && !dr_rr_in_zone(rr.owner, str_of(zone))) {
		(void)snprintf(err, sizeof(err), "%.*s is outside the zone %s",
		               (int)rr.owner.len, rr.owner.p, zone);
		rv = DR_EINVAL;
	}
	if (rv != 0) {
		commands_put_error(out, err, strlen(err));
		dr_buf_close(&line);
		return COMMANDS_DONE;
	}
	memset(&c, 0, sizeof(c));
	c.args[0] = str_of(zone);
	c.args[1] = rr.owner;
	c.args[2] = rr.type;
	if (p->id == COMMANDS_RR_ADD) {
		c.type = DR_CMD_RR_ADD;
		c.nargs = 5;
		c.args[3] = rr.ttl;
		c.args[4] = rr.rdata;
	} else {
		c.type = DR_CMD_RR_DEL;
		c.nargs = 4;
		c.args[3] = rr.rdata;
	}
	rv = build_apply(p, &c, msg, out);
	dr_buf_close(&line);
	return rv;
}

/*
 * A type mnemonic as the records table holds it: letters, digits and
 * '-', uppercased ("a" -> "A", "type65534" -> "TYPE65534").
 */
static int
type_arg(struct dr_str s, char *out, size_t outlen)
{
	size_t i;

	if (s.len == 0 || s.len >= outlen)
		return DR_EINVAL;
	for (i = 0; i < s.len; i++) {
		char ch = s.p[i];

		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		else if (!(ch >= 'A' && ch <= 'Z') &&
		         !(ch >= '0' && ch <= '9') && ch != '-')
			return DR_EINVAL;
		out[i] = ch;
	}
	out[s.len] = '\0';
	return 0;
}

static int
build_rr_get(const struct commands_parsed *p, struct dr_buf *msg,
             struct dr_buf *out, enum commands_action *act)
{
	char name[COMMANDS_NAME_LEN], type[32] = "";

	if (commands_name_arg(p->args[0], name) != 0)
		return put_invalid(out, "name", p->args[0]);
	if (p->nargs == 2 && type_arg(p->args[1], type, sizeof(type)) != 0)
		return put_invalid(out, "type", p->args[1]);
	msg_begin(msg, DR_MSG_RR_GET, 0);
	dr_buf_put_cstr(msg, name);
	dr_buf_put_cstr(msg, type);
	dr_wire_end(msg);
	return COMMANDS_SEND;
}

static int
build_zone_list(const struct commands_parsed *p, struct dr_buf *msg,
                struct dr_buf *out, enum commands_action *act)
{
	msg_begin(msg, DR_MSG_ZONE_LIST, 0);
	dr_wire_end(msg);
	return COMMANDS_SEND;
}

int
commands_dump_msg(const struct commands_parsed *p, uint64_t cursor,
                  uint32_t chunk, struct dr_buf *msg)
{
	char zone[COMMANDS_NAME_LEN];

	if (commands_name_arg(p->args[0], zone) != 0)
		return DR_EINVAL;
	dr_buf_reset(msg);
	msg_begin(msg, DR_MSG_ZONE_DUMP, 0);
	dr_buf_put_cstr(msg, zone);
	dr_buf_put_u64(msg, cursor);
	dr_buf_put_u32(msg, chunk);
	dr_wire_end(msg);
	return 0;
}

static int
build_zone_dump(const struct commands_parsed *p, struct dr_buf *msg,
                struct dr_buf *out, enum commands_action *act)
{
	if (commands_dump_msg(p, 0, COMMANDS_DUMP_CHUNK, msg) != 0)
		return put_invalid(out, "zone name", p->args[0]);
	return COMMANDS_SEND;
}

static int
build_zone_del(const struct commands_parsed *p, struct dr_buf *msg,
               struct dr_buf *out, enum commands_action *act)
{
	char zone[COMMANDS_NAME_LEN];
	struct dr_cmd c;

	if (commands_name_arg(p->args[0], zone) != 0)
		return put_invalid(out, "zone name", p->args[0]);
	memset(&c, 0, sizeof(c));
	c.type = DR_CMD_ZONE_DEL;
	c.nargs = 1;
	c.args[0] = str_of(zone);
	return build_apply(p, &c, msg, out);
}

static int
build_zone_reload(const struct commands_parsed *p, struct dr_buf *msg,
                  struct dr_buf *out, enum commands_action *act)
{
	return COMMANDS_RELOAD;
}

/*
 * ZONE_REPLACE (zone, source, records). The records were collected and
 * checked with the line (replace.h); without them (a caller that did not
 * read the lines) nothing is sent.
 */
static int
build_zone_replace(const struct commands_parsed *p, struct dr_buf *msg,
                   struct dr_buf *out, enum commands_action *act)
{
	char zone[COMMANDS_NAME_LEN];
	struct dr_cmd c;

	if (commands_name_arg(p->args[0], zone) != 0)
		return put_invalid(out, "zone name", p->args[0]);
	if (p->records.len == 0) {
		commands_put_line(out, "ERROR no records");
		return COMMANDS_DONE;
	}
	memset(&c, 0, sizeof(c));
	c.type = DR_CMD_ZONE_REPLACE;
	c.nargs = 3;
	c.args[0] = str_of(zone);
	c.args[1] = p->nargs == 2 ? p->args[1] : str_of("ctl");
	c.args[2] = p->records;
	return build_apply(p, &c, msg, out);
}

static int
build_stats(const struct commands_parsed *p, struct dr_buf *msg,
            struct dr_buf *out, enum commands_action *act)
{
	msg_begin(msg, DR_MSG_STATUS, 0);
	dr_wire_end(msg);
	return COMMANDS_SEND;
}

/* --- operators' tokens --- */

const char *
commands_role_name(enum commands_role r)
{
	static const char *const names[] = { "none", "read", "write", "admin",
		                             "peer" };

	return r <= COMMANDS_ROLE_PEER ? names[r] : "none";
}

int
commands_role_parse(struct dr_str s, enum commands_role *r)
{
	enum commands_role i;

	for (i = COMMANDS_ROLE_READ; i <= COMMANDS_ROLE_ADMIN; i++)
		if (word_is(s, commands_role_name(i))) {
			*r = i;
			return 0;
		}
	return DR_EINVAL;
}

int
commands_ack_parse(struct dr_str s, enum commands_ack *a)
{
	if (word_is(s, "all"))
		*a = COMMANDS_ACK_ALL;
	else if (word_is(s, "leader"))
		*a = COMMANDS_ACK_LEADER;
	else
		return DR_EINVAL;
	return 0;
}

static void
hex_of(const uint8_t *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void
commands_token_hash(const char *token, size_t len, char *hash)
{
	uint8_t md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)token, len, md);
	hex_of(md, sizeof(md), hash);
}

void
commands_token_new(char *token, char *hash)
{
	uint8_t r[32];

	if (RAND_bytes(r, sizeof(r)) != 1)
		abort(); /* no randomness: nothing safe to hand out */
	memcpy(token, "drt_", 4);
	hex_of(r, sizeof(r), token + 4);
	OPENSSL_cleanse(r, sizeof(r));
	commands_token_hash(token, COMMANDS_TOKEN_LEN, hash);
}

/* auth TOKEN: raftd looks the token's hash up. */
static int
build_auth(const struct commands_parsed *p, struct dr_buf *msg,
           struct dr_buf *out, enum commands_action *act)
{
	char hash[COMMANDS_HASH_LEN + 1];

	commands_token_hash(p->args[0].p, p->args[0].len, hash);
	msg_begin(msg, DR_MSG_TOKEN_CHECK, 0);
	dr_buf_put_cstr(msg, hash);
	dr_wire_end(msg);
	return COMMANDS_SEND;
}

/*
 * token add NAME ROLE: TOKEN_ADD with the hash of the token the caller
 * made (p->token_hash, see commands_token_new); the token itself goes
 * nowhere but into the reply.
 */
static int
build_token_add(const struct commands_parsed *p, struct dr_buf *msg,
                struct dr_buf *out, enum commands_action *act)
{
	enum commands_role role;
	struct dr_cmd c;

	if (!dr_id_valid(p->args[0].p, p->args[0].len))
		return put_invalid(out, "token name", p->args[0]);
	if (commands_role_parse(p->args[1], &role) != 0)
		return put_invalid(out, "role (read, write or admin)",
		                   p->args[1]);
	if (p->token_hash == NULL ||
	    !dr_str_is_hex(str_of(p->token_hash), COMMANDS_HASH_LEN)) {
		commands_put_line(out, "ERROR no token made");
		return COMMANDS_DONE;
	}
	memset(&c, 0, sizeof(c));
	c.type = DR_CMD_TOKEN_ADD;
	c.nargs = 3;
	c.args[0] = p->args[0];
	c.args[1] = str_of(commands_role_name(role));
	c.args[2] = str_of(p->token_hash);
	return build_apply(p, &c, msg, out);
}

static int
build_token_list(const struct commands_parsed *p, struct dr_buf *msg,
                 struct dr_buf *out, enum commands_action *act)
{
	msg_begin(msg, DR_MSG_TOKEN_LIST, 0);
	dr_wire_end(msg);
	return COMMANDS_SEND;
}

static int
build_token_del(const struct commands_parsed *p, struct dr_buf *msg,
                struct dr_buf *out, enum commands_action *act)
{
	struct dr_cmd c;

	if (!dr_id_valid(p->args[0].p, p->args[0].len))
		return put_invalid(out, "token name", p->args[0]);
	memset(&c, 0, sizeof(c));
	c.type = DR_CMD_TOKEN_DEL;
	c.nargs = 1;
	c.args[0] = p->args[0];
	return build_apply(p, &c, msg, out);
}
