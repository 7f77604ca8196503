/* Strict validation of a received DNS query, before any lookup. */
#ifndef DNSD_PACKET_H
#define DNSD_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dname.h"

/*
 * DNS header (RFC 1035 4.1.1), all big-endian:
 *
 *   offset  size  field
 *   0       2     ID
 *   2       2     QR(1) OPCODE(4) AA TC RD RA Z AD CD RCODE(4)
 *   4       2     QDCOUNT
 *   6       2     ANCOUNT
 *   8       2     NSCOUNT
 *   10      2     ARCOUNT
 *   12      ...   question: QNAME QTYPE QCLASS
 */
#define PKT_HDR        12
#define PKT_FLAG_QR    0x8000
#define PKT_FLAG_AA    0x0400
#define PKT_FLAG_TC    0x0200
#define PKT_FLAG_RD    0x0100
#define PKT_FLAG_CD    0x0010
#define PKT_OPCODE(f)  (((f) >> 11) & 0xF)
#define PKT_EDNS_MIN   512
#define PKT_EDNS_MAX   4096 /* largest UDP answer, also advertised */
#define PKT_OPT_LEN    11   /* our OPT record: root, type, class, ttl, 0 */
#define PKT_EDNS_DO    0x8000
#define PKT_OPT_COOKIE 10 /* EDNS option code (RFC 7873) */

/*
 * Compression pointers the names of one message may follow, all names
 * together. A query's additional section has one or two names that need
 * a pointer; without a budget, a 64 KiB message of records whose owners
 * point into a chain of 8000 pointers costs tens of milliseconds to
 * check. With it, a message costs at most its length plus 128 re-read
 * names of at most 255 bytes.
 */
#define PKT_PTR_BUDGET 128

enum {
	RCODE_NOERROR = 0,
	RCODE_FORMERR = 1,
	RCODE_SERVFAIL = 2,
	RCODE_NXDOMAIN = 3,
	RCODE_NOTIMP = 4,
	RCODE_REFUSED = 5,
	RCODE_NOTAUTH = 9,
	RCODE_BADVERS = 16, /* extended: needs an OPT in the reply */
};

enum {
	CLASS_IN = 1,
	CLASS_ANY = 255,
};

struct packet_query {
	uint16_t id;
	uint16_t flags;
	uint8_t opcode;
	uint8_t rcode;     /* != 0: answer with this error */
	bool has_question; /* question parsed: echo it in the reply */
	bool edns;         /* a valid OPT was received: put one in the reply */
	uint16_t qtype;
	uint16_t qclass;
	uint16_t qlen;       /* QNAME wire length */
	uint16_t qsize;      /* question section bytes (qlen + 4) */
	uint16_t udp_size;   /* clamped to [PKT_EDNS_MIN, PKT_EDNS_MAX] */
	uint16_t edns_flags; /* DO bit */
	uint8_t edns_version;
	uint8_t nlabels;
	uint8_t cookie_len;       /* COOKIE option data bytes, 0: none */
	const uint8_t *cookie;    /* borrowed: into the packet, if cookie_len */
	const uint8_t *qname;     /* borrowed: into the packet */
	uint8_t lname[DNAME_MAX]; /* lowercase QNAME */
	uint8_t labels[DNAME_MAXLABELS]; /* label offsets in QNAME */
};

/*
 * Parses and checks a query. Returns DR_EMALFORMED when it must be dropped
 * without a reply (shorter than a header, QR set). Otherwise returns 0 and
 * fills q; q->rcode says whether to answer with an error:
 *   NOTIMP   opcode other than QUERY (RFC 8906)
 *   FORMERR  QDCOUNT != 1, ANCOUNT or NSCOUNT != 0, a bad QNAME (any
 *            compression pointer: nothing valid precedes it), a short
 *            question, an undecodable additional record, names needing
 *            more than PKT_PTR_BUDGET pointers, a malformed, misplaced or
 *            duplicate OPT (reply without OPT), including a COOKIE
 *            option whose length is not 8 or 16..40 (RFC 7873 5.2.2) and
 *            a second COOKIE option; trailing bytes, QTYPE OPT
 *   BADVERS  EDNS version > 0 (RFC 6891 6.1.3)
 *   REFUSED  QCLASS other than IN and ANY (we serve class IN only)
 *   NOTIMP   QTYPE MAILA/MAILB
 *   NOTAUTH  a TSIG record (no keys are configured yet)
 * AXFR/IXFR are left to the caller, which knows the transport.
 */
int packet_parse_query(const uint8_t *pkt, size_t len, struct packet_query *q);

static inline uint16_t
pkt_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
pkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

#endif
