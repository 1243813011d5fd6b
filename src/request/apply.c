#include "request/apply.h"

#include <string.h>

#include "jute/proto.h"
#include "tree/path.h"

static void fire(struct zstate *s, int32_t type, const char *path, size_t len, const struct watch_hits *h,
		 int64_t acl_ref)
{
	for (size_t i = 0; i < h->count; i++)
		s->notify(s->notify_arg, h->conns[i], type, path, len, acl_ref);
}

static int64_t parent_acl(struct zstate *s, const char *p, size_t pl)
{
	struct znode *parent = tree_get(&s->tree, p, pl);
	return parent ? parent->acl_ref : ACL_REF_OPEN;
}

static void trigger_created(struct zstate *s, const struct znode *z)
{
	const char *p = z->path;
	size_t n = z->path_len;
	watch_hits_reset(&s->hits);
	watch_trigger(&s->watches, WATCH_DATA, p, n, false, &s->hits, NULL);
	fire(s, ZEV_NODE_CREATED, p, n, &s->hits, z->acl_ref);
	size_t pl = path_parent_len(p, n);
	watch_hits_reset(&s->hits);
	watch_trigger(&s->watches, WATCH_CHILD, p, pl, true, &s->hits, NULL);
	fire(s, ZEV_NODE_CHILDREN_CHANGED, p, pl, &s->hits, parent_acl(s, p, pl));
}

/* `acl_ref` is the deleted node's ACL, kept alive by the caller. */
static void trigger_deleted(struct zstate *s, const char *p, size_t n, int64_t acl_ref)
{
	watch_hits_reset(&s->hits);
	watch_trigger(&s->watches, WATCH_DATA, p, n, false, &s->hits, NULL);
	watch_hits_reset(&s->hits2);
	watch_trigger(&s->watches, WATCH_CHILD, p, n, false, &s->hits2, &s->hits);
	fire(s, ZEV_NODE_DELETED, p, n, &s->hits, acl_ref);
	fire(s, ZEV_NODE_DELETED, p, n, &s->hits2, acl_ref);
	size_t pl = path_parent_len(p, n);
	watch_hits_reset(&s->hits);
	watch_trigger(&s->watches, WATCH_CHILD, p, pl, true, &s->hits, NULL);
	fire(s, ZEV_NODE_CHILDREN_CHANGED, p, pl, &s->hits, parent_acl(s, p, pl));
}

static void put_stat(struct zstate *s, struct buf *reply, const struct znode *z)
{
	struct jr_stat st;
	tree_fill_stat(&s->tree, z, &st);
	jr_stat_encode(reply, &st);
}

struct create_fields {
	struct jute_bytes path, data;
	const struct jr_acl *acl;
	int32_t n_acl;
	int32_t parent_cversion;
	int64_t owner;
};

static int decode_create_txn(struct zstate *s, int32_t type, int64_t client, struct jute_reader *r,
			     struct create_fields *f)
{
	if (type == ZOP_CREATE_CONTAINER) {
		struct jr_create_container_txn t;
		if (jr_create_container_txn_decode(r, &t))
			return -1;
		*f = (struct create_fields){t.path, t.data, t.acl.items, t.acl.count, t.parent_c_version,
					    ZK_CONTAINER_OWNER};
	} else if (type == ZOP_CREATE_TTL) {
		struct jr_create_ttl_txn t;
		if (jr_create_ttl_txn_decode(r, &t))
			return -1;
		*f = (struct create_fields){t.path, t.data, t.acl.items, t.acl.count, t.parent_c_version,
					    tree_ttl_owner(t.ttl)};
	} else {
		/* CreateTxn, or the old CreateTxnV0 without parentCVersion (§6.3) */
		size_t start = r->pos;
		struct jr_create_txn t;
		if (jr_create_txn_decode(r, &t)) {
			r->pos = start;
			r->err = JUTE_OK;
			struct jr_create_txn_v0 v0;
			if (jr_create_txn_v0_decode(r, &v0))
				return -1;
			t.path = v0.path;
			t.data = v0.data;
			t.acl.items = v0.acl.items;
			t.acl.count = v0.acl.count;
			t.ephemeral = v0.ephemeral;
			t.parent_c_version = -1;
		}
		*f = (struct create_fields){t.path, t.data, t.acl.items, t.acl.count, t.parent_c_version,
					    t.ephemeral ? client : 0};
	}
	(void)s;
	return f->path.len < 0 ? -1 : 0;
}

/* Returns the new node or NULL (with *err) when the txn no longer fits. */
static struct znode *do_create(struct zstate *s, const struct jr_txn_header *h, int32_t type,
			       struct jute_reader *r, int *err)
{
	struct create_fields f;
	if (decode_create_txn(s, type, h->client_id, r, &f)) {
		*err = ZMARSHALLINGERROR;
		return NULL;
	}
	const char *p = (const char *)f.path.data;
	size_t n = (size_t)f.path.len;
	/* prep only logs valid paths; one like "//a" or "/a\0b" would become a
	 * node whose path is not its parent's path plus its name */
	if (n == 1 || !path_is_valid(p, n)) {
		*err = ZBADARGUMENTS;
		return NULL;
	}
	struct znode *parent = tree_get(&s->tree, p, path_parent_len(p, n));
	if (!parent) {
		*err = ZNONODE;
		return NULL;
	}
	if (tree_get(&s->tree, p, n)) {
		*err = ZNODEEXISTS;
		return NULL;
	}
	int32_t pcv = f.parent_cversion == -1 ? (int32_t)((uint32_t)parent->cversion + 1u) : f.parent_cversion;
	int64_t ref = f.n_acl > 0 ? acl_cache_intern(&s->tree.acls, f.acl, f.n_acl) : ACL_REF_OPEN;
	struct znode *z = tree_create(&s->tree, p, n, f.data, ref, f.owner, pcv, h->zxid, h->time);
	if (ref != ACL_REF_OPEN)
		acl_cache_release(&s->tree.acls, ref);
	trigger_created(s, z);
	*err = 0;
	return z;
}

static int do_delete_path(struct zstate *s, const char *p, size_t n, int64_t zxid)
{
	struct znode *z = tree_get(&s->tree, p, n);
	if (!z || z == s->tree.root)
		return ZNONODE;
	if (z->n_children > 0)
		return ZNOTEMPTY;
	/* copy the path: the node is freed by the delete */
	char *copy = arena_alloc(&s->scratch, n);
	memcpy(copy, p, n);
	int64_t acl_ref = z->acl_ref;
	if (acl_ref != ACL_REF_OPEN)
		acl_cache_addref(&s->tree.acls, acl_ref);
	tree_delete(&s->tree, z, zxid);
	trigger_deleted(s, copy, n, acl_ref);
	if (acl_ref != ACL_REF_OPEN)
		acl_cache_release(&s->tree.acls, acl_ref);
	return 0;
}

static int do_delete(struct zstate *s, const struct jr_txn_header *h, struct jute_reader *r)
{
	struct jr_delete_txn t;
	if (jr_delete_txn_decode(r, &t) || t.path.len < 0)
		return ZMARSHALLINGERROR;
	return do_delete_path(s, (const char *)t.path.data, (size_t)t.path.len, h->zxid);
}

static struct znode *do_set_data(struct zstate *s, const struct jr_txn_header *h, struct jute_reader *r,
				 int *err)
{
	struct jr_set_data_txn t;
	if (jr_set_data_txn_decode(r, &t) || t.path.len < 0) {
		*err = ZMARSHALLINGERROR;
		return NULL;
	}
	struct znode *z = tree_get(&s->tree, (const char *)t.path.data, (size_t)t.path.len);
	if (!z) {
		*err = ZNONODE;
		return NULL;
	}
	tree_set_data(&s->tree, z, t.data, t.version, h->zxid, h->time);
	watch_hits_reset(&s->hits);
	watch_trigger(&s->watches, WATCH_DATA, z->path, z->path_len, false, &s->hits, NULL);
	fire(s, ZEV_NODE_DATA_CHANGED, z->path, z->path_len, &s->hits, z->acl_ref);
	*err = 0;
	return z;
}

static struct znode *do_set_acl(struct zstate *s, struct jute_reader *r, int *err)
{
	struct jr_set_acl_txn t;
	if (jr_set_acl_txn_decode(r, &t) || t.path.len < 0) {
		*err = ZMARSHALLINGERROR;
		return NULL;
	}
	struct znode *z = tree_get(&s->tree, (const char *)t.path.data, (size_t)t.path.len);
	if (!z) {
		*err = ZNONODE;
		return NULL;
	}
	int64_t ref = t.acl.count > 0 ? acl_cache_intern(&s->tree.acls, t.acl.items, t.acl.count) : ACL_REF_OPEN;
	tree_set_acl(&s->tree, z, ref, t.version);
	if (ref != ACL_REF_OPEN)
		acl_cache_release(&s->tree.acls, ref);
	*err = 0;
	return z;
}

static void do_close_session(struct zstate *s, const struct jr_txn_header *h, struct jute_reader *r)
{
	struct jr_close_session_txn t;
	/* before 3.6 the txn had no record: then only the owned nodes go */
	if (jute_remaining(r) >= 4 && jr_close_session_txn_decode(r, &t) == 0) {
		for (int32_t i = 0; i < t.paths2_delete.count; i++) {
			struct jute_bytes p = t.paths2_delete.items[i];
			if (p.len >= 0)  /* a null path (a corrupt log) names nothing */
				do_delete_path(s, (const char *)p.data, (size_t)p.len, h->zxid);
		}
	}
	const struct eph_list *l;
	while ((l = tree_ephemerals(&s->tree, h->client_id)) && l->count > 0) {
		struct znode *z = l->items[l->count - 1];
		if (do_delete_path(s, z->path, z->path_len, h->zxid) != 0)
			break;  /* cannot happen: ephemerals have no children */
	}
	session_remove(&s->sessions, h->client_id);
}

/* One sub-txn of a multi that is known to succeed as a whole. */
static void apply_sub(struct zstate *s, const struct jr_txn_header *h, const struct jr_txn *sub,
		      struct buf *reply)
{
	struct jute_reader r;
	jute_reader_init(&r, sub->data.data, (size_t)(sub->data.len > 0 ? sub->data.len : 0), INT32_MAX,
			 &s->scratch);
	int err = 0;
	struct znode *z = NULL;
	int32_t rtype = sub->type;
	switch (sub->type) {
	case ZOP_CREATE:
	case ZOP_CREATE2:
	case ZOP_CREATE_CONTAINER:
	case ZOP_CREATE_TTL:
		z = do_create(s, h, sub->type, &r, &err);
		rtype = sub->type == ZOP_CREATE ? ZOP_CREATE : ZOP_CREATE2;
		break;
	case ZOP_DELETE:
	case ZOP_DELETE_CONTAINER:
		err = do_delete(s, h, &r);
		rtype = ZOP_DELETE;
		break;
	case ZOP_SET_DATA:
		z = do_set_data(s, h, &r, &err);
		break;
	case ZOP_CHECK:
		break;
	default:
		err = ZMARSHALLINGERROR;
		break;
	}
	if (!reply)
		return;
	struct jr_multi_header mh = {err ? ZOP_ERROR : rtype, false, err};
	jr_multi_header_encode(reply, &mh);
	if (err) {
		jute_put_int(reply, err);
		return;
	}
	if (rtype == ZOP_CREATE || rtype == ZOP_CREATE2)
		jute_put_strn(reply, z->path, z->path_len);
	if (rtype == ZOP_CREATE2 || rtype == ZOP_SET_DATA)
		put_stat(s, reply, z);
}

static void do_multi(struct zstate *s, const struct jr_txn_header *h, struct jute_reader *r,
		     struct buf *reply)
{
	struct jr_multi_txn m;
	if (jr_multi_txn_decode(r, &m))
		m.txns.count = 0;
	int32_t first_err = -1;
	for (int32_t i = 0; i < m.txns.count; i++)
		if (m.txns.items[i].type == ZOP_ERROR) {
			first_err = i;
			break;
		}
	if (first_err >= 0) {
		/* a failed multi applies nothing: results are 0 before the
		 * failing op, its code, then -2 (§3.6) */
		for (int32_t i = 0; reply && i < m.txns.count; i++) {
			int32_t code = 0;
			if (i == first_err) {
				const struct jr_txn *t = &m.txns.items[i];
				code = t->data.len >= 4 ? (int32_t)be32_get(t->data.data) : ZRUNTIMEINCONSISTENCY;
			} else if (i > first_err) {
				code = ZRUNTIMEINCONSISTENCY;
			}
			struct jr_multi_header mh = {ZOP_ERROR, false, code};
			jr_multi_header_encode(reply, &mh);
			jute_put_int(reply, code);
		}
	} else {
		for (int32_t i = 0; i < m.txns.count; i++)
			apply_sub(s, h, &m.txns.items[i], reply);
	}
	if (reply) {
		struct jr_multi_header end = {-1, true, -1};
		jr_multi_header_encode(reply, &end);
	}
}

static void reply_node(struct zstate *s, int32_t type, const struct znode *z, struct buf *reply)
{
	if (!reply || !z)
		return;
	if (type == ZOP_CREATE || type == ZOP_CREATE2 || type == ZOP_CREATE_CONTAINER || type == ZOP_CREATE_TTL)
		jute_put_strn(reply, z->path, z->path_len);
	if (type != ZOP_CREATE)
		put_stat(s, reply, z);
}

int apply_txn(struct zstate *s, const uint8_t *txn, size_t len, int64_t now_ms, struct buf *reply,
	      struct apply_result *res)
{
	struct jute_reader r;
	jute_reader_init(&r, txn, len, INT32_MAX, &s->scratch);
	memset(res, 0, sizeof(*res));
	if (jr_txn_header_decode(&r, &res->hdr))
		return -1;
	const struct jr_txn_header *h = &res->hdr;
	struct znode *z = NULL;
	int err = 0;
	switch (h->type) {
	case ZOP_CREATE_SESSION:
		res->session_timeout_ms = jute_get_int(&r);
		session_add(&s->sessions, h->client_id, res->session_timeout_ms, now_ms);
		break;
	case ZOP_CLOSE_SESSION:
		do_close_session(s, h, &r);
		break;
	case ZOP_CREATE:
	case ZOP_CREATE2:
	case ZOP_CREATE_CONTAINER:
	case ZOP_CREATE_TTL:
		z = do_create(s, h, h->type, &r, &err);
		break;
	case ZOP_DELETE:
	case ZOP_DELETE_CONTAINER:
		err = do_delete(s, h, &r);
		break;
	case ZOP_SET_DATA:
	case ZOP_RECONFIG:
		z = do_set_data(s, h, &r, &err);
		break;
	case ZOP_SET_ACL:
		z = do_set_acl(s, &r, &err);
		break;
	case ZOP_MULTI:
		do_multi(s, h, &r, reply);
		break;
	case ZOP_ERROR:
		err = jute_get_int(&r);
		break;
	case ZOP_CHECK:
	default:
		break;  /* nothing to change */
	}
	res->err = err;
	if (err == 0 && h->type != ZOP_MULTI)
		reply_node(s, h->type, z, reply);
	if (h->zxid > s->last_applied_zxid)
		s->last_applied_zxid = h->zxid;
	pending_applied(&s->pending, &s->tree, h->zxid);
	arena_reset(&s->scratch);
	return 0;
}
