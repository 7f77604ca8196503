/* Checks the c-raft messages a peer sends before c-raft decodes them. */
#ifndef RAFTD_FRAMES_H
#define RAFTD_FRAMES_H

#include <stddef.h>
#include <stdint.h>

/*
 * c-raft 0.15 decodes its messages without checking them against their
 * own lengths: an AppendEntries whose entry type is invalid leaves a NULL
 * entry array behind and crashes; n_entries, RequestVote and TimeoutNow
 * fields and the configuration inside an InstallSnapshot are read past the
 * header's end; lengths are allocated as sent. The transport runs every
 * byte a peer sends through this checker and hands c-raft only whole,
 * checked headers (payload bytes follow as they come).
 *
 * c-raft's framing (little endian):
 *
 *   offset  size  field
 *        0     8  message type (RAFT_IO_*, 1..6)
 *        8     8  header length H
 *       16     H  header, per type:
 *                   1 AppendEntries: term, prev index, prev term, commit
 *                     (4 x 8), n (8), then n entry headers of 16 bytes:
 *                     term (8), type (1: command, 2: barrier, 3: change),
 *                     3 unused, data length (4); H = 48 + 16 n (c-raft
 *                     counts 8 bytes more than it writes)
 *                   2 AppendEntriesResult: term, rejected, last index (24)
 *                   3 RequestVote: term, candidate, last index, last term
 *                     (32), flags (8, optional)
 *                   4 RequestVoteResult: term, granted (16), flags (8,
 *                     optional)
 *                   5 InstallSnapshot: term, last index, last term, conf
 *                     index (32), conf length C (8), configuration (C),
 *                     data length (8); H = 56 + C
 *                   6 TimeoutNow: term, last index, last term (24)
 *   16 + H          payload: the entries' data (each a multiple of 8
 *                   bytes), or the snapshot's data
 *
 * A configuration (InstallSnapshot, and the data of a change entry):
 * format version 1 (1 byte), n servers (8), then per server id (8), a
 * NUL-terminated address and a role byte (0 standby, 1 voter, 2 spare);
 * padding (not cleared) to a multiple of 8.
 */
#define FRAMES_HEADER_MAX  ((uint64_t)1 << 20)
#define FRAMES_ENTRIES_MAX 65536
#define FRAMES_PAYLOAD_MAX ((uint64_t)4 << 30)
/* A change entry is held whole to be checked: at most this long. */
#define FRAMES_CHANGE_MAX  (64 * 1024)
#define FRAMES_SERVERS_MAX 256

/* Receives checked bytes, in order. */
typedef void (*frames_out_fn)(void *arg, const uint8_t *p, size_t len);

struct frames {
	int state;
	uint8_t pre[16];
	size_t have;           /* bytes of pre or hdr collected */
	uint8_t *hdr;          /* owned: the header being collected */
	uint64_t hlen;         /* its length */
	uint64_t payload_left; /* payload bytes still to pass */
	/* AppendEntries: the entries' data lengths and types, in order. */
	uint32_t *lens; /* owned */
	uint8_t *types; /* owned */
	uint64_t nentries, entry, entry_left;
	uint8_t *change; /* owned: a change entry's data being collected */
	size_t change_have;
	const char *why; /* the reason of the last error */
};

void frames_init(struct frames *f);
void frames_close(struct frames *f);

/*
 * Checks p[0..len) and passes what is good to out (possibly in several
 * calls, possibly holding back the start of a header until it is whole).
 * 0, or DR_EMALFORMED once anything is wrong (f->why says what): the
 * connection must then be dropped, and nothing of the bad message was
 * passed.
 */
int frames_feed(struct frames *f, const uint8_t *p, size_t len,
                frames_out_fn out, void *arg);

/*
 * Checks an encoded configuration of len bytes (see above). 0 or
 * DR_EMALFORMED.
 */
int frames_check_conf(const uint8_t *p, size_t len);

#endif
