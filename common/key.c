/* The cluster key: key files, generation, and keys derived per purpose. */
#include "key.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"

static void
key_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void
key_hmac(const uint8_t *key, const char *msg, uint8_t out[DR_KEY_LEN])
{
	unsigned len = DR_KEY_LEN;

	if (HMAC(EVP_sha256(), key, DR_KEY_LEN, (const unsigned char *)msg,
	         strlen(msg), out, &len) == NULL)
		abort(); /* only on out of memory */
}

int
dr_key_generate(const char *path, char *err, size_t errlen)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t k[DR_KEY_LEN];
	char line[2 * DR_KEY_LEN + 1];
	ssize_t n;
	int fd, i;

	if (RAND_bytes(k, sizeof(k)) != 1) {
		key_err(err, errlen, "no random bytes from OpenSSL");
		return DR_EIO;
	}
	for (i = 0; i < DR_KEY_LEN; i++) {
		line[2 * i] = hex[k[i] >> 4];
		line[2 * i + 1] = hex[k[i] & 15];
	}
	line[2 * DR_KEY_LEN] = '\n';
	OPENSSL_cleanse(k, sizeof(k));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		key_err(err, errlen, "%s: cannot create (%s)", path,
		        strerror(errno));
		OPENSSL_cleanse(line, sizeof(line));
		return DR_EIO;
	}
	/* O_CREAT's mode is masked by the umask: set it whole. */
	n = fchmod(fd, 0600) == 0 ? write(fd, line, sizeof(line)) : -1;
	OPENSSL_cleanse(line, sizeof(line));
	if (n != (ssize_t)sizeof(line) || fsync(fd) != 0) {
		key_err(err, errlen, "%s: cannot write (%s)", path,
		        strerror(errno));
		close(fd);
		unlink(path);
		return DR_EIO;
	}
	if (close(fd) != 0) {
		key_err(err, errlen, "%s: cannot write (%s)", path,
		        strerror(errno));
		unlink(path);
		return DR_EIO;
	}
	return 0;
}

static int
key_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
dr_key_load(const char *path, struct dr_key *out, char *err, size_t errlen)
{
	static const char hex[] = "0123456789abcdef";
	char buf[2 * DR_KEY_LEN + 3];
	uint8_t idmac[DR_KEY_LEN];
	struct stat st;
	ssize_t n;
	int fd, i, rv = DR_EINVAL;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ELOOP)
		fd = open(path, O_RDONLY | O_CLOEXEC); /* a credential link */
	if (fd < 0) {
		key_err(err, errlen, "key file %s: cannot open (%s)", path,
		        strerror(errno));
		return DR_EINVAL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		key_err(err, errlen, "key file %s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		key_err(err, errlen,
		        "key file %s: readable or writable by group or others "
		        "(mode %04o); chmod 600 %s",
		        path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		key_err(err, errlen, "key file %s: cannot read (%s)", path,
		        strerror(errno));
		goto out;
	}
	/* 64 hex digits, then "\n", "\r\n" or nothing. */
	if (n > 2 * DR_KEY_LEN &&
	    !(n == 2 * DR_KEY_LEN + 1 && buf[2 * DR_KEY_LEN] == '\n') &&
	    !(n == 2 * DR_KEY_LEN + 2 && buf[2 * DR_KEY_LEN] == '\r' &&
	      buf[2 * DR_KEY_LEN + 1] == '\n'))
		n = -1;
	for (i = 0; n >= 2 * DR_KEY_LEN && i < DR_KEY_LEN; i++) {
		int hi = key_hexval(buf[2 * i]),
		    lo = key_hexval(buf[2 * i + 1]);

		if (hi < 0 || lo < 0)
			break;
		out->bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	if (n < 2 * DR_KEY_LEN || i != DR_KEY_LEN) {
		key_err(err, errlen,
		        "key file %s: not a key (want one line of %d hex "
		        "digits, as dns-raft keygen writes)",
		        path, 2 * DR_KEY_LEN);
		OPENSSL_cleanse(out, sizeof(*out));
		goto out;
	}
	key_hmac(out->bytes, "dns-raft key id", idmac);
	for (i = 0; i < DR_KEY_ID_LEN / 2; i++) {
		out->id[2 * i] = hex[idmac[i] >> 4];
		out->id[2 * i + 1] = hex[idmac[i] & 15];
	}
	out->id[DR_KEY_ID_LEN] = '\0';
	rv = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return rv;
}

int
dr_keyring_load(const struct dr_config *cfg, struct dr_keyring *kr, char *err,
                size_t errlen)
{
	unsigned i, j;
	int rv;

	memset(kr, 0, sizeof(*kr));
	for (i = 0; i < cfg->n_cluster_keys; i++) {
		rv = dr_key_load(cfg->cluster_keys[i], &kr->keys[i], err,
		                 errlen);
		if (rv != 0) {
			dr_keyring_wipe(kr);
			return rv;
		}
		for (j = 0; j < i; j++)
			if (CRYPTO_memcmp(kr->keys[i].bytes, kr->keys[j].bytes,
			                  DR_KEY_LEN) == 0) {
				key_err(err, errlen,
				        "key files %s and %s hold the same key",
				        cfg->cluster_keys[j],
				        cfg->cluster_keys[i]);
				dr_keyring_wipe(kr);
				return DR_EINVAL;
			}
		kr->n = i + 1;
	}
	return 0;
}

void
dr_keyring_wipe(struct dr_keyring *kr)
{
	OPENSSL_cleanse(kr, sizeof(*kr));
}

void
dr_key_derive(const struct dr_key *k, const char *purpose,
              uint8_t out[DR_KEY_LEN])
{
	char msg[128];

	snprintf(msg, sizeof(msg), "dns-raft %s", purpose);
	key_hmac(k->bytes, msg, out);
}
