/* fuzz_apply: replay of a hostile or corrupt txn log. apply_txn runs on
 * arbitrary txn bytes over a small tree built by ordinary txns (nodes with
 * data, restricted ACLs, an ephemeral, a container with a child, a TTL node,
 * watches of every mode on two connections). It may report errors but must
 * never crash, leak or break the tree's invariants (links, ephemeral index,
 * ACL reference counts, digest recomputed from scratch — fuzz_check.h).
 *
 * Input: byte 0 picks the settings (bit 0: TTLs disabled, bit 1: no reply
 * buffer), then txns, each a 2-byte big-endian length and that many bytes
 * (fewer at the end). A txn of 32 bytes or more holds a TxnHeader and must
 * be applied (return 0); a shorter one must be refused (-1). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "jute/jute.h"
#include "jute/proto.h"
#include "jute/records.h"
#include "request/apply.h"
#include "request/prep.h"
#include "request/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0 1700000000000LL
#define S1 0x0100018bcfe56800LL
#define S2 0x0100018bcfe56801LL
#define TXN_HEADER_LEN 32

static uint64_t notified;

static void on_notify(void *arg, uint64_t conn, int32_t type, const char *path, size_t len, int64_t acl_ref)
{
	(void)arg;
	(void)acl_ref;
	FZ_CHECK(conn == 1 || conn == 2, "notification for connection %llu", (unsigned long long)conn);
	FZ_CHECK(type >= ZEV_NODE_CREATED && type <= ZEV_NODE_CHILDREN_CHANGED, "event type %d", type);
	notified += crc32(0L, (const Bytef *)path, (uInt)len); /* touches every byte of the path */
}

static void apply_built(struct zstate *s, struct buf *b)
{
	struct apply_result res;
	FZ_CHECK(apply_txn(s, b->data, b->len, T0, NULL, &res) == 0, "setup txn refused");
	FZ_CHECK(res.err == 0, "setup txn failed with %d", res.err);
	b->len = 0;
}

static void setup_create(struct zstate *s, int64_t zxid, int32_t type, int64_t owner, const char *path,
			 const char *value, const struct jr_acl *acl, int32_t n_acl, int64_t ttl)
{
	struct buf b;
	buf_init(&b);
	txn_put_header(&b, owner, 1, zxid, T0 + zxid, type);
	struct jute_bytes d = value ? JUTE_STR(value) : JUTE_NULL;
	struct jute_bytes p = JUTE_STR(path);
	if (type == ZOP_CREATE_CONTAINER) {
		struct jr_create_container_txn t = {p, d, {n_acl, (struct jr_acl *)acl}, -1};
		jr_create_container_txn_encode(&b, &t);
	} else if (type == ZOP_CREATE_TTL) {
		struct jr_create_ttl_txn t = {p, d, {n_acl, (struct jr_acl *)acl}, -1, ttl};
		jr_create_ttl_txn_encode(&b, &t);
	} else {
		struct jr_create_txn t = {p, d, {n_acl, (struct jr_acl *)acl}, owner != 0, -1};
		jr_create_txn_encode(&b, &t);
	}
	apply_built(s, &b);
	buf_free(&b);
}

static void setup_session(struct zstate *s, int64_t zxid, int64_t id)
{
	struct buf b;
	buf_init(&b);
	txn_put_header(&b, id, 0, zxid, T0, ZOP_CREATE_SESSION);
	jute_put_int(&b, 30000);
	apply_built(s, &b);
	buf_free(&b);
}

static void setup(struct zstate *s)
{
	static const struct jr_acl open[] = {
		{ZPERM_ALL, {{(const uint8_t *)"world", 5}, {(const uint8_t *)"anyone", 6}}}};
	static const struct jr_acl restricted[] = {
		{ZPERM_READ, {{(const uint8_t *)"ip", 2}, {(const uint8_t *)"10.0.0.0/8", 10}}},
		{ZPERM_ALL, {{(const uint8_t *)"digest", 6},
			     {(const uint8_t *)"u:+Ir5sN1lGJEEs8xBZhZXKvjLJ7c=", 30}}}};
	setup_session(s, 1, S1);
	setup_session(s, 2, S2);
	setup_create(s, 3, ZOP_CREATE, 0, "/a", "x", open, 1, 0);
	setup_create(s, 4, ZOP_CREATE2, 0, "/a/b", "yy", restricted, 2, 0);
	setup_create(s, 5, ZOP_CREATE, S1, "/a/e1", "", restricted, 2, 0);
	setup_create(s, 6, ZOP_CREATE_CONTAINER, 0, "/c", NULL, open, 1, 0);
	setup_create(s, 7, ZOP_CREATE, S2, "/c/x", "z", open, 1, 0);
	setup_create(s, 8, ZOP_CREATE_TTL, 0, "/t", "ttl", open, 1, 1000);
	setup_create(s, 9, ZOP_CREATE, 0, "/s0000000001", "", restricted, 1, 0);
	watch_add(&s->watches, WATCH_DATA, "/a", 2, 1, WATCH_STANDARD);
	watch_add(&s->watches, WATCH_CHILD, "/a", 2, 1, WATCH_STANDARD);
	watch_add(&s->watches, WATCH_DATA, "/a/b", 4, 2, WATCH_PERSISTENT);
	watch_add(&s->watches, WATCH_CHILD, "/a/b", 4, 2, WATCH_PERSISTENT);
	watch_add(&s->watches, WATCH_DATA, "/", 1, 2, WATCH_RECURSIVE);
	watch_add(&s->watches, WATCH_DATA, "/c/x", 4, 1, WATCH_STANDARD);
	watch_add(&s->watches, WATCH_CHILD, "/", 1, 1, WATCH_STANDARD);
	watch_add(&s->watches, WATCH_DATA, "/new", 4, 1, WATCH_STANDARD);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct zconfig cfg = {.tick_ms = 2000, .min_session_timeout_ms = 4000, .max_session_timeout_ms = 40000,
			      .max_buffer = 1048575, .max_buffer_extra = 1024, .ttl_enabled = !(data[0] & 1),
			      .digest_auth_enabled = true, .container_check_ms = 60000,
			      .container_max_per_minute = 10000, .server_id = 1};
	bool with_reply = !(data[0] & 2);
	struct zstate s;
	zstate_init(&s, &cfg, T0);
	s.notify = on_notify;
	setup(&s);
	fz_check_tree(&s.tree, true);
	struct buf reply;
	buf_init(&reply);
	size_t p = 1, k = 0;
	while (p < size) {
		size_t len = 0;
		if (p + 2 <= size) {
			len = (size_t)data[p] << 8 | data[p + 1];
			p += 2;
		} else {
			p = size;
		}
		if (len > size - p)
			len = size - p;
		/* a private copy, exactly as long as the txn, so ASan sees overreads */
		uint8_t *txn = malloc(len ? len : 1);
		memcpy(txn, data + p, len);
		p += len;
		struct apply_result res;
		reply.len = 0;
		int rc = apply_txn(&s, txn, len, T0 + 1000 * (int64_t)k, with_reply ? &reply : NULL, &res);
		free(txn);
		FZ_CHECK(rc == (len >= TXN_HEADER_LEN ? 0 : -1), "apply_txn returned %d for %zu bytes", rc, len);
		fz_check_tree(&s.tree, ++k % 8 == 0);
	}
	fz_check_tree(&s.tree, true);
	fz_check_acl_refs(&s.tree, &s.pending);
	buf_free(&reply);
	zstate_free(&s);
	return 0;
}
