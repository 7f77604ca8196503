/* Unit tests for dnsd's query validation: every malformed case gets its
 * verdict. */
#include "dnsd_testzone.h"
#include "packet.h"
#include "unit.h"

static struct zonedb *db;

/* A hand-built message. */
struct msg {
	uint8_t b[4096];
	size_t n;
};

static void
put(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void
put16(struct msg *m, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	put(m, b, 2);
}

static void
header(struct msg *m, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns,
       uint16_t ar)
{
	m->n = 0;
	put16(m, 0xABCD);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

#define QNAME "\7example\3com"

static void
question(struct msg *m, uint16_t type, uint16_t class)
{
	put(m, QNAME, sizeof(QNAME)); /* with the root byte */
	put16(m, type);
	put16(m, class);
}

/* An OPT record: owner root, payload, version, DO, rdata. */
static void
opt(struct msg *m, uint16_t payload, uint8_t version, const void *rd,
    uint16_t rdlen)
{
	uint8_t root = 0;
	put(m, &root, 1);
	put16(m, 41);
	put16(m, payload);
	uint8_t ttl[4] = { 0, version, 0, 0 };
	put(m, ttl, 4);
	put16(m, rdlen);
	put(m, rd, rdlen);
}

static const uint8_t *reply;
static size_t reply_len;
static uint8_t out[65535];

/* Runs m through the query path; returns the action. */
static int
run(const struct msg *m, int transport)
{
	struct query_result res;
	int rv = query_process(db, m->b, m->n, transport, NULL, out,
	                       sizeof(out), &res);
	reply = out;
	reply_len = rv == QUERY_DROP ? 0 : res.len;
	return rv;
}

static int
rcode(void)
{
	return reply[3] & 0xF;
}

static uint16_t
count(int i)
{
	return pkt_u16(reply + 4 + 2 * i);
}

static void
test_drop(void)
{
	struct msg m;
	header(&m, 0x0100, 1, 0, 0, 0);
	question(&m, 1, 1);
	for (size_t n = 0; n < 12; n++) {
		struct msg t = m;
		t.n = n;
		CHECK_EQ_INT(run(&t, QUERY_UDP), QUERY_DROP);
	}
	header(&m, 0x8100, 1, 0, 0, 0); /* QR=1: a response */
	question(&m, 1, 1);
	CHECK_EQ_INT(run(&m, QUERY_UDP), QUERY_DROP);
	CHECK_EQ_INT(run(&m, QUERY_TCP), QUERY_DROP);
	/* The sane version of it is answered. */
	header(&m, 0x0100, 1, 0, 0, 0);
	question(&m, 1, 1);
	CHECK_EQ_INT(run(&m, QUERY_UDP), QUERY_SEND);
	CHECK_EQ_INT(rcode(), 0);
	CHECK_EQ_INT(count(1), 1);
	CHECK(reply[2] & 0x04); /* AA */
	CHECK_EQ_INT(pkt_u16(reply), 0xABCD);
}

static void
test_counts(void)
{
	struct msg m;
	/* QDCOUNT 0 and 2: FORMERR, no question echoed. */
	header(&m, 0x0100, 0, 0, 0, 0);
	CHECK_EQ_INT(run(&m, QUERY_UDP), QUERY_SEND);
	CHECK_EQ_INT(rcode(), 1);
	CHECK_EQ_INT(count(0), 0);
	CHECK_EQ_INT(reply_len, 12);
	header(&m, 0x0100, 2, 0, 0, 0);
	question(&m, 1, 1);
	question(&m, 1, 1);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	CHECK_EQ_INT(count(0), 0);
	/* ANCOUNT or NSCOUNT in a query: FORMERR, question echoed. */
	for (int i = 0; i < 2; i++) {
		header(&m, 0x0100, 1, i == 0, i == 1, 0);
		question(&m, 1, 1);
		put(&m, "\0\0\1\0\1\0\0\0\0\0\0", 11);
		run(&m, QUERY_UDP);
		CHECK_EQ_INT(rcode(), 1);
		CHECK_EQ_INT(count(0), 1);
		CHECK_EQ_INT(count(1) + count(2) + count(3), 0);
		CHECK(!(reply[2] & 0x04));
	}
}

static void
test_qname(void)
{
	struct msg m;
	/* A pointer in the question: nothing before it is a name. */
	header(&m, 0, 1, 0, 0, 0);
	put(&m, "\3www\xC0\x0C", 6);
	put16(&m, 1);
	put16(&m, 1);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	header(&m, 0, 1, 0, 0, 0);
	put(&m, "\xC0\x0C", 2); /* points at itself */
	put16(&m, 1);
	put16(&m, 1);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	header(&m, 0, 1, 0, 0, 0);
	put(&m, "\xC0\x20", 2); /* forward */
	put16(&m, 1);
	put16(&m, 1);
	put(&m, QNAME, sizeof(QNAME));
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	/* Extended label type 0x40. */
	header(&m, 0, 1, 0, 0, 0);
	put(&m, "\x41x\0", 3);
	put16(&m, 1);
	put16(&m, 1);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	/* Truncated name, missing QTYPE/QCLASS. */
	header(&m, 0, 1, 0, 0, 0);
	put(&m, "\7exam", 5);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	CHECK_EQ_INT(count(0), 0);
	header(&m, 0, 1, 0, 0, 0);
	put(&m, QNAME, sizeof(QNAME));
	put16(&m, 1);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	/* A name over 255 bytes: 5 x 63-byte labels. */
	header(&m, 0, 1, 0, 0, 0);
	for (int i = 0; i < 5; i++) {
		uint8_t l = 63;
		put(&m, &l, 1);
		memset(m.b + m.n, 'a', 63);
		m.n += 63;
	}
	put(&m, "", 1);
	put16(&m, 1);
	put16(&m, 1);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	/* Exactly 255 bytes is fine (and outside our zones). */
	header(&m, 0, 1, 0, 0, 0);
	for (int i = 0; i < 4; i++) {
		uint8_t l = i < 3 ? 63 : 61;
		put(&m, &l, 1);
		memset(m.b + m.n, 'a', l);
		m.n += l;
	}
	put(&m, "", 1);
	put16(&m, 1);
	put16(&m, 1);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 5);
	/* Trailing garbage after the question. */
	header(&m, 0, 1, 0, 0, 0);
	question(&m, 1, 1);
	put(&m, "x", 1);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	CHECK_EQ_INT(count(0), 1);
}

static bool
reply_has_opt(uint8_t *ext_rcode)
{
	/* Our OPT is always the last 11 bytes. */
	if (count(3) == 0 || reply_len < 12 + 11)
		return false;
	const uint8_t *o = reply + reply_len - 11;
	*ext_rcode = o[5];
	return o[0] == 0 && pkt_u16(o + 1) == 41;
}

static void
test_opt(void)
{
	struct msg m;
	uint8_t ext;

	/* Valid OPT with a cookie option: answered, OPT back. */
	header(&m, 0, 1, 0, 0, 1);
	question(&m, 1, 1);
	opt(&m, 1232, 0, "\0\12\0\10abcdefgh", 12);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 0);
	CHECK(reply_has_opt(&ext));
	CHECK_EQ_INT(ext, 0);
	CHECK_EQ_INT(pkt_u16(reply + reply_len - 11 + 3), 4096);
	/* Duplicate OPT: FORMERR without OPT. */
	header(&m, 0, 1, 0, 0, 2);
	question(&m, 1, 1);
	opt(&m, 1232, 0, "", 0);
	opt(&m, 1232, 0, "", 0);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	CHECK(!reply_has_opt(&ext));
	CHECK_EQ_INT(count(3), 0);
	/* Option length past the rdata. */
	header(&m, 0, 1, 0, 0, 1);
	question(&m, 1, 1);
	opt(&m, 1232, 0, "\0\12\0\20abcd", 8);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	/* Half an option header. */
	header(&m, 0, 1, 0, 0, 1);
	question(&m, 1, 1);
	opt(&m, 1232, 0, "\0\12", 2);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	/* OPT owner not the root. */
	header(&m, 0, 1, 0, 0, 1);
	question(&m, 1, 1);
	put(&m, "\1x", 2);
	opt(&m, 1232, 0, "", 0);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	/* RDLENGTH past the end of the message. */
	header(&m, 0, 1, 0, 0, 1);
	question(&m, 1, 1);
	opt(&m, 1232, 0, "", 0);
	m.b[m.n - 1] = 5;
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	/* ARCOUNT says more than there is. */
	header(&m, 0, 1, 0, 0, 2);
	question(&m, 1, 1);
	opt(&m, 1232, 0, "", 0);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	/* Bytes after the OPT. */
	header(&m, 0, 1, 0, 0, 1);
	question(&m, 1, 1);
	opt(&m, 1232, 0, "", 0);
	put(&m, "\0", 1);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	/* Version 1: BADVERS = extended rcode 1, header rcode 0. */
	header(&m, 0, 1, 0, 0, 1);
	question(&m, 1, 1);
	opt(&m, 1232, 1, "", 0);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 0);
	CHECK(reply_has_opt(&ext));
	CHECK_EQ_INT(ext, 1);
	CHECK_EQ_INT(count(0), 1);
	CHECK_EQ_INT(count(1), 0);
}

static void
test_additional_names(void)
{
	struct msg m;
	/* An extra record whose owner points back at the QNAME: fine. */
	header(&m, 0, 1, 0, 0, 1);
	question(&m, 1, 1);
	put(&m, "\xC0\x0C", 2);
	put(&m, "\0\1\0\1\0\0\0\0\0\4\1\2\3\4", 14);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 0);
	CHECK_EQ_INT(count(1), 1);
	/* Forward pointer, self pointer, pointer into the header. */
	const uint16_t bad[] = { 0xC000 | 60, 0xC000 | 33, 0xC000 | 4 };
	for (int i = 0; i < 3; i++) {
		header(&m, 0, 1, 0, 0, 1);
		question(&m, 1, 1);
		put16(&m, bad[i]);
		put(&m, "\0\1\0\1\0\0\0\0\0\4\1\2\3\4", 14);
		run(&m, QUERY_UDP);
		CHECK_EQ_INT(rcode(), 1);
	}
	/* A loop through two pointers: 33 -> 35 -> 33. */
	header(&m, 0, 1, 0, 0, 1);
	question(&m, 1, 1);
	put(&m, "\xC0\x23\xC0\x21", 4);
	put(&m, "\0\1\0\1\0\0\0\0\0\0", 10);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	/* TSIG without keys: NOTAUTH. */
	header(&m, 0, 1, 0, 0, 1);
	question(&m, 1, 1);
	put(&m, "\3key\0", 5);
	put(&m, "\0\xFA\0\xFF\0\0\0\0\0\0", 10);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 9);
}

/* An extra record (TYPE99, no rdata) whose owner is a pointer to off. */
static void
record_at(struct msg *m, size_t off)
{
	put16(m, (uint16_t)(0xC000 | off));
	put(m, "\0\x63\0\1\0\0\0\0\0\0", 10);
}

static void
test_pointer_budget(void)
{
	struct msg m;

	/* PKT_PTR_BUDGET names compressed once each: fine; one more: not. */
	for (unsigned n = PKT_PTR_BUDGET; n <= PKT_PTR_BUDGET + 1; n++) {
		header(&m, 0, 1, 0, 0, (uint16_t)n);
		question(&m, 1, 1);
		for (unsigned i = 0; i < n; i++)
			record_at(&m, PKT_HDR);
		run(&m, QUERY_UDP);
		CHECK_EQ_INT(rcode(), n > PKT_PTR_BUDGET ? 1 : 0);
	}
	/*
	 * One name through a chain of pointers (each to the one before,
	 * the first to the QNAME) in a record's rdata: the budget counts
	 * every hop of it.
	 */
	for (unsigned n = PKT_PTR_BUDGET - 1; n <= PKT_PTR_BUDGET; n++) {
		header(&m, 0, 1, 0, 0, 2);
		question(&m, 1, 1);
		put(&m, "\0\0\x63\0\1\0\0\0\0", 9);
		put16(&m, (uint16_t)(2 * n));
		size_t first = m.n;
		put16(&m, 0xC000 | PKT_HDR);
		for (unsigned i = 1; i < n; i++)
			put16(&m, (uint16_t)(0xC000 | (m.n - 2)));
		/* n pointers in the chain, plus the owner's own pointer. */
		record_at(&m, m.n - 2);
		CHECK_EQ_INT(m.n - first, 2 * n + 12);
		run(&m, QUERY_UDP);
		CHECK_EQ_INT(rcode(), n + 1 > PKT_PTR_BUDGET ? 1 : 0);
	}
	/* The budget is per message, not per name: two half chains. */
	header(&m, 0, 1, 0, 0, 3);
	question(&m, 1, 1);
	put(&m, "\0\0\x63\0\1\0\0\0\0", 9);
	put16(&m, PKT_PTR_BUDGET);
	put16(&m, 0xC000 | PKT_HDR);
	for (unsigned i = 1; i < PKT_PTR_BUDGET / 2; i++)
		put16(&m, (uint16_t)(0xC000 | (m.n - 2)));
	size_t end = m.n - 2;
	record_at(&m, end); /* 65 hops */
	record_at(&m, end); /* 65 more: over */
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	/* Over TCP the same. */
	CHECK_EQ_INT(run(&m, QUERY_TCP), QUERY_SEND);
	CHECK_EQ_INT(rcode(), 1);
}

static void
test_opcode_class_type(void)
{
	struct msg m;
	/* Opcodes other than QUERY: NOTIMP (STATUS, NOTIFY, UPDATE, 15). */
	const uint16_t ops[] = { 2, 4, 5, 15 };
	for (int i = 0; i < 4; i++) {
		header(&m, (uint16_t)(ops[i] << 11), 1, 0, 0, 0);
		question(&m, 6, 1);
		CHECK_EQ_INT(run(&m, QUERY_UDP), QUERY_SEND);
		CHECK_EQ_INT(rcode(), 4);
		CHECK_EQ_INT((reply[2] >> 3) & 0xF, ops[i]);
	}
	/* Class CH (and others): REFUSED; class ANY answered as IN. */
	header(&m, 0, 1, 0, 0, 0);
	question(&m, 16, 3);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 5);
	header(&m, 0, 1, 0, 0, 0);
	question(&m, 1, 255);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 0);
	CHECK_EQ_INT(count(1), 1);
	/* AXFR/IXFR: FORMERR over UDP, handed to the caller over TCP. */
	for (uint16_t t = 251; t <= 252; t++) {
		header(&m, 0, 1, 0, 0, 0);
		question(&m, t, 1);
		CHECK_EQ_INT(run(&m, QUERY_UDP), QUERY_SEND);
		CHECK_EQ_INT(rcode(), 1);
		CHECK_EQ_INT(run(&m, QUERY_TCP), QUERY_XFR);
		CHECK_EQ_INT(rcode(), 5);
	}
	/* QTYPE OPT: FORMERR; MAILA: NOTIMP. */
	header(&m, 0, 1, 0, 0, 0);
	question(&m, 41, 1);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 1);
	header(&m, 0, 1, 0, 0, 0);
	question(&m, 254, 1);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 4);
}

static void
test_parse_fields(void)
{
	struct msg m;
	struct packet_query q;

	header(&m, 0x0110, 1, 0, 0, 1); /* RD, CD */
	put(&m, "\3WwW\7Example\3COM\0", 17);
	put16(&m, 28);
	put16(&m, 1);
	opt(&m, 100, 0, "", 0);
	m.b[m.n - 4] = 0x80; /* DO */
	CHECK_EQ_INT(packet_parse_query(m.b, m.n, &q), 0);
	CHECK_EQ_INT(q.rcode, 0);
	CHECK_EQ_INT(q.qtype, 28);
	CHECK_EQ_INT(q.qlen, 17);
	CHECK_EQ_INT(q.nlabels, 3);
	CHECK_EQ_INT(q.labels[1], 4);
	CHECK(memcmp(q.lname, "\3www\7example\3com", 17) == 0);
	CHECK(q.edns);
	CHECK_EQ_INT(q.udp_size, 512);
	CHECK_EQ_INT(q.edns_flags, PKT_EDNS_DO);
	m.b[m.n - 11 + 3] = 0xFF; /* payload 0xFF64: clamped */
	CHECK_EQ_INT(packet_parse_query(m.b, m.n, &q), 0);
	CHECK_EQ_INT(q.udp_size, 4096);
	/* RD and CD are copied into the reply. */
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(reply[2] & 0x01, 1);
	CHECK_EQ_INT(reply[3] & 0x10, 0x10);
	CHECK_EQ_INT(reply[3] & 0x80, 0); /* RA clear */
	/* The root name. */
	header(&m, 0, 1, 0, 0, 0);
	put(&m, "\0\0\1\0\1", 5);
	CHECK_EQ_INT(packet_parse_query(m.b, m.n, &q), 0);
	CHECK_EQ_INT(q.qlen, 1);
	CHECK_EQ_INT(q.nlabels, 0);
	run(&m, QUERY_UDP);
	CHECK_EQ_INT(rcode(), 5);
}

static void
test_small_buffer(void)
{
	struct msg m;
	struct query_result res;
	header(&m, 0, 1, 0, 0, 0);
	question(&m, 1, 1);
	CHECK_EQ_INT(
	    query_process(db, m.b, m.n, QUERY_UDP, NULL, out, 100, &res),
	    QUERY_DROP);
	CHECK_EQ_INT(
	    query_process(db, m.b, m.n, QUERY_TCP, NULL, out, 512, &res),
	    QUERY_SEND);
	CHECK(res.len <= 512);
}

int
main(void)
{
	db = tz_new();
	RUN(test_drop);
	RUN(test_counts);
	RUN(test_qname);
	RUN(test_opt);
	RUN(test_additional_names);
	RUN(test_pointer_budget);
	RUN(test_opcode_class_type);
	RUN(test_parse_fields);
	RUN(test_small_buffer);
	zonedb_free(db);
	return UNIT_DONE();
}
