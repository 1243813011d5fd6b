/* zstore tests: the core's disk over a ZooKeeper data directory.
 *
 * Over vfs_mem: append → flush → job → durable round trip across a
 * restart, group commit, refused appends, crashes before and after the
 * fsync, a torn tail cut at load, truncation (and its refusal when no
 * state at or below the point can be rebuilt), SNAP install, the log that
 * ends below the newest snapshot dropped at load, log_read ranges and
 * limits (pending entries included, the job drained first), epoch files,
 * autopurge and snapshot thinning, the log rolled after a snapshot.
 * Snapshot files: zstore's file for the content of a fresh ZooKeeper
 * 3.8.0 snapshot.0 is byte for byte the one snapshot_writer writes (which
 * test_snapshot checks against Java's), snapshot.c's reader reads it,
 * corrupt files are set aside and the older snapshot is loaded, 3.5-style
 * files (no trailer) read. Over vfs_posix in a temp dir: the same round
 * trip with the log job run on a real thread, and the directory then
 * opened by recover_open (the standalone server's recovery). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/zalloc.h"
#include "store/epoch.h"
#include "store/recover.h"
#include "store/snapshot.h"
#include "store/vfs_mem.h"
#include "store/zstore.h"
#include "node/node.h"
#include "tree/tree.h"
#include "test_txnlog_util.h"

#define DIR "/data/version-2"

/* ---- a deferred executor: the test decides when the job runs ---- */
struct tex {
	struct zstore_job *job;
	int submits, drains;
};

static void tex_submit(void *ctx, struct zstore_job *job)
{
	struct tex *t = ctx;
	assert_null(t->job);
	t->job = job;
	t->submits++;
}

static void tex_drain(void *ctx, struct zstore_job *job)
{
	struct tex *t = ctx;
	assert_ptr_equal(t->job, job);
	t->drains++;
	zstore_job_run(job);
}

struct fx {
	struct vfs *vfs;
	struct zstore *zs;
	struct tex ex;
	struct zstore_opts o;
	char trace[2048];
};

static void fx_trace(void *arg, const char *line)
{
	struct fx *f = arg;
	size_t n = strlen(f->trace);
	snprintf(f->trace + n, sizeof f->trace - n, "%s\n", line);
}

static void fx_open(struct fx *f)
{
	memset(&f->ex, 0, sizeof f->ex);
	f->o.vfs = f->vfs;
	f->o.snap_dir = DIR;
	f->o.exec = (struct zstore_executor){&f->ex, tex_submit, tex_drain};
	f->o.trace = fx_trace;
	f->o.trace_arg = f;
	txnlog_opts_default(&f->o.log);
	f->o.log.prealloc_bytes = 0;
	struct store_error e;
	assert_int_equal(zstore_open(&f->zs, &f->o, &e), 0);
}

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof *f);
	f->vfs = vfs_mem_create(7);
	fx_open(f);
}

static void fx_restart(struct fx *f)
{
	zstore_free(f->zs);
	fx_open(f);
}

static void fx_free(struct fx *f)
{
	zstore_free(f->zs);
	vfs_mem_destroy(f->vfs);
}

/* Run the outstanding job and deliver its completion: the durable zxid. */
static uint64_t fx_complete(struct fx *f)
{
	assert_non_null(f->ex.job);
	struct zstore_job *j = f->ex.job;
	f->ex.job = NULL;
	zstore_job_run(j);
	uint64_t d = 0;
	assert_int_equal(zstore_job_done(f->zs, j, &d), 0);
	return d;
}

static void append(struct fx *f, uint64_t zxid)
{
	struct buf b;
	buf_init(&b);
	tu_body(&b, (int64_t)zxid);
	assert_int_equal(zstore_log_append(f->zs, zxid, b.data, b.len), 0);
	buf_free(&b);
}

/* append zxids lo..hi (counters of epoch 1), flush and complete */
static void append_durable(struct fx *f, uint32_t lo, uint32_t hi)
{
	for (uint32_t c = lo; c <= hi; c++)
		append(f, ZXID(1, c));
	zstore_log_flush(f->zs);
	while (f->ex.job)
		fx_complete(f);
}

/* ---- what load() hands back ---- */
struct got {
	uint64_t snap_zxid;
	size_t snap_len;
	uint8_t snap[512];
	int snaps;
	uint64_t z[64];
	int n;
	bool bodies_ok;
};

static void g_snap(void *arg, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct got *g = arg;
	g->snaps++;
	g->snap_zxid = zxid;
	g->snap_len = n;
	if (n <= sizeof g->snap)
		memcpy(g->snap, p, n);
}

static void g_entry(void *arg, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct got *g = arg;
	struct buf b;
	buf_init(&b);
	tu_body(&b, (int64_t)zxid);
	if (b.len != n || memcmp(b.data, p, n) != 0)
		g->bodies_ok = false;
	buf_free(&b);
	if (g->n < 64)
		g->z[g->n++] = zxid;
}

static int load(struct fx *f, struct got *g, int64_t *acc, int64_t *cur, uint64_t *durable)
{
	memset(g, 0, sizeof *g);
	g->bodies_ok = true;
	int64_t a, c;
	uint64_t d;
	int rc = zstore_load(f->zs, g, g_snap, g_entry, acc ? acc : &a, cur ? cur : &c,
			     durable ? durable : &d);
	assert_int_equal(g->snaps, rc == 0 ? 1 : g->snaps);
	return rc;
}

static bool exists(struct fx *f, const char *name)
{
	char path[256];
	snprintf(path, sizeof path, DIR "/%s", name);
	size_t n;
	return vfs_mem_get(f->vfs, path, &n) != NULL;
}

static void test_round_trip(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct got g;
	int64_t acc, cur;
	uint64_t d;
	assert_int_equal(load(&f, &g, &acc, &cur, &d), 0);
	assert_int_equal(acc, -1);
	assert_int_equal(cur, -1);
	assert_int_equal(g.snap_zxid, 0);
	assert_int_equal(g.snap_len, 0);
	assert_int_equal(g.n, 0);
	assert_true(exists(&f, "snapshot.0"));  /* a fresh dir gets its base */
	append(&f, ZXID(1, 1));
	append(&f, ZXID(1, 2));
	assert_int_equal(f.ex.submits, 0);  /* appends do no I/O */
	zstore_log_flush(f.zs);
	assert_int_equal(f.ex.submits, 1);
	append(&f, ZXID(1, 3));
	zstore_log_flush(f.zs);  /* gathers behind the job in flight */
	assert_int_equal(f.ex.submits, 1);
	assert_int_equal(fx_complete(&f), ZXID(1, 2));
	assert_int_equal(f.ex.submits, 2);  /* the next batch went at once */
	assert_int_equal(fx_complete(&f), ZXID(1, 3));
	assert_null(f.ex.job);
	assert_true(exists(&f, "log.100000001"));
	fx_restart(&f);
	assert_int_equal(load(&f, &g, NULL, NULL, &d), 0);
	assert_int_equal(g.n, 3);
	assert_true(g.bodies_ok);
	assert_int_equal(g.z[2], ZXID(1, 3));
	assert_int_equal(d, ZXID(1, 3));
	append_durable(&f, 4, 4);  /* a new incarnation starts a new file */
	assert_true(exists(&f, "log.100000004"));
	fx_free(&f);
}

static void test_append_refused(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct got g;
	assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
	append(&f, 5);
	struct buf b;
	buf_init(&b);
	tu_body(&b, 7);
	assert_int_equal(zstore_log_append(f.zs, 6, b.data, b.len), -1);  /* header says 7 */
	assert_int_equal(zstore_log_append(f.zs, 5, b.data, b.len), -1);  /* not increasing */
	assert_int_equal(zstore_log_append(f.zs, 7, b.data, 10), -1);     /* no header */
	assert_int_equal(zstore_log_append(f.zs, 7, b.data, b.len), 0);
	assert_non_null(strstr(zstore_error(f.zs)->msg, "refused"));
	buf_free(&b);
	fx_free(&f);
}

static void test_crash(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct got g;
	uint64_t d;
	assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
	append_durable(&f, 1, 2);
	append(&f, ZXID(1, 3));
	zstore_log_flush(f.zs);
	zstore_job_write(f.ex.job);  /* written, never fsynced */
	zstore_free(f.zs);           /* the process dies with its job */
	vfs_mem_crash(f.vfs, VFS_MEM_DROP_UNSYNCED);
	fx_open(&f);
	assert_int_equal(load(&f, &g, NULL, NULL, &d), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(d, ZXID(1, 2));
	/* a process crash keeps what reached the kernel: after the first
	 * load fsyncs it, it is durable */
	append(&f, ZXID(1, 3));
	zstore_log_flush(f.zs);
	zstore_job_write(f.ex.job);
	zstore_free(f.zs);
	vfs_mem_crash(f.vfs, VFS_MEM_KEEP_ALL);
	fx_open(&f);
	assert_int_equal(load(&f, &g, NULL, NULL, &d), 0);
	assert_int_equal(g.n, 3);
	assert_int_equal(d, ZXID(1, 3));
	zstore_free(f.zs);
	vfs_mem_crash(f.vfs, VFS_MEM_DROP_UNSYNCED);
	fx_open(&f);
	assert_int_equal(load(&f, &g, NULL, NULL, &d), 0);
	assert_int_equal(g.n, 3);
	fx_free(&f);
}

static void test_torn_tail(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct got g;
	uint64_t d;
	assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
	append_durable(&f, 1, 4);
	size_t n;
	const uint8_t *p = vfs_mem_get(f.vfs, DIR "/log.100000001", &n);
	assert_non_null(p);
	uint8_t *copy = zmalloc(n);
	memcpy(copy, p, n);
	vfs_mem_put(f.vfs, DIR "/log.100000001", copy, n - 7);  /* the last entry cut short */
	zfree(copy);
	fx_restart(&f);
	assert_int_equal(load(&f, &g, NULL, NULL, &d), 0);
	assert_int_equal(g.n, 3);
	assert_int_equal(d, ZXID(1, 3));
	assert_non_null(strstr(f.trace, "torn log tail"));
	append_durable(&f, 4, 5);
	fx_restart(&f);
	assert_int_equal(load(&f, &g, NULL, NULL, &d), 0);
	assert_int_equal(g.n, 5);
	assert_true(g.bodies_ok);
	fx_free(&f);
}

static void test_truncate(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct got g;
	assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
	append_durable(&f, 1, 6);
	uint8_t s[3] = {1, 2, 3};
	assert_int_equal(zstore_snap_save(f.zs, ZXID(1, 5), s, 3), 0);
	append(&f, ZXID(1, 7));  /* pending: dropped by the truncation */
	assert_int_equal(zstore_log_truncate(f.zs, ZXID(1, 4)), 0);
	assert_false(exists(&f, "snapshot.100000005"));
	assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
	assert_int_equal(g.snap_zxid, 0);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.z[3], ZXID(1, 4));
	/* appends go on after the truncation point, in a new file */
	append_durable(&f, 5, 5);
	fx_restart(&f);
	assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
	assert_int_equal(g.n, 5);
	assert_true(g.bodies_ok);
	fx_free(&f);
}

static void test_truncate_refused(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct got g;
	assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
	uint8_t s[4] = {9, 9, 9, 9};
	/* SNAP install at 1:5: nothing below it can be rebuilt */
	assert_int_equal(zstore_snap_install(f.zs, ZXID(1, 5), s, 4), 0);
	assert_false(exists(&f, "snapshot.0"));
	append_durable(&f, 6, 8);
	assert_int_equal(zstore_log_truncate(f.zs, ZXID(1, 4)), 1);
	assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
	assert_int_equal(g.snap_zxid, ZXID(1, 5));
	assert_int_equal(g.n, 3);  /* unchanged */
	assert_int_equal(zstore_log_truncate(f.zs, ZXID(1, 6)), 0);
	assert_int_equal(zstore_log_truncate(f.zs, ZXID(1, 5)), 0);  /* back to the snapshot */
	assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
	assert_int_equal(g.snap_zxid, ZXID(1, 5));
	assert_int_equal(g.snap_len, 4);
	assert_int_equal(g.n, 0);
	fx_free(&f);
}

static void test_install(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct got g;
	uint64_t d;
	assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
	append_durable(&f, 1, 5);
	append(&f, ZXID(1, 6));
	zstore_log_flush(f.zs);  /* in flight: install drains it first */
	uint8_t s[5] = {1, 2, 3, 4, 5};
	assert_int_equal(zstore_snap_install(f.zs, ZXID(2, 3), s, 5), 0);
	assert_int_equal(f.ex.drains, 1);
	/* the completion of the job from before reports nothing beyond it */
	assert_int_equal(fx_complete(&f), ZXID(2, 3));
	assert_false(exists(&f, "log.100000001"));
	assert_false(exists(&f, "snapshot.0"));
	assert_true(exists(&f, "snapshot.200000003"));
	fx_restart(&f);
	assert_int_equal(load(&f, &g, NULL, NULL, &d), 0);
	assert_int_equal(g.snap_zxid, ZXID(2, 3));
	assert_int_equal(g.snap_len, 5);
	assert_memory_equal(g.snap, s, 5);
	assert_int_equal(g.n, 0);
	assert_int_equal(d, ZXID(2, 3));
	fx_free(&f);
}

/* A follower applies (and snapshots) a txn before its own fsync of it;
 * the crash loses the log entry the snapshot covers. */
static void test_log_below_snapshot(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct got g;
	assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
	append_durable(&f, 1, 3);
	append(&f, ZXID(1, 4));
	zstore_log_flush(f.zs);
	zstore_job_write(f.ex.job);
	uint8_t s[2] = {4, 4};
	assert_int_equal(zstore_snap_save(f.zs, ZXID(1, 4), s, 2), 0);
	zstore_free(f.zs);
	vfs_mem_crash(f.vfs, VFS_MEM_DROP_UNSYNCED);
	fx_open(&f);
	assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
	assert_int_equal(g.snap_zxid, ZXID(1, 4));
	assert_int_equal(g.n, 0);
	assert_non_null(strstr(f.trace, "log ends at 0x100000003 below snapshot 0x100000004: dropped"));
	assert_false(exists(&f, "log.100000001"));
	struct got r = {0};
	assert_int_equal(zstore_log_read(f.zs, ZXID(1, 2), ZXID(1, 4), 0, &r, g_entry), 1);
	append_durable(&f, 5, 6);
	assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.z[0], ZXID(1, 5));
	fx_free(&f);
}

static void test_log_read(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct got g;
	assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
	append_durable(&f, 1, 10);
	struct got r = {.bodies_ok = true};
	assert_int_equal(zstore_log_read(f.zs, ZXID(1, 3), ZXID(1, 7), 0, &r, g_entry), 0);
	assert_int_equal(r.n, 5);
	assert_int_equal(r.z[0], ZXID(1, 3));
	assert_int_equal(r.z[4], ZXID(1, 7));
	assert_true(r.bodies_ok);
	/* `from` between entries: the run starts with the last one below it */
	memset(&r, 0, sizeof r);
	assert_int_equal(zstore_log_read(f.zs, ZXID(2, 0), ZXID(3, 0), 0, &r, g_entry), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.z[0], ZXID(1, 10));
	/* the log does not reach back to 0 */
	memset(&r, 0, sizeof r);
	assert_int_equal(zstore_log_read(f.zs, 0, ZXID(1, 3), 0, &r, g_entry), 1);
	assert_int_equal(r.n, 0);
	/* the limit counts on-disk entry bytes from `from` to the log's end */
	struct buf b;
	buf_init(&b);
	uint64_t bytes = 0;
	for (uint32_t c = 8; c <= 10; c++) {
		tu_body(&b, (int64_t)ZXID(1, c));
		bytes += b.len + TXNLOG_ENTRY_OVERHEAD;
	}
	buf_free(&b);
	memset(&r, 0, sizeof r);
	assert_int_equal(zstore_log_read(f.zs, ZXID(1, 8), ZXID(1, 8), bytes - 1, &r, g_entry), 1);
	assert_int_equal(r.n, 0);
	assert_int_equal(zstore_log_read(f.zs, ZXID(1, 8), ZXID(1, 8), bytes, &r, g_entry), 0);
	assert_int_equal(r.n, 1);
	/* entries in flight and pending are part of the log */
	append(&f, ZXID(1, 11));
	zstore_log_flush(f.zs);
	append(&f, ZXID(1, 12));
	memset(&r, 0, sizeof r);
	assert_int_equal(zstore_log_read(f.zs, ZXID(1, 9), ZXID(1, 12), 0, &r, g_entry), 0);
	assert_int_equal(f.ex.drains, 1);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.z[3], ZXID(1, 12));
	struct zstore_stats st;
	zstore_get_stats(f.zs, &st);
	assert_int_equal(st.log_reads, 4);
	fx_free(&f);
}

static void test_epochs(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	assert_int_equal(zstore_epoch_save(f.zs, ZAB_ACCEPTED_EPOCH, 3), 0);
	assert_int_equal(zstore_epoch_save(f.zs, ZAB_CURRENT_EPOCH, 2), 0);
	size_t n;
	const uint8_t *p = vfs_mem_get(f.vfs, DIR "/acceptedEpoch", &n);
	assert_non_null(p);
	assert_int_equal(n, 1);
	assert_memory_equal(p, "3", 1);
	assert_false(exists(&f, "acceptedEpoch.tmp"));
	fx_restart(&f);
	struct got g;
	int64_t acc, cur;
	assert_int_equal(load(&f, &g, &acc, &cur, NULL), 0);
	assert_int_equal(acc, 3);
	assert_int_equal(cur, 2);
	vfs_mem_put(f.vfs, DIR "/currentEpoch", "2 ", 2);
	assert_int_equal(load(&f, &g, &acc, &cur, NULL), -1);  /* not what Java parses */
	fx_free(&f);
}

static int count_prefix(struct fx *f, const char *prefix, uint64_t *first)
{
	struct store_files fl = {0};
	struct store_error e;
	assert_int_equal(store_list(f->vfs, DIR, prefix, false, &fl, &e), 0);
	int n = (int)fl.n;
	if (first && n)
		*first = (uint64_t)fl.v[0].zxid;
	store_files_free(&fl);
	return n;
}

static void test_purge_and_thin(void **state)
{
	(void)state;
	for (int purge = 0; purge < 2; purge++) {
		struct fx f;
		memset(&f, 0, sizeof f);
		f.vfs = vfs_mem_create(9);
		f.o.purge_retain = purge ? 3 : 0;
		f.o.max_snaps = purge ? 0 : 3;
		fx_open(&f);
		struct got g;
		assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
		uint8_t s[1] = {7};
		for (uint32_t k = 1; k <= 5; k++) {
			append_durable(&f, k * 10 - 9, k * 10);
			assert_int_equal(zstore_snap_save(f.zs, ZXID(1, k * 10), s, 1), 0);
		}
		assert_int_equal(zstore_snap_save(f.zs, ZXID(1, 50), s, 1), 0);  /* already there */
		assert_int_equal(zstore_snap_save(f.zs, ZXID(1, 40), s, 1), -1);
		uint64_t first = 0;
		assert_int_equal(count_prefix(&f, STORE_SNAP_PREFIX, &first), 3);
		if (purge) {
			/* the newest 3, and the logs from the one holding 1:30 on
			 * (a log per snapshot: the log is rolled after each) */
			assert_int_equal(first, ZXID(1, 30));
			assert_int_equal(count_prefix(&f, STORE_LOG_PREFIX, &first), 3);
			assert_int_equal(first, ZXID(1, 21));
		} else {
			assert_int_equal(first, 0);  /* the base stays */
			assert_true(exists(&f, "snapshot.100000028") && exists(&f, "snapshot.100000032"));
			assert_int_equal(count_prefix(&f, STORE_LOG_PREFIX, NULL), 5);
		}
		fx_restart(&f);
		assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
		assert_int_equal(g.snap_zxid, ZXID(1, 50));
		assert_int_equal(g.n, 0);
		fx_free(&f);
	}
}

/* ---- snapshot files ---- */

#define LIT(s) {(const uint8_t *)(s), (int32_t)sizeof(s) - 1}
static const struct jr_acl read_unsafe[] = {{1, {LIT("world"), LIT("anyone")}}};

static void snode(struct snapshot_writer *w, const char *path, int64_t acl, int32_t aversion)
{
	struct snapshot_node n = {.path = JUTE_STR(path), .data = JUTE_STR(""), .acl_ref = acl};
	n.stat.aversion = aversion;
	struct store_error e;
	assert_int_equal(snapshot_write_node(w, &n, &e), 0);
}

/* snapshot.<zxid> of a fresh 3.8.0 server, by snapshot.c's writer. */
static void write_fresh(struct vfs *v, const char *dir, int64_t zxid)
{
	struct snapshot_writer *w;
	struct store_error e;
	assert_int_equal(snapshot_writer_open(&w, v, dir, zxid, &e), 0);
	snapshot_write_sessions_begin(w, 0);
	snapshot_write_acls_begin(w, 1);
	snapshot_write_acl(w, 1, read_unsafe, 1);
	snode(w, "", -1, 0);
	snode(w, "/zookeeper", -1, 0);
	snode(w, "/zookeeper/config", 1, -1);
	snode(w, "/zookeeper/quota", -1, 0);
	assert_int_equal(snapshot_writer_finish(w, NULL, &e), 0);
}

static void test_snapfile_is_zookeepers(void **state)
{
	(void)state;
	struct vfs *v = vfs_mem_create(1);
	assert_int_equal(vfs_mkdirs(v, DIR), 0);
	write_fresh(v, DIR, 0);
	size_t jn;
	const uint8_t *java = vfs_mem_get(v, DIR "/snapshot.0", &jn);
	assert_int_equal(jn, 457);
	uint8_t *file;
	size_t off, len;
	struct store_error e;
	assert_int_equal(zstore_snapfile_read(v, DIR "/snapshot.0", &file, &off, &len, &e), 0);
	assert_int_equal(off, 16);
	assert_int_equal(len, 457 - ZSTORE_SNAP_FRAMING);
	assert_memory_equal(file + len + off - 5, "\0\0\0\1/", 5);  /* the nodes' end */
	/* the same bytes framed by zstore: the same file, byte for byte */
	assert_int_equal(zstore_snapfile_write(v, DIR, 0x10000002a, file + off, len, &e), 0);
	size_t zn;
	const uint8_t *ours = vfs_mem_get(v, DIR "/snapshot.10000002a", &zn);
	assert_int_equal(zn, jn);
	assert_memory_equal(ours, vfs_mem_get(v, DIR "/snapshot.0", &jn), jn);
	(void)java;
	struct snapshot_info info;
	assert_int_equal(snapshot_read(v, DIR "/snapshot.10000002a", NULL, NULL, &info, &e), 0);
	assert_int_equal(info.nodes, 4);
	assert_int_equal(info.acls, 1);
	assert_true(info.has_digest);
	assert_int_equal(snapshot_quick_check(v, DIR "/snapshot.10000002a", &e), 1);
	/* a 3.5 file (no trailer, one seal) reads to the same bytes */
	struct buf b;
	buf_init(&b);
	buf_put(&b, ours, 16 + len);
	buf_put_be64(&b, store_adler32(STORE_ADLER_INIT, b.data, b.len));
	buf_put_be32(&b, 1);
	buf_put(&b, "/", 1);
	vfs_mem_put(v, DIR "/snapshot.5", b.data, b.len);
	uint8_t *f35;
	size_t off35, len35;
	assert_int_equal(zstore_snapfile_read(v, DIR "/snapshot.5", &f35, &off35, &len35, &e), 0);
	assert_int_equal(len35, len);
	assert_memory_equal(f35 + off35, file + off, len);
	zfree(f35);
	/* every flipped byte is caught */
	for (size_t i = 0; i < zn; i += 7) {
		uint8_t *c = zmalloc(zn);
		memcpy(c, ours, zn);
		c[i] ^= 0x20;
		vfs_mem_put(v, DIR "/snapshot.6", c, zn);
		zfree(c);
		uint8_t *fx;
		assert_int_equal(zstore_snapfile_read(v, DIR "/snapshot.6", &fx, &off35, &len35, &e),
				 STORE_ECORRUPT);
	}
	buf_free(&b);
	zfree(file);
	vfs_mem_destroy(v);
}

/* A real tree's SNAP stream (node_snapshot_stream) framed by zstore is a
 * snapshot file snapshot.c's reader reads whole, and reads back to the
 * same tree. ZSTORE_KEEP_DIR=1 also leaves it in /tmp for Java's
 * SnapshotFormatter. */
static void test_tree_stream_file(void **state)
{
	(void)state;
	struct zconfig cfg = {.tick_ms = 2000, .min_session_timeout_ms = 4000,
			      .max_session_timeout_ms = 40000, .max_buffer = 1048575,
			      .max_buffer_extra = 1024, .server_id = 1};
	struct node n;
	node_init(&n, &cfg, 1000);
	struct tree *t = &n.st.tree;
	static const struct jr_acl open_acl[] = {{31, {LIT("world"), LIT("anyone")}}};
	static const struct jr_acl dig[] = {{3, {LIT("digest"), LIT("alice:x0Xx5/pSbLjVfhGSDmUuVHQIGNQ=")}}};
	int64_t a1 = acl_cache_intern(&t->acls, open_acl, 1), a2 = acl_cache_intern(&t->acls, dig, 1);
	tree_create(t, "/app", 4, JUTE_STR("root of the app"), a1, 0, -1, 0x100000001, 1001);
	tree_create(t, "/app/a", 6, JUTE_STR("bin-data"), a2, 0, -1, 0x100000002, 1002);
	tree_create(t, "/app/b", 6, JUTE_NULL, a1, 0, -1, 0x100000003, 1003);
	n.st.last_applied_zxid = 0x100000003;
	struct buf sb;
	buf_init(&sb);
	node_snapshot_stream(&n, &sb);
	struct vfs *v = vfs_mem_create(2);
	assert_int_equal(vfs_mkdirs(v, DIR), 0);
	struct store_error e;
	assert_int_equal(zstore_snapfile_write(v, DIR, 0x100000003, sb.data, sb.len, &e), 0);
	struct snapshot_info info;
	assert_int_equal(snapshot_read(v, DIR "/snapshot.100000003", NULL, NULL, &info, &e), 0);
	assert_int_equal(info.nodes, tree_count(t));
	assert_int_equal(info.acls, 3);  /* with /zookeeper/config's READ_ACL_UNSAFE */
	uint8_t *file;
	size_t off, len;
	assert_int_equal(zstore_snapfile_read(v, DIR "/snapshot.100000003", &file, &off, &len, &e), 0);
	assert_int_equal(len, sb.len);
	struct node r;
	node_init(&r, &cfg, 2000);
	assert_int_equal(node_restore_stream(&r, 0x100000003, file + off, len, 2000), 0);
	assert_int_equal(r.st.tree.digest, t->digest);
	assert_int_equal(tree_count(&r.st.tree), tree_count(t));
	if (getenv("ZSTORE_KEEP_DIR")) {
		char dir[] = "/tmp/zabd-zstore-snap-XXXXXX";
		assert_non_null(mkdtemp(dir));
		assert_int_equal(zstore_snapfile_write(vfs_posix(), dir, 0x100000003, sb.data, sb.len, &e), 0);
		printf("kept %s/snapshot.100000003\n", dir);
	}
	node_free(&r);
	node_free(&n);
	zfree(file);
	buf_free(&sb);
	vfs_mem_destroy(v);
}

static void test_corrupt_snapshot_set_aside(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct got g;
	assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
	append_durable(&f, 1, 4);
	uint8_t s[3] = {1, 2, 3};
	assert_int_equal(zstore_snap_save(f.zs, ZXID(1, 2), s, 3), 0);
	assert_int_equal(zstore_snap_save(f.zs, ZXID(1, 4), s, 3), 0);
	size_t n;
	const uint8_t *p = vfs_mem_get(f.vfs, DIR "/snapshot.100000004", &n);
	uint8_t *c = zmalloc(n);
	memcpy(c, p, n);
	c[17] ^= 1;
	vfs_mem_put(f.vfs, DIR "/snapshot.100000004", c, n);
	zfree(c);
	fx_restart(&f);
	assert_int_equal(load(&f, &g, NULL, NULL, NULL), 0);
	assert_int_equal(g.snap_zxid, ZXID(1, 2));
	assert_int_equal(g.n, 2);  /* 1:3 and 1:4 replayed from the log */
	assert_true(exists(&f, "snapshot.100000004.corrupt"));
	assert_false(exists(&f, "snapshot.100000004"));
	assert_non_null(strstr(f.trace, "set aside"));
	/* no loadable snapshot but logs: refused */
	vfs_unlink(f.vfs, DIR "/snapshot.100000002");
	vfs_unlink(f.vfs, DIR "/snapshot.0");
	assert_int_equal(load(&f, &g, NULL, NULL, NULL), -1);
	assert_int_equal(zstore_error(f.zs)->code, STORE_ENOSNAP);
	fx_free(&f);
}

/* ---- vfs_posix: a real thread runs the jobs ---- */

struct thex {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct zstore_job *todo;   /* handed to the thread */
	struct zstore_job *done;   /* I/O finished, completion not delivered */
	bool stop;
	pthread_t th;
};

static void *thex_main(void *arg)
{
	struct thex *t = arg;
	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		if (!t->todo) {
			pthread_cond_wait(&t->cv, &t->mu);
			continue;
		}
		struct zstore_job *j = t->todo;
		pthread_mutex_unlock(&t->mu);
		zstore_job_run(j);
		pthread_mutex_lock(&t->mu);
		t->todo = NULL;
		t->done = j;
		pthread_cond_broadcast(&t->cv);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

static void thex_submit(void *ctx, struct zstore_job *job)
{
	struct thex *t = ctx;
	pthread_mutex_lock(&t->mu);
	t->todo = job;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

static void thex_drain(void *ctx, struct zstore_job *job)
{
	struct thex *t = ctx;
	pthread_mutex_lock(&t->mu);
	while (t->todo == job)
		pthread_cond_wait(&t->cv, &t->mu);
	pthread_mutex_unlock(&t->mu);
}

/* The owner's side of the wake-up: wait for the job, deliver it. */
static uint64_t thex_complete(struct thex *t, struct zstore *zs)
{
	pthread_mutex_lock(&t->mu);
	while (!t->done)
		pthread_cond_wait(&t->cv, &t->mu);
	struct zstore_job *j = t->done;
	t->done = NULL;
	pthread_mutex_unlock(&t->mu);
	uint64_t d;
	assert_int_equal(zstore_job_done(zs, j, &d), 0);
	return d;
}

static int rec_txn(void *a, const struct txn_parts *p, const struct txnlog_entry *en)
{
	(void)p;
	int *n = a;
	(*n)++;
	return en->zxid > 0 ? 0 : 1;
}

static int rm_one(void *arg, const char *name)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", (const char *)arg, name);
	return vfs_unlink(vfs_posix(), p);
}

static void rm_dir(const char *dir)
{
	assert_int_equal(vfs_list(vfs_posix(), dir, rm_one, (void *)dir), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void test_posix_thread(void **state)
{
	(void)state;
	char top[] = "/tmp/zabd-zstore-XXXXXX";
	assert_non_null(mkdtemp(top));
	char dir[128];
	snprintf(dir, sizeof dir, "%s/version-2", top);
	struct thex t = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	assert_int_equal(pthread_create(&t.th, NULL, thex_main, &t), 0);
	/* the empty state is a fresh tree's: the dir is the standalone server's */
	struct vfs *mem = vfs_mem_create(1);
	assert_int_equal(vfs_mkdirs(mem, DIR), 0);
	write_fresh(mem, DIR, 0);
	uint8_t *fresh;
	size_t off, len;
	struct store_error e;
	assert_int_equal(zstore_snapfile_read(mem, DIR "/snapshot.0", &fresh, &off, &len, &e), 0);
	struct zstore_opts o = {.vfs = vfs_posix(), .snap_dir = dir, .empty_state = fresh + off,
				.empty_state_len = len, .exec = {&t, thex_submit, thex_drain}};
	txnlog_opts_default(&o.log);
	o.log.prealloc_bytes = 4096;
	struct zstore *zs;
	assert_int_equal(zstore_open(&zs, &o, &e), 0);
	struct got g;
	int64_t acc, cur;
	uint64_t d = 0;
	memset(&g, 0, sizeof g);
	assert_int_equal(zstore_load(zs, &g, g_snap, g_entry, &acc, &cur, &d), 0);
	assert_int_equal(g.snap_len, len);
	struct buf b;
	buf_init(&b);
	int flushes = 0;
	for (uint32_t c = 1; c <= 200; c++) {
		tu_body(&b, (int64_t)ZXID(1, c));
		assert_int_equal(zstore_log_append(zs, ZXID(1, c), b.data, b.len), 0);
		zstore_log_flush(zs);
		flushes++;
		if (c % 50 == 0)  /* the owner reads the log while a job may run */
			assert_int_equal(zstore_log_read(zs, ZXID(1, 1), ZXID(1, 2), 0, &g, g_entry), 0);
		if (c % 3 == 0)
			d = thex_complete(&t, zs);
	}
	buf_free(&b);
	while (d < ZXID(1, 200))
		d = thex_complete(&t, zs);
	struct zstore_stats st;
	zstore_get_stats(zs, &st);
	assert_true(st.jobs <= (uint64_t)flushes);
	assert_int_equal(zstore_epoch_save(zs, ZAB_CURRENT_EPOCH, 1), 0);
	assert_int_equal(zstore_epoch_save(zs, ZAB_ACCEPTED_EPOCH, 1), 0);
	pthread_mutex_lock(&t.mu);
	t.stop = true;
	pthread_cond_broadcast(&t.cv);
	pthread_mutex_unlock(&t.mu);
	pthread_join(t.th, NULL);
	zstore_free(zs);
	/* what the standalone server's recovery makes of the directory */
	int txns = 0;
	struct recover_opts ro = {.vfs = vfs_posix(), .data_dir = top};
	struct recover_callbacks cb = {.on_txn = rec_txn};
	struct recover_result res;
	assert_int_equal(recover_open(&ro, &cb, &txns, &res, &e), 0);
	assert_int_equal(res.snap_zxid, 0);
	assert_int_equal(res.snap.nodes, 4);
	assert_int_equal(txns, 200);
	assert_int_equal(res.last_zxid, (int64_t)ZXID(1, 200));
	int64_t ep;
	assert_int_equal(epoch_read(vfs_posix(), dir, EPOCH_CURRENT, &ep, &e), 1);
	assert_int_equal(ep, 1);
	if (getenv("ZSTORE_KEEP_DIR"))
		printf("kept %s\n", top);
	else {
		rm_dir(dir);
		assert_int_equal(rmdir(top), 0);
	}
	zfree(fresh);
	vfs_mem_destroy(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_append_refused),
		cmocka_unit_test(test_crash),
		cmocka_unit_test(test_torn_tail),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_truncate_refused),
		cmocka_unit_test(test_install),
		cmocka_unit_test(test_log_below_snapshot),
		cmocka_unit_test(test_log_read),
		cmocka_unit_test(test_epochs),
		cmocka_unit_test(test_purge_and_thin),
		cmocka_unit_test(test_snapfile_is_zookeepers),
		cmocka_unit_test(test_tree_stream_file),
		cmocka_unit_test(test_corrupt_snapshot_set_aside),
		cmocka_unit_test(test_posix_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
