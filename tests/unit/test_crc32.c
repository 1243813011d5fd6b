/* base/crc32 must equal zlib's crc32 (and so java.util.zip.CRC32, which the
 * tree digest of §6.4 is defined by) on every length, alignment and way of
 * splitting the input into pieces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "base/crc32.h"

static void test_check_value(void **state)
{
	(void)state;
	/* the CRC-32 catalogue's check value for "123456789" */
	assert_int_equal(crc32_update(0, "123456789", 9), 0xCBF43926u);
	assert_int_equal(crc32_update(0, "", 0), 0u);
	assert_int_equal(crc32_update(0x12345678u, "", 0), 0x12345678u);
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void test_matches_zlib(void **state)
{
	(void)state;
	uint8_t buf[1100];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)next_rand();
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= 600; len++) {
			uint32_t want = (uint32_t)crc32(0L, buf + off, (uInt)len);
			assert_int_equal(crc32_update(0, buf + off, len), want);
		}
	/* chained pieces, as node_digest feeds path, data and stat */
	for (int round = 0; round < 2000; round++) {
		size_t a = next_rand() % 300, b = next_rand() % 300, c = next_rand() % 300;
		size_t off = next_rand() % 16;
		uLong z = crc32(0L, Z_NULL, 0);
		z = crc32(z, buf + off, (uInt)a);
		z = crc32(z, buf + off + a, (uInt)b);
		z = crc32(z, buf + off + a + b, (uInt)c);
		uint32_t m = crc32_update(0, buf + off, a);
		m = crc32_update(m, buf + off + a, b);
		m = crc32_update(m, buf + off + a + b, c);
		assert_int_equal(m, (uint32_t)z);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_value),
		cmocka_unit_test(test_matches_zlib),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
