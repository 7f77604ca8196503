/* Checks the c-raft messages a peer sends before c-raft decodes them. */
#include "frames.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

enum {
	FRAMES_PRE,     /* collecting the 16-byte type and length */
	FRAMES_HDR,     /* collecting the header */
	FRAMES_PAYLOAD, /* passing the payload */
	FRAMES_BROKEN,
};

/* c-raft's message types (RAFT_IO_*) and entry types. */
enum {
	FRAMES_APPEND_ENTRIES = 1,
	FRAMES_APPEND_ENTRIES_RESULT,
	FRAMES_REQUEST_VOTE,
	FRAMES_REQUEST_VOTE_RESULT,
	FRAMES_INSTALL_SNAPSHOT,
	FRAMES_TIMEOUT_NOW,
};
enum { FRAMES_COMMAND = 1, FRAMES_BARRIER, FRAMES_CHANGE };

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

void
frames_init(struct frames *f)
{
	memset(f, 0, sizeof(*f));
	f->why = "";
}

static void
frames_reset_message(struct frames *f)
{
	free(f->hdr);
	free(f->lens);
	free(f->types);
	free(f->change);
	f->hdr = NULL;
	f->lens = NULL;
	f->types = NULL;
	f->change = NULL;
	f->have = 0;
	f->nentries = f->entry = f->entry_left = 0;
	f->change_have = 0;
	f->payload_left = 0;
}

void
frames_close(struct frames *f)
{
	frames_reset_message(f);
}

int
frames_check_conf(const uint8_t *p, size_t len)
{
	uint64_t n, i;
	size_t off = 9;
	const uint8_t *nul;

	if (len < 9 || p[0] != 1)
		return DR_EMALFORMED;
	n = le64(p + 1);
	if (n > FRAMES_SERVERS_MAX)
		return DR_EMALFORMED;
	for (i = 0; i < n; i++) {
		if (len - off < 8 + 2) /* id, at least "" and a role */
			return DR_EMALFORMED;
		off += 8;
		nul = memchr(p + off, '\0', len - off);
		if (nul == NULL || nul == p + off)
			return DR_EMALFORMED;
		off = (size_t)(nul - p) + 1;
		if (off >= len || p[off] > 2)
			return DR_EMALFORMED;
		off++;
	}
	/* c-raft pads to 8 bytes without clearing the padding. */
	return len - off < 8 ? 0 : DR_EMALFORMED;
}

static int
frames_bad(struct frames *f, const char *why)
{
	f->why = why;
	f->state = FRAMES_BROKEN;
	frames_reset_message(f);
	return DR_EMALFORMED;
}

/* The entry headers of an AppendEntries (see frames.h). */
static int
frames_check_entries(struct frames *f)
{
	const uint8_t *h = f->hdr;
	uint64_t n = le64(h + 32), i, sum = 0;

	if (n > FRAMES_ENTRIES_MAX)
		return frames_bad(f, "too many entries");
	if (f->hlen < 40 + 16 * n || f->hlen > 48 + 16 * n)
		return frames_bad(f, "entry count does not match the header");
	f->nentries = n;
	if (n > 0) {
		f->lens = malloc(n * sizeof(*f->lens));
		f->types = malloc(n);
		if (f->lens == NULL || f->types == NULL)
			abort();
	}
	for (i = 0; i < n; i++) {
		const uint8_t *e = h + 40 + 16 * i;
		uint8_t type = e[8];
		uint32_t len = le32(e + 12);

		if (type < FRAMES_COMMAND || type > FRAMES_CHANGE)
			return frames_bad(f, "invalid entry type");
		if (len % 8 != 0)
			return frames_bad(f, "entry not a multiple of 8");
		if (type == FRAMES_CHANGE && len > FRAMES_CHANGE_MAX)
			return frames_bad(f, "configuration entry too long");
		f->types[i] = type;
		f->lens[i] = len;
		sum += len;
	}
	if (sum > FRAMES_PAYLOAD_MAX)
		return frames_bad(f, "entries too long");
	f->payload_left = sum;
	return 0;
}

static int
frames_check_header(struct frames *f, uint64_t type)
{
	uint64_t h = f->hlen, conf;

	switch (type) {
	case FRAMES_APPEND_ENTRIES:
		if (h < 40)
			return frames_bad(f, "short AppendEntries");
		return frames_check_entries(f);
	case FRAMES_APPEND_ENTRIES_RESULT:
	case FRAMES_TIMEOUT_NOW:
		if (h < 24 || h > 32)
			return frames_bad(f, "bad header length");
		return 0;
	case FRAMES_REQUEST_VOTE:
		if (h != 32 && (h < 40 || h > 48))
			return frames_bad(f, "bad RequestVote length");
		return 0;
	case FRAMES_REQUEST_VOTE_RESULT:
		if (h != 16 && (h < 24 || h > 32))
			return frames_bad(f, "bad RequestVoteResult length");
		return 0;
	case FRAMES_INSTALL_SNAPSHOT:
		if (h < 48)
			return frames_bad(f, "short InstallSnapshot");
		conf = le64(f->hdr + 32);
		if (conf > h || h < 48 + conf || h > 56 + conf)
			return frames_bad(f, "configuration length does not "
			                     "match the header");
		if (frames_check_conf(f->hdr + 40, conf) != 0)
			return frames_bad(f, "malformed configuration");
		f->payload_left = le64(f->hdr + 40 + conf);
		if (f->payload_left > FRAMES_PAYLOAD_MAX)
			return frames_bad(f, "snapshot too long");
		return 0;
	default:
		return frames_bad(f, "unknown message type");
	}
}

/* After the header: the payload, or the next message. */
static void
frames_next_state(struct frames *f)
{
	free(f->hdr);
	f->hdr = NULL;
	f->have = 0;
	f->entry = 0;
	f->entry_left = f->nentries > 0 ? f->lens[0] : 0;
	f->state = f->payload_left > 0 ? FRAMES_PAYLOAD : FRAMES_PRE;
	if (f->state == FRAMES_PRE)
		frames_reset_message(f);
}

/* Passes up to len payload bytes; returns how many were used, or -1. */
static long
frames_payload(struct frames *f, const uint8_t *p, size_t len,
               frames_out_fn out, void *arg)
{
	size_t n;

	if (f->nentries == 0) { /* a snapshot's data */
		n = len < f->payload_left ? len : (size_t)f->payload_left;
		out(arg, p, n);
		f->payload_left -= n;
		return (long)n;
	}
	while (f->entry_left == 0) /* entries without data */
		f->entry_left = f->lens[++f->entry];
	n = len < f->entry_left ? len : (size_t)f->entry_left;
	if (f->types[f->entry] == FRAMES_CHANGE) {
		if (f->change == NULL) {
			f->change = malloc(f->lens[f->entry]);
			if (f->change == NULL)
				abort();
		}
		memcpy(f->change + f->change_have, p, n);
		f->change_have += n;
	} else {
		out(arg, p, n);
	}
	f->entry_left -= n;
	f->payload_left -= n;
	if (f->entry_left == 0 && f->types[f->entry] == FRAMES_CHANGE) {
		if (frames_check_conf(f->change, f->change_have) != 0) {
			frames_bad(f, "malformed configuration entry");
			return -1;
		}
		out(arg, f->change, f->change_have);
		free(f->change);
		f->change = NULL;
		f->change_have = 0;
	}
	if (f->entry_left == 0 && f->entry + 1 < f->nentries)
		f->entry_left = f->lens[++f->entry];
	return (long)n;
}

int
frames_feed(struct frames *f, const uint8_t *p, size_t len, frames_out_fn out,
            void *arg)
{
	uint64_t type;
	size_t n;
	long used;

	while (len > 0) {
		switch (f->state) {
		case FRAMES_PRE:
			n = sizeof(f->pre) - f->have;
			n = len < n ? len : n;
			memcpy(f->pre + f->have, p, n);
			f->have += n;
			p += n;
			len -= n;
			if (f->have < sizeof(f->pre))
				break;
			type = le64(f->pre);
			f->hlen = le64(f->pre + 8);
			if (type < FRAMES_APPEND_ENTRIES ||
			    type > FRAMES_TIMEOUT_NOW)
				return frames_bad(f, "unknown message type");
			if (f->hlen == 0 || f->hlen > FRAMES_HEADER_MAX)
				return frames_bad(f, "bad header length");
			f->hdr = malloc(f->hlen);
			if (f->hdr == NULL)
				abort();
			f->have = 0;
			f->state = FRAMES_HDR;
			break;
		case FRAMES_HDR:
			n = (size_t)(f->hlen - f->have);
			n = len < n ? len : n;
			memcpy(f->hdr + f->have, p, n);
			f->have += n;
			p += n;
			len -= n;
			if (f->have < f->hlen)
				break;
			if (frames_check_header(f, le64(f->pre)) != 0)
				return DR_EMALFORMED;
			out(arg, f->pre, sizeof(f->pre));
			out(arg, f->hdr, (size_t)f->hlen);
			frames_next_state(f);
			break;
		case FRAMES_PAYLOAD:
			used = frames_payload(f, p, len, out, arg);
			if (used < 0)
				return DR_EMALFORMED;
			p += used;
			len -= (size_t)used;
			if (f->payload_left == 0) {
				f->state = FRAMES_PRE;
				frames_reset_message(f);
			}
			break;
		default:
			return DR_EMALFORMED;
		}
	}
	return 0;
}
