/* Logging to stderr: one line per event, level and process role in front. */
#ifndef DR_LOG_H
#define DR_LOG_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Sets the role printed in front of every line ("raftd", "ctld", ...) and
 * whether log_debug prints. Call once at start; role is borrowed.
 */
void dr_log_init(const char *role, bool verbose);

/* True when -v was given: per-event debug lines are wanted. */
bool dr_log_verbose(void);

/* log_warn and fatal append ": strerror(errno)"; the x variants do not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log and exit(1). Never for input from a peer. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Bounds how often one kind of event is logged (refused connections, bad
 * lines), so that a client cannot flood the log: at most one line per
 * DR_RATELOG_MS. Zero-initialize.
 */
#define DR_RATELOG_MS 1000
struct dr_ratelog {
	uint64_t last_ms; /* when the last line was logged, 0: never */
	uint64_t quiet;   /* events not logged since */
};

/*
 * Counts one event at now_ms (a monotonic clock, e.g. uv_now). True when
 * it may be logged; then *quiet is how many went unlogged before it (to
 * say "and N more"), and the count starts over.
 */
bool dr_ratelog_allow(struct dr_ratelog *r, uint64_t now_ms, uint64_t *quiet);

#endif
