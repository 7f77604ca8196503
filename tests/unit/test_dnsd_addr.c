/* Unit tests for dnsd's client addresses: the bytes cookies and RRL use,
 * and who counts as one source for the TCP per-source cap. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "addr.h"
#include "unit.h"

static struct sockaddr_storage
sa(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, ip, &in6->sin6_addr) != 1)
			abort();
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		if (inet_pton(AF_INET, ip, &in->sin_addr) != 1)
			abort();
	}
	return ss;
}

static bool
same(const char *a, const char *b)
{
	struct sockaddr_storage x = sa(a, 1000), y = sa(b, 2000);

	return addr_same_source((const struct sockaddr *)&x,
	                        (const struct sockaddr *)&y);
}

static void
test_ip_bytes(void)
{
	struct sockaddr_storage ss = sa("192.0.2.7", 53);
	struct sockaddr_storage un;
	uint8_t ip[ADDR_IP_MAX];

	CHECK_EQ_INT(addr_ip((const struct sockaddr *)&ss, ip), 4);
	CHECK(memcmp(ip, "\xc0\x00\x02\x07", 4) == 0);
	ss = sa("2001:db8::1", 53);
	CHECK_EQ_INT(addr_ip((const struct sockaddr *)&ss, ip), 16);
	CHECK(ip[0] == 0x20 && ip[1] == 0x01 && ip[15] == 1);
	/* A v4-mapped address is the IPv4 client it stands for. */
	ss = sa("::ffff:192.0.2.7", 53);
	CHECK_EQ_INT(addr_ip((const struct sockaddr *)&ss, ip), 4);
	CHECK(memcmp(ip, "\xc0\x00\x02\x07", 4) == 0);
	memset(&un, 0, sizeof(un)); /* AF_UNSPEC: no address */
	CHECK_EQ_INT(addr_ip((const struct sockaddr *)&un, ip), 0);
}

static void
test_same_source(void)
{
	/* IPv4: the address itself, whatever the ports. */
	CHECK(same("192.0.2.7", "192.0.2.7"));
	CHECK(!same("192.0.2.7", "192.0.2.8"));
	CHECK(same("192.0.2.7", "::ffff:192.0.2.7"));
	/* IPv6: one host's /64, not one address of it. */
	CHECK(same("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"));
	CHECK(!same("2001:db8:1:2::1", "2001:db8:1:3::1"));
	/* Families never match each other, nor an unknown one. */
	CHECK(!same("0.0.0.0", "::"));
	struct sockaddr_storage un, x = sa("192.0.2.7", 1);
	memset(&un, 0, sizeof(un));
	CHECK(!addr_same_source((const struct sockaddr *)&un,
	                        (const struct sockaddr *)&un));
	CHECK(!addr_same_source((const struct sockaddr *)&x,
	                        (const struct sockaddr *)&un));
}

int
main(void)
{
	RUN(test_ip_bytes);
	RUN(test_same_source);
	return UNIT_DONE();
}
