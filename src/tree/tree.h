/* tree: ZooKeeper's DataTree — the znodes held in memory, their Stat fields
 * kept exactly as ZooKeeper keeps them (zookeeper-protocol.md §3.4, §3.5),
 * the index of ephemerals per owner, and the incremental tree digest (§6.4).
 *
 * The tree only mutates; it never validates requests (that is the request
 * stage's job, which checks every rule before a txn exists) and never fires
 * watches (the apply stage does, from what the mutation returns). Every
 * mutation is a pure function of the tree and its arguments, so replaying
 * the same txns on any replica gives the same tree.
 *
 * Memory: one slab object per znode (base/slab.h: no malloc header, 8-byte
 * rounding) holding the struct, its NUL-terminated path and an inline data
 * room of at least 8 bytes sized by the data it was created with; the name
 * of a node is the path after its last '/'. A later value that fits the
 * room reuses it (a setData of the same size allocates nothing); a larger
 * one moves to a buffer of its own whose address is kept in the room (the
 * node has no data pointer: znode_data() finds the bytes). Children are an
 * array of pointers with each child knowing its index, so add and remove
 * are O(1); the array's capacity is implied by its length (the next power
 * of two, at least 4). ACLs are refs into the interned cache. The path
 * index is a keymap whose 8-byte slots point at the node (key: its path). A
 * session's ephemerals are an array (eph_list); where each one sits in it is
 * kept in a side map, since most znodes are not ephemeral. */
#ifndef ZABD_TREE_TREE_H
#define ZABD_TREE_TREE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/hashmap.h"
#include "base/slab.h"
#include "jute/records.h"
#include "tree/acl.h"

struct znode {
	struct znode **children;  /* no parent pointer: 8 bytes a node; a delete looks it up */
	int64_t acl_ref;
	int64_t czxid, mzxid, pzxid, ctime, mtime;
	int64_t ephemeral_owner;  /* session id, container or TTL marker, or 0 */
	int32_t data_len;         /* -1 = null data */
	int32_t version;
	int32_t cversion;         /* persisted: number of child creations */
	int32_t aversion;
	uint32_t n_children;
	uint32_t child_idx;       /* my index in parent->children */
	uint32_t room;            /* inline data bytes after the path (>= 8); ZNODE_OUTLINE:
				   * the data is in its own buffer, its address in the room */
	uint32_t digest;          /* this node's CRC-32 contribution to the tree digest */
	uint32_t path_len;
	char path[];              /* NUL-terminated full path, then the data room */
};
#define ZNODE_OUTLINE 0x80000000u
#define ZNODE_MIN_ROOM 8

/* The node's data bytes (data_len of them; meaningless when data_len <= 0). */
static inline const uint8_t *znode_data(const struct znode *n)
{
	const uint8_t *room = (const uint8_t *)n->path + n->path_len + 1;
	if (!(n->room & ZNODE_OUTLINE))
		return room;
	const uint8_t *p;
	memcpy(&p, room, sizeof p);
	return p;
}

/* Bytes the node's data can grow to without a new buffer. */
size_t tree_data_capacity(const struct znode *n);

/* The last path component ("" for the root). */
static inline const char *znode_name(const struct znode *n, size_t *len)
{
	size_t i = n->path_len;
	while (i > 0 && n->path[i - 1] != '/')
		i--;
	*len = n->path_len - i;
	return n->path + i;
}

struct eph_list {
	struct znode **items;
	uint32_t count;
	uint32_t cap;
};

struct tree {
	struct keymap nodes;     /* path -> znode (key: znode.path) */
	struct slab mem;         /* the znodes themselves */
	struct u64map ephemerals;/* session id -> eph_list */
	struct u64map eph_pos;   /* session-owned znode's address -> 1 + its index in
				  * its eph_list (kept here, not in every znode) */
	struct acl_cache acls;
	struct znode *root;
	uint64_t digest;         /* sum of node digests mod 2^64 (§6.4) */
	uint64_t data_bytes;     /* approximate data size: sum of path and data lengths */
	bool ttl_enabled;        /* extendedTypesEnabled: TTL owner markers are TTLs */
	/* the last restored node and its ancestors, root first: where a
	 * pre-order snapshot's next parent is found without a lookup */
	struct znode **restore_path;
	uint32_t restore_depth, restore_cap;
};

void tree_init(struct tree *t, bool ttl_enabled);
/* An empty tree without the special nodes (for loading a snapshot). */
void tree_init_empty(struct tree *t, bool ttl_enabled);
void tree_free(struct tree *t);

/* Lookup; "" is an alias of "/" as in ZooKeeper. */
struct znode *tree_get(const struct tree *t, const char *path, size_t len);
size_t tree_count(const struct tree *t);
/* Size the path index for n nodes (a loader that knows roughly how many
 * are coming); more than that only grows it again. Capped at 2^28. */
void tree_reserve(struct tree *t, uint64_t n);
/* Iterate all nodes in no particular order: *pos = 0 first; NULL at the end. */
struct znode *tree_next(const struct tree *t, size_t *pos);

/* Create a node whose parent exists and which does not. `parent_cversion`
 * is the txn's parentCVersion: applied (with pzxid := zxid) only if larger
 * than the parent's. Takes a reference on acl_ref. Returns the new node. */
struct znode *tree_create(struct tree *t, const char *path, size_t len, struct jute_bytes data,
			  int64_t acl_ref, int64_t ephemeral_owner, int32_t parent_cversion,
			  int64_t zxid, int64_t time_ms);
/* Delete a childless node. */
void tree_delete(struct tree *t, struct znode *n, int64_t zxid);
void tree_set_data(struct tree *t, struct znode *n, struct jute_bytes data, int32_t version,
		   int64_t zxid, int64_t time_ms);
void tree_set_acl(struct tree *t, struct znode *n, int64_t acl_ref, int32_t aversion);

/* Stat as clients see it: visible cversion, dataLength, numChildren, and
 * ephemeralOwner 0 for containers and TTL nodes. */
void tree_fill_stat(const struct tree *t, const struct znode *n, struct jr_stat *st);

bool tree_is_container(const struct znode *n);
/* TTL in ms if n is a TTL node (and TTLs are enabled), else 0. */
int64_t tree_ttl_of(const struct tree *t, const struct znode *n);
/* A real session owner (not 0, not a container or TTL marker). */
bool tree_owner_is_session(const struct tree *t, int64_t owner);
int64_t tree_ttl_owner(int64_t ttl_ms);

const struct eph_list *tree_ephemerals(const struct tree *t, int64_t session_id);

/* Number of all descendants (getAllChildrenNumber). */
int64_t tree_descendants(const struct znode *n);

/* Restore a node from a snapshot exactly (stat as persisted). The parent
 * must already exist (snapshots list parents first), except for "/"; a
 * second "/" overwrites the first. Returns 0, TREE_RESTORE_NO_PARENT or
 * TREE_RESTORE_DUPLICATE (the tree is then unchanged). Pre-order input
 * finds the parent among the last node's ancestors without a lookup. */
enum { TREE_RESTORE_NO_PARENT = -1, TREE_RESTORE_DUPLICATE = -2 };
int tree_restore_node(struct tree *t, const char *path, size_t len, struct jute_bytes data,
		      int64_t acl_ref, const struct jr_stat_persisted *st);

#endif
