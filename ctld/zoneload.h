/* Loading this node's zone files (-zone.file) into the cluster. */
#ifndef CTLD_ZONELOAD_H
#define CTLD_ZONELOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "dispatch.h"
#include "flags.h"
#include "rr.h"

/*
 * At start, on SIGHUP and on "zone reload", every file given with
 * -zone.file is read whole (dr_zonefile_read, on libuv's thread pool so
 * the loop keeps serving) and submitted as one "zone replace" through
 * dispatch: applied by the local raftd when it leads, forwarded with its
 * records to the leader's ctld otherwise. raftd applies the difference.
 *
 * - A file with an error is rejected whole: "file:line: reason" is logged
 *   and nothing is sent, so the cluster keeps serving the previous
 *   version.
 * - While there is no leader (start, election) or raftd is not up yet,
 *   the submission is tried again with backoff until it is accepted or
 *   refused; other commands go on meanwhile.
 * - A reload asked while a file is being read or submitted reads it again
 *   once that ends, so the last version always wins.
 * - One log line per file and attempt tells the outcome: records sent,
 *   whether the file differs from the last version this node loaded, and
 *   raftd's note when it gives one.
 */

#define ZONELOAD_RETRY_MIN_MS 200
#define ZONELOAD_RETRY_MAX_MS 5000
/* "zone reload" answers at the latest after this (a zone's own limit). */
#define ZONELOAD_WAIT_MAX_MS (DISPATCH_ZONE_TIMEOUT_MS + 60000)

struct zoneload;
struct zoneload_waiter;

enum zoneload_state {
	ZONELOAD_IDLE,
	ZONELOAD_READING,    /* dr_zonefile_read on the thread pool */
	ZONELOAD_SUBMITTING, /* zone replace in flight */
	ZONELOAD_RETRYING,   /* no leader: waiting to submit again */
};

struct zoneload_file {
	struct zoneload *zl; /* borrowed */
	const char *path;    /* borrowed from the config */
	enum zoneload_state state;
	bool again; /* a reload came while busy */
	bool timer_open;
	uint64_t gen;          /* reload round of the current attempt */
	uint64_t done_gen;     /* round of the last finished attempt */
	bool failed;           /* outcome of that attempt */
	uint64_t retry_gen;    /* round of the last "ask again later" answer */
	char retry_reason[64]; /* that answer, without "ERROR " */
	char reason[DR_RR_ERR_LEN]; /* "file:line: reason" when failed */
	uv_work_t work;
	int read_rv;                  /* written on the pool */
	char read_err[DR_RR_ERR_LEN]; /* written on the pool */
	struct dr_zonefile zf;        /* the file read, kept for retries */
	uint64_t read_hash;           /* of zf's records, written on the pool */
	uint64_t loaded_hash;         /* of the last version accepted */
	bool loaded;                  /* loaded_hash is set */
	uv_timer_t timer;             /* retry backoff */
	unsigned backoff_ms;
	unsigned tries;
	struct dispatch_req *req; /* in ZONELOAD_SUBMITTING, if pending */
};

struct zoneload {
	uv_loop_t *loop;             /* borrowed */
	const struct dr_config *cfg; /* borrowed */
	struct dispatch *dispatch;   /* borrowed */
	struct zoneload_file files[DR_MAX_ZONE_FILES];
	unsigned nfiles;
	uint64_t gen; /* reload rounds started */
	struct zoneload_waiter *waiters;
	bool stopping;
};

/*
 * Sets up the files of cfg, makes itself dispatch's "zone reload" hook
 * and starts the first load. zl must stay in place until the loop ends.
 */
void zoneload_start(struct zoneload *zl, uv_loop_t *loop,
                    const struct dr_config *cfg, struct dispatch *dispatch);

/*
 * Reads every file again and submits it (SIGHUP, "zone reload"). When cb
 * is not NULL it gets, later and once, "SUCCESS\n" when every file was
 * accepted, "ERROR <first file's reason>\n" when one was refused, or,
 * as soon as every file not done yet has been told to ask again later
 * (dispatch already waited DISPATCH_LEADER_DEADLINE_MS for a leader),
 * "ERROR no leader (the zone files are retried in the background)\n".
 */
void zoneload_reload(struct zoneload *zl, dispatch_done_cb cb, void *arg);

/*
 * Stops retrying, answers waiting "zone reload"s with "ERROR shutting
 * down" and lets go of requests in flight. Call before dispatch_close.
 */
void zoneload_stop(struct zoneload *zl);

#endif
