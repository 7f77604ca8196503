/* Unit tests for the shared flag table and address helpers. */
#include "err.h"
#include "flags.h"
#include "unit.h"

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
	CHECK_EQ_STR(cfg.raft_addr, ":8300");
	CHECK_EQ_STR(cfg.ctl_addr, ":8500");
	CHECK_EQ_STR(cfg.dns_addr, ":8600");
	CHECK_EQ_STR(cfg.data_dir, "./data/id0");
	CHECK(cfg.join == NULL);
	CHECK_EQ_INT(cfg.election_timeout_ms, 300);
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

int
main(void)
{
	RUN(test_defaults);
	RUN(test_values);
	RUN(test_errors);
	RUN(test_addr);
	return UNIT_DONE();
}
