/* IPC message framing between raftd, ctld and dnsd, and a bounded cursor. */
#ifndef DR_WIRE_H
#define DR_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Every IPC message (req/rep and pub/sub) is a 32-byte header followed by
 * the payload. All integers are big-endian.
 *
 *   off  len  field
 *     0    4  magic            DR_WIRE_MAGIC ("DRNS")
 *     4    1  version          DR_WIRE_VERSION
 *     5    1  type             enum dr_msg_type
 *     6    2  flags            DR_WF_*
 *     8    4  payload length   must equal message length - 32
 *    12    4  status           enum dr_status (replies), 0 otherwise
 *    16    8  raft index       last applied Raft index of the sender
 *    24    8  change counter   state machine change number (seq)
 *    32    -  payload
 */
#define DR_WIRE_MAGIC       0x44524e53u
#define DR_WIRE_VERSION     1
#define DR_WIRE_HDR_LEN     32
#define DR_WIRE_MAX_PAYLOAD (256u * 1024 * 1024)

enum dr_msg_type {
	/* ctld -> raftd requests; raftd answers each with DR_MSG_REPLY. */
	DR_MSG_APPLY = 1,   /* payload: one encoded dr_cmd (cmd.h) */
	DR_MSG_GET = 2,     /* payload: str key; DR_WF_CONSISTENT = barrier */
	DR_MSG_STATUS = 3,  /* reply payload: "key value\n" lines */
	DR_MSG_MEMBERS = 4, /* reply payload: one line per member */
	DR_MSG_JOIN = 5,    /* payload: str id, raft_addr, ctl_addr, dns_addr */
	DR_MSG_REMOVE = 6,  /* payload: str id */
	DR_MSG_TRANSFER = 7, /* payload: str id, possibly empty (= any) */
	DR_MSG_REPLY = 8,    /* status in header; payload depends on status */
	/*
	 * Record reads (ctld -> raftd), local unless DR_WF_CONSISTENT. Reply
	 * payloads are text: canonical record lines "owner ttl TYPE rdata\n"
	 * (rr.h); NOTFOUND when there is nothing to list.
	 */
	DR_MSG_RR_GET = 9,     /* payload: str name, str type ("" = all) */
	DR_MSG_ZONE_LIST = 10, /* reply: "zone serial records\n" per zone */
	/*
	 * payload: str zone, u64 cursor (0: start a dump), u32 chunk size
	 * (0: end the dump at cursor, its client left);
	 * reply: u64 cursor of the rest (0: this was the last chunk), then a
	 * chunk of the $ORIGIN-free master file, SOA first, absolute names
	 * (raftd/dumps.h). Chunk size 0 ends the dump at cursor (its client
	 * left): the reply is OK with cursor 0 and no text.
	 */
	DR_MSG_ZONE_DUMP = 11,
	/*
	 * Operator tokens (ctld -> raftd, local reads). TOKEN_CHECK: payload
	 * str hash (cmd.h); reply "NAME ROLE" or NOTFOUND. TOKEN_LIST:
	 * reply "NAME ROLE\n" per token, NOTFOUND without one.
	 */
	DR_MSG_TOKEN_CHECK = 12,
	DR_MSG_TOKEN_LIST = 13,
	/* payload: str id, raft_addr, ctl_addr, dns_addr (leader only) */
	DR_MSG_MEMBER_UPDATE = 14,
	/*
	 * Acknowledgement waits ("ack all", raftd/ackwait.h).
	 *
	 * SERVED (dnsd -> its raftd): header index = the Raft index of the
	 * copy dnsd serves (committed, visible to queries); no payload. Sent
	 * when it advances (one outstanding, the latest value) and at least
	 * every second, so raftd can tell a dnsd that stopped reporting.
	 *
	 * WAIT (ctld -> raftd; raftd -> a peer's raftd over the relay):
	 * payload (dr_wait_encode):
	 *
	 *   off  len  field
	 *     0    8  index     Raft index of the write (its reply's index)
	 *     8    4  bound_ms  answer at the latest after this, 1..60000
	 *
	 * Without DR_WF_LOCAL: answered OK once every voter has applied
	 * index and its dnsd serves it, or at bound_ms; reply payload
	 * (dr_wait_reply_*): u32 nodes that have it, u32 voters, then that
	 * many str node names. DR_WF_LOCAL (what a raftd asks a peer): this
	 * node only; OK = it has it, NOTFOUND = not by bound_ms. BUSY: too
	 * many waits.
	 */
	DR_MSG_SERVED = 15,
	DR_MSG_WAIT = 16,
	/*
	 * Writes that ctld sent in one loop turn, in one message (the bus
	 * batches them, common/bus.h): the payload is 2..DR_BATCH_MAX whole
	 * DR_MSG_APPLY requests back to back. The answer, of this type too,
	 * holds their replies, whole, in the same order.
	 */
	DR_MSG_BATCH = 17,
	/*
	 * raftd -> subscribers (pub/sub). seq is the state machine's change
	 * counter after the change: every applied entry (also a KV write or
	 * a rejected command) takes exactly one seq, so a subscriber that
	 * sees seq != last + 1 missed something.
	 */
	DR_MSG_CHANGE = 32,    /* payload: effects on records, a sequence of
	                          encoded RR_ADD / RR_DEL dr_cmd (cmd.h),
	                          possibly empty; DR_WF_RELOAD: too many to
	                          list, reload state.db instead */
	DR_MSG_RESET = 33,     /* state.db replaced (snapshot restore) */
	DR_MSG_HEARTBEAT = 34, /* index and seq are current; payload: u64
	                          id of this raftd run (a new one after
	                          every restart) */
	/*
	 * Several DR_MSG_CHANGE in order, one loop turn's: the payload is
	 * 2 or more whole CHANGE messages (header included) back to back;
	 * index and seq are the last one's. Nothing else nests.
	 */
	DR_MSG_CHANGES = 35,
};

/* Header flags. */
#define DR_WF_CONSISTENT 0x0001u /* reads: leader-confirmed (barrier) */
#define DR_WF_RELOAD     0x0002u /* DR_MSG_CHANGE: effects not listed */
#define DR_WF_LOCAL      0x0004u /* DR_MSG_WAIT: this node only */

/*
 * Reply status. Payloads: OK -> result (value, text); NOTFOUND -> none;
 * NOTLEADER -> "LEADER_ID CTL_ADDR" of the known leader; NOLEADER -> none;
 * ERROR and BUSY -> a one-line reason.
 */
enum dr_status {
	DR_ST_OK = 0,
	DR_ST_NOTFOUND = 1,
	DR_ST_NOTLEADER = 2,
	DR_ST_NOLEADER = 3,
	DR_ST_ERROR = 4,
	DR_ST_BUSY = 5,
	/*
	 * A write whose outcome is not known when its deadline passed (it
	 * may or may not have been applied): never answered as a success
	 * or a failure.
	 */
	DR_ST_UNKNOWN = 6,
};

struct dr_msg_hdr {
	uint8_t type;
	uint16_t flags;
	uint32_t len; /* payload length */
	int32_t status;
	uint64_t index;
	uint64_t seq;
};

/* Read-only view of a byte string; not NUL-terminated. */
struct dr_str {
	const char *p;
	size_t len;
};

/* Bounded reader: every get fails with DR_EMALFORMED past the end. */
struct dr_cursor {
	const uint8_t *p;
	size_t left;
};

/* Growable output buffer; out of memory aborts. data is owned. */
struct dr_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

void dr_buf_init(struct dr_buf *b);
void dr_buf_close(struct dr_buf *b);
void dr_buf_reset(struct dr_buf *b);
void dr_buf_put(struct dr_buf *b, const void *p, size_t n);
void dr_buf_put_u8(struct dr_buf *b, uint8_t v);
void dr_buf_put_u16(struct dr_buf *b, uint16_t v);
void dr_buf_put_u32(struct dr_buf *b, uint32_t v);
void dr_buf_put_u64(struct dr_buf *b, uint64_t v);
/* u32 length + bytes. */
void dr_buf_put_str(struct dr_buf *b, const char *p, size_t n);
void dr_buf_put_cstr(struct dr_buf *b, const char *s);

void dr_cursor_init(struct dr_cursor *c, const void *p, size_t n);
int dr_get_u8(struct dr_cursor *c, uint8_t *v);
int dr_get_u16(struct dr_cursor *c, uint16_t *v);
int dr_get_u32(struct dr_cursor *c, uint32_t *v);
int dr_get_u64(struct dr_cursor *c, uint64_t *v);
/* Points *out at the next n bytes (no copy). */
int dr_get_bytes(struct dr_cursor *c, size_t n, const uint8_t **out);
/* Reads a u32 length + bytes written by dr_buf_put_str. */
int dr_get_str(struct dr_cursor *c, struct dr_str *out);

/*
 * Starts a message in b (b is reset): writes the header with a zero
 * payload length. Append the payload with dr_buf_put_*, then call
 * dr_wire_end to fill in the length.
 */
void dr_wire_begin(struct dr_buf *b, const struct dr_msg_hdr *h);
void dr_wire_end(struct dr_buf *b);

/*
 * Validates and decodes a whole message: magic, version, known type,
 * payload length equal to what follows. On success fills h and points
 * payload at the payload bytes (borrowed from data). DR_EMALFORMED else.
 */
int dr_wire_decode(const void *data, size_t len, struct dr_msg_hdr *h,
                   struct dr_cursor *payload);
/*
 * For messages back to back (DR_MSG_BATCH, DR_MSG_CHANGES): the length
 * of the whole, valid message that starts at p, with its header in h; 0
 * if none does within left bytes.
 */
size_t dr_wire_part(const void *p, size_t left, struct dr_msg_hdr *h);
/*
 * How many whole, valid messages of type lie back to back in p..len,
 * exactly; 0 if anything else is there, or more than max of them.
 */
unsigned dr_wire_parts(const void *p, size_t len, uint8_t type, unsigned max);
#define DR_BATCH_MAX 256

/* Bounds of a DR_MSG_WAIT and its reply. */
#define DR_WAIT_BOUND_MAX_MS 60000u
#define DR_WAIT_NODES_MAX    256u

struct dr_wait {
	uint64_t index;
	uint32_t bound_ms;
};

/* Appends a WAIT payload to b. */
void dr_wait_encode(struct dr_buf *b, const struct dr_wait *w);
/*
 * Decodes a whole WAIT payload: DR_EMALFORMED if short, long, or
 * bound_ms outside 1..DR_WAIT_BOUND_MAX_MS.
 */
int dr_wait_decode(struct dr_cursor *c, struct dr_wait *w);

/* Starts a WAIT reply payload in b: the counts, names follow. */
void dr_wait_reply_begin(struct dr_buf *b, uint32_t have, uint32_t voters);
/*
 * Decodes the counts of a whole WAIT reply payload and checks the names
 * that follow (have of them, each 1..DR_ID_MAX bytes of printable ASCII
 * without blanks); writes them space-separated into names (NUL
 * terminated, at most namelen bytes, cut short if it is too small).
 * DR_EMALFORMED on anything else (have > voters, voters >
 * DR_WAIT_NODES_MAX, trailing bytes).
 */
int dr_wait_reply_decode(struct dr_cursor c, uint32_t *have, uint32_t *voters,
                         char *names, size_t namelen);

/* Copies s into a fresh NUL-terminated string (owned by the caller). */
char *dr_str_dup(struct dr_str s);
/* True when s is exactly len lowercase hex digits (a token hash). */
bool dr_str_is_hex(struct dr_str s, size_t len);
/* True when s equals the NUL-terminated string z. */
int dr_str_eq(struct dr_str s, const char *z);

#endif
