#include "request/reads.h"

#include <string.h>

#include "jute/proto.h"
#include "jute/records.h"
#include "tree/path.h"

bool reads_handles(int32_t op)
{
	switch (op) {
	case ZOP_EXISTS:
	case ZOP_GET_DATA:
	case ZOP_GET_ACL:
	case ZOP_GET_CHILDREN:
	case ZOP_GET_CHILDREN2:
	case ZOP_SYNC:
	case ZOP_CHECK_WATCHES:
	case ZOP_REMOVE_WATCHES:
	case ZOP_MULTI_READ:
	case ZOP_SET_WATCHES:
	case ZOP_SET_WATCHES2:
	case ZOP_GET_EPHEMERALS:
	case ZOP_GET_ALL_CHILDREN_NUMBER:
	case ZOP_ADD_WATCH:
	case ZOP_WHO_AM_I:
		return true;
	default:
		return false;
	}
}

static bool can(struct zstate *s, const struct caller *c, const struct znode *z, int32_t perm)
{
	return acl_check(&s->tree.acls, z->acl_ref, perm, c->ids, c->n_ids, s->cfg->skip_acl);
}

static void put_stat(struct zstate *s, struct buf *b, const struct znode *z)
{
	struct jr_stat st;
	tree_fill_stat(&s->tree, z, &st);
	jr_stat_encode(b, &st);
}

static const char *bpath(struct jute_bytes p, size_t *n)
{
	*n = (size_t)(p.len > 0 ? p.len : 0);
	return (const char *)p.data;
}

static int do_exists(struct zstate *s, const struct caller *c, struct jute_reader *r, struct buf *reply)
{
	struct jr_exists_request q;
	if (jr_exists_request_decode(r, &q) || q.path.len < 0)
		return ZMARSHALLINGERROR;
	size_t n;
	const char *p = bpath(q.path, &n);
	if (path_has_nul(p, n))
		return ZBADARGUMENTS;
	struct znode *z = tree_get(&s->tree, p, n);
	if (q.watch && c->conn)
		watch_add(&s->watches, WATCH_DATA, p, n, c->conn, WATCH_STANDARD);
	if (!z)
		return ZNONODE;
	put_stat(s, reply, z);
	return 0;
}

static int do_get_data(struct zstate *s, const struct caller *c, struct jute_reader *r, struct buf *reply,
		       bool allow_watch)
{
	struct jr_get_data_request q;
	if (jr_get_data_request_decode(r, &q) || q.path.len < 0)
		return ZMARSHALLINGERROR;
	size_t n;
	const char *p = bpath(q.path, &n);
	struct znode *z = tree_get(&s->tree, p, n);
	if (!z)
		return ZNONODE;
	if (!can(s, c, z, ZPERM_READ))
		return ZNOAUTH;
	if (q.watch && allow_watch && c->conn)
		watch_add(&s->watches, WATCH_DATA, p, n, c->conn, WATCH_STANDARD);
	jute_put_buffer(reply, (struct jute_bytes){znode_data(z), z->data_len});
	put_stat(s, reply, z);
	return 0;
}

static int do_get_children(struct zstate *s, const struct caller *c, struct jute_reader *r,
			   struct buf *reply, bool with_stat, bool allow_watch)
{
	struct jr_get_children_request q;
	if (jr_get_children_request_decode(r, &q) || q.path.len < 0)
		return ZMARSHALLINGERROR;
	size_t n;
	const char *p = bpath(q.path, &n);
	struct znode *z = tree_get(&s->tree, p, n);
	if (!z)
		return ZNONODE;
	if (!can(s, c, z, ZPERM_READ))
		return ZNOAUTH;
	if (q.watch && allow_watch && c->conn)
		watch_add(&s->watches, WATCH_CHILD, p, n, c->conn, WATCH_STANDARD);
	jute_put_int(reply, (int32_t)z->n_children);
	for (uint32_t i = 0; i < z->n_children; i++) {
		const struct znode *ch = z->children[i];
		size_t nl;
		const char *name = znode_name(ch, &nl);
		jute_put_strn(reply, name, nl);
	}
	if (with_stat)
		put_stat(s, reply, z);
	return 0;
}

static int do_get_acl(struct zstate *s, const struct caller *c, struct jute_reader *r, struct buf *reply)
{
	struct jr_get_acl_request q;
	if (jr_get_acl_request_decode(r, &q) || q.path.len < 0)
		return ZMARSHALLINGERROR;
	size_t n;
	const char *p = bpath(q.path, &n);
	struct znode *z = tree_get(&s->tree, p, n);
	if (!z)
		return ZNONODE;
	if (!can(s, c, z, ZPERM_READ | ZPERM_ADMIN))
		return ZNOAUTH;
	bool admin = can(s, c, z, ZPERM_ADMIN);
	const struct acl_list *l = acl_cache_get(&s->tree.acls, z->acl_ref);
	if (!l) {
		jute_put_int(reply, 1);
		jute_put_int(reply, ZPERM_ALL);
		jute_put_cstr(reply, "world");
		jute_put_cstr(reply, "anyone");
	} else {
		jute_put_int(reply, l->count);
		for (int32_t i = 0; i < l->count; i++) {
			jute_put_int(reply, l->items[i].perms);
			jute_put_cstr(reply, l->items[i].scheme);
			const char *id = l->items[i].id;
			const char *colon = strchr(id, ':');
			if (!admin && strcmp(l->items[i].scheme, "digest") == 0 && colon) {
				/* digest ids are masked for callers without ADMIN */
				size_t ul = (size_t)(colon - id);
				char masked[512];
				if (ul > sizeof masked - 3)
					ul = sizeof masked - 3;
				memcpy(masked, id, ul);
				memcpy(masked + ul, ":x", 2);
				jute_put_strn(reply, masked, ul + 2);
			} else {
				jute_put_cstr(reply, id);
			}
		}
	}
	put_stat(s, reply, z);
	return 0;
}

static int do_all_children_number(struct zstate *s, const struct caller *c, struct jute_reader *r,
				  struct buf *reply)
{
	struct jr_get_all_children_number_request q;
	if (jr_get_all_children_number_request_decode(r, &q) || q.path.len < 0)
		return ZMARSHALLINGERROR;
	size_t n;
	const char *p = bpath(q.path, &n);
	struct znode *z = tree_get(&s->tree, p, n);
	if (!z)
		return ZNONODE;
	if (!can(s, c, z, ZPERM_READ))
		return ZNOAUTH;
	int64_t total = tree_descendants(z);
	/* Java counts map keys starting with path + "/": for the "" alias of
	 * the root that includes the "/" key itself */
	if (n == 0)
		total++;
	jute_put_int(reply, (int32_t)total);
	return 0;
}

static int do_get_ephemerals(struct zstate *s, const struct caller *c, struct jute_reader *r,
			     struct buf *reply)
{
	struct jr_get_ephemerals_request q;
	if (jr_get_ephemerals_request_decode(r, &q))
		return ZMARSHALLINGERROR;
	size_t n;
	const char *p = bpath(q.prefix_path, &n);
	bool all = q.prefix_path.len <= 0 || (n == 1 && p[0] == '/');
	const struct eph_list *l = tree_ephemerals(&s->tree, c->session_id);
	size_t count_at = reply->len;
	jute_put_int(reply, 0);
	int32_t k = 0;
	for (uint32_t i = 0; l && i < l->count; i++) {
		const struct znode *z = l->items[i];
		if (!all && (z->path_len < n || memcmp(z->path, p, n) != 0))
			continue;
		jute_put_strn(reply, z->path, z->path_len);
		k++;
	}
	buf_set_be32(reply, count_at, (uint32_t)k);
	return 0;
}

static int watch_type_ok(int32_t t)
{
	return t == ZWT_CHILDREN || t == ZWT_DATA || t == ZWT_ANY;
}

static int do_check_or_remove_watches(struct zstate *s, const struct caller *c, struct jute_reader *r,
				      bool remove)
{
	struct jr_check_watches_request q;
	if (jr_check_watches_request_decode(r, &q) || !watch_type_ok(q.type))
		return ZMARSHALLINGERROR;
	if (q.path.len < 0)
		return ZNOWATCHER;  /* Java looks up null and finds nothing */
	size_t n;
	const char *p = bpath(q.path, &n);
	bool found = false;
	if (q.type == ZWT_DATA || q.type == ZWT_ANY)
		found |= remove ? watch_remove(&s->watches, WATCH_DATA, p, n, c->conn)
				: watch_has(&s->watches, WATCH_DATA, p, n, c->conn);
	if (q.type == ZWT_CHILDREN || q.type == ZWT_ANY)
		found |= remove ? watch_remove(&s->watches, WATCH_CHILD, p, n, c->conn)
				: watch_has(&s->watches, WATCH_CHILD, p, n, c->conn);
	return found ? 0 : ZNOWATCHER;
}

static int do_add_watch(struct zstate *s, const struct caller *c, struct jute_reader *r, struct buf *reply)
{
	struct jr_add_watch_request q;
	if (jr_add_watch_request_decode(r, &q))
		return ZMARSHALLINGERROR;
	if (q.mode != ZAW_PERSISTENT && q.mode != ZAW_PERSISTENT_RECURSIVE)
		return ZMARSHALLINGERROR;
	if (q.path.len < 0) {
		/* Java registers a watch on a null path, which nothing can fire,
		 * once per connection; the next attempt fails inside its watch
		 * manager with MarshallingError */
		if (!c->null_watch || *c->null_watch)
			return ZMARSHALLINGERROR;
		*c->null_watch = true;
		jute_put_int(reply, 0);
		return 0;
	}
	size_t n;
	const char *p = bpath(q.path, &n);
	enum watch_mode m = q.mode == ZAW_PERSISTENT ? WATCH_PERSISTENT : WATCH_RECURSIVE;
	if (c->conn) {
		watch_add(&s->watches, WATCH_DATA, p, n, c->conn, m);
		watch_add(&s->watches, WATCH_CHILD, p, n, c->conn, m);
	}
	jute_put_int(reply, 0);
	return 0;
}

/* A null path in the data, exist or child list makes Java's getNode(null)
 * throw: MarshallingError, with the entries before it already done. A data
 * watch compares mzxid, a child watch pzxid, with the client's last zxid. */
static int rearm_changed(struct zstate *s, const struct caller *c, struct jute_bytes b, int64_t rel,
			 enum watch_table t)
{
	if (b.len < 0)
		return ZMARSHALLINGERROR;
	size_t n;
	const char *p = bpath(b, &n);
	struct znode *z = tree_get(&s->tree, p, n);
	if (!z)
		s->notify(s->notify_arg, c->conn, ZEV_NODE_DELETED, p, n, NOTIFY_UNFILTERED);
	else if ((t == WATCH_DATA ? z->mzxid : z->pzxid) > rel)
		s->notify(s->notify_arg, c->conn,
			  t == WATCH_DATA ? ZEV_NODE_DATA_CHANGED : ZEV_NODE_CHILDREN_CHANGED, p, n,
			  NOTIFY_UNFILTERED);
	else
		watch_add(&s->watches, t, p, n, c->conn, WATCH_STANDARD);
	return 0;
}

static int rearm_exist(struct zstate *s, const struct caller *c, struct jute_bytes b)
{
	if (b.len < 0)
		return ZMARSHALLINGERROR;
	size_t n;
	const char *p = bpath(b, &n);
	if (tree_get(&s->tree, p, n))
		s->notify(s->notify_arg, c->conn, ZEV_NODE_CREATED, p, n, NOTIFY_UNFILTERED);
	else
		watch_add(&s->watches, WATCH_DATA, p, n, c->conn, WATCH_STANDARD);
	return 0;
}

/* Persistent (recursive) entries: a null path is Java's null-path watch,
 * accepted once per connection as for addWatch (checked on Java 3.8). */
static int rearm_persistent(struct zstate *s, const struct caller *c, struct jute_bytes b, enum watch_mode m)
{
	if (b.len < 0) {
		if (!c->null_watch || *c->null_watch)
			return ZMARSHALLINGERROR;
		*c->null_watch = true;
		return 0;
	}
	size_t n;
	const char *p = bpath(b, &n);
	watch_add(&s->watches, WATCH_DATA, p, n, c->conn, m);
	watch_add(&s->watches, WATCH_CHILD, p, n, c->conn, m);
	return 0;
}

static int do_set_watches(struct zstate *s, const struct caller *c, struct jute_reader *r, bool v2)
{
	struct jr_set_watches2 q;
	memset(&q, 0, sizeof q);
	if (v2) {
		if (jr_set_watches2_decode(r, &q))
			return ZMARSHALLINGERROR;
	} else {
		struct jr_set_watches w;
		if (jr_set_watches_decode(r, &w))
			return ZMARSHALLINGERROR;
		q.relative_zxid = w.relative_zxid;
		q.data_watches.count = w.data_watches.count;
		q.data_watches.items = w.data_watches.items;
		q.exist_watches.count = w.exist_watches.count;
		q.exist_watches.items = w.exist_watches.items;
		q.child_watches.count = w.child_watches.count;
		q.child_watches.items = w.child_watches.items;
	}
	if (!c->conn)
		return 0;
	int err = 0;
	for (int32_t i = 0; !err && i < q.data_watches.count; i++)
		err = rearm_changed(s, c, q.data_watches.items[i], q.relative_zxid, WATCH_DATA);
	for (int32_t i = 0; !err && i < q.exist_watches.count; i++)
		err = rearm_exist(s, c, q.exist_watches.items[i]);
	for (int32_t i = 0; !err && i < q.child_watches.count; i++)
		err = rearm_changed(s, c, q.child_watches.items[i], q.relative_zxid, WATCH_CHILD);
	for (int32_t i = 0; !err && i < q.persistent_watches.count; i++)
		err = rearm_persistent(s, c, q.persistent_watches.items[i], WATCH_PERSISTENT);
	for (int32_t i = 0; !err && i < q.persistent_recursive_watches.count; i++)
		err = rearm_persistent(s, c, q.persistent_recursive_watches.items[i], WATCH_RECURSIVE);
	return err;
}

static int do_multi_read(struct zstate *s, const struct caller *c, struct jute_reader *r, struct buf *reply)
{
	size_t start = reply->len;
	for (;;) {
		struct jr_multi_header h;
		if (jr_multi_header_decode(r, &h))
			goto bad;
		if (h.done)
			break;
		if (h.type != ZOP_GET_DATA && h.type != ZOP_GET_CHILDREN)
			goto bad;
		size_t mark = reply->len;
		struct jr_multi_header rh = {h.type, false, 0};
		jr_multi_header_encode(reply, &rh);
		int err = h.type == ZOP_GET_DATA ? do_get_data(s, c, r, reply, false)
						 : do_get_children(s, c, r, reply, false, false);
		if (err == ZMARSHALLINGERROR)
			goto bad;
		if (err) {
			reply->len = mark;
			struct jr_multi_header eh = {ZOP_ERROR, false, err};
			jr_multi_header_encode(reply, &eh);
			jute_put_int(reply, err);
		}
	}
	struct jr_multi_header end = {-1, true, -1};
	jr_multi_header_encode(reply, &end);
	return 0;
bad:
	reply->len = start;
	return ZMARSHALLINGERROR;
}

static int do_who_am_i(const struct caller *c, struct buf *reply)
{
	jute_put_int(reply, (int32_t)c->n_ids);
	for (size_t i = 0; i < c->n_ids; i++) {
		jute_put_cstr(reply, c->ids[i].scheme);
		const char *id = c->ids[i].id;
		const char *colon = strcmp(c->ids[i].scheme, "digest") == 0 ? strchr(id, ':') : NULL;
		if (colon)
			jute_put_strn(reply, id, (size_t)(colon - id));
		else
			jute_put_cstr(reply, id);
	}
	return 0;
}

int reads_execute(struct zstate *s, const struct caller *c, int32_t op, const uint8_t *body, size_t len,
		  struct buf *reply)
{
	struct jute_reader r;
	jute_reader_init(&r, body, len, s->cfg->max_buffer + s->cfg->max_buffer_extra, &s->scratch);
	size_t mark = reply->len;
	int err;
	switch (op) {
	case ZOP_EXISTS: err = do_exists(s, c, &r, reply); break;
	case ZOP_GET_DATA: err = do_get_data(s, c, &r, reply, true); break;
	case ZOP_GET_ACL: err = do_get_acl(s, c, &r, reply); break;
	case ZOP_GET_CHILDREN: err = do_get_children(s, c, &r, reply, false, true); break;
	case ZOP_GET_CHILDREN2: err = do_get_children(s, c, &r, reply, true, true); break;
	case ZOP_GET_ALL_CHILDREN_NUMBER: err = do_all_children_number(s, c, &r, reply); break;
	case ZOP_GET_EPHEMERALS: err = do_get_ephemerals(s, c, &r, reply); break;
	case ZOP_CHECK_WATCHES: err = do_check_or_remove_watches(s, c, &r, false); break;
	case ZOP_REMOVE_WATCHES: err = do_check_or_remove_watches(s, c, &r, true); break;
	case ZOP_ADD_WATCH: err = do_add_watch(s, c, &r, reply); break;
	case ZOP_SET_WATCHES: err = do_set_watches(s, c, &r, false); break;
	case ZOP_SET_WATCHES2: err = do_set_watches(s, c, &r, true); break;
	case ZOP_MULTI_READ: err = do_multi_read(s, c, &r, reply); break;
	case ZOP_WHO_AM_I: err = do_who_am_i(c, reply); break;
	case ZOP_SYNC: {
		struct jr_sync_request q;
		if (jr_sync_request_decode(&r, &q)) {
			err = ZMARSHALLINGERROR;
			break;
		}
		jute_put_buffer(reply, q.path);
		err = 0;
		break;
	}
	default: err = ZUNIMPLEMENTED; break;
	}
	if (err)
		reply->len = mark;
	arena_reset(&s->scratch);
	return err;
}
