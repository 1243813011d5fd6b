/* ACLs (zookeeper-protocol.md §2.8): digest ids, id syntax checks, ip
 * matching, ZooKeeper's checkACL rule and the interned ACL cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "jute/proto.h"
#include "tree/acl.h"

static void test_digest_id_live_value(void **state)
{
	(void)state;
	char out[128];
	/* §2.8.2 [live]: user:password => user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY= */
	acl_digest_id("user:password", 13, out, sizeof out);
	assert_string_equal(out, "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=");
	/* only the user part is kept in front; the hash covers the whole credential */
	acl_digest_id("user:other", 10, out, sizeof out);
	assert_memory_equal(out, "user:", 5);
	assert_string_not_equal(out, "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=");
	/* a credential without ':' is accepted: user = whole string (§2.8.3) */
	acl_digest_id("lonely", 6, out, sizeof out);
	assert_memory_equal(out, "lonely:", 7);
	assert_int_equal(strlen(out), 7 + 28);  /* base64 of a 20-byte SHA-1 */
}

static void test_digest_syntax(void **state)
{
	(void)state;
	/* Java's split(":").length == 2 (§2.8.4 [live]) */
	const char *ok[] = {"u:h", "u:h:", ":h", "a:b::"};
	const char *bad[] = {"u:", "u:h:x", "u", "", ":", "::h", "u::"};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		assert_true(acl_digest_valid(ok[i], strlen(ok[i])));
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_false(acl_digest_valid(bad[i], strlen(bad[i])));
}

static void test_ip_syntax(void **state)
{
	(void)state;
	const char *ok[] = {"127.0.0.1", "10.0.0.0/8", "1.2.3.4/32", "0.0.0.0/0", "255.255.255.255"};
	const char *bad[] = {"1.2.3.4/33", "1.2.3", "1.2.3.4.5", "256.1.1.1", "a.b.c.d",
			     "::1", "1.2.3.4/", "", "1..2.3", "1.2.3.4/x"};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		assert_true(acl_ip_valid(ok[i], strlen(ok[i])));
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_false(acl_ip_valid(bad[i], strlen(bad[i])));
	/* each part goes through Java's Integer.parseInt: leading zeros and a
	 * sign are fine, as long as the value fits */
	const char *java_ok[] = {"0010.0.0.1", "+1.2.3.4", "-0.1.2.3", "1.2.3.4/008", "1.2.3.4/+8"};
	const char *java_bad[] = {"-1.2.3.4", "1.2.3.4/-1", "+.1.2.3", "1.2.3.99999999999999999999",
				  "1.2.3.4/8/9", " 1.2.3.4", "1.2.3.4/ 8"};
	for (size_t i = 0; i < sizeof java_ok / sizeof *java_ok; i++)
		assert_true(acl_ip_valid(java_ok[i], strlen(java_ok[i])));
	for (size_t i = 0; i < sizeof java_bad / sizeof *java_bad; i++)
		assert_false(acl_ip_valid(java_bad[i], strlen(java_bad[i])));
	assert_true(acl_ip_match("010.0.0.0/08", "10.9.8.7"));
}

static void test_ip_match(void **state)
{
	(void)state;
	assert_true(acl_ip_match("127.0.0.1", "127.0.0.1"));
	assert_false(acl_ip_match("127.0.0.1", "127.0.0.2"));
	assert_true(acl_ip_match("10.0.0.0/8", "10.200.3.4"));
	assert_false(acl_ip_match("10.0.0.0/8", "11.0.0.1"));
	assert_true(acl_ip_match("192.168.1.0/23", "192.168.0.77"));
	assert_false(acl_ip_match("192.168.2.0/23", "192.168.1.77"));
	assert_true(acl_ip_match("1.2.3.4/0", "200.1.1.1"));
	/* the ACL address is masked too */
	assert_true(acl_ip_match("10.9.9.9/8", "10.1.1.1"));
	/* IPv6 never matches */
	assert_false(acl_ip_match("127.0.0.1", "::1"));
	assert_false(acl_ip_match("bogus", "127.0.0.1"));
}

/* A cache holding one list; returns its ref. */
static int64_t intern1(struct acl_cache *c, int32_t perms, const char *scheme, const char *id)
{
	struct jr_acl a = {.perms = perms, .id = {JUTE_STR(scheme), JUTE_STR(id)}};
	return acl_cache_intern(c, &a, 1);
}

static void test_check_rules(void **state)
{
	(void)state;
	struct acl_cache c;
	acl_cache_init(&c);
	char user[128];
	acl_digest_id("user:password", 13, user, sizeof user);
	int64_t rd = intern1(&c, ZPERM_READ, "digest", user);
	int64_t ip = intern1(&c, ZPERM_ALL, "ip", "10.0.0.0/8");
	int64_t world_rw = intern1(&c, ZPERM_READ | ZPERM_WRITE, "world", "anyone");
	struct jr_acl none[1];
	int64_t empty = acl_cache_intern(&c, none, 0);

	struct auth_id anon[] = {{"ip", "127.0.0.1", 0, 0}};
	struct auth_id digest[] = {{"ip", "127.0.0.1", 0, 0}, {"digest", user, 0, 0}};
	struct auth_id lan[] = {{"ip", "10.1.2.3", 0, 0}};
	struct auth_id super[] = {{"super", "", 0, 0}};
	struct auth_id wrong_scheme[] = {{"sasl", user, 0, 0}};

	/* open and empty lists allow everything */
	assert_true(acl_check(&c, ACL_REF_OPEN, ZPERM_ADMIN, anon, 1, false));
	assert_true(acl_check(&c, empty, ZPERM_ADMIN, anon, 1, false));
	/* digest: exact id and any requested bit */
	assert_false(acl_check(&c, rd, ZPERM_READ, anon, 1, false));
	assert_true(acl_check(&c, rd, ZPERM_READ, digest, 2, false));
	assert_false(acl_check(&c, rd, ZPERM_WRITE, digest, 2, false));
	assert_true(acl_check(&c, rd, ZPERM_READ | ZPERM_ADMIN, digest, 2, false)); /* getACL: READ or ADMIN */
	assert_false(acl_check(&c, rd, ZPERM_READ, wrong_scheme, 1, false));
	/* ip: masked compare against the connection's address */
	assert_true(acl_check(&c, ip, ZPERM_CREATE, lan, 1, false));
	assert_false(acl_check(&c, ip, ZPERM_CREATE, anon, 1, false));
	/* world:anyone matches without any id */
	assert_true(acl_check(&c, world_rw, ZPERM_WRITE, NULL, 0, false));
	assert_false(acl_check(&c, world_rw, ZPERM_DELETE, NULL, 0, false));
	/* super and skipACL bypass */
	assert_true(acl_check(&c, rd, ZPERM_ADMIN, super, 1, false));
	assert_true(acl_check(&c, rd, ZPERM_ADMIN, anon, 1, true));
	assert_true(acl_ids_have_super(super, 1));
	assert_false(acl_ids_have_super(digest, 2));
	acl_cache_free(&c);
}

static void test_cache_interning_and_refcounts(void **state)
{
	(void)state;
	struct acl_cache c;
	acl_cache_init(&c);
	struct jr_acl two[] = {
		{.perms = 1, .id = {JUTE_STR("world"), JUTE_STR("anyone")}},
		{.perms = 31, .id = {JUTE_STR("ip"), JUTE_STR("127.0.0.1")}},
	};
	int64_t a = acl_cache_intern(&c, two, 2);
	int64_t b = acl_cache_intern(&c, two, 2);
	assert_int_equal(a, b);
	assert_int_equal(acl_cache_get(&c, a)->refs, 2);
	/* order matters: a different list */
	struct jr_acl swapped[] = {two[1], two[0]};
	int64_t s = acl_cache_intern(&c, swapped, 2);
	assert_int_not_equal(s, a);
	/* contents are copied */
	const struct acl_list *l = acl_cache_get(&c, a);
	assert_int_equal(l->count, 2);
	assert_string_equal(l->items[1].scheme, "ip");
	assert_string_equal(l->items[1].id, "127.0.0.1");
	assert_int_equal(l->items[1].perms, 31);
	acl_cache_release(&c, a);
	assert_non_null(acl_cache_get(&c, a));
	acl_cache_release(&c, a);
	assert_null(acl_cache_get(&c, a));
	/* interning it again gives a fresh ref, never a reused one */
	int64_t again = acl_cache_intern(&c, two, 2);
	assert_true(again > s);
	assert_null(acl_cache_get(&c, ACL_REF_OPEN));
	acl_cache_release(&c, again);
	acl_cache_release(&c, s);
	acl_cache_free(&c);
}

static void test_cache_many_lists_release_in_any_order(void **state)
{
	(void)state;
	/* enough lists to exercise hash probing; release every other one and
	 * check each survivor is still found by content */
	enum { N = 300 };
	struct acl_cache c;
	acl_cache_init(&c);
	int64_t refs[N];
	char ids[N][32];
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof ids[i], "10.0.%d.%d", i / 256, i % 256);
		refs[i] = intern1(&c, 31, "ip", ids[i]);
	}
	for (int i = 0; i < N; i += 2)
		acl_cache_release(&c, refs[i]);
	for (int i = 0; i < N; i++) {
		int64_t r = intern1(&c, 31, "ip", ids[i]);
		if (i % 2)
			assert_int_equal(r, refs[i]);
		else
			assert_null(acl_cache_get(&c, refs[i]));
		refs[i] = r;
	}
	for (int i = 0; i < N; i++) {
		const struct acl_list *l = acl_cache_get(&c, refs[i]);
		assert_non_null(l);
		assert_string_equal(l->items[0].id, ids[i]);
		acl_cache_release(&c, refs[i]);
		if (i % 2)
			acl_cache_release(&c, refs[i]);
	}
	assert_int_equal(c.by_ref.count, 0);
	assert_int_equal(c.by_hash.count, 0);
	acl_cache_free(&c);
}

static void test_cache_put_ref_snapshot(void **state)
{
	(void)state;
	struct acl_cache c;
	acl_cache_init(&c);
	struct jr_acl ro = {.perms = 1, .id = {JUTE_STR("world"), JUTE_STR("anyone")}};
	/* a snapshot's ACL map: ref 1 = [READ world:anyone] (§6.5.2) */
	acl_cache_put_ref(&c, 1, &ro, 1);
	acl_cache_addref(&c, 1);
	assert_int_equal(acl_cache_intern(&c, &ro, 1), 1);
	/* new lists take refs after the largest loaded one */
	struct jr_acl all = {.perms = 31, .id = {JUTE_STR("world"), JUTE_STR("anyone")}};
	assert_int_equal(acl_cache_intern(&c, &all, 1), 2);
	acl_cache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_id_live_value),
		cmocka_unit_test(test_digest_syntax),
		cmocka_unit_test(test_ip_syntax),
		cmocka_unit_test(test_ip_match),
		cmocka_unit_test(test_check_rules),
		cmocka_unit_test(test_cache_interning_and_refcounts),
		cmocka_unit_test(test_cache_many_lists_release_in_any_order),
		cmocka_unit_test(test_cache_put_ref_snapshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
