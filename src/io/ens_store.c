/* ens_store.c: see ens_store.h. */
#include "io/ens_store.h"

#include <stdio.h>
#include <string.h>

#include "base/zalloc.h"
#include "store/store.h"
#include "store/zstore.h"

struct ens_store {
	uv_loop_t *loop;
	struct zstore *zs;
	uv_thread_t thread;
	uv_mutex_t mu;
	uv_cond_t cv;
	uv_async_t async;
	struct zstore_job *todo;   /* handed to the thread, not started */
	struct zstore_job *done;   /* I/O finished, completion not yet delivered */
	bool running;              /* the thread is inside zstore_job_run */
	int done_rc;
	bool stop;
	bool thread_up;
	void (*persisted)(void *arg, uint64_t upto);
	void (*fatal)(void *arg, const char *why);
	void *arg;
	char snap_dir[STORE_PATH_MAX], log_dir[STORE_PATH_MAX];
};

static void worker(void *arg)
{
	struct ens_store *s = arg;
	uv_mutex_lock(&s->mu);
	for (;;) {
		while (!s->todo && !s->stop)
			uv_cond_wait(&s->cv, &s->mu);
		if (!s->todo)
			break;
		struct zstore_job *job = s->todo;
		s->todo = NULL;
		s->running = true;
		uv_mutex_unlock(&s->mu);
		int rc = zstore_job_run(job);
		uv_mutex_lock(&s->mu);
		s->running = false;
		s->done = job;
		s->done_rc = rc;
		uv_cond_broadcast(&s->cv);
		uv_async_send(&s->async);
	}
	uv_mutex_unlock(&s->mu);
}

static void ex_submit(void *ctx, struct zstore_job *job)
{
	struct ens_store *s = ctx;
	uv_mutex_lock(&s->mu);
	s->todo = job;
	uv_cond_broadcast(&s->cv);
	uv_mutex_unlock(&s->mu);
}

static void ex_drain(void *ctx, struct zstore_job *job)
{
	struct ens_store *s = ctx;
	uv_mutex_lock(&s->mu);
	while (s->todo == job || (s->running && s->done != job))
		uv_cond_wait(&s->cv, &s->mu);
	uv_mutex_unlock(&s->mu);
}

static void on_async(uv_async_t *a)
{
	struct ens_store *s = a->data;
	uv_mutex_lock(&s->mu);
	struct zstore_job *job = s->done;
	s->done = NULL;
	uv_mutex_unlock(&s->mu);
	if (!job)
		return;
	uint64_t durable = 0;
	if (zstore_job_done(s->zs, job, &durable) != 0) {
		char why[900];
		snprintf(why, sizeof why, "the txn log failed: %s", zstore_error(s->zs)->msg);
		s->fatal(s->arg, why);
		return;
	}
	s->persisted(s->arg, durable);
}

static void dir_of(char *out, size_t cap, const char *base)
{
	snprintf(out, cap, "%s/version-2", base);
}

struct ens_store *ens_store_open(uv_loop_t *loop, const struct zoocfg *cfg, const struct buf *empty_state,
				 void (*persisted)(void *arg, uint64_t upto),
				 void (*fatal)(void *arg, const char *why), void *arg, struct buf *errmsg)
{
	struct ens_store *s = zcalloc(1, sizeof *s);
	s->loop = loop;
	s->persisted = persisted;
	s->fatal = fatal;
	s->arg = arg;
	dir_of(s->snap_dir, sizeof s->snap_dir, cfg->data_dir);
	dir_of(s->log_dir, sizeof s->log_dir, cfg->data_log_dir ? cfg->data_log_dir : cfg->data_dir);
	struct zstore_opts o = {.vfs = vfs_posix(), .snap_dir = s->snap_dir, .log_dir = s->log_dir,
				.empty_state = empty_state->data, .empty_state_len = empty_state->len,
				.trust_empty_snapshot = cfg->snapshot_trust_empty,
				.purge_retain = cfg->autopurge_purge_interval > 0 ? cfg->autopurge_snap_retain_count : 0,
				.exec = {s, ex_submit, ex_drain}};
	txnlog_opts_default(&o.log);
	o.log.prealloc_bytes = (uint64_t)cfg->pre_alloc_size_kb * 1024;
	o.log.force_sync = cfg->force_sync;
	struct store_error e;
	store_error_clear(&e);
	if (zstore_open(&s->zs, &o, &e) != 0) {
		buf_printf(errmsg, "cannot open the data directory: %s", e.msg);
		zfree(s);
		return NULL;
	}
	uv_mutex_init(&s->mu);
	uv_cond_init(&s->cv);
	uv_async_init(loop, &s->async, on_async);
	s->async.data = s;
	if (uv_thread_create(&s->thread, worker, s) != 0) {
		buf_printf(errmsg, "cannot start the txn log thread");
		ens_store_close(s);
		return NULL;
	}
	s->thread_up = true;
	return s;
}

struct zab_store ens_store_seam(struct ens_store *s)
{
	return zstore_seam(s->zs);
}

static void async_closed(uv_handle_t *h)
{
	struct ens_store *s = h->data;
	zstore_free(s->zs);
	uv_mutex_destroy(&s->mu);
	uv_cond_destroy(&s->cv);
	zfree(s);
}

void ens_store_close(struct ens_store *s)
{
	if (s->thread_up) {
		uv_mutex_lock(&s->mu);
		s->stop = true;
		uv_cond_broadcast(&s->cv);
		uv_mutex_unlock(&s->mu);
		uv_thread_join(&s->thread);  /* finishes the job it has */
		s->thread_up = false;
	}
	uv_close((uv_handle_t *)&s->async, async_closed);
}
