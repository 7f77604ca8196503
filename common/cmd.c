/* Raft command encoding: versioned header, length-prefixed args, 8-byte pad. */
#include "cmd.h"

#include <string.h>

#include "err.h"

struct cmd_info {
	const char *name;
	unsigned nargs;
};

static const struct cmd_info cmd_table[DR_CMD_TYPE_MAX + 1] = {
	[DR_CMD_KV_SET] = { "kv_set", 2 },
	[DR_CMD_KV_DEL] = { "kv_del", 1 },
	[DR_CMD_MEMBER_ADD] = { "member_add", 5 },
	[DR_CMD_MEMBER_DEL] = { "member_del", 1 },
	[DR_CMD_RR_ADD] = { "rr_add", 5 },
	[DR_CMD_RR_DEL] = { "rr_del", 4 },
	[DR_CMD_ZONE_REPLACE] = { "zone_replace", 3 },
	[DR_CMD_ZONE_DEL] = { "zone_del", 1 },
	[DR_CMD_TOKEN_ADD] = { "token_add", 3 },
	[DR_CMD_TOKEN_DEL] = { "token_del", 1 },
};

static const struct cmd_info *
cmd_lookup(unsigned type)
{
	if (type == 0 || type > DR_CMD_TYPE_MAX)
		return NULL;
	return &cmd_table[type];
}

const char *
dr_cmd_name(unsigned type)
{
	const struct cmd_info *info = cmd_lookup(type);

	return info ? info->name : "unknown";
}

int
dr_cmd_encode(const struct dr_cmd *c, struct dr_buf *out)
{
	static const uint8_t zeros[8];
	const struct cmd_info *info = cmd_lookup(c->type);
	size_t body = 0, total, i;

	if (info == NULL || c->nargs != info->nargs)
		return DR_EINVAL;
	for (i = 0; i < c->nargs; i++) {
		if (c->args[i].len > DR_CMD_MAX_LEN)
			return DR_ETOOBIG;
		body += 4 + c->args[i].len;
	}
	total = (c->id.origin != 0 ? DR_CMD_ID_HDR_LEN : DR_CMD_HDR_LEN) + body;
	if (total > DR_CMD_MAX_LEN)
		return DR_ETOOBIG;
	dr_buf_put_u8(out,
	              c->id.origin != 0 ? DR_CMD_VERSION_ID : DR_CMD_VERSION);
	dr_buf_put_u8(out, (uint8_t)c->type);
	dr_buf_put_u16(out, (uint16_t)c->nargs);
	dr_buf_put_u32(out, (uint32_t)body);
	if (c->id.origin != 0) {
		dr_buf_put_u64(out, c->id.origin);
		dr_buf_put_u64(out, c->id.run);
		dr_buf_put_u64(out, c->id.seq);
		dr_buf_put_u64(out, c->id.floor);
	}
	for (i = 0; i < c->nargs; i++)
		dr_buf_put_str(out, c->args[i].p, c->args[i].len);
	dr_buf_put(out, zeros, (8 - total % 8) % 8);
	return 0;
}

int
dr_cmd_decode(const void *data, size_t len, struct dr_cmd *c)
{
	struct dr_cursor cur;
	const struct cmd_info *info;
	const uint8_t *pad;
	uint8_t version, type;
	uint16_t nargs;
	uint32_t body;
	struct dr_reqid id;
	size_t padlen, hdrlen, i;

	if (len % 8 != 0 || len > DR_CMD_MAX_LEN)
		return DR_EMALFORMED;
	dr_cursor_init(&cur, data, len);
	if (dr_get_u8(&cur, &version) != 0 ||
	    (version != DR_CMD_VERSION && version != DR_CMD_VERSION_ID))
		return DR_EMALFORMED;
	if (dr_get_u8(&cur, &type) != 0 || (info = cmd_lookup(type)) == NULL)
		return DR_EMALFORMED;
	if (dr_get_u16(&cur, &nargs) != 0 || nargs != info->nargs)
		return DR_EMALFORMED;
	if (dr_get_u32(&cur, &body) != 0)
		return DR_EMALFORMED;
	memset(&id, 0, sizeof(id));
	hdrlen = DR_CMD_HDR_LEN;
	if (version == DR_CMD_VERSION_ID) {
		hdrlen = DR_CMD_ID_HDR_LEN;
		if (dr_get_u64(&cur, &id.origin) != 0 ||
		    dr_get_u64(&cur, &id.run) != 0 ||
		    dr_get_u64(&cur, &id.seq) != 0 ||
		    dr_get_u64(&cur, &id.floor) != 0 || id.origin == 0 ||
		    id.seq == 0 || id.floor > id.seq)
			return DR_EMALFORMED;
	}
	if (body > cur.left)
		return DR_EMALFORMED;
	/* What follows the body must be exactly the zero padding. */
	padlen = cur.left - body;
	if (padlen != (8 - (hdrlen + body) % 8) % 8)
		return DR_EMALFORMED;
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->type = type;
	c->nargs = nargs;
	for (i = 0; i < nargs; i++)
		if (dr_get_str(&cur, &c->args[i]) != 0)
			return DR_EMALFORMED;
	if (cur.left != padlen || dr_get_bytes(&cur, padlen, &pad) != 0)
		return DR_EMALFORMED;
	for (i = 0; i < padlen; i++)
		if (pad[i] != 0)
			return DR_EMALFORMED;
	return 0;
}
