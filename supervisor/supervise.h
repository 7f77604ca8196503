/* The supervisor: spawns a node's daemons, restarts them, stops them. */
#ifndef DR_SUPERVISE_H
#define DR_SUPERVISE_H

#include <stddef.h>
#include <stdio.h>
#include <uv.h>

#include "flags.h"

struct supervise;

/*
 * Checks the node's ipc socket paths fit a unix socket and creates
 * <data.dir> and <data.dir>/run. Returns DR_EINVAL (reason written into
 * err) for a configuration that cannot work, DR_EIO if a directory cannot
 * be created (logged).
 */
int supervise_prepare(const struct dr_config *cfg, char *err, size_t errlen);

/*
 * -check's own part (see dr_check): every daemon binary is found next to
 * the running executable, dnsd being optional. Returns the problems.
 */
int supervise_check(FILE *out, FILE *errf, const char *prog);

/*
 * Allocates a supervisor for the daemons found next to the running
 * executable; each child gets argv[1..argc-1] unchanged (argv is borrowed
 * and must outlive the supervisor). Returns DR_ENOTFOUND (logged) when a
 * required daemon binary is missing, DR_EIO when the executable's own path
 * is unknown.
 */
int supervise_new(uv_loop_t *loop, const struct dr_config *cfg, int argc,
                  char **argv, struct supervise **out);

/*
 * Installs the signal handlers (SIGHUP is forwarded to ctld, which reloads
 * the zone files; SIGTERM and SIGINT stop the node), binds the daemons'
 * readiness socket (<data.dir>/run/ready.sock, their NOTIFY_SOCKET, see
 * ready.h) and starts the daemons in order. A daemon that dies is started
 * again with a growing delay (restart.h); dnsd and ctld keep running
 * whatever raftd does. From then on the loop runs until the node is
 * stopped (SIGTERM/SIGINT, or a daemon that never started and keeps
 * failing): every handle is then closed and uv_run returns. Returns
 * DR_EIO (logged) if a signal handler cannot be set.
 */
int supervise_start(struct supervise *s);

/* The process exit status once uv_run returned: 0 stopped, 1 gave up. */
int supervise_exit_code(const struct supervise *s);

/* Frees s after uv_run returned (all handles closed). */
void supervise_free(struct supervise *s);

#endif
