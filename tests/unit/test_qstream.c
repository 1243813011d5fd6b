/* qstream (quorum-port stream splitting, with the SNAP stream) and qcnx
 * (election-port initial message and frames), fed at every split. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "base/buf.h"
#include "base/zalloc.h"
#include "jute/jute.h"
#include "qstream_capture.h"
#include "zab/qcnx.h"
#include "zab/qstream.h"
#include "zab/zab.h"

#define MAXMSG 64

struct got {
	int n;
	int32_t type[MAXMSG];
	size_t len[MAXMSG];
	struct buf all;  /* the messages concatenated */
	int status;      /* last qstream_next result */
};

static void drain(struct qstream *q, struct got *g)
{
	const uint8_t *m;
	size_t n;
	int32_t t;
	while ((g->status = qstream_next(q, &m, &n, &t)) == QSTREAM_MSG) {
		assert_true(g->n < MAXMSG);
		g->type[g->n] = t;
		g->len[g->n++] = n;
		buf_put(&g->all, m, n);
	}
}

/* Feed p in pieces cut at the given positions (sorted, < n). */
static void feed_cuts(const uint8_t *p, size_t n, const size_t *cuts, int ncuts, bool learner,
		      const struct qstream_limits *lim, struct got *g)
{
	struct qstream q;
	qstream_init(&q, lim, learner);
	memset(g, 0, sizeof *g);
	buf_init(&g->all);
	size_t at = 0;
	for (int i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : n;
		qstream_push(&q, p + at, end - at);
		drain(&q, g);
		if (g->status == QSTREAM_ERROR)
			break;
		at = end;
	}
	qstream_free(&q);
}

static void feed(const uint8_t *p, size_t n, size_t cut, bool learner,
		 const struct qstream_limits *lim, struct got *g)
{
	feed_cuts(p, n, &cut, cut > 0 && cut < n ? 1 : 0, learner, lim, g);
}

/* What Java's leader sent: LEADERINFO, SNAP+stream, NEWLEADER, UPTODATE,
 * PING, PING (lengths found by walking the capture by hand). */
static const int32_t cap_types[] = {ZAB_LEADERINFO, ZAB_SNAP, ZAB_NEWLEADER, ZAB_UPTODATE,
				    ZAB_PING, ZAB_PING};
static const size_t cap_lens[] = {24, 1393, 158, 20, 20, 20};

static void check_capture(const struct got *g)
{
	assert_int_equal(g->status, QSTREAM_MORE);
	assert_int_equal(g->n, 6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(g->type[i], cap_types[i]);
		assert_int_equal(g->len[i], cap_lens[i]);
	}
	assert_int_equal(g->all.len, sizeof java_learner_stream);
	assert_memory_equal(g->all.data, java_learner_stream, sizeof java_learner_stream);
}

static void test_java_capture_every_split(void **state)
{
	(void)state;
	size_t n = sizeof java_learner_stream;
	assert_int_equal(n, 1635);
	for (size_t cut = 0; cut <= n; cut++) {
		struct got g;
		feed(java_learner_stream, n, cut, true, NULL, &g);
		check_capture(&g);
		buf_free(&g.all);
	}
}

static void test_java_capture_byte_by_byte(void **state)
{
	(void)state;
	size_t n = sizeof java_learner_stream;
	size_t *cuts = zmalloc(n * sizeof *cuts);
	for (size_t i = 0; i < n - 1; i++)
		cuts[i] = i + 1;
	struct got g;
	feed_cuts(java_learner_stream, n, cuts, (int)n - 1, true, NULL, &g);
	check_capture(&g);
	buf_free(&g.all);
	/* Two cuts at every pair of a stride, to split items in two places. */
	for (size_t a = 1; a < n; a += 7) {
		for (size_t b = a + 1; b < n; b += 13) {
			size_t c2[2] = {a, b};
			feed_cuts(java_learner_stream, n, c2, 2, true, NULL, &g);
			check_capture(&g);
			buf_free(&g.all);
		}
	}
	zfree(cuts);
}

/* The core reads the SNAP message the way qstream cut it: the packet, and
 * the stream right after it, ending with BenWasHere. */
static void test_java_capture_matches_core_decoder(void **state)
{
	(void)state;
	const uint8_t *p = java_learner_stream;
	size_t off = 0;
	for (int i = 0; i < 6; i++) {
		int type;
		uint64_t zxid;
		const uint8_t *d;
		int32_t len;
		size_t used;
		assert_int_equal(zab_decode_packet(p + off, cap_lens[i], &type, &zxid, &d, &len, &used), 0);
		assert_int_equal(type, cap_types[i]);
		if (type == ZAB_SNAP) {
			assert_int_equal(used, 20);
			assert_int_equal(zxid, 0x100000006ULL);
			assert_memory_equal(p + off + cap_lens[i] - 14, "\0\0\0\x0a" "BenWasHere", 14);
		} else {
			assert_int_equal(used, cap_lens[i]);
		}
		off += cap_lens[i];
	}
}

/* A leader's view: learners never send SNAP streams, so type 15 is a bare
 * packet there. */
static void put_packet(struct buf *b, int32_t type, int64_t zxid, const void *data, int32_t len,
		       int32_t nauth)
{
	jute_put_int(b, type);
	jute_put_long(b, zxid);
	jute_put_buffer(b, (struct jute_bytes){data, len});
	jute_put_int(b, nauth);
	for (int i = 0; i < nauth; i++) {
		jute_put_cstr(b, "digest");
		jute_put_cstr(b, "user:abc");
	}
}

static void test_packets_with_authinfo_every_split(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	uint8_t li[20] = {0, 0, 0, 0, 0, 0, 0, 3, 0, 1, 0, 0};
	put_packet(&b, ZAB_FOLLOWERINFO, 0, li, 20, -1);
	put_packet(&b, ZAB_REQUEST, -1, "0123456789abcdefXY", 18, 2);
	put_packet(&b, ZAB_PING, 5, "", 0, 0);
	put_packet(&b, ZAB_SNAP, 7, NULL, -1, -1);  /* leader side: just a packet */
	put_packet(&b, ZAB_ACK, 8, NULL, -1, -1);
	const int32_t types[] = {ZAB_FOLLOWERINFO, ZAB_REQUEST, ZAB_PING, ZAB_SNAP, ZAB_ACK};
	const size_t lens[] = {40, 16 + 18 + 4 + 2 * (10 + 12), 20, 20, 20};
	for (size_t cut = 0; cut <= b.len; cut++) {
		struct got g;
		feed(b.data, b.len, cut, false, NULL, &g);
		assert_int_equal(g.status, QSTREAM_MORE);
		assert_int_equal(g.n, 5);
		for (int i = 0; i < 5; i++) {
			assert_int_equal(g.type[i], types[i]);
			assert_int_equal(g.len[i], lens[i]);
		}
		buf_free(&g.all);
	}
	buf_free(&b);
}

/* Everything before the end of a message only ever asks for more. */
static void test_truncated_never_delivers(void **state)
{
	(void)state;
	size_t upto = cap_lens[0] + cap_lens[1];
	for (size_t n = cap_lens[0]; n < upto; n++) {
		struct got g;
		feed(java_learner_stream, n, 0, true, NULL, &g);
		assert_int_equal(g.status, QSTREAM_MORE);
		assert_int_equal(g.n, 1);  /* LEADERINFO only */
		buf_free(&g.all);
	}
}

static int run_bad(const struct buf *b, bool learner, const struct qstream_limits *lim)
{
	int status = QSTREAM_MORE;
	for (size_t cut = 0; cut <= b->len; cut++) {
		struct got g;
		feed(b->data, b->len, cut, learner, lim, &g);
		buf_free(&g.all);
		if (cut == 0)
			status = g.status;
		else
			assert_int_equal(g.status, status);  /* the same verdict however split */
	}
	return status;
}

static void test_bad_packets(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	/* data length -2 */
	jute_put_int(&b, ZAB_ACK);
	jute_put_long(&b, 1);
	jute_put_int(&b, -2);
	assert_int_equal(run_bad(&b, false, NULL), QSTREAM_ERROR);
	/* data length over jute.maxbuffer + extrasize */
	b.len = 0;
	jute_put_int(&b, ZAB_PROPOSAL);
	jute_put_long(&b, 1);
	jute_put_int(&b, QSTREAM_DEFAULT_MAX_BUFFER + 1);
	assert_int_equal(run_bad(&b, false, NULL), QSTREAM_ERROR);
	/* authinfo count -2, and absurd */
	int32_t counts[] = {-2, 1 << 30};
	for (int i = 0; i < 2; i++) {
		b.len = 0;
		jute_put_int(&b, ZAB_REQUEST);
		jute_put_long(&b, -1);
		jute_put_int(&b, 0);
		jute_put_int(&b, counts[i]);
		assert_int_equal(run_bad(&b, false, NULL), QSTREAM_ERROR);
	}
	/* an Id string of length -5 */
	b.len = 0;
	jute_put_int(&b, ZAB_REQUEST);
	jute_put_long(&b, -1);
	jute_put_int(&b, 0);
	jute_put_int(&b, 1);
	jute_put_int(&b, -5);
	assert_int_equal(run_bad(&b, false, NULL), QSTREAM_ERROR);
	/* errors are sticky */
	struct qstream q;
	qstream_init(&q, NULL, false);
	qstream_push(&q, b.data, b.len);
	const uint8_t *m;
	size_t n;
	int32_t t;
	assert_int_equal(qstream_next(&q, &m, &n, &t), QSTREAM_ERROR);
	assert_non_null(qstream_error(&q));
	put_packet(&b, ZAB_ACK, 1, NULL, -1, -1);
	qstream_push(&q, b.data, b.len);
	assert_int_equal(qstream_next(&q, &m, &n, &t), QSTREAM_ERROR);
	qstream_free(&q);
	buf_free(&b);
}

/* A SNAP packet followed by a snapshot stream built by hand. */
static void snap_head(struct buf *b, int32_t sessions)
{
	put_packet(b, ZAB_SNAP, 0x100000000LL, NULL, -1, -1);
	jute_put_int(b, sessions);
	for (int i = 0; i < sessions; i++) {
		jute_put_long(b, 0x0100000000000000LL + i);
		jute_put_int(b, 30000);
	}
}

static void put_node(struct buf *b, const char *path, int32_t dlen)
{
	jute_put_cstr(b, path);
	jute_put_int(b, dlen);
	for (int32_t i = 0; i < dlen; i++)
		buf_put_u8(b, 'x');
	jute_put_long(b, -1);
	for (int i = 0; i < 60; i++)
		buf_put_u8(b, 0);
}

static void test_handmade_snap(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	snap_head(&b, 3);
	jute_put_int(&b, 2);      /* ACL cache */
	jute_put_long(&b, 1);
	jute_put_int(&b, 0);      /* an empty ACL list */
	jute_put_long(&b, 2);
	jute_put_int(&b, 2);
	for (int i = 0; i < 2; i++) {
		jute_put_int(&b, 31);
		jute_put_cstr(&b, "world");
		jute_put_cstr(&b, "anyone");
	}
	put_node(&b, "", 0);
	put_node(&b, "/n", -1);  /* null data */
	put_node(&b, "/n/m", 100);
	put_node(&b, "/x", 0);  /* a path "/x" is not the terminator */
	jute_put_cstr(&b, "/");
	jute_put_cstr(&b, "BenWasHere");
	size_t snap_len = b.len;
	put_packet(&b, ZAB_NEWLEADER, 0x100000000LL, "cfg", 3, -1);
	for (size_t cut = 0; cut <= b.len; cut++) {
		struct got g;
		feed(b.data, b.len, cut, true, NULL, &g);
		assert_int_equal(g.status, QSTREAM_MORE);
		assert_int_equal(g.n, 2);
		assert_int_equal(g.type[0], ZAB_SNAP);
		assert_int_equal(g.len[0], snap_len);
		assert_int_equal(g.type[1], ZAB_NEWLEADER);
		buf_free(&g.all);
	}
	/* the same stream over a snapshot limit just below its size */
	struct qstream_limits small = {QSTREAM_DEFAULT_MAX_BUFFER, snap_len - 1};
	b.len = snap_len;
	assert_int_equal(run_bad(&b, true, &small), QSTREAM_ERROR);
	small.max_snap = snap_len;
	assert_int_equal(run_bad(&b, true, &small), QSTREAM_MORE);
	buf_free(&b);
}

static void test_bad_snaps(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	/* negative session count */
	snap_head(&b, 0);
	b.len -= 4;
	jute_put_int(&b, -1);
	assert_int_equal(run_bad(&b, true, NULL), QSTREAM_ERROR);
	/* negative ACL-cache size */
	b.len = 0;
	snap_head(&b, 1);
	jute_put_int(&b, -3);
	assert_int_equal(run_bad(&b, true, NULL), QSTREAM_ERROR);
	/* a null ACL list */
	b.len = 0;
	snap_head(&b, 0);
	jute_put_int(&b, 1);
	jute_put_long(&b, 1);
	jute_put_int(&b, -1);
	assert_int_equal(run_bad(&b, true, NULL), QSTREAM_ERROR);
	/* a null path */
	b.len = 0;
	snap_head(&b, 0);
	jute_put_int(&b, 0);
	jute_put_int(&b, -1);
	assert_int_equal(run_bad(&b, true, NULL), QSTREAM_ERROR);
	/* node data over the limit */
	b.len = 0;
	snap_head(&b, 0);
	jute_put_int(&b, 0);
	jute_put_cstr(&b, "");
	jute_put_int(&b, QSTREAM_DEFAULT_MAX_BUFFER + 1);
	assert_int_equal(run_bad(&b, true, NULL), QSTREAM_ERROR);
	/* the wrong signature, of the right length and of another */
	const char *sigs[] = {"BenWasHerf", "BenWasHere!", ""};
	for (int i = 0; i < 3; i++) {
		b.len = 0;
		snap_head(&b, 0);
		jute_put_int(&b, 0);
		put_node(&b, "", 0);
		jute_put_cstr(&b, "/");
		jute_put_cstr(&b, sigs[i]);
		assert_int_equal(run_bad(&b, true, NULL), QSTREAM_ERROR);
	}
	/* garbage after the SNAP packet */
	b.len = 0;
	snap_head(&b, 0);
	b.len -= 4;
	for (int i = 0; i < 64; i++)
		buf_put_u8(&b, 0xff);
	assert_int_equal(run_bad(&b, true, NULL), QSTREAM_ERROR);
	buf_free(&b);
}

/* ---- qcnx -------------------------------------------------------------- */

static void test_initial_message(void **state)
{
	(void)state;
	/* [live] initial message of a peer with sid 3 (§5.2) */
	static const uint8_t want[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0, 0, 0, 0, 0,
				       0, 0, 3, 0, 0, 0, 0x0f, '1', '2', '7', '.', '0', '.', '0',
				       '.', '1', ':', '3', '3', '8', '9', '0'};
	struct buf b;
	buf_init(&b);
	qcnx_initial_encode(&b, 3, "127.0.0.1:33890");
	assert_int_equal(b.len, sizeof want);
	assert_memory_equal(b.data, want, sizeof want);
	buf_put(&b, "\0\0\0\x2c", 4);  /* the first frame follows */
	for (size_t n = 0; n <= b.len; n++) {
		struct qcnx_initial im;
		size_t used = 0;
		int rc = qcnx_initial_parse(b.data, n, &im, &used);
		if (n < sizeof want) {
			assert_int_equal(rc, 0);
			continue;
		}
		assert_int_equal(rc, 1);
		assert_int_equal(used, sizeof want);
		assert_int_equal(im.sid, 3);
		assert_int_equal(im.version, QCNX_PROTOCOL_V1);
		assert_int_equal(im.addr_len, 15);
		assert_memory_equal(im.addr, "127.0.0.1:33890", 15);
	}
	/* pre-3.5: just the sid */
	struct qcnx_initial im;
	size_t used;
	uint8_t legacy[8] = {0, 0, 0, 0, 0, 0, 0, 7};
	assert_int_equal(qcnx_initial_parse(legacy, 8, &im, &used), 1);
	assert_int_equal(im.sid, 7);
	assert_int_equal(used, 8);
	/* an unknown version, address lengths 0 and 2049 */
	b.data[7] = 0x05;
	assert_int_equal(qcnx_initial_parse(b.data, b.len, &im, &used), -1);
	b.data[7] = 0x00;
	int32_t bad_len[] = {0, -1, QCNX_MAX_ADDR + 1};
	for (int i = 0; i < 3; i++) {
		buf_set_be32(&b, 16, (uint32_t)bad_len[i]);
		assert_int_equal(qcnx_initial_parse(b.data, b.len, &im, &used), -1);
	}
	buf_free(&b);
}

static void test_frames(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	qcnx_frame_encode(&b, (const uint8_t *)"abc", 3);
	const uint8_t *m;
	size_t len, used;
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(qcnx_frame_parse(b.data, n, &m, &len, &used), 0);
	assert_int_equal(qcnx_frame_parse(b.data, b.len, &m, &len, &used), 1);
	assert_int_equal(len, 3);
	assert_int_equal(used, 7);
	assert_memory_equal(m, "abc", 3);
	int32_t bad[] = {0, -1, QCNX_MAX_FRAME + 1, INT32_MIN};
	for (int i = 0; i < 4; i++) {
		buf_set_be32(&b, 0, (uint32_t)bad[i]);
		assert_int_equal(qcnx_frame_parse(b.data, 4, &m, &len, &used), -1);
	}
	/* exactly 512 KiB is allowed (it only waits for the bytes) */
	buf_set_be32(&b, 0, QCNX_MAX_FRAME);
	assert_int_equal(qcnx_frame_parse(b.data, b.len, &m, &len, &used), 0);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_java_capture_every_split),
		cmocka_unit_test(test_java_capture_byte_by_byte),
		cmocka_unit_test(test_java_capture_matches_core_decoder),
		cmocka_unit_test(test_packets_with_authinfo_every_split),
		cmocka_unit_test(test_truncated_never_delivers),
		cmocka_unit_test(test_bad_packets),
		cmocka_unit_test(test_handmade_snap),
		cmocka_unit_test(test_bad_snaps),
		cmocka_unit_test(test_initial_message),
		cmocka_unit_test(test_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
