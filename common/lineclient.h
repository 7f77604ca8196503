/* One request to a peer's ctld and its answer lines, in the clear or TLS. */
#ifndef DR_LINECLIENT_H
#define DR_LINECLIENT_H

#include <stddef.h>
#include <uv.h>

#include "tls.h"

/*
 * The control protocol between nodes (a follower forwarding a write, a
 * new node asking to join): connect to a ctld (TLS with the "ctl" key
 * when one is configured, stream.h), send the request bytes, read the
 * answer until `lines` whole lines came or the peer closed after at least
 * one, then close.
 */

struct dr_lineclient;

/*
 * rv is 0 with the answer (whole lines, each ending in "\n"; borrowed for
 * the call); or DR_EIO (connect, TLS or socket error), DR_ECLOSED (closed
 * before a whole line, or cancelled), DR_ETIMEDOUT, DR_ETOOBIG (answer
 * over reply_max) with answer NULL. why says what failed, for logs ("" on
 * success).
 */
typedef void (*dr_lineclient_cb)(int rv, const char *answer, size_t len,
                                 const char *why, void *arg);

struct dr_lineclient_opts {
	struct dr_tls *tls;  /* borrowed; NULL: in the clear */
	unsigned connect_ms; /* connecting and the TLS handshake */
	unsigned reply_ms;   /* from the request sent to the whole answer */
	unsigned lines;      /* lines that make a whole answer, >= 1 */
	size_t reply_max;    /* bytes of answer accepted */
};

/*
 * Starts the exchange with addr ("host:port"; an empty host means this
 * host); req (reqlen bytes) is copied. cb runs exactly once, never from
 * inside this call. 0, or DR_EINVAL for an unusable address (no
 * callback).
 */
int dr_lineclient_start(struct dr_lineclient **out, uv_loop_t *loop,
                        const char *addr, const void *req, size_t reqlen,
                        const struct dr_lineclient_opts *o, dr_lineclient_cb cb,
                        void *arg);

/*
 * Runs the callback now with DR_ECLOSED if it has not run, and releases
 * c (freed once libuv is done with it). c must not be used after.
 */
void dr_lineclient_cancel(struct dr_lineclient *c);

#endif
