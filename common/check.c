/* -check: validates a node's configuration without starting or writing. */
#include "check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "key.h"
#include "rr.h"

struct check {
	const char *prog;
	FILE *out, *errf;
	int problems;
};

static void check_problem(struct check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void check_ok(struct check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
check_problem(struct check *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(c->errf, "%s: ", c->prog);
	va_start(ap, fmt);
	vfprintf(c->errf, fmt, ap);
	va_end(ap);
	fputc('\n', c->errf);
	c->problems++;
}

static void
check_ok(struct check *c, const char *fmt, ...)
{
	va_list ap;

	fputs("ok ", c->out);
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->out);
}

struct check_listener {
	const char *flag;
	const char *value;
	struct dr_addr addr;
	bool ok;
};

/* Two TCP listeners clash on one port unless their hosts differ. */
static bool
check_same_port(const struct dr_addr *a, const struct dr_addr *b)
{
	const char *any = "0.0.0.0";

	if (a->port != b->port)
		return false;
	return a->host[0] == '\0' || b->host[0] == '\0' ||
	       strcmp(a->host, any) == 0 || strcmp(b->host, any) == 0 ||
	       strcmp(a->host, b->host) == 0;
}

/* raft.addr and ctl.addr are TCP; dns.addr is UDP and TCP. */
static void
check_listeners(struct check *c, const struct dr_config *cfg)
{
	struct check_listener l[] = {
		{ "raft.addr", cfg->raft_addr, { "", 0 }, false },
		{ "ctl.addr", cfg->ctl_addr, { "", 0 }, false },
		{ "dns.addr", cfg->dns_addr, { "", 0 }, false },
	};
	struct sockaddr_storage ss;
	socklen_t len;
	size_t i, j, n = sizeof(l) / sizeof(l[0]);

	for (i = 0; i < n; i++) {
		if (dr_addr_parse(l[i].value, &l[i].addr) != 0) {
			check_problem(c, "-%s: invalid address \"%s\"",
			              l[i].flag, l[i].value);
			continue;
		}
		if (dr_addr_resolve(&l[i].addr, &ss, &len) != 0) {
			check_problem(c, "-%s: cannot resolve \"%s\"",
			              l[i].flag, l[i].addr.host);
			continue;
		}
		l[i].ok = true;
		for (j = 0; j < i; j++)
			if (l[j].ok && check_same_port(&l[i].addr, &l[j].addr))
				break;
		if (j < i) {
			check_problem(c, "-%s %s: same TCP port as -%s %s",
			              l[i].flag, l[i].value, l[j].flag,
			              l[j].value);
			l[i].ok = false;
			continue;
		}
		check_ok(c, "%s %s", l[i].flag, l[i].value);
	}
}

/*
 * data.dir must be a writable directory, or not exist yet under a
 * writable directory that dr_mkdirs can create it in.
 */
static void
check_data_dir(struct check *c, const struct dr_config *cfg)
{
	char path[DR_PATH_LEN], db[DR_PATH_LEN + 16], *slash;
	struct stat st;

	if (stat(cfg->data_dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			check_problem(c, "-data.dir %s: not a directory",
			              cfg->data_dir);
			return;
		}
		if (access(cfg->data_dir, W_OK | X_OK) != 0) {
			check_problem(c, "-data.dir %s: not writable (%s)",
			              cfg->data_dir, strerror(errno));
			return;
		}
		snprintf(db, sizeof(db), "%s/state.db", cfg->data_dir);
		if (access(db, F_OK) == 0 && access(db, R_OK | W_OK) != 0) {
			check_problem(c,
			              "-data.dir %s: state.db not writable "
			              "(%s)",
			              cfg->data_dir, strerror(errno));
			return;
		}
		check_ok(c, "data.dir %s (exists)", cfg->data_dir);
		return;
	}
	if (errno != ENOENT && errno != ENOTDIR) {
		check_problem(c, "-data.dir %s: %s", cfg->data_dir,
		              strerror(errno));
		return;
	}
	/* The nearest existing ancestor decides. */
	snprintf(path, sizeof(path), "%s", cfg->data_dir);
	for (;;) {
		while ((slash = strrchr(path, '/')) != NULL &&
		       slash[1] == '\0' && slash != path)
			*slash = '\0';
		slash = strrchr(path, '/');
		if (slash == NULL)
			snprintf(path, sizeof(path), ".");
		else if (slash == path)
			path[1] = '\0';
		else
			*slash = '\0';
		if (stat(path, &st) == 0)
			break;
		if ((errno != ENOENT && errno != ENOTDIR) ||
		    strcmp(path, ".") == 0 || strcmp(path, "/") == 0) {
			check_problem(c, "-data.dir %s: cannot create (%s: %s)",
			              cfg->data_dir, path, strerror(errno));
			return;
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		check_problem(c,
		              "-data.dir %s: cannot create (%s is not a "
		              "directory)",
		              cfg->data_dir, path);
		return;
	}
	if (access(path, W_OK | X_OK) != 0) {
		check_problem(c, "-data.dir %s: cannot create (%s: %s)",
		              cfg->data_dir, path, strerror(errno));
		return;
	}
	check_ok(c, "data.dir %s (will be created in %s)", cfg->data_dir, path);
}

/* Every -cluster.key is a key file only this user can read. */
static void
check_keys(struct check *c, const struct dr_config *cfg)
{
	struct dr_keyring kr;
	char err[1024];
	unsigned i;

	if (cfg->n_cluster_keys == 0) {
		check_ok(c, "cluster.key none (raft and ctl on loopback only)");
		return;
	}
	if (dr_keyring_load(cfg, &kr, err, sizeof(err)) != 0) {
		check_problem(c, "-cluster.key: %s", err);
		return;
	}
	for (i = 0; i < kr.n; i++)
		check_ok(c, "cluster.key %s (key id %s%s)",
		         cfg->cluster_keys[i], kr.keys[i].id,
		         i == 0 ? ", in use" : ", accepted");
	dr_keyring_wipe(&kr);
}

/* Every zone file reads, and no zone comes from two files. */
static void
check_zone_files(struct check *c, const struct dr_config *cfg)
{
	char(*zones)[256];
	struct dr_zonefile zf;
	char err[1024];
	unsigned i, j;

	if (cfg->n_zone_files == 0) {
		check_ok(c, "zone.file none");
		return;
	}
	zones = calloc(cfg->n_zone_files, sizeof(*zones));
	if (zones == NULL)
		abort();
	for (i = 0; i < cfg->n_zone_files; i++) {
		const char *path = cfg->zone_files[i];

		if (dr_zonefile_read(path, NULL, &zf, err, sizeof(err)) != 0) {
			check_problem(c, "%s", err);
			continue;
		}
		for (j = 0; j < i; j++)
			if (strcmp(zones[j], zf.zone) == 0)
				break;
		if (j < i) {
			check_problem(c, "%s: zone %s also in %s", path,
			              zf.zone, cfg->zone_files[j]);
		} else {
			snprintf(zones[i], sizeof(zones[i]), "%s", zf.zone);
			check_ok(c, "zone.file %s (zone %s, %zu records)", path,
			         zf.zone, zf.nrecords);
		}
		dr_zonefile_free(&zf);
	}
	free(zones);
}

int
dr_check(const struct dr_config *cfg, const char *prog, FILE *out, FILE *errf,
         int (*more)(FILE *out, FILE *errf, const char *prog))
{
	struct check c = { prog, out, errf, 0 };

	if (cfg->config != NULL)
		check_ok(&c, "config %s", cfg->config);
	check_ok(&c, "id %s", cfg->id);
	check_listeners(&c, cfg);
	check_keys(&c, cfg);
	check_ok(&c, "raft.join %s", cfg->join ? cfg->join : "none");
	check_data_dir(&c, cfg);
	check_zone_files(&c, cfg);
	if (more != NULL)
		c.problems += more(out, errf, prog);
	if (c.problems == 0)
		fprintf(out, "ok\n");
	else
		fprintf(errf, "%s: check failed, %d problem%s\n", prog,
		        c.problems, c.problems == 1 ? "" : "s");
	fflush(out);
	fflush(errf);
	return c.problems;
}
