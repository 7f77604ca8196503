/* Requests and replies of ctld's line protocol and etcd's HTTP gateway. */
#include "kvproto.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest reply line or HTTP header block accepted. */
#define KVPROTO_HEAD_MAX 16384

int
kvproto_parse_kind(const char *name, enum kvproto_kind *kind)
{
	if (strcmp(name, "ctl") == 0)
		*kind = KVPROTO_CTL;
	else if (strcmp(name, "etcd") == 0)
		*kind = KVPROTO_ETCD;
	else
		return -1;
	return 0;
}

const char *
kvproto_hello(const struct kvproto *p)
{
	return p->kind == KVPROTO_CTL ? "session\n" : NULL;
}

/* Standard base64 of src (n bytes) into dst (cap bytes, NUL-terminated).
 * Returns the length, or -1 when it does not fit. */
static int
kvproto_base64(char *dst, size_t cap, const char *src, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = (const unsigned char *)src;
	size_t i, o = 0;

	if ((n + 2) / 3 * 4 + 1 > cap)
		return -1;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v =
		    (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];

		dst[o++] = tab[v >> 18];
		dst[o++] = tab[(v >> 12) & 63];
		dst[o++] = tab[(v >> 6) & 63];
		dst[o++] = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)s[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		dst[o++] = tab[v >> 18];
		dst[o++] = tab[(v >> 12) & 63];
		dst[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		dst[o++] = '=';
	}
	dst[o] = '\0';
	return (int)o;
}

/* One POST of body (JSON) to path, in buf. */
static int
kvproto_http_post(const struct kvproto *p, char *buf, size_t cap,
                  const char *path, const char *body)
{
	int n = snprintf(buf, cap,
	                 "POST %s HTTP/1.1\r\n"
	                 "Host: %s\r\n"
	                 "Content-Type: application/json\r\n"
	                 "Content-Length: %zu\r\n"
	                 "\r\n"
	                 "%s",
	                 path, p->hostport, strlen(body), body);

	return n < 0 || (size_t)n >= cap ? -1 : n;
}

int
kvproto_encode_put(const struct kvproto *p, char *buf, size_t cap,
                   const char *key, const char *value)
{
	char *k, *v, *body;
	size_t kl = strlen(key), vl = strlen(value);
	size_t kcap = kl / 3 * 4 + 8, vcap = vl / 3 * 4 + 8;
	int n = -1;

	if (p->kind == KVPROTO_CTL) {
		n = snprintf(buf, cap, "kv set %s %s\n", key, value);
		return n < 0 || (size_t)n >= cap ? -1 : n;
	}
	k = malloc(kcap);
	v = malloc(vcap);
	body = malloc(kcap + vcap + 32);
	if (k == NULL || v == NULL || body == NULL)
		abort();
	if (kvproto_base64(k, kcap, key, kl) >= 0 &&
	    kvproto_base64(v, vcap, value, vl) >= 0) {
		snprintf(body, kcap + vcap + 32,
		         "{\"key\":\"%s\",\"value\":\"%s\"}", k, v);
		n = kvproto_http_post(p, buf, cap, "/v3/kv/put", body);
	}
	free(k);
	free(v);
	free(body);
	return n;
}

int
kvproto_encode_get(const struct kvproto *p, char *buf, size_t cap,
                   const char *key)
{
	char k[512], body[600];
	int n;

	if (p->kind == KVPROTO_CTL) {
		n = snprintf(buf, cap, "kv get %s consistent\n", key);
		return n < 0 || (size_t)n >= cap ? -1 : n;
	}
	if (kvproto_base64(k, sizeof(k), key, strlen(key)) < 0)
		return -1;
	snprintf(body, sizeof(body), "{\"key\":\"%s\"}", k);
	return kvproto_http_post(p, buf, cap, "/v3/kv/range", body);
}

static int
kvproto_copy(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (n >= cap)
		return -1;
	memcpy(buf, s, n + 1);
	return 0;
}

int
kvproto_expect_hello(const struct kvproto *p, char *buf, size_t cap)
{
	return kvproto_copy(buf, cap, p->kind == KVPROTO_CTL ? "OK" : "");
}

int
kvproto_expect_put(const struct kvproto *p, char *buf, size_t cap)
{
	return kvproto_copy(buf, cap, p->kind == KVPROTO_CTL ? "SUCCESS" : "");
}

int
kvproto_expect_get(const struct kvproto *p, char *buf, size_t cap,
                   const char *value)
{
	const char pre[] = "\"value\":\"";
	size_t pl = sizeof(pre) - 1;
	int n;

	if (p->kind == KVPROTO_CTL)
		return kvproto_copy(buf, cap, value);
	if (cap < pl + 2)
		return -1;
	memcpy(buf, pre, pl);
	n = kvproto_base64(buf + pl, cap - pl - 1, value, strlen(value));
	if (n < 0)
		return -1;
	buf[pl + (size_t)n] = '"';
	buf[pl + (size_t)n + 1] = '\0';
	return 0;
}

static long
kvproto_parse_line(const char *buf, size_t len, const char *expect, int *ok)
{
	const char *nl = memchr(buf, '\n', len);
	size_t l;

	if (nl == NULL)
		return len > KVPROTO_HEAD_MAX ? -1 : 0;
	l = (size_t)(nl - buf);
	*ok = strlen(expect) == l && memcmp(buf, expect, l) == 0;
	return (long)l + 1;
}

/* Value of header name (with its colon) in the header lines [h, end), or
 * NULL. */
static const char *
kvproto_header(const char *h, const char *end, const char *name)
{
	size_t nl = strlen(name);

	while (h < end) {
		const char *eol = memchr(h, '\n', (size_t)(end - h));

		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - h) > nl && strncasecmp(h, name, nl) == 0) {
			h += nl;
			while (*h == ' ' || *h == '\t')
				h++;
			return h;
		}
		h = eol + 1;
	}
	return NULL;
}

/* Length of the chunked body at b (n bytes): 0 incomplete, -1 bad. */
static long
kvproto_chunked_len(const char *b, size_t n)
{
	size_t off = 0;

	for (;;) {
		const char *eol = memchr(b + off, '\n', n - off);
		char *end;
		unsigned long sz;

		if (eol == NULL)
			return n - off > 64 ? -1L : 0L;
		sz = strtoul(b + off, &end, 16);
		if (end == b + off)
			return -1;
		off = (size_t)(eol - b) + 1;
		if (sz == 0) {
			/* Trailer lines, then an empty line. */
			for (;;) {
				eol = memchr(b + off, '\n', n - off);
				if (eol == NULL)
					return n - off > KVPROTO_HEAD_MAX ? -1
					                                  : 0;
				if (eol == b + off ||
				    (eol == b + off + 1 && b[off] == '\r'))
					return (long)((size_t)(eol - b) + 1);
				off = (size_t)(eol - b) + 1;
			}
		}
		if (sz > (1UL << 24))
			return -1;
		if (n - off < sz + 2)
			return 0;
		off += sz + 2;
	}
}

static long
kvproto_parse_http(const char *buf, size_t len, const char *expect, int *ok)
{
	const char *hend, *cl, *te, *body;
	size_t hlen;
	long blen;
	int status;

	hend = memmem(buf, len < KVPROTO_HEAD_MAX ? len : KVPROTO_HEAD_MAX,
	              "\r\n\r\n", 4);
	if (hend == NULL)
		return len >= KVPROTO_HEAD_MAX ? -1 : 0;
	hlen = (size_t)(hend - buf) + 4;
	if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
		return -1;
	status = (int)strtol(buf + 9, NULL, 10);
	cl = kvproto_header(buf, hend, "content-length:");
	te = kvproto_header(buf, hend, "transfer-encoding:");
	body = buf + hlen;
	if (te != NULL && strncasecmp(te, "chunked", 7) == 0) {
		blen = kvproto_chunked_len(body, len - hlen);
		if (blen <= 0)
			return blen;
	} else if (cl != NULL) {
		blen = strtol(cl, NULL, 10);
		if (blen < 0 || blen > (1L << 24))
			return -1;
		if (len - hlen < (size_t)blen)
			return 0;
	} else if (status == 204 || status == 304 || status / 100 == 1) {
		blen = 0;
	} else {
		/* Delimited by the end of the connection: not keep-alive. */
		return -1;
	}
	/* A chunked body is searched with its chunk-size lines: the small
	 * replies here come in one chunk. */
	*ok = status == 200 &&
	      (expect[0] == '\0' ||
	       memmem(body, (size_t)blen, expect, strlen(expect)) != NULL);
	return (long)hlen + blen;
}

long
kvproto_parse_reply(const struct kvproto *p, const char *buf, size_t len,
                    const char *expect, int *ok)
{
	if (p->kind == KVPROTO_CTL)
		return kvproto_parse_line(buf, len, expect, ok);
	return kvproto_parse_http(buf, len, expect, ok);
}
