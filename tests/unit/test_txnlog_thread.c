/* Log thread tests: group commit (one fsync for every txn that queued up
 * while the previous fsync ran — made deterministic with a gated fsync),
 * on_persisted ordering, ZooKeeper's snapshot rule rolling the log, rolls on
 * request, and an fsync failure that stops the thread. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "io/logthread.h"
#include "store/txnlog.h"
#include "store/vfs_mem.h"
#include "test_txnlog_util.h"

#define DIR "/d/version-2"

/* --- a vfs whose file fsync can be held closed -------------------------- */

static struct vfs gated;
static struct vfs *inner;
static pthread_mutex_t gmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gcv = PTHREAD_COND_INITIALIZER;
static bool gate_closed, gate_waiting;

static int g_open(struct vfs *v, const char *p, int f, struct vfs_file **o)
{
	return inner->xopen(inner, p, f, o);
}
static void g_close(struct vfs *v, struct vfs_file *f) { inner->xclose(inner, f); }
static int64_t g_pread(struct vfs *v, struct vfs_file *f, void *b, size_t n, uint64_t o)
{
	return inner->xpread(inner, f, b, n, o);
}
static int g_pwrite(struct vfs *v, struct vfs_file *f, const void *b, size_t n, uint64_t o)
{
	return inner->xpwrite(inner, f, b, n, o);
}
static int g_fsync(struct vfs *v, struct vfs_file *f)
{
	pthread_mutex_lock(&gmu);
	gate_waiting = true;
	pthread_cond_broadcast(&gcv);
	while (gate_closed)
		pthread_cond_wait(&gcv, &gmu);
	gate_waiting = false;
	pthread_mutex_unlock(&gmu);
	return inner->xfsync(inner, f);
}
static int g_truncate(struct vfs *v, struct vfs_file *f, uint64_t s)
{
	return inner->xtruncate(inner, f, s);
}
static int g_size(struct vfs *v, struct vfs_file *f, uint64_t *s) { return inner->xsize(inner, f, s); }
static int g_rename(struct vfs *v, const char *a, const char *b) { return inner->xrename(inner, a, b); }
static int g_unlink(struct vfs *v, const char *p) { return inner->xunlink(inner, p); }
static int g_fsync_dir(struct vfs *v, const char *d) { return inner->xfsync_dir(inner, d); }
static int g_list(struct vfs *v, const char *d, vfs_list_fn fn, void *a)
{
	return inner->xlist(inner, d, fn, a);
}
static int g_mkdir(struct vfs *v, const char *p) { return inner->xmkdir(inner, p); }

static void setup_disk(void)
{
	inner = vfs_mem_create(1);
	assert_int_equal(vfs_mkdirs(inner, DIR), 0);
	gated = (struct vfs){g_open, g_close, g_pread, g_pwrite, g_fsync, g_truncate, g_size,
			     g_rename, g_unlink, g_fsync_dir, g_list, g_mkdir, NULL, NULL};
	gate_closed = gate_waiting = false;
}

/* --- harness -------------------------------------------------------------- */

struct obs {
	int64_t persisted[256];
	int n_persisted;
	int64_t due[64];
	int n_due;
	int errors;
	char err[sizeof(((struct store_error *)0)->msg)];
};

static void on_persisted(void *arg, int64_t z)
{
	struct obs *o = arg;
	if (o->n_persisted < 256)
		o->persisted[o->n_persisted++] = z;
}

static void on_due(void *arg, int64_t z)
{
	struct obs *o = arg;
	if (o->n_due < 64)
		o->due[o->n_due++] = z;
}

static void on_error(void *arg, const struct store_error *e)
{
	struct obs *o = arg;
	o->errors++;
	snprintf(o->err, sizeof o->err, "%s", e->msg);
}

static int64_t last_persisted(const struct obs *o)
{
	return o->n_persisted ? o->persisted[o->n_persisted - 1] : -1;
}

/* Run the loop until cond holds; bounded by count (each turn waits at most
 * the 10 ms timer). */
static bool run_until(uv_loop_t *loop, bool (*cond)(const struct obs *, int64_t),
		      const struct obs *o, int64_t arg)
{
	uv_timer_t t;
	uv_timer_init(loop, &t);
	uv_timer_start(&t, NULL, 10, 10);
	bool ok = false;
	for (int i = 0; i < 1000 && !(ok = cond(o, arg)); i++)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return ok;
}

static bool reached(const struct obs *o, int64_t z) { return last_persisted(o) >= z; }
static bool errored(const struct obs *o, int64_t z) { return o->errors > 0; }

static void submit(struct logthread *lt, int64_t z)
{
	struct buf b;
	buf_init(&b);
	tu_body(&b, z);
	assert_int_equal(logthread_submit(lt, z, b.data, b.len), 0);
	buf_free(&b);
}

static struct logthread *start(uv_loop_t *loop, struct obs *o, int64_t snap_count)
{
	struct logthread_opts opts = {.vfs = &gated, .log_dir = DIR, .snap_count = snap_count,
				      .seed = 5};
	txnlog_opts_default(&opts.log);
	opts.log.prealloc_bytes = 4096;
	struct logthread_callbacks cb = {on_persisted, on_due, on_error, o};
	struct logthread *lt;
	struct store_error e;
	assert_int_equal(logthread_start(&lt, loop, &opts, &cb, &e), 0);
	return lt;
}

static void stop(uv_loop_t *loop, struct logthread *lt)
{
	logthread_stop(lt);
	uv_run(loop, UV_RUN_DEFAULT);  /* completes the close */
}

static int count_entries(int64_t *last)
{
	struct txnlog_iter *it;
	struct store_error e;
	assert_int_equal(txnlog_iter_open(&it, inner, DIR, 0, NULL, &e), 0);
	struct txnlog_entry en;
	int n = 0;
	while (txnlog_iter_next(it, &en, &e) == 1) {
		n++;
		*last = en.zxid;
	}
	txnlog_iter_close(it);
	return n;
}

static void test_group_commit(void **state)
{
	setup_disk();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs o = {0};
	struct logthread *lt = start(&loop, &o, 0);
	pthread_mutex_lock(&gmu);
	gate_closed = true;
	pthread_mutex_unlock(&gmu);
	submit(lt, 1);
	/* wait (bounded by the condvar, the thread is running) until txn 1's
	 * fsync is in progress, then queue 99 more behind it */
	pthread_mutex_lock(&gmu);
	while (!gate_waiting)
		pthread_cond_wait(&gcv, &gmu);
	pthread_mutex_unlock(&gmu);
	for (int64_t z = 2; z <= 100; z++)
		submit(lt, z);
	struct logthread_stats st;
	logthread_get_stats(lt, &st);
	assert_int_equal(st.durable_zxid, -1);  /* nothing is durable yet */
	assert_int_equal(st.queued, 100);
	pthread_mutex_lock(&gmu);
	gate_closed = false;
	pthread_cond_broadcast(&gcv);
	pthread_mutex_unlock(&gmu);
	assert_true(run_until(&loop, reached, &o, 100));
	logthread_get_stats(lt, &st);
	assert_int_equal(st.txns, 100);
	assert_int_equal(st.fsyncs, 2);  /* {1} and {2..100} */
	assert_int_equal(st.batches, 2);
	assert_int_equal(st.max_batch, 99);
	assert_int_equal(st.durable_zxid, 100);
	for (int i = 1; i < o.n_persisted; i++)
		assert_true(o.persisted[i] > o.persisted[i - 1]);
	assert_int_equal(o.persisted[0] == 1 || o.persisted[0] == 100, 1);
	stop(&loop, lt);
	int64_t last = 0;
	assert_int_equal(count_entries(&last), 100);
	assert_int_equal(last, 100);
	assert_int_equal(uv_loop_close(&loop), 0);
	vfs_mem_destroy(inner);
}

static void test_snapshot_rule_rolls(void **state)
{
	setup_disk();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs o = {0};
	struct logthread *lt = start(&loop, &o, 10);  /* a snapshot every 6..10 txns */
	for (int64_t z = 1; z <= 100; z++)
		submit(lt, z);
	assert_true(run_until(&loop, reached, &o, 100));
	stop(&loop, lt);
	/* triggers between two wake-ups of the loop are reported once, with
	 * the latest zxid; the rolls themselves all happen */
	assert_true(o.n_due >= 1);
	struct store_files f;
	struct store_error e;
	assert_int_equal(store_list(inner, DIR, STORE_LOG_PREFIX, false, &f, &e), 0);
	assert_true(f.n >= 100 / 10 && f.n <= 100 / 6 + 1);
	assert_int_equal(f.v[0].zxid, 1);
	for (size_t i = 1; i < f.n; i++) {
		int64_t gap = f.v[i].zxid - f.v[i - 1].zxid;
		assert_true(gap >= 6 && gap <= 10);  /* count > 10/2 + [0, 5) */
	}
	for (int i = 0; i < o.n_due; i++) {
		bool starts_file = o.due[i] == 100;
		for (size_t k = 0; k < f.n; k++)
			starts_file = starts_file || f.v[k].zxid == o.due[i] + 1;
		assert_true(starts_file);
	}
	store_files_free(&f);
	int64_t last = 0;
	assert_int_equal(count_entries(&last), 100);
	assert_int_equal(uv_loop_close(&loop), 0);
	vfs_mem_destroy(inner);
}

static void test_roll_on_request(void **state)
{
	setup_disk();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs o = {0};
	struct logthread *lt = start(&loop, &o, 0);
	for (int64_t z = 1; z <= 5; z++)
		submit(lt, z);
	assert_int_equal(logthread_roll(lt), 0);
	for (int64_t z = 6; z <= 8; z++)
		submit(lt, z);
	/* stop drains the queue: everything submitted becomes durable */
	stop(&loop, lt);
	assert_int_equal(last_persisted(&o), 8);
	size_t len;
	assert_non_null(vfs_mem_get(inner, DIR "/log.1", &len));
	assert_non_null(vfs_mem_get(inner, DIR "/log.6", &len));
	assert_int_equal(uv_loop_close(&loop), 0);
	vfs_mem_destroy(inner);
}

static void test_fsync_failure_stops(void **state)
{
	setup_disk();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs o = {0};
	struct logthread *lt = start(&loop, &o, 0);
	submit(lt, 1);
	assert_true(run_until(&loop, reached, &o, 1));
	vfs_mem_fail(inner, VFS_MEM_FAIL_FSYNC, 0, -EIO);
	submit(lt, 2);
	assert_true(run_until(&loop, errored, &o, 0));
	assert_int_equal(o.errors, 1);
	assert_non_null(strstr(o.err, "fsync"));
	assert_int_equal(last_persisted(&o), 1);  /* 2 was never reported durable */
	struct buf b;
	buf_init(&b);
	tu_body(&b, 3);
	assert_int_equal(logthread_submit(lt, 3, b.data, b.len), -1);
	buf_free(&b);
	stop(&loop, lt);
	assert_int_equal(last_persisted(&o), 1);
	assert_int_equal(uv_loop_close(&loop), 0);
	vfs_mem_destroy(inner);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_commit),
		cmocka_unit_test(test_snapshot_rule_rolls),
		cmocka_unit_test(test_roll_on_request),
		cmocka_unit_test(test_fsync_failure_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
