/* struct node driven with raw frames, as the shell drives it: handshake
 * bytes (zookeeper-protocol.md §2.2.5), replies to writes only once the
 * txn is durable, per-connection request order with reads queued behind a
 * write, other connections not held up, notifications before the reply
 * that caused them (§2.7.2), session expiry through node_tick, and the
 * live frames of §2.8.3, §2.9.1, §2.9.4 and §2.11. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/node.h"
#include "zreq.h"

#define T0 0x8c04f6LL           /* makes the first session id 0x0100008c04f60000 */
#define T_DEMO 0x1a204ef1f26LL  /* ctime of /demo in §2.11 */
#define MAXC 8

struct cap {
	struct buf b;   /* everything written to the connection */
	size_t seen;    /* frames before this offset were consumed by the test */
	bool closed;
};

struct fx {
	struct zconfig cfg;
	struct node n;
	struct cap c[MAXC];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	f->cfg = (struct zconfig){.tick_ms = 2000, .min_session_timeout_ms = 4000,
				  .max_session_timeout_ms = 40000, .max_buffer = 1048575,
				  .max_buffer_extra = 1024, .digest_auth_enabled = true,
				  .container_check_ms = 60000, .container_max_per_minute = 10000,
				  .server_id = 1};
	node_init(&f->n, &f->cfg, T0);
	for (int i = 0; i < MAXC; i++)
		buf_init(&f->c[i].b);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	node_free(&f->n);
	for (int i = 0; i < MAXC; i++)
		buf_free(&f->c[i].b);
	free(f);
	return 0;
}

/* What the shell does after every call: collect output. */
static void drain(struct fx *f)
{
	uint64_t conn;
	struct buf *out;
	bool close_after;
	while (node_next_output(&f->n, &conn, &out, &close_after)) {
		assert_true(conn < MAXC);
		buf_put(&f->c[conn].b, out->data, out->len);
		out->len = 0;
		f->c[conn].closed |= close_after;
	}
}

/* Make everything prepared so far durable. Returns how many txns. */
static int persist(struct fx *f, int64_t now)
{
	struct node_txn *t = node_take_persist(&f->n);
	int64_t last = 0;
	int k = 0;
	for (; t; t = t->next, k++)
		last = t->zxid;
	if (k)
		node_persisted(&f->n, last, now);
	drain(f);
	return k;
}

static void frame(struct fx *f, uint64_t conn, const uint8_t *p, size_t len, int64_t now)
{
	node_conn_frame(&f->n, conn, p, len, now);
	drain(f);
}

static void request(struct fx *f, uint64_t conn, int32_t xid, int32_t op, const struct buf *body, int64_t now)
{
	struct buf b;
	buf_init(&b);
	jute_put_int(&b, xid);
	jute_put_int(&b, op);
	if (body)
		buf_put(&b, body->data, body->len);
	frame(f, conn, b.data, b.len, now);
	buf_free(&b);
}

/* The next unread frame on a connection (payload), or false. */
static bool next_frame(struct fx *f, uint64_t conn, const uint8_t **p, size_t *len)
{
	struct cap *c = &f->c[conn];
	if (c->seen == c->b.len)
		return false;
	assert_true(c->b.len - c->seen >= 4);
	size_t n = be32_get(c->b.data + c->seen);
	assert_true(c->b.len - c->seen - 4 >= n);
	*p = c->b.data + c->seen + 4;
	*len = n;
	c->seen += 4 + n;
	return true;
}

static bool has_output(struct fx *f, uint64_t conn)
{
	return f->c[conn].seen < f->c[conn].b.len;
}

struct reply {
	int32_t xid;
	int64_t zxid;
	int32_t err;
	const uint8_t *body;
	size_t len;
};

static struct reply next_reply(struct fx *f, uint64_t conn)
{
	const uint8_t *p;
	size_t n;
	if (!next_frame(f, conn, &p, &n))
		fail_msg("no frame on connection %u", (unsigned)conn);
	assert_true(n >= 16);
	struct reply r = {(int32_t)be32_get(p), (int64_t)be64_get(p + 4), (int32_t)be32_get(p + 12), p + 16,
			  n - 16};
	return r;
}

static const uint8_t CONNECT_30000[] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x75, 0x30, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

/* Open a connection with a new session; returns the connection. */
static uint64_t open_session(struct fx *f, int32_t timeout, int64_t now, int64_t *sid)
{
	uint64_t c = node_conn_open(&f->n, "127.0.0.1", 40000, now);
	struct buf b;
	buf_init(&b);
	zt_connect(&b, 0, timeout, 0, NULL);
	frame(f, c, b.data, b.len, now);
	buf_free(&b);
	assert_int_equal(persist(f, now), 1);
	const uint8_t *p;
	size_t n;
	assert_true(next_frame(f, c, &p, &n));
	assert_int_equal(n, 37);
	if (sid)
		*sid = (int64_t)be64_get(p + 8);
	return c;
}

static void test_handshake_live_bytes(void **state)
{
	struct fx *f = *state;
	uint64_t c = node_conn_open(&f->n, "127.0.0.1", 40000, T0);
	assert_int_equal(sizeof CONNECT_30000, 45);
	frame(f, c, CONNECT_30000, sizeof CONNECT_30000, T0);
	/* the session exists only once its createSession txn is durable */
	assert_false(has_output(f, c));
	struct node_txn *t = node_take_persist(&f->n);
	assert_non_null(t);
	assert_null(t->next);
	assert_int_equal(t->zxid, 1);
	assert_int_equal(t->bytes.len, 36);
	assert_int_equal((int32_t)be32_get(t->bytes.data + 28), ZOP_CREATE_SESSION);
	assert_int_equal(be32_get(t->bytes.data + 32), 30000);
	node_persisted(&f->n, 1, T0);
	drain(f);
	/* §2.2.5: the server's 41 bytes */
	static const uint8_t want[] = {0x00, 0x00, 0x00, 0x25, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x75, 0x30,
				       0x01, 0x00, 0x00, 0x8c, 0x04, 0xf6, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
				       0x08, 0xa8, 0x85, 0xff, 0xf5, 0xec, 0xd4, 0x84, 0x26, 0xce, 0x69, 0x6b,
				       0xc6, 0x32, 0xed, 0x5f, 0x00};
	assert_int_equal(f->c[c].b.len, sizeof want);
	assert_memory_equal(f->c[c].b.data, want, sizeof want);
	assert_false(f->c[c].closed);
	assert_int_equal(node_last_zxid(&f->n), 1);
}

static void test_handshake_timeout_clamp_and_old_client(void **state)
{
	struct fx *f = *state;
	/* §2.2.2 [live]: 1000 ms with tickTime 2000 → 4000; a 44-byte request
	 * (no readOnly byte) gets a 36-byte response */
	uint64_t c = node_conn_open(&f->n, "127.0.0.1", 1, T0);
	struct buf b;
	buf_init(&b);
	zt_connect(&b, 0, 1000, 0, NULL);
	b.len--;
	frame(f, c, b.data, b.len, T0);
	persist(f, T0);
	const uint8_t *p;
	size_t n;
	assert_true(next_frame(f, c, &p, &n));
	assert_int_equal(n, 36);
	assert_int_equal(be32_get(p + 4), 4000);
	/* and the max */
	b.len = 0;
	zt_connect(&b, 0, 1 << 30, 0, NULL);
	uint64_t d = node_conn_open(&f->n, "127.0.0.1", 2, T0);
	frame(f, d, b.data, b.len, T0);
	persist(f, T0);
	assert_true(next_frame(f, d, &p, &n));
	assert_int_equal(be32_get(p + 4), 40000);
	buf_free(&b);
}

static void test_handshake_rejections(void **state)
{
	struct fx *f = *state;
	struct buf b;
	buf_init(&b);
	/* a client that has seen a newer zxid: closed without a reply */
	uint64_t c = node_conn_open(&f->n, "127.0.0.1", 1, T0);
	zt_connect(&b, 5, 30000, 0, NULL);
	frame(f, c, b.data, b.len, T0);
	assert_true(f->c[c].closed);
	assert_false(has_output(f, c));
	assert_int_equal(persist(f, T0), 0);
	/* an undecodable ConnectRequest: closed */
	uint64_t d = node_conn_open(&f->n, "127.0.0.1", 2, T0);
	frame(f, d, CONNECT_30000, 20, T0);
	assert_true(f->c[d].closed);
	assert_false(has_output(f, d));
	/* a wrong password: the "invalid" response, then close */
	int64_t sid;
	uint64_t e = open_session(f, 30000, T0, &sid);
	uint8_t bad[16] = {1};
	b.len = 0;
	zt_connect(&b, 0, 30000, sid, bad);
	uint64_t g = node_conn_open(&f->n, "127.0.0.1", 3, T0);
	frame(f, g, b.data, b.len, T0);
	const uint8_t *p;
	size_t n;
	assert_true(next_frame(f, g, &p, &n));
	static const uint8_t invalid[37] = {[19] = 0x10};
	assert_int_equal(n, 37);
	assert_memory_equal(p, invalid, 37);
	assert_true(f->c[g].closed);
	(void)e;
	buf_free(&b);
}

static void test_reattach_moves_session(void **state)
{
	struct fx *f = *state;
	int64_t sid;
	uint64_t a = open_session(f, 30000, T0, &sid);
	uint8_t pw[16];
	session_password(sid, pw);
	struct buf b;
	buf_init(&b);
	zt_connect(&b, 1, 10000, sid, pw);
	uint64_t c = node_conn_open(&f->n, "127.0.0.1", 9, T0 + 5);
	frame(f, c, b.data, b.len, T0 + 5);
	/* answered at once, no txn, with the timeout of this request */
	assert_int_equal(persist(f, T0 + 5), 0);
	const uint8_t *p;
	size_t n;
	assert_true(next_frame(f, c, &p, &n));
	assert_int_equal(n, 37);
	assert_int_equal(be32_get(p + 4), 10000);
	assert_int_equal((int64_t)be64_get(p + 8), sid);
	assert_memory_equal(p + 20, pw, 16);
	/* the old connection of the session is closed */
	assert_true(f->c[a].closed);
	assert_false(f->c[c].closed);
	buf_free(&b);
}

static void test_live_create_and_get_data(void **state)
{
	struct fx *f = *state;
	uint64_t c = open_session(f, 30000, T0, NULL);
	struct buf b;
	buf_init(&b);
	zt_create(&b, "/demo", "hi", ZT_OPEN_ACL, 1, 0);
	request(f, c, 1, ZOP_CREATE, &b, T_DEMO);
	assert_false(has_output(f, c));  /* not before the txn is durable */
	assert_int_equal(persist(f, T_DEMO), 1);
	static const uint8_t create_reply[] = {0, 0, 0, 0x19, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2,
					       0, 0, 0, 0, 0, 0, 0, 5, '/', 'd', 'e', 'm', 'o'};
	const uint8_t *p;
	size_t n;
	assert_true(next_frame(f, c, &p, &n));
	assert_int_equal(n + 4, sizeof create_reply);
	assert_memory_equal(p - 4, create_reply, sizeof create_reply);
	/* §2.11: getData /demo watch=true, byte for byte */
	static const uint8_t get_req[] = {0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 5, 0x2f, 0x64, 0x65, 0x6d, 0x6f, 1};
	frame(f, c, get_req, sizeof get_req, T_DEMO + 1000);
	static const uint8_t get_reply[] = {
		0x00, 0x00, 0x00, 0x5a, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x68, 0x69,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
		0x00, 0x00, 0x01, 0xa2, 0x04, 0xef, 0x1f, 0x26, 0x00, 0x00, 0x01, 0xa2, 0x04, 0xef, 0x1f, 0x26,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02};
	assert_true(next_frame(f, c, &p, &n));
	assert_int_equal(n + 4, sizeof get_reply);
	assert_memory_equal(p - 4, get_reply, sizeof get_reply);
	/* a missing node: header only, NoNode, no zxid consumed */
	static const uint8_t nope[] = {0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 5, '/', 'n', 'o', 'p', 'e', 1};
	frame(f, c, nope, sizeof nope, T_DEMO + 2000);
	static const uint8_t nope_reply[] = {0, 0, 0, 0x10, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 2,
					     0xff, 0xff, 0xff, 0x9b};
	assert_true(next_frame(f, c, &p, &n));
	assert_memory_equal(p - 4, nope_reply, sizeof nope_reply);
	assert_int_equal(persist(f, T_DEMO), 0);
	buf_free(&b);
}

static void test_request_order_behind_write(void **state)
{
	struct fx *f = *state;
	uint64_t a = open_session(f, 30000, T0, NULL);
	uint64_t b = open_session(f, 30000, T0, NULL);
	struct buf q;
	buf_init(&q);
	zt_create(&q, "/x", "v", ZT_OPEN_ACL, 1, 0);
	request(f, a, 10, ZOP_CREATE, &q, T0);
	q.len = 0;
	zt_path_watch(&q, "/x", false);
	request(f, a, 11, ZOP_GET_DATA, &q, T0);  /* same connection: waits */
	request(f, a, -2, ZOP_PING, NULL, T0);
	request(f, b, 20, ZOP_GET_DATA, &q, T0);  /* another connection: answered now */
	assert_false(has_output(f, a));
	struct reply r = next_reply(f, b);
	assert_int_equal(r.xid, 20);
	assert_int_equal(r.err, ZNONODE);           /* the write is not applied yet */
	assert_int_equal(r.zxid, 2);
	/* a second write of A is prepared right away but answered in order */
	q.len = 0;
	zt_set_data(&q, "/x", "w", 0);
	request(f, a, 12, ZOP_SET_DATA, &q, T0);
	q.len = 0;
	zt_path_watch(&q, "/x", false);
	request(f, a, 13, ZOP_GET_DATA, &q, T0);
	assert_false(has_output(f, a));
	assert_int_equal(persist(f, T0), 2);
	r = next_reply(f, a);
	assert_int_equal(r.xid, 10);
	assert_int_equal(r.zxid, 3);
	assert_int_equal(r.err, 0);
	r = next_reply(f, a);
	assert_int_equal(r.xid, 11);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.body[3], 1);             /* data "v": the read follows its write */
	assert_int_equal(r.body[4], 'v');
	r = next_reply(f, a);
	assert_int_equal(r.xid, -2);
	r = next_reply(f, a);
	assert_int_equal(r.xid, 12);
	assert_int_equal(r.zxid, 4);
	r = next_reply(f, a);
	assert_int_equal(r.xid, 13);
	assert_int_equal(r.body[4], 'w');
	assert_false(has_output(f, a));
	buf_free(&q);
}

static void test_partial_persist(void **state)
{
	struct fx *f = *state;
	uint64_t a = open_session(f, 30000, T0, NULL);
	struct buf q;
	buf_init(&q);
	zt_create(&q, "/1", "", ZT_OPEN_ACL, 1, 0);
	request(f, a, 1, ZOP_CREATE, &q, T0);
	q.len = 0;
	zt_create(&q, "/2", "", ZT_OPEN_ACL, 1, 0);
	request(f, a, 2, ZOP_CREATE, &q, T0);
	struct node_txn *t = node_take_persist(&f->n);
	assert_non_null(t);
	assert_non_null(t->next);
	assert_null(node_take_persist(&f->n));  /* taken once */
	/* durable up to the first only: one reply */
	node_persisted(&f->n, t->zxid, T0);
	drain(f);
	assert_int_equal(next_reply(f, a).xid, 1);
	assert_false(has_output(f, a));
	node_persisted(&f->n, 3, T0);
	drain(f);
	assert_int_equal(next_reply(f, a).xid, 2);
	buf_free(&q);
}

static void test_notification_before_reply(void **state)
{
	struct fx *f = *state;
	uint64_t a = open_session(f, 30000, T0, NULL);
	struct buf q;
	buf_init(&q);
	zt_create(&q, "/demo", "hi", ZT_OPEN_ACL, 1, 0);
	request(f, a, 1, ZOP_CREATE, &q, T0);
	persist(f, T0);
	next_reply(f, a);
	q.len = 0;
	zt_path_watch(&q, "/demo", true);
	request(f, a, 2, ZOP_GET_DATA, &q, T0);
	next_reply(f, a);
	q.len = 0;
	zt_set_data(&q, "/demo", "z", -1);
	request(f, a, 3, ZOP_SET_DATA, &q, T0);
	persist(f, T0);
	/* §2.7.2 [live]: the NodeDataChanged frame, then the reply */
	static const uint8_t ev[] = {0x00, 0x00, 0x00, 0x21, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				     0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
				     0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, 0x2f, 0x64, 0x65, 0x6d, 0x6f};
	const uint8_t *p;
	size_t n;
	assert_true(next_frame(f, a, &p, &n));
	assert_int_equal(n + 4, sizeof ev);
	assert_memory_equal(p - 4, ev, sizeof ev);
	struct reply r = next_reply(f, a);
	assert_int_equal(r.xid, 3);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.len, 68);
	assert_false(has_output(f, a));
	buf_free(&q);
}

static void test_session_expiry(void **state)
{
	struct fx *f = *state;
	int64_t sa;
	uint64_t a = open_session(f, 4000, T0, &sa);
	uint64_t b = open_session(f, 40000, T0, NULL);
	struct buf q;
	buf_init(&q);
	zt_create(&q, "/e", "", ZT_OPEN_ACL, 1, ZCF_EPHEMERAL);
	request(f, a, 1, ZOP_CREATE, &q, T0);
	persist(f, T0);
	assert_int_equal(next_reply(f, a).err, 0);
	q.len = 0;
	zt_path_watch(&q, "/e", true);
	request(f, b, 1, ZOP_EXISTS, &q, T0);
	q.len = 0;
	zt_path_watch(&q, "/", true);
	request(f, b, 2, ZOP_GET_CHILDREN, &q, T0);
	next_reply(f, b);
	next_reply(f, b);
	/* nothing happens before the bucket of A's last touch */
	node_tick(&f->n, T0 + 3000);
	assert_int_equal(persist(f, T0 + 3000), 0);
	/* a ping postpones expiry */
	request(f, a, -2, ZOP_PING, NULL, T0 + 3000);
	assert_int_equal(next_reply(f, a).xid, -2);
	node_tick(&f->n, T0 + 6500);
	assert_int_equal(persist(f, T0 + 6500), 0);
	assert_true(node_next_deadline(&f->n) <= T0 + 3000 + 4000 + 2000);
	/* past timeout + tick since the ping: a closeSession txn (cxid 0) */
	node_tick(&f->n, T0 + 9000);
	struct node_txn *t = node_take_persist(&f->n);
	assert_non_null(t);
	assert_null(t->next);
	assert_int_equal((int64_t)be64_get(t->bytes.data), sa);
	assert_int_equal(be32_get(t->bytes.data + 8), 0);
	assert_int_equal((int32_t)be32_get(t->bytes.data + 28), ZOP_CLOSE_SESSION);
	/* requests of the expiring session are dropped without a reply */
	request(f, a, 5, ZOP_GET_DATA, &q, T0 + 9000);
	assert_false(has_output(f, a));
	node_persisted(&f->n, t->zxid, T0 + 9000);
	drain(f);
	/* B: NodeDeleted /e, then NodeChildrenChanged / */
	struct reply r = next_reply(f, b);
	assert_int_equal(r.xid, -1);
	assert_int_equal((int32_t)be32_get(r.body), ZEV_NODE_DELETED);
	assert_int_equal(be32_get(r.body + 8), 2);
	assert_memory_equal(r.body + 12, "/e", 2);
	r = next_reply(f, b);
	assert_int_equal(r.xid, -1);
	assert_int_equal((int32_t)be32_get(r.body), ZEV_NODE_CHILDREN_CHANGED);
	assert_memory_equal(r.body + 12, "/", 1);
	assert_false(f->c[b].closed);
	/* A: closed, no reply; the node and the session are gone */
	assert_true(f->c[a].closed);
	assert_false(has_output(f, a));
	assert_null(tree_get(&f->n.st.tree, "/e", 2));
	assert_null(session_get(&f->n.st.sessions, sa));
	buf_free(&q);
}

static void test_live_ping_auth_close(void **state)
{
	struct fx *f = *state;
	uint64_t c = open_session(f, 30000, T0, NULL);
	/* §2.9.1: any xid in the request, -2 in the reply, last zxid (1 here) */
	static const uint8_t ping[] = {0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x0b};
	frame(f, c, ping, sizeof ping, T0);
	static const uint8_t pong[] = {0x00, 0x00, 0x00, 0x10, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 1,
				       0, 0, 0, 0};
	const uint8_t *p;
	size_t n;
	assert_true(next_frame(f, c, &p, &n));
	assert_memory_equal(p - 4, pong, sizeof pong);
	/* §2.8.3: digest auth, reply (-4, 0, 0) */
	static const uint8_t auth[] = {0xff, 0xff, 0xff, 0xfc, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00,
				       0x00, 0x00, 0x00, 0x06, 'd', 'i', 'g', 'e', 's', 't',
				       0x00, 0x00, 0x00, 0x0d, 'u', 's', 'e', 'r', ':', 'p', 'a', 's', 's', 'w', 'o', 'r', 'd'};
	assert_int_equal(sizeof auth, 0x27);
	frame(f, c, auth, sizeof auth, T0);
	static const uint8_t auth_ok[] = {0x00, 0x00, 0x00, 0x10, 0xff, 0xff, 0xff, 0xfc, 0, 0, 0, 0, 0, 0, 0, 0,
					  0, 0, 0, 0};
	assert_true(next_frame(f, c, &p, &n));
	assert_memory_equal(p - 4, auth_ok, sizeof auth_ok);
	struct node_conn *nc = node_conn_get(&f->n, c);
	bool found = false;
	for (size_t i = 0; i < nc->n_ids; i++)
		found |= strcmp(nc->ids[i].scheme, "digest") == 0 &&
			 strcmp(nc->ids[i].id, "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=") == 0;
	assert_true(found);
	/* an unknown scheme: AuthFailed, then close */
	uint64_t d = open_session(f, 30000, T0, NULL);
	struct buf q;
	buf_init(&q);
	jute_put_int(&q, 0);
	jute_put_cstr(&q, "kerberos");
	jute_put_cstr(&q, "x");
	request(f, d, -4, ZOP_AUTH, &q, T0);
	struct reply r = next_reply(f, d);
	assert_int_equal(r.xid, -4);
	assert_int_equal(r.err, ZAUTHFAILED);
	assert_true(f->c[d].closed);
	/* §2.9.4: closeSession, reply with the txn's zxid, then close */
	static const uint8_t bye[] = {0x00, 0x00, 0x00, 0x0d, 0xff, 0xff, 0xff, 0xf5};
	frame(f, c, bye, sizeof bye, T0);
	assert_false(has_output(f, c));
	assert_int_equal(persist(f, T0), 1);
	r = next_reply(f, c);
	assert_int_equal(r.xid, 13);
	assert_int_equal(r.zxid, 3);  /* sessions at 1 and 2 */
	assert_int_equal(r.err, 0);
	assert_int_equal(r.len, 0);
	assert_true(f->c[c].closed);
	buf_free(&q);
}

static void test_frames_held_during_handshake(void **state)
{
	struct fx *f = *state;
	/* Java clients pipeline auth and requests behind the ConnectRequest */
	uint64_t c = node_conn_open(&f->n, "127.0.0.1", 5, T0);
	frame(f, c, CONNECT_30000, sizeof CONNECT_30000, T0);
	struct buf q;
	buf_init(&q);
	jute_put_int(&q, 0);
	jute_put_cstr(&q, "digest");
	jute_put_cstr(&q, "user:password");
	request(f, c, -4, ZOP_AUTH, &q, T0);
	q.len = 0;
	struct jr_acl mine = zt_acl(ZPERM_ALL, "auth", "");
	zt_create(&q, "/mine", "", &mine, 1, 0);  /* needs the auth before it */
	request(f, c, 1, ZOP_CREATE, &q, T0);
	q.len = 0;
	zt_path_watch(&q, "/", false);
	request(f, c, 2, ZOP_EXISTS, &q, T0);
	assert_false(has_output(f, c));
	persist(f, T0);  /* the createSession: ConnectResponse, auth reply, create prepared */
	const uint8_t *p;
	size_t n;
	assert_true(next_frame(f, c, &p, &n));
	assert_int_equal(n, 37);
	struct reply r = next_reply(f, c);
	assert_int_equal(r.xid, -4);
	assert_int_equal(r.err, 0);
	assert_false(has_output(f, c));  /* the exists waits behind the create */
	persist(f, T0);
	r = next_reply(f, c);
	assert_int_equal(r.xid, 1);
	assert_int_equal(r.err, 0);
	r = next_reply(f, c);
	assert_int_equal(r.xid, 2);
	assert_int_equal(r.err, 0);
	buf_free(&q);
}

static void test_bad_frames(void **state)
{
	struct fx *f = *state;
	/* fewer than 8 bytes: close, no reply */
	uint64_t a = open_session(f, 30000, T0, NULL);
	static const uint8_t shorty[] = {0, 0, 0, 1, 0, 0};
	frame(f, a, shorty, sizeof shorty, T0);
	assert_true(f->c[a].closed);
	assert_false(has_output(f, a));
	/* a truncated read body: -5 with the last zxid, connection stays */
	uint64_t b = open_session(f, 30000, T0, NULL);
	static const uint8_t trunc[] = {0, 0, 0, 9, 0, 0, 0, 4, 0, 0, 0, 5, '/', 'd'};
	frame(f, b, trunc, sizeof trunc, T0);
	struct reply r = next_reply(f, b);
	assert_int_equal(r.xid, 9);
	assert_int_equal(r.err, ZMARSHALLINGERROR);
	assert_int_equal(r.len, 0);
	assert_false(f->c[b].closed);
	/* an unknown opcode behind a write: the write's reply first, then
	 * Unimplemented with zxid -1, then close; nothing after it is read */
	struct buf q;
	buf_init(&q);
	zt_create(&q, "/u", "", ZT_OPEN_ACL, 1, 0);
	request(f, b, 10, ZOP_CREATE, &q, T0);
	request(f, b, 11, 99, NULL, T0);
	q.len = 0;
	zt_create(&q, "/after", "", ZT_OPEN_ACL, 1, 0);
	request(f, b, 12, ZOP_CREATE, &q, T0);
	assert_int_equal(persist(f, T0), 1);
	r = next_reply(f, b);
	assert_int_equal(r.xid, 10);
	assert_int_equal(r.err, 0);
	r = next_reply(f, b);
	assert_int_equal(r.xid, 11);
	assert_int_equal(r.zxid, -1);
	assert_int_equal(r.err, ZUNIMPLEMENTED);
	assert_false(has_output(f, b));
	assert_true(f->c[b].closed);
	assert_null(tree_get(&f->n.st.tree, "/after", 6));
	buf_free(&q);
}

static void test_auth_failure_behind_write(void **state)
{
	struct fx *f = *state;
	/* a rejected AuthPacket keeps its place: earlier replies, then -115,
	 * then close; a request after it is never read */
	uint64_t a = open_session(f, 30000, T0, NULL);
	struct buf q;
	buf_init(&q);
	zt_create(&q, "/w", "", ZT_OPEN_ACL, 1, 0);
	request(f, a, 1, ZOP_CREATE, &q, T0);
	q.len = 0;
	jute_put_int(&q, 0);
	jute_put_cstr(&q, "nosuch");
	jute_put_cstr(&q, "x");
	request(f, a, -4, ZOP_AUTH, &q, T0);
	q.len = 0;
	zt_path_watch(&q, "/w", false);
	request(f, a, 2, ZOP_EXISTS, &q, T0);
	assert_false(has_output(f, a));
	persist(f, T0);
	struct reply r = next_reply(f, a);
	assert_int_equal(r.xid, 1);
	assert_int_equal(r.err, 0);
	r = next_reply(f, a);
	assert_int_equal(r.xid, -4);
	assert_int_equal(r.zxid, 0);
	assert_int_equal(r.err, ZAUTHFAILED);
	assert_false(has_output(f, a));
	assert_true(f->c[a].closed);
	buf_free(&q);
}

static void test_sessionless_connection_closed(void **state)
{
	struct fx *f = *state;
	/* nio.sessionlessCnxnTimeout: no ConnectRequest in time ⇒ closed */
	f->n.cfg.sessionless_timeout_ms = 10000;
	uint64_t idle = node_conn_open(&f->n, "127.0.0.1", 1, T0);
	uint64_t ok = open_session(f, 30000, T0, NULL);
	node_tick(&f->n, T0 + 10000);
	drain(f);
	assert_false(f->c[idle].closed);
	node_tick(&f->n, T0 + 10001);
	drain(f);
	assert_true(f->c[idle].closed);
	assert_false(has_output(f, idle));
	assert_false(f->c[ok].closed);
}

static void test_conn_closed_midflight(void **state)
{
	struct fx *f = *state;
	/* a connection that goes away with a write in flight: the write is
	 * still applied, the reply has nowhere to go, its watches are gone */
	uint64_t a = open_session(f, 30000, T0, NULL);
	struct buf q;
	buf_init(&q);
	zt_path_watch(&q, "/gone", true);
	request(f, a, 1, ZOP_EXISTS, &q, T0);
	q.len = 0;
	zt_create(&q, "/gone", "", ZT_OPEN_ACL, 1, 0);
	request(f, a, 2, ZOP_CREATE, &q, T0);
	node_conn_closed(&f->n, a, T0);
	assert_int_equal(persist(f, T0), 1);
	assert_non_null(tree_get(&f->n.st.tree, "/gone", 5));
	assert_int_equal(watch_count(&f->n.st.watches), 0);
	buf_free(&q);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_handshake_live_bytes),
		T(test_handshake_timeout_clamp_and_old_client),
		T(test_handshake_rejections),
		T(test_reattach_moves_session),
		T(test_live_create_and_get_data),
		T(test_request_order_behind_write),
		T(test_partial_persist),
		T(test_notification_before_reply),
		T(test_session_expiry),
		T(test_live_ping_auth_close),
		T(test_frames_held_during_handshake),
		T(test_bad_frames),
		T(test_auth_failure_behind_write),
		T(test_sessionless_connection_closed),
		T(test_conn_closed_midflight),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
