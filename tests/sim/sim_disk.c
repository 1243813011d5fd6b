/* sim_disk: the zab_store seam of a simulated server: store/zstore.h, the
 * server's own store, over an in-memory crash-prone file system
 * (store/vfs_mem.h) holding a ZooKeeper data directory, data/version-2:
 * log.<zxid> files written and read by txnlog (checksummed entries, torn
 * tails cut at load), snapshot.<zxid> files framed as ZooKeeper's (header,
 * the application's bytes, seals), acceptedEpoch/currentEpoch. A crash is
 * vfs_mem_crash(): fsynced bytes stay, unsynced writes are kept, dropped,
 * or a seeded random prefix of them is kept with the last one maybe torn,
 * per the seed's crash mode.
 *
 * The sim's executor for zstore's log jobs (zstore.h): a job's entries are
 * written (unsynced) when it is submitted and fsynced at an EV_PERSISTED
 * event 1..fsync_max_ms later, which then reports to the peer; a drain
 * fsyncs at once. What is only in zstore's memory (appended while a job is
 * in flight) is lost by a crash, as in the server.
 *
 * Beyond zstore, the disk can be given a capacity: appends, snapshots and
 * epoch writes beyond it fail (ENOSPC), synchronously. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/zalloc.h"
#include "base/zassert.h"
#include "sim.h"
#include "store/store.h"
#include "store/txnlog.h"
#include "store/vfs_mem.h"
#include "store/zstore.h"

#define DIR_ "data/version-2"
#define MAX_SNAPS 5

static struct sim *disk_sim;

void disk_init(struct sim_disk *d, uint64_t seed)
{
	memset(d, 0, sizeof *d);
	d->vfs = vfs_mem_create(seed);
	zassert(vfs_mkdirs(d->vfs, DIR_) == 0);
}

void disk_free(struct sim_disk *d)
{
	zstore_free(d->zs);
	vfs_mem_destroy(d->vfs);
	memset(d, 0, sizeof *d);
}

static uint64_t file_size(struct sim_disk *d, const char *name)
{
	char path[STORE_PATH_MAX];
	store_path(path, sizeof path, DIR_, name);
	struct vfs_file *f;
	uint64_t n = 0;
	if (vfs_open(d->vfs, path, VFS_RDONLY, &f) == 0) {
		vfs_size(d->vfs, f, &n);
		vfs_close(d->vfs, f);
	}
	return n;
}

static int list_dir_fn(void *arg, const char *name)
{
	void **a = arg;
	*(size_t *)a[1] += file_size(a[0], name);
	return 0;
}

size_t disk_used(struct sim_disk *d)
{
	size_t used = 0;
	void *a[2] = {d, &used};
	vfs_list(d->vfs, DIR_, list_dir_fn, a);
	return used;
}

static bool full(struct sim_disk *d, size_t extra)
{
	return d->capacity && disk_used(d) + extra > d->capacity;
}

/* The snapshot files (snapshot.<hex> exactly), oldest first. */
static void snaps(struct sim_disk *d, struct store_files *f)
{
	struct store_error e;
	if (store_list(d->vfs, DIR_, STORE_SNAP_PREFIX, false, f, &e) < 0)
		return;
	size_t k = 0;
	for (size_t i = 0; i < f->n; i++)
		if (!strchr(f->v[i].name + sizeof STORE_SNAP_PREFIX, '.'))
			f->v[k++] = f->v[i];
	f->n = k;
}

int disk_n_snaps(struct sim_disk *d)
{
	struct store_files f = {0};
	snaps(d, &f);
	int n = (int)f.n;
	store_files_free(&f);
	return n;
}

uint64_t disk_newest_snap(struct sim_disk *d)
{
	struct store_files f = {0};
	snaps(d, &f);
	uint64_t z = f.n ? (uint64_t)f.v[f.n - 1].zxid : 0;
	store_files_free(&f);
	return z;
}

uint64_t disk_log_end(struct sim_disk *d)
{
	int64_t z = -1;
	struct store_error e;
	if (txnlog_last_zxid(d->vfs, DIR_, &z, &e) < 0 || z < 0)
		return 0;
	return (uint64_t)z;
}

void disk_crash(struct sim *s, struct sim_disk *d)
{
	enum vfs_mem_crash_mode m = VFS_MEM_RANDOM;
	if (s->cfg.crash_mode == CRASH_KEEP_ALL)
		m = VFS_MEM_KEEP_ALL;
	else if (s->cfg.crash_mode == CRASH_DROP_ALL)
		m = VFS_MEM_DROP_UNSYNCED;
	uint64_t before = 0;
	if (d->zs) {
		struct zstore_stats st;
		zstore_get_stats(d->zs, &st);
		before = st.last_appended;
	}
	zstore_free(d->zs);  /* no I/O: the job in flight dies with the process */
	d->zs = NULL;
	d->job = NULL;
	vfs_mem_crash(d->vfs, m);
	uint64_t after = disk_log_end(d);
	if (after < before)
		sim_tracef(s, "disk: log end 0x%llx lost back to 0x%llx", (unsigned long long)before,
			   (unsigned long long)after);
	d->gen++;
}

/* ---- the executor ---- */

static void ex_submit(void *ctx, struct zstore_job *job)
{
	struct sim_node *nd = ctx;
	struct sim_disk *d = &nd->disk;
	struct sim *s = disk_sim;
	d->job = job;
	d->n_fsyncs++;
	zstore_job_write(job);  /* a failure is reported by the completion */
	uint64_t span = s->cfg.net.fsync_max_ms ? s->cfg.net.fsync_max_ms : 8;
	sim_schedule(s, (struct sim_ev){.at = s->now + 1 + rng_below(&s->rng, span),
					.type = EV_PERSISTED, .node = nd->idx, .inc = d->gen});
}

static void ex_drain(void *ctx, struct zstore_job *job)
{
	(void)ctx;
	zstore_job_sync(job);
}

void disk_on_persisted_event(struct sim *s, struct sim_node *nd, uint32_t gen, uint64_t upto)
{
	struct sim_disk *d = &nd->disk;
	(void)upto;
	if (gen != d->gen || !d->job)
		return;
	struct zstore_job *job = d->job;
	d->job = NULL;  /* zstore_job_done may submit the next one */
	zstore_job_sync(job);
	uint64_t durable;
	if (zstore_job_done(d->zs, job, &durable) != 0) {
		sim_tracef(s, "s%d disk: %s", nd->idx + 1, zstore_error(d->zs)->msg);
		nd->fatal = true;
		return;
	}
	peer_on_persisted(&nd->peer, durable, s->now);
}

static void disk_trace(void *arg, const char *line)
{
	struct sim_node *nd = arg;
	sim_tracef(disk_sim, "s%d disk: %s", nd->idx + 1, line);
}

/* ---- the seam: zstore, plus the capacity and a count of log reads ---- */

#define ZS(ctx) (((struct sim_node *)(ctx))->disk.zs)
#define DISK(ctx) (&((struct sim_node *)(ctx))->disk)

static int st_append(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	if (full(DISK(ctx), n + TXNLOG_ENTRY_OVERHEAD))
		return -1;
	return zstore_log_append(ZS(ctx), zxid, p, n);
}

static void st_flush(void *ctx) { zstore_log_flush(ZS(ctx)); }
static int st_truncate(void *ctx, uint64_t zxid) { return zstore_log_truncate(ZS(ctx), zxid); }

static int st_install(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	if (full(DISK(ctx), n + ZSTORE_SNAP_FRAMING))
		return -1;
	return zstore_snap_install(ZS(ctx), zxid, p, n);
}

static int st_snap_save(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	if (full(DISK(ctx), n + ZSTORE_SNAP_FRAMING))
		return -1;
	return zstore_snap_save(ZS(ctx), zxid, p, n);
}

static int st_epoch(void *ctx, enum zab_epoch_file which, uint64_t epoch)
{
	if (full(DISK(ctx), 32))
		return -1;
	return zstore_epoch_save(ZS(ctx), which, epoch);
}

static int st_load(void *ctx, void *arg, void (*snap)(void *, uint64_t, const uint8_t *, size_t),
		   void (*entry)(void *, uint64_t, const uint8_t *, size_t), int64_t *acc,
		   int64_t *cur, uint64_t *durable)
{
	return zstore_load(ZS(ctx), arg, snap, entry, acc, cur, durable);
}

static int st_log_read(void *ctx, uint64_t from, uint64_t to, uint64_t max_bytes, void *arg,
		       void (*entry)(void *, uint64_t, const uint8_t *, size_t))
{
	int rc = zstore_log_read(ZS(ctx), from, to, max_bytes, arg, entry);
	if (rc == 0)
		DISK(ctx)->n_log_reads++;
	return rc;
}

static uint64_t st_snap_size(void *ctx) { return zstore_snap_size(ZS(ctx)); }

struct zab_store disk_store(struct sim_node *nd, struct sim *s)
{
	disk_sim = s;
	struct sim_disk *d = &nd->disk;
	struct zstore_opts o = {
		.vfs = d->vfs, .snap_dir = DIR_,
		.purge_retain = d->purge ? MAX_SNAPS : 0, .max_snaps = d->purge ? 0 : MAX_SNAPS,
		.exec = {.ctx = nd, .submit = ex_submit, .drain = ex_drain},
		.trace = disk_trace, .trace_arg = nd,
	};
	txnlog_opts_default(&o.log);
	o.log.prealloc_bytes = 0;
	zstore_free(d->zs);
	d->job = NULL;
	struct store_error e;
	zassert(zstore_open(&d->zs, &o, &e) == 0);
	return (struct zab_store){
		.ctx = nd, .log_append = st_append, .log_flush = st_flush,
		.log_truncate = st_truncate, .snap_install = st_install, .snap_save = st_snap_save,
		.epoch_save = st_epoch, .load = st_load, .log_read = st_log_read,
		.snap_size = st_snap_size,
	};
}
