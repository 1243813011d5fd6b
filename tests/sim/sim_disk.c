/* sim_disk: the zab_store seam over the real storage code.
 *
 * Every server has its own in-memory file system (store/vfs_mem.h) holding
 * a ZooKeeper data directory, data/version-2: the txn log written and read
 * by txnlog (log.<zxid> files, checksummed entries, torn tails cut at
 * load), acceptedEpoch/currentEpoch by epoch.c, and snapshots as opaque
 * files snapshot.<zxid> written tmp + fsync + rename + fsync_dir (the sim's
 * application state is not a DataTree, so the ZooKeeper snapshot writer
 * does not fit). A crash is vfs_mem_crash(): fsynced bytes stay, unsynced
 * writes are kept, dropped, or a seeded random prefix of them is kept with
 * the last one maybe torn, per the seed's crash mode.
 *
 * A sim txn is opaque bytes; it is logged wrapped in a 32-byte TxnHeader
 * {clientId 0, cxid 0, zxid, time 0, type setData} (txnlog checks the zxid
 * at byte 12; the reader does not parse the record) and unwrapped on read.
 *
 * Write-back: log_append() queues the entry and writes it to the file
 * without fsync; log_flush() starts an fsync that completes a little later
 * as an EV_PERSISTED event (txnlog_commit then), reporting what was
 * appended when it started (group commit). The disk can be given a
 * capacity; appends, snapshots and epoch writes beyond it fail (ENOSPC). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/zalloc.h"
#include "base/zassert.h"
#include "sim.h"
#include "store/epoch.h"
#include "store/store.h"
#include "store/txnlog.h"
#include "store/vfs_mem.h"

#define DIR_ "data/version-2"
#define HDR_LEN 32
#define SIM_TXN_TYPE 5  /* setData: any type Java logs; the record stays opaque */
#define MAX_SNAPS 5

static struct sim *disk_sim;

void disk_init(struct sim_disk *d, uint64_t seed)
{
	memset(d, 0, sizeof *d);
	d->vfs = vfs_mem_create(seed);
	zassert(vfs_mkdirs(d->vfs, DIR_) == 0);
	/* the empty base state at zxid 0, which autopurge may drop like any other */
	vfs_mem_put(d->vfs, DIR_ "/snapshot.0", "", 0);
}

void disk_free(struct sim_disk *d)
{
	txnlog_close(d->lg);
	vfs_mem_destroy(d->vfs);
	memset(d, 0, sizeof *d);
}

static void path_of(char *out, size_t cap, const char *prefix, uint64_t zxid)
{
	char name[64];
	store_name(name, sizeof name, prefix, (int64_t)zxid);
	store_path(out, cap, DIR_, name);
}

static int list(struct sim_disk *d, const char *prefix, struct store_files *out)
{
	struct store_error e;
	return store_list(d->vfs, DIR_, prefix, false, out, &e) < 0 ? -1 : 0;
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

/* Snapshots, oldest first (the list of files named snapshot.<zxid>). */
int disk_n_snaps(struct sim_disk *d)
{
	struct store_files f = {0};
	int n = list(d, STORE_SNAP_PREFIX, &f) ? 0 : (int)f.n;
	store_files_free(&f);
	return n;
}

uint64_t disk_newest_snap(struct sim_disk *d)
{
	struct store_files f = {0};
	uint64_t z = 0;
	if (list(d, STORE_SNAP_PREFIX, &f) == 0 && f.n)
		z = (uint64_t)f.v[f.n - 1].zxid;
	store_files_free(&f);
	return z;
}

/* ---- the log, read back through txnlog's iterator ---- */

struct scan { uint64_t *z; uint32_t *n; size_t len, cap; };

static void scan_free(struct scan *sc)
{
	zfree(sc->z);
	zfree(sc->n);
	memset(sc, 0, sizeof *sc);
}

/* Every logged txn with zxid >= from, in order: entry() gets the unwrapped
 * sim txn (when not NULL) and sc collects zxids and sizes (when not NULL).
 * repair cuts a torn tail, as recovery does at load. */
static int scan_log(struct sim_disk *d, uint64_t from, bool repair, struct scan *sc, uint64_t to,
		    void *arg, void (*entry)(void *, uint64_t, const uint8_t *, size_t))
{
	struct txnlog_read_opts o;
	txnlog_read_opts_default(&o);
	o.repair = repair;
	struct store_error e;
	store_error_clear(&e);
	struct txnlog_iter *it;
	if (txnlog_iter_open(&it, d->vfs, DIR_, (int64_t)from, &o, &e) < 0)
		goto fail;
	struct txnlog_entry en;
	int rc;
	while ((rc = txnlog_iter_next(it, &en, &e)) == 1) {
		uint64_t z = (uint64_t)en.zxid;
		if (z < from)
			continue;
		if (entry && z > to) {
			rc = 0;
			break;
		}
		if (entry)
			entry(arg, z, en.body + HDR_LEN, en.len - HDR_LEN);
		if (sc) {
			if (sc->len == sc->cap) {
				sc->cap = sc->cap ? sc->cap * 2 : 64;
				sc->z = zrealloc(sc->z, sc->cap * sizeof *sc->z);
				sc->n = zrealloc(sc->n, sc->cap * sizeof *sc->n);
			}
			sc->z[sc->len] = z;
			sc->n[sc->len++] = en.len - HDR_LEN;
		}
	}
	const struct txnlog_iter_report *r = txnlog_iter_report(it);
	if (r->torn && disk_sim)
		sim_tracef(disk_sim, "disk: torn log tail at %s:%llu cut (%s)", r->torn_path,
			   (unsigned long long)r->torn_offset, r->torn_why);
	txnlog_iter_close(it);
	if (rc == 0)
		return 0;
fail:
	if (disk_sim)
		sim_tracef(disk_sim, "disk: %s", e.msg);
	return -1;
}

uint64_t disk_log_end(struct sim_disk *d)
{
	struct scan sc = {0};
	uint64_t z = 0;
	if (scan_log(d, 0, false, &sc, 0, NULL, NULL) == 0 && sc.len)
		z = sc.z[sc.len - 1];
	scan_free(&sc);
	return z;
}

static int unlink_all(struct sim_disk *d, const char *prefix, uint64_t above, bool all)
{
	struct store_files f = {0};
	if (list(d, prefix, &f))
		return -1;
	char path[STORE_PATH_MAX];
	int rc = 0;
	for (size_t i = 0; i < f.n && rc == 0; i++) {
		if (!all && (uint64_t)f.v[i].zxid <= above)
			continue;
		store_path(path, sizeof path, DIR_, f.v[i].name);
		rc = vfs_unlink(d->vfs, path);
	}
	store_files_free(&f);
	return rc ? -1 : vfs_sync_dir(d->vfs, DIR_) ? -1 : 0;
}

/* Ends this incarnation's writer: what it appended is made durable first
 * (ZooKeeper truncates and syncs at once), the next append opens a file. */
static int close_writer(struct sim_disk *d, bool commit)
{
	int rc = 0;
	struct store_error e;
	if (d->lg && commit)
		rc = txnlog_commit(d->lg, &e);
	txnlog_close(d->lg);
	d->lg = NULL;
	return rc ? -1 : 0;
}

void disk_crash(struct sim *s, struct sim_disk *d)
{
	enum vfs_mem_crash_mode m = VFS_MEM_RANDOM;
	if (s->cfg.crash_mode == CRASH_KEEP_ALL)
		m = VFS_MEM_KEEP_ALL;
	else if (s->cfg.crash_mode == CRASH_DROP_ALL)
		m = VFS_MEM_DROP_UNSYNCED;
	close_writer(d, false);
	uint64_t before = d->last_appended;
	vfs_mem_crash(d->vfs, m);
	uint64_t after = disk_log_end(d);
	if (after < before)
		sim_tracef(s, "disk: log end 0x%llx lost back to 0x%llx", (unsigned long long)before,
			   (unsigned long long)after);
	d->last_appended = d->synced = after;
	d->flush_inflight = d->flush_again = false;
	d->gen++;
}

static int st_append(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct sim_node *nd = ctx;
	struct sim_disk *d = &nd->disk;
	if (full(d, n + HDR_LEN + TXNLOG_ENTRY_OVERHEAD))
		return -1;
	if (!d->lg) {
		struct txnlog_opts o;
		txnlog_opts_default(&o);
		o.prealloc_bytes = 0;
		d->lg = txnlog_open(d->vfs, DIR_, &o);
	}
	struct buf b;
	buf_init(&b);
	buf_put_be64(&b, 0);   /* clientId */
	buf_put_be32(&b, 0);   /* cxid */
	buf_put_be64(&b, zxid);
	buf_put_be64(&b, 0);   /* time */
	buf_put_be32(&b, SIM_TXN_TYPE);
	buf_put(&b, p, n);
	struct store_error e;
	int rc = txnlog_append(d->lg, (int64_t)zxid, b.data, b.len, &e);
	if (rc == 0)
		rc = txnlog_write(d->lg, &e);
	buf_free(&b);
	if (rc)
		return -1;
	d->last_appended = zxid;
	return 0;
}

static void start_fsync(struct sim *s, struct sim_node *nd)
{
	struct sim_disk *d = &nd->disk;
	d->flush_inflight = true;
	d->flush_again = false;
	d->flush_target = d->last_appended;
	d->n_fsyncs++;
	sim_schedule(s, (struct sim_ev){.at = s->now + 1 + rng_below(&s->rng, s->cfg.net.fsync_max_ms ? s->cfg.net.fsync_max_ms : 8), .type = EV_PERSISTED,
					.node = nd->idx, .inc = d->gen, .zxid = d->flush_target});
}

static void st_flush(void *ctx)
{
	struct sim_node *nd = ctx;
	if (nd->disk.flush_inflight)
		nd->disk.flush_again = true;
	else
		start_fsync(disk_sim, nd);
}

void disk_on_persisted_event(struct sim *s, struct sim_node *nd, uint32_t gen, uint64_t upto)
{
	struct sim_disk *d = &nd->disk;
	if (gen != d->gen)
		return;
	struct store_error e;
	if (d->lg && txnlog_commit(d->lg, &e) != 0) {
		sim_tracef(s, "s%d disk: %s", nd->idx + 1, e.msg);
		return;
	}
	if (upto > d->synced)
		d->synced = upto;
	d->flush_inflight = false;
	bool again = d->flush_again;
	peer_on_persisted(&nd->peer, upto, s->now);
	if (again && nd->up && !d->flush_inflight)
		start_fsync(s, nd);
}

/* The zxid of the state just before the log's first entry: the newest
 * snapshot below it. Every way the log is started or restarted (boot on
 * the empty snapshot.0, SNAP install, a log dropped for stopping short of a
 * snapshot, truncation back to a snapshot) leaves that snapshot behind as
 * its base; after autopurge there may be none, and the first entry stands
 * for the base (nothing below it can be rebuilt). Empty log: the newest
 * snapshot. */
static uint64_t log_base(const struct scan *sc, const struct store_files *sn)
{
	uint64_t first = sc->len ? sc->z[0] : UINT64_MAX, base = sc->len ? sc->z[0] : 0;
	for (size_t k = 0; k < sn->n; k++)
		if ((uint64_t)sn->v[k].zxid < first)
			base = (uint64_t)sn->v[k].zxid;
	return base;
}

/* Can load() rebuild the state at exactly zxid once everything above it
 * is dropped? Yes if a snapshot is at zxid, or if zxid is in the log (or
 * is its base) and a snapshot lies within the log's reach. */
static bool can_rebuild(const struct scan *sc, const struct store_files *sn, uint64_t base,
			uint64_t zxid)
{
	bool in_log = zxid == base;
	for (size_t i = 0; i < sc->len && !in_log; i++)
		in_log = sc->z[i] == zxid;
	for (size_t k = 0; k < sn->n; k++) {
		uint64_t sz = (uint64_t)sn->v[k].zxid;
		if (sz == zxid || (in_log && sz >= base && sz <= zxid))
			return true;
	}
	return false;
}

static int st_truncate(void *ctx, uint64_t zxid)
{
	struct sim_node *nd = ctx;
	struct sim_disk *d = &nd->disk;
	struct scan sc = {0};
	struct store_files sn = {0};
	int rc = scan_log(d, 0, false, &sc, 0, NULL, NULL) || list(d, STORE_SNAP_PREFIX, &sn) ? -1 : 0;
	uint64_t base = log_base(&sc, &sn);
	if (rc == 0 && !can_rebuild(&sc, &sn, base, zxid))
		rc = 1;
	scan_free(&sc);
	store_files_free(&sn);
	if (rc)
		return rc;
	if (close_writer(d, true))
		return -1;
	struct store_error e;
	if (zxid < base)  /* back to a snapshot older than the log */
		rc = unlink_all(d, STORE_LOG_PREFIX, 0, true);
	else
		rc = txnlog_truncate(d->vfs, DIR_, (int64_t)zxid, &e) ? -1 : 0;
	if (rc == 0)
		rc = unlink_all(d, STORE_SNAP_PREFIX, zxid, false);
	d->last_appended = d->synced = zxid;
	return rc;
}

static int write_snap(struct sim_disk *d, uint64_t zxid, const uint8_t *p, size_t n)
{
	char path[STORE_PATH_MAX], tmp[STORE_PATH_MAX + 8];
	path_of(path, sizeof path, STORE_SNAP_PREFIX, zxid);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	struct vfs_file *f;
	int rc = vfs_open(d->vfs, tmp, VFS_RDWR | VFS_CREATE | VFS_TRUNC, &f);
	if (rc < 0)
		return -1;
	rc = vfs_pwrite(d->vfs, f, p, n, 0);
	if (rc == 0)
		rc = vfs_sync(d->vfs, f);
	vfs_close(d->vfs, f);
	if (rc == 0)
		rc = vfs_rename(d->vfs, tmp, path);
	if (rc == 0)
		rc = vfs_sync_dir(d->vfs, DIR_);
	return rc ? -1 : 0;
}

static int st_install(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct sim_node *nd = ctx;
	struct sim_disk *d = &nd->disk;
	if (full(d, n))
		return -1;
	close_writer(d, false);
	/* the new snapshot is the whole state: the log and the rest go */
	if (unlink_all(d, STORE_LOG_PREFIX, 0, true) || unlink_all(d, STORE_SNAP_PREFIX, 0, true) ||
	    write_snap(d, zxid, p, n))
		return -1;
	d->last_appended = d->synced = zxid;
	d->flush_again = false;
	return 0;
}

/* Autopurge (snapRetainCount 4): the oldest snapshot goes, the next one
 * becomes the base, and every log file that only holds txns before the
 * base goes with it (ZooKeeper keeps the log file that holds the base). */
static int purge(struct sim_disk *d, const struct store_files *sn)
{
	char path[STORE_PATH_MAX];
	store_path(path, sizeof path, DIR_, sn->v[0].name);
	if (vfs_unlink(d->vfs, path))
		return -1;
	int64_t base = sn->v[1].zxid;
	struct store_files lf = {0};
	if (list(d, STORE_LOG_PREFIX, &lf))
		return -1;
	int rc = 0;
	for (size_t i = 0; i + 1 < lf.n && lf.v[i + 1].zxid <= base && rc == 0; i++) {
		store_path(path, sizeof path, DIR_, lf.v[i].name);
		rc = vfs_unlink(d->vfs, path);
	}
	store_files_free(&lf);
	return rc || vfs_sync_dir(d->vfs, DIR_) ? -1 : 0;
}

static int st_snap_save(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct sim_node *nd = ctx;
	struct sim_disk *d = &nd->disk;
	struct store_files sn = {0};
	if (full(d, n) || list(d, STORE_SNAP_PREFIX, &sn) || !sn.n ||
	    zxid <= (uint64_t)sn.v[sn.n - 1].zxid) {
		store_files_free(&sn);
		return -1;
	}
	int rc = 0;
	if (sn.n >= MAX_SNAPS && d->purge) {
		rc = purge(d, &sn);
	} else if (sn.n >= MAX_SNAPS) {  /* keep the base and the newest ones */
		char path[STORE_PATH_MAX];
		store_path(path, sizeof path, DIR_, sn.v[1].name);
		rc = vfs_unlink(d->vfs, path) || vfs_sync_dir(d->vfs, DIR_) ? -1 : 0;
	}
	store_files_free(&sn);
	return rc ? rc : write_snap(d, zxid, p, n);
}

static int st_epoch(void *ctx, enum zab_epoch_file which, uint64_t epoch)
{
	struct sim_node *nd = ctx;
	struct sim_disk *d = &nd->disk;
	if (full(d, 32))
		return -1;
	struct store_error e;
	return epoch_write(d->vfs, DIR_, which == ZAB_ACCEPTED_EPOCH ? EPOCH_ACCEPTED : EPOCH_CURRENT,
			   (int64_t)epoch, &e) ? -1 : 0;
}

static int read_epoch(struct sim_disk *d, const char *name, int64_t *out)
{
	struct store_error e;
	int rc = epoch_read(d->vfs, DIR_, name, out, &e);
	if (rc == 0)
		*out = -1;
	return rc < 0 ? -1 : 0;
}

/* The newest snapshot's bytes (a copy) and zxid. */
static int read_snap(struct sim_disk *d, uint64_t *zxid, uint8_t **p, size_t *n)
{
	struct store_files sn = {0};
	if (list(d, STORE_SNAP_PREFIX, &sn) || !sn.n) {
		store_files_free(&sn);
		return -1;
	}
	*zxid = (uint64_t)sn.v[sn.n - 1].zxid;
	char path[STORE_PATH_MAX];
	store_path(path, sizeof path, DIR_, sn.v[sn.n - 1].name);
	store_files_free(&sn);
	struct vfs_file *f;
	uint64_t size = 0;
	if (vfs_open(d->vfs, path, VFS_RDONLY, &f))
		return -1;
	int rc = vfs_size(d->vfs, f, &size);
	*p = zmalloc(size ? size : 1);
	*n = size;
	if (rc == 0 && size)
		rc = vfs_read_exact(d->vfs, f, *p, size, 0);
	vfs_close(d->vfs, f);
	if (rc)
		zfree(*p);
	return rc ? -1 : 0;
}

struct relay {
	void *arg;
	void (*entry)(void *, uint64_t, const uint8_t *, size_t);
	uint64_t last, durable, synced;
};

static void relay_entry(void *arg, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct relay *r = arg;
	r->entry(r->arg, zxid, p, n);
	r->last = zxid;
	if (zxid <= r->synced)
		r->durable = zxid;
}

static int st_load(void *ctx, void *arg, void (*snap)(void *, uint64_t, const uint8_t *, size_t),
		   void (*entry)(void *, uint64_t, const uint8_t *, size_t), int64_t *acc,
		   int64_t *cur, uint64_t *durable)
{
	struct sim_node *nd = ctx;
	struct sim_disk *d = &nd->disk;
	/* a reload within one incarnation keeps the writer (and its pending
	 * fsync); after a crash there is none */
	if (read_epoch(d, EPOCH_ACCEPTED, acc) || read_epoch(d, EPOCH_CURRENT, cur))
		return -1;
	uint64_t sz;
	uint8_t *p;
	size_t n;
	if (read_snap(d, &sz, &p, &n))
		return -1;
	struct scan sc = {0};
	int rc = scan_log(d, 0, true, &sc, 0, NULL, NULL);
	/* A log that stops short of the newest snapshot (a crash lost entries
	 * the snapshot covers) is dropped: what comes next follows the
	 * snapshot, and a DIFF read across the gap would skip txns. */
	if (rc == 0 && sc.len && sc.z[sc.len - 1] < sz) {
		sim_tracef(disk_sim, "s%d disk: log ends at 0x%llx below snapshot 0x%llx: dropped",
			   nd->idx + 1, (unsigned long long)sc.z[sc.len - 1], (unsigned long long)sz);
		close_writer(d, false);
		rc = unlink_all(d, STORE_LOG_PREFIX, 0, true);
		d->last_appended = sz;
	}
	scan_free(&sc);
	struct relay r = {arg, entry, sz, sz, d->synced};
	if (rc == 0) {
		snap(arg, sz, p, n);
		rc = scan_log(d, sz + 1, true, NULL, UINT64_MAX, &r, relay_entry);
	}
	zfree(p);
	*durable = r.durable;
	return rc;
}

static int st_log_read(void *ctx, uint64_t from, uint64_t to, uint64_t max_bytes, void *arg,
		       void (*entry)(void *, uint64_t, const uint8_t *, size_t))
{
	struct sim_node *nd = ctx;
	struct sim_disk *d = &nd->disk;
	struct scan sc = {0};
	if (scan_log(d, 0, false, &sc, 0, NULL, NULL)) {
		scan_free(&sc);
		return -1;
	}
	size_t j = sc.len;
	while (j > 0 && sc.z[j - 1] > from)
		j--;
	uint64_t bytes = 0;
	for (size_t i = j ? j - 1 : 0; i < sc.len; i++)
		bytes += 20 + sc.n[i];  /* entry header + txn, roughly */
	uint64_t start = j ? sc.z[j - 1] : 0;
	scan_free(&sc);
	if (j == 0 || (max_bytes && bytes > max_bytes))
		return 1;  /* the log does not reach back to `from`, or too much to send */
	if (scan_log(d, start, false, NULL, to, arg, entry))
		return -1;
	d->n_log_reads++;
	return 0;
}

static uint64_t st_snap_size(void *ctx)
{
	struct sim_node *nd = ctx;
	struct store_files sn = {0};
	uint64_t n = 0;
	if (list(&nd->disk, STORE_SNAP_PREFIX, &sn) == 0 && sn.n)
		n = file_size(&nd->disk, sn.v[sn.n - 1].name);
	store_files_free(&sn);
	return n;
}

struct zab_store disk_store(struct sim_node *nd, struct sim *s)
{
	disk_sim = s;
	return (struct zab_store){
		.ctx = nd, .log_append = st_append, .log_flush = st_flush,
		.log_truncate = st_truncate, .snap_install = st_install, .snap_save = st_snap_save,
		.epoch_save = st_epoch, .load = st_load, .log_read = st_log_read,
		.snap_size = st_snap_size,
	};
}
