/* Codec tests: round trips of generated records, byte-exact encodings taken
 * from a live ZooKeeper 3.8 (zookeeper-protocol.md §2.2.5, §2.11), and every
 * bounds failure of the reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jute/jute.h"
#include "jute/records.h"

static void test_connect_request_bytes(void **state)
{
	(void)state;
	/* the 45-byte ConnectRequest of §2.2.5, minus the readOnly byte */
	static const uint8_t wire[] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x75, 0x30,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	struct arena a;
	arena_init(&a);
	struct jute_reader r;
	jute_reader_init(&r, wire, sizeof wire, 1048575, &a);
	struct jr_connect_request req;
	assert_int_equal(jr_connect_request_decode(&r, &req), 0);
	assert_int_equal(req.time_out, 30000);
	assert_int_equal(req.session_id, 0);
	assert_int_equal(req.passwd.len, 16);
	assert_int_equal(jute_remaining(&r), 0);
	struct buf b;
	buf_init(&b);
	jr_connect_request_encode(&b, &req);
	assert_int_equal(b.len, sizeof wire);
	assert_int_equal(jr_connect_request_size(&req), sizeof wire);
	assert_memory_equal(b.data, wire, sizeof wire);
	buf_free(&b);
	arena_free(&a);
}

static void test_get_data_request_bytes(void **state)
{
	(void)state;
	/* §2.11: xid 2, getData "/demo" watch=true */
	static const uint8_t wire[] = {0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 5, '/', 'd', 'e', 'm', 'o', 1};
	struct jute_reader r;
	jute_reader_init(&r, wire, sizeof wire, 1048575, NULL);
	struct jr_request_header h;
	struct jr_get_data_request g;
	assert_int_equal(jr_request_header_decode(&r, &h), 0);
	assert_int_equal(jr_get_data_request_decode(&r, &g), 0);
	assert_int_equal(h.xid, 2);
	assert_int_equal(h.type, 4);
	assert_true(jute_bytes_eq_str(g.path, "/demo"));
	assert_true(g.watch);
}

static void test_stat_is_68_bytes(void **state)
{
	(void)state;
	struct jr_stat st = {.czxid = 2, .mzxid = 2, .ctime = 0x1a204ef1f26, .mtime = 0x1a204ef1f26,
			     .data_length = 2, .pzxid = 2};
	struct buf b;
	buf_init(&b);
	jr_stat_encode(&b, &st);
	assert_int_equal(b.len, 68);
	assert_int_equal(jr_stat_size(&st), 68);
	struct jute_reader r;
	jute_reader_init(&r, b.data, b.len, 1048575, NULL);
	struct jr_stat back;
	assert_int_equal(jr_stat_decode(&r, &back), 0);
	assert_int_equal(back.czxid, 2);
	assert_int_equal(back.ctime, 0x1a204ef1f26);
	assert_int_equal(back.data_length, 2);
	assert_int_equal(back.pzxid, 2);
	assert_int_equal(back.num_children, 0);
	buf_free(&b);
}

static void test_create_request_round_trip(void **state)
{
	(void)state;
	struct jr_acl acl = {.perms = 31, .id = {JUTE_STR("world"), JUTE_STR("anyone")}};
	struct jr_create_request c = {.path = JUTE_STR("/demo/m"), .data = JUTE_NULL, .flags = 3};
	c.acl.count = 1;
	c.acl.items = &acl;
	struct buf b;
	buf_init(&b);
	jr_create_request_encode(&b, &c);
	assert_int_equal(b.len, jr_create_request_size(&c));
	struct arena a;
	arena_init(&a);
	struct jute_reader r;
	jute_reader_init(&r, b.data, b.len, 1048575, &a);
	struct jr_create_request d;
	assert_int_equal(jr_create_request_decode(&r, &d), 0);
	assert_true(jute_bytes_eq_str(d.path, "/demo/m"));
	assert_int_equal(d.data.len, -1); /* null stays null, not empty */
	assert_int_equal(d.acl.count, 1);
	assert_int_equal(d.acl.items[0].perms, 31);
	assert_true(jute_bytes_eq_str(d.acl.items[0].id.scheme, "world"));
	assert_int_equal(d.flags, 3);
	buf_free(&b);
	arena_free(&a);
}

static void test_truncated_at_every_byte(void **state)
{
	(void)state;
	struct jr_set_data_request s = {.path = JUTE_STR("/a/b"), .data = JUTE_STR("hello"), .version = 7};
	struct buf b;
	buf_init(&b);
	jr_set_data_request_encode(&b, &s);
	for (size_t cut = 0; cut < b.len; cut++) {
		struct jute_reader r;
		jute_reader_init(&r, b.data, cut, 1048575, NULL);
		struct jr_set_data_request d;
		assert_int_equal(jr_set_data_request_decode(&r, &d), -1);
		assert_int_equal(r.err, JUTE_ERR_SHORT);
	}
	buf_free(&b);
}

static void test_length_limits(void **state)
{
	(void)state;
	/* negative length other than -1 */
	static const uint8_t neg[] = {0xff, 0xff, 0xff, 0xfe};
	struct jute_reader r;
	jute_reader_init(&r, neg, sizeof neg, 100, NULL);
	jute_get_buffer(&r);
	assert_int_equal(r.err, JUTE_ERR_LENGTH);
	/* over max_len: rejected before the bytes are looked at */
	static const uint8_t big[] = {0, 0, 0, 101};
	jute_reader_init(&r, big, sizeof big, 100, NULL);
	jute_get_ustring(&r);
	assert_int_equal(r.err, JUTE_ERR_LENGTH);
	/* exactly max_len is fine */
	uint8_t ok[4 + 100] = {0, 0, 0, 100};
	jute_reader_init(&r, ok, sizeof ok, 100, NULL);
	struct jute_bytes v = jute_get_buffer(&r);
	assert_int_equal(r.err, JUTE_OK);
	assert_int_equal(v.len, 100);
	/* -1 is null */
	static const uint8_t null[] = {0xff, 0xff, 0xff, 0xff};
	jute_reader_init(&r, null, sizeof null, 100, NULL);
	v = jute_get_buffer(&r);
	assert_int_equal(r.err, JUTE_OK);
	assert_int_equal(v.len, -1);
}

static void test_hostile_vector_count(void **state)
{
	(void)state;
	/* a count of 2^31-1 ACLs in a 12-byte body must fail without allocating */
	static const uint8_t wire[] = {0, 0, 0, 2, '/', 'a', 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff};
	struct arena a;
	arena_init(&a);
	struct jute_reader r;
	jute_reader_init(&r, wire, sizeof wire, 1048575, &a);
	struct jr_create_request d;
	assert_int_equal(jr_create_request_decode(&r, &d), -1);
	assert_int_equal(r.err, JUTE_ERR_COUNT);
	assert_null(a.head);
	/* negative counts other than -1 are errors; -1 is a null vector */
	static const uint8_t negc[] = {0xff, 0xff, 0xff, 0xf0};
	jute_reader_init(&r, negc, sizeof negc, 1048575, &a);
	jute_get_count(&r, 4);
	assert_int_equal(r.err, JUTE_ERR_COUNT);
	arena_free(&a);
}

static void test_bool_reads_any_nonzero_writes_exact(void **state)
{
	(void)state;
	static const uint8_t two[] = {2};
	struct jute_reader r;
	jute_reader_init(&r, two, 1, 10, NULL);
	assert_true(jute_get_bool(&r));
	struct buf b;
	buf_init(&b);
	jute_put_bool(&b, 1);
	jute_put_bool(&b, 0);
	assert_int_equal(b.data[0], 1);
	assert_int_equal(b.data[1], 0);
	buf_free(&b);
}

static void test_error_is_sticky(void **state)
{
	(void)state;
	/* once a read fails, later reads return zeros and the first error stays */
	static const uint8_t wire[] = {0, 0, 0, 200, 1, 2, 3, 4, 5, 6, 7, 8};
	struct jute_reader r;
	jute_reader_init(&r, wire, sizeof wire, 100, NULL);
	jute_get_buffer(&r);
	assert_int_equal(r.err, JUTE_ERR_LENGTH);
	assert_int_equal(jute_get_int(&r), 0);
	assert_int_equal(jute_get_long(&r), 0);
	assert_false(jute_get_bool(&r));
	assert_int_equal(r.err, JUTE_ERR_LENGTH);
	/* running short leaves nothing readable */
	jute_reader_init(&r, wire, 6, 100, NULL);
	assert_int_equal(jute_get_int(&r), 200);
	assert_int_equal(jute_get_int(&r), 0);
	assert_int_equal(r.err, JUTE_ERR_SHORT);
	assert_int_equal(jute_remaining(&r), 0);
	assert_int_equal(jute_get_byte(&r), 0);
	assert_int_equal(r.err, JUTE_ERR_SHORT);
}

static void test_null_vector_and_string_round_trip(void **state)
{
	(void)state;
	/* a null ACL vector and a null path stay null, distinct from empty */
	struct jr_create_request c = {.path = JUTE_NULL, .data = JUTE_STR(""), .flags = 0};
	c.acl.count = -1;
	c.acl.items = NULL;
	struct buf b;
	buf_init(&b);
	jr_create_request_encode(&b, &c);
	static const uint8_t want[] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
	assert_int_equal(b.len, sizeof want);
	assert_memory_equal(b.data, want, sizeof want);
	struct arena a;
	arena_init(&a);
	struct jute_reader r;
	jute_reader_init(&r, b.data, b.len, 1048575, &a);
	struct jr_create_request d;
	assert_int_equal(jr_create_request_decode(&r, &d), 0);
	assert_int_equal(d.path.len, -1);
	assert_int_equal(d.data.len, 0);
	assert_int_equal(d.acl.count, -1);
	buf_free(&b);
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_request_bytes),
		cmocka_unit_test(test_get_data_request_bytes),
		cmocka_unit_test(test_stat_is_68_bytes),
		cmocka_unit_test(test_create_request_round_trip),
		cmocka_unit_test(test_truncated_at_every_byte),
		cmocka_unit_test(test_length_limits),
		cmocka_unit_test(test_hostile_vector_count),
		cmocka_unit_test(test_bool_reads_any_nonzero_writes_exact),
		cmocka_unit_test(test_error_is_sticky),
		cmocka_unit_test(test_null_vector_and_string_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
