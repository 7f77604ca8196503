/* The shared flag table, address parsing and the node's derived paths. */
#include "flags.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "err.h"
#include "log.h"

enum flag_kind { FLAG_STR, FLAG_ADDR, FLAG_UINT, FLAG_BOOL, FLAG_LIST };

struct flag {
	const char *name;
	enum flag_kind kind;
	const char *def; /* default shown by -h; NULL: required */
	const char *help;
	size_t off;        /* offsetof into struct dr_config */
	unsigned min, max; /* FLAG_UINT bounds; FLAG_LIST: max entries */
	size_t count_off;  /* FLAG_LIST: offsetof its unsigned count */
	bool cmdline_only; /* refused in a config file */
};

#define OFF(f) offsetof(struct dr_config, f)

static const struct flag flag_table[] = {
	{ "config", FLAG_STR, "none",
	  "file of flags, one \"flag value\" per line; the command line wins",
	  OFF(config), 0, 0, 0, true },
	{ "id", FLAG_STR, NULL, "node name, unique in the cluster", OFF(id), 0,
	  0, 0, false },
	{ "raft.addr", FLAG_ADDR, ":8300 (127.0.0.1 without a key)",
	  "Raft TCP transport address", OFF(raft_addr), 0, 0, 0, false },
	{ "dns.addr", FLAG_ADDR, ":8600", "DNS address, UDP and TCP",
	  OFF(dns_addr), 0, 0, 0, false },
	{ "ctl.addr", FLAG_ADDR, "raft host:raft port+200",
	  "control line protocol address", OFF(ctl_addr), 0, 0, 0, false },
	{ "raft.join", FLAG_ADDR, "none, bootstrap",
	  "ctl address of a member to join (first start only)", OFF(join), 0, 0,
	  0, false },
	{ "zone.file", FLAG_LIST, "none",
	  "zone file loaded at start and on SIGHUP (repeatable)",
	  OFF(zone_files), 0, DR_MAX_ZONE_FILES, OFF(n_zone_files), false },
	{ "cluster.key", FLAG_LIST, "none, loopback only",
	  "file of the cluster key (dns-raft keygen); a second one is also "
	  "accepted from peers, for rotation",
	  OFF(cluster_keys), 0, DR_MAX_KEYS, OFF(n_cluster_keys), false },
	{ "data.dir", FLAG_STR, "./data/<id>",
	  "Raft log, snapshots, state.db and run/", OFF(data_dir), 0, 0, 0,
	  false },
	{ "raft.election-timeout", FLAG_UINT, "200",
	  "Raft election timeout (ms)", OFF(election_timeout_ms), 20, 60000, 0,
	  false },
	{ "raft.heartbeat-timeout", FLAG_UINT, "10",
	  "Raft heartbeat interval (ms)", OFF(heartbeat_timeout_ms), 5, 10000,
	  0, false },
	{ "raft.snapshot-threshold", FLAG_UINT, "8192",
	  "log entries between snapshots", OFF(snapshot_threshold), 16,
	  100000000, 0, false },
	{ "raft.snapshot-trailing", FLAG_UINT, "2048",
	  "log entries kept after a snapshot", OFF(snapshot_trailing), 0,
	  100000000, 0, false },
	{ "ctl.max-conns", FLAG_UINT, "1024", "concurrent control connections",
	  OFF(ctl_max_conns), 1, 100000, 0, false },
	{ "ctl.idle-timeout", FLAG_UINT, "300000",
	  "idle control session timeout (ms)", OFF(ctl_idle_timeout_ms), 100,
	  86400000, 0, false },
	{ "ctl.max-memory", FLAG_UINT, "256",
	  "MiB that control connections may hold in all (zone replace "
	  "bodies, unread replies)",
	  OFF(ctl_max_memory_mb), 1, 1048576, 0, false },
	{ "ctl.trust-loopback", FLAG_BOOL, "true",
	  "loopback control clients need no auth TOKEN",
	  OFF(ctl_trust_loopback), 0, 0, 0, false },
	{ "ctl.ack", FLAG_STR, "leader",
	  "when a write answers SUCCESS: \"leader\" once the leader applied "
	  "it, \"all\" once every reachable voter applied it and its dnsd "
	  "serves it (the \"ack\" command sets it per connection)",
	  OFF(ctl_ack), 0, 0, 0, false },
	{ "ctl.ack-timeout", FLAG_UINT, "1000",
	  "ms an \"ack all\" write waits at most for the voters that do "
	  "not have it yet",
	  OFF(ctl_ack_timeout_ms), 10, 60000, 0, false },
	{ "dns.rrl", FLAG_UINT, "100",
	  "response rate limit, answers/s per source /24 or /56 (0 = off)",
	  OFF(dns_rrl), 0, 1000000, 0, false },
	{ "dns.rrl-slip", FLAG_UINT, "2",
	  "every Nth rate-limited answer is a truncated one (0 = drop all)",
	  OFF(dns_rrl_slip), 0, 100, 0, false },
	{ "v", FLAG_BOOL, "false", "verbose (debug) logging", OFF(verbose), 0,
	  0, 0, false },
	{ "check", FLAG_BOOL, "false",
	  "check the flags, key, data.dir and zone files, start nothing "
	  "(exit 0 ok, 1 problem, 2 bad flags)",
	  OFF(check), 0, 0, 0, true },
	{ "h", FLAG_BOOL, "false", "print this help", OFF(help), 0, 0, 0,
	  true },
};

#define N_FLAGS (sizeof(flag_table) / sizeof(flag_table[0]))

static void
flags_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const struct flag *
flags_find(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < N_FLAGS; i++)
		if (strlen(flag_table[i].name) == n &&
		    strncmp(flag_table[i].name, name, n) == 0)
			return &flag_table[i];
	return NULL;
}

static int
flags_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return DR_EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return DR_EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* Sets one flag; on error writes the reason (without the flag) into err. */
static int
flags_set(struct dr_config *cfg, const struct flag *f, const char *val,
          char *err, size_t errlen)
{
	char *base = (char *)cfg + f->off;
	struct dr_addr a;

	switch (f->kind) {
	case FLAG_STR:
		if (*val == '\0') {
			flags_err(err, errlen, "empty value");
			return DR_EINVAL;
		}
		if (f->off == OFF(data_dir)) {
			if (strlen(val) >= DR_PATH_LEN) {
				flags_err(err, errlen, "too long");
				return DR_EINVAL;
			}
			strcpy(cfg->data_dir, val);
		} else if (f->off == OFF(ctl_ack)) {
			if (strcmp(val, "all") != 0 &&
			    strcmp(val, "leader") != 0) {
				flags_err(err, errlen,
				          "want all or leader, got \"%s\"",
				          val);
				return DR_EINVAL;
			}
			cfg->ctl_ack = val;
			cfg->ctl_ack_all = strcmp(val, "all") == 0;
		} else {
			*(const char **)base = val;
		}
		return 0;
	case FLAG_ADDR:
		if (dr_addr_parse(val, &a) != 0) {
			flags_err(err, errlen,
			          "invalid address \"%s\" (want host:port or "
			          ":port)",
			          val);
			return DR_EINVAL;
		}
		if (f->off == OFF(ctl_addr) || f->off == OFF(raft_addr)) {
			if (strlen(val) >= DR_ADDR_LEN) {
				flags_err(err, errlen, "too long");
				return DR_EINVAL;
			}
			strcpy(base, val);
		} else {
			*(const char **)base = val;
		}
		return 0;
	case FLAG_UINT:
		if (flags_parse_uint(val, f->min, f->max, (unsigned *)base) !=
		    0) {
			flags_err(err, errlen,
			          "want an integer in [%u, %u], got \"%s\"",
			          f->min, f->max, val);
			return DR_EINVAL;
		}
		return 0;
	case FLAG_BOOL:
		if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0) {
			*(bool *)base = true;
		} else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0) {
			*(bool *)base = false;
		} else {
			flags_err(err, errlen, "want true or false, got \"%s\"",
			          val);
			return DR_EINVAL;
		}
		return 0;
	case FLAG_LIST: {
		unsigned *count = (unsigned *)((char *)cfg + f->count_off);

		if (*val == '\0') {
			flags_err(err, errlen, "empty value");
			return DR_EINVAL;
		}
		if (*count >= f->max) {
			flags_err(err, errlen, "more than %u files", f->max);
			return DR_EINVAL;
		}
		((const char **)base)[(*count)++] = val;
		return 0;
	}
	}
	return DR_EINVAL;
}

static void
flags_defaults(struct dr_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->raft_addr, ":8300");
	cfg->ctl_trust_loopback = true;
	cfg->ctl_max_memory_mb = 256;
	cfg->dns_rrl = 100;
	cfg->dns_rrl_slip = 2;
	cfg->dns_addr = ":8600";
	cfg->election_timeout_ms = 200;
	cfg->heartbeat_timeout_ms = 10;
	cfg->snapshot_threshold = 8192;
	cfg->snapshot_trailing = 2048;
	cfg->ctl_max_conns = 1024;
	cfg->ctl_idle_timeout_ms = 300000;
	cfg->ctl_ack = "leader";
	cfg->ctl_ack_timeout_ms = 1000;
}

/*
 * Without a cluster key the raft and control ports speak to no one but
 * this machine: an empty host becomes 127.0.0.1 (addr is rewritten in
 * place) and any other host must be a loopback address.
 */
static int
flags_secure_default(struct dr_config *cfg, const char *flag, char *addr,
                     char *err, size_t errlen)
{
	struct dr_addr a;

	if (cfg->n_cluster_keys > 0 || dr_addr_parse(addr, &a) != 0)
		return 0;
	if (a.host[0] == '\0') {
		snprintf(addr, DR_ADDR_LEN, "127.0.0.1:%u", a.port);
		cfg->loopback_default = true;
		return 0;
	}
	if (!dr_host_is_loopback(a.host)) {
		flags_err(err, errlen,
		          "a non-loopback -%s needs -cluster.key (%s; see "
		          "dns-raft keygen)",
		          flag, addr);
		return DR_EINVAL;
	}
	return 0;
}

/* Fills what defaults to other flags' values and checks the combination. */
static int
flags_finish(struct dr_config *cfg, char *err, size_t errlen)
{
	struct dr_addr raft;
	char url[DR_PATH_LEN + 64];

	if (cfg->help)
		return 0;
	if (cfg->id == NULL) {
		flags_err(err, errlen, "-id is required");
		return DR_EINVAL;
	}
	if (!dr_id_valid(cfg->id, strlen(cfg->id))) {
		flags_err(
		    err, errlen,
		    "-id: \"%s\" must be 1-%d letters, digits, '-', '_' or '.'",
		    cfg->id, DR_ID_MAX);
		return DR_EINVAL;
	}
	if (cfg->ctl_addr[0] == '\0') {
		if (dr_addr_parse(cfg->raft_addr, &raft) != 0 ||
		    raft.port > 65535 - 200) {
			flags_err(err, errlen,
			          "-ctl.addr: cannot derive from -raft.addr %s",
			          cfg->raft_addr);
			return DR_EINVAL;
		}
		if (strchr(raft.host, ':') != NULL)
			snprintf(cfg->ctl_addr, sizeof(cfg->ctl_addr),
			         "[%s]:%u", raft.host, raft.port + 200u);
		else
			snprintf(cfg->ctl_addr, sizeof(cfg->ctl_addr), "%s:%u",
			         raft.host, raft.port + 200u);
	}
	if (flags_secure_default(cfg, "raft.addr", cfg->raft_addr, err,
	                         errlen) != 0 ||
	    flags_secure_default(cfg, "ctl.addr", cfg->ctl_addr, err, errlen) !=
	        0)
		return DR_EINVAL;
	if (cfg->data_dir[0] == '\0')
		snprintf(cfg->data_dir, sizeof(cfg->data_dir), "./data/%s",
		         cfg->id);
	dr_ipc_url(cfg, "raftd", url, sizeof(url));
	if (strlen(url) - strlen("ipc://") > DR_IPC_PATH_MAX) {
		flags_err(
		    err, errlen,
		    "-data.dir: too long for unix sockets (ipc paths must "
		    "stay under %d bytes)",
		    DR_IPC_PATH_MAX);
		return DR_EINVAL;
	}
	if (cfg->heartbeat_timeout_ms >= cfg->election_timeout_ms) {
		flags_err(err, errlen,
		          "-raft.heartbeat-timeout must be below "
		          "-raft.election-timeout");
		return DR_EINVAL;
	}
	return 0;
}

/*
 * The flag at argv[*i] and its value; moves *i past a separate value.
 * DR_EINVAL with the reason in err for a stray word, an unknown flag or a
 * missing value.
 */
static int
flags_arg(int argc, char **argv, int *i, const struct flag **fp,
          const char **valp, char *err, size_t errlen)
{
	const char *arg = argv[*i], *name, *eq;
	const struct flag *f;
	size_t n;

	if (arg[0] != '-' || arg[1] == '\0') {
		flags_err(err, errlen, "unexpected argument \"%s\"", arg);
		return DR_EINVAL;
	}
	name = arg + 1;
	if (*name == '-') /* accept --flag as well */
		name++;
	eq = strchr(name, '=');
	n = eq ? (size_t)(eq - name) : strlen(name);
	f = flags_find(name, n);
	if (f == NULL) {
		flags_err(err, errlen, "unknown flag \"%s\"", arg);
		return DR_EINVAL;
	}
	if (eq != NULL) {
		*valp = eq + 1;
	} else if (f->kind == FLAG_BOOL) {
		*valp = "true";
	} else if (*i + 1 < argc) {
		*valp = argv[++*i];
	} else {
		flags_err(err, errlen, "-%s needs a value", f->name);
		return DR_EINVAL;
	}
	*fp = f;
	return 0;
}

/* Reads path whole into a NUL-terminated heap buffer (*out, *len). */
static int
flags_file_read(const char *path, char **out, size_t *len, char *err,
                size_t errlen)
{
	/* Far above any real config: a wrong path (a zone, a log) stops. */
	enum { FLAGS_FILE_MAX = 1 << 20 };
	FILE *f;
	char *buf;
	size_t n;

	f = fopen(path, "r");
	if (f == NULL) {
		flags_err(err, errlen, "%s: cannot open (%s)", path,
		          strerror(errno));
		return DR_EINVAL;
	}
	buf = malloc(FLAGS_FILE_MAX + 1);
	if (buf == NULL)
		abort();
	n = fread(buf, 1, FLAGS_FILE_MAX + 1, f);
	if (ferror(f)) {
		flags_err(err, errlen, "%s: cannot read (%s)", path,
		          strerror(errno));
		goto err;
	}
	if (n > FLAGS_FILE_MAX) {
		flags_err(err, errlen, "%s: larger than %d bytes", path,
		          FLAGS_FILE_MAX);
		goto err;
	}
	fclose(f);
	buf = realloc(buf, n + 1);
	if (buf == NULL)
		abort();
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
err:
	fclose(f);
	free(buf);
	return DR_EINVAL;
}

static bool
flags_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * One line of a config file, NUL-terminated in place: sets its flag. Lines
 * of earlier flags are in seen[] (0: not seen) to refuse duplicates.
 */
static int
flags_file_line(struct dr_config *cfg, char *line, unsigned lineno,
                unsigned *seen, char *err, size_t errlen)
{
	char *key, *val, *p, reason[256];
	const struct flag *f;
	size_t idx;

	for (key = line; flags_blank(*key); key++)
		;
	if (*key == '\0' || *key == '#')
		return 0;
	for (p = key; *p != '\0' && !flags_blank(*p); p++)
		;
	val = p;
	if (*p != '\0') {
		*p = '\0';
		for (val = p + 1; flags_blank(*val); val++)
			;
	}
	/* A comment may follow the value after a blank. */
	for (p = val; *p != '\0'; p++)
		if (*p == '#' && (p == val || flags_blank(p[-1]))) {
			*p = '\0';
			break;
		}
	while (p > val && flags_blank(p[-1]))
		*--p = '\0';

	f = flags_find(key, strlen(key));
	if (f == NULL) {
		flags_err(err, errlen, "unknown flag \"%s\"%s", key,
		          key[0] == '-' ? " (write it without the dash)" : "");
		return DR_EINVAL;
	}
	if (f->cmdline_only) {
		flags_err(err, errlen, "%s is for the command line only",
		          f->name);
		return DR_EINVAL;
	}
	idx = (size_t)(f - flag_table);
	if (f->kind != FLAG_LIST && seen[idx] != 0) {
		flags_err(err, errlen, "%s already set on line %u", f->name,
		          seen[idx]);
		return DR_EINVAL;
	}
	seen[idx] = lineno;
	if (*val == '\0') {
		if (f->kind != FLAG_BOOL) {
			flags_err(err, errlen, "%s needs a value", f->name);
			return DR_EINVAL;
		}
		val = "true";
	}
	if (flags_set(cfg, f, val, reason, sizeof(reason)) != 0) {
		flags_err(err, errlen, "%s: %s", f->name, reason);
		return DR_EINVAL;
	}
	return 0;
}

/* Sets the flags of a config file; its text stays in cfg->config_text. */
static int
flags_file(struct dr_config *cfg, const char *path, char *err, size_t errlen)
{
	unsigned seen[N_FLAGS] = { 0 };
	char *text, *line, *nl, *end, reason[512];
	unsigned lineno;
	size_t len;
	int rv;

	rv = flags_file_read(path, &text, &len, err, errlen);
	if (rv != 0)
		return rv;
	cfg->config_text = text;
	end = text + len;
	for (line = text, lineno = 1; line < end; line = nl + 1, lineno++) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (nl == NULL)
			nl = end;
		*nl = '\0';
		if (strlen(line) != (size_t)(nl - line)) {
			flags_err(err, errlen, "%s:%u: NUL byte in line", path,
			          lineno);
			return DR_EINVAL;
		}
		rv = flags_file_line(cfg, line, lineno, seen, reason,
		                     sizeof(reason));
		if (rv != 0) {
			flags_err(err, errlen, "%s:%u: %s", path, lineno,
			          reason);
			return rv;
		}
	}
	return 0;
}

static int
flags_parse(struct dr_config *cfg, int argc, char **argv, char *err,
            size_t errlen)
{
	const struct flag *f = NULL;
	const char *val = NULL, *config = NULL;
	bool lists_given[N_FLAGS] = { false };
	char reason[512];
	int i, rv;

	/* First the shape of argv and the config file's name... */
	for (i = 1; i < argc; i++) {
		rv = flags_arg(argc, argv, &i, &f, &val, err, errlen);
		if (rv != 0)
			return rv;
		if (f->off == OFF(config))
			config = val;
	}
	/* ...then the file's flags, which the command line's override. */
	if (config != NULL) {
		rv = flags_file(cfg, config, err, errlen);
		if (rv != 0)
			return rv;
	}
	for (i = 1; i < argc; i++) {
		(void)flags_arg(argc, argv, &i, &f, &val, err, errlen);
		/* A list on the command line replaces the file's. */
		if (f->kind == FLAG_LIST &&
		    !lists_given[(size_t)(f - flag_table)]) {
			*(unsigned *)((char *)cfg + f->count_off) = 0;
			lists_given[(size_t)(f - flag_table)] = true;
		}
		rv = flags_set(cfg, f, val, reason, sizeof(reason));
		if (rv != 0) {
			flags_err(err, errlen, "-%s: %s", f->name, reason);
			return rv;
		}
	}
	return flags_finish(cfg, err, errlen);
}

int
dr_flags_parse(struct dr_config *cfg, int argc, char **argv, char *err,
               size_t errlen)
{
	int rv;

	flags_defaults(cfg);
	rv = flags_parse(cfg, argc, argv, err, errlen);
	if (rv != 0)
		dr_flags_free(cfg);
	return rv;
}

void
dr_flags_free(struct dr_config *cfg)
{
	free(cfg->config_text);
	cfg->config_text = NULL;
}

void
dr_flags_usage(FILE *f, const char *prog)
{
	size_t i;

	fprintf(f,
	        "usage: %s -id NAME [flags]\n"
	        "       %s -config FILE [flags]\n\nflags:\n",
	        prog, prog);
	for (i = 0; i < N_FLAGS; i++) {
		const struct flag *fl = &flag_table[i];

		fprintf(f, "  -%-24s %s", fl->name, fl->help);
		if (fl->def != NULL)
			fprintf(f, " (default %s)\n", fl->def);
		else
			fprintf(f, " (required)\n");
	}
}

int
dr_addr_parse(const char *s, struct dr_addr *out)
{
	const char *colon, *host = s, *port;
	size_t hostlen;
	unsigned p;

	if (s == NULL)
		return DR_EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return DR_EINVAL;
		host = s + 1;
		hostlen = (size_t)(close - host);
		port = close + 2;
		if (hostlen == 0)
			return DR_EINVAL;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || strchr(s, ':') != colon)
			return DR_EINVAL;
		hostlen = (size_t)(colon - s);
		port = colon + 1;
	}
	if (hostlen >= sizeof(out->host))
		return DR_EINVAL;
	for (size_t i = 0; i < hostlen; i++) {
		char c = host[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == ':' || c == '_'))
			return DR_EINVAL;
	}
	if (flags_parse_uint(port, 1, 65535, &p) != 0)
		return DR_EINVAL;
	memcpy(out->host, host, hostlen);
	out->host[hostlen] = '\0';
	out->port = (uint16_t)p;
	return 0;
}

int
dr_addr_advertise(const char *s, char *out, size_t outlen)
{
	struct dr_addr a;
	int n;

	if (dr_addr_parse(s, &a) != 0)
		return DR_EINVAL;
	if (a.host[0] == '\0' || strcmp(a.host, "0.0.0.0") == 0)
		n = snprintf(out, outlen, "127.0.0.1:%u", a.port);
	else if (strchr(a.host, ':') != NULL)
		n = snprintf(out, outlen, "[%s]:%u", a.host, a.port);
	else
		n = snprintf(out, outlen, "%s:%u", a.host, a.port);
	if (n < 0 || (size_t)n >= outlen)
		return DR_ETOOBIG;
	return 0;
}

uint64_t
dr_raft_id(const char *name)
{
	uint64_t h = 14695981039346656037ull;

	for (; *name != '\0'; name++) {
		h ^= (uint8_t)*name;
		h *= 1099511628211ull;
	}
	/* c-raft wants ids > 0; keep them in int64 range for SQLite too. */
	h &= INT64_MAX;
	return h ? h : 1;
}

void
dr_run_dir(const struct dr_config *cfg, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/run", cfg->data_dir);
}

void
dr_ipc_url(const struct dr_config *cfg, const char *name, char *out,
           size_t outlen)
{
	snprintf(out, outlen, "ipc://%s/run/%s.ipc", cfg->data_dir, name);
}

int
dr_mkdirs(const char *dir)
{
	char path[DR_PATH_LEN];
	size_t n = strlen(dir), i;

	if (n == 0 || n >= sizeof(path))
		return DR_EINVAL;
	memcpy(path, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0750) != 0 && errno != EEXIST) {
			log_warn("%s, cannot create directory", path);
			return DR_EIO;
		}
		if (i < n)
			path[i] = '/';
	}
	return 0;
}

void
dr_parent_death_signal(void)
{
	const char *s = getenv("DR_SUPERVISED");
	pid_t parent;

	if (s == NULL || strcmp(s, "1") != 0)
		return;
	parent = getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		log_warn("prctl PR_SET_PDEATHSIG");
	/* The supervisor may have died before the prctl took effect. */
	if (getppid() != parent)
		raise(SIGTERM);
}

bool
dr_host_is_loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (strcasecmp(host, "localhost") == 0 ||
	    strcasecmp(host, "localhost.") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

bool
dr_id_valid(const char *p, size_t len)
{
	size_t i;

	if (len == 0 || len > DR_ID_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return false;
	}
	return true;
}

int
dr_addr_resolve(const struct dr_addr *a, struct sockaddr_storage *ss,
                socklen_t *len)
{
	struct addrinfo hints, *res;
	char port[8];
	const char *host = a->host[0] != '\0' ? a->host : "0.0.0.0";
	int rv;

	memset(ss, 0, sizeof(*ss));
	if (uv_ip4_addr(host, a->port, (struct sockaddr_in *)ss) == 0) {
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (uv_ip6_addr(host, a->port, (struct sockaddr_in6 *)ss) == 0) {
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	(void)snprintf(port, sizeof(port), "%u", a->port);
	rv = getaddrinfo(host, port, &hints, &res);
	if (rv != 0) {
		log_warnx("address, cannot resolve %s (%s)", host,
		          gai_strerror(rv));
		return DR_EINVAL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}
