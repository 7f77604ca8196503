/* Spawns a node's daemons, restarts them with backoff, stops them in order. */
#include "supervise.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "err.h"
#include "flags.h"
#include "log.h"
#include "ready.h"
#include "restart.h"

#define SUPERVISE_KILL_AFTER_MS 5000 /* SIGTERM, then SIGKILL */
#define SUPERVISE_ENV_FLAG      "DR_SUPERVISED=1"
#define SUPERVISE_NOTIFY_ENV    "NOTIFY_SOCKET="
/* In the run directory: where the daemons' READY=1 come (ready.h). */
#define SUPERVISE_READY_SOCK "ready.sock"
#define SUPERVISE_RUN_LEN    (DR_PATH_LEN + 8) /* <data.dir>/run */

struct supervise_spec {
	const char *name;
	bool required; /* else started only when the binary is there */
	bool reload;   /* gets the supervisor's SIGHUP */
};

/*
 * The daemons in start order; the node stops in reverse order, so ctld
 * stops taking writes before raftd goes away. SIGHUP ("reload the zone
 * files") goes to ctld only: ctld reads the -zone.file files and submits
 * them through the leader; raftd and dnsd have nothing to reload (dnsd
 * follows raftd's changes on its own).
 */
static const struct supervise_spec supervise_specs[] = {
	{ "raftd", true, false },
	{ "dnsd", false, false },
	{ "ctld", true, true },
};

#define SUPERVISE_N (sizeof(supervise_specs) / sizeof(supervise_specs[0]))

struct supervise_child {
	struct supervise *sup;             /* borrowed */
	const struct supervise_spec *spec; /* borrowed, static */
	char path[DR_PATH_LEN];
	char **argv;       /* owned array, strings borrowed from main's argv */
	bool present;      /* binary found next to the supervisor */
	uv_process_t proc; /* valid while proc_open */
	bool proc_open;    /* spawned (or failed to), not yet closed */
	bool running;      /* spawned and its exit not yet seen */
	uv_timer_t restart;
	uint64_t started_ms;
	struct restart policy; /* when to restart it, whether to give up */
	char why[DR_PATH_LEN + 128]; /* how it last went down */
};

enum supervise_state {
	SUPERVISE_IDLE,     /* handles not initialized yet */
	SUPERVISE_RUNNING,  /* children are kept up */
	SUPERVISE_STOPPING, /* children stopped one by one, no restarts */
	SUPERVISE_CLOSED,   /* every handle closed or closing */
};

struct supervise {
	uv_loop_t *loop; /* borrowed */
	const char *id;  /* borrowed (argv) */
	char **env;      /* owned array, strings borrowed from environ */
	char env_flag[sizeof(SUPERVISE_ENV_FLAG)];
	/* NOTIFY_SOCKET=<run dir>/ready.sock, "" without the socket */
	char env_notify[sizeof(SUPERVISE_NOTIFY_ENV) + SUPERVISE_RUN_LEN +
	                sizeof(SUPERVISE_READY_SOCK) + 1];
	struct ready *ready; /* owned, NULL if it could not be made */
	struct supervise_child children[SUPERVISE_N];
	uv_signal_t sighup, sigterm, sigint;
	uv_timer_t kill_timer;
	enum supervise_state state;
	size_t to_stop; /* children[to_stop - 1] is the one being stopped */
	struct supervise_child *failed; /* gave up on it, or NULL */
	int exit_code;
};

static void supervise_exit_cb(uv_process_t *proc, int64_t status, int sig);
static void supervise_child_down(struct supervise_child *c);
static void supervise_kill_cb(uv_timer_t *t);

static uint64_t
supervise_now_ms(void)
{
	return uv_hrtime() / 1000000u;
}

int
supervise_prepare(const struct dr_config *cfg, char *err, size_t errlen)
{
	static const char *const endpoints[] = { "raftd", "pub" };
	char url[DR_PATH_LEN + 64], run[SUPERVISE_RUN_LEN];
	size_t i, n;

	/* sun_path is short: say so now, not as an obscure nng error later. */
	for (i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
		dr_ipc_url(cfg, endpoints[i], url, sizeof(url));
		n = strlen(url) - strlen("ipc://");
		if (n > DR_IPC_PATH_MAX) {
			snprintf(
			    err, errlen,
			    "-data.dir: \"%s\" is too long for unix sockets "
			    "(%s is %zu bytes, at most %d)",
			    cfg->data_dir, url + strlen("ipc://"), n,
			    DR_IPC_PATH_MAX);
			return DR_EINVAL;
		}
	}
	dr_run_dir(cfg, run, sizeof(run));
	if (dr_mkdirs(cfg->data_dir) != 0 || dr_mkdirs(run) != 0)
		return DR_EIO;
	return 0;
}

/* The directory of the running executable, where the daemons live too. */
static int
supervise_exe_dir(char *out, size_t outlen)
{
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", out, outlen - 1);
	if (n < 0) {
		log_warn("/proc/self/exe, cannot read link");
		return DR_EIO;
	}
	if ((size_t)n >= outlen - 1) {
		log_warnx("/proc/self/exe, path too long");
		return DR_EIO;
	}
	out[n] = '\0';
	slash = strrchr(out, '/');
	if (slash == NULL) {
		log_warnx("/proc/self/exe, unexpected target \"%s\"", out);
		return DR_EIO;
	}
	slash[slash == out ? 1 : 0] = '\0';
	return 0;
}

int
supervise_check(FILE *out, FILE *errf, const char *prog)
{
	char dir[DR_PATH_LEN], path[DR_PATH_LEN + 16];
	const struct supervise_spec *spec;
	int problems = 0;
	size_t i;

	if (supervise_exe_dir(dir, sizeof(dir)) != 0) {
		fprintf(errf, "%s: cannot find its own directory\n", prog);
		return 1;
	}
	for (i = 0; i < SUPERVISE_N; i++) {
		spec = &supervise_specs[i];
		snprintf(path, sizeof(path), "%s/%s", dir, spec->name);
		if (access(path, X_OK) == 0) {
			fprintf(out, "ok %s %s\n", spec->name, path);
		} else if (spec->required) {
			fprintf(errf, "%s: %s: cannot run (%s)\n", prog, path,
			        strerror(errno));
			problems++;
		} else {
			fprintf(out, "ok %s not installed, not started (%s)\n",
			        spec->name, path);
		}
	}
	return problems;
}

/*
 * environ without any DR_SUPERVISED or NOTIFY_SOCKET, plus
 * DR_SUPERVISED=1 and our own NOTIFY_SOCKET (if notify is not "").
 */
static char **
supervise_env_new(char *flag, char *notify)
{
	extern char **environ;
	size_t n = 0, i, j = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	env = calloc(n + 3, sizeof(*env));
	if (env == NULL)
		abort();
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "DR_SUPERVISED=", 14) != 0 &&
		    strncmp(environ[i], SUPERVISE_NOTIFY_ENV,
		            strlen(SUPERVISE_NOTIFY_ENV)) != 0)
			env[j++] = environ[i];
	env[j++] = flag;
	if (notify[0] != '\0')
		env[j] = notify;
	return env;
}

int
supervise_new(uv_loop_t *loop, const struct dr_config *cfg, int argc,
              char **argv, struct supervise **out)
{
	char dir[DR_PATH_LEN], run[SUPERVISE_RUN_LEN];
	struct supervise *s;
	size_t i;
	int rv, a, n;

	rv = supervise_exe_dir(dir, sizeof(dir));
	if (rv != 0)
		return rv;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		abort();
	s->loop = loop;
	s->id = cfg->id;
	memcpy(s->env_flag, SUPERVISE_ENV_FLAG, sizeof(s->env_flag));
	dr_run_dir(cfg, run, sizeof(run));
	snprintf(s->env_notify, sizeof(s->env_notify), "%s%s/%s",
	         SUPERVISE_NOTIFY_ENV, run, SUPERVISE_READY_SOCK);
	for (i = 0; i < SUPERVISE_N; i++) {
		struct supervise_child *c = &s->children[i];

		c->sup = s;
		c->spec = &supervise_specs[i];
		restart_init(&c->policy);
		n = snprintf(c->path, sizeof(c->path), "%s/%s", dir,
		             c->spec->name);
		if (n < 0 || (size_t)n >= sizeof(c->path)) {
			log_warnx("%s, path too long", c->spec->name);
			rv = DR_EIO;
			goto err_after_alloc;
		}
		c->present = access(c->path, X_OK) == 0;
		if (!c->present && c->spec->required) {
			log_warnx("%s, not found next to dns-raft (%s)",
			          c->spec->name, c->path);
			rv = DR_ENOTFOUND;
			goto err_after_alloc;
		}
		if (!c->present) {
			log_debug("%s, not installed (%s), not started",
			          c->spec->name, c->path);
			continue;
		}
		/* The daemons take exactly the supervisor's flags. */
		c->argv = calloc((size_t)argc + 1, sizeof(*c->argv));
		if (c->argv == NULL)
			abort();
		c->argv[0] = c->path;
		for (a = 1; a < argc; a++)
			c->argv[a] = argv[a];
	}
	*out = s;
	return 0;

err_after_alloc:
	supervise_free(s);
	return rv;
}

static void
supervise_proc_close_cb(uv_handle_t *h)
{
	struct supervise_child *c = h->data;

	c->proc_open = false;
}

/* Starts c; on failure c->why says why and c stays down. */
static int
supervise_spawn(struct supervise_child *c)
{
	struct supervise *s = c->sup;
	uv_process_options_t opts;
	uv_stdio_container_t stdio[3];
	int i, rv;

	assert(!c->proc_open && !c->running);
	memset(&opts, 0, sizeof(opts));
	for (i = 0; i < 3; i++) {
		stdio[i].flags = UV_INHERIT_FD;
		stdio[i].data.fd = i;
	}
	opts.exit_cb = supervise_exit_cb;
	opts.file = c->path;
	opts.args = c->argv;
	opts.env = s->env;
	opts.stdio = stdio;
	opts.stdio_count = 3;
	/*
	 * No UV_PROCESS_DETACHED: the daemons stay in the supervisor's
	 * process group, so killing the group (systemd, a test harness)
	 * reaches the whole node. A terminal's Ctrl-C thus reaches them too
	 * and they stop at once rather than in order; SIGTERM to the
	 * supervisor alone is the ordered stop. A kill -9 of the supervisor
	 * alone takes them along through PR_SET_PDEATHSIG, set by each.
	 */
	c->started_ms = supervise_now_ms();
	rv = uv_spawn(s->loop, &c->proc, &opts);
	c->proc.data = c;
	c->proc_open = true;
	if (rv != 0) {
		/* The handle is initialized even when the spawn failed. */
		uv_close((uv_handle_t *)&c->proc, supervise_proc_close_cb);
		snprintf(c->why, sizeof(c->why), "cannot start %s: %s", c->path,
		         uv_strerror(rv));
		return DR_EIO;
	}
	c->running = true;
	log_info("%s, started (pid %d)", c->spec->name, c->proc.pid);
	return 0;
}

static void
supervise_restart_cb(uv_timer_t *t)
{
	struct supervise_child *c = t->data;

	if (c->sup->state != SUPERVISE_RUNNING)
		return;
	if (supervise_spawn(c) != 0)
		supervise_child_down(c);
}

static void
supervise_close(struct supervise *s)
{
	size_t i;

	assert(s->state != SUPERVISE_CLOSED);
	if (s->ready != NULL) {
		ready_stop(s->ready);
		s->ready = NULL;
	}
	if (s->state != SUPERVISE_IDLE) {
		uv_close((uv_handle_t *)&s->sighup, NULL);
		uv_close((uv_handle_t *)&s->sigterm, NULL);
		uv_close((uv_handle_t *)&s->sigint, NULL);
		uv_close((uv_handle_t *)&s->kill_timer, NULL);
		for (i = 0; i < SUPERVISE_N; i++)
			if (s->children[i].present)
				uv_close((uv_handle_t *)&s->children[i].restart,
				         NULL);
	}
	s->state = SUPERVISE_CLOSED;
}

/*
 * Signals the next running child, from the end of the start order, or
 * closes everything once none is left.
 */
static void
supervise_stop_next(struct supervise *s)
{
	struct supervise_child *c;
	int rv;

	for (; s->to_stop > 0; s->to_stop--) {
		c = &s->children[s->to_stop - 1];
		if (!c->running)
			continue;
		log_info("%s, stopping (pid %d)", c->spec->name, c->proc.pid);
		rv = uv_process_kill(&c->proc, SIGTERM);
		/* ESRCH: it died already, its exit_cb is on its way. */
		if (rv != 0 && rv != UV_ESRCH)
			log_warnx("%s, cannot signal pid %d (%s)",
			          c->spec->name, c->proc.pid, uv_strerror(rv));
		uv_timer_start(&s->kill_timer, supervise_kill_cb,
		               SUPERVISE_KILL_AFTER_MS, 0);
		return;
	}
	supervise_close(s);
	if (s->failed != NULL)
		fatalx("%s keeps failing at start (%s), giving up",
		       s->failed->spec->name, s->failed->why);
	log_info("node %s, stopped", s->id);
}

static void
supervise_kill_cb(uv_timer_t *t)
{
	struct supervise *s = t->data;
	struct supervise_child *c;

	assert(s->state == SUPERVISE_STOPPING && s->to_stop > 0);
	c = &s->children[s->to_stop - 1];
	if (!c->running)
		return;
	log_warnx("%s, still running %d s after SIGTERM, killing (pid %d)",
	          c->spec->name, SUPERVISE_KILL_AFTER_MS / 1000, c->proc.pid);
	uv_process_kill(&c->proc, SIGKILL);
}

/* Stops every child in reverse start order; the loop then ends. */
static void
supervise_stop(struct supervise *s, int exit_code)
{
	size_t i;

	if (s->state != SUPERVISE_RUNNING)
		return;
	s->state = SUPERVISE_STOPPING;
	s->exit_code = exit_code;
	for (i = 0; i < SUPERVISE_N; i++)
		if (s->children[i].present)
			uv_timer_stop(&s->children[i].restart);
	s->to_stop = SUPERVISE_N;
	supervise_stop_next(s);
}

/*
 * c went down while it should run (c->why says how): restart it later,
 * or give up on a daemon that never started (restart.h). One log line
 * says what happened and what comes next.
 */
static void
supervise_child_down(struct supervise_child *c)
{
	struct supervise *s = c->sup;
	uint64_t up = supervise_now_ms() - c->started_ms;
	char next[128];
	unsigned delay;
	bool again;

	again = restart_next(&c->policy, up, &delay);
	if (!again)
		snprintf(next, sizeof(next),
		         "failed %u times in a row, stopping the node",
		         c->policy.failures);
	else if (c->policy.started)
		snprintf(next, sizeof(next),
		         "restart in %u ms (failure %u in a row)", delay,
		         c->policy.failures);
	else
		snprintf(next, sizeof(next),
		         "restart in %u ms (failure %u of %u before giving up)",
		         delay, c->policy.failures, RESTART_GIVE_UP);
	log_warnx("%s, down (%s) after %" PRIu64 ".%" PRIu64 " s%s; %s",
	          c->spec->name, c->why, up / 1000, up % 1000 / 100,
	          c->policy.started ? "" : ", never ready", next);
	if (!again) {
		/*
		 * Something a restart cannot fix (a port in use, bad flags,
		 * an unusable data dir): stop the node rather than spin.
		 */
		s->failed = c;
		supervise_stop(s, 1);
		return;
	}
	uv_timer_start(&c->restart, supervise_restart_cb, delay, 0);
}

static void
supervise_exit_cb(uv_process_t *proc, int64_t status, int sig)
{
	struct supervise_child *c = proc->data;
	struct supervise *s = c->sup;
	bool current;

	/* Closing waits for every child, so no exit can come after it. */
	assert(s->state == SUPERVISE_RUNNING || s->state == SUPERVISE_STOPPING);
	/* A READY=1 sent just before the exit still counts. */
	if (s->ready != NULL)
		ready_drain(s->ready);
	c->running = false;
	uv_close((uv_handle_t *)proc, supervise_proc_close_cb);
	if (sig != 0)
		snprintf(c->why, sizeof(c->why), "killed by signal %d, %s", sig,
		         strsignal(sig));
	else
		snprintf(c->why, sizeof(c->why), "exit status %" PRId64,
		         status);
	if (s->state == SUPERVISE_STOPPING) {
		current = s->to_stop > 0 && c == &s->children[s->to_stop - 1];
		if (current)
			log_info("%s, stopped (%s)", c->spec->name, c->why);
		else if (sig == 0 && status == 0)
			log_info("%s, exited (%s)", c->spec->name, c->why);
		else
			log_warnx("%s, exited (%s)", c->spec->name, c->why);
		if (current) {
			uv_timer_stop(&s->kill_timer);
			s->to_stop--;
			supervise_stop_next(s);
		}
		return;
	}
	supervise_child_down(c);
}

static void
supervise_signal_cb(uv_signal_t *h, int signum)
{
	struct supervise *s = h->data;
	struct supervise_child *c;
	size_t i;
	int rv;

	if (signum != SIGHUP) {
		if (s->state != SUPERVISE_RUNNING) {
			log_info("node %s, already stopping", s->id);
			return;
		}
		log_info("node %s, stopping (%s)", s->id, strsignal(signum));
		supervise_stop(s, 0);
		return;
	}
	if (s->state != SUPERVISE_RUNNING)
		return;
	for (i = 0; i < SUPERVISE_N; i++) {
		c = &s->children[i];
		if (!c->spec->reload || !c->present)
			continue;
		if (!c->running) {
			log_warnx("%s, not running, SIGHUP not forwarded",
			          c->spec->name);
			continue;
		}
		rv = uv_process_kill(&c->proc, SIGHUP);
		if (rv != 0)
			log_warnx("%s, cannot forward SIGHUP (%s)",
			          c->spec->name, uv_strerror(rv));
		else
			log_info("%s, SIGHUP forwarded (pid %d)", c->spec->name,
			         c->proc.pid);
	}
}

/* A daemon said READY=1: it has started (restart.h). */
static void
supervise_ready_cb(pid_t pid, void *arg)
{
	struct supervise *s = arg;
	struct supervise_child *c;
	size_t i;

	for (i = 0; i < SUPERVISE_N; i++) {
		c = &s->children[i];
		if (c->running && c->proc.pid == pid) {
			log_info("%s, ready (pid %d)", c->spec->name, (int)pid);
			restart_ready(&c->policy);
			return;
		}
	}
	log_debug("supervisor, READY=1 from pid %d, not a daemon of ours",
	          (int)pid);
}

/*
 * The daemons' readiness socket, then their environment. Without the
 * socket, a daemon counts as started once it stayed up
 * RESTART_STABLE_MS.
 */
static void
supervise_ready_start(struct supervise *s)
{
	const char *path = s->env_notify + strlen(SUPERVISE_NOTIFY_ENV);
	int rv;

	rv = ready_start(&s->ready, s->loop, path, supervise_ready_cb, s);
	if (rv != 0) {
		if (rv == DR_EINVAL)
			log_warnx("supervisor, %s: too long for a unix socket",
			          path);
		log_warnx("supervisor, no readiness from the daemons: each "
		          "counts as started after %d s up",
		          RESTART_STABLE_MS / 1000);
		s->ready = NULL;
		s->env_notify[0] = '\0';
	}
	s->env = supervise_env_new(s->env_flag, s->env_notify);
}

static int
supervise_signal_start(uv_signal_t *h, int signum)
{
	int rv;

	rv = uv_signal_start(h, supervise_signal_cb, signum);
	if (rv != 0) {
		log_warnx("%s, cannot handle (%s)", strsignal(signum),
		          uv_strerror(rv));
		return DR_EIO;
	}
	return 0;
}

int
supervise_start(struct supervise *s)
{
	struct supervise_child *c;
	size_t i;
	int rv;

	assert(s->state == SUPERVISE_IDLE);
	s->state = SUPERVISE_RUNNING;
	supervise_ready_start(s);
	uv_timer_init(s->loop, &s->kill_timer);
	s->kill_timer.data = s;
	for (i = 0; i < SUPERVISE_N; i++) {
		c = &s->children[i];
		if (!c->present)
			continue;
		uv_timer_init(s->loop, &c->restart);
		c->restart.data = c;
	}
	uv_signal_init(s->loop, &s->sighup);
	uv_signal_init(s->loop, &s->sigterm);
	uv_signal_init(s->loop, &s->sigint);
	s->sighup.data = s->sigterm.data = s->sigint.data = s;
	rv = supervise_signal_start(&s->sighup, SIGHUP);
	if (rv == 0)
		rv = supervise_signal_start(&s->sigterm, SIGTERM);
	if (rv == 0)
		rv = supervise_signal_start(&s->sigint, SIGINT);
	if (rv != 0) {
		s->exit_code = 1;
		supervise_close(s);
		return rv;
	}
	log_info("node %s, starting", s->id);
	/* A failed spawn may give up and stop the node: check the state. */
	for (i = 0; i < SUPERVISE_N && s->state == SUPERVISE_RUNNING; i++) {
		c = &s->children[i];
		if (c->present && supervise_spawn(c) != 0)
			supervise_child_down(c);
	}
	return 0;
}

int
supervise_exit_code(const struct supervise *s)
{
	return s->exit_code;
}

void
supervise_free(struct supervise *s)
{
	size_t i;

	if (s == NULL)
		return;
	assert(s->state == SUPERVISE_IDLE || s->state == SUPERVISE_CLOSED);
	for (i = 0; i < SUPERVISE_N; i++)
		free(s->children[i].argv);
	free(s->env);
	free(s);
}
