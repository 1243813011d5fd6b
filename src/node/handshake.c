/* handshake.c: the first frame of a connection, ConnectRequest → 
 * ConnectResponse (zookeeper-protocol.md §2.2). A new session is created
 * by a createSession txn through the pipeline, so its ConnectResponse
 * leaves only once that txn is durable; a reattaching session is checked
 * against its password (the Java Random function every server shares) and
 * answered at once. Frames that arrive before the session is established
 * (Java clients pipeline auth and setWatches behind the ConnectRequest) are
 * held and run in order right after it. */
#include <string.h>

#include "base/zalloc.h"
#include "jute/proto.h"
#include "jute/records.h"
#include "node/internal.h"
#include "request/prep.h"

static void run_held(struct node *n, struct node_conn *c, int64_t now_ms);

static void send_connect_response(struct node *n, struct node_conn *c, int32_t timeout_ms, int64_t session_id)
{
	uint8_t pw[16] = {0};
	if (session_id)
		session_password(session_id, pw);
	size_t mark = frame_begin(&c->out);
	struct jr_connect_response r = {0, timeout_ms, session_id, {pw, 16}};
	jr_connect_response_encode(&c->out, &r);
	if (!c->old_client)
		jute_put_bool(&c->out, false);  /* this server is read-write */
	frame_end(&c->out, mark);
	conn_mark_dirty(n, c);
	c->st.sent++;
	n->stats.packets_sent++;
}

static int32_t clamp_timeout(const struct node *n, int32_t t)
{
	if (t < n->cfg.min_session_timeout_ms)
		t = n->cfg.min_session_timeout_ms;
	if (t > n->cfg.max_session_timeout_ms)
		t = n->cfg.max_session_timeout_ms;
	return t;
}

static void hold_frame(struct node_conn *c, const uint8_t *frame, size_t len, int64_t now_ms)
{
	struct nreq *r = zmalloc(sizeof(*r) + len);
	memset(r, 0, sizeof(*r));
	r->recv_ms = now_ms;
	r->len = (uint32_t)len;
	memcpy(r->body, frame, len);
	if (c->held_tail)
		c->held_tail->next = r;
	else
		c->held_head = r;
	c->held_tail = r;
}

/* The connection holds the session from now on: answer the client, then
 * run what it pipelined behind its ConnectRequest. */
static void session_opened(struct node *n, struct node_conn *c, struct session *s, int32_t timeout,
			   int64_t now_ms)
{
	s->conn_id = c->id;
	s->timeout_ms = timeout;
	c->state = CONN_OPEN;
	c->st.est_ms = now_ms;
	send_connect_response(n, c, timeout, s->id);
	run_held(n, c, now_ms);
}

void handshake_refused(struct node *n, struct node_conn *c)
{
	send_connect_response(n, c, 0, 0);
	conn_close_soon(n, c);
}

/* A reattaching session is ours now (checked here, or by the leader). */
void handshake_reattached(struct node *n, struct node_conn *c, int32_t timeout, int64_t now_ms)
{
	struct session *s = session_get(&n->st.sessions, c->session_id);
	if (!s || s->closing) {
		handshake_refused(n, c);
		return;
	}
	if (s->conn_id && s->conn_id != c->id) {
		struct node_conn *old = node_conn_get(n, s->conn_id);
		if (old)
			conn_close_soon(n, old);
	}
	s->timeout_ms = timeout;  /* the expiry below is the reconnect's timeout */
	session_touch(&n->st.sessions, s, now_ms);
	if (n->role != NODE_STANDALONE)
		ensemble_touched(n, s);
	session_opened(n, c, s, timeout, now_ms);
}

static void reattach(struct node *n, struct node_conn *c, const struct jr_connect_request *q,
		     int32_t timeout, int64_t now_ms)
{
	struct session *s = session_get(&n->st.sessions, q->session_id);
	if (!s || s->closing || !session_password_ok(q->session_id, q->passwd.data, q->passwd.len)) {
		handshake_refused(n, c);
		return;
	}
	c->session_id = s->id;
	if (node_is_learner(n)) {
		/* the leader owns sessions: ask it (REVALIDATE) and hold what
		 * follows until it answers (node_revalidated) */
		c->state = CONN_HANDSHAKE;
		c->timeout_ms = timeout;
		ensemble_revalidate(n, c, s->id, timeout);
		return;
	}
	handshake_reattached(n, c, timeout, now_ms);
}

void handshake_frame(struct node *n, struct node_conn *c, const uint8_t *frame, size_t len, int64_t now_ms)
{
	if (c->state == CONN_HANDSHAKE) {
		hold_frame(c, frame, len, now_ms);
		return;
	}
	if (n->role == NODE_LOOKING) {
		conn_close_soon(n, c);  /* not serving: the client tries another server */
		return;
	}
	struct jute_reader r;
	jute_reader_init(&r, frame, len, n->cfg.max_buffer, NULL);
	struct jr_connect_request q;
	if (jr_connect_request_decode(&r, &q)) {
		conn_close_soon(n, c);
		return;
	}
	c->old_client = jute_remaining(&r) == 0;
	/* a client that has seen more than we have must find a newer server */
	if (q.last_zxid_seen > n->st.last_applied_zxid) {
		conn_close_soon(n, c);
		return;
	}
	int32_t timeout = clamp_timeout(n, q.time_out);
	c->timeout_ms = timeout;
	if (q.session_id != 0) {
		reattach(n, c, &q, timeout, now_ms);
		return;
	}
	int64_t id = session_alloc_id(&n->st.sessions);
	c->session_id = id;
	c->state = CONN_HANDSHAKE;
	if (node_is_learner(n)) {
		ensemble_create_session(n, c, id, timeout);
		return;
	}
	struct buf txn;
	buf_init(&txn);
	c->handshake_zxid = prep_create_session(&n->st, id, timeout, now_ms, &txn);
	pipeline_submit(n, &txn, c->handshake_zxid, c->id);
}

void handshake_applied(struct node *n, struct node_conn *c, int64_t now_ms)
{
	struct session *s = session_get(&n->st.sessions, c->session_id);
	if (!s) {
		conn_close_soon(n, c);
		return;
	}
	session_opened(n, c, s, c->timeout_ms, now_ms);
}

/* Frames that arrived during the handshake, in order. */
static void run_held(struct node *n, struct node_conn *c, int64_t now_ms)
{
	struct nreq *held = c->held_head;
	c->held_head = c->held_tail = NULL;
	while (held) {
		struct nreq *next = held->next;
		if (!c->dead && !c->stop_reading)
			pipeline_frame(n, c, held->body, held->len, now_ms);
		zfree(held);
		held = next;
	}
}
