/* Forwarding one command line to the leader's ctld (common/lineclient). */
#ifndef CTLD_FORWARD_H
#define CTLD_FORWARD_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "tls.h"

/* Connecting (resolving included) may take this long. */
#define FORWARD_CONNECT_TIMEOUT_MS 2000
/*
 * Once connected, the leader's reply may take this long: above raftd's own
 * request timeout at the leader, so its "ERROR raftd unavailable" wins.
 */
#define FORWARD_REPLY_TIMEOUT_MS 12000
/* Longest reply line accepted (a value may be a whole 8 KiB line). */
#define FORWARD_REPLY_MAX ((size_t)16 * 1024)

struct forward;

/*
 * rv is 0 with the reply line (content, no terminator; borrowed for the
 * callback only) and the leader's change counter after the command (0 if
 * the reply had none); or DR_EIO (connect, read or write error),
 * DR_ECLOSED (closed before a whole line, or cancelled), DR_ETIMEDOUT or
 * DR_ETOOBIG with line NULL.
 */
typedef void (*forward_cb)(int rv, const char *line, size_t len, uint64_t seq,
                           void *arg);

/*
 * Connects to addr ("host:port"; an empty or wildcard host means this
 * host) with TLS when tls (borrowed, the "ctl" context) is given, sends
 * "forwarded <line>\n" and reads the answer of the peer's ctld, which
 * then closes:
 *
 *   <reply line>\n
 *   seq <N>\n          optional: raftd's change counter after the command
 *
 * A command with record lines ("zone replace", replace.h) has them in
 * body (bodylen bytes of lines ending in "\n", copied); they are sent
 * after the line, then ".\n". body is NULL for every other command.
 *
 * reply_ms bounds the wait for the answer once connected (at least
 * FORWARD_REPLY_TIMEOUT_MS is used). Everything runs on loop; cb is
 * called exactly once, never from inside this call. Returns 0, or
 * DR_EINVAL for an unusable addr (no callback).
 */
int forward_start(struct forward **out, uv_loop_t *loop, struct dr_tls *tls,
                  const char *addr, const char *line, size_t len,
                  const void *body, size_t bodylen, unsigned reply_ms,
                  forward_cb cb, void *arg);

/*
 * Runs the callback now with DR_ECLOSED if it has not run, and releases
 * f (freed once libuv is done with it). f must not be used after.
 */
void forward_cancel(struct forward *f);

#endif
