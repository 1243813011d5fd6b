/* Autopurge tests: ZooKeeper's PurgeTxnLog rule — keep the newest N valid
 * snapshots (N >= 3), the log holding the txns right after the oldest kept
 * one and every later log; remove older snapshots and logs, invalid ones and
 * unparseable names included; never touch anything newer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/purge.h"
#include "store/vfs_mem.h"

#define D "/zk/version-2"

static const char valid_tail[] = "\0\0\0\1/";

static void put_snap(struct vfs *v, const char *name, bool valid)
{
	char p[128];
	snprintf(p, sizeof p, D "/%s", name);
	uint8_t img[32] = "ZKSN-fake-body...";
	if (valid)
		memcpy(img + 27, valid_tail, 5);
	vfs_mem_put(v, p, img, sizeof img);
}

static void put_log(struct vfs *v, const char *name)
{
	char p[128];
	snprintf(p, sizeof p, D "/%s", name);
	vfs_mem_put(v, p, "ZKLG", 4);
}

static bool exists(struct vfs *v, const char *name)
{
	char p[128];
	snprintf(p, sizeof p, D "/%s", name);
	size_t len;
	return vfs_mem_get(v, p, &len) != NULL;
}

static void test_rule(void **state)
{
	struct vfs *v = vfs_mem_create(1);
	assert_int_equal(vfs_mkdirs(v, D), 0);
	put_snap(v, "snapshot.0", true);
	put_snap(v, "snapshot.64", true);
	put_snap(v, "snapshot.c8", true);
	put_snap(v, "snapshot.d0", false);   /* invalid: not counted, and older than kept */
	put_snap(v, "snapshot.12c", true);
	put_snap(v, "snapshot.190", true);
	put_snap(v, "snapshot.200", false);  /* invalid but newer: untouched */
	put_snap(v, "snapshot.junk", true);  /* unparseable: zxid -1, removed */
	put_log(v, "log.1");
	put_log(v, "log.50");
	put_log(v, "log.a0");   /* greatest start <= 0xc8: needed by snapshot.c8 */
	put_log(v, "log.130");
	put_log(v, "log.1f0");
	put_log(v, "log.zz");
	vfs_mem_put(v, D "/acceptedEpoch", "1", 1);
	struct purge_result res;
	struct store_error e;
	assert_int_equal(purge_run(v, D, D, 3, &res, &e), 0);
	assert_int_equal(res.oldest_kept, 0xc8);
	assert_false(exists(v, "snapshot.0"));
	assert_false(exists(v, "snapshot.64"));
	assert_false(exists(v, "snapshot.junk"));
	assert_true(exists(v, "snapshot.c8"));
	assert_true(exists(v, "snapshot.d0"));   /* zxid above the oldest kept */
	assert_true(exists(v, "snapshot.12c"));
	assert_true(exists(v, "snapshot.190"));
	assert_true(exists(v, "snapshot.200"));
	assert_false(exists(v, "log.1"));
	assert_false(exists(v, "log.50"));
	assert_false(exists(v, "log.zz"));
	assert_true(exists(v, "log.a0"));
	assert_true(exists(v, "log.130"));
	assert_true(exists(v, "log.1f0"));
	assert_true(exists(v, "acceptedEpoch"));
	assert_int_equal(res.snaps_removed, 3);
	assert_int_equal(res.logs_removed, 3);
	/* idempotent */
	assert_int_equal(purge_run(v, D, D, 3, &res, &e), 0);
	assert_int_equal(res.snaps_removed + res.logs_removed, 0);
	vfs_mem_destroy(v);
}

static void test_minimum_three_and_log_at_snapshot(void **state)
{
	struct vfs *v = vfs_mem_create(2);
	assert_int_equal(vfs_mkdirs(v, D), 0);
	for (int i = 1; i <= 5; i++) {
		char n[32];
		snprintf(n, sizeof n, "snapshot.%x", i * 16);
		put_snap(v, n, true);
		snprintf(n, sizeof n, "log.%x", i * 16 + 1);
		put_log(v, n);
	}
	struct purge_result res;
	struct store_error e;
	/* retain 1 is raised to 3: snapshots 0x30, 0x40, 0x50 stay */
	assert_int_equal(purge_run(v, D, D, 1, &res, &e), 0);
	assert_int_equal(res.oldest_kept, 0x30);
	assert_false(exists(v, "snapshot.20"));
	assert_true(exists(v, "snapshot.30"));
	/* log.21 holds txns 0x21.. and so the ones after snapshot.30 */
	assert_true(exists(v, "log.21"));
	assert_false(exists(v, "log.11"));
	assert_true(exists(v, "log.31"));
	vfs_mem_destroy(v);
}

static void test_nothing_valid_nothing_removed(void **state)
{
	struct vfs *v = vfs_mem_create(3);
	assert_int_equal(vfs_mkdirs(v, D), 0);
	put_snap(v, "snapshot.10", false);
	put_log(v, "log.1");
	struct purge_result res;
	struct store_error e;
	assert_int_equal(purge_run(v, D, D, 3, &res, &e), 0);
	assert_int_equal(res.oldest_kept, -1);
	assert_true(exists(v, "snapshot.10"));
	assert_true(exists(v, "log.1"));
	vfs_mem_destroy(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_minimum_three_and_log_at_snapshot),
		cmocka_unit_test(test_nothing_valid_nothing_removed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
