/* Client addresses as bytes: what cookies hash, RRL groups and the TCP
 * per-source cap counts. */
#include "addr.h"

#include <netinet/in.h>
#include <string.h>

size_t
addr_ip(const struct sockaddr *sa, uint8_t *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0,    0,
		                            0, 0, 0, 0, 0xFF, 0xFF };

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		memcpy(out, &in->sin_addr, 4);
		return 4;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		const uint8_t *a = in6->sin6_addr.s6_addr;

		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			memcpy(out, a + 12, 4);
			return 4;
		}
		memcpy(out, a, 16);
		return 16;
	}
	return 0;
}

bool
addr_same_source(const struct sockaddr *a, const struct sockaddr *b)
{
	uint8_t x[ADDR_IP_MAX], y[ADDR_IP_MAX];
	size_t xl = addr_ip(a, x), yl = addr_ip(b, y);

	if (xl == 0 || xl != yl)
		return false;
	return memcmp(x, y, xl == 4 ? 4 : ADDR_V6_HOST_PREFIX / 8) == 0;
}
