#include "node/restore.h"

#include <stdio.h>
#include <string.h>

#include "base/zalloc.h"
#include "request/apply.h"
#include "tree/path.h"

static void empty_tree(struct node_restore *r)
{
	if (r->emptied)
		return;
	struct zstate *s = &r->n->st;
	/* the snapshot holds the special nodes itself, with their own ACL refs */
	pending_free(&s->pending, &s->tree);
	pending_init(&s->pending);
	tree_free(&s->tree);
	tree_init_empty(&s->tree, s->cfg->ttl_enabled);
	r->emptied = true;
}

/* Back to the state before the first snapshot callback (the fresh tree, no
 * sessions), after a snapshot that loaded partly and then failed. */
static int on_snapshot_reset(void *arg)
{
	struct node_restore *r = arg;
	if (!r->emptied)
		return 0;
	struct zstate *s = &r->n->st;
	pending_free(&s->pending, &s->tree);
	pending_init(&s->pending);
	tree_free(&s->tree);
	tree_init(&s->tree, s->cfg->ttl_enabled);
	size_t n = s->sessions.by_id.count, k = 0, pos = 0;
	int64_t *ids = zcalloc(n ? n : 1, sizeof(*ids));
	struct u64map_slot *sl;
	while ((sl = u64map_next(&s->sessions.by_id, &pos)) && k < n)
		ids[k++] = (int64_t)sl->key;
	for (size_t i = 0; i < k; i++)
		session_remove(&s->sessions, ids[i]);
	zfree(ids);
	r->emptied = false;
	r->err[0] = '\0';
	return 0;
}

static int on_session(void *arg, int64_t id, int32_t timeout_ms)
{
	struct node_restore *r = arg;
	empty_tree(r);
	session_add(&r->n->st.sessions, id, timeout_ms, r->now_ms);
	return 0;
}

static int on_acl(void *arg, int64_t ref, const struct jr_acl *acls, int32_t n)
{
	struct node_restore *r = arg;
	empty_tree(r);
	acl_cache_put_ref(&r->n->st.tree.acls, ref, acls, n);
	return 0;
}

static int on_node(void *arg, const struct snapshot_node *sn)
{
	struct node_restore *r = arg;
	empty_tree(r);
	struct tree *t = &r->n->st.tree;
	const char *p = sn->path.len > 0 ? (const char *)sn->path.data : "/";
	size_t len = sn->path.len > 0 ? (size_t)sn->path.len : 1;
	if (sn->acl_ref != ACL_REF_OPEN && !acl_cache_get(&t->acls, sn->acl_ref)) {
		snprintf(r->err, sizeof r->err, "snapshot node %.*s uses ACL ref %lld, not in the ACL cache",
			 (int)len, p, (long long)sn->acl_ref);
		return -1;
	}
	/* one index probe per node: the tree finds the parent among the
	 * previous node's ancestors and refuses a parentless or repeated path */
	int rc = tree_restore_node(t, p, len, sn->data, sn->acl_ref, &sn->stat);
	if (rc == TREE_RESTORE_NO_PARENT) {
		snprintf(r->err, sizeof r->err, "snapshot node %.*s comes before its parent", (int)len, p);
		return -1;
	}
	if (rc == TREE_RESTORE_DUPLICATE) {
		snprintf(r->err, sizeof r->err, "snapshot node %.*s appears twice", (int)len, p);
		return -1;
	}
	return 0;
}

static void on_nodes_hint(void *arg, uint64_t expect)
{
	struct node_restore *r = arg;
	tree_reserve(&r->n->st.tree, expect);
}

static int on_txn(void *arg, const struct txn_parts *parts, const struct txnlog_entry *en)
{
	struct node_restore *r = arg;
	(void)parts;
	struct apply_result res;
	if (apply_txn(&r->n->st, en->body, en->len, r->now_ms, NULL, &res) != 0) {
		snprintf(r->err, sizeof r->err, "%s: txn at offset %llu does not decode", en->path,
			 (unsigned long long)en->offset);
		return -1;
	}
	return 0;
}

void node_restore_callbacks(struct recover_callbacks *cb)
{
	memset(cb, 0, sizeof(*cb));
	cb->snap.on_session = on_session;
	cb->snap.on_acl = on_acl;
	cb->snap.on_node = on_node;
	cb->snap.on_nodes_hint = on_nodes_hint;
	cb->on_txn = on_txn;
	cb->on_snapshot_reset = on_snapshot_reset;
}

int node_restore_finish(struct node_restore *r, const struct recover_result *res)
{
	struct zstate *s = &r->n->st;
	if (!s->tree.root || !tree_get(&s->tree, "/zookeeper", 10)) {
		snprintf(r->err, sizeof r->err, "the snapshot has no root or no /zookeeper node");
		return -1;
	}
	if (res->last_zxid > s->last_applied_zxid)
		s->last_applied_zxid = res->last_zxid;
	s->last_prepared_zxid = s->last_applied_zxid;
	return 0;
}

/* Parent before child, the root as "" (ZooKeeper's DataTree.serialize). */
static int save_subtree(struct snapshot_writer *w, const struct znode *z, struct store_error *e)
{
	struct snapshot_node sn;
	bool root = z->path_len == 1 && z->path[0] == '/';
	sn.path = (struct jute_bytes){(const uint8_t *)z->path, root ? 0 : (int32_t)z->path_len};
	sn.data = (struct jute_bytes){znode_data(z), z->data_len};
	sn.acl_ref = z->acl_ref;
	sn.stat = (struct jr_stat_persisted){z->czxid, z->mzxid, z->ctime, z->mtime, z->version,
					     z->cversion, z->aversion, z->ephemeral_owner, z->pzxid};
	int rc = snapshot_write_node(w, &sn, e);
	for (uint32_t i = 0; rc == 0 && i < z->n_children; i++)
		rc = save_subtree(w, z->children[i], e);
	return rc;
}

static int save(struct node *n, struct vfs *vfs, const char *snap_dir, bool sync,
		struct store_error *e)
{
	struct zstate *s = &n->st;
	struct snapshot_writer *w;
	int rc = snapshot_writer_open(&w, vfs, snap_dir, s->last_applied_zxid, e);
	if (rc)
		return rc;
	if (!sync)
		snapshot_writer_no_sync(w);
	snapshot_write_sessions_begin(w, (uint32_t)s->sessions.by_id.count);
	size_t pos = 0;
	struct u64map_slot *sl;
	while ((sl = u64map_next(&s->sessions.by_id, &pos))) {
		const struct session *se = sl->value;
		snapshot_write_session(w, se->id, se->timeout_ms);
	}
	snapshot_write_acls_begin(w, (uint32_t)s->tree.acls.by_ref.count);
	pos = 0;
	while ((sl = u64map_next(&s->tree.acls.by_ref, &pos))) {
		const struct acl_list *l = sl->value;
		struct jr_acl *items = zcalloc((size_t)(l->count > 0 ? l->count : 1), sizeof(*items));
		for (int32_t i = 0; i < l->count; i++) {
			items[i].perms = l->items[i].perms;
			items[i].id.scheme = JUTE_STR(l->items[i].scheme);
			items[i].id.id = JUTE_STR(l->items[i].id);
		}
		snapshot_write_acl(w, l->ref, items, l->count);
		zfree(items);
	}
	rc = save_subtree(w, s->tree.root, e);
	if (rc) {
		snapshot_writer_abort(w);
		return rc;
	}
	struct snapshot_digest d = {s->last_applied_zxid, 2, (int64_t)s->tree.digest};
	return snapshot_writer_finish(w, &d, e);
}

int node_snapshot_save(struct node *n, struct vfs *vfs, const char *snap_dir, struct store_error *e)
{
	return save(n, vfs, snap_dir, true, e);
}

int node_snapshot_save_unsynced(struct node *n, struct vfs *vfs, const char *snap_dir,
				char *path_out, size_t path_cap, struct store_error *e)
{
	char name[64];
	store_name(name, sizeof name, STORE_SNAP_PREFIX, n->st.last_applied_zxid);
	store_path(path_out, path_cap, snap_dir, name);
	return save(n, vfs, snap_dir, false, e);
}
