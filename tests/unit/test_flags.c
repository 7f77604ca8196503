/* Unit tests for the shared flag table and address helpers. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "err.h"
#include "flags.h"
#include "unit.h"

static char tmpdir[] = "/tmp/drflagsXXXXXX";

/* Writes text to tmpdir/name; returns the path (static, reused). */
static const char *
write_file(const char *name, const char *text, size_t len)
{
	static char path[4][256];
	static int next;
	char *p = path[next++ % 4];
	FILE *f;

	snprintf(p, 256, "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	if (f == NULL) {
		perror(p);
		exit(1);
	}
	fwrite(text, 1, len, f);
	fclose(f);
	return p;
}

#define WRITE(name, text) write_file(name, text, sizeof(text) - 1)

static int
parse(struct dr_config *cfg, char *err, int argc, char **argv)
{
	return dr_flags_parse(cfg, argc, argv, err, 256);
}

static void
test_defaults(void)
{
	struct dr_config cfg;
	char err[256] = "";
	char *argv[] = { "x", "-id", "id0", NULL };

	CHECK_EQ_INT(parse(&cfg, err, 3, argv), 0);
	CHECK_EQ_STR(cfg.id, "id0");
	/* No key: the empty host is loopback (flags_secure_default). */
	CHECK_EQ_STR(cfg.raft_addr, "127.0.0.1:8300");
	CHECK_EQ_STR(cfg.ctl_addr, "127.0.0.1:8500");
	CHECK(cfg.loopback_default);
	CHECK(cfg.ctl_trust_loopback);
	CHECK_EQ_INT(cfg.n_cluster_keys, 0);
	CHECK_EQ_INT(cfg.dns_rrl, 100);
	CHECK_EQ_INT(cfg.dns_rrl_slip, 2);
	CHECK_EQ_STR(cfg.dns_addr, ":8600");
	CHECK_EQ_STR(cfg.data_dir, "./data/id0");
	CHECK(cfg.join == NULL);
	CHECK_EQ_INT(cfg.election_timeout_ms, 200);
	CHECK_EQ_STR(cfg.ctl_ack, "leader");
	CHECK(!cfg.ctl_ack_all);
	CHECK_EQ_INT(cfg.ctl_ack_timeout_ms, 1000);
}

/* -ctl.ack is "all" or "leader"; -ctl.ack-timeout is bounded. */
static void
test_ack(void)
{
	struct dr_config cfg;
	char err[256] = "";
	char *all[] = { "x",        "-id", "a",
		        "-ctl.ack", "all", "-ctl.ack-timeout",
		        "250",      NULL };
	char *leader[] = { "x", "-id", "a", "-ctl.ack=leader", NULL };
	char *bad[] = { "x", "-id", "a", "-ctl.ack", "some", NULL };
	char *bad_to[] = { "x", "-id", "a", "-ctl.ack-timeout", "0", NULL };
	char *big_to[] = { "x", "-id", "a", "-ctl.ack-timeout", "60001", NULL };

	CHECK_EQ_INT(parse(&cfg, err, 7, all), 0);
	CHECK(cfg.ctl_ack_all);
	CHECK_EQ_INT(cfg.ctl_ack_timeout_ms, 250);
	CHECK_EQ_INT(parse(&cfg, err, 4, leader), 0);
	CHECK(!cfg.ctl_ack_all);
	CHECK_EQ_INT(parse(&cfg, err, 5, bad), DR_EINVAL);
	CHECK(strstr(err, "-ctl.ack") != NULL);
	CHECK(strstr(err, "want all or leader") != NULL);
	CHECK_EQ_INT(parse(&cfg, err, 5, bad_to), DR_EINVAL);
	CHECK_EQ_INT(parse(&cfg, err, 5, big_to), DR_EINVAL);
}

static void
test_values(void)
{
	struct dr_config cfg;
	char err[256] = "";
	char url[200];
	char *argv[] = { "x",           "-id=n1",
		         "-raft.addr",  "127.0.0.1:9301",
		         "--raft.join", ":8500",
		         "-zone.file",  "a.zone",
		         "-zone.file",  "b.zone",
		         "-data.dir",   "/tmp/d",
		         "-v",          "-raft.election-timeout",
		         "500",         NULL };

	CHECK_EQ_INT(parse(&cfg, err, 15, argv), 0);
	CHECK_EQ_STR(cfg.id, "n1");
	CHECK_EQ_STR(cfg.ctl_addr, "127.0.0.1:9501");
	CHECK_EQ_STR(cfg.join, ":8500");
	CHECK_EQ_INT(cfg.n_zone_files, 2);
	CHECK_EQ_STR(cfg.zone_files[1], "b.zone");
	CHECK(cfg.verbose);
	CHECK_EQ_INT(cfg.election_timeout_ms, 500);
	dr_ipc_url(&cfg, "raftd", url, sizeof(url));
	CHECK_EQ_STR(url, "ipc:///tmp/d/run/raftd.ipc");
}

static void
test_errors(void)
{
	struct dr_config cfg;
	char err[256];
	char *no_id[] = { "x", NULL };
	char *bad_addr[] = { "x", "-id", "a", "-raft.addr", "nope", NULL };
	char *bad_port[] = { "x", "-id", "a", "-dns.addr", ":70000", NULL };
	char *unknown[] = { "x", "-id", "a", "-bogus", "1", NULL };
	char *novalue[] = { "x", "-id", NULL };
	char *bad_id[] = { "x", "-id", "a b", NULL };
	char *bad_num[] = { "x",   "-id", "a", "-raft.election-timeout",
		            "12x", NULL };
	char longdir[300];
	char *long_dir[] = { "x", "-id", "a", "-data.dir", longdir, NULL };

	CHECK_EQ_INT(parse(&cfg, err, 1, no_id), DR_EINVAL);
	CHECK(strstr(err, "-id") != NULL);
	CHECK_EQ_INT(parse(&cfg, err, 5, bad_addr), DR_EINVAL);
	CHECK(strstr(err, "raft.addr") != NULL);
	CHECK_EQ_INT(parse(&cfg, err, 5, bad_port), DR_EINVAL);
	CHECK_EQ_INT(parse(&cfg, err, 5, unknown), DR_EINVAL);
	CHECK(strstr(err, "-bogus") != NULL);
	CHECK_EQ_INT(parse(&cfg, err, 2, novalue), DR_EINVAL);
	CHECK_EQ_INT(parse(&cfg, err, 3, bad_id), DR_EINVAL);
	CHECK_EQ_INT(parse(&cfg, err, 5, bad_num), DR_EINVAL);
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[sizeof(longdir) - 1] = '\0';
	CHECK_EQ_INT(parse(&cfg, err, 5, long_dir), DR_EINVAL);
	CHECK(strstr(err, "too long") != NULL);
}

/* Without -cluster.key raft and ctl stay on loopback; with one, not. */
static void
test_secure_default(void)
{
	struct dr_config cfg;
	char err[256];
	char *any[] = { "x", "-id", "a", "-raft.addr", "0.0.0.0:8300", NULL };
	char *ext[] = { "x", "-id", "a", "-raft.addr", "10.1.2.3:8300", NULL };
	char *ctl[] = { "x", "-id", "a", "-ctl.addr", "192.0.2.1:8500", NULL };
	char *lo[] = { "x", "-id", "a", "-raft.addr", "127.0.0.2:8300", NULL };
	char *lo6[] = { "x", "-id", "a", "-raft.addr", "[::1]:8300", NULL };
	char *name[] = { "x", "-id", "a", "-raft.addr", "localhost:1", NULL };
	char *keyed[] = { "x",          "-id",           "a",
		          "-raft.addr", "10.1.2.3:8300", "-cluster.key",
		          "/k1",        "-cluster.key",  "/k2",
		          NULL };
	char *keyed_any[] = { "x", "-id", "a", "-cluster.key", "/k", NULL };
	char *three[] = { "x",  "-id",
		          "a",  "-cluster.key",
		          "/a", "-cluster.key",
		          "/b", "-cluster.key",
		          "/c", NULL };

	CHECK_EQ_INT(parse(&cfg, err, 5, any), DR_EINVAL);
	CHECK(strstr(err, "a non-loopback -raft.addr needs -cluster.key") !=
	      NULL);
	CHECK_EQ_INT(parse(&cfg, err, 5, ext), DR_EINVAL);
	CHECK(strstr(err, "-raft.addr") != NULL);
	CHECK_EQ_INT(parse(&cfg, err, 5, ctl), DR_EINVAL);
	CHECK(strstr(err, "a non-loopback -ctl.addr needs -cluster.key") !=
	      NULL);
	CHECK_EQ_INT(parse(&cfg, err, 5, lo), 0);
	CHECK_EQ_STR(cfg.raft_addr, "127.0.0.2:8300");
	CHECK_EQ_STR(cfg.ctl_addr, "127.0.0.2:8500");
	CHECK(!cfg.loopback_default);
	CHECK_EQ_INT(parse(&cfg, err, 5, lo6), 0);
	CHECK_EQ_INT(parse(&cfg, err, 5, name), 0);
	CHECK_EQ_INT(parse(&cfg, err, 9, keyed), 0);
	CHECK_EQ_INT(cfg.n_cluster_keys, 2);
	CHECK_EQ_STR(cfg.cluster_keys[0], "/k1");
	CHECK_EQ_STR(cfg.cluster_keys[1], "/k2");
	CHECK_EQ_STR(cfg.raft_addr, "10.1.2.3:8300");
	/* With a key an empty host is every interface, as before. */
	CHECK_EQ_INT(parse(&cfg, err, 5, keyed_any), 0);
	CHECK_EQ_STR(cfg.raft_addr, ":8300");
	CHECK_EQ_STR(cfg.ctl_addr, ":8500");
	CHECK(!cfg.loopback_default);
	CHECK_EQ_INT(parse(&cfg, err, 9, three), DR_EINVAL);
	CHECK(strstr(err, "more than 2") != NULL);
	CHECK(dr_host_is_loopback("127.255.0.1"));
	CHECK(dr_host_is_loopback("::1"));
	CHECK(dr_host_is_loopback("LOCALHOST"));
	CHECK(!dr_host_is_loopback(""));
	CHECK(!dr_host_is_loopback("128.0.0.1"));
	CHECK(!dr_host_is_loopback("::"));
	CHECK(!dr_host_is_loopback("localhost.example"));
}

static void
test_addr(void)
{
	struct dr_addr a;
	char out[64];

	CHECK_EQ_INT(dr_addr_parse(":8300", &a), 0);
	CHECK_EQ_STR(a.host, "");
	CHECK_EQ_INT(a.port, 8300);
	CHECK_EQ_INT(dr_addr_parse("[::1]:53", &a), 0);
	CHECK_EQ_STR(a.host, "::1");
	CHECK_EQ_INT(dr_addr_parse("host", &a), DR_EINVAL);
	CHECK_EQ_INT(dr_addr_parse("h:0", &a), DR_EINVAL);
	CHECK_EQ_INT(dr_addr_parse("h:1:2", &a), DR_EINVAL);
	CHECK_EQ_INT(dr_addr_parse("h:-1", &a), DR_EINVAL);
	CHECK_EQ_INT(dr_addr_parse("a b:1", &a), DR_EINVAL);
	CHECK_EQ_INT(dr_addr_advertise(":8300", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "127.0.0.1:8300");
	CHECK_EQ_INT(dr_addr_advertise("10.0.0.1:1", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "10.0.0.1:1");
	CHECK(dr_raft_id("id0") != dr_raft_id("id1"));
	CHECK(dr_raft_id("id0") == dr_raft_id("id0"));
	CHECK(dr_raft_id("") != 0);
}

static void
test_config_good(void)
{
	struct dr_config cfg;
	char err[256] = "";
	const char *conf =
	    WRITE("good.conf", "# node n1\n"
	                       "\n"
	                       "id n1\n"
	                       "  raft.addr\t127.0.0.1:9301   # trailing\n"
	                       "zone.file zones/a#1.zone\n"
	                       "zone.file b.zone\r\n"
	                       "v\n"
	                       "raft.election-timeout 500\n"
	                       "data.dir /tmp/x y");
	char *argv[] = { "x", "-config", (char *)conf, NULL };

	CHECK_EQ_INT(parse(&cfg, err, 3, argv), 0);
	CHECK_EQ_STR(err, "");
	CHECK_EQ_STR(cfg.config, conf);
	CHECK_EQ_STR(cfg.id, "n1");
	CHECK_EQ_STR(cfg.raft_addr, "127.0.0.1:9301");
	CHECK_EQ_STR(cfg.ctl_addr, "127.0.0.1:9501");
	CHECK_EQ_INT(cfg.n_zone_files, 2);
	CHECK_EQ_STR(cfg.zone_files[0], "zones/a#1.zone");
	CHECK_EQ_STR(cfg.zone_files[1], "b.zone");
	CHECK(cfg.verbose);
	CHECK_EQ_INT(cfg.election_timeout_ms, 500);
	CHECK_EQ_STR(cfg.data_dir, "/tmp/x y");
	dr_flags_free(&cfg);
	CHECK(cfg.config_text == NULL);
}

static void
test_config_override(void)
{
	struct dr_config cfg;
	char err[256] = "";
	const char *conf = WRITE("over.conf", "id n1\n"
	                                      "raft.addr 127.0.0.1:9301\n"
	                                      "zone.file a.zone\n"
	                                      "zone.file b.zone\n"
	                                      "v true\n");
	char cfgarg[300];
	char *over[] = { "x",      cfgarg,       "-raft.addr",
		         ":7000",  "-zone.file", "c.zone",
		         "-id=n2", "-v=false",   NULL };
	char *keep[] = { "x",       "-raft.addr", ":7000",
		         "-config", (char *)conf, NULL };

	snprintf(cfgarg, sizeof(cfgarg), "-config=%s", conf);
	CHECK_EQ_INT(parse(&cfg, err, 8, over), 0);
	CHECK_EQ_STR(cfg.id, "n2");
	CHECK_EQ_STR(cfg.raft_addr, "127.0.0.1:7000");
	CHECK_EQ_STR(cfg.ctl_addr, "127.0.0.1:7200");
	CHECK_EQ_INT(cfg.n_zone_files, 1);
	CHECK_EQ_STR(cfg.zone_files[0], "c.zone");
	CHECK(!cfg.verbose);
	dr_flags_free(&cfg);

	/* The command line wins wherever -config stands on it. */
	CHECK_EQ_INT(parse(&cfg, err, 5, keep), 0);
	CHECK_EQ_STR(cfg.raft_addr, "127.0.0.1:7000");
	CHECK_EQ_INT(cfg.n_zone_files, 2);
	CHECK(cfg.verbose);
	dr_flags_free(&cfg);
}

/* Parses argv "-config F" with F holding text; err must contain want. */
static void
config_error(const char *text, size_t len, const char *want)
{
	struct dr_config cfg;
	char err[256] = "";
	char full[300];
	const char *conf = write_file("bad.conf", text, len);
	char *argv[] = { "x", "-config", (char *)conf, NULL };

	CHECK_EQ_INT(parse(&cfg, err, 3, argv), DR_EINVAL);
	CHECK(cfg.config_text == NULL);
	snprintf(full, sizeof(full), "%s%s", want[0] == ':' ? conf : "", want);
	if (strstr(err, full) == NULL) {
		fprintf(stderr, "error \"%s\" lacks \"%s\"\n", err, full);
		CHECK(strstr(err, full) != NULL);
	}
}

#define CONFIG_ERROR(text, want) config_error(text, sizeof(text) - 1, want)

static void
test_config_errors(void)
{
	struct dr_config cfg;
	char err[256];
	char *missing[] = { "x", "-config", "/nonexistent/dr.conf", NULL };

	CONFIG_ERROR("id n1\n\n# c\nbogus 1\n", ":4: unknown flag \"bogus\"");
	CONFIG_ERROR("-id n1\n", ":1: unknown flag \"-id\" (write it without");
	CONFIG_ERROR("id n1\nraft.addr nope\n",
	             ":2: raft.addr: invalid address \"nope\"");
	CONFIG_ERROR("id n1\nraft.election-timeout 12x\n",
	             ":2: raft.election-timeout: want an integer");
	CONFIG_ERROR("id n1\nv maybe\n", ":2: v: want true or false");
	CONFIG_ERROR("id n1\nraft.addr :1\n\nraft.addr :2\n",
	             ":4: raft.addr already set on line 2");
	CONFIG_ERROR("id n1\nzone.file\n", ":2: zone.file needs a value");
	CONFIG_ERROR("id n1\ndata.dir # none\n", ":2: data.dir needs a value");
	CONFIG_ERROR("config other.conf\n",
	             ":1: config is for the command line only");
	CONFIG_ERROR("id n1\ncheck\n",
	             ":2: check is for the command line only");
	CONFIG_ERROR("id n1\nid\0x n2\n", ":2: NUL byte");
	/* Cross-flag errors have no line. */
	CONFIG_ERROR("raft.addr :1\n", "-id is required");
	CHECK_EQ_INT(parse(&cfg, err, 3, missing), DR_EINVAL);
	CHECK(strstr(err, "/nonexistent/dr.conf: cannot open") != NULL);
}

/* Every flag of every binary, in order, with its default. */
static void
test_usage(void)
{
	static const char *const want[] = {
		"  -config                   file of flags",
		"(default none)\n",
		"  -id                       node name",
		"(required)\n",
		"  -raft.addr ",
		"(default :8300 (127.0.0.1 without a key))\n",
		"  -dns.addr ",
		"(default :8600)\n",
		"  -ctl.addr ",
		"(default raft host:raft port+200)\n",
		"  -raft.join ",
		"(default none, bootstrap)\n",
		"  -zone.file ",
		"(repeatable) (default none)\n",
		"  -cluster.key ",
		"for rotation (default none, loopback only)\n",
		"  -data.dir ",
		"(default ./data/<id>)\n",
		"  -raft.election-timeout ",
		"(default 200)\n",
		"  -raft.heartbeat-timeout ",
		"(default 10)\n",
		"  -raft.snapshot-threshold ",
		"(default 8192)\n",
		"  -raft.snapshot-trailing ",
		"(default 2048)\n",
		"  -ctl.max-conns ",
		"(default 1024)\n",
		"  -ctl.idle-timeout ",
		"(default 300000)\n",
		"  -ctl.max-memory ",
		"(default 256)\n",
		"  -ctl.trust-loopback ",
		"(default true)\n",
		"  -ctl.ack ",
		"(default leader)\n",
		"  -ctl.ack-timeout ",
		"(default 1000)\n",
		"  -dns.rrl ",
		"(default 100)\n",
		"  -dns.rrl-slip ",
		"(default 2)\n",
		"  -v ",
		"(default false)\n",
		"  -check ",
		"(default false)\n",
		"  -h ",
		"(default false)\n",
	};
	char *text = NULL, *p;
	size_t len = 0, i, lines = 0;
	FILE *f = open_memstream(&text, &len);

	dr_flags_usage(f, "raftd");
	fclose(f);
	CHECK(strncmp(text, "usage: raftd -id NAME", 21) == 0);
	p = text;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		p = strstr(p, want[i]);
		if (p == NULL) {
			fprintf(stderr, "usage lacks \"%s\" in order:\n%s",
			        want[i], text);
			CHECK(p != NULL);
			break;
		}
	}
	for (p = text; (p = strstr(p, "\n  -")) != NULL; p++)
		lines++;
	CHECK_EQ_INT(lines, sizeof(want) / sizeof(want[0]) / 2);
	free(text);
}

/* dr_check on argv; returns the problems, stderr text in errs. */
static int
run_check(int argc, char **argv, char *errs, size_t errlen)
{
	struct dr_config cfg;
	char err[256] = "", *out = NULL, *eb = NULL;
	size_t outlen = 0, eblen = 0;
	FILE *fo, *fe;
	int n;

	if (parse(&cfg, err, argc, argv) != 0) {
		fprintf(stderr, "parse: %s\n", err);
		return -1;
	}
	fo = open_memstream(&out, &outlen);
	fe = open_memstream(&eb, &eblen);
	n = dr_check(&cfg, "test", fo, fe, NULL);
	fclose(fo);
	fclose(fe);
	snprintf(errs, errlen, "%s", eb);
	if (n == 0)
		CHECK(strstr(out, "\nok\n") != NULL);
	free(out);
	free(eb);
	dr_flags_free(&cfg);
	return n;
}

static void
test_check(void)
{
	char errs[2048], dd[300], want[400], zarg[300], z2arg[300];
	const char *zone =
	    WRITE("good.zone", "$ORIGIN example.org.\n$TTL 300\n"
	                       "@ IN SOA ns1 host 1 3600 600 86400 300\n"
	                       "@ IN NS ns1\nns1 IN A 192.0.2.1\n");
	const char *badzone =
	    WRITE("bad.zone", "$ORIGIN example.net.\n"
	                      "@ 300 IN SOA ns1 host 1 3600 600 86400 300\n"
	                      "www 300 IN A 300.1.2.3\n");
	char *good[] = { "x", "-id",        "n1",         "-data.dir",
		         dd,  "-zone.file", (char *)zone, NULL };
	char *bad[] = { "x",          "-id",        "n1",
		        "-data.dir",  dd,           "-zone.file",
		        zarg,         "-zone.file", (char *)badzone,
		        "-zone.file", z2arg,        NULL };
	char *clash[] = { "x",
		          "-id",
		          "n1",
		          "-data.dir",
		          dd,
		          "-raft.addr",
		          "127.0.0.1:7000",
		          "-dns.addr",
		          ":7000",
		          NULL };
	char *notdir[] = { "x", "-id", "n1", "-data.dir", (char *)zone, NULL };

	snprintf(zarg, sizeof(zarg), "%s", zone);
	snprintf(z2arg, sizeof(z2arg), "%s", zone);
	snprintf(dd, sizeof(dd), "%s/new/sub/n1", tmpdir);
	CHECK_EQ_INT(run_check(7, good, errs, sizeof(errs)), 0);
	CHECK_EQ_STR(errs, "");
	/* Nothing created. */
	snprintf(want, sizeof(want), "%s/new", tmpdir);
	CHECK(access(want, F_OK) != 0);

	CHECK_EQ_INT(run_check(11, bad, errs, sizeof(errs)), 2);
	snprintf(want, sizeof(want), "test: %s:3: ", badzone);
	CHECK(strstr(errs, want) != NULL);
	CHECK(strstr(errs, "zone example.org. also in") != NULL);
	CHECK(strstr(errs, "check failed, 2 problems") != NULL);

	CHECK_EQ_INT(run_check(9, clash, errs, sizeof(errs)), 1);
	CHECK(strstr(errs, "-dns.addr :7000: same TCP port as -raft.addr") !=
	      NULL);
	CHECK_EQ_INT(run_check(5, notdir, errs, sizeof(errs)), 1);
	CHECK(strstr(errs, "not a directory") != NULL);
	snprintf(dd, sizeof(dd), "%s/good.zone/n1", tmpdir);
	CHECK_EQ_INT(run_check(5, notdir, errs, sizeof(errs)), 1);
	CHECK_EQ_INT(run_check(7, good, errs, sizeof(errs)), 1);
	CHECK(strstr(errs, "cannot create") != NULL);
}

int
main(void)
{
	unit_tmpdir(tmpdir);
	RUN(test_defaults);
	RUN(test_values);
	RUN(test_ack);
	RUN(test_errors);
	RUN(test_secure_default);
	RUN(test_addr);
	RUN(test_config_good);
	RUN(test_config_override);
	RUN(test_config_errors);
	RUN(test_usage);
	RUN(test_check);
	unit_rmdir(tmpdir);
	return UNIT_DONE();
}
