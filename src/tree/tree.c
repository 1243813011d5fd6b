#include "tree/tree.h"

#include <stddef.h>
#include <string.h>
#include "base/crc32.h"
#include "base/slab.h"
#include "base/zalloc.h"
#include "base/zassert.h"
#include "jute/proto.h"
#include "tree/path.h"

/* §6.4: CRC-32 over path ("" for the root), data, then czxid mzxid pzxid
 * ctime mtime (8 bytes each) version cversion aversion (4 each) and
 * ephemeralOwner (8). Nodes under /zookeeper/ contribute nothing. */
static uint32_t node_digest(const struct znode *n)
{
	if (n->path_len > 11 && memcmp(n->path, "/zookeeper/", 11) == 0)
		return 0;
	/* one CRC pass over path, data and stat laid end to end when they
	 * are small (the common case): the folding path then covers nearly
	 * all of it instead of three short pieces with three byte-wise tails */
	uint8_t buf[512];
	size_t pl = n->path_len > 1 ? n->path_len : 0;
	size_t dl = n->data_len > 0 ? (size_t)n->data_len : 0;
	bool one = pl + dl + 60 <= sizeof buf;
	uint8_t *p = one ? buf + pl + dl : buf;
	uint32_t crc = 0;
	if (one) {
		memcpy(buf, n->path, pl);
		if (dl)
			memcpy(buf + pl, znode_data(n), dl);
	} else {
		crc = crc32_update(crc, n->path, pl);
		crc = crc32_update(crc, znode_data(n), dl);
	}
	uint8_t *b = p;
	const int64_t longs[5] = {n->czxid, n->mzxid, n->pzxid, n->ctime, n->mtime};
	for (int i = 0; i < 5; i++, p += 8)
		for (int k = 0; k < 8; k++)
			p[k] = (uint8_t)((uint64_t)longs[i] >> (56 - 8 * k));
	const int32_t ints[3] = {n->version, n->cversion, n->aversion};
	for (int i = 0; i < 3; i++, p += 4)
		for (int k = 0; k < 4; k++)
			p[k] = (uint8_t)((uint32_t)ints[i] >> (24 - 8 * k));
	for (int k = 0; k < 8; k++)
		p[k] = (uint8_t)((uint64_t)n->ephemeral_owner >> (56 - 8 * k));
	p += 8;
	return one ? crc32_update(0, buf, (size_t)(p - buf)) : crc32_update(crc, b, 60);
}

static void redigest(struct tree *t, struct znode *n)
{
	t->digest -= n->digest;
	n->digest = node_digest(n);
	t->digest += n->digest;
}

static uint8_t *room_of(struct znode *n)
{
	return (uint8_t *)n->path + n->path_len + 1;
}

static size_t inline_room(const struct znode *n)
{
	return n->room & ~ZNODE_OUTLINE;
}

static size_t node_size(size_t path_len, size_t room)
{
	return offsetof(struct znode, path) + path_len + 1 + room;
}

/* An out-of-line data buffer: its capacity in the 8 bytes before the data. */
static uint8_t *outline_buf(size_t cap)
{
	uint8_t *b = zmalloc(8 + cap);
	uint32_t c = (uint32_t)cap;
	memcpy(b, &c, sizeof c);
	return b + 8;
}

static size_t outline_cap(const uint8_t *data)
{
	uint32_t c;
	memcpy(&c, data - 8, sizeof c);
	return c;
}

static void outline_free(uint8_t *data)
{
	zfree(data - 8);
}

size_t tree_data_capacity(const struct znode *n)
{
	return (n->room & ZNODE_OUTLINE) ? outline_cap(znode_data(n)) : inline_room(n);
}

/* The node with room for `room` data bytes after its path. */
static struct znode *node_alloc(struct tree *t, const char *path, size_t len, int32_t room)
{
	size_t cap = room > ZNODE_MIN_ROOM ? (size_t)room : ZNODE_MIN_ROOM;
	struct znode *n = slab_alloc(&t->mem, node_size(len, cap));
	memset(n, 0, offsetof(struct znode, path));
	memcpy(n->path, path, len);
	n->path[len] = '\0';
	n->path_len = (uint32_t)len;
	n->data_len = -1;
	n->room = (uint32_t)cap;
	n->acl_ref = ACL_REF_OPEN;
	return n;
}

static void node_free(struct tree *t, struct znode *n)
{
	if (n->room & ZNODE_OUTLINE)
		outline_free((uint8_t *)znode_data(n));
	zfree(n->children);
	slab_free(&t->mem, n, node_size(n->path_len, inline_room(n)));
}

/* Reuse the room or buffer when the value fits (no malloc/free on a
 * same-size set); a larger value gets a buffer of exactly its size. */
static void set_data_buf(struct znode *n, struct jute_bytes data)
{
	size_t len = data.len > 0 ? (size_t)data.len : 0;
	uint8_t *dst = (uint8_t *)znode_data(n);
	bool out = n->room & ZNODE_OUTLINE;
	size_t cap = out ? outline_cap(dst) : inline_room(n);
	if (len > cap) {
		if (out)
			outline_free(dst);
		dst = outline_buf(len);
		memcpy(room_of(n), &dst, sizeof dst);
		n->room |= ZNODE_OUTLINE;
	}
	if (len)
		memcpy(dst, data.data, len);
	n->data_len = data.len;
}

/* Capacity implied by a length: 0, else the next power of two >= 4. */
static uint32_t children_cap(uint32_t n)
{
	if (n == 0)
		return 0;
	uint32_t c = 4;
	while (c < n && c < (1u << 31))
		c *= 2;
	return c;
}

static void child_add(struct znode *parent, struct znode *c)
{
	uint32_t n = parent->n_children;
	if (n == children_cap(n)) {
		zassert(n < (1u << 31));
		uint32_t cap = n ? n * 2 : 4;
		parent->children = zrealloc(parent->children, cap * sizeof(*parent->children));
	}
	c->child_idx = n;
	parent->children[parent->n_children++] = c;
}

static void child_remove(struct znode *parent, struct znode *c)
{
	uint32_t i = c->child_idx;
	zassert(i < parent->n_children && parent->children[i] == c);
	struct znode *last = parent->children[--parent->n_children];
	parent->children[i] = last;
	last->child_idx = i;
	/* the buffer may stay larger than children_cap(n): that only makes
	 * the next growth a same-size realloc */
	if (parent->n_children == 0) {
		zfree(parent->children);
		parent->children = NULL;
	}
}

bool tree_owner_is_session(const struct tree *t, int64_t owner)
{
	if (owner == 0 || owner == ZK_CONTAINER_OWNER)
		return false;
	if (t->ttl_enabled && (owner & ZK_TTL_MASK) == ZK_TTL_MASK)
		return false;
	return true;
}

static void eph_set_pos(struct tree *t, struct znode *n, uint32_t i)
{
	u64map_put(&t->eph_pos, (uint64_t)(uintptr_t)n, (void *)(uintptr_t)(i + 1u));
}

static void eph_add(struct tree *t, struct znode *n)
{
	if (!tree_owner_is_session(t, n->ephemeral_owner))
		return;
	struct eph_list *l = u64map_get(&t->ephemerals, (uint64_t)n->ephemeral_owner);
	if (!l) {
		l = zcalloc(1, sizeof(*l));
		u64map_put(&t->ephemerals, (uint64_t)n->ephemeral_owner, l);
	}
	if (l->count == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->items = zrealloc(l->items, l->cap * sizeof(*l->items));
	}
	eph_set_pos(t, n, l->count);
	l->items[l->count++] = n;
}

static void eph_remove(struct tree *t, struct znode *n)
{
	void *pos = u64map_del(&t->eph_pos, (uint64_t)(uintptr_t)n);
	if (!pos)
		return;
	uint32_t i = (uint32_t)((uintptr_t)pos - 1u);
	struct eph_list *l = u64map_get(&t->ephemerals, (uint64_t)n->ephemeral_owner);
	zassert(l && i < l->count && l->items[i] == n);
	struct znode *last = l->items[--l->count];
	if (last != n) {
		l->items[i] = last;
		eph_set_pos(t, last, i);
	}
	if (l->count == 0) {
		u64map_del(&t->ephemerals, (uint64_t)n->ephemeral_owner);
		zfree(l->items);
		zfree(l);
	}
}

static void index_node(struct tree *t, struct znode *n)
{
	void *there = keymap_insert(&t->nodes, n, n->path_len);
	zassert(there == NULL);
	t->data_bytes += n->path_len;
}

void tree_init_empty(struct tree *t, bool ttl_enabled)
{
	keymap_init(&t->nodes, offsetof(struct znode, path), offsetof(struct znode, path_len));
	slab_init(&t->mem);
	u64map_init(&t->ephemerals);
	u64map_init(&t->eph_pos);
	acl_cache_init(&t->acls);
	t->digest = 0;
	t->data_bytes = 0;
	t->ttl_enabled = ttl_enabled;
	t->root = NULL;
	t->restore_path = NULL;
	t->restore_depth = t->restore_cap = 0;
}

void tree_init(struct tree *t, bool ttl_enabled)
{
	tree_init_empty(t, ttl_enabled);
	t->root = node_alloc(t, "/", 1, 0);
	index_node(t, t->root);
	t->root->data_len = 0;
	redigest(t, t->root);
	static const uint8_t nothing[1];
	struct jute_bytes empty = {nothing, 0};
	/* the special nodes exist with all-zero stats, as on a fresh ZooKeeper */
	struct znode *zk = tree_create(t, "/zookeeper", 10, empty, ACL_REF_OPEN, 0, 0, 0, 0);
	(void)zk;
	tree_create(t, "/zookeeper/quota", 16, empty, ACL_REF_OPEN, 0, 0, 0, 0);
	struct jr_acl ro = {.perms = ZPERM_READ, .id = {JUTE_STR("world"), JUTE_STR("anyone")}};
	int64_t ro_ref = acl_cache_intern(&t->acls, &ro, 1);
	struct znode *cfg = tree_create(t, "/zookeeper/config", 17, empty, ro_ref, 0, 0, 0, 0);
	acl_cache_release(&t->acls, ro_ref); /* tree_create took its own reference */
	cfg->aversion = -1;
	redigest(t, cfg);
}

void tree_free(struct tree *t)
{
	size_t pos = 0;
	struct znode *n;
	while ((n = keymap_next(&t->nodes, &pos)))
		node_free(t, n);
	keymap_free(&t->nodes);
	slab_destroy(&t->mem);
	zfree(t->restore_path);
	t->restore_path = NULL;
	t->restore_depth = t->restore_cap = 0;
	pos = 0;
	struct u64map_slot *e;
	while ((e = u64map_next(&t->ephemerals, &pos))) {
		struct eph_list *l = e->value;
		zfree(l->items);
		zfree(l);
	}
	u64map_free(&t->ephemerals);
	u64map_free(&t->eph_pos);
	acl_cache_free(&t->acls);
}

struct znode *tree_get(const struct tree *t, const char *path, size_t len)
{
	if (len == 0)
		return t->root;
	return keymap_get(&t->nodes, path, len);
}

size_t tree_count(const struct tree *t)
{
	return t->nodes.count;
}

void tree_reserve(struct tree *t, uint64_t n)
{
	keymap_reserve(&t->nodes, (size_t)(n < (1u << 28) ? n : (1u << 28)));
}

struct znode *tree_next(const struct tree *t, size_t *pos)
{
	return keymap_next(&t->nodes, pos);
}

struct znode *tree_create(struct tree *t, const char *path, size_t len, struct jute_bytes data,
			  int64_t acl_ref, int64_t ephemeral_owner, int32_t parent_cversion,
			  int64_t zxid, int64_t time_ms)
{
	struct znode *parent = tree_get(t, path, path_parent_len(path, len));
	zassert(parent != NULL);
	struct znode *n = node_alloc(t, path, len, data.len);
	index_node(t, n);  /* asserts the path is new */
	set_data_buf(n, data);
	t->data_bytes += (uint64_t)(data.len > 0 ? data.len : 0);
	n->acl_ref = acl_ref;
	if (acl_ref != ACL_REF_OPEN)
		acl_cache_addref(&t->acls, acl_ref);
	n->czxid = n->mzxid = n->pzxid = zxid;
	n->ctime = n->mtime = time_ms;
	n->ephemeral_owner = ephemeral_owner;
	child_add(parent, n);
	if (parent_cversion > parent->cversion) {
		parent->cversion = parent_cversion;
		parent->pzxid = zxid;
	}
	redigest(t, parent);
	redigest(t, n);
	eph_add(t, n);
	return n;
}

void tree_delete(struct tree *t, struct znode *n, int64_t zxid)
{
	zassert(n->n_children == 0 && n != t->root);
	struct znode *parent = tree_get(t, n->path, path_parent_len(n->path, n->path_len));
	zassert(parent != NULL);
	child_remove(parent, n);
	if (zxid > parent->pzxid)
		parent->pzxid = zxid;
	redigest(t, parent);
	eph_remove(t, n);
	t->digest -= n->digest;
	t->data_bytes -= n->path_len + (uint64_t)(n->data_len > 0 ? n->data_len : 0);
	keymap_del(&t->nodes, n->path, n->path_len);
	if (n->acl_ref != ACL_REF_OPEN)
		acl_cache_release(&t->acls, n->acl_ref);
	t->restore_depth = 0;  /* the cursor may hold n */
	node_free(t, n);
}

void tree_set_data(struct tree *t, struct znode *n, struct jute_bytes data, int32_t version,
		   int64_t zxid, int64_t time_ms)
{
	t->data_bytes -= (uint64_t)(n->data_len > 0 ? n->data_len : 0);
	set_data_buf(n, data);
	t->data_bytes += (uint64_t)(data.len > 0 ? data.len : 0);
	n->version = version;
	n->mzxid = zxid;
	n->mtime = time_ms;
	redigest(t, n);
}

void tree_set_acl(struct tree *t, struct znode *n, int64_t acl_ref, int32_t aversion)
{
	if (acl_ref != ACL_REF_OPEN)
		acl_cache_addref(&t->acls, acl_ref);
	if (n->acl_ref != ACL_REF_OPEN)
		acl_cache_release(&t->acls, n->acl_ref);
	n->acl_ref = acl_ref;
	n->aversion = aversion;
	redigest(t, n);
}

bool tree_is_container(const struct znode *n)
{
	return n->ephemeral_owner == ZK_CONTAINER_OWNER;
}

int64_t tree_ttl_owner(int64_t ttl_ms)
{
	return ZK_TTL_MASK | ttl_ms;
}

int64_t tree_ttl_of(const struct tree *t, const struct znode *n)
{
	if (!t->ttl_enabled || n->ephemeral_owner == ZK_CONTAINER_OWNER)
		return 0;
	if ((n->ephemeral_owner & ZK_TTL_MASK) != ZK_TTL_MASK)
		return 0;
	return n->ephemeral_owner & ZK_TTL_MAX;
}

void tree_fill_stat(const struct tree *t, const struct znode *n, struct jr_stat *st)
{
	st->czxid = n->czxid;
	st->mzxid = n->mzxid;
	st->ctime = n->ctime;
	st->mtime = n->mtime;
	st->version = n->version;
	/* §3.4: visible cversion = 2 * persisted - numChildren (int arithmetic) */
	st->cversion = (int32_t)((uint32_t)n->cversion * 2u - n->n_children);
	st->aversion = n->aversion;
	st->ephemeral_owner = tree_owner_is_session(t, n->ephemeral_owner) ? n->ephemeral_owner : 0;
	st->data_length = n->data_len > 0 ? n->data_len : 0;
	st->num_children = (int32_t)n->n_children;
	st->pzxid = n->pzxid;
}

const struct eph_list *tree_ephemerals(const struct tree *t, int64_t session_id)
{
	return u64map_get(&t->ephemerals, (uint64_t)session_id);
}

int64_t tree_descendants(const struct znode *n)
{
	int64_t total = 0;
	for (uint32_t i = 0; i < n->n_children; i++)
		total += 1 + tree_descendants(n->children[i]);
	return total;
}

static void restore_push(struct tree *t, struct znode *n)
{
	if (t->restore_depth == t->restore_cap) {
		t->restore_cap = t->restore_cap ? t->restore_cap * 2 : 16;
		t->restore_path = zrealloc(t->restore_path, t->restore_cap * sizeof(*t->restore_path));
	}
	t->restore_path[t->restore_depth++] = n;
}

/* The parent of path (parent path length pl): an ancestor of the last
 * restored node when the input is pre-order, else a lookup. Leaves the
 * cursor ending at the parent (or empty if it was not on it). */
static struct znode *restore_parent(struct tree *t, const char *path, size_t pl)
{
	while (t->restore_depth > 0) {
		struct znode *c = t->restore_path[t->restore_depth - 1];
		if (c->path_len == pl && memcmp(c->path, path, pl) == 0)
			return c;
		t->restore_depth--;
	}
	struct znode *p = tree_get(t, path, pl);
	if (p) {
		/* off the cursor (not pre-order): restart it at p alone */
		t->restore_depth = 0;
		restore_push(t, p);
	}
	return p;
}

/* Data and stat as persisted (the ACL ref is set once the node is in). */
static void restore_fields(struct znode *n, struct jute_bytes data,
			   const struct jr_stat_persisted *st)
{
	set_data_buf(n, data);
	n->czxid = st->czxid;
	n->mzxid = st->mzxid;
	n->ctime = st->ctime;
	n->mtime = st->mtime;
	n->version = st->version;
	n->cversion = st->cversion;
	n->aversion = st->aversion;
	n->ephemeral_owner = st->ephemeral_owner;
	n->pzxid = st->pzxid;
}

int tree_restore_node(struct tree *t, const char *path, size_t len, struct jute_bytes data,
		      int64_t acl_ref, const struct jr_stat_persisted *st)
{
	struct znode *n;
	if (len == 1 && path[0] == '/') {
		n = t->root;
		if (n) {
			/* as before: a second root overwrites the first */
			t->digest -= n->digest;
			t->data_bytes -= (uint64_t)(n->data_len > 0 ? n->data_len : 0);
			if (n->acl_ref != ACL_REF_OPEN)
				acl_cache_release(&t->acls, n->acl_ref);
			eph_remove(t, n);
		} else {
			n = node_alloc(t, path, len, data.len);
			index_node(t, n);
			t->root = n;
		}
	} else {
		struct znode *parent = restore_parent(t, path, path_parent_len(path, len));
		if (!parent)
			return TREE_RESTORE_NO_PARENT;
		/* the index slot is a cache miss: start fetching it, build the
		 * node and its digest meanwhile, then insert */
		uint64_t h = keymap_hash(path, len);
		keymap_prefetch(&t->nodes, h);
		n = node_alloc(t, path, len, data.len);
		restore_fields(n, data, st);
		n->digest = node_digest(n);
		if (keymap_insert_hashed(&t->nodes, n, len, h)) {
			node_free(t, n);
			return TREE_RESTORE_DUPLICATE;
		}
		t->data_bytes += len;
		child_add(parent, n);
	}
	if (n == t->root) {
		restore_fields(n, data, st);
		n->digest = node_digest(n);
	}
	t->data_bytes += (uint64_t)(data.len > 0 ? data.len : 0);
	n->acl_ref = acl_ref;
	if (acl_ref != ACL_REF_OPEN)
		acl_cache_addref(&t->acls, acl_ref);
	t->digest += n->digest;
	eph_add(t, n);
	if (n == t->root)
		t->restore_depth = 0;
	restore_push(t, n);
	return 0;
}
