/* Recovery tests on the in-memory disk: empty and log-only directories,
 * newest valid snapshot + replay in order, a corrupt newest snapshot falling
 * back to an older one, torn tails cut, mid-log corruption and unknown txn
 * types stopping with file and offset, a separate dataLogDir, crashes at
 * random points of a write workload (committed txns always survive), and
 * the epoch files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/epoch.h"
#include "store/recover.h"
#include "store/snapshot.h"
#include "store/txnlog.h"
#include "store/vfs_mem.h"
#include "test_txnlog_util.h"

#define DATA "/zk"
#define SNAPS "/zk/version-2"

struct rec {
	int64_t zxids[512];
	int n;
	int nodes;
	int64_t node_mzxid;
	int sessions;
};

static int r_node(void *a, const struct snapshot_node *n)
{
	struct rec *r = a;
	r->nodes++;
	r->node_mzxid = n->stat.mzxid;
	return 0;
}

static int r_session(void *a, int64_t id, int32_t to)
{
	((struct rec *)a)->sessions++;
	return 0;
}

static int r_txn(void *a, const struct txn_parts *p, const struct txnlog_entry *en)
{
	struct rec *r = a;
	assert_int_equal(p->hdr.zxid, en->zxid);
	assert_int_equal(p->hdr.type, 5);
	assert_true(p->has_digest);
	assert_int_equal(p->digest.tree_digest, en->zxid * 7919);
	assert_ptr_equal(p->record, en->body + 32);
	if (r->n < 512)
		r->zxids[r->n++] = en->zxid;
	return 0;
}

static const struct recover_callbacks cbs = {
	.snap = {.on_node = r_node, .on_session = r_session}, .on_txn = r_txn};

static struct vfs *disk(uint64_t seed)
{
	struct vfs *v = vfs_mem_create(seed);
	assert_int_equal(vfs_mkdirs(v, SNAPS), 0);
	return v;
}

/* A snapshot whose single node's mzxid is the snapshot zxid (a marker). */
static void snap(struct vfs *v, const char *dir, int64_t zxid)
{
	struct snapshot_writer *w;
	struct store_error e;
	assert_int_equal(snapshot_writer_open(&w, v, dir, zxid, &e), 0);
	snapshot_write_sessions_begin(w, 1);
	snapshot_write_session(w, 0x100, 30000);
	snapshot_write_acls_begin(w, 0);
	struct snapshot_node n = {.path = JUTE_STR(""), .data = JUTE_STR(""), .acl_ref = -1};
	n.stat.mzxid = zxid;
	assert_int_equal(snapshot_write_node(w, &n, &e), 0);
	assert_int_equal(snapshot_writer_finish(w, NULL, &e), 0);
}

static void logs(struct vfs *v, const char *dir, int64_t from, int64_t to, int64_t roll_every)
{
	struct txnlog_opts o;
	txnlog_opts_default(&o);
	o.prealloc_bytes = 1024;
	struct txnlog *lg = txnlog_open(v, dir, &o);
	struct buf b;
	buf_init(&b);
	struct store_error e;
	for (int64_t z = from; z <= to; z++) {
		tu_body(&b, z);
		assert_int_equal(txnlog_append(lg, z, b.data, b.len, &e), 0);
		if (roll_every && z % roll_every == 0)
			assert_int_equal(txnlog_roll(lg, &e), 0);
	}
	assert_int_equal(txnlog_commit(lg, &e), 0);
	txnlog_close(lg);
	buf_free(&b);
}

static int recover(struct vfs *v, struct rec *r, struct recover_result *res,
		   struct store_error *e, bool trust)
{
	memset(r, 0, sizeof(*r));
	struct recover_opts o = {.vfs = v, .data_dir = DATA, .trust_empty_snapshot = trust};
	return recover_open(&o, &cbs, r, res, e);
}

static void test_empty_dir_is_fresh(void **state)
{
	struct vfs *v = vfs_mem_create(1);
	assert_int_equal(vfs_mkdirs(v, DATA), 0);
	vfs_mem_put(v, DATA "/initialize", "", 0);
	struct rec r;
	struct recover_result res;
	struct store_error e;
	assert_int_equal(recover(v, &r, &res, &e, false), 0);
	assert_true(res.fresh);
	assert_int_equal(res.last_zxid, 0);
	assert_int_equal(res.snap_zxid, -1);
	assert_true(res.initialize_found);
	size_t len;
	assert_null(vfs_mem_get(v, DATA "/initialize", &len));  /* removed at restore */
	vfs_mem_destroy(v);
}

static void test_logs_without_snapshot(void **state)
{
	struct vfs *v = disk(2);
	logs(v, SNAPS, 1, 10, 0);
	struct rec r;
	struct recover_result res;
	struct store_error e;
	assert_int_equal(recover(v, &r, &res, &e, false), STORE_ENOSNAP);
	assert_non_null(strstr(e.msg, "no valid snapshot"));
	assert_int_equal(recover(v, &r, &res, &e, true), 0);
	assert_int_equal(r.n, 10);
	assert_int_equal(res.last_zxid, 10);
	vfs_mem_destroy(v);
}

static void test_newest_snapshot_then_replay(void **state)
{
	struct vfs *v = disk(3);
	snap(v, SNAPS, 0);
	logs(v, SNAPS, 1, 100, 30);
	snap(v, SNAPS, 30);
	snap(v, SNAPS, 55);  /* fuzzy: taken while log.3d was current */
	struct rec r;
	struct recover_result res;
	struct store_error e;
	assert_int_equal(recover(v, &r, &res, &e, false), 0);
	assert_false(res.fresh);
	assert_int_equal(res.snap_zxid, 55);
	assert_string_equal(res.snapshot, SNAPS "/snapshot.37");
	assert_int_equal(r.node_mzxid, 55);
	assert_int_equal(r.sessions, 1);
	assert_int_equal(r.n, 45);
	for (int i = 0; i < r.n; i++)
		assert_int_equal(r.zxids[i], 56 + i);
	assert_int_equal(res.last_zxid, 100);
	assert_int_equal(res.txns, 45);
	assert_int_equal(res.log.torn, 0);
	vfs_mem_destroy(v);
}

/* With on_snapshot_reset, a snapshot is read once; the one that fails its
 * seal halfway has its callbacks undone, and the outcome is the same as
 * with the verifying read. */
static int resets;
static int r_reset(void *a)
{
	struct rec *r = a;
	resets++;
	r->nodes = 0;
	r->sessions = 0;
	r->node_mzxid = -1;
	return 0;
}

static void test_single_pass_load_undoes_a_bad_snapshot(void **state)
{
	struct vfs *v = disk(5);
	snap(v, SNAPS, 0);
	logs(v, SNAPS, 1, 60, 0);
	snap(v, SNAPS, 20);
	snap(v, SNAPS, 40);
	size_t len;
	const uint8_t *f = vfs_mem_get(v, SNAPS "/snapshot.28", &len);
	uint8_t img[512];
	memcpy(img, f, len);
	img[len - 30] ^= 1;  /* in the digest trailer: every node was handed over first */
	vfs_mem_put(v, SNAPS "/snapshot.28", img, len);
	struct recover_callbacks cb = cbs;
	cb.on_snapshot_reset = r_reset;
	struct rec r;
	memset(&r, 0, sizeof(r));
	resets = 0;
	struct recover_opts o = {.vfs = v, .data_dir = DATA};
	struct recover_result res;
	struct store_error e;
	assert_int_equal(recover_open(&o, &cb, &r, &res, &e), 0);
	assert_int_equal(resets, 1);
	assert_int_equal(res.snap_zxid, 20);
	assert_int_equal(res.snapshots_skipped, 1);
	assert_int_equal(r.nodes, 1);
	assert_int_equal(r.sessions, 1);
	assert_int_equal(r.node_mzxid, 20);
	assert_int_equal(r.zxids[0], 21);
	assert_int_equal(res.last_zxid, 60);
	vfs_mem_destroy(v);
}

static void test_corrupt_newest_snapshot_falls_back(void **state)
{
	struct vfs *v = disk(4);
	snap(v, SNAPS, 0);
	logs(v, SNAPS, 1, 60, 0);
	snap(v, SNAPS, 20);
	snap(v, SNAPS, 40);
	size_t len;
	const uint8_t *f = vfs_mem_get(v, SNAPS "/snapshot.28", &len);
	uint8_t img[512];
	memcpy(img, f, len);
	img[30] ^= 1;  /* inside the node section: the seal no longer matches */
	vfs_mem_put(v, SNAPS "/snapshot.28", img, len);
	vfs_mem_put(v, SNAPS "/snapshot.32.tmp", img, 100);  /* a leftover partial write */
	struct rec r;
	struct recover_result res;
	struct store_error e;
	assert_int_equal(recover(v, &r, &res, &e, false), 0);
	assert_int_equal(res.snap_zxid, 20);
	/* snapshot.28 only: a .tmp is never a candidate (recover.c) */
	assert_int_equal(res.snapshots_skipped, 1);
	assert_int_equal(r.nodes, 1);  /* the bad snapshot's callbacks never ran */
	assert_int_equal(r.node_mzxid, 20);
	assert_int_equal(r.zxids[0], 21);
	assert_int_equal(res.last_zxid, 60);
	vfs_mem_destroy(v);
}

static void test_torn_tail_cut_once(void **state)
{
	struct vfs *v = disk(5);
	snap(v, SNAPS, 0);
	logs(v, SNAPS, 1, 20, 0);
	size_t len;
	const uint8_t *f = vfs_mem_get(v, SNAPS "/log.1", &len);
	uint8_t img[4096];
	memcpy(img, f, len);
	/* garble the last entry's body as a torn sector would, zeros after */
	struct store_error e;
	int64_t last;
	assert_int_equal(txnlog_last_zxid(v, SNAPS, &last, &e), 0);
	assert_int_equal(last, 20);
	struct txnlog_iter *it;
	assert_int_equal(txnlog_iter_open(&it, v, SNAPS, 20, NULL, &e), 0);
	struct txnlog_entry en;
	assert_int_equal(txnlog_iter_next(it, &en, &e), 1);
	uint64_t off = en.offset;
	txnlog_iter_close(it);
	memset(img + off + 20, 0xee, 10);
	vfs_mem_put(v, SNAPS "/log.1", img, len);
	struct rec r;
	struct recover_result res;
	assert_int_equal(recover(v, &r, &res, &e, false), 0);
	assert_int_equal(res.last_zxid, 19);
	assert_int_equal(res.log.torn, 1);
	assert_int_equal(res.log.torn_offset, off);
	f = vfs_mem_get(v, SNAPS "/log.1", &len);
	assert_int_equal(len, off);
	/* writing goes on in a new file; the next recovery is clean */
	logs(v, SNAPS, 20, 25, 0);
	assert_int_equal(recover(v, &r, &res, &e, false), 0);
	assert_int_equal(res.last_zxid, 25);
	assert_int_equal(res.log.torn, 0);
	assert_int_equal(r.n, 25);
	vfs_mem_destroy(v);
}

static void test_mid_log_corruption_stops(void **state)
{
	struct vfs *v = disk(6);
	snap(v, SNAPS, 0);
	logs(v, SNAPS, 1, 30, 10);
	size_t len;
	const uint8_t *f = vfs_mem_get(v, SNAPS "/log.b", &len);
	uint8_t img[4096];
	memcpy(img, f, len);
	img[16 + 12 + 40] ^= 0x01;  /* first entry's body */
	vfs_mem_put(v, SNAPS "/log.b", img, len);
	struct rec r;
	struct recover_result res;
	struct store_error e;
	assert_int_equal(recover(v, &r, &res, &e, false), STORE_ECORRUPT);
	assert_string_equal(e.path, SNAPS "/log.b");
	assert_int_equal(e.offset, 16);
	assert_non_null(strstr(e.msg, SNAPS "/log.b: corrupt txn log: checksum mismatch"));
	assert_non_null(strstr(e.msg, "at offset 16"));
	assert_int_equal(r.n, 10);  /* everything before it was delivered */
	/* and nothing was cut */
	size_t l2;
	vfs_mem_get(v, SNAPS "/log.b", &l2);
	assert_int_equal(l2, len);
	vfs_mem_destroy(v);
}

static void test_unknown_txn_type_stops(void **state)
{
	struct vfs *v = disk(7);
	snap(v, SNAPS, 0);
	struct txnlog *lg = txnlog_open(v, SNAPS, NULL);
	struct buf b;
	buf_init(&b);
	struct jr_txn_header h = {.zxid = 1, .type = 99};
	jr_txn_header_encode(&b, &h);
	struct store_error e;
	assert_int_equal(txnlog_append(lg, 1, b.data, b.len, &e), 0);
	assert_int_equal(txnlog_commit(lg, &e), 0);
	txnlog_close(lg);
	buf_free(&b);
	struct rec r;
	struct recover_result res;
	assert_int_equal(recover(v, &r, &res, &e, false), STORE_ECORRUPT);
	assert_non_null(strstr(e.msg, "unsupported txn type 99"));
	assert_int_equal(e.offset, 16);
	vfs_mem_destroy(v);
}

static void test_separate_log_dir(void **state)
{
	struct vfs *v = disk(8);
	assert_int_equal(vfs_mkdirs(v, "/zklog/version-2"), 0);
	snap(v, SNAPS, 0);
	logs(v, "/zklog/version-2", 1, 5, 0);
	struct rec r = {0};
	struct recover_result res;
	struct store_error e;
	struct recover_opts o = {.vfs = v, .data_dir = DATA, .data_log_dir = "/zklog"};
	assert_int_equal(recover_open(&o, &cbs, &r, &res, &e), 0);
	assert_int_equal(res.last_zxid, 5);
	/* a log in the snapshot directory is refused, as Java does */
	logs(v, SNAPS, 6, 6, 0);
	assert_int_equal(recover_open(&o, &cbs, &r, &res, &e), STORE_EINVAL);
	vfs_mem_destroy(v);
}

/* Random crashes: write txns with commits (and snapshots + rolls) and stop
 * at a random point; whatever the crash keeps, recovery succeeds, returns a
 * gap-free sequence and keeps every committed txn. */
static void test_random_crashes(void **state)
{
	for (uint64_t seed = 1; seed <= 200; seed++) {
		struct vfs *v = disk(seed);
		snap(v, SNAPS, 0);
		struct txnlog_opts o;
		txnlog_opts_default(&o);
		o.prealloc_bytes = 512;
		struct txnlog *lg = txnlog_open(v, SNAPS, &o);
		struct buf b;
		buf_init(&b);
		struct store_error e;
		int64_t committed = 0, snapz = 0;
		int64_t n = 20 + (int64_t)(seed % 37);
		for (int64_t z = 1; z <= n; z++) {
			tu_body(&b, z);
			assert_int_equal(txnlog_append(lg, z, b.data, b.len, &e), 0);
			if ((z + (int64_t)seed) % 4 == 0 && z < n) {
				assert_int_equal(txnlog_commit(lg, &e), 0);
				committed = z;
			}
			if ((z + (int64_t)seed) % 13 == 0 && z < n) {
				assert_int_equal(txnlog_roll(lg, &e), 0);
				committed = z;
				snap(v, SNAPS, z);
				snapz = z;
			}
		}
		/* flushed to the file but never fsynced: the crash decides */
		txnlog_close(lg);
		buf_free(&b);
		vfs_mem_crash(v, seed % 4 == 0 ? VFS_MEM_DROP_UNSYNCED : VFS_MEM_RANDOM);
		struct rec r;
		struct recover_result res;
		assert_int_equal(recover(v, &r, &res, &e, false), 0);
		assert_int_equal(res.snap_zxid, snapz);
		assert_true(res.last_zxid >= committed);
		for (int i = 0; i < r.n; i++)
			assert_int_equal(r.zxids[i], snapz + 1 + i);
		/* and a second recovery finds nothing left to cut */
		assert_int_equal(recover(v, &r, &res, &e, false), 0);
		assert_int_equal(res.log.torn, 0);
		vfs_mem_destroy(v);
	}
}

static void test_epoch_files(void **state)
{
	struct vfs *v = disk(9);
	struct store_error e;
	int64_t x = 0;
	assert_int_equal(epoch_read(v, SNAPS, EPOCH_CURRENT, &x, &e), 0);
	assert_int_equal(epoch_write(v, SNAPS, EPOCH_CURRENT, 7, &e), 0);
	assert_int_equal(epoch_read(v, SNAPS, EPOCH_CURRENT, &x, &e), 1);
	assert_int_equal(x, 7);
	size_t len;
	const uint8_t *f = vfs_mem_get(v, SNAPS "/currentEpoch", &len);
	assert_int_equal(len, 1);  /* Java's format: digits, no newline */
	assert_memory_equal(f, "7", 1);
	assert_null(vfs_mem_get(v, SNAPS "/currentEpoch.tmp", &len));
	/* durable: survives a power cut */
	assert_int_equal(epoch_write(v, SNAPS, EPOCH_ACCEPTED, 4294967296LL, &e), 0);
	vfs_mem_crash(v, VFS_MEM_DROP_UNSYNCED);
	assert_int_equal(epoch_read(v, SNAPS, EPOCH_ACCEPTED, &x, &e), 1);
	assert_int_equal(x, 4294967296LL);
	/* what Long.parseLong(readLine()) accepts, and what it does not */
	vfs_mem_put(v, SNAPS "/acceptedEpoch", "12\n", 3);
	assert_int_equal(epoch_read(v, SNAPS, EPOCH_ACCEPTED, &x, &e), 1);
	assert_int_equal(x, 12);
	vfs_mem_put(v, SNAPS "/acceptedEpoch", " 12", 3);
	assert_int_equal(epoch_read(v, SNAPS, EPOCH_ACCEPTED, &x, &e), STORE_ECORRUPT);
	vfs_mem_put(v, SNAPS "/acceptedEpoch", "", 0);
	assert_int_equal(epoch_read(v, SNAPS, EPOCH_ACCEPTED, &x, &e), STORE_ECORRUPT);
	vfs_mem_put(v, SNAPS "/acceptedEpoch", "99999999999999999999", 20);
	assert_int_equal(epoch_read(v, SNAPS, EPOCH_ACCEPTED, &x, &e), STORE_ECORRUPT);
	vfs_mem_destroy(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_dir_is_fresh),
		cmocka_unit_test(test_logs_without_snapshot),
		cmocka_unit_test(test_newest_snapshot_then_replay),
		cmocka_unit_test(test_corrupt_newest_snapshot_falls_back),
		cmocka_unit_test(test_single_pass_load_undoes_a_bad_snapshot),
		cmocka_unit_test(test_torn_tail_cut_once),
		cmocka_unit_test(test_mid_log_corruption_stops),
		cmocka_unit_test(test_unknown_txn_type_stops),
		cmocka_unit_test(test_separate_log_dir),
		cmocka_unit_test(test_random_crashes),
		cmocka_unit_test(test_epoch_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
