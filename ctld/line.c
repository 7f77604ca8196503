/* Framing of the control protocol: finding and checking one input line. */
#include "line.h"

#include <string.h>

bool
line_byte_ok(unsigned char c)
{
	return (c >= 0x20 && c != 0x7f) || c == '\t';
}

enum line_status
line_next(const char *buf, size_t len, bool eof, size_t *scanned,
          size_t *linelen, size_t *consumed)
{
	size_t i, n, max = LINE_MAX_LEN;

	for (i = *scanned; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\n') {
			n = i;
			if (n > 0 && buf[n - 1] == '\r')
				n--;
			if (n > max)
				return LINE_TOO_LONG;
			*linelen = n;
			*consumed = i + 1;
			return LINE_OK;
		}
		if (c == '\r') {
			/* Only valid as the last byte before "\n". */
			if (i + 1 < len && buf[i + 1] != '\n')
				return LINE_INVALID;
			if (i + 1 == len && !eof)
				break; /* decide when the next byte comes */
			continue;
		}
		if (!line_byte_ok(c))
			return LINE_INVALID;
		/* "\r\n" may still follow max bytes of content. */
		if (i >= max)
			return LINE_TOO_LONG;
	}
	*scanned = i;
	if (eof && len > 0) {
		n = len;
		if (buf[n - 1] == '\r')
			n--;
		if (n > max)
			return LINE_TOO_LONG;
		*linelen = n;
		*consumed = len;
		return LINE_OK;
	}
	return LINE_NEED_MORE;
}

bool
line_is_one_of(const char *line, size_t len, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && memcmp(line, list[i], len) == 0)
			return true;
	return false;
}
