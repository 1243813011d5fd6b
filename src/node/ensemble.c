/* ensemble.c: the node as a member of a ZAB ensemble (see node.h).
 *
 * The replication core (peer/, zab/) decides what is committed; this file
 * is the node's side of it, which is ZooKeeper's split between the leader's
 * PrepRequestProcessor and every server's CommitProcessor/FinalRequest-
 * Processor:
 *   leader   — prepares every write (its own clients' and the learners'
 *              forwarded REQUESTs) exactly as standalone does; the shell
 *              proposes each txn and node_commit() applies it on commit.
 *   learner  — never prepares: a client write (and createSession, and
 *              sync) is forwarded and waits in its connection's queue as an
 *              in-flight write; the committed txn that carries its session
 *              and cxid answers it. Reads stay local.
 * Sessions: the leader's table alone expires sessions; learners report
 * their clients' activity in PING replies (the touch table), which the
 * leader applies as touches (§5.4.6, §5.5). */
#include <string.h>

#include "base/zalloc.h"
#include "base/zassert.h"
#include "jute/proto.h"
#include "jute/records.h"
#include "node/internal.h"
#include "node/restore.h"
#include "request/apply.h"
#include "request/prep.h"
#include "tree/acl.h"
#include "zab/zab.h"  /* ZXID(): the epoch << 32 | counter layout */


bool node_is_learner(const struct node *n)
{
	return n->role == NODE_FOLLOWING || n->role == NODE_OBSERVING;
}

bool ensemble_expires_sessions(const struct node *n)
{
	return n->role == NODE_STANDALONE || n->role == NODE_LEADING;
}

static bool serving(enum node_role r)
{
	return r == NODE_LEADING || r == NODE_FOLLOWING || r == NODE_OBSERVING;
}

static void drop_forwards(struct node *n)
{
	node_fwd_free_list(node_take_forward(n));
}

/* Prepared but uncommitted txns die with the role: the state is rebuilt
 * from what the ensemble committed. */
static void drop_inflight(struct node *n)
{
	node_txn_free_list(n->inflight_head);
	n->inflight_head = n->inflight_tail = n->persist_next = NULL;
	n->n_inflight = 0;
	u64map_free(&n->write_owner);
	u64map_init(&n->write_owner);
	pending_free(&n->st.pending, &n->st.tree);
	pending_init(&n->st.pending);
	n->st.last_prepared_zxid = n->st.last_applied_zxid;
}

void node_set_role(struct node *n, enum node_role role, int64_t epoch, int64_t now_ms)
{
	(void)now_ms;
	enum node_role old = n->role;
	if (old == role && role != NODE_LEADING)
		return;
	/* Clients of a server that stops serving are disconnected and find
	 * another server, as ZooKeeper does when its server shuts down. */
	if (old != role && (serving(old) || role == NODE_LOOKING)) {
		size_t pos = 0;
		struct u64map_slot *s;
		while ((s = u64map_next(&n->conns, &pos)))
			conn_close_soon(n, s->value);
	}
	n->role = role;
	drop_forwards(n);
	drop_inflight(n);
	u64map_free(&n->handshaking);
	u64map_init(&n->handshaking);
	u64map_free(&n->touched);
	u64map_init(&n->touched);
	if (role == NODE_LEADING) {
		/* the leader's proposals of this epoch start at counter 1 */
		zassert(n->st.last_applied_zxid <= (int64_t)ZXID(epoch, 0));
		n->st.last_prepared_zxid = (int64_t)ZXID(epoch, 0);
	}
}

void node_set_config_node(struct node *n, const char *text, size_t len, int64_t config_version, int64_t now_ms)
{
	struct znode *z = tree_get(&n->st.tree, "/zookeeper/config", 17);
	if (z)
		tree_set_data(&n->st.tree, z, (struct jute_bytes){(const uint8_t *)text, (int32_t)len}, -1,
			      config_version, now_ms);
}

void ensemble_touched(struct node *n, const struct session *s)
{
	if (node_is_learner(n))
		u64map_put(&n->touched, (uint64_t)s->id, (void *)(uintptr_t)(uint32_t)s->timeout_ms);
}

/* The connection's ids as the REQUEST's authinfo: vector<Id>. */
static void put_ids(struct buf *b, const struct node_conn *c)
{
	jute_put_int(b, c ? (int32_t)c->n_ids : 0);
	for (size_t i = 0; c && i < c->n_ids; i++) {
		jute_put_cstr(b, c->ids[i].scheme);
		jute_put_cstr(b, c->ids[i].id);
	}
}

static void push_forward(struct node *n, const struct node_conn *c, int64_t session, int32_t cxid,
			 int32_t type, const uint8_t *body, size_t len)
{
	struct buf ids;
	buf_init(&ids);
	put_ids(&ids, c);
	struct node_fwd *f = zmalloc(sizeof(*f) + len + ids.len);
	f->next = NULL;
	f->session = session;
	f->cxid = cxid;
	f->type = type;
	f->len = (uint32_t)len;
	f->auth_len = (uint32_t)ids.len;
	f->conn = 0;
	if (len)
		memcpy(f->body, body, len);
	memcpy(f->body + len, ids.data, ids.len);
	buf_free(&ids);
	if (n->fwd_tail)
		n->fwd_tail->next = f;
	else
		n->fwd_head = f;
	n->fwd_tail = f;
}

void ensemble_forward(struct node *n, struct node_conn *c, int32_t xid, int32_t op, const uint8_t *body,
		      size_t len, int64_t now_ms)
{
	if (op == ZOP_SYNC) {
		/* answered when the leader's SYNC comes back (node_sync_done);
		 * its body is kept for the SyncResponse */
		pipeline_enqueue(c, xid, op, NREQ_FORWARDED, body, len, now_ms);
		push_forward(n, c, c->session_id, xid, op, body, len);
		n->fwd_tail->conn = c->id;
		return;
	}
	pipeline_enqueue(c, xid, op, NREQ_FORWARDED, NULL, 0, now_ms);
	push_forward(n, c, c->session_id, xid, op, body, len);
}

/* Learner handshake: a new session is created by the leader. */
void ensemble_create_session(struct node *n, struct node_conn *c, int64_t id, int32_t timeout)
{
	uint32_t t = (uint32_t)timeout;
	uint8_t body[4] = {(uint8_t)(t >> 24), (uint8_t)(t >> 16), (uint8_t)(t >> 8), (uint8_t)t};
	c->handshake_zxid = NREQ_FORWARDED;
	u64map_put(&n->handshaking, (uint64_t)id, (void *)(uintptr_t)c->id);
	push_forward(n, c, id, 0, ZOP_CREATE_SESSION, body, sizeof body);
}

void ensemble_revalidate(struct node *n, struct node_conn *c, int64_t session, int32_t timeout)
{
	u64map_put(&n->handshaking, (uint64_t)session, (void *)(uintptr_t)c->id);
	push_forward(n, c, session, timeout, NODE_FWD_REVALIDATE, NULL, 0);
}

void node_revalidated(struct node *n, int64_t session, bool valid, int64_t now_ms)
{
	uint64_t id = (uint64_t)(uintptr_t)u64map_get(&n->handshaking, (uint64_t)session);
	struct node_conn *c = id ? node_conn_get(n, id) : NULL;
	if (!c || c->state != CONN_HANDSHAKE || c->handshake_zxid == NREQ_FORWARDED)
		return;  /* gone, or a createSession of the same id (cannot be) */
	u64map_del(&n->handshaking, (uint64_t)session);
	if (valid)
		handshake_reattached(n, c, c->timeout_ms, now_ms);
	else
		handshake_refused(n, c);
}

bool node_revalidate(struct node *n, int64_t session, int32_t timeout_ms, int64_t now_ms)
{
	struct session *s = session_get(&n->st.sessions, session);
	if (n->role != NODE_LEADING || !s || s->closing)
		return false;
	/* the reattaching client's timeout governs from now on */
	if (timeout_ms > 0)
		s->timeout_ms = timeout_ms;
	session_touch(&n->st.sessions, s, now_ms);
	return true;
}

struct node_fwd *node_take_forward(struct node *n)
{
	struct node_fwd *f = n->fwd_head;
	n->fwd_head = n->fwd_tail = NULL;
	return f;
}

void node_sync_done(struct node *n, uint64_t conn, int64_t now_ms)
{
	struct node_conn *c = node_conn_get(n, conn);
	if (!c || c->dead || !c->qhead || c->qhead->op != ZOP_SYNC || c->qhead->zxid != NREQ_FORWARDED)
		return;
	struct nreq *r = pipeline_dequeue(c);
	struct jute_reader rd;
	jute_reader_init(&rd, r->body, r->len, n->cfg.max_buffer, NULL);
	struct jr_sync_request q;
	struct buf *reply = &n->reply_scratch;
	reply->len = 0;
	int32_t err = 0;
	if (jr_sync_request_decode(&rd, &q))
		err = ZMARSHALLINGERROR;
	else
		jute_put_strn(reply, (const char *)q.path.data, q.path.len < 0 ? 0 : (size_t)q.path.len);
	conn_send_reply(n, c, r->xid, n->st.last_applied_zxid, err, reply, r->op, r->recv_ms, now_ms);
	zfree(r);
	pipeline_drain(n, c, now_ms);
}

/* Learner: which local connection, if any, waits for this txn. */
static uint64_t learner_owner(struct node *n, const struct jr_txn_header *h, int64_t zxid)
{
	if (h->type == ZOP_CREATE_SESSION) {
		uint64_t id = (uint64_t)(uintptr_t)u64map_del(&n->handshaking, (uint64_t)h->client_id);
		struct node_conn *c = id ? node_conn_get(n, id) : NULL;
		if (c && c->state == CONN_HANDSHAKE && c->handshake_zxid == NREQ_FORWARDED)
			c->handshake_zxid = zxid;
		return id;
	}
	struct session *s = session_get(&n->st.sessions, h->client_id);
	struct node_conn *c = s && s->conn_id ? node_conn_get(n, s->conn_id) : NULL;
	/* only the request it answers makes the connection the txn's owner: a
	 * closeSession the leader made (expiry) then closes the connection */
	if (!c || !c->qhead || c->qhead->zxid != NREQ_FORWARDED || c->qhead->xid != h->cxid ||
	    c->qhead->op == ZOP_SYNC)
		return 0;
	c->qhead->zxid = zxid;
	return c->id;
}

int node_commit(struct node *n, int64_t zxid, const uint8_t *txn, size_t len, int64_t now_ms)
{
	if (n->fatal)
		return -1;
	if (n->inflight_head) {
		/* the leader committing what it prepared, in order */
		if (n->inflight_head->zxid != zxid) {
			n->fatal = true;
			return -1;
		}
		node_persisted(n, zxid, now_ms);
		return n->fatal ? -1 : 0;
	}
	struct jr_txn_header h = {0};
	struct jute_reader hr;
	jute_reader_init(&hr, txn, len, INT32_MAX, NULL);
	if (jr_txn_header_decode(&hr, &h) || h.zxid != zxid) {
		n->fatal = true;
		return -1;
	}
	uint64_t owner = node_is_learner(n) ? learner_owner(n, &h, zxid) : 0;
	struct node_txn t = {.zxid = zxid, .bytes = {(uint8_t *)txn, len, len}, .next = NULL};
	pipeline_deliver(n, &t, owner, now_ms);
	if (n->st.last_prepared_zxid < n->st.last_applied_zxid)
		n->st.last_prepared_zxid = n->st.last_applied_zxid;
	return n->fatal ? -1 : 0;
}

/* A REQUEST's authinfo as the caller's ids (strings in the arena). */
static size_t read_ids(struct node *n, const uint8_t *auth, size_t auth_len, struct arena *a,
		       struct auth_id **out)
{
	*out = NULL;
	if (!auth || auth_len < 4)
		return 0;
	struct jute_reader r;
	jute_reader_init(&r, auth, auth_len, n->cfg.max_buffer, a);
	int32_t count = jute_get_count(&r, 8);
	if (count <= 0)
		return 0;
	struct auth_id *ids = arena_alloc(a, (size_t)count * sizeof(*ids));
	size_t k = 0;
	for (int32_t i = 0; i < count && r.err == JUTE_OK; i++) {
		struct jute_bytes sc = jute_get_ustring(&r), id = jute_get_ustring(&r);
		if (r.err != JUTE_OK || sc.len < 0 || id.len < 0)
			break;
		char *s = arena_alloc(a, (size_t)sc.len + (size_t)id.len + 2);
		memcpy(s, sc.data, (size_t)sc.len);
		s[sc.len] = '\0';
		memcpy(s + sc.len + 1, id.data, (size_t)id.len);
		s[sc.len + 1 + id.len] = '\0';
		ids[k] = (struct auth_id){s, s + sc.len + 1, acl_java_id_hash(s, s + sc.len + 1), (uint32_t)k};
		k++;
	}
	*out = ids;
	return k;
}

void node_forwarded(struct node *n, int64_t session, int32_t cxid, int32_t type, const uint8_t *body,
		    size_t len, const uint8_t *auth, size_t auth_len, int64_t now_ms)
{
	if (n->role != NODE_LEADING)
		return;
	struct buf txn;
	buf_init(&txn);
	int64_t zxid = 0;
	struct session *s = session_get(&n->st.sessions, session);
	if (s)
		session_touch(&n->st.sessions, s, now_ms);
	if (type == ZOP_CREATE_SESSION) {
		int32_t timeout = len >= 4 ? (int32_t)be32_get(body) : n->cfg.min_session_timeout_ms;
		zxid = prep_create_session(&n->st, session, timeout, now_ms, &txn);
	} else if (type == ZOP_CLOSE_SESSION) {
		zxid = prep_close_session(&n->st, session, cxid, now_ms, &txn);
	} else if (zk_op_is_write(type)) {
		bool null_watch = false;
		struct arena a;
		arena_init(&a);
		struct auth_id *ids;
		size_t n_ids = read_ids(n, auth, auth_len, &a, &ids);
		struct caller who = {session, 0, ids, n_ids, &null_watch};
		zxid = prep_write(&n->st, &who, cxid, type, body, len, now_ms, &txn);
		arena_free(&a);
		if (zxid == 0) {
			/* a write Java fails outside its txn path (a multi with a
			 * null sub-op path): a Java leader then never answers the
			 * learner's client, which hangs; an error txn on the zxid
			 * prep spent answers it with MarshallingError instead */
			zxid = n->st.last_prepared_zxid;
			txn_put_header(&txn, session, cxid, zxid, now_ms, ZOP_ERROR);
			jute_put_int(&txn, PREP_NO_TXN_ERR);
		}
	}
	if (zxid == 0) {
		buf_free(&txn);
		return;
	}
	pipeline_submit(n, &txn, zxid, 0);
}

void node_take_touches(struct node *n, struct buf *out)
{
	size_t pos = 0;
	struct u64map_slot *s;
	while ((s = u64map_next(&n->touched, &pos))) {
		jute_put_long(out, (int64_t)s->key);
		jute_put_int(out, (int32_t)(uint32_t)(uintptr_t)s->value);
	}
	u64map_free(&n->touched);
	u64map_init(&n->touched);
}

void node_apply_touches(struct node *n, const uint8_t *p, size_t len, int64_t now_ms)
{
	for (size_t off = 0; off + 12 <= len; off += 12) {
		struct session *s = session_get(&n->st.sessions, (int64_t)be64_get(p + off));
		int32_t timeout = (int32_t)be32_get(p + off + 8);
		if (!s || s->closing)
			continue;
		/* Java touches with the learner's timeout for the session */
		if (timeout > 0)
			s->timeout_ms = timeout;
		session_touch(&n->st.sessions, s, now_ms);
	}
}
