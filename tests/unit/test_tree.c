/* The znode tree: Stat rules per mutation (zookeeper-protocol.md §3.4,
 * §3.5), the ephemeral index, owner markers, and the §6.4 tree digest —
 * checked against the live values of the doc and against an independent
 * recomputation over all nodes after every mutation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "jute/proto.h"
#include "tree/path.h"
#include "tree/tree.h"

/* ctime of /demo in the live log and getData reply (§2.11, §6.2.5) */
#define T_DEMO 0x1a204ef1f26LL

static const uint8_t nothing[1];
#define EMPTY ((struct jute_bytes){nothing, 0})
#define S(p) (p), strlen(p)

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

/* §6.4 recomputed from scratch, independently of tree.c's bookkeeping. */
static uint64_t full_digest(const struct tree *t)
{
	uint64_t sum = 0;
	size_t pos = 0;
	const struct znode *n;
	while ((n = tree_next(t, &pos))) {
		if (strncmp(n->path, "/zookeeper/", 11) == 0)
			continue;
		uLong crc = crc32(0L, Z_NULL, 0);
		if (strcmp(n->path, "/") != 0)
			crc = crc32(crc, (const Bytef *)n->path, (uInt)strlen(n->path));
		if (n->data_len > 0)
			crc = crc32(crc, znode_data(n), (uInt)n->data_len);
		uint8_t b[60];
		put_be(b, (uint64_t)n->czxid, 8);
		put_be(b + 8, (uint64_t)n->mzxid, 8);
		put_be(b + 16, (uint64_t)n->pzxid, 8);
		put_be(b + 24, (uint64_t)n->ctime, 8);
		put_be(b + 32, (uint64_t)n->mtime, 8);
		put_be(b + 40, (uint32_t)n->version, 4);
		put_be(b + 44, (uint32_t)n->cversion, 4);
		put_be(b + 48, (uint32_t)n->aversion, 4);
		put_be(b + 52, (uint64_t)n->ephemeral_owner, 8);
		sum += crc32(crc, b, 60);
	}
	return sum;
}

static struct jr_stat stat_of(const struct tree *t, const char *p)
{
	struct znode *n = tree_get(t, S(p));
	assert_non_null(n);
	struct jr_stat st;
	tree_fill_stat(t, n, &st);
	return st;
}

static struct znode *mk(struct tree *t, const char *p, const char *data, int64_t owner, int64_t zxid,
			int64_t time)
{
	struct znode *parent = tree_get(t, p, strlen(p) == 2 ? 1 : (size_t)(strrchr(p, '/') - p));
	assert_non_null(parent);
	struct jute_bytes d = data ? JUTE_STR(data) : JUTE_NULL;
	struct znode *n = tree_create(t, S(p), d, ACL_REF_OPEN, owner, parent->cversion + 1, zxid, time);
	assert_int_equal(t->digest, full_digest(t));
	return n;
}

static void test_fresh_tree(void **state)
{
	(void)state;
	struct tree t;
	tree_init(&t, false);
	/* §6.4 [live]: crc32(60 zeros) + crc32("/zookeeper" ‖ 60 zeros) */
	assert_int_equal(t.digest, 0x51c6d660);
	assert_int_equal(full_digest(&t), 0x51c6d660);
	assert_int_equal(tree_count(&t), 4);
	assert_non_null(tree_get(&t, S("/zookeeper/quota")));
	/* "" is the root */
	assert_ptr_equal(tree_get(&t, "", 0), t.root);
	/* /zookeeper/config: READ for world, aversion -1 (§6.5.2) */
	struct znode *cfg = tree_get(&t, S("/zookeeper/config"));
	assert_int_equal(cfg->aversion, -1);
	const struct acl_list *l = acl_cache_get(&t.acls, cfg->acl_ref);
	assert_non_null(l);
	assert_int_equal(l->count, 1);
	assert_int_equal(l->items[0].perms, ZPERM_READ);
	assert_string_equal(l->items[0].scheme, "world");
	/* the root's child was added without a cversion bump, as in Java */
	struct jr_stat st = stat_of(&t, "/");
	assert_int_equal(st.num_children, 1);
	assert_int_equal(st.cversion, -1);
	assert_int_equal(st.pzxid, 0);
	tree_free(&t);
}

static void test_create_demo_digest_and_stat(void **state)
{
	(void)state;
	struct tree t;
	tree_init(&t, false);
	/* §6.2.5: create /demo "hi" at zxid 2, parentCVersion 1, time T */
	tree_create(&t, S("/demo"), JUTE_STR("hi"), ACL_REF_OPEN, 0, 1, 2, T_DEMO);
	assert_int_equal(t.digest, 0xb0c7bae1);
	assert_int_equal(full_digest(&t), 0xb0c7bae1);
	/* the Stat of the §2.11 getData reply */
	struct jr_stat st = stat_of(&t, "/demo");
	assert_int_equal(st.czxid, 2);
	assert_int_equal(st.mzxid, 2);
	assert_int_equal(st.pzxid, 2);
	assert_int_equal(st.ctime, T_DEMO);
	assert_int_equal(st.mtime, T_DEMO);
	assert_int_equal(st.version, 0);
	assert_int_equal(st.cversion, 0);
	assert_int_equal(st.aversion, 0);
	assert_int_equal(st.ephemeral_owner, 0);
	assert_int_equal(st.data_length, 2);
	assert_int_equal(st.num_children, 0);
	/* parent: cversion and pzxid raised, mzxid/mtime/version untouched */
	struct znode *root = t.root;
	assert_int_equal(root->cversion, 1);
	assert_int_equal(root->pzxid, 2);
	assert_int_equal(root->mzxid, 0);
	assert_int_equal(root->mtime, 0);
	assert_int_equal(root->version, 0);
	tree_free(&t);
}

static void test_demo_cversion_example(void **state)
{
	(void)state;
	struct tree t;
	tree_init(&t, false);
	/* §3.4 [live]: /demo at zxid 2, setData at 3, children at 4 and 5 */
	struct znode *demo = mk(&t, "/demo", "hi", 0, 2, 100);
	tree_set_data(&t, demo, JUTE_STR("x"), 1, 3, 110);
	assert_int_equal(t.digest, full_digest(&t));
	mk(&t, "/demo/a", NULL, 0, 4, 120);
	mk(&t, "/demo/b", NULL, 0, 5, 130);
	struct jr_stat st = stat_of(&t, "/demo");
	assert_int_equal(st.cversion, 2);
	assert_int_equal(st.num_children, 2);
	assert_int_equal(st.pzxid, 5);
	assert_int_equal(st.version, 1);
	assert_int_equal(demo->cversion, 2);  /* persisted */
	assert_int_equal(st.mzxid, 3);
	assert_int_equal(st.mtime, 110);
	assert_int_equal(st.ctime, 100);
	/* a delete: visible cversion +1 by the formula, persisted unchanged */
	tree_delete(&t, tree_get(&t, S("/demo/a")), 6);
	assert_int_equal(t.digest, full_digest(&t));
	st = stat_of(&t, "/demo");
	assert_int_equal(st.cversion, 3);
	assert_int_equal(st.num_children, 1);
	assert_int_equal(st.pzxid, 6);
	assert_int_equal(demo->cversion, 2);
	assert_int_equal(st.mzxid, 3);
	/* a delete replayed with an older zxid does not lower pzxid */
	tree_delete(&t, tree_get(&t, S("/demo/b")), 5);
	assert_int_equal(stat_of(&t, "/demo").pzxid, 6);
	assert_int_equal(stat_of(&t, "/demo").cversion, 4);
	assert_null(tree_get(&t, S("/demo/b")));
	assert_int_equal(t.digest, full_digest(&t));
	tree_free(&t);
}

static void test_set_data_and_acl_stats(void **state)
{
	(void)state;
	struct tree t;
	tree_init(&t, false);
	struct znode *n = mk(&t, "/n", "abc", 0, 2, 50);
	tree_set_data(&t, n, JUTE_NULL, 1, 7, 70);
	struct jr_stat st = stat_of(&t, "/n");
	assert_int_equal(st.version, 1);
	assert_int_equal(st.mzxid, 7);
	assert_int_equal(st.mtime, 70);
	assert_int_equal(st.czxid, 2);
	assert_int_equal(st.data_length, 0);  /* null data shows as 0 */
	assert_int_equal(n->data_len, -1);
	assert_int_equal(t.digest, full_digest(&t));
	/* setACL changes only the acl and aversion */
	struct jr_acl a = {.perms = ZPERM_READ, .id = {JUTE_STR("ip"), JUTE_STR("1.2.3.4")}};
	int64_t ref = acl_cache_intern(&t.acls, &a, 1);
	tree_set_acl(&t, n, ref, 1);
	acl_cache_release(&t.acls, ref);
	st = stat_of(&t, "/n");
	assert_int_equal(st.aversion, 1);
	assert_int_equal(st.mzxid, 7);
	assert_int_equal(st.mtime, 70);
	assert_int_equal(st.version, 1);
	assert_int_equal(t.digest, full_digest(&t));
	/* the node holds the list's only reference; deleting it frees the list */
	assert_int_equal(acl_cache_get(&t.acls, ref)->refs, 1);
	tree_delete(&t, n, 8);
	assert_null(acl_cache_get(&t.acls, ref));
	tree_free(&t);
}

static void test_parent_cversion_only_if_larger(void **state)
{
	(void)state;
	struct tree t;
	tree_init(&t, false);
	struct znode *p = mk(&t, "/p", NULL, 0, 2, 0);
	p->cversion = INT32_MAX;  /* saturated counter (§3.5) */
	/* prep sends INT32_MAX + 1 = INT32_MIN: not larger, so neither
	 * cversion nor pzxid moves */
	tree_create(&t, S("/p/x"), EMPTY, ACL_REF_OPEN, 0, INT32_MIN, 9, 0);
	assert_int_equal(p->cversion, INT32_MAX);
	assert_int_equal(p->pzxid, 2);
	assert_int_equal(p->n_children, 1);
	/* replaying a create over a fuzzy snapshot: same value, no change */
	struct znode *q = mk(&t, "/q", NULL, 0, 10, 0);
	tree_create(&t, S("/q/a"), EMPTY, ACL_REF_OPEN, 0, 1, 11, 0);
	tree_create(&t, S("/q/b"), EMPTY, ACL_REF_OPEN, 0, 1, 12, 0);
	assert_int_equal(q->cversion, 1);
	assert_int_equal(q->pzxid, 11);
	assert_int_equal(t.digest, full_digest(&t));
	tree_free(&t);
}

static void test_owner_markers_and_ephemerals(void **state)
{
	(void)state;
	struct tree t;
	tree_init(&t, false);
	int64_t sid = 0x0100008c04f60000LL;
	int64_t ttl_owner = tree_ttl_owner(5000);
	assert_int_equal(ttl_owner, (int64_t)0xFF00000000001388LL);
	mk(&t, "/e1", NULL, sid, 2, 0);
	mk(&t, "/e2", NULL, sid, 3, 0);
	struct znode *c = mk(&t, "/c", NULL, ZK_CONTAINER_OWNER, 4, 0);
	/* with TTLs off, a TTL-shaped owner is an ordinary session owner */
	mk(&t, "/t", NULL, ttl_owner, 5, 0);
	assert_true(tree_is_container(c));
	assert_int_equal(stat_of(&t, "/c").ephemeral_owner, 0);
	assert_int_equal(stat_of(&t, "/e1").ephemeral_owner, sid);
	assert_int_equal(stat_of(&t, "/t").ephemeral_owner, ttl_owner);
	assert_int_equal(tree_ttl_of(&t, tree_get(&t, S("/t"))), 0);
	const struct eph_list *l = tree_ephemerals(&t, sid);
	assert_non_null(l);
	assert_int_equal(l->count, 2);
	assert_non_null(tree_ephemerals(&t, ttl_owner));
	assert_null(tree_ephemerals(&t, ZK_CONTAINER_OWNER));
	tree_delete(&t, tree_get(&t, S("/e1")), 6);
	l = tree_ephemerals(&t, sid);
	assert_int_equal(l->count, 1);
	assert_string_equal(l->items[0]->path, "/e2");
	tree_delete(&t, tree_get(&t, S("/e2")), 7);
	assert_null(tree_ephemerals(&t, sid));
	assert_false(tree_owner_is_session(&t, 0));
	assert_false(tree_owner_is_session(&t, ZK_CONTAINER_OWNER));
	assert_true(tree_owner_is_session(&t, ttl_owner));
	tree_free(&t);

	/* with TTLs on, the marker makes a TTL node: owner 0 in Stat, not indexed */
	tree_init(&t, true);
	mk(&t, "/t", NULL, ttl_owner, 2, 0);
	assert_int_equal(stat_of(&t, "/t").ephemeral_owner, 0);
	assert_int_equal(tree_ttl_of(&t, tree_get(&t, S("/t"))), 5000);
	assert_null(tree_ephemerals(&t, ttl_owner));
	assert_false(tree_owner_is_session(&t, ttl_owner));
	assert_int_equal(tree_ttl_of(&t, t.root), 0);
	tree_free(&t);
}

static void test_special_subtree_not_in_digest(void **state)
{
	(void)state;
	struct tree t;
	tree_init(&t, false);
	uint64_t before = t.digest;
	/* nodes under /zookeeper/ contribute nothing, their parent neither */
	tree_create(&t, S("/zookeeper/quota/app"), JUTE_STR("x"), ACL_REF_OPEN, 0, 1, 2, 9);
	assert_int_equal(t.digest, before);
	/* /zookeeper itself does count */
	tree_create(&t, S("/zookeeper/other"), EMPTY, ACL_REF_OPEN, 0, 1, 3, 9);
	assert_int_not_equal(t.digest, before);
	assert_int_equal(t.digest, full_digest(&t));
	tree_free(&t);
}

static void test_children_and_descendants(void **state)
{
	(void)state;
	struct tree t;
	tree_init(&t, false);
	mk(&t, "/a", NULL, 0, 2, 0);
	char p[16];
	for (int i = 0; i < 20; i++) {
		snprintf(p, sizeof p, "/a/%02d", i);
		mk(&t, p, "d", 0, 3 + i, 0);
	}
	mk(&t, "/a/05/x", NULL, 0, 30, 0);
	struct znode *a = tree_get(&t, S("/a"));
	assert_int_equal(a->n_children, 20);
	assert_int_equal(tree_descendants(a), 21);
	/* remove from the middle: indexes stay consistent */
	for (int i = 0; i < 20; i += 3) {
		snprintf(p, sizeof p, "/a/%02d", i);
		tree_delete(&t, tree_get(&t, S(p)), 40 + i);
	}
	for (uint32_t i = 0; i < a->n_children; i++) {
		assert_int_equal(a->children[i]->child_idx, i);
		const struct znode *c = a->children[i];
		assert_ptr_equal(tree_get(&t, c->path, path_parent_len(c->path, c->path_len)), a);
	}
	assert_int_equal(a->n_children, 13);
	assert_int_equal(tree_count(&t), 4 + 1 + 13 + 1);
	assert_int_equal(t.digest, full_digest(&t));
	/* the name of a node is the suffix of its path */
	struct znode *x = tree_get(&t, S("/a/05/x"));
	size_t xl;
	assert_string_equal(znode_name(x, &xl), "x");
	assert_int_equal(xl, 1);
	tree_free(&t);
}

/* A value keeps its bytes and the digest stays right as it moves between
 * the node's inline room and a buffer of its own: same size, smaller,
 * larger than the room, larger than that buffer, null, and back. */
static void test_set_data_sizes(void **state)
{
	(void)state;
	struct tree t;
	tree_init(&t, false);
	struct znode *n = mk(&t, "/v", "abc", 0, 2, 20);
	static const char *values[] = {"abcdefgh", "xy", "0123456789abcdefghij", "short",
				       "0123456789abcdefghij0123456789abcdefghij", NULL, "",
				       "a much longer value than any before it, to grow again", "z"};
	int32_t version = 0;
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		const char *v = values[i];
		tree_set_data(&t, n, v ? JUTE_STR(v) : JUTE_NULL, ++version, 10 + (int64_t)i, 100);
		assert_ptr_equal(tree_get(&t, S("/v")), n);
		if (v) {
			assert_int_equal(n->data_len, (int32_t)strlen(v));
			assert_memory_equal(znode_data(n), v, strlen(v));
			assert_true(tree_data_capacity(n) >= strlen(v));
		} else {
			assert_int_equal(n->data_len, -1);
		}
		assert_int_equal(t.digest, full_digest(&t));
	}
	tree_delete(&t, n, 30);
	assert_int_equal(t.digest, full_digest(&t));
	tree_free(&t);
}

static void test_restore_node(void **state)
{
	(void)state;
	/* a snapshot of a fresh server: root and /zookeeper with zero stats */
	struct tree t;
	tree_init_empty(&t, false);
	struct jr_stat_persisted zero = {0};
	tree_restore_node(&t, S("/"), EMPTY, ACL_REF_OPEN, &zero);
	tree_restore_node(&t, S("/zookeeper"), EMPTY, ACL_REF_OPEN, &zero);
	assert_int_equal(t.digest, 0x51c6d660);
	tree_free(&t);
	/* the same after create /demo: stats exactly as persisted */
	tree_init_empty(&t, false);
	struct jr_stat_persisted root = {.cversion = 1, .pzxid = 2};
	struct jr_stat_persisted sp = {.czxid = 2, .mzxid = 2, .ctime = T_DEMO, .mtime = T_DEMO, .pzxid = 2};
	tree_restore_node(&t, S("/"), EMPTY, ACL_REF_OPEN, &root);
	tree_restore_node(&t, S("/zookeeper"), EMPTY, ACL_REF_OPEN, &zero);
	tree_restore_node(&t, S("/demo"), JUTE_STR("hi"), ACL_REF_OPEN, &sp);
	assert_int_equal(t.digest, 0xb0c7bae1);
	assert_int_equal(full_digest(&t), 0xb0c7bae1);
	struct jr_stat st = stat_of(&t, "/");
	assert_int_equal(st.num_children, 2);
	assert_int_equal(st.cversion, 0);  /* 2 * 1 - 2 */
	assert_ptr_equal(tree_get(&t, "", 0), t.root);
	tree_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_tree),
		cmocka_unit_test(test_create_demo_digest_and_stat),
		cmocka_unit_test(test_demo_cversion_example),
		cmocka_unit_test(test_set_data_and_acl_stats),
		cmocka_unit_test(test_parent_cversion_only_if_larger),
		cmocka_unit_test(test_owner_markers_and_ephemerals),
		cmocka_unit_test(test_special_subtree_not_in_digest),
		cmocka_unit_test(test_children_and_descendants),
		cmocka_unit_test(test_restore_node),
		cmocka_unit_test(test_set_data_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
