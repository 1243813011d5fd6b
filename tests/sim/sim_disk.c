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

static int st_truncate(void *ctx, uint64_t zxid)
{
	struct sim_node *nd = ctx;
	struct sim_disk *d = &nd->disk;
	if (zxid < d->snaps[0].zxid)
		return -1;
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
	d->flush_again = false;
	return 0;
}

static int st_snap_save(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct sim_node *nd = ctx;
	struct sim_disk *d = &nd->disk;
	if (full(d, n) || zxid <= d->snaps[d->n_snaps - 1].zxid)
		return -1;
	if (d->n_snaps == 5) {  /* keep the base and the newest ones */
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

struct zab_store disk_store(struct sim_node *nd, struct sim *s)
{
	disk_sim = s;
	return (struct zab_store){
		.ctx = nd, .log_append = st_append, .log_flush = st_flush,
		.log_truncate = st_truncate, .snap_install = st_install, .snap_save = st_snap_save,
		.epoch_save = st_epoch, .load = st_load,
	};
}
