/* One TCP connection on the libuv loop, in the clear or inside TLS. */
#ifndef DR_STREAM_H
#define DR_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <uv.h>

#include "tls.h"

/*
 * Every user of a TCP socket between nodes (raft transport, ctld
 * forwarding, joins) and ctld's listener go through this, so that a
 * connection is TLS (tls.h) exactly when a cluster key is configured and
 * the callers do not care which. The calls mirror libuv's stream calls
 * (read start/stop with alloc and read callbacks, write, shutdown,
 * close) and deliver plaintext.
 *
 * Life of a stream: dr_stream_accept or dr_stream_connect; ready_cb once
 * (asynchronously) with 0 when it can be used, or a DR_E* code (it then
 * must be closed); reads and writes; dr_stream_close, after which no
 * callback but the close callback runs. Everything on one loop thread.
 */

/* A peer must finish the TLS handshake within this of its first byte. */
#define DR_STREAM_HANDSHAKE_MS 2000

enum dr_stream_mode {
	DR_STREAM_PLAIN, /* no TLS */
	DR_STREAM_TLS,   /* TLS (accept: the client must start it) */
	/*
	 * Accept only: TLS if the first byte is a TLS handshake record
	 * (0x16, which no text line starts with), else plain. ready_cb runs
	 * once the first bytes arrived (and, for TLS, the handshake is
	 * done); the caller bounds the wait for a first byte itself.
	 */
	DR_STREAM_SNIFF,
};

struct dr_stream;

typedef void (*dr_stream_ready_cb)(struct dr_stream *s, int status);
/* As uv_alloc_cb / uv_read_cb; nread is a UV_* code (UV_EOF) if < 0. */
typedef void (*dr_stream_alloc_cb)(struct dr_stream *s, size_t suggested,
                                   uv_buf_t *buf);
typedef void (*dr_stream_read_cb)(struct dr_stream *s, ssize_t nread,
                                  const uv_buf_t *buf);
/* status: 0 or a UV_* code. */
typedef void (*dr_stream_write_cb)(struct dr_stream *s, int status);
typedef void (*dr_stream_shutdown_cb)(struct dr_stream *s, int status);
typedef void (*dr_stream_close_cb)(struct dr_stream *s);

struct dr_stream_opts {
	enum dr_stream_mode mode;
	struct dr_tls *tls; /* borrowed, outlives the stream; NULL: plain */
	/*
	 * connect: resolving, connecting and the handshake together;
	 * accept: the handshake once the first byte came. 0 = the
	 * default (DR_STREAM_HANDSHAKE_MS).
	 */
	unsigned timeout_ms;
	dr_stream_ready_cb ready_cb;
	void *data; /* dr_stream_data */
};

/*
 * Accepts the pending connection of listener (uv_accept); TCP_NODELAY is
 * set. DR_EIO if it cannot (nothing to close then). mode TLS or SNIFF
 * without o->tls is DR_EINVAL.
 */
int dr_stream_accept(struct dr_stream **out, uv_loop_t *loop,
                     uv_stream_t *listener, const struct dr_stream_opts *o);

/*
 * Connects to addr ("host:port"; an empty host or 0.0.0.0 means
 * 127.0.0.1, :: means ::1; a name is resolved on the thread pool).
 * DR_EINVAL for an unusable address (nothing to close); otherwise every
 * outcome arrives through ready_cb.
 */
int dr_stream_connect(struct dr_stream **out, uv_loop_t *loop, const char *addr,
                      const struct dr_stream_opts *o);

/*
 * Starts delivering plaintext (after ready). Bytes already received but
 * not delivered come on a later loop turn, never from inside this call.
 * 0, or a UV_* code.
 */
int dr_stream_read_start(struct dr_stream *s, dr_stream_alloc_cb alloc_cb,
                         dr_stream_read_cb read_cb);
/* Stops delivering; the socket is not read either (back-pressure). */
void dr_stream_read_stop(struct dr_stream *s);

/*
 * Queues len bytes (copied) for the peer; cb (may be NULL) runs once they
 * were written, or failed. A stream not (yet) in TLS may also be written
 * and shut down before it is ready, to refuse a client with a line. 0, or a
 * UV_* code / DR_EIO (TLS failed), in which case cb does not run.
 */
int dr_stream_write(struct dr_stream *s, const void *data, size_t len,
                    dr_stream_write_cb cb);
/* Bytes queued and not yet taken by the kernel (ciphertext for TLS). */
size_t dr_stream_queued(const struct dr_stream *s);

/*
 * After the queued writes: ends TLS (close_notify) and shuts down the
 * write side. cb runs once done. 0 or a UV_* code.
 */
int dr_stream_shutdown(struct dr_stream *s, dr_stream_shutdown_cb cb);

/*
 * Closes at once (queued writes are dropped); cb (may be NULL) runs when
 * the memory is released. Safe to call from inside any callback, once.
 */
void dr_stream_close(struct dr_stream *s, dr_stream_close_cb cb);

bool dr_stream_is_tls(const struct dr_stream *s);
/* The key id that a TLS peer proved (server side), or NULL. */
const char *dr_stream_key_id(const struct dr_stream *s);
/* "ip:port" of the peer ("?" if unknown). */
const char *dr_stream_peer(const struct dr_stream *s);
/* The peer's address; false if unknown. */
bool dr_stream_peer_addr(const struct dr_stream *s,
                         struct sockaddr_storage *ss);
/* Why the stream failed, for logs ("" if it did not). */
const char *dr_stream_error(const struct dr_stream *s);

void *dr_stream_data(const struct dr_stream *s);
void dr_stream_set_data(struct dr_stream *s, void *data);

#endif
