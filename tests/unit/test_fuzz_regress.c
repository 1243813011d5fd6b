/* Regression tests for the core bugs the libFuzzer targets found
 * (tests/fuzz/fuzz_apply.c, tests/fuzz/fuzz_node.c). Each test replays the
 * essence of one crashing input and checks the behaviour the fix gives;
 * several only fail without the fix under the ASan/UBSan build
 * (`make asan`), which is where the fuzzers saw them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jute/proto.h"
#include "node/node.h"
#include "request/apply.h"
#include "request/prep.h"
#include "zreq.h"

#define T0 1700000000000LL
#define SID 0x0100018bcfe56800LL

/* ---- apply_txn on txns no prep would write (a corrupt log) ---- */

struct afx {
	struct zconfig cfg;
	struct zstate s;
	struct buf txn, reply;
	struct apply_result res;
};

static int afx_setup(void **state)
{
	struct afx *f = calloc(1, sizeof *f);
	f->cfg = (struct zconfig){.tick_ms = 2000, .min_session_timeout_ms = 4000,
				  .max_session_timeout_ms = 40000, .max_buffer = 1048575,
				  .max_buffer_extra = 1024, .ttl_enabled = true, .digest_auth_enabled = true,
				  .container_check_ms = 60000, .container_max_per_minute = 10000,
				  .server_id = 1};
	zstate_init(&f->s, &f->cfg, T0);
	buf_init(&f->txn);
	buf_init(&f->reply);
	*state = f;
	return 0;
}

static int afx_teardown(void **state)
{
	struct afx *f = *state;
	zstate_free(&f->s);
	buf_free(&f->txn);
	buf_free(&f->reply);
	free(f);
	return 0;
}

static int apply(struct afx *f)
{
	f->reply.len = 0;
	int rc = apply_txn(&f->s, f->txn.data, f->txn.len, T0, &f->reply, &f->res);
	f->txn.len = 0;
	return rc;
}

/* A CreateTxn whose ACL entry has a null scheme and a null id: interning
 * it copied from NULL (UB). The node is created, the null strings kept as
 * empty ones. */
static void test_apply_create_acl_null_strings(void **state)
{
	struct afx *f = *state;
	txn_put_header(&f->txn, SID, 1, 1, T0, ZOP_CREATE);
	jute_put_cstr(&f->txn, "/n");
	jute_put_cstr(&f->txn, "d");
	jute_put_int(&f->txn, 1);
	jute_put_int(&f->txn, ZPERM_ALL);
	jute_put_int(&f->txn, -1);  /* scheme: null */
	jute_put_int(&f->txn, -1);  /* id: null */
	jute_put_bool(&f->txn, false);
	jute_put_int(&f->txn, -1);
	assert_int_equal(apply(f), 0);
	assert_int_equal(f->res.err, 0);
	struct znode *z = tree_get(&f->s.tree, "/n", 2);
	assert_non_null(z);
	const struct acl_list *l = acl_cache_get(&f->s.tree.acls, z->acl_ref);
	assert_non_null(l);
	assert_int_equal(l->count, 1);
	assert_string_equal(l->items[0].scheme, "");
	assert_string_equal(l->items[0].id, "");
}


/* CreateTxns with paths prep never logs: "//x" made a node named "x" under
 * "/" whose path is not "/x", "/a\0b" one whose C string is "/a". They
 * change nothing and report BadArguments. */
static void test_apply_create_invalid_path(void **state)
{
	struct afx *f = *state;
	static const char *const bad[] = {"//x", "/zookeeper/", "/x/", "/x/./y"};
	size_t before = tree_count(&f->s.tree);
	uint64_t digest = f->s.tree.digest;
	txn_put_header(&f->txn, SID, 1, 1, T0, ZOP_CREATE);
	jute_put_cstr(&f->txn, "/x");
	jute_put_cstr(&f->txn, "");
	zt_put_acls(&f->txn, ZT_OPEN_ACL, 1);
	jute_put_bool(&f->txn, false);
	jute_put_int(&f->txn, -1);
	assert_int_equal(apply(f), 0);
	assert_int_equal(f->res.err, 0);
	before++;
	digest = f->s.tree.digest;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0] + 1; i++) {
		txn_put_header(&f->txn, SID, 2, 2 + (int64_t)i, T0, ZOP_CREATE);
		if (i < sizeof bad / sizeof bad[0])
			jute_put_cstr(&f->txn, bad[i]);
		else
			jute_put_strn(&f->txn, "/x\0y", 4);
		jute_put_cstr(&f->txn, "");
		zt_put_acls(&f->txn, ZT_OPEN_ACL, 1);
		jute_put_bool(&f->txn, false);
		jute_put_int(&f->txn, -1);
		assert_int_equal(apply(f), 0);
		assert_int_equal(f->res.err, ZBADARGUMENTS);
		assert_int_equal(tree_count(&f->s.tree), before);
		assert_true(f->s.tree.digest == digest);
	}
	assert_int_equal(tree_get(&f->s.tree, "/", 1)->n_children, 2);  /* /zookeeper and /x */
	assert_int_equal(tree_get(&f->s.tree, "/x", 2)->n_children, 0);
}

/* CloseSessionTxn whose paths2Delete holds a null string: its length -1
 * became SIZE_MAX and the path lookup read through NULL (a crash). The
 * null entry names nothing; the other paths and the session's own
 * ephemerals go as usual. */
static void test_apply_close_session_null_path(void **state)
{
	struct afx *f = *state;
	txn_put_header(&f->txn, SID, 0, 1, T0, ZOP_CREATE_SESSION);
	jute_put_int(&f->txn, 30000);
	assert_int_equal(apply(f), 0);
	txn_put_header(&f->txn, SID, 1, 2, T0, ZOP_CREATE);
	jute_put_cstr(&f->txn, "/e");
	jute_put_cstr(&f->txn, "");
	zt_put_acls(&f->txn, ZT_OPEN_ACL, 1);
	jute_put_bool(&f->txn, true);
	jute_put_int(&f->txn, -1);
	assert_int_equal(apply(f), 0);
	assert_non_null(tree_get(&f->s.tree, "/e", 2));
	txn_put_header(&f->txn, SID, 2, 3, T0, ZOP_CLOSE_SESSION);
	jute_put_int(&f->txn, 2);
	jute_put_int(&f->txn, -1);  /* null path */
	jute_put_cstr(&f->txn, "/e");
	assert_int_equal(apply(f), 0);
	assert_int_equal(f->res.err, 0);
	assert_null(tree_get(&f->s.tree, "/e", 2));
	assert_null(session_get(&f->s.sessions, SID));
	assert_int_equal(tree_count(&f->s.tree), 4);
}

/* ---- struct node driven with raw frames ---- */

struct nfx {
	struct zconfig cfg;
	struct node n;
	struct buf out[4];  /* everything written to connections 1..3 */
	bool closed[4];
	int64_t now;
};

static int nfx_setup(void **state)
{
	struct nfx *f = calloc(1, sizeof *f);
	f->cfg = (struct zconfig){.tick_ms = 2000, .min_session_timeout_ms = 4000,
				  .max_session_timeout_ms = 40000, .max_buffer = 1048575,
				  .max_buffer_extra = 1024, .ttl_enabled = true, .digest_auth_enabled = true,
				  .container_check_ms = 60000, .container_max_per_minute = 10000,
				  .server_id = 1, .sessionless_timeout_ms = 10000};
	f->now = T0;
	node_init(&f->n, &f->cfg, f->now);
	for (int i = 0; i < 4; i++)
		buf_init(&f->out[i]);
	*state = f;
	return 0;
}

static int nfx_teardown(void **state)
{
	struct nfx *f = *state;
	node_free(&f->n);
	for (int i = 0; i < 4; i++)
		buf_free(&f->out[i]);
	free(f);
	return 0;
}

/* What the shell does after every call: make everything durable, collect output. */
static void settle(struct nfx *f)
{
	struct node_txn *t = node_take_persist(&f->n);
	int64_t last = 0;
	for (; t; t = t->next)
		last = t->zxid;
	if (last)
		node_persisted(&f->n, last, f->now);
	uint64_t conn;
	struct buf *out;
	bool close_after;
	while (node_next_output(&f->n, &conn, &out, &close_after)) {
		assert_true(conn < 4);
		buf_put(&f->out[conn], out->data, out->len);
		out->len = 0;
		f->closed[conn] |= close_after;
	}
}

static void send(struct nfx *f, uint64_t conn, const struct buf *frame)
{
	node_conn_frame(&f->n, conn, frame->data, frame->len, f->now);
	settle(f);
}

static uint64_t connect_session(struct nfx *f)
{
	uint64_t c = node_conn_open(&f->n, "127.0.0.1", 40000, f->now);
	struct buf b;
	buf_init(&b);
	static const uint8_t zero[16];
	jute_put_int(&b, 0);
	jute_put_long(&b, 0);
	jute_put_int(&b, 30000);
	jute_put_long(&b, 0);
	jute_put_buffer(&b, (struct jute_bytes){zero, 16});
	jute_put_bool(&b, false);
	send(f, c, &b);
	buf_free(&b);
	assert_int_equal(f->out[c].len, 4 + 37);
	f->out[c].len = 0;
	return c;
}

/* The last frame written to conn: its ReplyHeader. */
static void last_reply(struct nfx *f, uint64_t conn, int32_t *xid, int32_t *err)
{
	const struct buf *o = &f->out[conn];
	size_t off = 0, last = SIZE_MAX;
	while (off + 4 <= o->len) {
		last = off;
		off += 4 + be32_get(o->data + off);
	}
	assert_int_equal(off, o->len);
	assert_true(last != SIZE_MAX && be32_get(o->data + last) >= 16);
	*xid = (int32_t)be32_get(o->data + last + 4);
	*err = (int32_t)be32_get(o->data + last + 16);
}

/* AuthPacket for "digest" with a null auth buffer: digesting it read from
 * NULL (UB). The auth fails and the connection closes, as with Java. */
static void test_node_digest_auth_null_credentials(void **state)
{
	struct nfx *f = *state;
	uint64_t c = connect_session(f);
	struct buf b;
	buf_init(&b);
	jute_put_int(&b, -4);
	jute_put_int(&b, ZOP_AUTH);
	jute_put_int(&b, 0);
	jute_put_cstr(&b, "digest");
	jute_put_int(&b, -1);  /* auth: null */
	send(f, c, &b);
	buf_free(&b);
	int32_t xid, err;
	last_reply(f, c, &xid, &err);
	assert_int_equal(xid, -4);
	assert_int_equal(err, ZAUTHFAILED);
	assert_true(f->closed[c]);
	assert_int_equal(node_conn_get(&f->n, c)->n_ids, 1);  /* only its ip id */
}

static void set_watches(struct nfx *f, uint64_t c, int32_t op, const char *const *lists[5], const int n[5])
{
	struct buf b;
	buf_init(&b);
	jute_put_int(&b, -8);
	jute_put_int(&b, op);
	jute_put_long(&b, 0);
	for (int l = 0; l < (op == ZOP_SET_WATCHES2 ? 5 : 3); l++) {
		jute_put_int(&b, n[l]);
		for (int i = 0; i < n[l]; i++) {
			if (lists[l][i])
				jute_put_cstr(&b, lists[l][i]);
			else
				jute_put_int(&b, -1);
		}
	}
	send(f, c, &b);
	buf_free(&b);
}

/* SetWatches with a null path: watch_add and the notification copied from
 * NULL (UB). Java 3.8 answers MarshallingError for a null entry of the
 * data, exist or child list, with the entries before it registered, and
 * keeps the connection; a null persistent entry is its null-path watch,
 * accepted once per connection. */
static void test_node_set_watches_null_path(void **state)
{
	struct nfx *f = *state;
	uint64_t c = connect_session(f);
	static const char *const with_null[] = {"/zookeeper", NULL};
	static const char *const none[] = {NULL};
	int32_t xid, err;
	for (int l = 0; l < 3; l++) {
		const char *const *lists[5] = {none, none, none, none, none};
		int n[5] = {0, 0, 0, 0, 0};
		lists[l] = with_null;
		n[l] = 2;
		set_watches(f, c, ZOP_SET_WATCHES, lists, n);
		last_reply(f, c, &xid, &err);
		assert_int_equal(xid, -8);
		assert_int_equal(err, ZMARSHALLINGERROR);
		assert_false(f->closed[c]);
	}
	/* data and child entries before the null are armed (/zookeeper exists,
	 * unchanged since zxid 0); the exist entry fired NodeCreated at once */
	assert_true(watch_has(&f->n.st.watches, WATCH_DATA, "/zookeeper", 10, c));
	assert_true(watch_has(&f->n.st.watches, WATCH_CHILD, "/zookeeper", 10, c));
	const char *const *lists[5] = {none, none, none, none, none};
	int n[5] = {0, 0, 0, 1, 0};
	set_watches(f, c, ZOP_SET_WATCHES2, lists, n);
	last_reply(f, c, &xid, &err);
	assert_int_equal(err, 0);
	n[3] = 0;
	n[4] = 1;
	set_watches(f, c, ZOP_SET_WATCHES2, lists, n);
	last_reply(f, c, &xid, &err);
	assert_int_equal(err, ZMARSHALLINGERROR);
	assert_false(f->closed[c]);
}

/* Like send(), but the txns stay in flight (the shell has not logged them). */
static void send_pipelined(struct nfx *f, uint64_t conn, int32_t xid, int32_t op, const struct buf *body)
{
	struct buf b;
	buf_init(&b);
	jute_put_int(&b, xid);
	jute_put_int(&b, op);
	if (body)
		buf_put(&b, body->data, body->len);
	node_conn_frame(&f->n, conn, b.data, b.len, f->now);
	buf_free(&b);
}

/* A session deletes persistent /x, re-creates it as its ephemeral and
 * closes, all pipelined; closeSession prep skipped /x because the tree
 * still had a (persistent) /x, so the overlay kept /x existing and a
 * create of /x by another session right after failed with NodeExists.
 * Java's closeSession prep counts every outstanding ephemeral of the
 * session, so /x is in paths2Delete and the other create succeeds. */
static void test_node_close_session_pending_ephemeral(void **state)
{
	struct nfx *f = *state;
	uint64_t a = connect_session(f), b = connect_session(f);
	struct buf body;
	buf_init(&body);
	zt_create(&body, "/x", "", ZT_OPEN_ACL, 1, 0);
	send_pipelined(f, a, 1, ZOP_CREATE, &body);
	settle(f);
	body.len = 0;
	zt_path_version(&body, "/x", -1);
	send_pipelined(f, a, 2, ZOP_DELETE, &body);
	body.len = 0;
	zt_create(&body, "/x", "", ZT_OPEN_ACL, 1, 1 /* ephemeral */);
	send_pipelined(f, a, 3, ZOP_CREATE, &body);
	send_pipelined(f, a, 4, ZOP_CLOSE_SESSION, NULL);
	body.len = 0;
	zt_create(&body, "/x", "b", ZT_OPEN_ACL, 1, 0);
	send_pipelined(f, b, 5, ZOP_CREATE, &body);
	buf_free(&body);
	settle(f);
	int32_t xid, err;
	last_reply(f, b, &xid, &err);
	assert_int_equal(xid, 5);
	assert_int_equal(err, 0);
	struct znode *z = tree_get(&f->n.st.tree, "/x", 2);
	assert_non_null(z);
	assert_int_equal(z->ephemeral_owner, 0);
	assert_int_equal(z->data_len, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_apply_create_acl_null_strings, afx_setup, afx_teardown),
		cmocka_unit_test_setup_teardown(test_apply_create_invalid_path, afx_setup, afx_teardown),
		cmocka_unit_test_setup_teardown(test_apply_close_session_null_path, afx_setup, afx_teardown),
		cmocka_unit_test_setup_teardown(test_node_digest_auth_null_credentials, nfx_setup, nfx_teardown),
		cmocka_unit_test_setup_teardown(test_node_set_watches_null_path, nfx_setup, nfx_teardown),
		cmocka_unit_test_setup_teardown(test_node_close_session_pending_ephemeral, nfx_setup, nfx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
