/* base/slab: objects of every size keep their bytes while others come and
 * go, a freed object is handed out again for its size class, and objects
 * above SLAB_MAX still work (they go to malloc). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/slab.h"

enum { N = 5000 };

static void test_objects_keep_their_bytes(void **state)
{
	(void)state;
	static uint8_t *objs[N];
	static size_t sizes[N];
	struct slab s;
	slab_init(&s);
	uint32_t x = 12345;
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++) {
			if (objs[i] && (i + round) % 3 != 0)
				continue;
			if (objs[i])
				slab_free(&s, objs[i], sizes[i]);
			x = x * 1103515245u + 12345u;
			sizes[i] = (x >> 8) % (SLAB_MAX + 300) + 1;
			objs[i] = slab_alloc(&s, sizes[i]);
			assert_int_equal((uintptr_t)objs[i] % 8, 0);
			memset(objs[i], (int)(i & 0xFF), sizes[i]);
		}
		for (int i = 0; i < N; i++)
			for (size_t k = 0; k < sizes[i]; k++)
				if (objs[i][k] != (uint8_t)(i & 0xFF))
					fail_msg("object %d byte %zu overwritten", i, k);
	}
	for (int i = 0; i < N; i++) {
		slab_free(&s, objs[i], sizes[i]);
		objs[i] = NULL;
	}
	slab_destroy(&s);
}

static void test_free_object_is_reused(void **state)
{
	(void)state;
	struct slab s;
	slab_init(&s);
	void *a = slab_alloc(&s, 227);
	void *b = slab_alloc(&s, 227);
	assert_ptr_not_equal(a, b);
	slab_free(&s, a, 227);
#ifndef SLAB_ASAN
	/* 225..232 share a class (the sanitizer build mallocs each object) */
	void *c = slab_alloc(&s, 230);
	assert_ptr_equal(c, a);
	slab_free(&s, c, 230);
#endif
	slab_free(&s, b, 227);
	slab_destroy(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_objects_keep_their_bytes),
		cmocka_unit_test(test_free_object_is_reused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
