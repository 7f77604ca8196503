/*
 * Fuzz target: everything a raft peer's bytes meet before c-raft does.
 * The first input byte picks the decoder: the transport preamble, the
 * c-raft frame checker (fed in pieces whose sizes come from the input),
 * or a server-side TLS handshake with the cluster key (the ClientHello
 * and what follows, as an unauthenticated peer would send them).
 */
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frames.h"
#include "key.h"
#include "tls.h"
#include "transport.h"

static void
sink(void *arg, const uint8_t *p, size_t len)
{
	size_t *total = arg;

	/* Touch every byte passed on, so ASan sees bad pointers. */
	for (size_t i = 0; i < len; i++)
		*total += p[i];
}

static void
fuzz_frames(const uint8_t *data, size_t size)
{
	struct frames f;
	size_t total = 0, off = 0;

	frames_init(&f);
	while (off < size) {
		size_t n = 1 + data[off] % 64;

		off++;
		if (n > size - off)
			n = size - off;
		if (frames_feed(&f, data + off, n, sink, &total) != 0)
			break;
		off += n;
	}
	frames_close(&f);
}

static struct dr_tls *
fuzz_tls(void)
{
	static struct dr_tls *t;
	struct dr_keyring kr;

	if (t == NULL) {
		memset(&kr, 0, sizeof(kr));
		memset(kr.keys[0].bytes, 0x5a, DR_KEY_LEN);
		memcpy(kr.keys[0].id, "0123456789abcdef", DR_KEY_ID_LEN + 1);
		kr.n = 1;
		if (dr_tls_new(&t, &kr, "raft") != 0)
			abort();
	}
	return t;
}

static void
fuzz_handshake(const uint8_t *data, size_t size)
{
	SSL *ssl = dr_tls_session(fuzz_tls(), true);
	uint8_t out[4096];

	BIO_write(SSL_get_rbio(ssl), data, (int)size);
	(void)SSL_do_handshake(ssl);
	while (BIO_read(SSL_get_wbio(ssl), out, sizeof(out)) > 0)
		;
	(void)SSL_read(ssl, out, sizeof(out));
	SSL_free(ssl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char address[TRANSPORT_ADDR_MAX + 1];
	raft_id id;
	size_t used;
	int ch;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		(void)transport_preamble_decode(data + 1, size - 1, &id,
		                                address, &used, &ch);
		break;
	case 1:
		fuzz_frames(data + 1, size - 1);
		break;
	default:
		fuzz_handshake(data + 1, size - 1);
		break;
	}
	return 0;
}
