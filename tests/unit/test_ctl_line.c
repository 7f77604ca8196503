/* Unit tests for ctld's line framing (length limit, control bytes). */
#include <stdbool.h>

#include "line.h"
#include "unit.h"

/* Runs line_next on a C string from a fresh state. */
static enum line_status
next(const char *s, size_t len, bool eof, size_t *linelen, size_t *consumed)
{
	size_t scanned = 0;

	*linelen = *consumed = 0;
	return line_next(s, len, eof, &scanned, linelen, consumed);
}

static void
test_simple(void)
{
	size_t ll, cons;

	CHECK_EQ_INT(next("kv ping\n", 8, false, &ll, &cons), LINE_OK);
	CHECK_EQ_INT(ll, 7);
	CHECK_EQ_INT(cons, 8);
	/* "\r\n" ends a line as well; the "\r" is not content. */
	CHECK_EQ_INT(next("kv ping\r\nnext", 13, false, &ll, &cons), LINE_OK);
	CHECK_EQ_INT(ll, 7);
	CHECK_EQ_INT(cons, 9);
	/* Only the first of two lines. */
	CHECK_EQ_INT(next("a\nb\n", 4, false, &ll, &cons), LINE_OK);
	CHECK_EQ_INT(ll, 1);
	CHECK_EQ_INT(cons, 2);
	/* Empty line. */
	CHECK_EQ_INT(next("\n", 1, false, &ll, &cons), LINE_OK);
	CHECK_EQ_INT(ll, 0);
	CHECK_EQ_INT(cons, 1);
	/* Incomplete. */
	CHECK_EQ_INT(next("kv pi", 5, false, &ll, &cons), LINE_NEED_MORE);
	CHECK_EQ_INT(next("", 0, false, &ll, &cons), LINE_NEED_MORE);
	CHECK_EQ_INT(next("", 0, true, &ll, &cons), LINE_NEED_MORE);
	/* A "\r" at the end may still be followed by "\n". */
	CHECK_EQ_INT(next("kv ping\r", 8, false, &ll, &cons), LINE_NEED_MORE);
	/* At eof the rest is a line, "\r" or not. */
	CHECK_EQ_INT(next("kv pi", 5, true, &ll, &cons), LINE_OK);
	CHECK_EQ_INT(ll, 5);
	CHECK_EQ_INT(cons, 5);
	CHECK_EQ_INT(next("kv ping\r", 8, true, &ll, &cons), LINE_OK);
	CHECK_EQ_INT(ll, 7);
	CHECK_EQ_INT(cons, 8);
}

static void
test_bytes(void)
{
	size_t ll, cons;
	char s[4];
	int c;

	/* Tabs and UTF-8 pass. */
	CHECK_EQ_INT(next("kv set k a\tb\n", 13, false, &ll, &cons), LINE_OK);
	CHECK_EQ_INT(
	    next("kv set k \xc3\xa9t\xc3\xa9\n", 15, false, &ll, &cons),
	    LINE_OK);
	/* NUL, even before the line is complete. */
	CHECK_EQ_INT(next("kv\0ping\n", 8, false, &ll, &cons), LINE_INVALID);
	CHECK_EQ_INT(next("kv\0", 3, false, &ll, &cons), LINE_INVALID);
	/* A "\r" inside a line. */
	CHECK_EQ_INT(next("kv\rping\n", 8, false, &ll, &cons), LINE_INVALID);
	CHECK_EQ_INT(next("kv ping\r\r\n", 10, false, &ll, &cons),
	             LINE_INVALID);
	/* Every control byte but "\t", "\r" and "\n", and DEL. */
	for (c = 0; c < 0x20; c++) {
		if (c == '\t' || c == '\r' || c == '\n')
			continue;
		s[0] = 'a';
		s[1] = (char)c;
		s[2] = '\n';
		CHECK_EQ_INT(next(s, 3, false, &ll, &cons), LINE_INVALID);
	}
	CHECK_EQ_INT(next("a\x7f\n", 3, false, &ll, &cons), LINE_INVALID);
	CHECK(line_byte_ok('\t'));
	CHECK(line_byte_ok(' '));
	CHECK(line_byte_ok(0xff));
	CHECK(!line_byte_ok('\n'));
	CHECK(!line_byte_ok(0));
}

static void
test_length(void)
{
	static char buf[LINE_MAX_LEN + 16];
	size_t ll, cons;

	memset(buf, 'x', sizeof(buf));
	/* Exactly the limit, with "\n" or "\r\n". */
	buf[LINE_MAX_LEN] = '\n';
	CHECK_EQ_INT(next(buf, LINE_MAX_LEN + 1, false, &ll, &cons), LINE_OK);
	CHECK_EQ_INT(ll, LINE_MAX_LEN);
	buf[LINE_MAX_LEN] = '\r';
	buf[LINE_MAX_LEN + 1] = '\n';
	CHECK_EQ_INT(next(buf, LINE_MAX_LEN + 2, false, &ll, &cons), LINE_OK);
	CHECK_EQ_INT(ll, LINE_MAX_LEN);
	/* One more byte. */
	buf[LINE_MAX_LEN] = 'x';
	buf[LINE_MAX_LEN + 1] = '\n';
	CHECK_EQ_INT(next(buf, LINE_MAX_LEN + 2, false, &ll, &cons),
	             LINE_TOO_LONG);
	/* Known before the line ends. */
	CHECK_EQ_INT(next(buf, LINE_MAX_LEN + 1, false, &ll, &cons),
	             LINE_TOO_LONG);
	CHECK_EQ_INT(next(buf, LINE_MAX_LEN, false, &ll, &cons),
	             LINE_NEED_MORE);
	CHECK_EQ_INT(next(buf, LINE_MAX_LEN + 1, true, &ll, &cons),
	             LINE_TOO_LONG);
}

/* A line dribbled one byte at a time gives the same answers. */
static void
test_incremental(void)
{
	const char *s = "kv set key some value\r\nrest";
	size_t scanned = 0, ll = 0, cons = 0, n;
	enum line_status st = LINE_NEED_MORE;

	for (n = 1; n <= strlen(s); n++) {
		st = line_next(s, n, false, &scanned, &ll, &cons);
		if (st != LINE_NEED_MORE)
			break;
		CHECK(scanned <= n);
	}
	CHECK_EQ_INT(st, LINE_OK);
	CHECK_EQ_INT(n, 23);
	CHECK_EQ_INT(ll, 21);
	CHECK_EQ_INT(cons, 23);

	scanned = 0;
	st = LINE_NEED_MORE;
	for (n = 1; n <= LINE_MAX_LEN + 5 && st == LINE_NEED_MORE; n++) {
		static char big[LINE_MAX_LEN + 5];

		big[n - 1] = 'y';
		st = line_next(big, n, false, &scanned, &ll, &cons);
	}
	CHECK_EQ_INT(st, LINE_TOO_LONG);
	CHECK_EQ_INT(n - 1, LINE_MAX_LEN + 1);
}

int
main(void)
{
	RUN(test_simple);
	RUN(test_bytes);
	RUN(test_length);
	RUN(test_incremental);
	return UNIT_DONE();
}
