#include "request/prep.h"

#include <string.h>

#include "base/zalloc.h"
#include "jute/proto.h"
#include "jute/records.h"
#include "tree/path.h"

void txn_put_header(struct buf *b, int64_t client_id, int32_t cxid, int64_t zxid, int64_t time_ms,
		    int32_t type)
{
	struct jr_txn_header h = {client_id, cxid, zxid, time_ms, type};
	jr_txn_header_encode(b, &h);
}

static void put_error_txn(struct buf *txn, size_t mark, int64_t client_id, int32_t cxid, int64_t zxid,
			  int64_t now_ms, int err)
{
	txn->len = mark;
	txn_put_header(txn, client_id, cxid, zxid, now_ms, ZOP_ERROR);
	jute_put_int(txn, err);
}

int prep_session_check(struct zstate *s, const struct caller *c)
{
	if (c->session_id == 0)
		return 0;  /* server-internal */
	struct session *se = session_get(&s->sessions, c->session_id);
	if (!se)
		return ZUNKNOWNSESSION;
	if (se->closing)
		return ZSESSIONEXPIRED;
	return 0;
}

static bool perm_ok(struct zstate *s, const struct caller *c, int64_t acl_ref, int32_t perm)
{
	return acl_check(&s->tree.acls, acl_ref, perm, c->ids, c->n_ids, s->cfg->skip_acl);
}

/* True if the caller holds an id whose provider "authenticates" (digest). */
static bool is_authenticated_scheme(const char *scheme)
{
	return strcmp(scheme, "digest") == 0;
}

/* fixupACL (§2.8.4): dedupe, validate, expand `auth`. Returns 0 and an
 * interned ref with one reference held, or an error code. */
static int fixup_acl(struct zstate *s, const struct caller *c, const struct jr_acl *acl, int32_t count,
		     int64_t *ref)
{
	if (count <= 0)
		return ZINVALIDACL;
	struct jr_acl *out = arena_alloc(&s->scratch, sizeof(*out) * ((size_t)count * (c->n_ids + 1)));
	int32_t n = 0;
	for (int32_t i = 0; i < count; i++) {
		const struct jr_acl *a = &acl[i];
		bool dup = false;
		for (int32_t j = 0; j < i && !dup; j++)
			dup = acl[j].perms == a->perms && jute_bytes_eq(acl[j].id.scheme, a->id.scheme) &&
			      jute_bytes_eq(acl[j].id.id, a->id.id);
		if (dup)
			continue;
		struct jute_bytes sch = a->id.scheme, id = a->id.id;
		if (sch.len < 0)
			return ZINVALIDACL;
		if (jute_bytes_eq_str(sch, "world")) {
			if (id.len < 0)
				return ZMARSHALLINGERROR;
			if (!jute_bytes_eq_str(id, "anyone"))
				return ZINVALIDACL;
			out[n++] = *a;
		} else if (jute_bytes_eq_str(sch, "auth")) {
			bool any = false;
			for (size_t k = 0; k < c->n_ids; k++) {
				if (!is_authenticated_scheme(c->ids[k].scheme))
					continue;
				out[n].perms = a->perms;
				out[n].id.scheme = JUTE_STR(c->ids[k].scheme);
				out[n].id.id = JUTE_STR(c->ids[k].id);
				n++;
				any = true;
			}
			if (!any)
				return ZINVALIDACL;
		} else if (jute_bytes_eq_str(sch, "digest") && s->cfg->digest_auth_enabled) {
			if (id.len < 0 || !acl_digest_valid((const char *)id.data, (size_t)id.len))
				return ZINVALIDACL;
			out[n++] = *a;
		} else if (jute_bytes_eq_str(sch, "ip")) {
			if (id.len < 0 || !acl_ip_valid((const char *)id.data, (size_t)id.len))
				return ZINVALIDACL;
			out[n++] = *a;
		} else {
			return ZINVALIDACL;
		}
	}
	*ref = acl_cache_intern(&s->tree.acls, out, n);
	return 0;
}

static void put_acl_of_ref(struct zstate *s, struct buf *rec, int64_t ref)
{
	const struct acl_list *l = acl_cache_get(&s->tree.acls, ref);
	if (!l) {
		/* OPEN_ACL_UNSAFE */
		jute_put_int(rec, 1);
		jute_put_int(rec, ZPERM_ALL);
		jute_put_cstr(rec, "world");
		jute_put_cstr(rec, "anyone");
		return;
	}
	jute_put_int(rec, l->count);
	for (int32_t i = 0; i < l->count; i++) {
		jute_put_int(rec, l->items[i].perms);
		jute_put_cstr(rec, l->items[i].scheme);
		jute_put_cstr(rec, l->items[i].id);
	}
}

static bool flags_valid(int32_t f)
{
	return f >= ZCF_PERSISTENT && f <= ZCF_PERSISTENT_SEQUENTIAL_WITH_TTL;
}

static bool flags_ttl(int32_t f)
{
	return f == ZCF_PERSISTENT_WITH_TTL || f == ZCF_PERSISTENT_SEQUENTIAL_WITH_TTL;
}

static bool flags_seq(int32_t f)
{
	return f == ZCF_PERSISTENT_SEQUENTIAL || f == ZCF_EPHEMERAL_SEQUENTIAL ||
	       f == ZCF_PERSISTENT_SEQUENTIAL_WITH_TTL;
}

static bool flags_ephemeral(int32_t f)
{
	return f == ZCF_EPHEMERAL || f == ZCF_EPHEMERAL_SEQUENTIAL;
}

/* The kind of node a create makes. Top level: the opcode decides (§2.4);
 * inside a multi: the flags decide (§2.5.2, as 3.8.0 does). */
static int32_t create_txn_type(int32_t op, int32_t flags, bool in_multi)
{
	if (in_multi) {
		if (flags == ZCF_CONTAINER)
			return ZOP_CREATE_CONTAINER;
		if (flags_ttl(flags))
			return ZOP_CREATE_TTL;
		return ZOP_CREATE;
	}
	return op;
}

struct create_args {
	struct jute_bytes path, data;
	const struct jr_acl *acl;
	int32_t n_acl;
	int32_t flags;
	int64_t ttl;
};

static int decode_create(struct jute_reader *r, int32_t op, struct create_args *a)
{
	if (op == ZOP_CREATE_TTL) {
		struct jr_create_ttl_request q;
		if (jr_create_ttl_request_decode(r, &q))
			return ZMARSHALLINGERROR;
		*a = (struct create_args){q.path, q.data, q.acl.items, q.acl.count, q.flags, q.ttl};
	} else {
		struct jr_create_request q;
		if (jr_create_request_decode(r, &q))
			return ZMARSHALLINGERROR;
		*a = (struct create_args){q.path, q.data, q.acl.items, q.acl.count, q.flags, -1};
	}
	return 0;
}

static int check_create_mode(struct zstate *s, int32_t op, const struct create_args *a, bool in_multi)
{
	if (!flags_valid(a->flags))
		return ZBADARGUMENTS;
	if (flags_ttl(a->flags) && !s->cfg->ttl_enabled)
		return ZUNIMPLEMENTED;
	if (flags_ttl(a->flags) && (a->ttl < 1 || a->ttl > ZK_TTL_MAX))
		return ZBADARGUMENTS;
	/* opcode 21 with non-TTL flags crashes Java 3.8; reject it (§3.2).
	 * Inside a multi the flags decide and Java drops the ttl of a non-TTL
	 * create (Op.create), so there it is a plain create. */
	if (op == ZOP_CREATE_TTL && !flags_ttl(a->flags) && !in_multi)
		return ZBADARGUMENTS;
	return 0;
}

int prep_create(struct zstate *s, const struct caller *c, int32_t op, struct jute_reader *r,
		int64_t zxid, struct buf *rec, int32_t *txn_type, bool in_multi)
{
	struct create_args a;
	int rc = decode_create(r, op, &a);
	if (rc)
		return rc;
	int32_t type = create_txn_type(op, a.flags, in_multi);
	*txn_type = type;
	if ((rc = check_create_mode(s, op, &a, in_multi)))
		return rc;
	if ((rc = prep_session_check(s, c)))
		return rc;
	if (a.path.len < 0)
		return ZMARSHALLINGERROR;
	const char *p = (const char *)a.path.data;
	size_t plen = (size_t)a.path.len;
	const char *last_slash = NULL;
	for (size_t i = plen; i-- > 0;)
		if (p[i] == '/') {
			last_slash = p + i;
			break;
		}
	if (!last_slash || path_has_nul(p, plen))
		return ZBADARGUMENTS;
	int64_t acl_ref;
	if ((rc = fixup_acl(s, c, a.acl, a.n_acl, &acl_ref)))
		return rc;
	size_t parent_len = (size_t)(last_slash - p);
	struct pview parent = pending_get(&s->pending, &s->tree, p, parent_len);
	if (!parent.exists) {
		rc = ZNONODE;
		goto out;
	}
	if (!perm_ok(s, c, parent.acl_ref, ZPERM_CREATE)) {
		rc = ZNOAUTH;
		goto out;
	}
	char *full = arena_alloc(&s->scratch, plen + 12);
	memcpy(full, p, plen);
	size_t flen = plen;
	if (flags_seq(a.flags))
		flen += path_seq_suffix(parent.cversion, full + plen);
	if (!path_is_valid(full, flen)) {
		rc = ZBADARGUMENTS;
		goto out;
	}
	if (pending_get(&s->pending, &s->tree, full, flen).exists) {
		rc = ZNODEEXISTS;
		goto out;
	}
	if (tree_owner_is_session(&s->tree, parent.owner)) {
		rc = ZNOCHILDRENFOREPHEMERALS;
		goto out;
	}
	int32_t new_cversion = (int32_t)((uint32_t)parent.cversion + 1u);
	int64_t owner = 0;
	if (type == ZOP_CREATE_CONTAINER)
		owner = ZK_CONTAINER_OWNER;
	else if (type == ZOP_CREATE_TTL)
		owner = tree_ttl_owner(a.ttl);
	else if (flags_ephemeral(a.flags))
		owner = c->session_id;
	/* the txn record */
	jute_put_strn(rec, full, flen);
	jute_put_buffer(rec, a.data);
	put_acl_of_ref(s, rec, acl_ref);
	if (type == ZOP_CREATE_CONTAINER) {
		jute_put_int(rec, new_cversion);
	} else if (type == ZOP_CREATE_TTL) {
		jute_put_int(rec, new_cversion);
		jute_put_long(rec, a.ttl);
	} else {
		jute_put_bool(rec, owner != 0);
		jute_put_int(rec, new_cversion);
	}
	/* the overlay: parent gains a child; the node exists. The overlay
	 * takes parentCVersion unconditionally, as Java's change record does
	 * (only the tree ignores a value that is not larger), so creates
	 * pipelined behind a saturated counter see INT32_MIN (§3.5). */
	struct pview pv = parent;
	pv.cversion = new_cversion;
	pv.num_children++;
	pending_set(&s->pending, &s->tree, p, parent_len, zxid, &pv);
	struct pview nv = {.exists = true, .owner = owner, .acl_ref = acl_ref};
	pending_set(&s->pending, &s->tree, full, flen, zxid, &nv);
	rc = 0;
out:
	acl_cache_release(&s->tree.acls, acl_ref);
	return rc;
}

int prep_delete(struct zstate *s, const struct caller *c, struct jute_reader *r, int64_t zxid,
		struct buf *rec)
{
	struct jr_delete_request q;
	if (jr_delete_request_decode(r, &q) || q.path.len < 0)
		return ZMARSHALLINGERROR;
	int rc = prep_session_check(s, c);
	if (rc)
		return rc;
	const char *p = (const char *)q.path.data;
	size_t plen = (size_t)q.path.len;
	if (!memchr(p, '/', plen) || path_has_nul(p, plen) || path_is_special(p, plen))
		return ZBADARGUMENTS;
	size_t parent_len = 0;
	for (size_t i = plen; i-- > 0;)
		if (p[i] == '/') {
			parent_len = i;
			break;
		}
	struct pview parent = pending_get(&s->pending, &s->tree, p, parent_len);
	if (!parent.exists)
		return ZNONODE;
	if (!perm_ok(s, c, parent.acl_ref, ZPERM_DELETE))
		return ZNOAUTH;
	struct pview node = pending_get(&s->pending, &s->tree, p, plen);
	if (!node.exists)
		return ZNONODE;
	if (q.version != -1 && q.version != node.version)
		return ZBADVERSION;
	if (node.num_children > 0)
		return ZNOTEMPTY;
	jute_put_strn(rec, p, plen);
	parent.num_children--;
	pending_set(&s->pending, &s->tree, p, parent_len, zxid, &parent);
	struct pview gone = {.exists = false, .acl_ref = ACL_REF_OPEN};
	pending_set(&s->pending, &s->tree, p, plen, zxid, &gone);
	return 0;
}

/* setData and check (§3.2): session, path, existence, permission and
 * version, in ZooKeeper's order; *node is the state they apply to. */
static int check_existing(struct zstate *s, const struct caller *c, struct jute_bytes path, int32_t perm,
			  int32_t version, struct pview *node)
{
	int rc = prep_session_check(s, c);
	if (rc)
		return rc;
	if (path.len < 0)
		return ZBADARGUMENTS; /* validatePath(null) throws IllegalArgumentException */
	const char *p = (const char *)path.data;
	size_t plen = (size_t)path.len;
	if (!path_is_valid(p, plen))
		return ZBADARGUMENTS;
	*node = pending_get(&s->pending, &s->tree, p, plen);
	if (!node->exists)
		return ZNONODE;
	if (!perm_ok(s, c, node->acl_ref, perm))
		return ZNOAUTH;
	if (version != -1 && version != node->version)
		return ZBADVERSION;
	return 0;
}

int prep_set_data(struct zstate *s, const struct caller *c, struct jute_reader *r, int64_t zxid,
		  struct buf *rec)
{
	struct jr_set_data_request q;
	if (jr_set_data_request_decode(r, &q))
		return ZMARSHALLINGERROR;
	struct pview node;
	int rc = check_existing(s, c, q.path, ZPERM_WRITE, q.version, &node);
	if (rc)
		return rc;
	const char *p = (const char *)q.path.data;
	size_t plen = (size_t)q.path.len;
	node.version = (int32_t)((uint32_t)node.version + 1u);
	jute_put_strn(rec, p, plen);
	jute_put_buffer(rec, q.data);
	jute_put_int(rec, node.version);
	pending_set(&s->pending, &s->tree, p, plen, zxid, &node);
	return 0;
}

static int prep_set_acl(struct zstate *s, const struct caller *c, struct jute_reader *r, int64_t zxid,
			struct buf *rec)
{
	struct jr_set_acl_request q;
	if (jr_set_acl_request_decode(r, &q))
		return ZMARSHALLINGERROR;
	int rc = prep_session_check(s, c);
	if (rc)
		return rc;
	if (q.path.len < 0)
		return ZBADARGUMENTS; /* validatePath(null) throws IllegalArgumentException */
	const char *p = (const char *)q.path.data;
	size_t plen = (size_t)q.path.len;
	if (!path_is_valid(p, plen))
		return ZBADARGUMENTS;
	int64_t acl_ref;
	if ((rc = fixup_acl(s, c, q.acl.items, q.acl.count, &acl_ref)))
		return rc;
	struct pview node = pending_get(&s->pending, &s->tree, p, plen);
	if (!node.exists)
		rc = ZNONODE;
	else if (!perm_ok(s, c, node.acl_ref, ZPERM_ADMIN))
		rc = ZNOAUTH;
	else if (q.version != -1 && q.version != node.aversion)
		rc = ZBADVERSION;
	if (rc == 0) {
		/* Java's pending record of a setACL keeps the old ACL (only the
		 * aversion changes), so a pipelined request is checked against
		 * the ACL the tree has until this txn is applied */
		node.aversion = (int32_t)((uint32_t)node.aversion + 1u);
		jute_put_strn(rec, p, plen);
		put_acl_of_ref(s, rec, acl_ref);
		jute_put_int(rec, node.aversion);
		pending_set(&s->pending, &s->tree, p, plen, zxid, &node);
	}
	acl_cache_release(&s->tree.acls, acl_ref);
	return rc;
}

int prep_check(struct zstate *s, const struct caller *c, struct jute_reader *r, int64_t zxid,
	       struct buf *rec)
{
	struct jr_check_version_request q;
	if (jr_check_version_request_decode(r, &q))
		return ZMARSHALLINGERROR;
	struct pview node;
	int rc = check_existing(s, c, q.path, ZPERM_READ, q.version, &node);
	if (rc)
		return rc;
	const char *p = (const char *)q.path.data;
	size_t plen = (size_t)q.path.len;
	(void)zxid;
	jute_put_strn(rec, p, plen);
	jute_put_int(rec, (int32_t)((uint32_t)node.version + 1u));
	return 0;
}

int64_t prep_write(struct zstate *s, const struct caller *c, int32_t cxid, int32_t op,
		   const uint8_t *body, size_t len, int64_t now_ms, struct buf *txn)
{
	int64_t zxid = ++s->last_prepared_zxid;
	size_t mark = txn->len;
	struct jute_reader r;
	jute_reader_init(&r, body, len, s->cfg->max_buffer + s->cfg->max_buffer_extra, &s->scratch);
	struct buf rec;
	buf_init(&rec);
	int32_t type = op;
	int rc;
	switch (op) {
	case ZOP_CREATE:
	case ZOP_CREATE2:
	case ZOP_CREATE_CONTAINER:
	case ZOP_CREATE_TTL:
		rc = prep_create(s, c, op, &r, zxid, &rec, &type, false);
		break;
	case ZOP_DELETE:
		rc = prep_delete(s, c, &r, zxid, &rec);
		break;
	case ZOP_SET_DATA:
		rc = prep_set_data(s, c, &r, zxid, &rec);
		break;
	case ZOP_SET_ACL:
		rc = prep_set_acl(s, c, &r, zxid, &rec);
		break;
	case ZOP_MULTI:
		rc = prep_multi(s, c, &r, zxid, &rec);
		break;
	case ZOP_RECONFIG:
		/* standalone: Unimplemented (§3.2); reconfig is decoded first and
		 * consumes no zxid when undecodable, but in standalone either way
		 * ZooKeeper answers through an error txn */
		rc = ZUNIMPLEMENTED;
		break;
	default:
		rc = ZUNIMPLEMENTED;
		break;
	}
	if (rc == PREP_NO_TXN) {
		zxid = 0;
	} else if (rc == 0) {
		txn_put_header(txn, c->session_id, cxid, zxid, now_ms, type);
		buf_put(txn, rec.data, rec.len);
	} else {
		put_error_txn(txn, mark, c->session_id, cxid, zxid, now_ms, rc);
	}
	buf_free(&rec);
	arena_reset(&s->scratch);
	return zxid;
}

int64_t prep_create_session(struct zstate *s, int64_t session_id, int32_t timeout_ms, int64_t now_ms,
			    struct buf *txn)
{
	int64_t zxid = ++s->last_prepared_zxid;
	txn_put_header(txn, session_id, 0, zxid, now_ms, ZOP_CREATE_SESSION);
	jute_put_int(txn, timeout_ms);
	return zxid;
}

/* §6.3: paths2Delete = the session's ephemerals, plus in-flight ephemeral
 * creates, minus in-flight deletes. */
int64_t prep_close_session(struct zstate *s, int64_t session_id, int32_t cxid, int64_t now_ms,
			   struct buf *txn)
{
	int64_t zxid = ++s->last_prepared_zxid;
	struct session *se = session_get(&s->sessions, session_id);
	if (se)
		se->closing = true;
	txn_put_header(txn, session_id, cxid, zxid, now_ms, ZOP_CLOSE_SESSION);
	size_t count_at = txn->len;
	jute_put_int(txn, 0);
	int32_t n = 0;
	const struct eph_list *l = tree_ephemerals(&s->tree, session_id);
	for (uint32_t i = 0; l && i < l->count; i++) {
		const struct znode *z = l->items[i];
		struct pview v = pending_get(&s->pending, &s->tree, z->path, z->path_len);
		if (!v.exists || v.owner != session_id)
			continue;
		jute_put_strn(txn, z->path, z->path_len);
		n++;
	}
	size_t pos = 0;
	const struct pchange *pc;
	while ((pc = pending_next(&s->pending, &pos))) {
		if (!pc->v.exists || pc->v.owner != session_id)
			continue;
		/* listed above if the tree already has it as this session's
		 * ephemeral; a pending ephemeral over a node of another kind
		 * (delete then re-create) is not in that list */
		const struct znode *z = tree_get(&s->tree, pc->path, pc->len);
		if (z && z->ephemeral_owner == session_id)
			continue;
		jute_put_strn(txn, pc->path, pc->len);
		n++;
	}
	buf_set_be32(txn, count_at, (uint32_t)n);
	/* every listed path is gone once this txn applies */
	struct pview gone = {.exists = false, .acl_ref = ACL_REF_OPEN};
	struct jute_reader r;
	jute_reader_init(&r, txn->data + count_at, txn->len - count_at, INT32_MAX, &s->scratch);
	struct jr_close_session_txn cs;
	if (jr_close_session_txn_decode(&r, &cs) == 0) {
		for (int32_t i = 0; i < cs.paths2_delete.count; i++) {
			const char *p = (const char *)cs.paths2_delete.items[i].data;
			size_t plen = (size_t)cs.paths2_delete.items[i].len;
			size_t parent_len = path_parent_len(p, plen);
			struct pview parent = pending_get(&s->pending, &s->tree, p, parent_len);
			parent.num_children--;
			pending_set(&s->pending, &s->tree, p, parent_len, zxid, &parent);
			pending_set(&s->pending, &s->tree, p, plen, zxid, &gone);
		}
	}
	arena_reset(&s->scratch);
	return zxid;
}

int64_t prep_delete_container(struct zstate *s, const char *path, size_t len, int64_t now_ms,
			      struct buf *txn)
{
	int64_t zxid = ++s->last_prepared_zxid;
	size_t mark = txn->len;
	int rc = 0;
	struct pview node = pending_get(&s->pending, &s->tree, path, len);
	if (!node.exists)
		rc = ZNONODE;
	else if (node.num_children > 0)
		rc = ZNOTEMPTY;
	else if (tree_owner_is_session(&s->tree, node.owner))
		rc = ZBADVERSION;
	if (rc) {
		put_error_txn(txn, mark, 0, 0, zxid, now_ms, rc);
		return zxid;
	}
	txn_put_header(txn, 0, 0, zxid, now_ms, ZOP_DELETE_CONTAINER);
	jute_put_strn(txn, path, len);
	size_t parent_len = path_parent_len(path, len);
	struct pview parent = pending_get(&s->pending, &s->tree, path, parent_len);
	parent.num_children--;
	pending_set(&s->pending, &s->tree, path, parent_len, zxid, &parent);
	struct pview gone = {.exists = false, .acl_ref = ACL_REF_OPEN};
	pending_set(&s->pending, &s->tree, path, len, zxid, &gone);
	return zxid;
}
