/* logthread.c: group commit on a dedicated thread (see logthread.h).
 *
 * Hand-over: the loop thread appends records to `q` (a byte buffer: kind,
 * zxid, length, body) under `mu` and signals `cv`. The log thread swaps `q`
 * with its own empty buffer under `mu`, so it holds the lock only for the
 * swap, and writes the batch with the lock released; txns submitted while
 * it writes and fsyncs form the next batch. That is the whole group-commit
 * mechanism: the batch size adapts to the fsync latency by itself.
 *
 * Back to the loop: after each commit the thread stores the durable zxid
 * (and a snapshot-due zxid, and an error) under `mu` and calls
 * uv_async_send, which may coalesce; the async callback reads the latest
 * values and calls the callbacks. */
#include "io/logthread.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/zalloc.h"
#include "base/zassert.h"

enum { REC_TXN = 1, REC_ROLL = 2 };
#define REC_HEAD 13  /* kind 1, zxid 8, len 4 */

struct logthread {
	uv_async_t async;  /* first: the close callback gets it back as lt */
	struct logthread_callbacks cb;
	struct txnlog *lg;
	struct vfs *vfs;
	struct txnlog_snap_policy policy;
	bool use_policy;
	bool fsync_each_txn;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct buf q;            /* loop → log thread */
	uint64_t q_txns;
	bool stopping;
	bool idle;               /* the thread waits on cv for work */
	bool stopped;            /* the thread has exited */
	bool failed;
	struct store_error err;
	bool err_reported;
	int64_t durable;         /* written by the thread */
	int64_t reported;        /* last value given to on_persisted (loop) */
	int64_t snap_due;        /* -1 none */
	struct logthread_stats st;
	char presync_file[STORE_PATH_MAX];  /* "" = nothing to sync first */
	char presync_dir[STORE_PATH_MAX];
};

/* Make the presync file and its directory durable (once, before the first
 * batch touches the log). */
static int presync(struct logthread *lt, struct vfs *vfs, struct store_error *e)
{
	if (!lt->presync_file[0])
		return 0;
	struct vfs_file *f;
	int rc = vfs_open(vfs, lt->presync_file, VFS_RDONLY, &f);
	if (rc == 0) {
		rc = vfs_sync(vfs, f);
		vfs_close(vfs, f);
	}
	if (rc == 0)
		rc = vfs_sync_dir(vfs, lt->presync_dir);
	if (rc < 0)
		return store_fail(e, STORE_EIO, -rc, lt->presync_file, -1, "cannot fsync the first snapshot");
	lt->presync_file[0] = '\0';
	return 0;
}

static int batch_apply(struct logthread *lt, const struct buf *b, uint64_t *n_txns,
		       int64_t *last, int64_t *due, struct store_error *e)
{
	size_t off = 0;
	while (off < b->len) {
		const uint8_t *p = b->data + off;
		int kind = p[0];
		int64_t zxid = (int64_t)be64_get(p + 1);
		uint32_t len = be32_get(p + 9);
		off += REC_HEAD + len;
		int rc;
		if (kind == REC_ROLL) {
			rc = txnlog_roll(lt->lg, e);
		} else {
			rc = txnlog_append(lt->lg, zxid, p + REC_HEAD, len, e);
			if (rc == 0 && lt->fsync_each_txn)
				rc = txnlog_commit(lt->lg, e);
			(*n_txns)++;
			*last = zxid;
			if (rc == 0 && lt->use_policy) {
				struct txnlog_stats ls;
				txnlog_get_stats(lt->lg, &ls);
				if (txnlog_snap_policy_logged(&lt->policy, ls.bytes_since_roll)) {
					rc = txnlog_roll(lt->lg, e);
					*due = zxid;
				}
			}
		}
		if (rc)
			return rc;
	}
	return txnlog_commit(lt->lg, e);
}

static void *thread_main(void *arg)
{
	struct logthread *lt = arg;
	struct buf mine;
	buf_init(&mine);
	for (;;) {
		pthread_mutex_lock(&lt->mu);
		while (lt->q.len == 0 && !lt->stopping) {
			lt->idle = true;
			pthread_cond_wait(&lt->cv, &lt->mu);
		}
		lt->idle = false;
		if (lt->q.len == 0 && lt->stopping) {
			pthread_mutex_unlock(&lt->mu);
			break;
		}
		struct buf t = lt->q;
		lt->q = mine;
		mine = t;
		pthread_mutex_unlock(&lt->mu);

		uint64_t n = 0;
		int64_t last = -1, due = -1;
		struct store_error e;
		store_error_clear(&e);
		int rc = presync(lt, lt->vfs, &e);
		if (rc == 0)
			rc = batch_apply(lt, &mine, &n, &last, &due, &e);
		mine.len = 0;
		struct txnlog_stats ls;
		txnlog_get_stats(lt->lg, &ls);

		pthread_mutex_lock(&lt->mu);
		lt->q_txns -= n;
		if (rc) {
			lt->failed = true;
			lt->err = e;
		} else {
			if (last >= 0 && last > lt->durable)
				lt->durable = last;
			if (due >= 0)
				lt->snap_due = due;
			lt->st.txns += n;
			lt->st.batches++;
			if (n > lt->st.max_batch)
				lt->st.max_batch = n;
		}
		lt->st.fsyncs = ls.fsyncs;
		pthread_mutex_unlock(&lt->mu);
		uv_async_send(&lt->async);
		if (rc)
			break;
	}
	buf_free(&mine);
	pthread_mutex_lock(&lt->mu);
	lt->stopped = true;
	pthread_mutex_unlock(&lt->mu);
	return NULL;
}

/* Loop thread: deliver what the log thread reported. */
static void deliver(struct logthread *lt)
{
	pthread_mutex_lock(&lt->mu);
	int64_t durable = lt->durable, due = lt->snap_due;
	lt->snap_due = -1;
	bool fail = lt->failed && !lt->err_reported;
	struct store_error e = lt->err;
	if (fail)
		lt->err_reported = true;
	pthread_mutex_unlock(&lt->mu);
	if (durable > lt->reported) {
		lt->reported = durable;
		if (lt->cb.on_persisted)
			lt->cb.on_persisted(lt->cb.arg, durable);
	}
	if (due >= 0 && lt->cb.on_snapshot_due)
		lt->cb.on_snapshot_due(lt->cb.arg, due);
	if (fail) {
		log_error("txn log: %s", e.msg);
		if (lt->cb.on_error)
			lt->cb.on_error(lt->cb.arg, &e);
	}
}

static void on_async(uv_async_t *h)
{
	deliver((struct logthread *)h);
}

int logthread_start(struct logthread **out, uv_loop_t *loop, const struct logthread_opts *o,
		    const struct logthread_callbacks *cb, struct store_error *e)
{
	struct logthread *lt = zcalloc(1, sizeof(*lt));
	lt->cb = *cb;
	lt->vfs = o->vfs;
	if (o->presync_file) {
		snprintf(lt->presync_file, sizeof lt->presync_file, "%s", o->presync_file);
		snprintf(lt->presync_dir, sizeof lt->presync_dir, "%s", o->presync_dir);
	}
	lt->lg = txnlog_open(o->vfs, o->log_dir, &o->log);
	lt->use_policy = o->snap_count > 0;
	lt->fsync_each_txn = o->fsync_each_txn;
	if (lt->use_policy)
		txnlog_snap_policy_init(&lt->policy, o->snap_count, o->snap_size_kb, o->seed);
	lt->durable = lt->reported = lt->snap_due = -1;
	buf_init(&lt->q);
	pthread_mutex_init(&lt->mu, NULL);
	pthread_cond_init(&lt->cv, NULL);
	int rc = uv_async_init(loop, &lt->async, on_async);
	if (rc == 0 && pthread_create(&lt->thread, NULL, thread_main, lt) != 0) {
		uv_close((uv_handle_t *)&lt->async, NULL);
		rc = -1;
	}
	if (rc) {
		/* the handle (if initialised) is closed; it lives in lt, which
		 * leaks deliberately: freeing it before the close completes is
		 * undefined, and this only happens when the process is dying */
		return store_fail(e, STORE_EIO, 0, o->log_dir, -1, "cannot start the log thread");
	}
	*out = lt;
	return 0;
}

static void put_rec(struct logthread *lt, int kind, int64_t zxid, const void *body, size_t len)
{
	zassert(len <= UINT32_MAX - REC_HEAD);
	buf_put_u8(&lt->q, (uint8_t)kind);
	buf_put_be64(&lt->q, (uint64_t)zxid);
	buf_put_be32(&lt->q, (uint32_t)len);
	buf_put(&lt->q, body, len);
	if (kind == REC_TXN)
		lt->q_txns++;
}

/* Called with mu held after queuing; releases it. The thread is woken
 * only when it sleeps (while it writes or fsyncs it takes the queue on its
 * own when it is done), and after the unlock, so that it does not wake up
 * only to block on the mutex the loop thread still holds. */
static void unlock_and_wake(struct logthread *lt)
{
	bool wake = lt->idle;
	lt->idle = false;
	pthread_mutex_unlock(&lt->mu);
	if (wake)
		pthread_cond_signal(&lt->cv);
}

int logthread_submit_batch(struct logthread *lt, const struct logthread_txn *txns, size_t n)
{
	pthread_mutex_lock(&lt->mu);
	if (lt->failed || lt->stopping) {
		pthread_mutex_unlock(&lt->mu);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		put_rec(lt, REC_TXN, txns[i].zxid, txns[i].body, txns[i].len);
	unlock_and_wake(lt);
	return 0;
}

int logthread_submit(struct logthread *lt, int64_t zxid, const void *body, size_t len)
{
	struct logthread_txn t = {zxid, body, len};
	return logthread_submit_batch(lt, &t, 1);
}

int logthread_roll(struct logthread *lt)
{
	pthread_mutex_lock(&lt->mu);
	if (lt->failed || lt->stopping) {
		pthread_mutex_unlock(&lt->mu);
		return -1;
	}
	put_rec(lt, REC_ROLL, 0, NULL, 0);
	unlock_and_wake(lt);
	return 0;
}

void logthread_get_stats(struct logthread *lt, struct logthread_stats *out)
{
	pthread_mutex_lock(&lt->mu);
	*out = lt->st;
	out->durable_zxid = lt->durable;
	out->queued = lt->q_txns;
	pthread_mutex_unlock(&lt->mu);
}

static void on_closed(uv_handle_t *h)
{
	struct logthread *lt = (struct logthread *)h;
	txnlog_close(lt->lg);
	buf_free(&lt->q);
	pthread_mutex_destroy(&lt->mu);
	pthread_cond_destroy(&lt->cv);
	zfree(lt);
}

void logthread_stop(struct logthread *lt)
{
	pthread_mutex_lock(&lt->mu);
	lt->stopping = true;
	pthread_cond_signal(&lt->cv);
	pthread_mutex_unlock(&lt->mu);
	pthread_join(lt->thread, NULL);
	deliver(lt);
	uv_close((uv_handle_t *)&lt->async, on_closed);
}
