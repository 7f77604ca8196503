/*
 * The two protocols kvbench speaks: requests and replies of ctld's line
 * protocol and of etcd's v3 HTTP/JSON gateway.
 *
 *   ctl   hello  "session\n"                         reply "OK\n"
 *         put    "kv set KEY VALUE\n"                reply "SUCCESS\n"
 *         get    "kv get KEY consistent\n"           reply "VALUE\n"
 *   etcd  put    POST /v3/kv/put   {"key":B64,"value":B64}
 *         get    POST /v3/kv/range {"key":B64}  (linearizable, etcd's
 *                default)  -> 200, body holds "value":"B64(VALUE)"
 *         HTTP/1.1 keep-alive; replies framed by Content-Length or
 *         chunked transfer coding.
 */
#ifndef KVPROTO_H
#define KVPROTO_H

#include <stddef.h>

enum kvproto_kind {
	KVPROTO_CTL,
	KVPROTO_ETCD,
};

struct kvproto {
	enum kvproto_kind kind;
	const char *hostport; /* borrowed; etcd's Host header */
};

/* The kind named name ("ctl" or "etcd"). Returns 0, or -1 if unknown. */
int kvproto_parse_kind(const char *name, enum kvproto_kind *kind);

/* What a new connection sends first ("session\n" for ctl), or NULL. */
const char *kvproto_hello(const struct kvproto *p);

/*
 * Each encoder writes one request into buf (cap bytes) and returns its
 * length, or -1 when it does not fit. key and value hold no newline.
 */
int kvproto_encode_put(const struct kvproto *p, char *buf, size_t cap,
                       const char *key, const char *value);
int kvproto_encode_get(const struct kvproto *p, char *buf, size_t cap,
                       const char *key);

/*
 * The expectations kvproto_parse_reply() checks a reply against, written
 * into buf (cap bytes): of the hello, of a put, of a get that returns
 * value. Returns 0, or -1 when it does not fit. An empty expectation
 * means any success status (etcd).
 */
int kvproto_expect_hello(const struct kvproto *p, char *buf, size_t cap);
int kvproto_expect_put(const struct kvproto *p, char *buf, size_t cap);
int kvproto_expect_get(const struct kvproto *p, char *buf, size_t cap,
                       const char *value);

/*
 * Looks for one whole reply at the start of buf (len bytes). Returns its
 * length (> 0), 0 when more bytes are needed, -1 when buf cannot start a
 * reply. *ok is set for a whole reply: ctl, the line equals expect; etcd,
 * status 200 and the body contains expect.
 */
long kvproto_parse_reply(const struct kvproto *p, const char *buf, size_t len,
                         const char *expect, int *ok);

#endif
