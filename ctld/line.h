/* Framing of the control protocol: finding and checking one input line. */
#ifndef CTLD_LINE_H
#define CTLD_LINE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Longest line content accepted, not counting the "\n" terminator nor an
 * optional "\r" in front of it.
 */
#define LINE_MAX_LEN 8192
enum line_status {
	LINE_NEED_MORE = 0, /* no complete line yet */
	LINE_OK,            /* a line is ready */
	LINE_TOO_LONG,      /* over LINE_MAX_LEN: the connection must end */
	LINE_INVALID,       /* NUL or another control byte */
};

/*
 * Looks for the first line in buf[0..len). A line ends with "\n"; one "\r"
 * right before it is dropped. At eof, trailing bytes without "\n" also make
 * a line. Bytes below 0x20 other than "\t", and 0x7f, make the line
 * invalid; bytes from 0x80 up pass (UTF-8 keys and values).
 *
 * *scanned carries state between calls on the same head line: it must be 0
 * when buf starts a new line and is only advanced here, so that a line
 * dribbled in byte by byte is scanned once. Problems are reported as soon
 * as they are certain, before the line is complete.
 *
 * Lines over LINE_MAX_LEN are LINE_TOO_LONG.
 *
 * On LINE_OK, *linelen is the content length and *consumed the bytes to
 * drop from buf (content and terminator); reset *scanned to 0 after.
 */
enum line_status line_next(const char *buf, size_t len, bool eof,
                           size_t *scanned, size_t *linelen, size_t *consumed);

/* True when line[0..len) equals one of the n strings of list. */
bool line_is_one_of(const char *line, size_t len, const char *const *list,
                    size_t n);

/* True when byte c may appear inside a line (and in a reply line). */
bool line_byte_ok(unsigned char c);

#endif
