/* base/adler32 must equal zlib's adler32 (the snapshot seal and txn log
 * checksums are defined by it) on every length, alignment, starting value
 * and on the worst case for its lane sums (all bytes 0xFF, long input). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "base/adler32.h"

static uint8_t buf[300000];

static void test_matches_zlib(void **state)
{
	(void)state;
	uint32_t x = 7;
	for (size_t i = 0; i < sizeof buf; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t n = 0; n < 2100; n++) {
		size_t off = n % 13;
		assert_int_equal(adler32_update(1, buf + off, n), (uint32_t)adler32(1, buf + off, (uInt)n));
	}
	/* chained, from a mid-stream value, as the snapshot reader sums it */
	uint32_t a = 1, z = 1;
	for (size_t off = 0, k = 1; off + k < sizeof buf; off += k, k = k * 3 % 4099 + 1) {
		a = adler32_update(a, buf + off, k);
		z = (uint32_t)adler32(z, buf + off, (uInt)k);
	}
	assert_int_equal(a, z);
}

static void test_all_ones_long(void **state)
{
	(void)state;
	memset(buf, 0xFF, sizeof buf);
	for (size_t n = sizeof buf - 5000; n <= sizeof buf; n += 997) {
		assert_int_equal(adler32_update(1, buf, n), (uint32_t)adler32(1, buf, (uInt)n));
		assert_int_equal(adler32_update(0xFFF0FFF0u, buf, n),
				 (uint32_t)adler32(0xFFF0FFF0u, buf, (uInt)n));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_zlib),
		cmocka_unit_test(test_all_ones_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
