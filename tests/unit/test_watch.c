/* Watch tables (zookeeper-protocol.md §2.7.3-§2.7.5): modes, one-shot
 * removal, ancestor walk for recursive watches, one entry per (conn, path,
 * table), dedup and exclusion inside one trigger, connection cleanup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "watch/watch.h"

#define S(p) (p), strlen(p)

struct fx {
	struct watch_mgr w;
	struct watch_hits h;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	watch_init(&f->w);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	watch_free(&f->w);
	watch_hits_free(&f->h);
	free(f);
	return 0;
}

/* Trigger and return the number of hits. */
static size_t fire(struct fx *f, enum watch_table t, const char *p, bool children_changed)
{
	watch_hits_reset(&f->h);
	watch_trigger(&f->w, t, p, strlen(p), children_changed, &f->h, NULL);
	return f->h.count;
}

static void test_standard_is_one_shot(void **state)
{
	struct fx *f = *state;
	watch_add(&f->w, WATCH_DATA, S("/a"), 1, WATCH_STANDARD);
	assert_true(watch_has(&f->w, WATCH_DATA, S("/a"), 1));
	assert_false(watch_has(&f->w, WATCH_CHILD, S("/a"), 1));
	assert_int_equal(fire(f, WATCH_DATA, "/a", false), 1);
	assert_int_equal(f->h.conns[0], 1);
	assert_false(watch_has(&f->w, WATCH_DATA, S("/a"), 1));
	assert_int_equal(fire(f, WATCH_DATA, "/a", false), 0);
	assert_int_equal(watch_count(&f->w), 0);
	assert_int_equal(watch_table_paths(&f->w, WATCH_DATA), 0);
	/* nothing remains in the per-connection index either */
	size_t pos = 0, len;
	assert_null(watch_conn_next(&f->w, 1, WATCH_DATA, &pos, &len));
}

static void test_standard_only_at_its_path(void **state)
{
	struct fx *f = *state;
	watch_add(&f->w, WATCH_DATA, S("/a"), 1, WATCH_STANDARD);
	watch_add(&f->w, WATCH_DATA, S("/a"), 2, WATCH_PERSISTENT);
	/* a change below /a reaches neither standard nor persistent watchers */
	assert_int_equal(fire(f, WATCH_DATA, "/a/b", false), 0);
	assert_int_equal(fire(f, WATCH_DATA, "/ab", false), 0);
	assert_true(watch_has(&f->w, WATCH_DATA, S("/a"), 1));
}

static void test_persistent_stays(void **state)
{
	struct fx *f = *state;
	watch_add(&f->w, WATCH_DATA, S("/p"), 5, WATCH_PERSISTENT);
	watch_add(&f->w, WATCH_CHILD, S("/p"), 5, WATCH_PERSISTENT);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fire(f, WATCH_DATA, "/p", false), 1);
		assert_int_equal(fire(f, WATCH_CHILD, "/p", true), 1);
	}
	assert_true(watch_has(&f->w, WATCH_DATA, S("/p"), 5));
	assert_true(watch_has(&f->w, WATCH_CHILD, S("/p"), 5));
}

static void test_recursive_rules(void **state)
{
	struct fx *f = *state;
	watch_add(&f->w, WATCH_DATA, S("/r"), 7, WATCH_RECURSIVE);
	watch_add(&f->w, WATCH_CHILD, S("/r"), 7, WATCH_RECURSIVE);
	/* fires for the path itself and every descendant */
	assert_int_equal(fire(f, WATCH_DATA, "/r", false), 1);
	assert_int_equal(fire(f, WATCH_DATA, "/r/x", false), 1);
	assert_int_equal(fire(f, WATCH_DATA, "/r/x/y/z", false), 1);
	/* not for siblings sharing a prefix, nor for ancestors */
	assert_int_equal(fire(f, WATCH_DATA, "/rx", false), 0);
	assert_int_equal(fire(f, WATCH_DATA, "/", false), 0);
	/* never for NodeChildrenChanged, at the path or below */
	assert_int_equal(fire(f, WATCH_CHILD, "/r", true), 0);
	assert_int_equal(fire(f, WATCH_CHILD, "/r/x", true), 0);
	/* but a NodeDeleted through the child table does reach it */
	assert_int_equal(fire(f, WATCH_CHILD, "/r/x", false), 1);
	assert_true(watch_has(&f->w, WATCH_DATA, S("/r"), 7));
}

static void test_recursive_on_root(void **state)
{
	struct fx *f = *state;
	watch_add(&f->w, WATCH_DATA, S("/"), 3, WATCH_RECURSIVE);
	assert_int_equal(fire(f, WATCH_DATA, "/a", false), 1);
	assert_int_equal(fire(f, WATCH_DATA, "/a/b", false), 1);
	assert_int_equal(fire(f, WATCH_DATA, "/", false), 1);
}

static void test_one_notification_per_trigger(void **state)
{
	struct fx *f = *state;
	/* conn 1 watches /a/b directly and /a and / recursively: one hit */
	watch_add(&f->w, WATCH_DATA, S("/a/b"), 1, WATCH_STANDARD);
	watch_add(&f->w, WATCH_DATA, S("/a"), 1, WATCH_RECURSIVE);
	watch_add(&f->w, WATCH_DATA, S("/"), 1, WATCH_RECURSIVE);
	watch_add(&f->w, WATCH_DATA, S("/a/b"), 2, WATCH_STANDARD);
	assert_int_equal(fire(f, WATCH_DATA, "/a/b", false), 2);
	assert_true(watch_hits_contains(&f->h, 1));
	assert_true(watch_hits_contains(&f->h, 2));
	/* registering the same watch twice still gives one entry (§2.7.3) */
	watch_add(&f->w, WATCH_DATA, S("/q"), 4, WATCH_STANDARD);
	watch_add(&f->w, WATCH_DATA, S("/q"), 4, WATCH_STANDARD);
	assert_int_equal(watch_table_entries(&f->w, WATCH_DATA), 3);
	/* conn 4 once, plus conn 1 through its recursive watch on / */
	assert_int_equal(fire(f, WATCH_DATA, "/q", false), 2);
	assert_true(watch_hits_contains(&f->h, 4));
	assert_false(watch_has(&f->w, WATCH_DATA, S("/q"), 4));
}

static void test_exclude_list(void **state)
{
	struct fx *f = *state;
	/* delete: the child-table NodeDeleted skips connections the data
	 * trigger already notified (§2.7.4) */
	watch_add(&f->w, WATCH_DATA, S("/d"), 1, WATCH_STANDARD);
	watch_add(&f->w, WATCH_CHILD, S("/d"), 1, WATCH_STANDARD);
	watch_add(&f->w, WATCH_CHILD, S("/d"), 2, WATCH_STANDARD);
	struct watch_hits data = {0}, child = {0};
	watch_trigger(&f->w, WATCH_DATA, S("/d"), false, &data, NULL);
	watch_trigger(&f->w, WATCH_CHILD, S("/d"), false, &child, &data);
	assert_int_equal(data.count, 1);
	assert_int_equal(child.count, 1);
	assert_int_equal(child.conns[0], 2);
	/* the excluded connection is not notified twice, but its one-shot
	 * child watch is consumed all the same, as in Java: a re-created /d
	 * must not report its children to conn 1 */
	assert_false(watch_has(&f->w, WATCH_CHILD, S("/d"), 1));
	assert_int_equal(watch_count(&f->w), 0);
	watch_hits_free(&data);
	watch_hits_free(&child);
}

static void test_latest_mode_wins(void **state)
{
	struct fx *f = *state;
	/* a standard watch over a persistent one resets it to standard */
	watch_add(&f->w, WATCH_DATA, S("/m"), 1, WATCH_PERSISTENT);
	watch_add(&f->w, WATCH_DATA, S("/m"), 1, WATCH_STANDARD);
	assert_int_equal(fire(f, WATCH_DATA, "/m", false), 1);
	assert_int_equal(fire(f, WATCH_DATA, "/m", false), 0);
	/* recursive replaced by persistent stops the ancestor walk for it */
	watch_add(&f->w, WATCH_DATA, S("/n"), 1, WATCH_RECURSIVE);
	assert_int_equal(fire(f, WATCH_DATA, "/n/c", false), 1);
	watch_add(&f->w, WATCH_DATA, S("/n"), 1, WATCH_PERSISTENT);
	assert_int_equal(fire(f, WATCH_DATA, "/n/c", false), 0);
	assert_int_equal(fire(f, WATCH_DATA, "/n", false), 1);
	assert_int_equal(f->w.n_recursive, 0);
}

static void test_remove_one_table(void **state)
{
	struct fx *f = *state;
	watch_add(&f->w, WATCH_DATA, S("/pw"), 1, WATCH_PERSISTENT);
	watch_add(&f->w, WATCH_CHILD, S("/pw"), 1, WATCH_PERSISTENT);
	/* removeWatches type Data removes only the data half (3.8, §2.7.5) */
	assert_true(watch_remove(&f->w, WATCH_DATA, S("/pw"), 1));
	assert_false(watch_remove(&f->w, WATCH_DATA, S("/pw"), 1));
	assert_int_equal(fire(f, WATCH_DATA, "/pw", false), 0);
	assert_int_equal(fire(f, WATCH_CHILD, "/pw", true), 1);
	assert_false(watch_remove(&f->w, WATCH_CHILD, S("/pw"), 2));
	assert_true(watch_remove(&f->w, WATCH_CHILD, S("/pw"), 1));
	assert_int_equal(watch_count(&f->w), 0);
}

static void test_remove_conn(void **state)
{
	struct fx *f = *state;
	watch_add(&f->w, WATCH_DATA, S("/a"), 1, WATCH_STANDARD);
	watch_add(&f->w, WATCH_CHILD, S("/a"), 1, WATCH_STANDARD);
	watch_add(&f->w, WATCH_DATA, S("/b"), 1, WATCH_RECURSIVE);
	watch_add(&f->w, WATCH_DATA, S("/a"), 2, WATCH_STANDARD);
	assert_int_equal(watch_conns_with(&f->w, WATCH_DATA), 2);
	assert_int_equal(watch_conns_with(&f->w, WATCH_CHILD), 1);
	/* iterate conn 1's data paths */
	size_t pos = 0, len;
	int n = 0;
	const char *p;
	while ((p = watch_conn_next(&f->w, 1, WATCH_DATA, &pos, &len))) {
		assert_true((len == 2 && (memcmp(p, "/a", 2) == 0 || memcmp(p, "/b", 2) == 0)));
		n++;
	}
	assert_int_equal(n, 2);
	watch_remove_conn(&f->w, 1);
	assert_int_equal(watch_count(&f->w), 1);
	assert_int_equal(f->w.n_recursive, 0);
	assert_int_equal(fire(f, WATCH_DATA, "/a", false), 1);
	assert_int_equal(f->h.conns[0], 2);
	assert_int_equal(fire(f, WATCH_DATA, "/b/x", false), 0);
	watch_remove_conn(&f->w, 99);  /* unknown: no-op */
}

static void test_many_watchers_one_path(void **state)
{
	struct fx *f = *state;
	/* standard watchers are removed while the list is walked */
	for (uint64_t c = 1; c <= 40; c++)
		watch_add(&f->w, WATCH_DATA, S("/x"), c, c % 3 == 0 ? WATCH_PERSISTENT : WATCH_STANDARD);
	assert_int_equal(fire(f, WATCH_DATA, "/x", false), 40);
	for (uint64_t c = 1; c <= 40; c++)
		assert_true(watch_hits_contains(&f->h, c));
	assert_int_equal(fire(f, WATCH_DATA, "/x", false), 13);
	assert_int_equal(watch_table_entries(&f->w, WATCH_DATA), 13);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_standard_is_one_shot),
		T(test_standard_only_at_its_path),
		T(test_persistent_stays),
		T(test_recursive_rules),
		T(test_recursive_on_root),
		T(test_one_notification_per_trigger),
		T(test_exclude_list),
		T(test_latest_mode_wins),
		T(test_remove_one_table),
		T(test_remove_conn),
		T(test_many_watchers_one_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
