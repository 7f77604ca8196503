/* The node's flags, shared by the supervisor and every daemon. */
#ifndef DR_FLAGS_H
#define DR_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define DR_MAX_ZONE_FILES 64
/* -cluster.key: the key in use, and one more accepted during rotation. */
#define DR_MAX_KEYS 2
#define DR_ADDR_LEN 300
#define DR_PATH_LEN 4096
/* sun_path is 108 bytes; ipc:// urls are built from data.dir. */
#define DR_IPC_PATH_MAX 100
/* Node names: 1-64 of [A-Za-z0-9._-]. */
#define DR_ID_MAX 64

/* A parsed "host:port" (host may be empty = all interfaces, or [v6]). */
struct dr_addr {
	char host[256];
	uint16_t port;
};

/*
 * Every daemon accepts the whole table, so the supervisor passes its own
 * flags through and systemd units may use one config for all processes.
 * Strings point into argv, into config_text or at the defaults (borrowed).
 */
struct dr_config {
	const char *config; /* -config FILE, or NULL */
	char *config_text;  /* owned: FILE's bytes, split into values */
	const char *id;
	/*
	 * Without a cluster key, an empty host of raft.addr and ctl.addr is
	 * rewritten to 127.0.0.1 here (loopback_default says it happened).
	 */
	char raft_addr[DR_ADDR_LEN];
	const char *dns_addr;
	char ctl_addr[DR_ADDR_LEN]; /* default: raft host, raft port + 200 */
	const char *join;           /* ctl address of a member, or NULL */
	const char *zone_files[DR_MAX_ZONE_FILES];
	unsigned n_zone_files;
	/* -cluster.key files: [0] is used, every one is accepted. */
	const char *cluster_keys[DR_MAX_KEYS];
	unsigned n_cluster_keys;
	char data_dir[DR_PATH_LEN]; /* default: ./data/<id> */
	unsigned election_timeout_ms;
	unsigned heartbeat_timeout_ms;
	unsigned snapshot_threshold;
	unsigned snapshot_trailing;
	unsigned ctl_max_conns;
	unsigned ctl_idle_timeout_ms;
	bool ctl_trust_loopback;    /* loopback clients need no auth TOKEN */
	unsigned ctl_max_memory_mb; /* buffered bodies and replies, in all */
	/*
	 * -ctl.ack: "leader" (a write's SUCCESS once the leader applied it)
	 * or "all" (once every reachable voter applied it and its dnsd
	 * serves it, at most ctl_ack_timeout_ms later); per connection, the
	 * "ack" command overrides it.
	 */
	const char *ctl_ack;
	bool ctl_ack_all;
	unsigned ctl_ack_timeout_ms;
	unsigned dns_rrl;      /* responses/s per source prefix, 0 = off */
	unsigned dns_rrl_slip; /* every Nth limited answer is TC=1; 0 never */
	bool loopback_default; /* an empty host became 127.0.0.1 (no key) */
	bool verbose;
	bool check;
	bool help;
};

/*
 * Parses argv (Go style: "-flag value" or "-flag=value") into cfg after
 * filling defaults, and checks every value. With "-config FILE" the flags
 * of FILE are set first: one "flag value" per line (name without the dash,
 * a bool's value may be left out), blank lines and '#' comments (whole
 * line, or after a blank); flags given on the command line win, and any
 * -zone.file there replaces the file's list. A flag other than zone.file
 * may appear once in FILE; config, check and h may not appear there.
 * On error returns DR_EINVAL with a one-line reason in err ("FILE:LINE:
 * reason" for a line of FILE) and cfg holds nothing to free. On success
 * release cfg with dr_flags_free. "-h" sets cfg->help and returns 0.
 */
int dr_flags_parse(struct dr_config *cfg, int argc, char **argv, char *err,
                   size_t errlen);
/* Frees what dr_flags_parse allocated (the config file's text). */
void dr_flags_free(struct dr_config *cfg);
/* Prints every flag with its default. */
void dr_flags_usage(FILE *f, const char *prog);

/* Parses "host:port", ":port", "[v6]:port". DR_EINVAL on bad input. */
int dr_addr_parse(const char *s, struct dr_addr *out);
/*
 * Fills ss/len with the socket address to bind for a (empty host = all
 * IPv4 interfaces); a host name is resolved with getaddrinfo (blocking:
 * call at start, before the loop runs). DR_EINVAL (logged) if it cannot.
 */
int dr_addr_resolve(const struct dr_addr *a, struct sockaddr_storage *ss,
                    socklen_t *len);
/*
 * Writes a connectable "host:port" for s into out: an empty host becomes
 * 127.0.0.1. Used for the address peers dial and that members record.
 */
int dr_addr_advertise(const char *s, char *out, size_t outlen);

/*
 * True when host is a loopback address: 127.0.0.0/8, ::1 or "localhost".
 * An empty host (every interface) is not.
 */
bool dr_host_is_loopback(const char *host);

/* True when p[0..len) is a valid node name (see DR_ID_MAX). */
bool dr_id_valid(const char *p, size_t len);

/* The Raft server id for a node name (64-bit FNV-1a, never 0). */
uint64_t dr_raft_id(const char *name);

/*
 * ipc:// url of an endpoint of a node: "raftd" (raftd req/rep), "pub"
 * (raftd pub/sub), "dnsd" (dnsd req/rep: DR_MSG_STATUS for its counters).
 */
void dr_ipc_url(const struct dr_config *cfg, const char *name, char *out,
                size_t outlen);
/* Directory holding the ipc sockets: <data.dir>/run. */
void dr_run_dir(const struct dr_config *cfg, char *out, size_t outlen);

/* Creates dir and its parents (mode 0750). DR_EIO on failure (logged). */
int dr_mkdirs(const char *dir);

/*
 * When started by the supervisor (DR_SUPERVISED in the environment), ask
 * the kernel to send SIGTERM when the supervisor dies, so a kill -9 of the
 * supervisor never leaves orphans holding the node's ports.
 */
void dr_parent_death_signal(void);

#endif
