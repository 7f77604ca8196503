/* Logging to stderr, one line per event: "<level> <role>: <message>". */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *log_role = "dns-raft";
static bool log_verbose_flag;

void
dr_log_init(const char *role, bool verbose)
{
	log_role = role;
	log_verbose_flag = verbose;
}

bool
dr_log_verbose(void)
{
	return log_verbose_flag;
}

/* Formats the whole line first so that concurrent writers never interleave. */
static void
log_vline(const char *level, int errnum, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	n = snprintf(line, sizeof(line), "%s %s: ", level, log_role);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (errnum != 0) {
		size_t used = strlen(line);
		snprintf(line + used, sizeof(line) - used, ": %s",
		         strerror(errnum));
	}
	fprintf(stderr, "%s\n", line);
}

#define LOG_BODY(level, errnum)                    \
	do {                                       \
		va_list ap;                        \
		va_start(ap, fmt);                 \
		log_vline(level, errnum, fmt, ap); \
		va_end(ap);                        \
	} while (0)

void
log_warn(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY("warn", saved);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY("warn", 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY("info", 0);
}

void
log_debug(const char *fmt, ...)
{
	if (!log_verbose_flag)
		return;
	LOG_BODY("debug", 0);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY("fatal", saved);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY("fatal", 0);
	exit(1);
}

bool
dr_ratelog_allow(struct dr_ratelog *r, uint64_t now_ms, uint64_t *quiet)
{
	if (r->last_ms != 0 && now_ms < r->last_ms + DR_RATELOG_MS) {
		r->quiet++;
		return false;
	}
	*quiet = r->quiet;
	r->quiet = 0;
	r->last_ms = now_ms == 0 ? 1 : now_ms;
	return true;
}
