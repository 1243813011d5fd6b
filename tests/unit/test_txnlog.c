/* Txn log tests on the in-memory disk: the exact bytes of ZooKeeper's
 * worked example (zookeeper-protocol.md §6.2.5), preallocation, rolling,
 * reading from a zxid, torn tails at every byte, corruption at every byte,
 * truncation, crashes that drop or tear unsynced writes, fsync failure, and
 * the snapshot policy. */
#include <errno.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/txnbody.h"
#include "store/txnlog.h"
#include "store/vfs_mem.h"
#include "test_txnlog_util.h"

#define DIR "/d/version-2"

static struct vfs *new_disk(uint64_t seed)
{
	struct vfs *v = vfs_mem_create(seed);
	assert_int_equal(vfs_mkdirs(v, DIR), 0);
	return v;
}

static struct txnlog *writer(struct vfs *v, uint64_t prealloc)
{
	struct txnlog_opts o;
	txnlog_opts_default(&o);
	o.prealloc_bytes = prealloc;
	return txnlog_open(v, DIR, &o);
}

static void append_range(struct txnlog *lg, int64_t from, int64_t to)
{
	struct buf b;
	buf_init(&b);
	struct store_error e;
	for (int64_t z = from; z <= to; z++) {
		tu_body(&b, z);
		assert_int_equal(txnlog_append(lg, z, b.data, b.len, &e), 0);
	}
	buf_free(&b);
}

/* Reads the whole dir from `from`; returns the count, checks the bodies and
 * stores the last zxid. */
static int read_all(struct vfs *v, int64_t from, bool repair, int64_t *last, int *rc_out,
		    struct store_error *e)
{
	struct txnlog_read_opts ro;
	txnlog_read_opts_default(&ro);
	ro.repair = repair;
	struct txnlog_iter *it;
	assert_int_equal(txnlog_iter_open(&it, v, DIR, from, &ro, e), 0);
	struct txnlog_entry en;
	struct buf b;
	buf_init(&b);
	int n = 0, rc;
	*last = -1;
	while ((rc = txnlog_iter_next(it, &en, e)) == 1) {
		tu_body(&b, en.zxid);
		assert_int_equal(en.len, b.len);
		assert_memory_equal(en.body, b.data, b.len);
		*last = en.zxid;
		n++;
	}
	*rc_out = rc;
	buf_free(&b);
	txnlog_iter_close(it);
	return n;
}

/* §6.2.5: the first entry of log.1 written by 3.8.0, byte for byte. */
static const uint8_t java_entry1_body[48] = {
	0x01, 0x00, 0x00, 0x8c, 0x04, 0xf6, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0xa2,
	0x04, 0xef, 0x1e, 0xbd, 0xff, 0xff, 0xff, 0xf6, 0x00, 0x00, 0x75, 0x30,
	0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x51, 0xc6, 0xd6, 0x60};

static void test_java_bytes(void **state)
{
	struct vfs *v = new_disk(1);
	struct txnlog *lg = writer(v, 65536);
	struct store_error e;
	assert_int_equal(txnlog_append(lg, 1, java_entry1_body, 48, &e), 0);
	assert_int_equal(txnlog_commit(lg, &e), 0);
	size_t len;
	const uint8_t *f = vfs_mem_get(v, DIR "/log.1", &len);
	assert_non_null(f);
	static const uint8_t head[] = {0x5a, 0x4b, 0x4c, 0x47, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0,
				       0, 0, 0, 0, 0xd2, 0x9c, 0x0a, 0xe1, 0, 0, 0, 0x30};
	assert_memory_equal(f, head, sizeof head);
	assert_memory_equal(f + 28, java_entry1_body, 48);
	assert_int_equal(f[76], 0x42);
	/* Java's padding: 16-byte header + one preAllocSize step (3.8.0 with
	 * preAllocSize=64 writes a 65552-byte log.1) */
	assert_int_equal(len, 16 + 65536);
	for (size_t i = 77; i < len; i++)
		assert_int_equal(f[i], 0);
	struct txn_parts p;
	assert_int_equal(txn_split(java_entry1_body, 48, &p), 0);
	assert_int_equal(p.hdr.type, -10);
	assert_int_equal(p.hdr.zxid, 1);
	assert_int_equal(p.hdr.client_id, 0x0100008c04f60000LL);
	assert_int_equal(p.record_len, 4);
	assert_true(p.has_digest);
	assert_int_equal(p.digest.version, 2);
	assert_int_equal(p.digest.tree_digest, 0x51c6d660);
	txnlog_close(lg);
	vfs_mem_destroy(v);
}

static void test_split_create(void **state)
{
	/* §6.2.5 second entry body: create /demo "hi" OPEN_ACL_UNSAFE + digest */
	static const uint8_t body[] = {
		0x01, 0x00, 0x00, 0x8c, 0x04, 0xf6, 0x00, 0x00, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2,
		0x00, 0x00, 0x01, 0xa2, 0x04, 0xef, 0x1f, 0x26, 0, 0, 0, 1,
		0, 0, 0, 5, '/', 'd', 'e', 'm', 'o', 0, 0, 0, 2, 'h', 'i',
		0, 0, 0, 1, 0, 0, 0, 0x1f, 0, 0, 0, 5, 'w', 'o', 'r', 'l', 'd',
		0, 0, 0, 6, 'a', 'n', 'y', 'o', 'n', 'e', 0, 0, 0, 0, 1,
		0, 0, 0, 2, 0, 0, 0, 0, 0xb0, 0xc7, 0xba, 0xe1};
	assert_int_equal(sizeof body, 0x5b);
	assert_int_equal(store_adler32(STORE_ADLER_INIT, body, sizeof body), 0x0a9f0e05);
	struct txn_parts p;
	assert_int_equal(txn_split(body, sizeof body, &p), 0);
	assert_int_equal(p.hdr.type, 1);
	assert_false(p.create_v0);
	assert_int_equal(p.record_len, sizeof body - 32 - 12);
	assert_true(p.has_digest);
	assert_int_equal((uint32_t)p.digest.tree_digest, 0xb0c7bae1);
	/* a failed txn (type -1, ErrorTxn -111) carries no digest */
	struct buf b;
	buf_init(&b);
	struct jr_txn_header h = {.zxid = 9, .type = -1};
	jr_txn_header_encode(&b, &h);
	jute_put_int(&b, -111);
	assert_int_equal(txn_split(b.data, b.len, &p), 0);
	assert_false(p.has_digest);
	assert_int_equal(p.record_len, 4);
	/* a top-level check is not a txn Java accepts */
	b.len = 0;
	h.type = 13;
	jr_txn_header_encode(&b, &h);
	jute_put_cstr(&b, "/x");
	jute_put_int(&b, 1);
	assert_int_equal(txn_split(b.data, b.len, &p), -2);
	buf_free(&b);
}

static void test_roundtrip_roll_from(void **state)
{
	struct vfs *v = new_disk(2);
	struct txnlog *lg = writer(v, 1024);
	struct store_error e;
	append_range(lg, 1, 40);
	assert_int_equal(txnlog_roll(lg, &e), 0);
	append_range(lg, 41, 90);
	assert_int_equal(txnlog_roll(lg, &e), 0);
	append_range(lg, 91, 100);
	assert_int_equal(txnlog_commit(lg, &e), 0);
	struct txnlog_stats st;
	txnlog_get_stats(lg, &st);
	assert_int_equal(st.txns, 100);
	assert_int_equal(st.files, 3);
	assert_int_equal(st.last_zxid, 100);
	txnlog_close(lg);
	size_t len;
	assert_non_null(vfs_mem_get(v, DIR "/log.1", &len));
	assert_non_null(vfs_mem_get(v, DIR "/log.29", &len));
	assert_non_null(vfs_mem_get(v, DIR "/log.5b", &len));
	/* padding keeps the file at least 4 KiB ahead of its data */
	assert_true(len % 1024 == 16 || len % 1024 == 0);
	int64_t last;
	int rc;
	assert_int_equal(read_all(v, 0, false, &last, &rc, &e), 100);
	assert_int_equal(rc, 0);
	assert_int_equal(last, 100);
	/* from a zxid in the middle of a file, and exactly at a file start */
	assert_int_equal(read_all(v, 50, false, &last, &rc, &e), 51);
	assert_int_equal(read_all(v, 41, false, &last, &rc, &e), 60);
	assert_int_equal(read_all(v, 101, false, &last, &rc, &e), 0);
	int64_t lz;
	assert_int_equal(txnlog_last_zxid(v, DIR, &lz, &e), 0);
	assert_int_equal(lz, 100);
	vfs_mem_destroy(v);
}

/* Write zxids 1..n into log.1 without padding; return the offset of the
 * last entry. */
static uint64_t write_small(struct vfs *v, int64_t n, uint64_t prealloc)
{
	struct txnlog *lg = writer(v, prealloc);
	struct store_error e;
	append_range(lg, 1, n);
	assert_int_equal(txnlog_commit(lg, &e), 0);
	txnlog_close(lg);
	struct txnlog_iter *it;
	assert_int_equal(txnlog_iter_open(&it, v, DIR, 0, NULL, &e), 0);
	struct txnlog_entry en;
	uint64_t off = 0;
	while (txnlog_iter_next(it, &en, &e) == 1)
		off = en.offset;
	txnlog_iter_close(it);
	return off;
}

static void test_torn_every_byte(void **state)
{
	struct vfs *v = new_disk(3);
	uint64_t last_off = write_small(v, 5, 0);
	size_t len;
	const uint8_t *f = vfs_mem_get(v, DIR "/log.1", &len);
	uint8_t orig[4096];
	assert_true(len <= sizeof orig);
	memcpy(orig, f, len);
	struct store_error e;
	for (size_t cut = last_off; cut < len; cut++) {
		for (int pad = 0; pad < 2; pad++) {
			/* cut, and optionally pad with zeros as preallocation would */
			uint8_t img[8192];
			memcpy(img, orig, cut);
			size_t n = cut;
			if (pad) {
				memset(img + cut, 0, 1000);
				n += 1000;
			}
			vfs_mem_put(v, DIR "/log.1", img, n);
			int64_t last;
			int rc;
			assert_int_equal(read_all(v, 0, true, &last, &rc, &e), 4);
			assert_int_equal(rc, 0);
			assert_int_equal(last, 4);
			/* repaired: the file now ends at the last whole entry (or is
			 * untouched when the tail was all zeros) and reads clean */
			const uint8_t *g = vfs_mem_get(v, DIR "/log.1", &len);
			bool zero_tail = true;
			for (size_t i = last_off; i < n; i++)
				zero_tail = zero_tail && img[i] == 0;
			assert_true(len == last_off || (zero_tail && len == n));
			assert_memory_equal(g, orig, last_off);
			assert_int_equal(read_all(v, 0, false, &last, &rc, &e), 4);
		}
	}
	vfs_mem_destroy(v);
}

static void test_corrupt_every_byte(void **state)
{
	struct vfs *v = new_disk(4);
	write_small(v, 6, 0);
	size_t len;
	const uint8_t *f = vfs_mem_get(v, DIR "/log.1", &len);
	uint8_t orig[4096];
	memcpy(orig, f, len);
	/* find entry 3's extent */
	struct store_error e;
	struct txnlog_iter *it;
	assert_int_equal(txnlog_iter_open(&it, v, DIR, 3, NULL, &e), 0);
	struct txnlog_entry en;
	assert_int_equal(txnlog_iter_next(it, &en, &e), 1);
	uint64_t o = en.offset, end = en.offset + 13 + en.len;
	txnlog_iter_close(it);
	for (uint64_t i = o; i < end; i++) {
		uint8_t img[4096];
		memcpy(img, orig, len);
		img[i] ^= 0xff;
		vfs_mem_put(v, DIR "/log.1", img, len);
		int64_t last;
		int rc;
		store_error_clear(&e);
		assert_int_equal(read_all(v, 0, true, &last, &rc, &e), 2);
		assert_int_equal(rc, STORE_ECORRUPT);
		assert_int_equal(e.offset, (int64_t)o);
		assert_string_equal(e.path, DIR "/log.1");
		assert_non_null(strstr(e.msg, "log.1"));
		/* repair never cuts corruption away */
		size_t l2;
		vfs_mem_get(v, DIR "/log.1", &l2);
		assert_int_equal(l2, len);
	}
	/* bad magic */
	uint8_t img[4096];
	memcpy(img, orig, len);
	img[0] = 'X';
	vfs_mem_put(v, DIR "/log.1", img, len);
	int64_t last;
	int rc;
	read_all(v, 0, false, &last, &rc, &e);
	assert_int_equal(rc, STORE_ECORRUPT);
	assert_int_equal(e.offset, 0);
	vfs_mem_destroy(v);
}

static void test_short_header_file(void **state)
{
	struct vfs *v = new_disk(5);
	write_small(v, 3, 0);
	vfs_mem_put(v, DIR "/log.4", "ZKL", 3);
	struct store_error e;
	int64_t last;
	int rc;
	assert_int_equal(read_all(v, 0, false, &last, &rc, &e), 3);
	assert_int_equal(rc, 0);
	size_t len;
	assert_non_null(vfs_mem_get(v, DIR "/log.4", &len));
	assert_int_equal(read_all(v, 0, true, &last, &rc, &e), 3);
	assert_null(vfs_mem_get(v, DIR "/log.4", &len));
	vfs_mem_destroy(v);
}

static void test_truncate(void **state)
{
	struct vfs *v = new_disk(6);
	struct txnlog *lg = writer(v, 512);
	struct store_error e;
	append_range(lg, 1, 30);
	assert_int_equal(txnlog_roll(lg, &e), 0);
	append_range(lg, 31, 60);
	assert_int_equal(txnlog_commit(lg, &e), 0);
	txnlog_close(lg);
	assert_int_equal(txnlog_truncate(v, DIR, 17, &e), 0);
	int64_t last;
	int rc;
	assert_int_equal(read_all(v, 0, false, &last, &rc, &e), 17);
	assert_int_equal(last, 17);
	size_t len;
	assert_null(vfs_mem_get(v, DIR "/log.1f", &len));
	/* writing on after TRUNC continues from the next zxid in a new file */
	lg = writer(v, 512);
	append_range(lg, 18, 20);
	assert_int_equal(txnlog_commit(lg, &e), 0);
	txnlog_close(lg);
	assert_int_equal(read_all(v, 0, false, &last, &rc, &e), 20);
	assert_int_equal(txnlog_truncate(v, DIR, 100, &e), 0);
	assert_int_equal(read_all(v, 0, false, &last, &rc, &e), 20);
	vfs_mem_destroy(v);
}

/* Crash with unsynced writes, many seeds: the log always reads without a
 * corruption error, keeps every committed txn, and returns a prefix. */
static void test_crash_random(void **state)
{
	for (uint64_t seed = 1; seed <= 300; seed++) {
		struct vfs *v = new_disk(seed);
		struct txnlog *lg = writer(v, 256);
		struct store_error e;
		int64_t committed = 0, z = 1;
		for (int round = 0; round < 6; round++) {
			int64_t k = (int64_t)(seed * 7 + (uint64_t)round * 3) % 9 + 1;
			append_range(lg, z, z + k - 1);
			z += k;
			if (round == 3 && seed % 3 == 0)
				assert_int_equal(txnlog_roll(lg, &e), 0);
			if (round < 5) {
				assert_int_equal(txnlog_commit(lg, &e), 0);
				committed = z - 1;
			}
		}
		/* round 5 is appended and flushed, not synced */
		txnlog_roll(lg, NULL);  /* commit would sync; drop it below */
		txnlog_close(lg);
		enum vfs_mem_crash_mode mode = seed % 3 == 0 ? VFS_MEM_DROP_UNSYNCED : VFS_MEM_RANDOM;
		vfs_mem_crash(v, mode);
		int64_t last;
		int rc;
		int n = read_all(v, 0, true, &last, &rc, &e);
		assert_int_equal(rc, 0);
		assert_true(last >= committed);
		assert_int_equal(n, last);
		vfs_mem_destroy(v);
	}
}

static void test_crash_unsynced(void **state)
{
	/* appends that were written but not fsynced vanish with DROP_UNSYNCED */
	struct vfs *v = new_disk(9);
	struct txnlog_opts o;
	txnlog_opts_default(&o);
	o.prealloc_bytes = 4096;
	o.force_sync = false;  /* forceSync=no: commit writes but never syncs */
	struct txnlog *lg = txnlog_open(v, DIR, &o);
	struct store_error e;
	append_range(lg, 1, 10);
	assert_int_equal(txnlog_commit(lg, &e), 0);
	struct txnlog_stats st;
	txnlog_get_stats(lg, &st);
	assert_int_equal(st.fsyncs, 0);
	txnlog_close(lg);
	vfs_mem_crash(v, VFS_MEM_DROP_UNSYNCED);
	int64_t last;
	int rc;
	assert_int_equal(read_all(v, 0, true, &last, &rc, &e), 0);
	assert_int_equal(rc, 0);
	vfs_mem_destroy(v);
}

static void test_write_then_commit(void **state)
{
	/* txnlog_write puts entries in the file unsynced: a process death
	 * (KEEP_ALL) keeps them, a power cut drops them; commit makes the
	 * written ones durable */
	for (int mode = 0; mode < 3; mode++) {
		struct vfs *v = new_disk(11);
		struct txnlog *lg = txnlog_open(v, DIR, NULL);
		struct store_error e;
		append_range(lg, 1, 3);
		assert_int_equal(txnlog_write(lg, &e), 0);
		if (mode == 2)
			assert_int_equal(txnlog_commit(lg, &e), 0);
		struct txnlog_stats st;
		txnlog_get_stats(lg, &st);
		assert_int_equal(st.fsyncs, mode == 2 ? 1 : 0);
		txnlog_close(lg);
		vfs_mem_crash(v, mode == 0 ? VFS_MEM_KEEP_ALL : VFS_MEM_DROP_UNSYNCED);
		int64_t last;
		int rc;
		assert_int_equal(read_all(v, 0, true, &last, &rc, &e), mode == 1 ? 0 : 3);
		vfs_mem_destroy(v);
	}
	(void)state;
}

static void test_fsync_failure_sticky(void **state)
{
	struct vfs *v = new_disk(10);
	struct txnlog *lg = writer(v, 4096);
	struct store_error e;
	append_range(lg, 1, 3);
	vfs_mem_fail(v, VFS_MEM_FAIL_FSYNC, 0, -EIO);
	assert_int_equal(txnlog_commit(lg, &e), STORE_EIO);
	assert_int_equal(e.sys_errno, EIO);
	vfs_mem_fail(v, VFS_MEM_FAIL_FSYNC, -1, 0);
	assert_int_equal(txnlog_commit(lg, &e), STORE_EIO);
	struct buf b;
	buf_init(&b);
	tu_body(&b, 4);
	assert_int_equal(txnlog_append(lg, 4, b.data, b.len, &e), STORE_EIO);
	buf_free(&b);
	txnlog_close(lg);
	vfs_mem_destroy(v);
}

static void test_oversized_body(void **state)
{
	struct vfs *v = new_disk(11);
	struct txnlog *lg = writer(v, 0);
	struct store_error e;
	static uint8_t big[STORE_MAX_RECORD + 1];
	assert_int_equal(txnlog_append(lg, 1, big, sizeof big, &e), STORE_EINVAL);
	txnlog_close(lg);
	vfs_mem_destroy(v);
}

static void test_snap_policy(void **state)
{
	/* snapCount 100: every trigger after 51..100 txns (snapCount/2 + [0, 50)) */
	struct txnlog_snap_policy p;
	txnlog_snap_policy_init(&p, 100, -1, 42);
	int lo = 1000, hi = 0, n = 0;
	for (int trig = 0; trig < 200; trig++) {
		for (n = 1;; n++)
			if (txnlog_snap_policy_logged(&p, 0))
				break;
		lo = n < lo ? n : lo;
		hi = n > hi ? n : hi;
	}
	assert_true(lo >= 51);
	assert_true(hi <= 100);
	assert_true(hi > lo);  /* randomised */
	/* size trigger: 1 KiB limit fires once the log passes 512..1024 bytes */
	txnlog_snap_policy_init(&p, 1000000, 1, 7);
	assert_false(txnlog_snap_policy_logged(&p, 100));
	assert_true(txnlog_snap_policy_logged(&p, 1025));
	/* values below 2 are raised to 2: count > 1 + nextInt(1), every second txn */
	txnlog_snap_policy_init(&p, 0, -1, 1);
	assert_false(txnlog_snap_policy_logged(&p, 0));
	assert_true(txnlog_snap_policy_logged(&p, 0));
	assert_false(txnlog_snap_policy_logged(&p, 0));
	assert_true(txnlog_snap_policy_logged(&p, 0));
}

static void test_names(void **state)
{
	assert_int_equal(store_zxid_from_name("log.1", "log"), 1);
	assert_int_equal(store_zxid_from_name("log.2000003e8", "log"), 0x2000003e8LL);
	assert_int_equal(store_zxid_from_name("snapshot.1A.gz", "snapshot"), 0x1a);
	assert_int_equal(store_zxid_from_name("snapshot.5.tmp", "snapshot"), 5);
	assert_int_equal(store_zxid_from_name("log.zz", "log"), -1);
	assert_int_equal(store_zxid_from_name("log.", "log"), -1);
	assert_int_equal(store_zxid_from_name("logx.1", "log"), -1);
	assert_int_equal(store_zxid_from_name("log.10000000000000000", "log"), -1);
	char n[64];
	store_name(n, sizeof n, "snapshot", 0x2000003e8LL);
	assert_string_equal(n, "snapshot.2000003e8");
	store_name(n, sizeof n, "log", 0);
	assert_string_equal(n, "log.0");
}

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Bad input gets an error, never a crash: mutate a valid log at random
 * (bytes, lengths, cuts) and read it; split random bodies. */
static void test_garbage_never_crashes(void **state)
{
	struct vfs *v = new_disk(12);
	write_small(v, 8, 0);
	size_t len;
	const uint8_t *f = vfs_mem_get(v, DIR "/log.1", &len);
	uint8_t orig[4096];
	memcpy(orig, f, len);
	uint64_t seed = 0x1234567;
	struct store_error e;
	for (int round = 0; round < 3000; round++) {
		uint8_t img[4096];
		memcpy(img, orig, len);
		size_t n = len;
		int muts = 1 + (int)(xs(&seed) % 6);
		for (int m = 0; m < muts; m++) {
			size_t at = (size_t)(xs(&seed) % n);
			if (xs(&seed) % 4 == 0)
				img[at] = (uint8_t)(xs(&seed) % 4 == 0 ? 0xff : 0x00);
			else
				img[at] ^= (uint8_t)(1u << (xs(&seed) % 8));
		}
		if (xs(&seed) % 3 == 0)
			n = 16 + (size_t)(xs(&seed) % (n - 16));
		vfs_mem_put(v, DIR "/log.1", img, n);
		struct txnlog_iter *it;
		assert_int_equal(txnlog_iter_open(&it, v, DIR, 0, NULL, &e), 0);
		struct txnlog_entry en;
		int rc, count = 0;
		while ((rc = txnlog_iter_next(it, &en, &e)) == 1) {
			struct txn_parts p;
			txn_split(en.body, en.len, &p);
			count++;
		}
		assert_true(rc == 0 || rc == STORE_ECORRUPT);
		assert_true(count <= 8);
		txnlog_iter_close(it);
	}
	for (int round = 0; round < 3000; round++) {
		uint8_t body[96];
		size_t n = 32 + (size_t)(xs(&seed) % 64);
		for (size_t i = 0; i < n; i++)
			body[i] = (uint8_t)xs(&seed);
		/* a plausible type makes the record parser do the work */
		static const int32_t types[] = {-11, -10, -1, 1, 2, 5, 7, 13, 14, 15, 16, 19, 20, 21};
		int32_t t = types[xs(&seed) % 14];
		body[28] = (uint8_t)(t >> 24), body[29] = (uint8_t)(t >> 16);
		body[30] = (uint8_t)(t >> 8), body[31] = (uint8_t)t;
		struct txn_parts p;
		int rc = txn_split(body, n, &p);
		assert_true(rc == 0 || rc == -1 || rc == -2);
		if (rc == 0)
			assert_true(p.record + p.record_len <= body + n);
	}
	vfs_mem_destroy(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_java_bytes),
		cmocka_unit_test(test_split_create),
		cmocka_unit_test(test_roundtrip_roll_from),
		cmocka_unit_test(test_torn_every_byte),
		cmocka_unit_test(test_corrupt_every_byte),
		cmocka_unit_test(test_short_header_file),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_crash_random),
		cmocka_unit_test(test_crash_unsynced),
		cmocka_unit_test(test_write_then_commit),
		cmocka_unit_test(test_fsync_failure_sticky),
		cmocka_unit_test(test_oversized_body),
		cmocka_unit_test(test_snap_policy),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_garbage_never_crashes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
