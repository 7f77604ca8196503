/* The node's replicated state in SQLite (state.db): schema, apply, images. */
#ifndef RAFTD_STORE_H
#define RAFTD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flags.h"
#include "wire.h"

/*
 * state.db holds the tables operators read with `sqlite3 -readonly`:
 *
 *   records(zone, owner, type, ttl, rdata)
 *           PRIMARY KEY(zone, owner, type, rdata), WITHOUT ROWID
 *           INDEX records_owner(owner, type)
 *   zones(name PRIMARY KEY, serial, digest1, digest2, nrecords)
 *   kv(key PRIMARY KEY, value)
 *   members(id PRIMARY KEY, raft_id, raft_addr, ctl_addr, dns_addr)
 *   tokens(name PRIMARY KEY, role, hash UNIQUE)   operators' tokens: role
 *           read, write or admin; hash = SHA-256 of the token, hex
 *           (never the token)
 *   meta(key PRIMARY KEY, value)   'applied_index', 'change_seq'
 *   requests(origin, run, seq, idx, rejected, reason)
 *           PRIMARY KEY(origin, run, seq), WITHOUT ROWID
 *           INDEX requests_idx(origin, idx)
 *           the request ids (cmd.h) of the commands applied, with their
 *           outcome, so that a retry is answered as the first copy was
 *           and changes nothing: kept while seq >= the floor the same
 *           (origin, run) last sent, and at most STORE_REQUESTS_MAX per
 *           origin (the oldest by Raft index idx go first, checked every
 *           STORE_REQUESTS_PRUNE entries)
 *
 * members.raft_id holds the 64-bit Raft id as the signed 64-bit integer
 * with the same bit pattern (dr_raft_id keeps ids below 2^63, so in
 * practice the value is the id itself).
 *
 * Every Raft entry is applied inside one transaction that also writes
 * meta.applied_index (the Raft index of the last entry in it) and
 * meta.change_seq (bumped once per entry, rejected ones included), so
 * after a crash the database is exactly the result of the entries up to
 * applied_index and replaying the log is idempotent.
 *
 * Record and zone commands follow the rules in zones.h. Names are stored
 * as canonical text (rr.h): lowercase, absolute, with the trailing dot.
 */
struct store;
struct walckpt_stats;

#define STORE_ID_MAX         64
#define STORE_REQUESTS_MAX   65536
#define STORE_REQUESTS_PRUNE 1024

enum store_outcome {
	STORE_APPLIED,  /* the command changed (or re-set) the state */
	STORE_SKIPPED,  /* index <= applied_index: already in state.db */
	STORE_REJECTED, /* undecodable or invalid: only index and seq moved */
	/*
	 * Its request id was applied before (a retry): nothing else moved
	 * but index and seq; first_rejected and reason give the first
	 * outcome.
	 */
	STORE_DUPLICATE,
};

/*
 * What an entry did. Pointers are borrowed from the store and valid until
 * the next store_apply.
 */
struct store_result {
	enum store_outcome outcome;
	uint64_t seq;        /* change_seq after this entry */
	const char *reason;  /* REJECTED: one-line reason; else "" */
	const void *effects; /* APPLIED: encoded RR_ADD / RR_DEL (effects.h) */
	size_t effects_len;
	bool reload;         /* more than EFFECTS_MAX effects, not listed */
	bool first_rejected; /* DUPLICATE: the first copy was refused */
};

struct store_member {
	char id[STORE_ID_MAX + 1];
	uint64_t raft_id;
	char raft_addr[DR_ADDR_LEN];
	char ctl_addr[DR_ADDR_LEN];
	char dns_addr[DR_ADDR_LEN];
};

/*
 * Opens (creating if needed) the database at path in WAL mode, creates
 * the schema and prepares the statements. DR_EIO on failure (logged).
 */
int store_open(struct store **out, const char *path);
/* Commits what is pending, then closes. */
void store_close(struct store *s);

/* WAL checkpoints so far (walckpt.h). */
void store_checkpoints(struct store *s, struct walckpt_stats *out);

uint64_t store_applied_index(const struct store *s);
/* The path of state.db (for read-only connections of its own). */
const char *store_path(const struct store *s);
uint64_t store_change_seq(const struct store *s);

/*
 * Applies the Raft entry (index, data, len) inside the open transaction
 * (begun if needed). Entries at or below applied_index are skipped;
 * undecodable or invalid commands are logged, change nothing else and
 * advance applied_index and change_seq (every entry that is not skipped
 * takes one change_seq, so subscribers can count them). Nothing is durable or
 * visible to other connections until store_commit, which writes
 * meta.applied_index and meta.change_seq in the same transaction: an entry is
 * never split, and after a crash state.db holds exactly the entries up to its
 * applied_index. Returns 0 with res filled, or DR_EIO when SQLite fails; the
 * transaction is then unusable and the caller must stop (a restart replays the
 * entries).
 */
int store_apply(struct store *s, uint64_t index, const void *data, size_t len,
                struct store_result *res);

/*
 * Commits the entries applied since the last commit (group commit: one
 * SQLite transaction per batch c-raft applies). 0 when nothing is open.
 * DR_EIO on failure (rolled back; the caller must stop).
 */
int store_commit(struct store *s);

/* True while applied entries wait for store_commit. */
bool store_uncommitted(const struct store *s);

/*
 * Appends the value of key to out. DR_ENOTFOUND if absent, DR_EIO on a
 * database error.
 */
int store_kv_get(struct store *s, const char *key, size_t keylen,
                 struct dr_buf *out);

/*
 * Record reads for ctld (wire.h). Each appends text to out:
 * - store_rr_get: canonical lines "owner ttl TYPE rdata\n" of name (any
 *   case, trailing dot optional) and type ("" or NULL = every type), in
 *   every zone, identical lines once. DR_ENOTFOUND if none.
 * - store_zone_list: "zone serial records\n" per zone. DR_ENOTFOUND if
 *   there is no zone.
 * - store_zone_dump: the zone as a master file, SOA first, absolute
 *   names, "owner ttl IN TYPE rdata\n" lines. DR_ENOTFOUND if no such
 *   zone.
 * DR_EINVAL for a malformed name or type, DR_EIO on a database error.
 */
int store_rr_get(struct store *s, const char *name, const char *type,
                 struct dr_buf *out);
int store_zone_list(struct store *s, struct dr_buf *out);
int store_zone_dump(struct store *s, const char *zone, struct dr_buf *out);

/*
 * Operator tokens. store_token_check appends "NAME ROLE" of the token with
 * this hash (64 hex digits); store_token_list "NAME ROLE\n" per token.
 * DR_ENOTFOUND if none, DR_EIO on a database error.
 */
int store_token_check(struct store *s, const char *hash, struct dr_buf *out);
int store_token_list(struct store *s, struct dr_buf *out);

/* Looks a member up by node id or by Raft id. 0, DR_ENOTFOUND or DR_EIO. */
int store_member_get(struct store *s, const char *id, struct store_member *m);
int store_member_by_raft_id(struct store *s, uint64_t raft_id,
                            struct store_member *m);

/* Calls cb for every member ordered by id; stops early if cb returns != 0. */
typedef int (*store_member_cb)(const struct store_member *m, void *arg);
int store_members_foreach(struct store *s, store_member_cb cb, void *arg);
/* Number of rows in members, or a negative DR_E* code. */
int store_members_count(struct store *s);

/*
 * Commits, then serializes the whole database (an image, snapimage.h) into
 * a buffer obtained from alloc (the caller owns it; alloc failure aborts).
 * Runs on the caller's thread from start to end; raftd's snapshots take
 * the image off the loop instead (fsm.c). DR_EIO on failure.
 */
int store_serialize(struct store *s, void *(*alloc)(size_t), void **out,
                    size_t *len);

struct store_restore_info {
	bool replaced;          /* false: state.db was newer, image ignored */
	uint64_t image_applied; /* applied_index recorded in the image */
	uint64_t db_applied;    /* applied_index of state.db before */
};

/*
 * Commits, then restores an image (snapimage.h; image is modified in
 * place and stays owned by the caller). If the image's applied_index is
 * not newer than the database's, nothing changes. Otherwise state.db is
 * replaced: the image is written to state.db.tmp and swapped in as
 * store_restore_file does. Returns DR_EMALFORMED for an image that is not
 * a valid state.db, DR_EIO if it could not be written (state.db
 * untouched). Aborts if state.db cannot be reopened after the swap.
 */
int store_restore(struct store *s, void *image, size_t len,
                  struct store_restore_info *info);

/*
 * Commits, then restores from file, an image already written and checked
 * by snapimage_stage, whose applied_index is image_applied: file is
 * consumed (renamed or removed) in every case. If image_applied is not
 * newer than the database's, nothing else changes. Otherwise the
 * database is closed, its -wal and -shm removed, file renamed over
 * state.db (on the same file system) and reopened: only this swap runs
 * on the caller's thread. DR_EIO if the rename failed (state.db
 * untouched). Aborts if state.db cannot be reopened after the swap.
 */
int store_restore_file(struct store *s, const char *file,
                       uint64_t image_applied, struct store_restore_info *info);

#endif
