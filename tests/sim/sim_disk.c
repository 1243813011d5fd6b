/* sim_disk: the zab_store seam over a crash-prone disk model.
 *
 * Durable by construction: epoch files (written tmp+fsync+rename, so atomic),
 * snapshots (same), truncation (ZooKeeper truncates and syncs at once).
 * Not durable until fsynced: log appends. log_flush() starts an fsync that
 * completes a little later as an EV_PERSISTED event and covers what was
 * appended when it started (group commit: appends during the fsync wait
 * for the next one). On a crash the unsynced tail of the log is kept,
 * dropped, cut at a random point, or cut with the next entry torn (a torn
 * entry fails its checksum and the log is read up to it), per the seed's
 * crash mode. The disk can be given a capacity; appends, snapshots and
 * epoch writes beyond it fail (ENOSPC). */
#include <string.h>

#include "base/zalloc.h"
#include "sim.h"

void disk_init(struct sim_disk *d)
{
	memset(d, 0, sizeof *d);
	d->accepted = d->current = -1;
	d->n_snaps = 1;  /* the empty base state at zxid 0 */
}

static void snap_free(struct sim_snap *sn)
{
	zfree(sn->data);
	memset(sn, 0, sizeof *sn);
}

void disk_free(struct sim_disk *d)
{
	for (size_t i = 0; i < d->n_log; i++)
		zfree(d->log[i].data);
	zfree(d->log);
	for (int i = 0; i < d->n_snaps; i++)
		snap_free(&d->snaps[i]);
	memset(d, 0, sizeof *d);
}

static bool full(struct sim_disk *d, size_t extra)
{
	return d->capacity && d->used + extra > d->capacity;
}

void disk_crash(struct sim *s, struct sim_disk *d)
{
	size_t first = d->n_log;
	while (first > 0 && !d->log[first - 1].synced)
		first--;
	size_t keep = d->n_log;
	switch (s->cfg.crash_mode) {
	case CRASH_KEEP_ALL: keep = d->n_log; break;
	case CRASH_DROP_ALL: keep = first; break;
	case CRASH_KEEP_PREFIX: keep = first + rng_below(&s->rng, d->n_log - first + 1); break;
	case CRASH_TEAR:
		keep = first + rng_below(&s->rng, d->n_log - first + 1);
		if (keep < d->n_log)
			sim_tracef(s, "disk: torn entry 0x%llx", (unsigned long long)d->log[keep].zxid);
		break;
	}
	if (keep < d->n_log)
		sim_tracef(s, "disk: lost %zu unsynced entries", d->n_log - keep);
	for (size_t i = keep; i < d->n_log; i++) {
		d->used -= d->log[i].n;
		zfree(d->log[i].data);
	}
	d->n_log = keep;
	for (size_t i = 0; i < d->n_log; i++)
		d->log[i].synced = true;  /* what survived is what the platter has */
	d->flush_inflight = d->flush_again = false;
	d->gen++;
}

static struct sim *disk_sim;

struct disk_ctx { struct sim_node *nd; };

static int st_append(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct sim_node *nd = ctx;
	struct sim_disk *d = &nd->disk;
	if (full(d, n))
		return -1;
	if (d->n_log == d->cap_log) {
		d->cap_log = d->cap_log ? d->cap_log * 2 : 64;
		d->log = zrealloc(d->log, d->cap_log * sizeof *d->log);
	}
	uint8_t *c = zmalloc(n ? n : 1);
	memcpy(c, p, n);
	d->log[d->n_log++] = (struct sim_dentry){zxid, c, (uint32_t)n, false};
	d->used += n;
	return 0;
}

static void start_fsync(struct sim *s, struct sim_node *nd)
{
	struct sim_disk *d = &nd->disk;
	d->flush_inflight = true;
	d->flush_again = false;
	d->flush_target = d->n_log ? d->log[d->n_log - 1].zxid : 0;
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
	for (size_t i = 0; i < d->n_log && d->log[i].zxid <= upto; i++)
		d->log[i].synced = true;
	d->flush_inflight = false;
	bool again = d->flush_again;
	peer_on_persisted(&nd->peer, upto, s->now);
	if (again && nd->up && !d->flush_inflight)
		start_fsync(s, nd);
}

/* Can load() rebuild the state at exactly zxid once everything above it
 * is dropped? Yes if a snapshot is at zxid, or if zxid is in the log (or
 * is where the log starts) and a snapshot lies within the log's reach:
 * the log is the contiguous history from log_start on. */
static bool can_rebuild(const struct sim_disk *d, uint64_t zxid)
{
	bool in_log = zxid == d->log_start;
	for (size_t i = 0; i < d->n_log && !in_log; i++)
		in_log = d->log[i].zxid == zxid;
	for (int k = 0; k < d->n_snaps; k++) {
		uint64_t sz = d->snaps[k].zxid;
		if (sz == zxid || (in_log && sz >= d->log_start && sz <= zxid))
			return true;
	}
	return false;
}

static int st_truncate(void *ctx, uint64_t zxid)
{
	struct sim_node *nd = ctx;
	struct sim_disk *d = &nd->disk;
	if (!can_rebuild(d, zxid))
		return 1;
	if (zxid < d->log_start) {  /* back to a snapshot older than the log */
		for (size_t i = 0; i < d->n_log; i++) {
			d->used -= d->log[i].n;
			zfree(d->log[i].data);
		}
		d->n_log = 0;
		d->log_start = zxid;
	}
	while (d->n_log && d->log[d->n_log - 1].zxid > zxid) {
		struct sim_dentry *e = &d->log[--d->n_log];
		d->used -= e->n;
		zfree(e->data);
	}
	for (size_t i = 0; i < d->n_log; i++)
		d->log[i].synced = true;
	while (d->n_snaps > 1 && d->snaps[d->n_snaps - 1].zxid > zxid) {
		d->used -= d->snaps[d->n_snaps - 1].n;
		snap_free(&d->snaps[--d->n_snaps]);
	}
	return 0;
}

static int st_install(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct sim_node *nd = ctx;
	struct sim_disk *d = &nd->disk;
	if (full(d, n))
		return -1;
	for (size_t i = 0; i < d->n_log; i++)
		zfree(d->log[i].data);
	d->n_log = 0;
	for (int i = 0; i < d->n_snaps; i++)
		snap_free(&d->snaps[i]);
	d->n_snaps = 1;
	d->snaps[0] = (struct sim_snap){zxid, zmalloc(n ? n : 1), n};
	memcpy(d->snaps[0].data, p, n);
	d->used = n;
	d->log_start = zxid;
	d->flush_again = false;
	return 0;
}

static void drop_log_before(struct sim_disk *d, size_t k)
{
	if (!k)
		return;
	d->log_start = d->log[k - 1].zxid;
	for (size_t i = 0; i < k; i++) {
		d->used -= d->log[i].n;
		zfree(d->log[i].data);
	}
	memmove(d->log, d->log + k, (d->n_log - k) * sizeof *d->log);
	d->n_log -= k;
}

/* Autopurge (snapRetainCount 4): the oldest snapshot goes, the next one
 * becomes the base, and the log before the base's zxid goes with it
 * (the entry at the base is kept, as ZooKeeper keeps the log file that
 * holds it). */
static void purge(struct sim_disk *d)
{
	d->used -= d->snaps[0].n;
	zfree(d->snaps[0].data);
	memmove(&d->snaps[0], &d->snaps[1], 4 * sizeof d->snaps[0]);
	d->n_snaps--;
	size_t k = 0;
	while (k < d->n_log && d->log[k].zxid < d->snaps[0].zxid)
		k++;
	drop_log_before(d, k);
}

static int st_snap_save(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct sim_node *nd = ctx;
	struct sim_disk *d = &nd->disk;
	if (full(d, n) || zxid <= d->snaps[d->n_snaps - 1].zxid)
		return -1;
	if (d->n_snaps == 5 && d->purge) {
		purge(d);
	} else if (d->n_snaps == 5) {  /* keep the base and the newest ones */
		d->used -= d->snaps[1].n;
		zfree(d->snaps[1].data);
		memmove(&d->snaps[1], &d->snaps[2], 3 * sizeof d->snaps[0]);
		d->n_snaps--;
	}
	d->snaps[d->n_snaps++] = (struct sim_snap){zxid, zmalloc(n ? n : 1), n};
	memcpy(d->snaps[d->n_snaps - 1].data, p, n);
	d->used += n;
	return 0;
}

static int st_epoch(void *ctx, enum zab_epoch_file which, uint64_t epoch)
{
	struct sim_node *nd = ctx;
	struct sim_disk *d = &nd->disk;
	if (full(d, 32))
		return -1;
	if (which == ZAB_ACCEPTED_EPOCH)
		d->accepted = (int64_t)epoch;
	else
		d->current = (int64_t)epoch;
	return 0;
}

static int st_load(void *ctx, void *arg, void (*snap)(void *, uint64_t, const uint8_t *, size_t),
		   void (*entry)(void *, uint64_t, const uint8_t *, size_t), int64_t *acc,
		   int64_t *cur, uint64_t *durable)
{
	struct sim_node *nd = ctx;
	struct sim_disk *d = &nd->disk;
	const struct sim_snap *sn = &d->snaps[d->n_snaps - 1];
	/* A log that stops short of the newest snapshot (a crash lost entries
	 * the snapshot covers) is dropped: what comes next follows the
	 * snapshot, and a DIFF read across the gap would skip txns. */
	if (d->n_log && d->log[d->n_log - 1].zxid < sn->zxid) {
		sim_tracef(disk_sim, "s%d disk: log ends at 0x%llx below snapshot 0x%llx: dropped",
			   nd->idx + 1, (unsigned long long)d->log[d->n_log - 1].zxid,
			   (unsigned long long)sn->zxid);
		drop_log_before(d, d->n_log);
		d->log_start = sn->zxid;
	} else if (!d->n_log && d->log_start < sn->zxid) {
		d->log_start = sn->zxid;
	}
	snap(arg, sn->zxid, sn->data, sn->n);
	*durable = sn->zxid;
	for (size_t i = 0; i < d->n_log; i++) {
		if (d->log[i].zxid <= sn->zxid)
			continue;
		entry(arg, d->log[i].zxid, d->log[i].data, d->log[i].n);
		if (d->log[i].synced)
			*durable = d->log[i].zxid;
	}
	*acc = d->accepted;
	*cur = d->current;
	return 0;
}

static int st_log_read(void *ctx, uint64_t from, uint64_t to, uint64_t max_bytes, void *arg,
		       void (*entry)(void *, uint64_t, const uint8_t *, size_t))
{
	struct sim_node *nd = ctx;
	struct sim_disk *d = &nd->disk;
	size_t j = d->n_log;
	while (j > 0 && d->log[j - 1].zxid > from)
		j--;
	if (j == 0)
		return 1;  /* the log does not reach back to `from` */
	j--;
	uint64_t bytes = 0;
	for (size_t i = j; i < d->n_log; i++)
		bytes += 20 + d->log[i].n;  /* entry header + txn, roughly */
	if (max_bytes && bytes > max_bytes)
		return 1;
	for (size_t i = j; i < d->n_log && d->log[i].zxid <= to; i++)
		entry(arg, d->log[i].zxid, d->log[i].data, d->log[i].n);
	d->n_log_reads++;
	return 0;
}

static uint64_t st_snap_size(void *ctx)
{
	struct sim_node *nd = ctx;
	return nd->disk.snaps[nd->disk.n_snaps - 1].n;
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
