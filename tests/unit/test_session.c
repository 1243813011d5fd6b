/* Sessions (zookeeper-protocol.md §2.2.4, §2.9): the Java-Random password,
 * session id allocation, and expiry in tick buckets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "session/session.h"

static void test_password_live_values(void **state)
{
	(void)state;
	/* §2.2.4 [live] */
	static const struct {
		uint64_t id;
		uint8_t pw[16];
	} cases[] = {
		{0x0100008c04f60000ULL,
		 {0x08, 0xa8, 0x85, 0xff, 0xf5, 0xec, 0xd4, 0x84, 0x26, 0xce, 0x69, 0x6b, 0xc6, 0x32, 0xed, 0x5f}},
		{0x0100008c04f60001ULL,
		 {0x1b, 0xc9, 0x7f, 0xff, 0x95, 0x38, 0xb4, 0xc9, 0x1b, 0x11, 0xd1, 0x96, 0x9a, 0xbb, 0x01, 0x2d}},
		{0x0100008d4a900000ULL,
		 {0x42, 0x8d, 0xed, 0xe5, 0xa7, 0xa2, 0x7b, 0x94, 0xf0, 0x16, 0xbb, 0xb8, 0xc8, 0xac, 0x26, 0x99}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		uint8_t pw[16];
		session_password((int64_t)cases[i].id, pw);
		assert_memory_equal(pw, cases[i].pw, 16);
		assert_true(session_password_ok((int64_t)cases[i].id, cases[i].pw, 16));
	}
}

static void test_password_check_rejects(void **state)
{
	(void)state;
	int64_t id = (int64_t)0x0100008c04f60000ULL;
	uint8_t pw[16];
	session_password(id, pw);
	assert_false(session_password_ok(id, pw, 15));
	assert_false(session_password_ok(id, NULL, 16));
	assert_false(session_password_ok(id + 1, pw, 16));
	pw[15] ^= 1;
	assert_false(session_password_ok(id, pw, 16));
	/* checkPasswd fails for session 0 whatever the bytes */
	uint8_t pw0[16];
	session_password(0, pw0);
	assert_false(session_password_ok(0, pw0, 16));
}

static void test_session_ids(void **state)
{
	(void)state;
	struct session_table t;
	/* §2.9.2: ((now << 24) >>> 8) | (sid << 56); the live handshake's
	 * 0x0100008c04f60000 corresponds to now = 0x8c04f6 and sid 1 */
	session_table_init(&t, 2000, 1, 0x8c04f6);
	assert_int_equal(session_alloc_id(&t), (int64_t)0x0100008c04f60000ULL);
	assert_int_equal(session_alloc_id(&t), (int64_t)0x0100008c04f60001ULL);
	session_table_free(&t);
	/* only the low 40 bits of the clock survive */
	session_table_init(&t, 2000, 2, (int64_t)0xab0000000001LL);
	assert_int_equal(session_alloc_id(&t), (int64_t)0x0200000000010000ULL);
	session_table_free(&t);
	/* an initial value equal to the container marker is bumped by one */
	session_table_init(&t, 2000, 0x80, 0);
	assert_int_equal(session_alloc_id(&t), (int64_t)0x8000000000000001ULL);
	session_table_free(&t);
}

/* Expire everything due at `now`; returns how many and stores the ids. */
static int expire_all(struct session_table *t, int64_t now, int64_t *ids, int cap)
{
	int n = 0;
	struct session *s;
	while ((s = session_next_expired(t, now)) && n < cap) {
		ids[n++] = s->id;
		s->closing = true; /* what the node does: a closeSession is in flight */
	}
	return n;
}

static void test_bucket_rounding(void **state)
{
	(void)state;
	struct session_table t;
	session_table_init(&t, 2000, 1, 10000);
	/* touched at 10500 with 4000: bucket (floor(14500/2000)+1)*2000 = 16000 */
	struct session *s = session_add(&t, 7, 4000, 10500);
	assert_int_equal(s->expire_at_ms, 16000);
	assert_int_equal(session_count(&t), 1);
	int64_t ids[4];
	assert_int_equal(expire_all(&t, 15999, ids, 4), 0);
	assert_int_equal(expire_all(&t, 16000, ids, 4), 1);
	assert_int_equal(ids[0], 7);
	/* expired at most timeout + tickTime after the last touch */
	assert_true(16000 - 10500 >= 4000 && 16000 - 10500 <= 4000 + 2000);
	/* reported once: closing sessions are not reported again */
	assert_int_equal(expire_all(&t, 100000, ids, 4), 0);
	session_table_free(&t);
}

static void test_touch_postpones_expiry(void **state)
{
	(void)state;
	struct session_table t;
	session_table_init(&t, 1000, 1, 0);
	session_add(&t, 1, 3000, 0);     /* bucket 4000 */
	session_add(&t, 2, 3000, 0);     /* bucket 4000 */
	session_add(&t, 3, 10000, 0);    /* bucket 11000 */
	assert_int_equal(session_next_deadline(&t), 1000);
	int64_t ids[4];
	assert_int_equal(expire_all(&t, 2500, ids, 4), 0);
	/* a request on session 2 at 2500 moves it to bucket 6000 */
	session_touch(&t, session_get(&t, 2), 2500);
	assert_int_equal(session_get(&t, 2)->expire_at_ms, 6000);
	assert_int_equal(expire_all(&t, 4000, ids, 4), 1);
	assert_int_equal(ids[0], 1);
	assert_int_equal(expire_all(&t, 5999, ids, 4), 0);
	assert_int_equal(expire_all(&t, 6000, ids, 4), 1);
	assert_int_equal(ids[0], 2);
	/* a removed session never expires */
	session_remove(&t, 3);
	assert_null(session_get(&t, 3));
	assert_int_equal(expire_all(&t, 20000, ids, 4), 0);
	assert_int_equal(session_count(&t), 2);
	session_table_free(&t);
}

static void test_many_in_one_bucket(void **state)
{
	(void)state;
	struct session_table t;
	session_table_init(&t, 500, 1, 0);
	for (int64_t id = 1; id <= 50; id++)
		session_add(&t, id, 2000, 100 + id);  /* all land in bucket 2500 */
	int64_t ids[64];
	assert_int_equal(expire_all(&t, 2499, ids, 64), 0);
	assert_int_equal(expire_all(&t, 2500, ids, 64), 50);
	uint64_t seen = 0;
	for (int i = 0; i < 50; i++)
		seen |= 1ULL << (ids[i] - 1);
	assert_true(seen == (1ULL << 50) - 1);
	session_table_free(&t);
}

static void test_closing_session_skipped(void **state)
{
	(void)state;
	struct session_table t;
	session_table_init(&t, 1000, 1, 0);
	session_add(&t, 1, 2000, 0);
	session_add(&t, 2, 2000, 0);
	session_get(&t, 1)->closing = true;  /* client sent closeSession already */
	int64_t ids[4];
	assert_int_equal(expire_all(&t, 3000, ids, 4), 1);
	assert_int_equal(ids[0], 2);
	session_table_free(&t);
}

static void test_readd_keeps_one_entry(void **state)
{
	(void)state;
	/* replaying a createSession for a known id updates it in place */
	struct session_table t;
	session_table_init(&t, 1000, 1, 0);
	session_add(&t, 9, 2000, 0);
	session_add(&t, 9, 5000, 0);
	assert_int_equal(session_count(&t), 1);
	assert_int_equal(session_get(&t, 9)->timeout_ms, 5000);
	int64_t ids[4];
	assert_int_equal(expire_all(&t, 5999, ids, 4), 0);
	assert_int_equal(expire_all(&t, 6000, ids, 4), 1);
	session_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_live_values),
		cmocka_unit_test(test_password_check_rejects),
		cmocka_unit_test(test_session_ids),
		cmocka_unit_test(test_bucket_rounding),
		cmocka_unit_test(test_touch_postpones_expiry),
		cmocka_unit_test(test_many_in_one_bucket),
		cmocka_unit_test(test_closing_session_skipped),
		cmocka_unit_test(test_readd_keeps_one_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
