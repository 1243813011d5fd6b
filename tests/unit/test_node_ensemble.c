/* The node's ensemble roles (node/ensemble.c) driven by hand, as the
 * shell and the replication core would drive them: a leader and a
 * follower node, the follower's client requests forwarded to the leader,
 * prepared there, "committed" on both in zxid order, and answered on the
 * follower; error txns; sync; the PING touch table; the SNAP stream
 * round trip; and the leader's zxids following its proposals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/zalloc.h"
#include "node/node.h"
#include "zreq.h"

#define T0 0x8c04f6LL
#define EPOCH 1
#define MAXC 8

struct side {
	struct zconfig cfg;
	struct node n;
	struct buf out[MAXC];
	size_t seen[MAXC];
	bool closed[MAXC];
};

struct fx {
	struct side L, F;
};

static void side_init(struct side *s, int64_t sid, enum node_role role)
{
	s->cfg = (struct zconfig){.tick_ms = 2000, .min_session_timeout_ms = 4000,
				  .max_session_timeout_ms = 40000, .max_buffer = 1048575,
				  .max_buffer_extra = 1024, .digest_auth_enabled = true,
				  .container_check_ms = 60000, .container_max_per_minute = 10000,
				  .server_id = sid};
	node_init(&s->n, &s->cfg, T0);
	node_set_role(&s->n, role, EPOCH, T0);
	for (int i = 0; i < MAXC; i++)
		buf_init(&s->out[i]);
}

static void side_free(struct side *s)
{
	node_free(&s->n);
	for (int i = 0; i < MAXC; i++)
		buf_free(&s->out[i]);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	side_init(&f->L, 1, NODE_LEADING);
	side_init(&f->F, 2, NODE_FOLLOWING);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	side_free(&f->L);
	side_free(&f->F);
	free(f);
	return 0;
}

static void drain(struct side *s)
{
	uint64_t conn;
	struct buf *out;
	bool close_after;
	while (node_next_output(&s->n, &conn, &out, &close_after)) {
		assert_true(conn < MAXC);
		buf_put(&s->out[conn], out->data, out->len);
		out->len = 0;
		s->closed[conn] |= close_after;
	}
}

/* The leader's proposals commit on both, in order. Returns how many. */
static int commit_all(struct fx *f, int64_t now)
{
	int k = 0;
	struct node_txn *t = node_take_persist(&f->L.n);
	struct node_txn *batch[64];
	for (; t; t = t->next) {
		assert_true(k < 64);
		batch[k++] = t;
	}
	for (int i = 0; i < k; i++) {
		/* node_commit on the leader frees the txn: copy for the follower */
		struct buf copy;
		buf_init(&copy);
		buf_put(&copy, batch[i]->bytes.data, batch[i]->bytes.len);
		int64_t zxid = batch[i]->zxid;
		assert_int_equal(node_commit(&f->L.n, zxid, copy.data, copy.len, now), 0);
		assert_int_equal(node_commit(&f->F.n, zxid, copy.data, copy.len, now), 0);
		buf_free(&copy);
	}
	drain(&f->L);
	drain(&f->F);
	return k;
}

/* The follower's forwards reach the leader; returns how many. Syncs are
 * answered by "the leader" after the writes before them committed. */
static int forward_all(struct fx *f, int64_t now, uint64_t *sync_conns, int *n_syncs)
{
	int k = 0;
	struct node_fwd *fw = node_take_forward(&f->F.n);
	while (fw) {
		struct node_fwd *next = fw->next;
		if (fw->type == ZOP_SYNC) {
			assert_non_null(sync_conns);
			sync_conns[(*n_syncs)++] = fw->conn;
		} else {
			node_forwarded(&f->L.n, fw->session, fw->cxid, fw->type, fw->body, fw->len,
				       fw->body + fw->len, fw->auth_len, now);
		}
		zfree(fw);
		fw = next;
		k++;
	}
	return k;
}

static bool next_frame(struct side *s, uint64_t conn, const uint8_t **p, size_t *len)
{
	if (s->seen[conn] == s->out[conn].len)
		return false;
	size_t n = be32_get(s->out[conn].data + s->seen[conn]);
	*p = s->out[conn].data + s->seen[conn] + 4;
	*len = n;
	s->seen[conn] += 4 + n;
	return true;
}

static void request(struct side *s, uint64_t conn, int32_t xid, int32_t op, const struct buf *body, int64_t now)
{
	struct buf b;
	buf_init(&b);
	jute_put_int(&b, xid);
	jute_put_int(&b, op);
	if (body)
		buf_put(&b, body->data, body->len);
	node_conn_frame(&s->n, conn, b.data, b.len, now);
	buf_free(&b);
	drain(s);
}

/* A client connects to the follower; the session is made by the leader. */
static uint64_t follower_session(struct fx *f, int64_t *sid)
{
	uint64_t c = node_conn_open(&f->F.n, "127.0.0.1", 40000, T0);
	struct buf b;
	buf_init(&b);
	zt_connect(&b, 0, 30000, 0, NULL);
	node_conn_frame(&f->F.n, c, b.data, b.len, T0);
	buf_free(&b);
	drain(&f->F);
	/* nothing is prepared on a follower; the createSession goes to the leader */
	assert_null(node_take_persist(&f->F.n));
	const uint8_t *p;
	size_t n;
	assert_false(next_frame(&f->F, c, &p, &n));
	assert_int_equal(forward_all(f, T0, NULL, NULL), 1);
	assert_int_equal(commit_all(f, T0), 1);
	assert_true(next_frame(&f->F, c, &p, &n));
	assert_int_equal(n, 37);
	*sid = (int64_t)be64_get(p + 8);
	/* the follower's server id is the session id's top byte (§2.9.2) */
	assert_int_equal((uint64_t)*sid >> 56, 2);
	return c;
}

static void test_follower_write_roundtrip(void **state)
{
	struct fx *f = *state;
	int64_t sid;
	uint64_t c = follower_session(f, &sid);
	struct buf body;
	buf_init(&body);
	zt_create(&body, "/a", "v", ZT_OPEN_ACL, 1, 0);
	request(&f->F, c, 1, ZOP_CREATE, &body, T0 + 1);
	/* a read behind the write waits for it */
	buf_free(&body);
	buf_init(&body);
	jute_put_cstr(&body, "/a");
	jute_put_bool(&body, false);
	request(&f->F, c, 2, ZOP_EXISTS, &body, T0 + 1);
	const uint8_t *p;
	size_t n;
	assert_false(next_frame(&f->F, c, &p, &n));
	assert_int_equal(forward_all(f, T0 + 1, NULL, NULL), 1);
	assert_int_equal(commit_all(f, T0 + 1), 1);
	/* create reply: xid 1, zxid 0x100000002, err 0, path "/a" */
	assert_true(next_frame(&f->F, c, &p, &n));
	assert_int_equal((int32_t)be32_get(p), 1);
	assert_int_equal((int64_t)be64_get(p + 4), (1LL << 32) | 2);
	assert_int_equal((int32_t)be32_get(p + 12), 0);
	/* then the exists, which sees the node */
	assert_true(next_frame(&f->F, c, &p, &n));
	assert_int_equal((int32_t)be32_get(p), 2);
	assert_int_equal((int32_t)be32_get(p + 12), 0);
	/* both replicas agree, Stat and digest */
	struct znode *zl = tree_get(&f->L.n.st.tree, "/a", 2), *zf = tree_get(&f->F.n.st.tree, "/a", 2);
	assert_non_null(zl);
	assert_non_null(zf);
	assert_int_equal(zl->czxid, zf->czxid);
	assert_int_equal(f->L.n.st.tree.digest, f->F.n.st.tree.digest);
	/* a failing write is an error txn the leader proposes */
	buf_free(&body);
	buf_init(&body);
	zt_create(&body, "/a", "v", ZT_OPEN_ACL, 1, 0);
	request(&f->F, c, 3, ZOP_CREATE, &body, T0 + 2);
	assert_int_equal(forward_all(f, T0 + 2, NULL, NULL), 1);
	assert_int_equal(commit_all(f, T0 + 2), 1);
	assert_true(next_frame(&f->F, c, &p, &n));
	assert_int_equal((int32_t)be32_get(p), 3);
	assert_int_equal((int32_t)be32_get(p + 12), ZNODEEXISTS);
	buf_free(&body);
}

static void test_follower_sync_and_touches(void **state)
{
	struct fx *f = *state;
	int64_t sid;
	uint64_t c = follower_session(f, &sid);
	struct buf body;
	buf_init(&body);
	jute_put_cstr(&body, "/");
	request(&f->F, c, 5, ZOP_SYNC, &body, T0 + 10);
	uint64_t syncs[4];
	int ns = 0;
	assert_int_equal(forward_all(f, T0 + 10, syncs, &ns), 1);
	assert_int_equal(ns, 1);
	assert_int_equal(syncs[0], c);
	const uint8_t *p;
	size_t n;
	assert_false(next_frame(&f->F, c, &p, &n));
	node_sync_done(&f->F.n, c, T0 + 11);
	drain(&f->F);
	assert_true(next_frame(&f->F, c, &p, &n));
	assert_int_equal((int32_t)be32_get(p), 5);
	assert_int_equal(n, 16 + 5);  /* header + SyncResponse{"/"} */
	/* the request touched the session: it is in the next PING reply */
	struct buf t;
	buf_init(&t);
	node_take_touches(&f->F.n, &t);
	assert_int_equal(t.len, 12);
	assert_int_equal((int64_t)be64_get(t.data), sid);
	assert_int_equal((int32_t)be32_get(t.data + 8), 30000);
	/* and only once */
	struct buf t2;
	buf_init(&t2);
	node_take_touches(&f->F.n, &t2);
	assert_int_equal(t2.len, 0);
	/* the leader, which alone expires sessions, takes the touch */
	node_tick(&f->L.n, T0 + 25000);
	node_apply_touches(&f->L.n, t.data, t.len, T0 + 25000);
	node_tick(&f->L.n, T0 + 40000);
	assert_null(node_take_persist(&f->L.n));  /* not expired: touched at 25 s */
	node_tick(&f->F.n, T0 + 200000);
	assert_null(node_take_persist(&f->F.n));  /* a follower never expires sessions */
	node_tick(&f->L.n, T0 + 60000);
	struct node_txn *x = node_take_persist(&f->L.n);
	assert_non_null(x);  /* now it expires, by a closeSession the leader proposes */
	assert_int_equal((int32_t)be32_get(x->bytes.data + 28), ZOP_CLOSE_SESSION);
	buf_free(&t);
	buf_free(&t2);
	buf_free(&body);
}

static void test_snapshot_stream_roundtrip(void **state)
{
	struct fx *f = *state;
	int64_t sid;
	uint64_t c = follower_session(f, &sid);
	struct buf body;
	buf_init(&body);
	zt_create(&body, "/e", "x", ZT_OPEN_ACL, 1, ZCF_EPHEMERAL);
	request(&f->F, c, 1, ZOP_CREATE, &body, T0 + 1);
	forward_all(f, T0 + 1, NULL, NULL);
	commit_all(f, T0 + 1);
	struct buf s;
	buf_init(&s);
	node_snapshot_stream(&f->L.n, &s);
	struct side R;
	side_init(&R, 3, NODE_FOLLOWING);
	assert_int_equal(node_restore_stream(&R.n, f->L.n.st.last_applied_zxid, s.data, s.len, T0 + 2), 0);
	assert_int_equal(R.n.st.tree.digest, f->L.n.st.tree.digest);
	assert_int_equal(tree_count(&R.n.st.tree), tree_count(&f->L.n.st.tree));
	assert_non_null(session_get(&R.n.st.sessions, sid));
	struct znode *e = tree_get(&R.n.st.tree, "/e", 2);
	assert_non_null(e);
	assert_int_equal(e->ephemeral_owner, sid);
	assert_int_equal(node_last_zxid(&R.n), f->L.n.st.last_applied_zxid);
	/* cut streams are refused (n == 0 is the empty state), and leave a usable empty tree */
	for (size_t cut = 1; cut < s.len; cut += 7)
		assert_int_not_equal(node_restore_stream(&R.n, 5, s.data, cut, T0), 0);
	assert_non_null(tree_get(&R.n.st.tree, "/zookeeper", 10));
	side_free(&R);
	buf_free(&s);
	buf_free(&body);
}

/* Java 3.8 spends a zxid on a multi with a null sub-op path without making
 * a txn; a leader must not leave such a hole, or its next txn's zxid would
 * not be the next proposal's. A learner's client gets an error txn on that
 * zxid (MarshallingError); the leader's own client its answer at once,
 * with no zxid spent. */
static void test_leader_spends_no_zxid_without_txn(void **state)
{
	struct fx *f = *state;
	int64_t sid;
	uint64_t c = follower_session(f, &sid);
	int64_t before = f->L.n.st.last_prepared_zxid;
	struct buf body;
	buf_init(&body);
	jute_put_int(&body, ZOP_CREATE);  /* MultiHeader{type, done=false, err=-1} */
	jute_put_bool(&body, false);
	jute_put_int(&body, -1);
	zt_create(&body, NULL, "v", ZT_OPEN_ACL, 1, 0);
	jute_put_int(&body, -1);
	jute_put_bool(&body, true);
	jute_put_int(&body, -1);
	/* through the follower: forwarded, an error txn comes back */
	request(&f->F, c, 9, ZOP_MULTI, &body, T0 + 3);
	assert_int_equal(forward_all(f, T0 + 3, NULL, NULL), 1);
	assert_int_equal(commit_all(f, T0 + 3), 1);
	assert_int_equal(f->L.n.st.last_prepared_zxid, before + 1);
	const uint8_t *p;
	size_t n;
	assert_true(next_frame(&f->F, c, &p, &n));
	assert_int_equal((int32_t)be32_get(p), 9);
	assert_int_equal((int64_t)be64_get(p + 4), before + 1);
	assert_int_equal((int32_t)be32_get(p + 12), ZMARSHALLINGERROR);
	/* the leader's own client: answered without a txn or a zxid */
	uint64_t lc = node_conn_open(&f->L.n, "127.0.0.1", 40001, T0);
	struct buf cr;
	buf_init(&cr);
	zt_connect(&cr, 0, 30000, 0, NULL);
	node_conn_frame(&f->L.n, lc, cr.data, cr.len, T0 + 4);
	buf_free(&cr);
	commit_all(f, T0 + 4);  /* its createSession */
	assert_true(next_frame(&f->L, lc, &p, &n));
	int64_t mid = f->L.n.st.last_prepared_zxid;
	request(&f->L, lc, 10, ZOP_MULTI, &body, T0 + 5);
	assert_null(node_take_persist(&f->L.n));
	assert_int_equal(f->L.n.st.last_prepared_zxid, mid);
	assert_true(next_frame(&f->L, lc, &p, &n));
	assert_int_equal((int32_t)be32_get(p), 10);
	assert_int_equal((int32_t)be32_get(p + 12), ZMARSHALLINGERROR);
	buf_free(&body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_follower_write_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follower_sync_and_touches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_stream_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leader_spends_no_zxid_without_txn, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
