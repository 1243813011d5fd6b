/* Invariant checks shared by fuzz_node and fuzz_apply: what must hold of a
 * struct tree (and the ACL cache and pending overlay around it) after any
 * sequence of mutations, however hostile the input that drove them. Each
 * check calls abort() with a message, so libFuzzer records the input.
 *
 * The digest is recomputed from the node fields by the rule of
 * zookeeper-protocol.md §6.4, independently of tree.c's incremental sums,
 * so a mutation that forgets to re-digest a node is caught. */
#ifndef ZABD_TESTS_FUZZ_CHECK_H
#define ZABD_TESTS_FUZZ_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/hashmap.h"
#include "request/pending.h"
#include "tree/acl.h"
#include "tree/path.h"
#include "tree/tree.h"

#define FZ_CHECK(cond, ...)                                                    \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "invariant failed: %s: ", #cond);     \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			abort();                                               \
		}                                                              \
	} while (0)

static inline void fz_put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int k = 0; k < bytes; k++)
		p[k] = (uint8_t)(v >> (8 * (bytes - 1 - k)));
}

/* §6.4: CRC-32 of path ("" for "/"), data, czxid mzxid pzxid ctime mtime,
 * version cversion aversion, ephemeralOwner; 0 for nodes under /zookeeper/. */
static inline uint64_t fz_node_digest(const struct znode *z)
{
	static const char zk_sub[] = "/zookeeper/";
	if (z->path_len >= sizeof zk_sub - 1 && memcmp(z->path, zk_sub, sizeof zk_sub - 1) == 0)
		return 0;
	uLong crc = crc32(0L, Z_NULL, 0);
	if (!(z->path_len == 1 && z->path[0] == '/'))
		crc = crc32(crc, (const Bytef *)z->path, z->path_len);
	if (z->data_len > 0)
		crc = crc32(crc, znode_data(z), (uInt)z->data_len);
	uint8_t b[60];
	fz_put_be(b + 0, (uint64_t)z->czxid, 8);
	fz_put_be(b + 8, (uint64_t)z->mzxid, 8);
	fz_put_be(b + 16, (uint64_t)z->pzxid, 8);
	fz_put_be(b + 24, (uint64_t)z->ctime, 8);
	fz_put_be(b + 32, (uint64_t)z->mtime, 8);
	fz_put_be(b + 40, (uint32_t)z->version, 4);
	fz_put_be(b + 44, (uint32_t)z->cversion, 4);
	fz_put_be(b + 48, (uint32_t)z->aversion, 4);
	fz_put_be(b + 52, (uint64_t)z->ephemeral_owner, 8);
	return crc32(crc, b, sizeof b);
}

/* Links: every node is in the map under its own path, its parent is the
 * node at its parent path and lists it at child_idx, ephemerals are
 * indexed under their owner, ACL refs are live. `full` adds the digest. */
static inline void fz_check_tree(const struct tree *t, bool full)
{
	FZ_CHECK(t->root && tree_get(t, "/", 1) == t->root, "root");
	size_t pos = 0, n = 0, children = 0;
	uint64_t digest = 0;
	const struct znode *z;
	while ((z = tree_next(t, &pos))) {
		n++;
		children += z->n_children;
		FZ_CHECK(tree_get(t, z->path, z->path_len) == z, "key %s", z->path);
		FZ_CHECK(z->path[z->path_len] == '\0', "path not terminated");
		FZ_CHECK((z->n_children == 0) == (z->children == NULL), "%s children", z->path);
		FZ_CHECK(z->data_len >= -1 && (z->data_len <= 0 || (znode_data(z) != NULL &&
			 (size_t)z->data_len <= tree_data_capacity(z))), "%s data", z->path);
		if (z != t->root) {
			const struct znode *p = tree_get(t, z->path, path_parent_len(z->path, z->path_len));
			FZ_CHECK(p != NULL, "%s has no parent", z->path);
			FZ_CHECK(z->child_idx < p->n_children && p->children[z->child_idx] == z, "%s child_idx",
				 z->path);
			size_t pl = p->path_len == 1 ? 0 : p->path_len;
			FZ_CHECK(z->path_len >= pl + 1 && memcmp(z->path, p->path, pl) == 0 && z->path[pl] == '/',
				 "%s under %s", z->path, p->path);
			size_t nl;
			FZ_CHECK(znode_name(z, &nl) == z->path + pl + 1 && nl == z->path_len - pl - 1,
				 "%s name", z->path);
		}
		uintptr_t eph_pos = (uintptr_t)u64map_get(&t->eph_pos, (uint64_t)(uintptr_t)z);
		if (tree_owner_is_session(t, z->ephemeral_owner)) {
			const struct eph_list *l = tree_ephemerals(t, z->ephemeral_owner);
			FZ_CHECK(l && eph_pos >= 1 && eph_pos - 1 < l->count && l->items[eph_pos - 1] == z,
				 "%s eph index", z->path);
		} else {
			FZ_CHECK(eph_pos == 0, "%s indexed as ephemeral", z->path);
		}
		if (z->acl_ref != ACL_REF_OPEN) {
			const struct acl_list *a = acl_cache_get(&t->acls, z->acl_ref);
			FZ_CHECK(a && a->refs > 0, "%s acl ref %lld dead", z->path, (long long)z->acl_ref);
		}
		if (full) {
			uint64_t d = fz_node_digest(z);
			FZ_CHECK(d == z->digest, "%s digest %llx, recomputed %llx", z->path,
				 (unsigned long long)z->digest, (unsigned long long)d);
			digest += d;
		}
	}
	FZ_CHECK(n == tree_count(t), "walk %zu, count %zu", n, tree_count(t));
	FZ_CHECK(children + 1 == n, "children %zu + 1 != nodes %zu", children, n);
	if (full)
		FZ_CHECK(digest == t->digest, "tree digest %llx, recomputed %llx", (unsigned long long)t->digest,
			 (unsigned long long)digest);
	pos = 0;
	struct u64map_slot *e;
	size_t ephs = 0;
	while ((e = u64map_next(&t->ephemerals, &pos))) {
		const struct eph_list *l = e->value;
		FZ_CHECK(l->count > 0, "empty ephemeral list kept");
		ephs += l->count;
		for (uint32_t i = 0; i < l->count; i++)
			FZ_CHECK(l->items[i]->ephemeral_owner == (int64_t)e->key &&
				 (uintptr_t)u64map_get(&t->eph_pos, (uint64_t)(uintptr_t)l->items[i]) == i + 1u,
				 "ephemeral list of %llx", (unsigned long long)e->key);
	}
	FZ_CHECK(ephs == t->eph_pos.count, "%zu ephemerals listed, %zu positions", ephs, t->eph_pos.count);
}

/* ACL reference counts: each interned list is held by exactly the znodes
 * and pending entries that name it (no multi is half-prepared between
 * calls, so the undo log is empty). */
static inline void fz_check_acl_refs(const struct tree *t, const struct pending *p)
{
	struct u64map uses;
	u64map_init(&uses);
	size_t pos = 0;
	const struct znode *z;
	while ((z = tree_next(t, &pos))) {
		if (z->acl_ref == ACL_REF_OPEN)
			continue;
		uintptr_t k = (uintptr_t)u64map_get(&uses, (uint64_t)z->acl_ref);
		u64map_put(&uses, (uint64_t)z->acl_ref, (void *)(k + 1));
	}
	FZ_CHECK(p->n_undo == 0 && !p->recording, "undo log left over");
	pos = 0;
	const struct pchange *c;
	while ((c = pending_next(p, &pos))) {
		if (c->v.acl_ref == ACL_REF_OPEN)
			continue;
		uintptr_t k = (uintptr_t)u64map_get(&uses, (uint64_t)c->v.acl_ref);
		u64map_put(&uses, (uint64_t)c->v.acl_ref, (void *)(k + 1));
	}
	pos = 0;
	struct u64map_slot *e;
	while ((e = u64map_next(&t->acls.by_ref, &pos))) {
		const struct acl_list *l = e->value;
		uintptr_t k = (uintptr_t)u64map_get(&uses, e->key);
		FZ_CHECK(l->refs == k, "acl %lld refs %u, used %zu", (long long)l->ref, l->refs, (size_t)k);
	}
	pos = 0;
	while ((e = u64map_next(&uses, &pos)))
		FZ_CHECK(acl_cache_get(&t->acls, (int64_t)e->key), "acl %lld used but gone", (long long)e->key);
	u64map_free(&uses);
}

#endif
