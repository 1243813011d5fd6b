/* sync: how the leader brings one learner up to date after ACKEPOCH
 * (LearnerHandler.syncFollower / queueCommittedProposals, §5.4.4).
 *
 * Inputs: `peer`, the learner's last zxid from ACKEPOCH, and our window of
 * committed txns (base, max] where base is the state just before the first
 * in-memory entry and max = sync_max (before establishment, the end of our
 * whole initial history, which ZooKeeper also treats as committed log).
 * First match wins:
 *   0. the learner left its last TRUNC sync before ACKing NEWLEADER → SNAP
 *      (a learner whose oldest snapshot is newer than the TRUNC point
 *      cannot truncate and leaves; see zab_lh_left);
 *   1. peer == max                      → DIFF(max), nothing to send;
 *   2. peer > max, counter(peer) != 0   → TRUNC(max);
 *   3. base <= peer < max               → walk the window: if peer names an
 *      entry (or is base, or has counter 0) → DIFF(max) + PROPOSAL/COMMIT
 *      pairs after it; if the first entry above peer is of another epoch
 *      → SNAP; else TRUNC(previous entry) + pairs after it;
 *   4. peer < base and snapshotSizeFactor allows: read the on-disk log
 *      from the last entry <= peer up to base (store->log_read, refused
 *      when it does not reach back that far or holds more than factor ×
 *      the newest snapshot), check that it ends exactly at base (no gap
 *      before the window), and walk it as in 3, then the whole window;
 *   5. otherwise                        → SNAP(max) + snapshot stream.
 * Then: PROPOSAL for every outstanding (uncommitted) proposal to
 * participants, start forwarding, and NEWLEADER with our config text. */
#include "zab/zab.h"

#include <string.h>

#include "base/zalloc.h"
#include "base/zassert.h"
#include "jute/jute.h"

static const char *mode_name(enum zab_sync_mode m)
{
	return m == ZAB_SYNC_DIFF ? "DIFF" : m == ZAB_SYNC_TRUNC ? "TRUNC" : "SNAP";
}

/* The packets to send: op packet, then pairs from disk[disk_from..] and
 * from the in-memory log[from..] up to max. */
struct plan {
	enum zab_sync_mode mode;
	uint64_t op_zxid;
	struct zab_log disk;
	size_t disk_from;
	size_t from;
	const char *why;
};

static size_t lower_bound(const struct zab_log *l, uint64_t zxid)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (l->e[mid].zxid < zxid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Rule 3's walk over one run of entries `l` that holds an entry > peer:
 * sets the mode, op zxid and *first (index of the first pair). */
static void walk(const struct zab_log *l, uint64_t base, uint64_t peer, uint64_t max,
		 struct plan *p, size_t *first)
{
	if (peer == base || ZXID_COUNTER(peer) == 0) {
		p->mode = ZAB_SYNC_DIFF;
		p->op_zxid = max;
		*first = lower_bound(l, peer + 1);
		return;
	}
	size_t i = lower_bound(l, peer);
	zassert(i < l->n);
	if (l->e[i].zxid == peer) {
		p->mode = ZAB_SYNC_DIFF;
		p->op_zxid = max;
		*first = i + 1;
		return;
	}
	if (ZXID_EPOCH(l->e[i].zxid) != ZXID_EPOCH(peer)) {
		p->mode = ZAB_SYNC_SNAP;  /* no TRUNC across an epoch boundary */
		return;
	}
	p->mode = ZAB_SYNC_TRUNC;
	p->op_zxid = i > 0 ? l->e[i - 1].zxid : base;
	*first = i;
}

static void disk_entry(void *arg, uint64_t zxid, const uint8_t *d, size_t n)
{
	struct zab_log *l = arg;
	if (l->n && l->e[l->n - 1].zxid >= zxid)
		return;  /* not in order: ignored, the end check below catches a short run */
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->e = zrealloc(l->e, l->cap * sizeof *l->e);
	}
	uint8_t *copy = zmalloc(n ? n : 1);
	if (n)
		memcpy(copy, d, n);
	l->e[l->n++] = (struct zab_entry){.zxid = zxid, .data = copy, .len = (uint32_t)n};
}

static void disk_free(struct zab_log *l)
{
	for (size_t i = 0; i < l->n; i++)
		zfree(l->e[i].data);
	zfree(l->e);
	memset(l, 0, sizeof *l);
}

static bool txnlog_enabled(const struct zab *z, uint64_t *max_bytes)
{
	double f = z->cfg.snap_size_factor;
	if (f < 0 || !z->store.log_read)
		return false;
	if (f > 1)
		f = 0.33;  /* as ZKDatabase resets it */
	uint64_t snap = z->store.snap_size ? z->store.snap_size(z->store.ctx) : 0;
	*max_bytes = (uint64_t)(f * (double)snap);
	return true;
}

/* Rule 4: DIFF (or TRUNC) from the on-disk log. false → SNAP. */
static bool plan_from_txnlog(struct zab *z, uint64_t peer, uint64_t max, struct plan *p)
{
	uint64_t max_bytes;
	if (!txnlog_enabled(z, &max_bytes))
		return false;
	int rc = z->store.log_read(z->store.ctx, peer, z->log_base, max_bytes, &p->disk, disk_entry);
	struct zab_log *d = &p->disk;
	if (rc != 0 || d->n == 0 || d->e[0].zxid > peer || d->e[d->n - 1].zxid != z->log_base) {
		p->why = rc == 0 && d->n ? " (txnlog gap)" : NULL;
		disk_free(d);
		return false;
	}
	walk(d, 0, peer, max, p, &p->disk_from);
	if (p->mode == ZAB_SYNC_SNAP) {
		disk_free(d);
		return false;
	}
	p->from = 0;
	p->why = " txnlog";
	z->n_txnlog_diffs++;
	return true;
}

static bool in_snap_next(struct zab *z, uint64_t sid, bool clear)
{
	for (int i = 0; i < z->n_snap_next; i++) {
		if (z->snap_next[i] != sid)
			continue;
		if (clear)
			z->snap_next[i] = z->snap_next[--z->n_snap_next];
		return true;
	}
	return false;
}

void zab_lh_left(struct zab *z, const struct zab_learner_handler *h)
{
	if (h->sync_mode != ZAB_SYNC_TRUNC || h->st != LH_WAIT_NEWLEADER_ACK ||
	    in_snap_next(z, h->sid, false) || z->n_snap_next == ZAB_MAX_SERVERS)
		return;
	z->snap_next[z->n_snap_next++] = h->sid;
}

static void decide(struct zab *z, const struct zab_learner_handler *h, struct plan *p)
{
	uint64_t max = z->L.sync_max, peer = h->last_zxid;
	p->from = zab_log_lower_bound(z, max + 1);
	p->op_zxid = max;
	p->mode = ZAB_SYNC_SNAP;
	if (in_snap_next(z, h->sid, true)) {
		p->why = " (left its last TRUNC sync)";
		return;
	}
	if (peer == max) {
		p->mode = ZAB_SYNC_DIFF;
	} else if (peer > max && ZXID_COUNTER(peer) != 0) {
		p->mode = ZAB_SYNC_TRUNC;
	} else if (peer >= z->log_base && peer < max) {
		walk(&z->log, z->log_base, peer, max, p, &p->from);
	} else if (peer < z->log_base && peer < max) {
		if (!plan_from_txnlog(z, peer, max, p))
			p->mode = ZAB_SYNC_SNAP;
	}
	if (p->mode == ZAB_SYNC_SNAP) {
		disk_free(&p->disk);
		p->op_zxid = max;
		p->from = zab_log_lower_bound(z, max + 1);
	}
}

static void send_snap(struct zab *z, struct zab_learner_handler *h, uint64_t zxid)
{
	struct buf b, snap;
	buf_init(&b);
	buf_init(&snap);
	z->env.snapshot(z->env.ctx, &snap);
	/* SNAP packet immediately followed by the raw snapshot stream. */
	jute_put_int(&b, ZAB_SNAP);
	jute_put_long(&b, (int64_t)zxid);
	jute_put_int(&b, -1);
	jute_put_int(&b, -1);
	buf_put(&b, snap.data, snap.len);
	z->env.send(z->env.ctx, h->conn, b.data, b.len);
	buf_free(&b);
	buf_free(&snap);
}

static void send_pair(struct zab *z, struct zab_learner_handler *h, const struct zab_entry *e)
{
	zab_send_packet(z, h->conn, ZAB_PROPOSAL, e->zxid, e->data, (int32_t)e->len);
	zab_send_packet(z, h->conn, ZAB_COMMIT, e->zxid, NULL, -1);
}

void zab_sync_learner(struct zab *z, struct zab_learner_handler *h)
{
	uint64_t max = z->L.sync_max;
	struct plan p;
	memset(&p, 0, sizeof p);
	zassert(z->last_applied == max);
	decide(z, h, &p);
	if (p.mode == ZAB_SYNC_TRUNC && zab_fault(z, ZAB_FAULT_SKIP_TRUNC))
		p.mode = ZAB_SYNC_DIFF;
	zab_tracef(z, "sync %llu %s 0x%llx peer=0x%llx%s", (unsigned long long)h->sid,
		   mode_name(p.mode), (unsigned long long)p.op_zxid,
		   (unsigned long long)h->last_zxid, p.why ? p.why : "");
	z->n_sync_modes[p.mode]++;
	h->sync_mode = p.mode;
	if (p.mode == ZAB_SYNC_SNAP)
		send_snap(z, h, max);
	else
		zab_send_packet(z, h->conn, p.mode == ZAB_SYNC_DIFF ? ZAB_DIFF : ZAB_TRUNC, p.op_zxid,
				NULL, -1);
	for (size_t i = p.disk_from; i < p.disk.n; i++)
		send_pair(z, h, &p.disk.e[i]);
	disk_free(&p.disk);
	size_t i = p.from;
	for (; i < z->log.n && z->log.e[i].zxid <= max; i++)
		send_pair(z, h, &z->log.e[i]);
	for (; !h->observer && i < z->log.n; i++) {
		const struct zab_entry *e = &z->log.e[i];
		zab_send_packet(z, h->conn, ZAB_PROPOSAL, e->zxid, e->data, (int32_t)e->len);
	}
	h->forwarding = true;
	h->st = LH_WAIT_NEWLEADER_ACK;
	zab_send_packet(z, h->conn, ZAB_NEWLEADER, ZXID(z->L.new_epoch, 0), z->cfg.config_text,
			z->cfg.config_text ? z->cfg.config_len : -1);
}
