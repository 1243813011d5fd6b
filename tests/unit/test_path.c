/* Path rules (zookeeper-protocol.md §3.1, PathUtils.validatePath) and the
 * small path helpers the tree and the request stage rely on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tree/path.h"

static bool valid(const char *p)
{
	return path_is_valid(p, strlen(p));
}

static void test_structure_rules(void **state)
{
	(void)state;
	assert_true(valid("/"));
	assert_true(valid("/a"));
	assert_true(valid("/a/b/c"));
	assert_true(valid("/zookeeper/quota"));
	assert_false(path_is_valid("", 0));
	assert_false(valid("a"));
	assert_false(valid("a/b"));
	assert_false(valid("/a/"));
	assert_false(valid("//"));
	assert_false(valid("//a"));
	assert_false(valid("/a//b"));
	/* relative components, anywhere */
	assert_false(valid("/."));
	assert_false(valid("/.."));
	assert_false(valid("/a/."));
	assert_false(valid("/a/.."));
	assert_false(valid("/./a"));
	assert_false(valid("/../a"));
	/* dots inside a longer name are fine */
	assert_true(valid("/..."));
	assert_true(valid("/.a"));
	assert_true(valid("/a."));
	assert_true(valid("/a.."));
	assert_true(valid("/..a/b"));
}

static void test_character_rules(void **state)
{
	(void)state;
	/* NUL anywhere */
	assert_false(path_is_valid("/a\0b", 4));
	assert_false(path_is_valid("/\0", 2));
	/* C0 controls and DEL..U+009F */
	assert_false(valid("/a\x01"));
	assert_false(valid("/a\x1f"));
	assert_false(valid("/a\x7f"));
	assert_false(valid("/\xc2\x80"));   /* U+0080 */
	assert_false(valid("/\xc2\x9f"));   /* U+009F */
	assert_true(valid("/\xc2\xa0"));    /* U+00A0 */
	assert_true(valid("/ a~"));
	assert_true(valid("/caf\xc3\xa9"));  /* é */
	/* U+D800..U+F8FF: surrogates and the private use area */
	assert_false(valid("/\xed\xa0\x80"));  /* U+D800 (CESU surrogate, malformed in Java too) */
	assert_false(valid("/\xee\x80\x80"));  /* U+E000 */
	assert_false(valid("/\xef\xa3\xbf"));  /* U+F8FF */
	assert_true(valid("/\xef\xa4\x80"));   /* U+F900 */
	assert_true(valid("/\xed\x9f\xbf"));   /* U+D7FF */
	/* U+FFF0..U+FFFF, which includes the replacement character */
	assert_false(valid("/\xef\xbf\xb0"));  /* U+FFF0 */
	assert_false(valid("/\xef\xbf\xbd"));  /* U+FFFD: live, create → -8 */
	assert_false(valid("/\xef\xbf\xbf"));  /* U+FFFF */
	assert_true(valid("/\xef\xbf\xaf"));   /* U+FFEF */
	/* supplementary planes become surrogate pairs in Java */
	assert_false(valid("/\xf0\x9f\x98\x80"));
	/* malformed UTF-8 decodes to U+FFFD: rejected (live: /\xff → -8) */
	assert_false(valid("/\xff"));
	assert_false(valid("/\xc3"));          /* truncated at the end */
	assert_false(valid("/\xc3/a"));        /* truncated before a '/' */
	assert_false(valid("/\xe2\x82"));      /* truncated 3-byte */
	assert_false(valid("/\x80"));          /* stray continuation byte */
	assert_false(valid("/\xc0\xaf"));      /* overlong '/' */
	assert_false(valid("/\xe0\x80\xaf"));  /* overlong 3-byte */
}

static void test_parent_and_basename(void **state)
{
	(void)state;
	assert_int_equal(path_parent_len("/a", 2), 1);
	assert_int_equal(path_parent_len("/a/b", 4), 2);
	assert_int_equal(path_parent_len("/abc/def/g", 10), 8);
	size_t n;
	const char *b = path_basename("/abc/def", 8, &n);
	assert_int_equal(n, 3);
	assert_memory_equal(b, "def", 3);
	b = path_basename("/x", 2, &n);
	assert_int_equal(n, 1);
	assert_memory_equal(b, "x", 1);
	b = path_basename("/", 1, &n);
	assert_int_equal(n, 0);
}

static void test_sequence_suffix(void **state)
{
	(void)state;
	char out[12];
	/* Java String.format("%010d", v) */
	assert_int_equal(path_seq_suffix(0, out), 10);
	assert_string_equal(out, "0000000000");
	assert_int_equal(path_seq_suffix(42, out), 10);
	assert_string_equal(out, "0000000042");
	assert_int_equal(path_seq_suffix(2147483647, out), 10);
	assert_string_equal(out, "2147483647");
	/* negative values: sign counts towards the width (§3.5) */
	assert_int_equal(path_seq_suffix(-1, out), 10);
	assert_string_equal(out, "-000000001");
	assert_int_equal(path_seq_suffix(INT32_MIN, out), 11);
	assert_string_equal(out, "-2147483648");
}

static void test_under_special_nul(void **state)
{
	(void)state;
	assert_true(path_is_under("/a/b", 4, "/a", 2));
	assert_true(path_is_under("/a", 2, "/a", 2));
	assert_false(path_is_under("/ab", 3, "/a", 2));
	assert_false(path_is_under("/a", 2, "/a/b", 4));
	assert_true(path_is_under("/anything", 9, "/", 1));
	assert_true(path_is_under("/", 1, "/", 1));

	assert_true(path_is_special("/", 1));
	assert_true(path_is_special("/zookeeper", 10));
	assert_true(path_is_special("/zookeeper/quota", 16));
	assert_true(path_is_special("/zookeeper/config", 17));
	assert_false(path_is_special("/zookeeper/x", 12));
	assert_false(path_is_special("/zookeeperx", 11));
	assert_false(path_is_special("/zookeeper/quota/a", 18));

	assert_true(path_has_nul("/a\0", 3));
	assert_false(path_has_nul("/a", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure_rules),
		cmocka_unit_test(test_character_rules),
		cmocka_unit_test(test_parent_and_basename),
		cmocka_unit_test(test_sequence_suffix),
		cmocka_unit_test(test_under_special_nul),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
