/* raftd/frames: c-raft messages are passed whole and checked, bad ones stop. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "frames.h"
#include "transport.h"
#include "unit.h"

struct msg {
	uint8_t b[4096];
	size_t n;
};

static void
put64(struct msg *m, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		m->b[m->n++] = (uint8_t)v;
}

static void
put8(struct msg *m, uint8_t v)
{
	m->b[m->n++] = v;
}

static void
put32(struct msg *m, uint32_t v)
{
	for (int i = 0; i < 4; i++, v >>= 8)
		m->b[m->n++] = (uint8_t)v;
}

static void
putstr(struct msg *m, const char *s)
{
	memcpy(m->b + m->n, s, strlen(s) + 1);
	m->n += strlen(s) + 1;
}

/* A configuration of two servers, padded to 8 with garbage. */
static size_t
conf(struct msg *m)
{
	size_t start = m->n;

	put8(m, 1);
	put64(m, 2);
	put64(m, 11);
	putstr(m, "127.0.0.1:9001");
	put8(m, 1);
	put64(m, 12);
	putstr(m, "127.0.0.1:9002");
	put8(m, 2);
	while ((m->n - start) % 8 != 0)
		put8(m, 0xaa);
	return m->n - start;
}

/* AppendEntries with the entries' types and data lengths. */
static void
append_entries(struct msg *m, unsigned n, const uint8_t *types,
               const uint32_t *lens)
{
	unsigned i;

	m->n = 0;
	put64(m, 1);
	put64(m, 48 + 16 * n);
	put64(m, 5);  /* term */
	put64(m, 10); /* prev index */
	put64(m, 4);  /* prev term */
	put64(m, 9);  /* commit */
	put64(m, n);
	for (i = 0; i < n; i++) {
		put64(m, 5);
		put8(m, types[i]);
		put8(m, 0);
		put8(m, 0);
		put8(m, 0);
		put32(m, lens[i]);
	}
	put64(m, 0); /* the 8 bytes c-raft counts and does not write */
	for (i = 0; i < n; i++) {
		if (types[i] == 3) {
			struct msg c = { .n = 0 };

			conf(&c);
			memcpy(m->b + m->n, c.b, c.n);
			m->n += c.n;
		} else {
			memset(m->b + m->n, 'a' + (int)i, lens[i]);
			m->n += lens[i];
		}
	}
}

static void
out_fn(void *arg, const uint8_t *p, size_t len)
{
	struct msg *o = arg;

	CHECK(o->n + len <= sizeof(o->b));
	if (o->n + len <= sizeof(o->b)) {
		memcpy(o->b + o->n, p, len);
		o->n += len;
	}
}

/* Fed whole and byte by byte, the output equals the input. */
static void
check_passes(const struct msg *m)
{
	struct frames f;
	struct msg o = { .n = 0 };
	size_t i;

	frames_init(&f);
	CHECK_EQ_INT(frames_feed(&f, m->b, m->n, out_fn, &o), 0);
	CHECK_EQ_INT(o.n, m->n);
	CHECK(memcmp(o.b, m->b, m->n) == 0);
	frames_close(&f);
	frames_init(&f);
	o.n = 0;
	for (i = 0; i < m->n; i++)
		CHECK_EQ_INT(frames_feed(&f, m->b + i, 1, out_fn, &o), 0);
	CHECK_EQ_INT(o.n, m->n);
	CHECK(memcmp(o.b, m->b, m->n) == 0);
	/* Twice in a row: the state starts over after each message. */
	CHECK_EQ_INT(frames_feed(&f, m->b, m->n, out_fn, &o), 0);
	CHECK_EQ_INT(o.n, 2 * m->n);
	frames_close(&f);
}

/* Refused with a reason containing why; nothing of it was passed. */
static void
check_refused(const struct msg *m, const char *why)
{
	struct frames f;
	struct msg o = { .n = 0 };
	size_t i;
	int rv = 0;

	frames_init(&f);
	for (i = 0; i < m->n && rv == 0; i++)
		rv = frames_feed(&f, m->b + i, 1, out_fn, &o);
	CHECK_EQ_INT(rv, DR_EMALFORMED);
	if (strstr(f.why, why) == NULL)
		fprintf(stderr, "reason \"%s\", want \"%s\"\n", f.why, why);
	CHECK(strstr(f.why, why) != NULL);
	/* Only whole earlier messages (none here) went out. */
	CHECK(o.n == 0 || o.n == 16 + (size_t)m->b[8]);
	/* Once broken, it stays broken. */
	CHECK_EQ_INT(frames_feed(&f, m->b, 1, out_fn, &o), DR_EMALFORMED);
	frames_close(&f);
}

static void
test_good_messages(void)
{
	static const uint8_t types[] = { 1, 2, 3, 1 };
	static const uint32_t lens[] = { 16, 8, 0, 0 };
	uint32_t clen;
	struct msg m, c = { .n = 0 };

	append_entries(&m, 0, NULL, NULL); /* a heartbeat */
	check_passes(&m);
	clen = (uint32_t)conf(&c);
	{
		uint32_t l[] = { lens[0], lens[1], clen, lens[3] };

		append_entries(&m, 4, types, l);
		check_passes(&m);
	}
	m.n = 0; /* AppendEntriesResult */
	put64(&m, 2);
	put64(&m, 24);
	put64(&m, 5);
	put64(&m, 0);
	put64(&m, 12);
	check_passes(&m);
	m.n = 0; /* RequestVote with flags */
	put64(&m, 3);
	put64(&m, 40);
	for (int i = 0; i < 5; i++)
		put64(&m, (uint64_t)i + 1);
	check_passes(&m);
	m.n = 0; /* RequestVoteResult */
	put64(&m, 4);
	put64(&m, 24);
	for (int i = 0; i < 3; i++)
		put64(&m, 1);
	check_passes(&m);
	m.n = 0; /* TimeoutNow */
	put64(&m, 6);
	put64(&m, 24);
	for (int i = 0; i < 3; i++)
		put64(&m, 7);
	check_passes(&m);
	/* InstallSnapshot with 40 bytes of data. */
	c.n = 0;
	clen = (uint32_t)conf(&c);
	m.n = 0;
	put64(&m, 5);
	put64(&m, 56 + clen);
	for (int i = 0; i < 4; i++)
		put64(&m, 9);
	put64(&m, clen);
	memcpy(m.b + m.n, c.b, c.n);
	m.n += c.n;
	put64(&m, 40);
	put64(&m, 0);
	memset(m.b + m.n, 'z', 40);
	m.n += 40;
	check_passes(&m);
}

static void
test_bad_messages(void)
{
	static const uint8_t bad_type[] = { 0 };
	static const uint8_t four[] = { 4 };
	static const uint8_t change[] = { 3 };
	static const uint32_t eight[] = { 8 };
	static const uint32_t seven[] = { 7 };
	struct msg m;

	/* The packet that crashed c-raft: one entry of type byte 0. */
	append_entries(&m, 1, bad_type, eight);
	check_refused(&m, "invalid entry type");
	append_entries(&m, 1, four, eight);
	check_refused(&m, "invalid entry type");
	append_entries(&m, 1, (const uint8_t[]){ 1 }, seven);
	check_refused(&m, "multiple of 8");
	/* n_entries larger than the header holds. */
	append_entries(&m, 1, (const uint8_t[]){ 1 }, eight);
	m.b[16 + 32] = 3;
	check_refused(&m, "does not match");
	append_entries(&m, 0, NULL, NULL);
	m.b[16 + 32] = 0xff;
	m.b[16 + 33] = 0xff;
	m.b[16 + 34] = 0xff;
	check_refused(&m, "too many entries");
	/* A change entry whose configuration is junk. */
	append_entries(&m, 1, change, eight);
	memset(m.b + m.n - 8, 0xee, 8);
	check_refused(&m, "configuration entry");
	/* Types, lengths. */
	m.n = 0;
	put64(&m, 0);
	put64(&m, 24);
	check_refused(&m, "unknown message type");
	m.n = 0;
	put64(&m, 7);
	put64(&m, 24);
	check_refused(&m, "unknown message type");
	m.n = 0;
	put64(&m, 2);
	put64(&m, 0);
	check_refused(&m, "bad header length");
	m.n = 0;
	put64(&m, 2);
	put64(&m, UINT64_MAX);
	check_refused(&m, "bad header length");
	m.n = 0; /* RequestVote shorter than what c-raft reads */
	put64(&m, 3);
	put64(&m, 8);
	put64(&m, 1);
	check_refused(&m, "RequestVote");
	m.n = 0;
	put64(&m, 6);
	put64(&m, 8);
	put64(&m, 1);
	check_refused(&m, "bad header length");
	/* InstallSnapshot whose configuration runs past its header. */
	m.n = 0;
	put64(&m, 5);
	put64(&m, 56);
	for (int i = 0; i < 4; i++)
		put64(&m, 1);
	put64(&m, 4096);
	put64(&m, 0);
	put64(&m, 0);
	check_refused(&m, "configuration length");
}

static void
test_conf(void)
{
	struct msg c = { .n = 0 };
	size_t n = conf(&c);

	CHECK_EQ_INT(frames_check_conf(c.b, n), 0);
	CHECK_EQ_INT(frames_check_conf(c.b, 0), DR_EMALFORMED);
	CHECK_EQ_INT(frames_check_conf(c.b, 8), DR_EMALFORMED);
	/* Cut inside the second address: no NUL within the buffer. */
	CHECK_EQ_INT(frames_check_conf(c.b, 40), DR_EMALFORMED);
	c.b[0] = 2;
	CHECK_EQ_INT(frames_check_conf(c.b, n), DR_EMALFORMED);
	c.b[0] = 1;
	c.b[1] = 200; /* claims 200 servers */
	CHECK_EQ_INT(frames_check_conf(c.b, n), DR_EMALFORMED);
	c.b[1] = 2;
	c.b[9 + 8 + 15] = 9; /* a role that does not exist */
	CHECK_EQ_INT(frames_check_conf(c.b, n), DR_EMALFORMED);
}

static void
test_preamble(void)
{
	uint8_t buf[TRANSPORT_HDR_LEN + TRANSPORT_ADDR_MAX + 8];
	char addr[TRANSPORT_ADDR_MAX + 1], longaddr[300];
	raft_id id;
	size_t n, used, i;
	int ch;

	n = transport_preamble_encode(42, "10.0.0.1:8300",
	                              TRANSPORT_CHANNEL_RAFT, buf);
	CHECK_EQ_INT(n, TRANSPORT_HDR_LEN + 13);
	for (i = 0; i < n; i++)
		CHECK_EQ_INT(
		    transport_preamble_decode(buf, i, &id, addr, &used, &ch),
		    1);
	CHECK_EQ_INT(transport_preamble_decode(buf, n, &id, addr, &used, &ch),
	             0);
	CHECK_EQ_INT(id, 42);
	CHECK_EQ_INT(ch, TRANSPORT_CHANNEL_RAFT);
	CHECK_EQ_STR(addr, "10.0.0.1:8300");
	CHECK_EQ_INT(used, n);
	/* Extra bytes after it are not its own. */
	CHECK_EQ_INT(
	    transport_preamble_decode(buf, n + 3, &id, addr, &used, &ch), 0);
	CHECK_EQ_INT(used, n);
	memset(longaddr, 'a', sizeof(longaddr) - 1);
	longaddr[sizeof(longaddr) - 1] = '\0';
	CHECK_EQ_INT(
	    transport_preamble_encode(1, longaddr, TRANSPORT_CHANNEL_RAFT, buf),
	    0);
	CHECK_EQ_INT(
	    transport_preamble_encode(1, "", TRANSPORT_CHANNEL_RAFT, buf), 0);

	/* c-raft's own handshake (protocol 1, little endian) is refused. */
	memset(buf, 0, sizeof(buf));
	buf[0] = 1;
	CHECK_EQ_INT(transport_preamble_decode(buf, 1, &id, addr, &used, &ch),
	             DR_EMALFORMED);
	n = transport_preamble_encode(42, "x:1", TRANSPORT_CHANNEL_RELAY, buf);
	CHECK_EQ_INT(transport_preamble_decode(buf, n, &id, addr, &used, &ch),
	             0);
	CHECK_EQ_INT(ch, TRANSPORT_CHANNEL_RELAY);
	buf[5] = 2; /* no such channel */
	CHECK_EQ_INT(transport_preamble_decode(buf, 6, &id, addr, &used, &ch),
	             DR_EMALFORMED);
	n = transport_preamble_encode(42, "x:1", TRANSPORT_CHANNEL_RAFT, buf);
	buf[4] = 2; /* version */
	CHECK_EQ_INT(transport_preamble_decode(buf, 5, &id, addr, &used, &ch),
	             DR_EMALFORMED);
	n = transport_preamble_encode(42, "x:1", TRANSPORT_CHANNEL_RAFT, buf);
	buf[15] = 0; /* id 0 */
	CHECK_EQ_INT(transport_preamble_decode(buf, n, &id, addr, &used, &ch),
	             DR_EMALFORMED);
	n = transport_preamble_encode(42, "x:1", TRANSPORT_CHANNEL_RAFT, buf);
	buf[6] = 1; /* 256 + 3 bytes of address */
	CHECK_EQ_INT(transport_preamble_decode(buf, n, &id, addr, &used, &ch),
	             DR_EMALFORMED);
	n = transport_preamble_encode(42, "x:1", TRANSPORT_CHANNEL_RAFT, buf);
	buf[TRANSPORT_HDR_LEN + 1] = '\0'; /* no NUL inside, ever */
	CHECK_EQ_INT(transport_preamble_decode(buf, n, &id, addr, &used, &ch),
	             DR_EMALFORMED);
}

int
main(void)
{
	RUN(test_good_messages);
	RUN(test_bad_messages);
	RUN(test_conf);
	RUN(test_preamble);
	return UNIT_DONE();
}
