/* Writes through struct zstate: prep (validation in ZooKeeper's order →
 * txn) then apply (txn → tree, watches, reply). Covers the error code of
 * every check in the order of zookeeper-protocol.md §3.2, zxids consumed by
 * failed writes (§3.3), Stat fields per op (§3.4), sequential names from
 * the persisted cversion and the owner markers (§3.5), multi atomicity and
 * result lists (§3.6), the pending overlay for pipelined writes, and
 * closeSession deleting ephemerals (§6.3). Expected bytes come from the
 * live examples of the doc where it has them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jute/proto.h"
#include "request/apply.h"
#include "request/prep.h"
#include "request/reads.h"
#include "tree/path.h"
#include "zreq.h"

#define SID ((int64_t)0x0100008c04f60000LL)
#define T_SESSION 0x1a204ef1ebdLL  /* §6.2.5 entry 1 */
#define T_DEMO 0x1a204ef1f26LL     /* §6.2.5 entry 2, §2.11 ctime */

struct event {
	uint64_t conn;
	int32_t type;
	char path[64];
};

struct fx {
	struct zconfig cfg;
	struct zstate s;
	struct caller anon, user;     /* same session; user holds digest user:password */
	struct auth_id anon_ids[1], user_ids[2];
	char user_digest[64];
	struct buf txn, reply;
	struct apply_result res;
	int64_t zxid;                 /* of the last write */
	struct event ev[32];
	int n_ev;
};

static void on_notify(void *arg, uint64_t conn, int32_t type, const char *path, size_t len, int64_t acl_ref)
{
	struct fx *f = arg;
	assert_true(f->n_ev < 32);
	struct event *e = &f->ev[f->n_ev++];
	e->conn = conn;
	e->type = type;
	assert_true(len < sizeof e->path);
	memcpy(e->path, path, len);
	e->path[len] = 0;
}

static void apply_buf(struct fx *f, const struct buf *txn)
{
	f->reply.len = 0;
	assert_int_equal(apply_txn(&f->s, txn->data, txn->len, T_DEMO, &f->reply, &f->res), 0);
}

static struct fx *fx_new(bool ttl)
{
	struct fx *f = calloc(1, sizeof *f);
	f->cfg = (struct zconfig){.tick_ms = 2000, .min_session_timeout_ms = 4000,
				  .max_session_timeout_ms = 40000, .max_buffer = 1048575,
				  .max_buffer_extra = 1024, .ttl_enabled = ttl, .digest_auth_enabled = true,
				  .container_check_ms = 60000, .container_max_per_minute = 10000,
				  .server_id = 1};
	/* clock chosen so the first session id is the live 0x0100008c04f60000 */
	zstate_init(&f->s, &f->cfg, 0x8c04f6);
	f->s.notify = on_notify;
	f->s.notify_arg = f;
	buf_init(&f->txn);
	buf_init(&f->reply);
	acl_digest_id("user:password", 13, f->user_digest, sizeof f->user_digest);
	f->anon_ids[0] = (struct auth_id){"ip", "127.0.0.1", 0, 0};
	f->user_ids[0] = f->anon_ids[0];
	f->user_ids[1] = (struct auth_id){"digest", f->user_digest, 0, 0};
	int64_t sid = session_alloc_id(&f->s.sessions);
	assert_int_equal(sid, SID);
	f->anon = (struct caller){sid, 0, f->anon_ids, 1, NULL};
	f->user = (struct caller){sid, 0, f->user_ids, 2, NULL};
	f->txn.len = 0;
	f->zxid = prep_create_session(&f->s, sid, 30000, T_SESSION, &f->txn);
	apply_buf(f, &f->txn);
	return f;
}

static int setup(void **state)
{
	*state = fx_new(false);
	return 0;
}

static int setup_ttl(void **state)
{
	*state = fx_new(true);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	zstate_free(&f->s);
	buf_free(&f->txn);
	buf_free(&f->reply);
	free(f);
	return 0;
}

/* Prepare only (pipelining): the txn is left in f->txn. */
static int64_t prep(struct fx *f, const struct caller *c, int32_t op, const struct buf *body, struct buf *out)
{
	out->len = 0;
	return prep_write(&f->s, c, 1, op, body->data, body->len, T_DEMO, out);
}

/* Prepare and apply one write; returns the reply's err. */
static int32_t wr(struct fx *f, const struct caller *c, int32_t op, struct buf *body)
{
	int64_t before = f->s.last_prepared_zxid;
	f->zxid = prep(f, c, op, body, &f->txn);
	/* every write that reaches prep consumes exactly one zxid (§3.3) */
	assert_int_equal(f->zxid, before + 1);
	apply_buf(f, &f->txn);
	assert_int_equal(f->res.hdr.zxid, f->zxid);
	assert_int_equal(f->s.last_applied_zxid, f->zxid);
	body->len = 0;
	return f->res.err;
}

static int32_t create(struct fx *f, const struct caller *c, const char *path, const char *data, int32_t flags)
{
	struct buf b;
	buf_init(&b);
	zt_create(&b, path, data, ZT_OPEN_ACL, 1, flags);
	int32_t rc = wr(f, c, ZOP_CREATE, &b);
	buf_free(&b);
	return rc;
}

static int32_t create_acl(struct fx *f, const struct caller *c, const char *path, const struct jr_acl *acl,
			  int32_t n)
{
	struct buf b;
	buf_init(&b);
	zt_create(&b, path, "", acl, n, 0);
	int32_t rc = wr(f, c, ZOP_CREATE, &b);
	buf_free(&b);
	return rc;
}

static int32_t del(struct fx *f, const struct caller *c, const char *path, int32_t version)
{
	struct buf b;
	buf_init(&b);
	zt_path_version(&b, path, version);
	int32_t rc = wr(f, c, ZOP_DELETE, &b);
	buf_free(&b);
	return rc;
}

static int32_t set_data(struct fx *f, const struct caller *c, const char *path, const char *data,
			int32_t version)
{
	struct buf b;
	buf_init(&b);
	zt_set_data(&b, path, data, version);
	int32_t rc = wr(f, c, ZOP_SET_DATA, &b);
	buf_free(&b);
	return rc;
}

static int32_t set_acl(struct fx *f, const struct caller *c, const char *path, const struct jr_acl *acl,
		       int32_t n, int32_t version)
{
	struct buf b;
	buf_init(&b);
	zt_set_acl(&b, path, acl, n, version);
	int32_t rc = wr(f, c, ZOP_SET_ACL, &b);
	buf_free(&b);
	return rc;
}

static struct znode *node(struct fx *f, const char *path)
{
	return tree_get(&f->s.tree, path, strlen(path));
}

static struct jr_stat stat_of(struct fx *f, const char *path)
{
	struct znode *z = node(f, path);
	assert_non_null(z);
	struct jr_stat st;
	tree_fill_stat(&f->s.tree, z, &st);
	return st;
}

/* Register a watch as a read from connection `conn` would. */
static void watch(struct fx *f, uint64_t conn, int32_t op, const char *path)
{
	struct caller c = f->anon;
	c.conn = conn;
	struct buf b, r;
	buf_init(&b);
	buf_init(&r);
	zt_path_watch(&b, path, true);
	reads_execute(&f->s, &c, op, b.data, b.len, &r);
	buf_free(&b);
	buf_free(&r);
}

/* The reply of a create: the path, and the Stat that follows for create2. */
static void reply_path(struct fx *f, const char *want, struct jr_stat *st)
{
	struct jute_reader r;
	jute_reader_init(&r, f->reply.data, f->reply.len, 1 << 20, NULL);
	struct jute_bytes p = jute_get_ustring(&r);
	assert_int_equal(r.err, JUTE_OK);
	if (!zt_str_is(p, want))
		fail_msg("reply path %.*s, want %s", p.len, (const char *)p.data, want);
	if (st)
		assert_int_equal(jr_stat_decode(&r, st), 0);
	assert_int_equal(jute_remaining(&r), 0);
}

static struct jr_stat reply_stat(struct fx *f)
{
	struct jute_reader r;
	jute_reader_init(&r, f->reply.data, f->reply.len, 1 << 20, NULL);
	struct jr_stat st;
	assert_int_equal(jr_stat_decode(&r, &st), 0);
	assert_int_equal(jute_remaining(&r), 0);
	return st;
}

/* ---- the live log example ------------------------------------------- */

static void test_live_txn_bytes_and_digest(void **state)
{
	struct fx *f = *state;
	/* §6.2.5 entry 1 without its TxnDigest: the createSession txn */
	static const uint8_t cs[] = {0x01, 0x00, 0x00, 0x8c, 0x04, 0xf6, 0x00, 0x00, 0, 0, 0, 0,
				     0, 0, 0, 0, 0, 0, 0, 1, 0x00, 0x00, 0x01, 0xa2, 0x04, 0xef, 0x1e, 0xbd,
				     0xff, 0xff, 0xff, 0xf6, 0x00, 0x00, 0x75, 0x30};
	assert_int_equal(f->txn.len, sizeof cs);
	assert_memory_equal(f->txn.data, cs, sizeof cs);
	assert_non_null(session_get(&f->s.sessions, SID));
	assert_int_equal(f->res.session_timeout_ms, 30000);
	/* createSession changes nothing in the tree (§6.4) */
	assert_int_equal(f->s.tree.digest, 0x51c6d660);
	/* entry 2: create /demo "hi" OPEN_ACL_UNSAFE persistent, cxid 1 */
	struct buf b;
	buf_init(&b);
	zt_create(&b, "/demo", "hi", ZT_OPEN_ACL, 1, 0);
	f->txn.len = 0;
	int64_t z = prep_write(&f->s, &f->anon, 1, ZOP_CREATE, b.data, b.len, T_DEMO, &f->txn);
	assert_int_equal(z, 2);
	static const uint8_t cr[] = {
		0x01, 0x00, 0x00, 0x8c, 0x04, 0xf6, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0xa2,
		0x04, 0xef, 0x1f, 0x26, 0x00, 0x00, 0x00, 0x01,
		0x00, 0x00, 0x00, 0x05, 0x2f, 0x64, 0x65, 0x6d, 0x6f,
		0x00, 0x00, 0x00, 0x02, 0x68, 0x69,
		0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x05,
		0x77, 0x6f, 0x72, 0x6c, 0x64, 0x00, 0x00, 0x00, 0x06, 0x61, 0x6e, 0x79,
		0x6f, 0x6e, 0x65,
		0x00,
		0x00, 0x00, 0x00, 0x01};
	assert_int_equal(f->txn.len, sizeof cr);
	assert_memory_equal(f->txn.data, cr, sizeof cr);
	apply_buf(f, &f->txn);
	assert_int_equal(f->res.err, 0);
	/* §6.4 [live]: the digest after this txn */
	assert_int_equal(f->s.tree.digest, 0xb0c7bae1);
	/* §2.11: CreateResponse "/demo" */
	static const uint8_t resp[] = {0, 0, 0, 5, '/', 'd', 'e', 'm', 'o'};
	assert_int_equal(f->reply.len, sizeof resp);
	assert_memory_equal(f->reply.data, resp, sizeof resp);
	buf_free(&b);
}

/* ---- create ----------------------------------------------------------- */

static void test_create_order_before_session(void **state)
{
	struct fx *f = *state;
	struct caller ghost = f->anon;
	ghost.session_id = 0x77;  /* unknown session */
	struct buf b;
	buf_init(&b);
	/* 1. invalid flags come before the session check */
	zt_create(&b, "/x", "", ZT_OPEN_ACL, 1, 7);
	assert_int_equal(wr(f, &ghost, ZOP_CREATE, &b), ZBADARGUMENTS);
	zt_create(&b, "/x", "", ZT_OPEN_ACL, 1, -1);
	assert_int_equal(wr(f, &ghost, ZOP_CREATE, &b), ZBADARGUMENTS);
	/* 2. TTL flags with TTLs disabled: Unimplemented, whatever else is wrong */
	zt_create_ttl(&b, "bad", "", ZCF_PERSISTENT_WITH_TTL, 0);
	assert_int_equal(wr(f, &ghost, ZOP_CREATE_TTL, &b), ZUNIMPLEMENTED);
	zt_create(&b, "/x", "", ZT_OPEN_ACL, 1, ZCF_PERSISTENT_SEQUENTIAL_WITH_TTL);
	assert_int_equal(wr(f, &ghost, ZOP_CREATE, &b), ZUNIMPLEMENTED);
	/* 3. opcode 21 with non-TTL flags is rejected, never logged (§3.2) */
	zt_create_ttl(&b, "/x", "", ZCF_PERSISTENT, -1);
	assert_int_equal(wr(f, &ghost, ZOP_CREATE_TTL, &b), ZBADARGUMENTS);
	/* 4. then the session */
	zt_create(&b, "bad", "", NULL, 0, 0);
	assert_int_equal(wr(f, &ghost, ZOP_CREATE, &b), ZUNKNOWNSESSION);
	assert_null(node(f, "/x"));
	buf_free(&b);
}

static void test_create_ttl_checks(void **state)
{
	struct fx *f = *state;  /* extendedTypesEnabled */
	struct buf b;
	buf_init(&b);
	zt_create_ttl(&b, "/t", "", ZCF_PERSISTENT_WITH_TTL, 0);
	assert_int_equal(wr(f, &f->anon, ZOP_CREATE_TTL, &b), ZBADARGUMENTS);
	zt_create_ttl(&b, "/t", "", ZCF_PERSISTENT_WITH_TTL, ZK_TTL_MAX + 1);
	assert_int_equal(wr(f, &f->anon, ZOP_CREATE_TTL, &b), ZBADARGUMENTS);
	zt_create_ttl(&b, "/t", "", ZCF_PERSISTENT, 1000);
	assert_int_equal(wr(f, &f->anon, ZOP_CREATE_TTL, &b), ZBADARGUMENTS);
	assert_null(node(f, "/t"));
	/* a good one: owner marker 0xFF..|ttl persisted, 0 in the Stat */
	zt_create_ttl(&b, "/t", "v", ZCF_PERSISTENT_WITH_TTL, 1000);
	assert_int_equal(wr(f, &f->anon, ZOP_CREATE_TTL, &b), 0);
	struct jr_stat st;
	reply_path(f, "/t", &st);  /* Create2Response */
	assert_int_equal(st.ephemeral_owner, 0);
	assert_int_equal(node(f, "/t")->ephemeral_owner, (int64_t)0xFF000000000003E8LL);
	assert_int_equal(tree_ttl_of(&f->s.tree, node(f, "/t")), 1000);
	/* sequential TTL */
	zt_create_ttl(&b, "/t/s-", "", ZCF_PERSISTENT_SEQUENTIAL_WITH_TTL, ZK_TTL_MAX);
	assert_int_equal(wr(f, &f->anon, ZOP_CREATE_TTL, &b), 0);
	reply_path(f, "/t/s-0000000000", &st);
	assert_int_equal(tree_ttl_of(&f->s.tree, node(f, "/t/s-0000000000")), ZK_TTL_MAX);
	buf_free(&b);
}

static void test_create_session_states(void **state)
{
	struct fx *f = *state;
	assert_int_equal(create(f, &f->anon, "/e", "", ZCF_EPHEMERAL), 0);
	/* the session is closing once its closeSession is prepared */
	f->txn.len = 0;
	prep_close_session(&f->s, SID, 5, T_DEMO, &f->txn);
	struct buf b;
	buf_init(&b);
	zt_create(&b, "/late", "", ZT_OPEN_ACL, 1, 0);
	struct buf t2;
	buf_init(&t2);
	prep(f, &f->anon, ZOP_CREATE, &b, &t2);
	apply_buf(f, &f->txn);  /* the close */
	apply_buf(f, &t2);
	assert_int_equal(f->res.err, ZSESSIONEXPIRED);
	assert_null(node(f, "/late"));
	assert_null(node(f, "/e"));
	/* and once it is gone, it is unknown */
	assert_int_equal(create(f, &f->anon, "/late", "", 0), ZUNKNOWNSESSION);
	buf_free(&b);
	buf_free(&t2);
}

static void test_create_path_and_acl_order(void **state)
{
	struct fx *f = *state;
	struct buf b;
	buf_init(&b);
	/* 5. no '/' or a NUL */
	assert_int_equal(create(f, &f->anon, "abc", "", 0), ZBADARGUMENTS);
	assert_int_equal(create(f, &f->anon, "", "", 0), ZBADARGUMENTS);
	jute_put_strn(&b, "/a\0b", 4);
	jute_put_cstr(&b, "");
	zt_put_acls(&b, ZT_OPEN_ACL, 1);
	jute_put_int(&b, 0);
	assert_int_equal(wr(f, &f->anon, ZOP_CREATE, &b), ZBADARGUMENTS);
	/* 6. fixupACL before the parent lookup */
	assert_int_equal(create_acl(f, &f->anon, "/nope/x", NULL, 0), ZINVALIDACL);
	/* 7. parent missing; "/bad/" looks up parent "/bad" first (§3.1 [live]) */
	assert_int_equal(create(f, &f->anon, "/nope/x", "", 0), ZNONODE);
	assert_int_equal(create(f, &f->anon, "/bad/", "", 0), ZNONODE);
	/* 10. full validation once the parent exists */
	assert_int_equal(create(f, &f->anon, "/bad", "", 0), 0);
	assert_int_equal(create(f, &f->anon, "/bad/", "", 0), ZBADARGUMENTS);
	assert_int_equal(create(f, &f->anon, "/bad/.", "", 0), ZBADARGUMENTS);
	assert_int_equal(create(f, &f->anon, "/bad/\xff", "", 0), ZBADARGUMENTS);
	assert_int_equal(create(f, &f->anon, "/bad//x", "", 0), ZNONODE);  /* parent "/bad/" */
	/* 11. exists */
	assert_int_equal(create(f, &f->anon, "/bad", "", 0), ZNODEEXISTS);
	assert_int_equal(create(f, &f->anon, "/zookeeper", "", 0), ZNODEEXISTS);
	assert_int_equal(create(f, &f->anon, "/", "", 0), ZNODEEXISTS);  /* parent "" is the root */
	/* 12. no children for ephemerals, sequential or not */
	assert_int_equal(create(f, &f->anon, "/eph", "", ZCF_EPHEMERAL), 0);
	assert_int_equal(create(f, &f->anon, "/eph/c", "", 0), ZNOCHILDRENFOREPHEMERALS);
	assert_int_equal(create(f, &f->anon, "/eph/s-", "", ZCF_PERSISTENT_SEQUENTIAL), ZNOCHILDRENFOREPHEMERALS);
	/* a null path or a truncated body: MarshallingError, still a txn */
	jute_put_int(&b, -1);
	jute_put_cstr(&b, "");
	zt_put_acls(&b, ZT_OPEN_ACL, 1);
	jute_put_int(&b, 0);
	assert_int_equal(wr(f, &f->anon, ZOP_CREATE, &b), ZMARSHALLINGERROR);
	zt_create(&b, "/trunc", "data", ZT_OPEN_ACL, 1, 0);
	b.len -= 2;
	assert_int_equal(wr(f, &f->anon, ZOP_CREATE, &b), ZMARSHALLINGERROR);
	assert_null(node(f, "/trunc"));
	buf_free(&b);
}

static void test_create_noauth_before_exists(void **state)
{
	struct fx *f = *state;
	struct jr_acl mine = zt_acl(ZPERM_ALL, "digest", f->user_digest);
	assert_int_equal(create_acl(f, &f->user, "/locked", &mine, 1), 0);
	assert_int_equal(create(f, &f->user, "/locked/x", "", 0), 0);
	/* 8. CREATE on the parent is checked before 11. NodeExists */
	assert_int_equal(create(f, &f->anon, "/locked/x", "", 0), ZNOAUTH);
	assert_int_equal(create(f, &f->anon, "/locked/y", "", 0), ZNOAUTH);
	assert_int_equal(create(f, &f->user, "/locked/x", "", 0), ZNODEEXISTS);
	/* READ-only parent */
	struct jr_acl ro = zt_acl(ZPERM_READ, "world", "anyone");
	assert_int_equal(create_acl(f, &f->anon, "/ro", &ro, 1), 0);
	assert_int_equal(create(f, &f->anon, "/ro/x", "", 0), ZNOAUTH);
	/* super passes any ACL */
	struct auth_id sup[] = {{"super", "", 0, 0}};
	struct caller su = {SID, 0, sup, 1, NULL};
	assert_int_equal(create(f, &su, "/ro/x", "", 0), 0);
}

static void test_fixup_acl(void **state)
{
	struct fx *f = *state;
	struct jr_acl a[3];
	a[0] = zt_acl(ZPERM_ALL, "world", "someone");
	assert_int_equal(create_acl(f, &f->anon, "/a", a, 1), ZINVALIDACL);
	a[0] = zt_acl(ZPERM_ALL, "world", NULL);
	assert_int_equal(create_acl(f, &f->anon, "/a", a, 1), ZMARSHALLINGERROR);
	a[0] = zt_acl(ZPERM_ALL, "auth", "");
	assert_int_equal(create_acl(f, &f->anon, "/a", a, 1), ZINVALIDACL);  /* ip ids do not count */
	a[0] = zt_acl(ZPERM_ALL, "digest", "u:");
	assert_int_equal(create_acl(f, &f->anon, "/a", a, 1), ZINVALIDACL);
	a[0] = zt_acl(ZPERM_ALL, "ip", "1.2.3.4/33");
	assert_int_equal(create_acl(f, &f->anon, "/a", a, 1), ZINVALIDACL);
	a[0] = zt_acl(ZPERM_ALL, "sasl", "me");
	assert_int_equal(create_acl(f, &f->anon, "/a", a, 1), ZINVALIDACL);
	/* one bad entry spoils the list */
	a[0] = zt_acl(ZPERM_ALL, "ip", "10.0.0.0/8");
	a[1] = zt_acl(ZPERM_ALL, "x509", "CN=a");
	assert_int_equal(create_acl(f, &f->anon, "/a", a, 2), ZINVALIDACL);
	assert_null(node(f, "/a"));
	/* auth expands to the caller's digest ids; duplicates go; perms are not
	 * validated (0 is accepted) */
	a[0] = zt_acl(ZPERM_READ | ZPERM_ADMIN, "auth", "ignored");
	a[1] = zt_acl(0, "ip", "10.0.0.0/8");
	a[2] = zt_acl(0, "ip", "10.0.0.0/8");
	assert_int_equal(create_acl(f, &f->user, "/a", a, 3), 0);
	const struct acl_list *l = acl_cache_get(&f->s.tree.acls, node(f, "/a")->acl_ref);
	assert_non_null(l);
	assert_int_equal(l->count, 2);
	assert_string_equal(l->items[0].scheme, "digest");
	assert_string_equal(l->items[0].id, f->user_digest);
	assert_int_equal(l->items[0].perms, ZPERM_READ | ZPERM_ADMIN);
	assert_string_equal(l->items[1].scheme, "ip");
	assert_int_equal(l->items[1].perms, 0);
	/* the txn carries the expanded list */
	struct jute_reader r;
	jute_reader_init(&r, f->txn.data, f->txn.len, 1 << 20, &f->s.scratch);
	struct jr_txn_header h;
	struct jr_create_txn ct;
	assert_int_equal(jr_txn_header_decode(&r, &h), 0);
	assert_int_equal(jr_create_txn_decode(&r, &ct), 0);
	assert_int_equal(ct.acl.count, 2);
	assert_true(zt_str_is(ct.acl.items[0].id.id, f->user_digest));
	arena_reset(&f->s.scratch);
}

static void test_create_kinds(void **state)
{
	struct fx *f = *state;
	struct buf b;
	buf_init(&b);
	struct jr_stat st;
	/* opcode 15 with null data: Create2Response, dataLength 0 */
	zt_create(&b, "/p", NULL, ZT_OPEN_ACL, 1, 0);
	assert_int_equal(wr(f, &f->anon, ZOP_CREATE2, &b), 0);
	reply_path(f, "/p", &st);
	assert_int_equal(st.czxid, f->zxid);
	assert_int_equal(st.mzxid, f->zxid);
	assert_int_equal(st.pzxid, f->zxid);
	assert_int_equal(st.ctime, T_DEMO);
	assert_int_equal(st.mtime, T_DEMO);
	assert_int_equal(st.version, 0);
	assert_int_equal(st.cversion, 0);
	assert_int_equal(st.aversion, 0);
	assert_int_equal(st.data_length, 0);
	assert_int_equal(node(f, "/p")->data_len, -1);
	/* ephemeral: owner is the session (§2.11 create2 /demo/e flags 1) */
	zt_create(&b, "/p/e", NULL, ZT_OPEN_ACL, 1, ZCF_EPHEMERAL);
	assert_int_equal(wr(f, &f->anon, ZOP_CREATE2, &b), 0);
	reply_path(f, "/p/e", &st);
	assert_int_equal(st.ephemeral_owner, SID);
	assert_int_equal(tree_ephemerals(&f->s.tree, SID)->count, 1);
	/* container: opcode 19 decides, flags do not (§2.4) */
	zt_create(&b, "/c19", "", ZT_OPEN_ACL, 1, 0);
	assert_int_equal(wr(f, &f->anon, ZOP_CREATE_CONTAINER, &b), 0);
	reply_path(f, "/c19", &st);
	assert_int_equal(st.ephemeral_owner, 0);
	assert_true(tree_is_container(node(f, "/c19")));
	assert_int_equal(create(f, &f->anon, "/c1", "", ZCF_CONTAINER), 0);
	reply_path(f, "/c1", NULL);  /* opcode 1: CreateResponse only */
	assert_int_equal(node(f, "/c1")->ephemeral_owner, 0);
	/* containers may have children; ephemerals under them too */
	assert_int_equal(create(f, &f->anon, "/c19/e", "", ZCF_EPHEMERAL), 0);
	/* TTL with TTLs off: Unimplemented (covered above) */
	buf_free(&b);
}

/* ---- sequential names (§3.5) ---------------------------------------- */

static void test_sequential_suffix(void **state)
{
	struct fx *f = *state;
	assert_int_equal(create(f, &f->anon, "/demo", "hi", 0), 0);
	assert_int_equal(create(f, &f->anon, "/demo/seq-", "", ZCF_PERSISTENT_SEQUENTIAL), 0);
	reply_path(f, "/demo/seq-0000000000", NULL);  /* §2.11 [live] */
	/* every creation counts, deletions never free a number */
	assert_int_equal(create(f, &f->anon, "/demo/plain", "", 0), 0);
	assert_int_equal(del(f, &f->anon, "/demo/plain", -1), 0);
	assert_int_equal(create(f, &f->anon, "/demo/e-", "", ZCF_EPHEMERAL_SEQUENTIAL), 0);
	reply_path(f, "/demo/e-0000000002", NULL);
	assert_int_equal(node(f, "/demo/e-0000000002")->ephemeral_owner, SID);
	/* the suffix may make the path invalid: validation runs after it */
	assert_int_equal(create(f, &f->anon, "/demo/", "", ZCF_PERSISTENT_SEQUENTIAL), 0);
	reply_path(f, "/demo/0000000003", NULL);
	assert_int_equal(node(f, "/demo")->cversion, 4);
	/* pipelined: each sees the overlay of the ones before it */
	struct buf b, t1, t2;
	buf_init(&b);
	buf_init(&t1);
	buf_init(&t2);
	zt_create(&b, "/demo/p-", "", ZT_OPEN_ACL, 1, ZCF_PERSISTENT_SEQUENTIAL);
	prep(f, &f->anon, ZOP_CREATE, &b, &t1);
	prep(f, &f->anon, ZOP_CREATE, &b, &t2);
	apply_buf(f, &t1);
	reply_path(f, "/demo/p-0000000004", NULL);
	apply_buf(f, &t2);
	reply_path(f, "/demo/p-0000000005", NULL);
	buf_free(&b);
	buf_free(&t1);
	buf_free(&t2);
}

static void test_sequential_saturates(void **state)
{
	struct fx *f = *state;
	assert_int_equal(create(f, &f->anon, "/s", "", 0), 0);
	struct znode *s = node(f, "/s");
	s->cversion = INT32_MAX;  /* 2^31 - 1 creations later */
	assert_int_equal(create(f, &f->anon, "/s/n-", "", ZCF_PERSISTENT_SEQUENTIAL), 0);
	reply_path(f, "/s/n-2147483647", NULL);
	int64_t pz = s->pzxid;
	/* parentCVersion INT32_MIN is not larger: cversion stays, pzxid too */
	assert_int_equal(s->cversion, INT32_MAX);
	assert_int_equal(create(f, &f->anon, "/s/n-", "", ZCF_PERSISTENT_SEQUENTIAL), ZNODEEXISTS);
	assert_int_equal(s->pzxid, pz);
	/* creates pipelined behind the wrapping one see -2147483648 */
	assert_int_equal(del(f, &f->anon, "/s/n-2147483647", -1), 0);
	struct buf b, t1, t2;
	buf_init(&b);
	buf_init(&t1);
	buf_init(&t2);
	zt_create(&b, "/s/n-", "", ZT_OPEN_ACL, 1, ZCF_PERSISTENT_SEQUENTIAL);
	prep(f, &f->anon, ZOP_CREATE, &b, &t1);
	prep(f, &f->anon, ZOP_CREATE, &b, &t2);
	apply_buf(f, &t1);
	reply_path(f, "/s/n-2147483647", NULL);
	apply_buf(f, &t2);
	assert_int_equal(f->res.err, 0);
	reply_path(f, "/s/n--2147483648", NULL);
	assert_int_equal(s->cversion, INT32_MAX);
	buf_free(&b);
	buf_free(&t1);
	buf_free(&t2);
}

/* ---- delete, setData, setACL ---------------------------------------- */

static void test_delete_order(void **state)
{
	struct fx *f = *state;
	struct caller ghost = f->anon;
	ghost.session_id = 0x77;
	assert_int_equal(del(f, &ghost, "/", -1), ZUNKNOWNSESSION);
	const char *special[] = {"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config", "abc", ""};
	for (size_t i = 0; i < sizeof special / sizeof *special; i++)
		assert_int_equal(del(f, &f->anon, special[i], -1), ZBADARGUMENTS);
	assert_int_equal(del(f, &f->anon, "/nope/x", -1), ZNONODE);
	/* DELETE on the parent before the node's existence */
	struct jr_acl mine = zt_acl(ZPERM_ALL, "digest", f->user_digest);
	assert_int_equal(create_acl(f, &f->user, "/locked", &mine, 1), 0);
	assert_int_equal(del(f, &f->anon, "/locked/missing", -1), ZNOAUTH);
	assert_int_equal(del(f, &f->user, "/locked/missing", -1), ZNONODE);
	/* the node's own ACL does not matter, the parent's does */
	assert_int_equal(create(f, &f->user, "/locked/x", "", 0), 0);
	assert_int_equal(del(f, &f->anon, "/locked/x", -1), ZNOAUTH);
	/* version before NotEmpty */
	assert_int_equal(create(f, &f->anon, "/full", "", 0), 0);
	assert_int_equal(create(f, &f->anon, "/full/c", "", 0), 0);
	assert_int_equal(del(f, &f->anon, "/full", 5), ZBADVERSION);
	assert_int_equal(del(f, &f->anon, "/full", -1), ZNOTEMPTY);
	assert_int_equal(del(f, &f->anon, "/full", 0), ZNOTEMPTY);
	/* §3.3 [live]: the NotEmpty error txn is TxnHeader{type -1} + ff ff ff 91 */
	assert_int_equal(f->txn.len, 32 + 4);
	assert_int_equal((int32_t)be32_get(f->txn.data + 28), ZOP_ERROR);
	static const uint8_t err[] = {0xff, 0xff, 0xff, 0x91};
	assert_memory_equal(f->txn.data + 32, err, 4);
	assert_int_equal(f->reply.len, 0);
	/* success: no reply body; the parent's pzxid moves */
	assert_int_equal(del(f, &f->anon, "/full/c", 0), 0);
	assert_int_equal(f->reply.len, 0);
	assert_null(node(f, "/full/c"));
	struct jr_stat st = stat_of(f, "/full");
	assert_int_equal(st.pzxid, f->zxid);
	assert_int_equal(st.cversion, 2);
	assert_int_equal(st.num_children, 0);
	assert_true(st.mzxid < f->zxid);
}

static void test_set_data_order_and_stat(void **state)
{
	struct fx *f = *state;
	struct caller ghost = f->anon;
	ghost.session_id = 0x77;
	assert_int_equal(set_data(f, &ghost, "bad", "", -1), ZUNKNOWNSESSION);
	assert_int_equal(set_data(f, &f->anon, "/a/", "", -1), ZBADARGUMENTS);
	assert_int_equal(set_data(f, &f->anon, "", "", -1), ZBADARGUMENTS);
	assert_int_equal(set_data(f, &f->anon, "/a", "", -1), ZNONODE);
	/* WRITE before the version */
	struct jr_acl ro[] = {zt_acl(ZPERM_READ, "world", "anyone"), zt_acl(ZPERM_ALL, "digest", f->user_digest)};
	assert_int_equal(create_acl(f, &f->user, "/a", ro, 2), 0);
	int64_t created = f->zxid;
	assert_int_equal(set_data(f, &f->anon, "/a", "x", 9), ZNOAUTH);
	assert_int_equal(set_data(f, &f->user, "/a", "x", 9), ZBADVERSION);
	assert_int_equal(set_data(f, &f->user, "/a", "hello", 0), 0);
	struct jr_stat st = reply_stat(f);
	assert_int_equal(st.version, 1);
	assert_int_equal(st.mzxid, f->zxid);
	assert_int_equal(st.czxid, created);
	assert_int_equal(st.pzxid, created);
	assert_int_equal(st.data_length, 5);
	assert_int_equal(set_data(f, &f->user, "/a", NULL, -1), 0);
	st = reply_stat(f);
	assert_int_equal(st.version, 2);
	assert_int_equal(st.data_length, 0);
	/* the root is writable */
	assert_int_equal(set_data(f, &f->anon, "/", "r", -1), 0);
	assert_int_equal(reply_stat(f).version, 1);
}

static void test_set_acl_order_and_stat(void **state)
{
	struct fx *f = *state;
	struct jr_acl open1 = ZT_OPEN_ACL[0];
	struct caller ghost = f->anon;
	ghost.session_id = 0x77;
	assert_int_equal(set_acl(f, &ghost, "bad", NULL, 0, -1), ZUNKNOWNSESSION);
	assert_int_equal(set_acl(f, &f->anon, "bad", NULL, 0, -1), ZBADARGUMENTS);
	/* InvalidACL before NoNode */
	assert_int_equal(set_acl(f, &f->anon, "/nope", NULL, 0, -1), ZINVALIDACL);
	assert_int_equal(set_acl(f, &f->anon, "/nope", &open1, 1, -1), ZNONODE);
	assert_int_equal(create(f, &f->anon, "/n", "d", 0), 0);
	int64_t created = f->zxid;
	assert_int_equal(set_data(f, &f->anon, "/n", "e", -1), 0);
	int64_t written = f->zxid;
	/* version is matched against aversion (0), not version (1) */
	assert_int_equal(set_acl(f, &f->anon, "/n", &open1, 1, 1), ZBADVERSION);
	struct jr_acl mine = zt_acl(ZPERM_ALL, "digest", f->user_digest);
	assert_int_equal(set_acl(f, &f->anon, "/n", &mine, 1, 0), 0);
	struct jr_stat st = reply_stat(f);
	assert_int_equal(st.aversion, 1);
	assert_int_equal(st.version, 1);
	assert_int_equal(st.mzxid, written);   /* setACL leaves mzxid alone */
	assert_int_equal(st.czxid, created);
	/* now ADMIN is needed */
	assert_int_equal(set_acl(f, &f->anon, "/n", &open1, 1, -1), ZNOAUTH);
	assert_int_equal(set_acl(f, &f->user, "/n", &open1, 1, 1), 0);
	assert_int_equal(reply_stat(f).aversion, 2);
	assert_int_equal(node(f, "/n")->acl_ref, acl_cache_intern(&f->s.tree.acls, &open1, 1));
	acl_cache_release(&f->s.tree.acls, node(f, "/n")->acl_ref);
}

static void test_unknown_write_opcode_is_error_txn(void **state)
{
	struct fx *f = *state;
	struct buf b;
	buf_init(&b);
	/* reconfig in standalone: Unimplemented, through an error txn */
	jute_put_cstr(&b, "");
	jute_put_cstr(&b, "");
	jute_put_cstr(&b, "");
	jute_put_long(&b, -1);
	assert_int_equal(wr(f, &f->anon, ZOP_RECONFIG, &b), ZUNIMPLEMENTED);
	buf_free(&b);
}

/* ---- the /demo example of §3.4, end to end -------------------------- */

static void test_demo_cversion_example(void **state)
{
	struct fx *f = *state;
	assert_int_equal(create(f, &f->anon, "/demo", "hi", 0), 0);
	assert_int_equal(f->zxid, 2);
	assert_int_equal(set_data(f, &f->anon, "/demo", "x", -1), 0);
	assert_int_equal(create(f, &f->anon, "/demo/a", "", 0), 0);
	assert_int_equal(create(f, &f->anon, "/demo/b", "", 0), 0);
	struct jr_stat st = stat_of(f, "/demo");
	assert_int_equal(st.cversion, 2);
	assert_int_equal(st.num_children, 2);
	assert_int_equal(st.pzxid, 5);
	assert_int_equal(st.version, 1);
	assert_int_equal(node(f, "/demo")->cversion, 2);
	/* a failed write in between still takes zxid 6 */
	assert_int_equal(del(f, &f->anon, "/demo", -1), ZNOTEMPTY);
	assert_int_equal(f->zxid, 6);
	assert_int_equal(del(f, &f->anon, "/demo/a", -1), 0);
	assert_int_equal(f->zxid, 7);
	st = stat_of(f, "/demo");
	assert_int_equal(st.cversion, 3);
	assert_int_equal(st.pzxid, 7);
	assert_int_equal(st.mzxid, 3);
}

/* ---- pending overlay ------------------------------------------------ */

static void test_pipelined_writes_see_each_other(void **state)
{
	struct fx *f = *state;
	struct buf b, t[5];
	buf_init(&b);
	for (int i = 0; i < 5; i++)
		buf_init(&t[i]);
	zt_create(&b, "/x", "", ZT_OPEN_ACL, 1, 0);
	prep(f, &f->anon, ZOP_CREATE, &b, &t[0]);
	b.len = 0;
	zt_create(&b, "/x/y", "", ZT_OPEN_ACL, 1, 0);
	prep(f, &f->anon, ZOP_CREATE, &b, &t[1]);       /* parent only in the overlay */
	b.len = 0;
	zt_create(&b, "/x", "", ZT_OPEN_ACL, 1, 0);
	prep(f, &f->anon, ZOP_CREATE, &b, &t[2]);       /* NodeExists in the overlay */
	b.len = 0;
	zt_set_data(&b, "/x", "v", 0);
	prep(f, &f->anon, ZOP_SET_DATA, &b, &t[3]);     /* version 0 → 1 */
	b.len = 0;
	zt_set_data(&b, "/x", "w", 0);
	prep(f, &f->anon, ZOP_SET_DATA, &b, &t[4]);     /* BadVersion: now 1 */
	/* reads see only the committed tree meanwhile */
	assert_null(node(f, "/x"));
	int32_t want[5] = {0, 0, ZNODEEXISTS, 0, ZBADVERSION};
	for (int i = 0; i < 5; i++) {
		apply_buf(f, &t[i]);
		assert_int_equal(f->res.err, want[i]);
	}
	assert_int_equal(stat_of(f, "/x").version, 1);
	assert_int_equal(stat_of(f, "/x").num_children, 1);
	/* all applied: the overlay is empty again */
	size_t pos = 0;
	assert_null(pending_next(&f->s.pending, &pos));
	buf_free(&b);
	for (int i = 0; i < 5; i++)
		buf_free(&t[i]);
}

static void test_pipelined_delete_then_create(void **state)
{
	struct fx *f = *state;
	assert_int_equal(create(f, &f->anon, "/d", "", 0), 0);
	struct buf b, t1, t2, t3;
	buf_init(&b);
	buf_init(&t1);
	buf_init(&t2);
	buf_init(&t3);
	zt_path_version(&b, "/d", -1);
	prep(f, &f->anon, ZOP_DELETE, &b, &t1);
	prep(f, &f->anon, ZOP_DELETE, &b, &t2);  /* NoNode: deleted in the overlay */
	b.len = 0;
	zt_create(&b, "/d", "", ZT_OPEN_ACL, 1, 0);
	prep(f, &f->anon, ZOP_CREATE, &b, &t3);  /* fine again */
	apply_buf(f, &t1);
	assert_int_equal(f->res.err, 0);
	apply_buf(f, &t2);
	assert_int_equal(f->res.err, ZNONODE);
	apply_buf(f, &t3);
	assert_int_equal(f->res.err, 0);
	assert_non_null(node(f, "/d"));
	buf_free(&b);
	buf_free(&t1);
	buf_free(&t2);
	buf_free(&t3);
}

/* ---- multi (§3.6) --------------------------------------------------- */

static void test_multi_live_failure_example(void **state)
{
	struct fx *f = *state;
	assert_int_equal(create(f, &f->anon, "/demo", "hi", 0), 0);
	assert_int_equal(set_data(f, &f->anon, "/demo", "hi", -1), 0);
	assert_int_equal(create(f, &f->anon, "/demo/x", "", 0), 0);
	assert_int_equal(del(f, &f->anon, "/demo/x", -1), 0);
	uint64_t digest = f->s.tree.digest;
	/* the request body of the §3.6 worked example, verbatim */
	static const uint8_t body[] = {
		0x00, 0x00, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff,
		0x00, 0x00, 0x00, 0x07, 0x2f, 0x64, 0x65, 0x6d, 0x6f, 0x2f, 0x6d, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x05, 'w', 'o', 'r', 'l', 'd',
		0x00, 0x00, 0x00, 0x06, 'a', 'n', 'y', 'o', 'n', 'e',
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x02, 0x00, 0xff, 0xff, 0xff, 0xff,
		0x00, 0x00, 0x00, 0x05, 0x2f, 0x6e, 0x6f, 0x70, 0x65, 0xff, 0xff, 0xff, 0xff,
		0x00, 0x00, 0x00, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff,
		0x00, 0x00, 0x00, 0x05, 0x2f, 0x64, 0x65, 0x6d, 0x6f, 0x00, 0x00, 0x00, 0x01, 0x7a, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0x01, 0xff, 0xff, 0xff, 0xff};
	assert_int_equal(sizeof body + 8, 0x79);
	struct buf b;
	buf_init(&b);
	buf_put(&b, body, sizeof body);
	/* header err 0 even though the multi failed; zxid 6 as in the live run */
	assert_int_equal(wr(f, &f->anon, ZOP_MULTI, &b), 0);
	assert_int_equal(f->zxid, 6);
	static const uint8_t reply[] = {
		0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0xff, 0x9b, 0xff, 0xff, 0xff, 0x9b,
		0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xfe,
		0xff, 0xff, 0xff, 0xff, 0x01, 0xff, 0xff, 0xff, 0xff};
	assert_int_equal(f->reply.len + 16, 64);
	assert_memory_equal(f->reply.data, reply, sizeof reply);
	/* nothing applied */
	assert_null(node(f, "/demo/m"));
	assert_int_equal(stat_of(f, "/demo").version, 1);
	assert_int_equal(f->s.tree.digest, digest);
	/* logged as a multi: the create keeps its type, the rest are error txns */
	struct jute_reader r;
	jute_reader_init(&r, f->txn.data, f->txn.len, 1 << 20, &f->s.scratch);
	struct jr_txn_header h;
	struct jr_multi_txn m;
	assert_int_equal(jr_txn_header_decode(&r, &h), 0);
	assert_int_equal(h.type, ZOP_MULTI);
	assert_int_equal(jr_multi_txn_decode(&r, &m), 0);
	assert_int_equal(m.txns.count, 3);
	assert_int_equal(m.txns.items[0].type, ZOP_CREATE);
	assert_int_equal(m.txns.items[1].type, ZOP_ERROR);
	assert_int_equal((int32_t)be32_get(m.txns.items[1].data.data), ZNONODE);
	assert_int_equal(m.txns.items[2].type, ZOP_ERROR);
	assert_int_equal((int32_t)be32_get(m.txns.items[2].data.data), ZRUNTIMEINCONSISTENCY);
	arena_reset(&f->s.scratch);
	buf_free(&b);
}

struct mres {
	int32_t type, err;
	struct jute_bytes path;
	struct jr_stat stat;
};

/* Decode a MultiResponse; returns the number of results. */
static int multi_results(struct fx *f, struct mres *out, int cap)
{
	struct jute_reader r;
	jute_reader_init(&r, f->reply.data, f->reply.len, 1 << 20, NULL);
	int n = 0;
	for (;;) {
		struct jr_multi_header h;
		assert_int_equal(jr_multi_header_decode(&r, &h), 0);
		if (h.done) {
			assert_int_equal(h.type, -1);
			assert_int_equal(h.err, -1);
			break;
		}
		assert_true(n < cap);
		struct mres *m = &out[n++];
		memset(m, 0, sizeof *m);
		m->type = h.type;
		m->err = h.err;
		if (h.type == ZOP_ERROR) {
			assert_int_equal(jute_get_int(&r), h.err);
			continue;
		}
		assert_int_equal(h.err, 0);
		if (h.type == ZOP_CREATE || h.type == ZOP_CREATE2)
			m->path = jute_get_ustring(&r);
		if (h.type == ZOP_CREATE2 || h.type == ZOP_SET_DATA)
			jr_stat_decode(&r, &m->stat);
		assert_int_equal(r.err, JUTE_OK);
	}
	assert_int_equal(jute_remaining(&r), 0);
	return n;
}

static void test_multi_success(void **state)
{
	struct fx *f = *state;
	watch(f, 9, ZOP_EXISTS, "/a");
	watch(f, 9, ZOP_GET_CHILDREN, "/");
	struct buf b;
	buf_init(&b);
	zt_multi_op(&b, ZOP_CREATE);
	zt_create(&b, "/a", "1", ZT_OPEN_ACL, 1, 0);
	zt_multi_op(&b, ZOP_CREATE);
	zt_create(&b, "/a/b", "", ZT_OPEN_ACL, 1, 0);   /* needs the create before it */
	zt_multi_op(&b, ZOP_SET_DATA);
	zt_set_data(&b, "/a", "2", 0);
	zt_multi_op(&b, ZOP_CHECK);
	zt_path_version(&b, "/a", 1);                   /* sees the setData before it */
	zt_multi_op(&b, ZOP_CREATE);
	zt_create(&b, "/a/c-", "", ZT_OPEN_ACL, 1, ZCF_CONTAINER); /* header 1 + flags 4: container */
	zt_multi_op(&b, ZOP_DELETE);
	zt_path_version(&b, "/a/b", 0);
	zt_multi_end(&b);
	assert_int_equal(wr(f, &f->anon, ZOP_MULTI, &b), 0);
	struct mres m[8];
	assert_int_equal(multi_results(f, m, 8), 6);
	assert_int_equal(m[0].type, ZOP_CREATE);
	assert_true(zt_str_is(m[0].path, "/a"));
	assert_int_equal(m[1].type, ZOP_CREATE);
	assert_true(zt_str_is(m[1].path, "/a/b"));
	assert_int_equal(m[2].type, ZOP_SET_DATA);
	assert_int_equal(m[2].stat.version, 1);
	assert_int_equal(m[2].stat.mzxid, f->zxid);
	assert_int_equal(m[3].type, ZOP_CHECK);
	assert_int_equal(m[4].type, ZOP_CREATE2);
	assert_true(zt_str_is(m[4].path, "/a/c-"));
	assert_int_equal(m[5].type, ZOP_DELETE);
	/* one zxid for everything */
	struct jr_stat st = stat_of(f, "/a");
	assert_int_equal(st.czxid, f->zxid);
	assert_int_equal(st.mzxid, f->zxid);
	assert_int_equal(st.pzxid, f->zxid);
	assert_int_equal(st.cversion, 3);  /* two creates and one delete */
	assert_int_equal(st.num_children, 1);
	assert_true(tree_is_container(node(f, "/a/c-")));
	assert_null(node(f, "/a/b"));
	assert_int_equal(f->n_ev, 2);
	assert_int_equal(f->ev[0].type, ZEV_NODE_CREATED);
	assert_string_equal(f->ev[0].path, "/a");
	assert_int_equal(f->ev[1].type, ZEV_NODE_CHILDREN_CHANGED);
	assert_string_equal(f->ev[1].path, "/");
	buf_free(&b);
}

static void test_multi_rollback_of_overlay(void **state)
{
	struct fx *f = *state;
	struct buf b, t1, t2;
	buf_init(&b);
	buf_init(&t1);
	buf_init(&t2);
	zt_multi_op(&b, ZOP_CREATE);
	zt_create(&b, "/p", "", ZT_OPEN_ACL, 1, 0);
	zt_multi_op(&b, ZOP_CREATE);
	zt_create(&b, "/p/q", "", ZT_OPEN_ACL, 1, 0);
	zt_multi_op(&b, ZOP_CHECK);
	zt_path_version(&b, "/p", 3);                   /* BadVersion */
	zt_multi_op(&b, ZOP_DELETE);
	zt_path_version(&b, "/nope", -1);               /* not attempted */
	zt_multi_end(&b);
	prep(f, &f->anon, ZOP_MULTI, &b, &t1);
	/* pipelined behind the failed multi: its creates left no trace */
	b.len = 0;
	zt_create(&b, "/p/q", "", ZT_OPEN_ACL, 1, 0);
	prep(f, &f->anon, ZOP_CREATE, &b, &t2);
	apply_buf(f, &t1);
	assert_int_equal(f->res.err, 0);
	struct mres m[4];
	assert_int_equal(multi_results(f, m, 4), 4);
	int32_t want[4] = {0, 0, ZBADVERSION, ZRUNTIMEINCONSISTENCY};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(m[i].type, ZOP_ERROR);
		assert_int_equal(m[i].err, want[i]);
	}
	assert_null(node(f, "/p"));
	apply_buf(f, &t2);
	assert_int_equal(f->res.err, ZNONODE);
	size_t pos = 0;
	assert_null(pending_next(&f->s.pending, &pos));
	buf_free(&b);
	buf_free(&t1);
	buf_free(&t2);
}

static void test_multi_malformed_and_empty(void **state)
{
	struct fx *f = *state;
	struct buf b;
	buf_init(&b);
	/* empty multi: a txn, and the bare terminator as reply (§3.6 [live]) */
	zt_multi_end(&b);
	assert_int_equal(wr(f, &f->anon, ZOP_MULTI, &b), 0);
	static const uint8_t end[] = {0xff, 0xff, 0xff, 0xff, 0x01, 0xff, 0xff, 0xff, 0xff};
	assert_int_equal(f->reply.len, sizeof end);
	assert_memory_equal(f->reply.data, end, sizeof end);
	/* a read op in opcode 14: MarshallingError for the whole multi */
	zt_multi_op(&b, ZOP_CREATE);
	zt_create(&b, "/r", "", ZT_OPEN_ACL, 1, 0);
	zt_multi_op(&b, ZOP_GET_DATA);
	zt_path_watch(&b, "/r", false);
	zt_multi_end(&b);
	assert_int_equal(wr(f, &f->anon, ZOP_MULTI, &b), ZMARSHALLINGERROR);
	assert_int_equal(f->reply.len, 0);
	assert_null(node(f, "/r"));
	/* an unknown sub-op type */
	zt_multi_op(&b, 99);
	zt_path_version(&b, "/r", -1);
	zt_multi_end(&b);
	assert_int_equal(wr(f, &f->anon, ZOP_MULTI, &b), ZMARSHALLINGERROR);
	/* no terminator */
	zt_multi_op(&b, ZOP_DELETE);
	zt_path_version(&b, "/r", -1);
	assert_int_equal(wr(f, &f->anon, ZOP_MULTI, &b), ZMARSHALLINGERROR);
	/* a terminator with any non-zero done byte ends the list */
	zt_multi_op(&b, ZOP_CREATE);
	zt_create(&b, "/r", "", ZT_OPEN_ACL, 1, 0);
	jute_put_int(&b, 0);
	jute_put_byte(&b, 2);
	jute_put_int(&b, 0);
	jute_put_cstr(&b, "trailing bytes are ignored");
	assert_int_equal(wr(f, &f->anon, ZOP_MULTI, &b), 0);
	assert_non_null(node(f, "/r"));
	/* an invalid flag is a per-op BadArguments (3.8.0) */
	zt_multi_op(&b, ZOP_CREATE);
	zt_create(&b, "/s", "", ZT_OPEN_ACL, 1, 9);
	zt_multi_end(&b);
	assert_int_equal(wr(f, &f->anon, ZOP_MULTI, &b), 0);
	struct mres m[2];
	assert_int_equal(multi_results(f, m, 2), 1);
	assert_int_equal(m[0].err, ZBADARGUMENTS);
	buf_free(&b);
}

/* ---- watches fired by apply (§2.7.4) -------------------------------- */

static void test_apply_fires_watches(void **state)
{
	struct fx *f = *state;
	watch(f, 1, ZOP_EXISTS, "/w");           /* exists on a missing node */
	watch(f, 2, ZOP_GET_CHILDREN, "/");
	assert_int_equal(create(f, &f->anon, "/w", "", 0), 0);
	assert_int_equal(f->n_ev, 2);
	assert_true(f->ev[0].conn == 1 && f->ev[0].type == ZEV_NODE_CREATED);
	assert_string_equal(f->ev[0].path, "/w");
	assert_true(f->ev[1].conn == 2 && f->ev[1].type == ZEV_NODE_CHILDREN_CHANGED);
	assert_string_equal(f->ev[1].path, "/");
	f->n_ev = 0;
	/* one-shot: a second create under / fires nothing */
	assert_int_equal(create(f, &f->anon, "/w2", "", 0), 0);
	assert_int_equal(f->n_ev, 0);
	/* setData → NodeDataChanged; setACL → nothing */
	watch(f, 1, ZOP_GET_DATA, "/w");
	struct jr_acl open1 = ZT_OPEN_ACL[0];
	assert_int_equal(set_acl(f, &f->anon, "/w", &open1, 1, -1), 0);
	assert_int_equal(f->n_ev, 0);
	assert_int_equal(set_data(f, &f->anon, "/w", "v", -1), 0);
	assert_int_equal(f->n_ev, 1);
	assert_int_equal(f->ev[0].type, ZEV_NODE_DATA_CHANGED);
	f->n_ev = 0;
	/* delete: data and child watchers of the node get one NodeDeleted each,
	 * then the parent's child watchers NodeChildrenChanged */
	watch(f, 1, ZOP_EXISTS, "/w");
	watch(f, 1, ZOP_GET_CHILDREN, "/w");
	watch(f, 3, ZOP_GET_CHILDREN, "/w");
	watch(f, 2, ZOP_GET_CHILDREN, "/");
	assert_int_equal(del(f, &f->anon, "/w", -1), 0);
	assert_int_equal(f->n_ev, 3);
	assert_true(f->ev[0].conn == 1 && f->ev[0].type == ZEV_NODE_DELETED);
	assert_true(f->ev[1].conn == 3 && f->ev[1].type == ZEV_NODE_DELETED);
	assert_true(f->ev[2].conn == 2 && f->ev[2].type == ZEV_NODE_CHILDREN_CHANGED);
	assert_int_equal(watch_count(&f->s.watches), 0);
	/* a failed write fires nothing */
	f->n_ev = 0;
	watch(f, 1, ZOP_EXISTS, "/w2");
	assert_int_equal(create(f, &f->anon, "/w2", "", 0), ZNODEEXISTS);
	assert_int_equal(f->n_ev, 0);
}

/* ---- closeSession (§6.3) -------------------------------------------- */

static void test_close_session_deletes_ephemerals(void **state)
{
	struct fx *f = *state;
	assert_int_equal(create(f, &f->anon, "/app", "", 0), 0);
	assert_int_equal(create(f, &f->anon, "/app/e1", "", ZCF_EPHEMERAL), 0);
	assert_int_equal(create(f, &f->anon, "/app/e2-", "", ZCF_EPHEMERAL_SEQUENTIAL), 0);
	assert_int_equal(create(f, &f->anon, "/app/keep", "", 0), 0);
	watch(f, 50, ZOP_EXISTS, "/app/e1");
	watch(f, 51, ZOP_GET_CHILDREN, "/app");
	/* in flight when the close is prepared: a create of /app/e3, a delete of /app/e1 */
	struct buf b, t1, t2, tc;
	buf_init(&b);
	buf_init(&t1);
	buf_init(&t2);
	buf_init(&tc);
	zt_create(&b, "/app/e3", "", ZT_OPEN_ACL, 1, ZCF_EPHEMERAL);
	prep(f, &f->anon, ZOP_CREATE, &b, &t1);
	b.len = 0;
	zt_path_version(&b, "/app/e1", -1);
	prep(f, &f->anon, ZOP_DELETE, &b, &t2);
	int64_t z = prep_close_session(&f->s, SID, 77, T_DEMO, &tc);
	/* paths2Delete: ephemerals + in-flight creates − in-flight deletes */
	struct jute_reader r;
	jute_reader_init(&r, tc.data, tc.len, 1 << 20, &f->s.scratch);
	struct jr_txn_header h;
	struct jr_close_session_txn cs;
	assert_int_equal(jr_txn_header_decode(&r, &h), 0);
	assert_int_equal(h.type, ZOP_CLOSE_SESSION);
	assert_int_equal(h.client_id, SID);
	assert_int_equal(h.cxid, 77);
	assert_int_equal(h.zxid, z);
	assert_int_equal(jr_close_session_txn_decode(&r, &cs), 0);
	assert_int_equal(cs.paths2_delete.count, 2);
	bool e2 = false, e3 = false;
	for (int i = 0; i < 2; i++) {
		e2 |= zt_str_is(cs.paths2_delete.items[i], "/app/e2-0000000001");
		e3 |= zt_str_is(cs.paths2_delete.items[i], "/app/e3");
	}
	assert_true(e2 && e3);
	arena_reset(&f->s.scratch);
	apply_buf(f, &t1);
	apply_buf(f, &t2);
	f->n_ev = 0;
	apply_buf(f, &tc);
	assert_int_equal(f->res.err, 0);
	assert_null(node(f, "/app/e1"));
	assert_null(node(f, "/app/e2-0000000001"));
	assert_null(node(f, "/app/e3"));
	assert_non_null(node(f, "/app/keep"));
	assert_null(tree_ephemerals(&f->s.tree, SID));
	assert_null(session_get(&f->s.sessions, SID));
	/* /app/e1 went with t2 (its watch fired there); the close fires the
	 * parent's child watch — already consumed by t2, so nothing new */
	struct jr_stat st = stat_of(f, "/app");
	assert_int_equal(st.num_children, 1);
	assert_int_equal(st.pzxid, z);
	assert_int_equal(st.cversion, 2 * 4 - 1);
	buf_free(&b);
	buf_free(&t1);
	buf_free(&t2);
	buf_free(&tc);
}

static void test_close_session_notifies(void **state)
{
	struct fx *f = *state;
	assert_int_equal(create(f, &f->anon, "/e", "", ZCF_EPHEMERAL), 0);
	watch(f, 50, ZOP_EXISTS, "/e");
	watch(f, 51, ZOP_GET_CHILDREN, "/");
	f->txn.len = 0;
	prep_close_session(&f->s, SID, 0, T_DEMO, &f->txn);
	f->n_ev = 0;
	apply_buf(f, &f->txn);
	assert_int_equal(f->n_ev, 2);
	assert_true(f->ev[0].conn == 50 && f->ev[0].type == ZEV_NODE_DELETED);
	assert_string_equal(f->ev[0].path, "/e");
	assert_true(f->ev[1].conn == 51 && f->ev[1].type == ZEV_NODE_CHILDREN_CHANGED);
	assert_string_equal(f->ev[1].path, "/");
	assert_null(node(f, "/e"));
	/* an old-format closeSession without a record still removes owned nodes */
	struct fx *g = fx_new(false);
	assert_int_equal(create(g, &g->anon, "/old", "", ZCF_EPHEMERAL), 0);
	g->txn.len = 0;
	txn_put_header(&g->txn, SID, 0, ++g->s.last_prepared_zxid, T_DEMO, ZOP_CLOSE_SESSION);
	apply_buf(g, &g->txn);
	assert_null(tree_get(&g->s.tree, "/old", 4));
	void *gs = g;
	teardown(&gs);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TT(fn) cmocka_unit_test_setup_teardown(fn, setup_ttl, teardown)
	const struct CMUnitTest tests[] = {
		T(test_live_txn_bytes_and_digest),
		T(test_create_order_before_session),
		TT(test_create_ttl_checks),
		T(test_create_session_states),
		T(test_create_path_and_acl_order),
		T(test_create_noauth_before_exists),
		T(test_fixup_acl),
		T(test_create_kinds),
		T(test_sequential_suffix),
		T(test_sequential_saturates),
		T(test_delete_order),
		T(test_set_data_order_and_stat),
		T(test_set_acl_order_and_stat),
		T(test_unknown_write_opcode_is_error_txn),
		T(test_demo_cversion_example),
		T(test_pipelined_writes_see_each_other),
		T(test_pipelined_delete_then_create),
		T(test_multi_live_failure_example),
		T(test_multi_success),
		T(test_multi_rollback_of_overlay),
		T(test_multi_malformed_and_empty),
		T(test_apply_fires_watches),
		T(test_close_session_deletes_ephemerals),
		T(test_close_session_notifies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
