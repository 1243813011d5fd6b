/* zstore.c: the zab_store seam over a ZooKeeper data directory (see
 * zstore.h for the format and the threading contract).
 *
 * Invariants:
 *  1. The log on disk is one contiguous run of entries: every way it is
 *     started again (fresh directory, SNAP install, a log dropped at load
 *     for stopping short of the newest snapshot, truncation back to a
 *     snapshot older than the log) leaves a snapshot behind as its base.
 *  2. Entries reach the files in zxid order: `pending` (appended, owner's
 *     memory) → the job's batch (the executor writes it) → log files. Only
 *     the job writes log entries, and at most one job is outstanding.
 *  3. `synced` only grows except where the log itself is cut (truncation,
 *     SNAP install), which also bumps `gen` so that a completion from
 *     before the cut cannot raise it again.
 *  4. Every multi-step change of the files is ordered so that a crash
 *     between two steps leaves either the old state or the new one (or the
 *     old one without txns the caller has declared uncommitted), never a
 *     snapshot with log entries of another history after it. */
#include "store/zstore.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/zalloc.h"
#include "base/zassert.h"
#include "store/epoch.h"
#include "store/purge.h"

enum job_state { JOB_IDLE, JOB_SUBMITTED, JOB_WRITTEN, JOB_IO_DONE };

struct zstore_job {
	struct zstore *zs;
	enum job_state st;
	struct buf batch;        /* records: zxid be64, length be32, body */
	uint64_t upto;           /* last zxid of the batch, 0 if empty */
	bool roll;               /* start a new log file first (a snapshot was taken) */
	uint32_t gen;
	int rc;
	struct store_error e;
};

struct zstore {
	struct zstore_opts o;
	char snap_dir[STORE_PATH_MAX];
	char log_dir[STORE_PATH_MAX];
	struct txnlog *lg;       /* the executor's while a job runs (zstore.h rule 3) */
	struct zstore_job job;
	bool job_out;            /* owner's view: submitted, completion not yet delivered */
	bool job_drained;        /* ... and its I/O known finished (drain returned) */
	struct buf pending;
	uint64_t pending_last;   /* last zxid in pending, 0 if empty */
	bool flush_again;
	bool roll_next;
	uint32_t gen;
	bool loaded;             /* the first load made the log files durable */
	bool failed;
	uint64_t last_appended;
	uint64_t synced;
	struct store_error err;
	struct zstore_stats st;
};

#define REC_HEAD 12

static void tracef(struct zstore *zs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tracef(struct zstore *zs, const char *fmt, ...)
{
	if (!zs->o.trace)
		return;
	char line[STORE_PATH_MAX + 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	zs->o.trace(zs->o.trace_arg, line);
}

/* Record a failure of the owner's call: -1 for the seam. */
static int fail(struct zstore *zs, const struct store_error *e)
{
	if (e && e != &zs->err)
		zs->err = *e;
	tracef(zs, "%s", zs->err.msg);
	return -1;
}

int zstore_open(struct zstore **out, const struct zstore_opts *o, struct store_error *e)
{
	zassert(o->vfs && o->snap_dir && o->exec.submit && o->exec.drain);
	const char *log_dir = o->log_dir ? o->log_dir : o->snap_dir;
	int rc = vfs_mkdirs(o->vfs, o->snap_dir);
	if (rc == 0)
		rc = vfs_mkdirs(o->vfs, log_dir);
	if (rc < 0)
		return store_fail(e, STORE_EIO, -rc, o->snap_dir, -1, "cannot create directory");
	struct zstore *zs = zcalloc(1, sizeof *zs);
	zs->o = *o;
	snprintf(zs->snap_dir, sizeof zs->snap_dir, "%s", o->snap_dir);
	snprintf(zs->log_dir, sizeof zs->log_dir, "%s", log_dir);
	zs->o.snap_dir = zs->snap_dir;
	zs->o.log_dir = zs->log_dir;
	zs->job.zs = zs;
	buf_init(&zs->job.batch);
	buf_init(&zs->pending);
	store_error_clear(&zs->err);
	*out = zs;
	return 0;
}

void zstore_free(struct zstore *zs)
{
	if (!zs)
		return;
	txnlog_close(zs->lg);
	buf_free(&zs->job.batch);
	buf_free(&zs->pending);
	zfree(zs);
}

void zstore_get_stats(const struct zstore *zs, struct zstore_stats *out)
{
	*out = zs->st;
	out->last_appended = zs->last_appended;
	out->durable = zs->synced;
}

const struct store_error *zstore_error(const struct zstore *zs)
{
	return &zs->err;
}

/* ---- records (pending and the job's batch) ---- */

struct rec { uint64_t zxid; const uint8_t *body; uint32_t len; };

static bool rec_next(const struct buf *b, size_t *at, struct rec *r)
{
	if (*at >= b->len)
		return false;
	const uint8_t *p = b->data + *at;
	r->zxid = be64_get(p);
	r->len = be32_get(p + 8);
	r->body = p + REC_HEAD;
	*at += REC_HEAD + r->len;
	return true;
}

/* Keep only the pending entries with zxid <= zxid. */
static void pending_cut(struct zstore *zs, uint64_t zxid)
{
	size_t at = 0, keep = 0;
	struct rec r;
	zs->pending_last = 0;
	while (rec_next(&zs->pending, &at, &r) && r.zxid <= zxid) {
		keep = at;
		zs->pending_last = r.zxid;
	}
	zs->pending.len = keep;
}

/* ---- the job ---- */

static void start_job(struct zstore *zs)
{
	struct zstore_job *j = &zs->job;
	zassert(j->st == JOB_IDLE);
	struct buf t = j->batch;
	j->batch = zs->pending;
	zs->pending = t;
	zs->pending.len = 0;
	j->upto = zs->pending_last;
	zs->pending_last = 0;
	j->roll = zs->roll_next;
	zs->roll_next = false;
	j->gen = zs->gen;
	j->rc = 0;
	store_error_clear(&j->e);
	j->st = JOB_SUBMITTED;
	zs->job_out = true;
	zs->job_drained = false;
	zs->st.jobs++;
	zs->o.exec.submit(zs->o.exec.ctx, j);
}

int zstore_job_write(struct zstore_job *j)
{
	struct zstore *zs = j->zs;
	if (j->st >= JOB_WRITTEN)
		return j->rc;
	zassert(j->st == JOB_SUBMITTED);
	int rc = 0;
	if (j->roll && zs->lg)
		rc = txnlog_roll(zs->lg, &j->e);
	if (rc == 0 && j->batch.len && !zs->lg)
		zs->lg = txnlog_open(zs->o.vfs, zs->log_dir, &zs->o.log);
	size_t at = 0;
	struct rec r;
	while (rc == 0 && rec_next(&j->batch, &at, &r))
		rc = txnlog_append(zs->lg, (int64_t)r.zxid, r.body, r.len, &j->e);
	if (rc == 0 && j->batch.len)
		rc = txnlog_write(zs->lg, &j->e);
	j->rc = rc;
	j->st = JOB_WRITTEN;
	return rc;
}

int zstore_job_sync(struct zstore_job *j)
{
	struct zstore *zs = j->zs;
	if (j->st < JOB_WRITTEN)
		zstore_job_write(j);
	if (j->st == JOB_IO_DONE)
		return j->rc;
	if (j->rc == 0 && zs->lg)
		j->rc = txnlog_commit(zs->lg, &j->e);
	j->st = JOB_IO_DONE;
	return j->rc;
}

int zstore_job_run(struct zstore_job *j)
{
	zstore_job_write(j);
	return zstore_job_sync(j);
}

/* The finished job's effect on the owner's bookkeeping (idempotent). */
static int absorb(struct zstore *zs)
{
	struct zstore_job *j = &zs->job;
	if (j->rc) {
		zs->failed = true;
		return fail(zs, &j->e);
	}
	if (j->gen == zs->gen && j->upto > zs->synced)
		zs->synced = j->upto;
	return 0;
}

int zstore_job_done(struct zstore *zs, struct zstore_job *j, uint64_t *durable)
{
	zassert(j == &zs->job && zs->job_out && j->st == JOB_IO_DONE);
	int rc = absorb(zs);
	j->st = JOB_IDLE;
	zs->job_out = zs->job_drained = false;
	j->batch.len = 0;
	*durable = zs->synced;
	if (rc)
		return -1;
	if (zs->flush_again) {
		zs->flush_again = false;
		start_job(zs);
	}
	return 0;
}

/* Owner: make sure the executor is done with the log (zstore.h rule 3). */
static int drain(struct zstore *zs)
{
	struct zstore_job *j = &zs->job;
	if (zs->failed)
		return -1;
	if (!zs->job_out)
		return 0;
	if (!zs->job_drained) {
		zs->o.exec.drain(zs->o.exec.ctx, j);
		zs->job_drained = true;
	}
	zassert(j->st == JOB_IO_DONE);
	return absorb(zs);
}

int zstore_log_append(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct zstore *zs = ctx;
	if (zs->failed)
		return -1;
	int32_t max = zs->o.log.max_body_len ? zs->o.log.max_body_len : STORE_MAX_RECORD;
	if (zxid <= zs->last_appended || n < 20 || n > (size_t)max || be64_get(p + 12) != zxid) {
		store_fail(&zs->err, STORE_EINVAL, 0, zs->log_dir, -1,
			   "txn 0x%llx refused: out of order, bad size (%zu) or header zxid differs",
			   (unsigned long long)zxid, n);
		return fail(zs, NULL);
	}
	buf_put_be64(&zs->pending, zxid);
	buf_put_be32(&zs->pending, (uint32_t)n);
	buf_put(&zs->pending, p, n);
	zs->pending_last = zs->last_appended = zxid;
	return 0;
}

void zstore_log_flush(void *ctx)
{
	struct zstore *zs = ctx;
	if (zs->failed)
		return;
	if (!zs->job_out)
		start_job(zs);
	else
		zs->flush_again = true;
}

int zstore_sync_now(struct zstore *zs, uint64_t *durable)
{
	if (drain(zs))
		return -1;
	struct store_error e;
	int rc = 0;
	if (zs->pending.len && !zs->lg)
		zs->lg = txnlog_open(zs->o.vfs, zs->log_dir, &zs->o.log);
	size_t at = 0;
	struct rec r;
	while (rc == 0 && rec_next(&zs->pending, &at, &r))
		rc = txnlog_append(zs->lg, (int64_t)r.zxid, r.body, r.len, &e);
	if (rc == 0 && zs->lg)
		rc = txnlog_commit(zs->lg, &e);
	if (rc) {
		zs->failed = true;
		return fail(zs, &e);
	}
	if (zs->pending_last > zs->synced)
		zs->synced = zs->pending_last;
	zs->pending.len = 0;
	zs->pending_last = 0;
	*durable = zs->synced;
	return 0;
}

/* ---- files ---- */

/* snapshot.<hex> files with exactly our spelling (no .tmp, .corrupt, .gz). */
static int list_snaps(struct zstore *zs, struct store_files *out)
{
	struct store_error e;
	if (store_list(zs->o.vfs, zs->snap_dir, STORE_SNAP_PREFIX, false, out, &e) < 0)
		return fail(zs, &e);
	size_t k = 0;
	for (size_t i = 0; i < out->n; i++) {
		char name[64];
		store_name(name, sizeof name, STORE_SNAP_PREFIX, out->v[i].zxid);
		if (strcmp(name, out->v[i].name) == 0)
			out->v[k++] = out->v[i];
	}
	out->n = k;
	return 0;
}

static int unlink_in(struct zstore *zs, const char *dir, const char *name)
{
	char path[STORE_PATH_MAX];
	store_path(path, sizeof path, dir, name);
	int rc = vfs_unlink(zs->o.vfs, path);
	if (rc < 0 && rc != -ENOENT) {
		store_fail(&zs->err, STORE_EIO, -rc, path, -1, "cannot remove");
		return fail(zs, NULL);
	}
	return 0;
}

static int sync_dir(struct zstore *zs, const char *dir)
{
	int rc = vfs_sync_dir(zs->o.vfs, dir);
	if (rc < 0) {
		store_fail(&zs->err, STORE_EIO, -rc, dir, -1, "cannot fsync directory");
		return fail(zs, NULL);
	}
	return 0;
}

/* Remove the snapshots with zxid in (lo, hi] except `keep` (then fsync). */
static int unlink_snaps(struct zstore *zs, uint64_t lo_excl, uint64_t hi, int64_t keep)
{
	struct store_files f = {0};
	int rc = list_snaps(zs, &f);
	bool any = false;
	for (size_t i = 0; i < f.n && rc == 0; i++) {
		uint64_t z = (uint64_t)f.v[i].zxid;
		if ((lo_excl == UINT64_MAX || z > lo_excl) && z <= hi && f.v[i].zxid != keep) {
			rc = unlink_in(zs, zs->snap_dir, f.v[i].name);
			any = true;
		}
	}
	store_files_free(&f);
	return rc == 0 && any ? sync_dir(zs, zs->snap_dir) : rc;
}

static int unlink_logs(struct zstore *zs)
{
	struct store_files f = {0};
	struct store_error e;
	if (store_list(zs->o.vfs, zs->log_dir, STORE_LOG_PREFIX, false, &f, &e) < 0)
		return fail(zs, &e);
	int rc = 0;
	for (size_t i = 0; i < f.n && rc == 0; i++)
		rc = unlink_in(zs, zs->log_dir, f.v[i].name);
	bool any = f.n > 0;
	store_files_free(&f);
	return rc == 0 && any ? sync_dir(zs, zs->log_dir) : rc;
}

/* Ends the current log file: the next job starts log.<its first zxid>. */
static void close_writer(struct zstore *zs)
{
	txnlog_close(zs->lg);
	zs->lg = NULL;
}

/* Every entry of the log files with zxid >= from (and the entries of the
 * newest file starting below from), in order; repair cuts torn tails. */
static int scan_log(struct zstore *zs, uint64_t from, bool repair, void *arg,
		    int (*fn)(void *arg, uint64_t zxid, const uint8_t *p, size_t n))
{
	struct txnlog_read_opts o;
	txnlog_read_opts_default(&o);
	o.repair = repair;
	if (zs->o.log.max_body_len)
		o.max_body_len = zs->o.log.max_body_len;
	struct store_error e;
	store_error_clear(&e);
	struct txnlog_iter *it;
	if (txnlog_iter_open(&it, zs->o.vfs, zs->log_dir, (int64_t)from, &o, &e) < 0)
		return fail(zs, &e);
	struct txnlog_entry en;
	int rc;
	while ((rc = txnlog_iter_next(it, &en, &e)) == 1)
		if (fn(arg, (uint64_t)en.zxid, en.body, en.len))
			break;
	const struct txnlog_iter_report *r = txnlog_iter_report(it);
	if (r->torn)
		tracef(zs, "torn log tail at %s:%llu %s (%s)", r->torn_path,
		       (unsigned long long)r->torn_offset, repair ? "cut" : "ignored", r->torn_why);
	txnlog_iter_close(it);
	return rc < 0 ? fail(zs, &e) : 0;
}


/* ---- load ---- */

static int read_epoch(struct zstore *zs, const char *name, int64_t *out)
{
	struct store_error e;
	int rc = epoch_read(zs->o.vfs, zs->snap_dir, name, out, &e);
	if (rc < 0)
		return fail(zs, &e);
	if (rc == 0)
		*out = -1;
	return 0;
}

static int count_logs(struct zstore *zs, size_t *n)
{
	struct store_files f = {0};
	struct store_error e;
	if (store_list(zs->o.vfs, zs->log_dir, STORE_LOG_PREFIX, false, &f, &e) < 0)
		return fail(zs, &e);
	*n = f.n;
	store_files_free(&f);
	return 0;
}

struct snapbuf {
	uint64_t zxid;
	uint8_t *file;
	size_t off, len;
};

static int set_aside(struct zstore *zs, const char *path, const struct store_error *why)
{
	char to[STORE_PATH_MAX + 16];
	snprintf(to, sizeof to, "%s.corrupt", path);
	tracef(zs, "%s: set aside as %s", why->msg, to);
	int rc = vfs_rename(zs->o.vfs, path, to);
	if (rc < 0) {
		store_fail(&zs->err, STORE_EIO, -rc, path, -1, "cannot rename corrupt snapshot");
		return fail(zs, NULL);
	}
	return sync_dir(zs, zs->snap_dir);
}

/* No loadable snapshot: an empty directory gets snapshot.0 of the empty
 * state (as Java's first start); logs without a snapshot are refused
 * unless trusted (FileTxnSnapLog.restore). */
static int no_snapshot(struct zstore *zs, struct snapbuf *sb)
{
	size_t logs;
	if (count_logs(zs, &logs))
		return -1;
	if (logs && !zs->o.trust_empty_snapshot) {
		store_fail(&zs->err, STORE_ENOSNAP, 0, zs->snap_dir, -1,
			   "no valid snapshot but txn logs exist (zookeeper.snapshot.trust.empty is off)");
		return fail(zs, NULL);
	}
	size_t n = zs->o.empty_state_len;
	if (!logs) {
		struct store_error e;
		if (zstore_snapfile_write(zs->o.vfs, zs->snap_dir, 0, zs->o.empty_state, n, &e))
			return fail(zs, &e);
		zs->st.snaps_written++;
	}
	sb->zxid = 0;
	sb->file = zmalloc(n ? n : 1);
	if (n)
		memcpy(sb->file, zs->o.empty_state, n);
	sb->off = 0;
	sb->len = n;
	return 0;
}

/* The newest snapshot whose seals check; corrupt ones are set aside. */
static int pick_snapshot(struct zstore *zs, struct snapbuf *sb)
{
	struct store_files f = {0};
	if (list_snaps(zs, &f))
		return -1;
	int rc = 1;
	for (size_t i = f.n; i-- > 0 && rc == 1;) {
		char path[STORE_PATH_MAX];
		store_path(path, sizeof path, zs->snap_dir, f.v[i].name);
		struct store_error e;
		int r = zstore_snapfile_read(zs->o.vfs, path, &sb->file, &sb->off, &sb->len, &e);
		if (r == 0) {
			sb->zxid = (uint64_t)f.v[i].zxid;
			rc = 0;
		} else if (r == STORE_ECORRUPT) {
			rc = set_aside(zs, path, &e) ? -1 : 1;
		} else {
			rc = fail(zs, &e);
		}
	}
	store_files_free(&f);
	return rc == 1 ? no_snapshot(zs, sb) : rc;
}

/* After a restart, what the files hold counts as durable only once it is. */
static int sync_logs(struct zstore *zs)
{
	struct store_files f = {0};
	struct store_error e;
	if (store_list(zs->o.vfs, zs->log_dir, STORE_LOG_PREFIX, false, &f, &e) < 0)
		return fail(zs, &e);
	int rc = 0;
	char path[STORE_PATH_MAX];
	for (size_t i = 0; i < f.n && rc == 0; i++) {
		struct vfs_file *h;
		store_path(path, sizeof path, zs->log_dir, f.v[i].name);
		rc = vfs_open(zs->o.vfs, path, VFS_RDONLY, &h);
		if (rc == 0) {
			rc = vfs_sync(zs->o.vfs, h);
			vfs_close(zs->o.vfs, h);
		}
	}
	store_files_free(&f);
	if (rc < 0) {
		store_fail(&zs->err, STORE_EIO, -rc, path, -1, "cannot fsync log");
		return fail(zs, NULL);
	}
	return sync_dir(zs, zs->log_dir);
}

struct relay {
	void *arg;
	void (*entry)(void *arg, uint64_t zxid, const uint8_t *p, size_t n);
	uint64_t base, last, synced, durable;
};

static int relay_entry(void *arg, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct relay *r = arg;
	if (zxid <= r->last)
		return 0;
	r->entry(r->arg, zxid, p, n);
	r->last = zxid;
	if (zxid <= r->synced)
		r->durable = zxid;
	return 0;
}

/* The log part of load: entries after the snapshot from the files (torn
 * tails cut), then the pending ones; a log that stops short of the
 * snapshot is removed (zab.h: never DIFF across that gap). */
static int load_log(struct zstore *zs, struct relay *r)
{
	r->synced = zs->loaded ? zs->synced : UINT64_MAX;
	if (scan_log(zs, r->base + 1, true, r, relay_entry))
		return -1;
	int64_t end = -1;
	struct store_error e;
	if (r->last == r->base && txnlog_last_zxid(zs->o.vfs, zs->log_dir, &end, &e) < 0)
		return fail(zs, &e);
	if (end >= 0 && (uint64_t)end < r->base) {
		tracef(zs, "log ends at 0x%llx below snapshot 0x%llx: dropped",
		       (unsigned long long)end, (unsigned long long)r->base);
		close_writer(zs);
		if (unlink_logs(zs))
			return -1;
	}
	if (!zs->loaded) {
		if (sync_logs(zs))
			return -1;
		zs->loaded = true;
		zs->synced = r->last;
	}
	size_t at = 0;
	struct rec rc;
	uint64_t file_end = r->last;
	while (rec_next(&zs->pending, &at, &rc))
		if (rc.zxid > file_end)
			relay_entry(r, rc.zxid, rc.body, rc.len);
	zs->last_appended = r->last;
	return 0;
}

int zstore_load(void *ctx, void *arg,
		void (*snap)(void *arg, uint64_t zxid, const uint8_t *p, size_t n),
		void (*entry)(void *arg, uint64_t zxid, const uint8_t *p, size_t n),
		int64_t *accepted_epoch, int64_t *current_epoch, uint64_t *durable_zxid)
{
	struct zstore *zs = ctx;
	if (drain(zs) || read_epoch(zs, EPOCH_ACCEPTED, accepted_epoch) ||
	    read_epoch(zs, EPOCH_CURRENT, current_epoch))
		return -1;
	struct snapbuf sb = {0};
	if (pick_snapshot(zs, &sb))
		return -1;
	snap(arg, sb.zxid, sb.file + sb.off, sb.len);
	zfree(sb.file);
	struct relay r = {.arg = arg, .entry = entry, .base = sb.zxid, .last = sb.zxid,
			  .durable = sb.zxid};
	if (load_log(zs, &r))
		return -1;
	*durable_zxid = r.durable;
	return 0;
}

/* ---- truncation (TRUNC) ---- */

struct loginfo {
	uint64_t first, want;
	bool any, has;
};

static int info_entry(void *arg, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct loginfo *li = arg;
	if (!li->any)
		li->first = zxid;
	li->any = true;
	li->has |= zxid == li->want;
	(void)p;
	(void)n;
	return 0;
}

/* The zxid of the state just before the log's first entry: the newest
 * snapshot below it (invariant 1); after autopurge there may be none, and
 * the first entry stands for the base (nothing below it can be rebuilt).
 * Empty log: the newest snapshot. */
static uint64_t log_base(const struct loginfo *li, const struct store_files *sn)
{
	uint64_t first = li->any ? li->first : UINT64_MAX, base = li->any ? li->first : 0;
	for (size_t k = 0; k < sn->n; k++)
		if ((uint64_t)sn->v[k].zxid < first)
			base = (uint64_t)sn->v[k].zxid;
	return base;
}

/* Can load() rebuild the state at exactly zxid once everything above it
 * is dropped? Yes if a snapshot is at zxid, or if zxid is in the log (or
 * is its base) and a snapshot lies within the log's reach. */
static bool can_rebuild(const struct loginfo *li, const struct store_files *sn, uint64_t base,
			uint64_t zxid)
{
	bool in_log = zxid == base || li->has;
	for (size_t k = 0; k < sn->n; k++) {
		uint64_t sz = (uint64_t)sn->v[k].zxid;
		if (sz == zxid || (in_log && sz >= base && sz <= zxid))
			return true;
	}
	return false;
}

int zstore_log_truncate(void *ctx, uint64_t zxid)
{
	struct zstore *zs = ctx;
	if (drain(zs))
		return -1;
	struct loginfo li = {.want = zxid};
	if (scan_log(zs, 0, false, &li, info_entry))
		return -1;
	size_t at = 0;
	struct rec r;
	while (rec_next(&zs->pending, &at, &r))
		info_entry(&li, r.zxid, r.body, r.len);
	struct store_files sn = {0};
	if (list_snaps(zs, &sn))
		return -1;
	uint64_t base = log_base(&li, &sn);
	bool ok = can_rebuild(&li, &sn, base, zxid);
	store_files_free(&sn);
	if (!ok)
		return 1;
	pending_cut(zs, zxid);
	close_writer(zs);
	zs->gen++;
	zs->last_appended = zs->pending_last ? zs->pending_last : zxid;
	if (zs->synced > zxid)
		zs->synced = zxid;
	/* Invariant 4: the newer snapshots go before the log tail they would
	 * be replayed with; a log that starts after zxid goes before the
	 * snapshot it follows. */
	if (zxid < base)
		return unlink_logs(zs) || unlink_snaps(zs, zxid, UINT64_MAX, -1) ? -1 : 0;
	if (unlink_snaps(zs, zxid, UINT64_MAX, -1))
		return -1;
	struct store_error e;
	return txnlog_truncate(zs->o.vfs, zs->log_dir, (int64_t)zxid, &e) ? fail(zs, &e) : 0;
}

/* ---- snapshots ---- */

int zstore_snap_install(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct zstore *zs = ctx;
	if (drain(zs))
		return -1;
	zs->pending.len = 0;
	zs->pending_last = 0;
	zs->flush_again = zs->roll_next = false;
	close_writer(zs);
	zs->gen++;
	zs->last_appended = zs->synced = zxid;
	/* Invariant 4: first no entry after zxid is left to replay over the
	 * new snapshot, then the snapshot, then the rest goes. */
	struct store_error e;
	if (txnlog_truncate(zs->o.vfs, zs->log_dir, (int64_t)zxid, &e))
		return fail(zs, &e);
	if (zstore_snapfile_write(zs->o.vfs, zs->snap_dir, zxid, p, n, &e))
		return fail(zs, &e);
	zs->st.snaps_written++;
	return unlink_snaps(zs, UINT64_MAX, UINT64_MAX, (int64_t)zxid) || unlink_logs(zs) ? -1 : 0;
}

int zstore_purge(struct zstore *zs, int retain)
{
	struct purge_result res;
	struct store_error e;
	if (purge_run(zs->o.vfs, zs->snap_dir, zs->log_dir, retain, &res, &e) < 0)
		return fail(zs, &e);
	return 0;
}

/* Without autopurge, at most max_snaps: the second oldest ones go. */
static int thin(struct zstore *zs)
{
	if (zs->o.purge_retain > 0)
		return zstore_purge(zs, zs->o.purge_retain);
	size_t max = zs->o.max_snaps < 2 ? 2 : (size_t)zs->o.max_snaps;
	if (zs->o.max_snaps <= 0)
		return 0;
	struct store_files f = {0};
	if (list_snaps(zs, &f))
		return -1;
	int rc = 0;
	for (size_t i = 1; i + max <= f.n && rc == 0; i++)
		rc = unlink_in(zs, zs->snap_dir, f.v[i].name);
	bool any = f.n > max;
	store_files_free(&f);
	return rc == 0 && any ? sync_dir(zs, zs->snap_dir) : rc;
}

int zstore_snap_save(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct zstore *zs = ctx;
	struct store_files sn = {0};
	if (list_snaps(zs, &sn))
		return -1;
	int64_t newest = sn.n ? sn.v[sn.n - 1].zxid : -1;
	store_files_free(&sn);
	if (newest >= 0 && zxid <= (uint64_t)newest)
		return zxid == (uint64_t)newest ? 0 : -1;  /* that state is on disk already */
	struct store_error e;
	if (zstore_snapfile_write(zs->o.vfs, zs->snap_dir, zxid, p, n, &e))
		return fail(zs, &e);
	zs->st.snaps_written++;
	zs->roll_next = true;  /* as SyncRequestProcessor: the next txn opens a new log */
	return thin(zs);
}

uint64_t zstore_snap_size(void *ctx)
{
	struct zstore *zs = ctx;
	struct store_files sn = {0};
	uint64_t size = 0;
	if (list_snaps(zs, &sn) == 0 && sn.n) {
		char path[STORE_PATH_MAX];
		store_path(path, sizeof path, zs->snap_dir, sn.v[sn.n - 1].name);
		struct vfs_file *f;
		if (vfs_open(zs->o.vfs, path, VFS_RDONLY, &f) == 0) {
			vfs_size(zs->o.vfs, f, &size);
			vfs_close(zs->o.vfs, f);
		}
	}
	store_files_free(&sn);
	return size;
}

int zstore_epoch_save(void *ctx, enum zab_epoch_file which, uint64_t epoch)
{
	struct zstore *zs = ctx;
	struct store_error e;
	const char *name = which == ZAB_ACCEPTED_EPOCH ? EPOCH_ACCEPTED : EPOCH_CURRENT;
	return epoch_write(zs->o.vfs, zs->snap_dir, name, (int64_t)epoch, &e) ? fail(zs, &e) : 0;
}

/* ---- log_read (DIFF from the txn log) ---- */

struct rd {
	uint64_t from, to, max_bytes, bytes;
	bool found, over, short_;
	struct buf out;
};

static int rd_entry(void *arg, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct rd *r = arg;
	if (zxid <= r->from) {
		r->found = true;
		r->bytes = 0;
		r->out.len = 0;
	} else if (!r->found) {
		r->short_ = true;  /* the log starts after `from` */
		return 1;
	}
	r->bytes += n + TXNLOG_ENTRY_OVERHEAD;
	if (r->max_bytes && r->bytes > r->max_bytes && zxid > r->from) {
		r->over = true;
		return 1;
	}
	if (zxid <= r->to) {
		buf_put_be64(&r->out, zxid);
		buf_put_be32(&r->out, (uint32_t)n);
		buf_put(&r->out, p, n);
	}
	return 0;
}

int zstore_log_read(void *ctx, uint64_t from, uint64_t to, uint64_t max_bytes, void *arg,
		    void (*entry)(void *arg, uint64_t zxid, const uint8_t *p, size_t n))
{
	struct zstore *zs = ctx;
	if (drain(zs))
		return -1;
	struct rd r = {.from = from, .to = to, .max_bytes = max_bytes};
	buf_init(&r.out);
	/* The iterator returns entries >= its start: start at the file that
	 * holds the last entry <= from (none: the first entry decides). */
	struct store_files lf = {0};
	struct store_error e0;
	if (store_list(zs->o.vfs, zs->log_dir, STORE_LOG_PREFIX, false, &lf, &e0) < 0)
		return fail(zs, &e0);
	uint64_t start = 0;
	for (size_t i = 0; i < lf.n; i++)
		if ((uint64_t)lf.v[i].zxid <= from)
			start = (uint64_t)lf.v[i].zxid;
	store_files_free(&lf);
	int rc = scan_log(zs, start, false, &r, rd_entry);
	size_t at = 0;
	struct rec e;
	while (rc == 0 && !r.over && !r.short_ && rec_next(&zs->pending, &at, &e))
		rd_entry(&r, e.zxid, e.body, e.len);
	if (rc == 0 && (!r.found || r.over || r.short_ || (max_bytes && r.bytes > max_bytes)))
		rc = 1;
	at = 0;
	while (rc == 0 && rec_next(&r.out, &at, &e))
		entry(arg, e.zxid, e.body, e.len);
	if (rc == 0)
		zs->st.log_reads++;
	buf_free(&r.out);
	return rc;
}

struct zab_store zstore_seam(struct zstore *zs)
{
	return (struct zab_store){
		.ctx = zs, .log_append = zstore_log_append, .log_flush = zstore_log_flush,
		.log_truncate = zstore_log_truncate, .snap_install = zstore_snap_install,
		.snap_save = zstore_snap_save, .epoch_save = zstore_epoch_save, .load = zstore_load,
		.log_read = zstore_log_read, .snap_size = zstore_snap_size,
	};
}
