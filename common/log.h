/* Logging to stderr: one line per event, level and process role in front. */
#ifndef DR_LOG_H
#define DR_LOG_H

#include <stdbool.h>

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

#endif
