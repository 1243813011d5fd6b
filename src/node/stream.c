/* stream.c: the node's state as the snapshot stream a ZAB leader sends
 * after SNAP (zookeeper-protocol.md §5.4.5) — the body of a snapshot file
 * without header, seals or digest trailer:
 *   int count, {long session, int timeout}*      sessions
 *   int count, {long ref, vector<ACL>}*           ACL cache
 *   {ustring path, buffer data, long acl, StatPersisted}*  pre-order, root ""
 *   ustring "/"                                    end of nodes
 * The SNAP signature ("BenWasHere") is the transport's. Restoring reuses the
 * snapshot-file callbacks of restore.c, so both paths build the same tree. */
#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "base/zalloc.h"
#include "jute/records.h"
#include "node/internal.h"
#include "node/restore.h"
#include "tree/acl.h"

static void put_subtree(struct buf *b, const struct znode *z)
{
	bool root = z->path_len == 1 && z->path[0] == '/';
	jute_put_ustring(b, (struct jute_bytes){(const uint8_t *)z->path, root ? 0 : (int32_t)z->path_len});
	jute_put_buffer(b, (struct jute_bytes){znode_data(z), z->data_len});
	jute_put_long(b, z->acl_ref);
	struct jr_stat_persisted st = {z->czxid, z->mzxid, z->ctime, z->mtime, z->version,
				       z->cversion, z->aversion, z->ephemeral_owner, z->pzxid};
	jr_stat_persisted_encode(b, &st);
	for (uint32_t i = 0; i < z->n_children; i++)
		put_subtree(b, z->children[i]);
}

void node_snapshot_stream(struct node *n, struct buf *out)
{
	struct zstate *s = &n->st;
	jute_put_int(out, (int32_t)s->sessions.by_id.count);
	size_t pos = 0;
	struct u64map_slot *sl;
	while ((sl = u64map_next(&s->sessions.by_id, &pos))) {
		const struct session *se = sl->value;
		jute_put_long(out, se->id);
		jute_put_int(out, se->timeout_ms);
	}
	jute_put_int(out, (int32_t)s->tree.acls.by_ref.count);
	pos = 0;
	while ((sl = u64map_next(&s->tree.acls.by_ref, &pos))) {
		const struct acl_list *l = sl->value;
		jute_put_long(out, l->ref);
		jute_put_int(out, l->count);
		for (int32_t i = 0; i < l->count; i++) {
			struct jr_acl a = {l->items[i].perms,
					   {JUTE_STR(l->items[i].scheme), JUTE_STR(l->items[i].id)}};
			jr_acl_encode(out, &a);
		}
	}
	put_subtree(out, s->tree.root);
	jute_put_cstr(out, "/");
}

static int read_acls(struct jute_reader *r, const struct recover_callbacks *cb, struct node_restore *nr)
{
	int32_t count = jute_get_count(r, 12);
	for (int32_t i = 0; i < count && r->err == JUTE_OK; i++) {
		int64_t ref = jute_get_long(r);
		int32_t k = jute_get_count(r, 12);
		struct jr_acl *items = jute_alloc_vec(r, k, sizeof(*items));
		for (int32_t j = 0; j < k && r->err == JUTE_OK; j++)
			jr_acl_decode(r, &items[j]);
		if (r->err != JUTE_OK || cb->snap.on_acl(nr, ref, items, k > 0 ? k : 0))
			return -1;
		arena_reset(r->arena);
	}
	return r->err == JUTE_OK && count >= 0 ? 0 : -1;
}

static int read_stream(struct jute_reader *r, struct node_restore *nr)
{
	struct recover_callbacks cb;
	node_restore_callbacks(&cb);
	int32_t count = jute_get_count(r, 12);
	for (int32_t i = 0; i < count && r->err == JUTE_OK; i++) {
		int64_t id = jute_get_long(r);
		int32_t to = jute_get_int(r);
		if (r->err == JUTE_OK && cb.snap.on_session(nr, id, to))
			return -1;
	}
	if (r->err != JUTE_OK || count < 0 || read_acls(r, &cb, nr))
		return -1;
	for (;;) {
		struct snapshot_node sn;
		sn.path = jute_get_ustring(r);
		if (r->err != JUTE_OK)
			return -1;
		if (sn.path.len == 1 && sn.path.data[0] == '/')
			break;
		sn.data = jute_get_buffer(r);
		sn.acl_ref = jute_get_long(r);
		if (jr_stat_persisted_decode(r, &sn.stat) || r->err != JUTE_OK || sn.path.len < 0)
			return -1;
		if (cb.snap.on_node(nr, &sn))
			return -1;
	}
	return 0;
}

int node_restore_stream(struct node *n, int64_t zxid, const uint8_t *p, size_t len, int64_t now_ms)
{
	struct zstate *s = &n->st;
	/* start from nothing: no sessions, the fresh tree */
	pending_free(&s->pending, &s->tree);
	pending_init(&s->pending);
	tree_free(&s->tree);
	tree_init(&s->tree, s->cfg->ttl_enabled);
	session_table_free(&s->sessions);
	session_table_init(&s->sessions, s->cfg->tick_ms, s->cfg->server_id, now_ms);
	watch_free(&s->watches);
	watch_init(&s->watches);
	s->last_applied_zxid = s->last_prepared_zxid = zxid;
	if (len == 0)
		return 0;
	struct node_restore nr = {.n = n, .now_ms = now_ms};
	struct arena a;
	arena_init(&a);
	struct jute_reader r;
	jute_reader_init(&r, p, len, n->cfg.max_buffer + n->cfg.max_buffer_extra, &a);
	int rc = read_stream(&r, &nr);
	arena_free(&a);
	if (rc == 0 && (!s->tree.root || !tree_get(&s->tree, "/zookeeper", 10)))
		rc = -1;
	if (rc != 0) {
		tree_free(&s->tree);
		tree_init(&s->tree, s->cfg->ttl_enabled);
		session_table_free(&s->sessions);
		session_table_init(&s->sessions, s->cfg->tick_ms, s->cfg->server_id, now_ms);
	}
	return rc;
}
