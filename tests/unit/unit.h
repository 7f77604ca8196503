/* A tiny unit-test harness: CHECK macros and a runner printing a summary. */
#ifndef DR_UNIT_H
#define DR_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failed;
static int unit_checks;

#define CHECK(cond)                                                            \
	do {                                                                   \
		unit_checks++;                                                 \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
			        __LINE__, #cond);                              \
			unit_failed++;                                         \
		}                                                              \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                 \
	do {                                                               \
		long long unit_a_ = (long long)(a);                        \
		long long unit_b_ = (long long)(b);                        \
		unit_checks++;                                             \
		if (unit_a_ != unit_b_) {                                  \
			fprintf(stderr, "%s:%d: %s == %lld, want %lld\n",  \
			        __FILE__, __LINE__, #a, unit_a_, unit_b_); \
			unit_failed++;                                     \
		}                                                          \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                    \
	do {                                                                  \
		const char *unit_a_ = (a);                                    \
		const char *unit_b_ = (b);                                    \
		unit_checks++;                                                \
		if (unit_a_ == NULL || strcmp(unit_a_, unit_b_) != 0) {       \
			fprintf(stderr, "%s:%d: %s == \"%s\", want \"%s\"\n", \
			        __FILE__, __LINE__, #a,                       \
			        unit_a_ ? unit_a_ : "(null)", unit_b_);       \
			unit_failed++;                                        \
		}                                                             \
	} while (0)

/* Runs one test function and reports it. */
#define RUN(fn)                                                             \
	do {                                                                \
		int unit_before_ = unit_failed;                             \
		fn();                                                       \
		printf("%s %s\n",                                           \
		       unit_failed == unit_before_ ? "ok  " : "FAIL", #fn); \
	} while (0)

/* mkdtemp(tmpl) (a "...XXXXXX" path, filled in), or exits. */
static inline void
unit_tmpdir(char *tmpl)
{
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

/* Removes dir and what it holds (a test's unit_tmpdir). */
static inline void
unit_rmdir(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* Ends main: prints the totals and returns the exit status. */
#define UNIT_DONE()                                                  \
	(printf("%d checks, %d failed\n", unit_checks, unit_failed), \
	 unit_failed ? 1 : 0)

#endif
