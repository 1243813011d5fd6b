/* base/hashmap's keymap: the tree's path index. Every key inserted stays
 * findable through growth and through backward-shift deletes of its
 * neighbours; deleted keys are gone; a repeated key is refused with the
 * value already there; iteration visits each live value once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/hashmap.h"

struct item {
	uint32_t len;
	uint32_t live;
	char key[24];
};

enum { N = 20000 };
static struct item items[N];

static void make_items(void)
{
	for (int i = 0; i < N; i++) {
		/* shared prefixes, as sibling znodes have */
		items[i].len = (uint32_t)snprintf(items[i].key, sizeof items[i].key, "/big/k%08d", i * 7);
		items[i].live = 0;
	}
}

static void test_insert_get_delete(void **state)
{
	(void)state;
	make_items();
	struct keymap m;
	keymap_init(&m, offsetof(struct item, key), offsetof(struct item, len));
	for (int i = 0; i < N; i++) {
		assert_null(keymap_insert(&m, &items[i], items[i].len));
		items[i].live = 1;
	}
	assert_int_equal(m.count, N);
	/* a second insert of the same key keeps the first */
	struct item dup = items[5];
	assert_ptr_equal(keymap_insert(&m, &dup, dup.len), &items[5]);
	/* delete every third, then check all */
	for (int i = 0; i < N; i += 3) {
		assert_ptr_equal(keymap_del(&m, items[i].key, items[i].len), &items[i]);
		items[i].live = 0;
	}
	for (int i = 0; i < N; i++) {
		void *v = keymap_get(&m, items[i].key, items[i].len);
		if (items[i].live)
			assert_ptr_equal(v, &items[i]);
		else
			assert_null(v);
	}
	/* a prefix of a key, or a key plus a byte, is not that key */
	assert_null(keymap_get(&m, items[1].key, items[1].len - 1));
	assert_null(keymap_get(&m, "/big/k000000071", 15));
	assert_null(keymap_del(&m, items[0].key, items[0].len));
	size_t pos = 0, seen = 0;
	struct item *it;
	while ((it = keymap_next(&m, &pos))) {
		assert_int_equal(it->live, 1);
		it->live = 2;
		seen++;
	}
	assert_int_equal(seen, m.count);
	/* reserve keeps everything findable */
	keymap_reserve(&m, 4 * N);
	for (int i = 0; i < N; i++)
		assert_true((keymap_get(&m, items[i].key, items[i].len) != NULL) == (items[i].live != 0));
	keymap_free(&m);
}

static void test_hashed_insert_matches(void **state)
{
	(void)state;
	make_items();
	struct keymap m;
	keymap_init(&m, offsetof(struct item, key), offsetof(struct item, len));
	for (int i = 0; i < 1000; i++) {
		uint64_t h = keymap_hash(items[i].key, items[i].len);
		keymap_prefetch(&m, h);
		assert_null(keymap_insert_hashed(&m, &items[i], items[i].len, h));
	}
	for (int i = 0; i < 1000; i++)
		assert_ptr_equal(keymap_get(&m, items[i].key, items[i].len), &items[i]);
	for (int i = 0; i < 1000; i++)
		assert_ptr_equal(keymap_del(&m, items[i].key, items[i].len), &items[i]);
	assert_int_equal(m.count, 0);
	assert_null(keymap_get(&m, items[3].key, items[3].len));
	keymap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_get_delete),
		cmocka_unit_test(test_hashed_insert_matches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
