/* pipeline.c: requests of an established connection, and the write path
 * prep → persist → commit → apply → reply (see node.h).
 *
 * Ordering rule: a connection's queue is empty or starts with an in-flight
 * write. A request that finds the queue empty and needs no txn runs at
 * once; otherwise it joins the queue. When the write at the head is
 * applied its reply is sent, then everything behind it that needs no txn
 * runs, up to the next write. Writes are prepared the moment they arrive,
 * so pipelined writes of all sessions flow into the log together. */
#include <string.h>

#include "base/zalloc.h"
#include "base/zassert.h"
#include "jute/proto.h"
#include "jute/records.h"
#include "node/internal.h"
#include "request/apply.h"
#include "request/prep.h"
#include "request/reads.h"
#include "tree/acl.h"

void nreq_free_list(struct nreq *r)
{
	while (r) {
		struct nreq *next = r->next;
		zfree(r);
		r = next;
	}
}

struct nreq *pipeline_enqueue(struct node_conn *c, int32_t xid, int32_t op, int64_t zxid, const uint8_t *body,
			      size_t len, int64_t now_ms)
{
	struct nreq *r = zmalloc(sizeof(*r) + len);
	r->next = NULL;
	r->xid = xid;
	r->op = op;
	r->zxid = zxid;
	r->recv_ms = now_ms;
	r->err = 0;
	r->len = (uint32_t)len;
	if (len)
		memcpy(r->body, body, len);
	if (c->qtail)
		c->qtail->next = r;
	else
		c->qhead = r;
	c->qtail = r;
	c->n_queued++;
	return r;
}

struct nreq *pipeline_dequeue(struct node_conn *c)
{
	struct nreq *r = c->qhead;
	if (r) {
		c->qhead = r->next;
		if (!c->qhead)
			c->qtail = NULL;
		c->n_queued--;
	}
	return r;
}

void pipeline_submit(struct node *n, struct buf *txn, int64_t zxid, uint64_t owner)
{
	struct node_txn *t = zmalloc(sizeof(*t));
	t->zxid = zxid;
	t->bytes = *txn;
	buf_init(txn);
	t->next = NULL;
	if (n->inflight_tail)
		n->inflight_tail->next = t;
	else
		n->inflight_head = t;
	n->inflight_tail = t;
	n->n_inflight++;
	if (!n->persist_next)
		n->persist_next = t;
	if (owner)
		u64map_put(&n->write_owner, (uint64_t)zxid, (void *)(uintptr_t)owner);
}

static struct caller caller_of(struct node_conn *c)
{
	return (struct caller){c->session_id, c->id, c->ids, c->n_ids, &c->null_watch};
}

/* AuthPacket (§2.8.3): the identity applies to every request read after it,
 * so it is added on arrival; its reply keeps its place in the order. */
static int32_t auth_arrive(struct node *n, struct node_conn *c, const uint8_t *body, size_t len)
{
	struct jute_reader r;
	jute_reader_init(&r, body, len, n->cfg.max_buffer + n->cfg.max_buffer_extra, NULL);
	struct jr_auth_packet a;
	if (jr_auth_packet_decode(&r, &a) || a.scheme.len < 0)
		return ZAUTHFAILED;
	if (jute_bytes_eq_str(a.scheme, "digest") && n->cfg.digest_auth_enabled) {
		/* no credentials at all: Java's digest provider fails on them (and
		 * closes the connection); digesting a NULL buffer would be UB */
		if (a.auth.len < 0)
			return ZAUTHFAILED;
		size_t alen = (size_t)a.auth.len;
		char *id = zmalloc(alen + 64);
		acl_digest_id((const char *)a.auth.data, alen, id, alen + 64);
		conn_add_id(c, "digest", id);
		if (n->cfg.super_digest[0] && strcmp(id, n->cfg.super_digest) == 0)
			conn_add_id(c, "super", "");
		zfree(id);
		return 0;
	}
	if (jute_bytes_eq_str(a.scheme, "ip")) {
		conn_add_id(c, "ip", c->remote_ip);
		return 0;
	}
	return ZAUTHFAILED;
}

/* A write a client may send: everything that takes the txn path except
 * createSession, which only the handshake makes. */
static bool is_client_write(int32_t op)
{
	return zk_op_is_write(op) && op != ZOP_CREATE_SESSION;
}

/* Run a request that needs no txn (now, or when it reaches the queue head). */
static void run_now(struct node *n, struct node_conn *c, int32_t xid, int32_t op, int32_t err,
		    const uint8_t *body, size_t len, int64_t recv_ms, int64_t now_ms)
{
	struct buf *reply = &n->reply_scratch;
	reply->len = 0;
	int64_t zxid = n->st.last_applied_zxid;
	switch (op) {
	case ZOP_PING:
		conn_send_reply(n, c, ZXID_PING, zxid, 0, NULL, op, recv_ms, now_ms);
		return;
	case ZOP_AUTH:
		conn_send_reply(n, c, xid, 0, err, NULL, op, recv_ms, now_ms);
		if (err)
			conn_close_soon(n, c);
		return;
	default:
		break;
	}
	if (is_client_write(op)) {
		/* a write prep turned away without a txn (PREP_NO_TXN) */
		conn_send_reply(n, c, xid, zxid, err, NULL, op, recv_ms, now_ms);
		return;
	}
	if (!reads_handles(op)) {
		/* unknown opcode: Unimplemented, then close, after earlier replies */
		conn_send_reply(n, c, xid, -1, ZUNIMPLEMENTED, NULL, op, recv_ms, now_ms);
		conn_close_soon(n, c);
		return;
	}
	struct caller who = caller_of(c);
	int32_t rc = reads_execute(&n->st, &who, op, body, len, reply);
	conn_send_reply(n, c, xid, zxid, rc, reply, op, recv_ms, now_ms);
}

void pipeline_drain(struct node *n, struct node_conn *c, int64_t now_ms)
{
	while (c->qhead && c->qhead->zxid == 0 && !c->dead) {
		struct nreq *r = pipeline_dequeue(c);
		run_now(n, c, r->xid, r->op, r->err, r->body, r->len, r->recv_ms, now_ms);
		zfree(r);
	}
}

void pipeline_frame(struct node *n, struct node_conn *c, const uint8_t *frame, size_t len, int64_t now_ms)
{
	if (len < 8) {
		conn_close_soon(n, c);  /* undecodable RequestHeader: close, no reply */
		return;
	}
	int32_t xid = (int32_t)be32_get(frame);
	int32_t op = (int32_t)be32_get(frame + 4);
	const uint8_t *body = frame + 8;
	size_t blen = len - 8;
	struct session *s = session_get(&n->st.sessions, c->session_id);
	if (!s || s->closing)
		return;  /* the session is closing: ZooKeeper drops the request */
	session_touch(&n->st.sessions, s, now_ms);
	if (n->role != NODE_STANDALONE) {
		ensemble_touched(n, s);
		if (node_is_learner(n) && (is_client_write(op) || op == ZOP_SYNC)) {
			ensemble_forward(n, c, xid, op, body, blen, now_ms);
			return;
		}
	}
	if (is_client_write(op)) {
		struct buf txn;
		buf_init(&txn);
		struct caller who = caller_of(c);
		int64_t zxid = op == ZOP_CLOSE_SESSION
				       ? prep_close_session(&n->st, c->session_id, xid, now_ms, &txn)
				       : prep_write(&n->st, &who, xid, op, body, blen, now_ms, &txn);
		if (zxid == 0) {
			/* a write that made no txn: answered in order like a read */
			buf_free(&txn);
			if (n->role != NODE_STANDALONE)
				n->st.last_prepared_zxid--;  /* the leader's zxids follow its proposals */
			if (c->qhead)
				pipeline_enqueue(c, xid, op, 0, NULL, 0, now_ms)->err = PREP_NO_TXN_ERR;
			else
				conn_send_reply(n, c, xid, n->st.last_applied_zxid, PREP_NO_TXN_ERR, NULL, op,
						now_ms, now_ms);
			return;
		}
		pipeline_submit(n, &txn, zxid, c->id);
		pipeline_enqueue(c, xid, op, zxid, NULL, 0, now_ms);
		return;
	}
	int32_t err = 0;
	if (op == ZOP_AUTH)
		err = auth_arrive(n, c, body, blen);
	bool known = op == ZOP_PING || op == ZOP_AUTH || reads_handles(op);
	if (c->qhead) {
		struct nreq *r = pipeline_enqueue(c, xid, op, 0, body, blen, now_ms);
		r->err = err;
		if (!known || err)
			c->stop_reading = true;  /* nothing after an Unimplemented or failed auth is read */
		return;
	}
	run_now(n, c, xid, op, err, body, blen, now_ms, now_ms);
}

/* The connection that closes with a session: the client's own close, or
 * whoever holds the session when it expires. */
static void close_session_conns(struct node *n, int64_t session_id, uint64_t owner_conn)
{
	struct session *s = session_get(&n->st.sessions, session_id);
	uint64_t holder = s ? s->conn_id : 0;
	if (holder && holder != owner_conn) {
		struct node_conn *c = node_conn_get(n, holder);
		if (c)
			conn_close_soon(n, c);
	}
}

void pipeline_deliver(struct node *n, struct node_txn *t, uint64_t owner, int64_t now_ms)
{
	struct jr_txn_header h = {0};
	struct jute_reader hr;
	jute_reader_init(&hr, t->bytes.data, t->bytes.len, INT32_MAX, NULL);
	jr_txn_header_decode(&hr, &h);
	if (h.type == ZOP_CLOSE_SESSION)
		close_session_conns(n, h.client_id, owner);
	struct buf *reply = &n->reply_scratch;
	reply->len = 0;
	struct apply_result res;
	if (apply_txn(&n->st, t->bytes.data, t->bytes.len, now_ms, reply, &res) != 0) {
		n->fatal = true;
		return;
	}
	struct node_conn *c = owner ? node_conn_get(n, owner) : NULL;
	if (!c || c->dead)
		return;
	if (h.type == ZOP_CREATE_SESSION) {
		if (c->state == CONN_HANDSHAKE && c->handshake_zxid == t->zxid)
			handshake_applied(n, c, now_ms);
		return;
	}
	if (!c->qhead || c->qhead->zxid != t->zxid)
		return;
	struct nreq *r = pipeline_dequeue(c);
	conn_send_reply(n, c, r->xid, t->zxid, res.err, reply, r->op, r->recv_ms, now_ms);
	zfree(r);
	if (h.type == ZOP_CLOSE_SESSION) {
		conn_close_soon(n, c);
		return;
	}
	pipeline_drain(n, c, now_ms);
}

void node_persisted(struct node *n, int64_t zxid, int64_t now_ms)
{
	while (n->inflight_head && n->inflight_head->zxid <= zxid && !n->fatal) {
		struct node_txn *t = n->inflight_head;
		zassert(t != n->persist_next || !n->persist_next);
		n->inflight_head = t->next;
		if (!n->inflight_head)
			n->inflight_tail = NULL;
		n->n_inflight--;
		uint64_t owner = (uint64_t)(uintptr_t)u64map_del(&n->write_owner, (uint64_t)t->zxid);
		pipeline_deliver(n, t, owner, now_ms);
		buf_free(&t->bytes);
		zfree(t);
	}
}
