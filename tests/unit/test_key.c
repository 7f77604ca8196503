/* common/key: key files (generation, mode and format checks), derivation. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "key.h"
#include "unit.h"

static char tmpdir[] = "/tmp/test_key.XXXXXX";

static const char *
path(const char *name)
{
	static char buf[8][256];
	static unsigned next;
	char *p = buf[next++ % 8];

	snprintf(p, 256, "%s/%s", tmpdir, name);
	return p;
}

static void
write_file(const char *p, const char *text, mode_t mode)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	CHECK(fchmod(fd, mode) == 0);
	close(fd);
}

static void
test_generate(void)
{
	struct dr_key a, b, again;
	struct stat st;
	char err[512] = "", text[128];
	const char *pa = path("a.key"), *pb = path("b.key");
	FILE *f;
	mode_t old = umask(0);

	CHECK_EQ_INT(dr_key_generate(pa, err, sizeof(err)), 0);
	umask(old);
	CHECK(stat(pa, &st) == 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0600);
	CHECK_EQ_INT(st.st_size, 65);
	f = fopen(pa, "r");
	CHECK(f != NULL && fgets(text, sizeof(text), f) != NULL);
	fclose(f);
	CHECK_EQ_INT(strspn(text, "0123456789abcdef"), 64);
	/* Never overwrites a key. */
	CHECK_EQ_INT(dr_key_generate(pa, err, sizeof(err)), DR_EIO);
	CHECK(strstr(err, "cannot create") != NULL);
	CHECK_EQ_INT(dr_key_generate(pb, err, sizeof(err)), 0);
	CHECK_EQ_INT(dr_key_load(pa, &a, err, sizeof(err)), 0);
	CHECK_EQ_INT(dr_key_load(pb, &b, err, sizeof(err)), 0);
	CHECK_EQ_INT(dr_key_load(pa, &again, err, sizeof(err)), 0);
	CHECK(memcmp(a.bytes, b.bytes, DR_KEY_LEN) != 0);
	CHECK(memcmp(a.bytes, again.bytes, DR_KEY_LEN) == 0);
	CHECK_EQ_INT(strlen(a.id), DR_KEY_ID_LEN);
	CHECK_EQ_STR(a.id, again.id);
	CHECK(strcmp(a.id, b.id) != 0);
}

static void
test_load_errors(void)
{
	static const char good[] = "000102030405060708090a0b0c0d0e0f"
	                           "101112131415161718191a1b1c1d1e1f";
	char text[256], err[512];
	struct dr_key k;
	const char *p = path("k");

	snprintf(text, sizeof(text), "%s\n", good);
	write_file(p, text, 0600);
	CHECK_EQ_INT(dr_key_load(p, &k, err, sizeof(err)), 0);
	CHECK_EQ_INT(k.bytes[0], 0);
	CHECK_EQ_INT(k.bytes[31], 0x1f);
	write_file(p, text, 0400);
	CHECK_EQ_INT(dr_key_load(p, &k, err, sizeof(err)), 0);
	snprintf(text, sizeof(text), "%s", good); /* no newline */
	write_file(p, text, 0600);
	CHECK_EQ_INT(dr_key_load(p, &k, err, sizeof(err)), 0);
	snprintf(text, sizeof(text), "%s\r\n", good);
	write_file(p, text, 0600);
	CHECK_EQ_INT(dr_key_load(p, &k, err, sizeof(err)), 0);

	/* Group or others may read it: refused, and the reason says so. */
	snprintf(text, sizeof(text), "%s\n", good);
	write_file(p, text, 0640);
	CHECK_EQ_INT(dr_key_load(p, &k, err, sizeof(err)), DR_EINVAL);
	CHECK(strstr(err, "readable or writable by group or others") != NULL);
	CHECK(strstr(err, "0640") != NULL);
	write_file(p, text, 0604);
	CHECK_EQ_INT(dr_key_load(p, &k, err, sizeof(err)), DR_EINVAL);
	write_file(p, text, 0620);
	CHECK_EQ_INT(dr_key_load(p, &k, err, sizeof(err)), DR_EINVAL);

	CHECK_EQ_INT(dr_key_load(path("missing"), &k, err, sizeof(err)),
	             DR_EINVAL);
	CHECK(strstr(err, "cannot open") != NULL);
	CHECK_EQ_INT(dr_key_load(tmpdir, &k, err, sizeof(err)), DR_EINVAL);
	CHECK(strstr(err, "not a regular file") != NULL);

	/* Not exactly 64 hex digits and a line end. */
	write_file(p, "abc\n", 0600);
	CHECK_EQ_INT(dr_key_load(p, &k, err, sizeof(err)), DR_EINVAL);
	CHECK(strstr(err, "not a key") != NULL);
	snprintf(text, sizeof(text), "%s0\n", good);
	write_file(p, text, 0600);
	CHECK_EQ_INT(dr_key_load(p, &k, err, sizeof(err)), DR_EINVAL);
	snprintf(text, sizeof(text), "%s\nmore\n", good);
	write_file(p, text, 0600);
	CHECK_EQ_INT(dr_key_load(p, &k, err, sizeof(err)), DR_EINVAL);
	snprintf(text, sizeof(text), "%s\n", good);
	text[10] = 'g';
	write_file(p, text, 0600);
	CHECK_EQ_INT(dr_key_load(p, &k, err, sizeof(err)), DR_EINVAL);
	write_file(p, "", 0600);
	CHECK_EQ_INT(dr_key_load(p, &k, err, sizeof(err)), DR_EINVAL);
}

static void
test_keyring(void)
{
	struct dr_config cfg;
	struct dr_keyring kr;
	char err[512];
	const char *pa = path("a.key"), *pb = path("b.key");

	memset(&cfg, 0, sizeof(cfg));
	CHECK_EQ_INT(dr_keyring_load(&cfg, &kr, err, sizeof(err)), 0);
	CHECK_EQ_INT(kr.n, 0);
	cfg.cluster_keys[0] = pa;
	cfg.cluster_keys[1] = pb;
	cfg.n_cluster_keys = 2;
	CHECK_EQ_INT(dr_keyring_load(&cfg, &kr, err, sizeof(err)), 0);
	CHECK_EQ_INT(kr.n, 2);
	cfg.cluster_keys[1] = pa;
	CHECK_EQ_INT(dr_keyring_load(&cfg, &kr, err, sizeof(err)), DR_EINVAL);
	CHECK(strstr(err, "same key") != NULL);
	CHECK_EQ_INT(kr.n, 0);
	cfg.cluster_keys[1] = path("missing");
	CHECK_EQ_INT(dr_keyring_load(&cfg, &kr, err, sizeof(err)), DR_EINVAL);
	CHECK(strstr(err, "missing") != NULL);
}

static void
test_derive(void)
{
	struct dr_key k;
	uint8_t a[DR_KEY_LEN], b[DR_KEY_LEN], c[DR_KEY_LEN];
	char err[512];

	CHECK_EQ_INT(dr_key_load(path("a.key"), &k, err, sizeof(err)), 0);
	dr_key_derive(&k, "raft psk", a);
	dr_key_derive(&k, "ctl psk", b);
	dr_key_derive(&k, "raft psk", c);
	CHECK(memcmp(a, b, DR_KEY_LEN) != 0);
	CHECK(memcmp(a, c, DR_KEY_LEN) == 0);
	CHECK(memcmp(a, k.bytes, DR_KEY_LEN) != 0);
}

int
main(void)
{
	unit_tmpdir(tmpdir);
	RUN(test_generate);
	RUN(test_load_errors);
	RUN(test_keyring);
	RUN(test_derive);
	unit_rmdir(tmpdir);
	return UNIT_DONE();
}
