/* sync: how the leader brings one learner up to date after ACKEPOCH
 * (LearnerHandler.syncFollower / queueCommittedProposals, §5.4.4).
 *
 * Inputs: `peer`, the learner's last zxid from ACKEPOCH, and our window of
 * committed txns (base, max] where base is the state just before the first
 * in-memory entry and max = sync_max (before establishment, the end of our
 * whole initial history, which ZooKeeper also treats as committed log).
 * First match wins:
 *   1. peer == max                      → DIFF(max), nothing to send;
 *   2. peer > max, counter(peer) != 0   → TRUNC(max);
 *   3. base <= peer < max               → walk the window: if peer names an
 *      entry (or is base, or has counter 0) → DIFF(max) + PROPOSAL/COMMIT
 *      pairs after it; if the first entry above peer is of another epoch
 *      → SNAP; else TRUNC(previous entry) + pairs after it;
 *   4. otherwise                        → SNAP(max) + snapshot stream.
 * ZooKeeper's rule 4 (read old txns from the on-disk log) is not done: such
 * a learner gets SNAP, which is always correct, only slower.
 * Then: PROPOSAL for every outstanding (uncommitted) proposal to
 * participants, start forwarding, and NEWLEADER with our config text. */
#include "zab/zab.h"

#include "base/zassert.h"
#include "jute/jute.h"

static const char *mode_name(enum zab_sync_mode m)
{
	return m == ZAB_SYNC_DIFF ? "DIFF" : m == ZAB_SYNC_TRUNC ? "TRUNC" : "SNAP";
}

/* Rule 3's walk. Returns the mode; *op_zxid the DIFF/TRUNC zxid, and
 * *from the index of the first entry to send as a pair. */
static enum zab_sync_mode walk(const struct zab *z, uint64_t peer, uint64_t max,
			       uint64_t *op_zxid, size_t *from)
{
	if (peer == z->log_base || ZXID_COUNTER(peer) == 0) {
		*op_zxid = max;
		*from = zab_log_lower_bound(z, peer + 1);
		return ZAB_SYNC_DIFF;
	}
	size_t i = zab_log_lower_bound(z, peer);
	zassert(i < z->log.n);
	const struct zab_entry *e = &z->log.e[i];
	if (e->zxid == peer) {
		*op_zxid = max;
		*from = i + 1;
		return ZAB_SYNC_DIFF;
	}
	if (ZXID_EPOCH(e->zxid) != ZXID_EPOCH(peer))
		return ZAB_SYNC_SNAP;
	*op_zxid = i > 0 ? z->log.e[i - 1].zxid : z->log_base;
	*from = i;
	return ZAB_SYNC_TRUNC;
}

static enum zab_sync_mode decide(const struct zab *z, uint64_t peer, uint64_t *op_zxid,
				 size_t *from)
{
	uint64_t max = z->L.sync_max;
	*from = zab_log_lower_bound(z, max + 1);
	*op_zxid = max;
	if (peer == max)
		return ZAB_SYNC_DIFF;
	if (peer > max && ZXID_COUNTER(peer) != 0)
		return ZAB_SYNC_TRUNC;
	if (peer >= z->log_base && peer < max)
		return walk(z, peer, max, op_zxid, from);
	return ZAB_SYNC_SNAP;
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

void zab_sync_learner(struct zab *z, struct zab_learner_handler *h)
{
	uint64_t max = z->L.sync_max, op_zxid;
	size_t from;
	zassert(z->last_applied == max);
	enum zab_sync_mode mode = decide(z, h->last_zxid, &op_zxid, &from);
	if (mode == ZAB_SYNC_TRUNC && zab_fault(z, ZAB_FAULT_SKIP_TRUNC))
		mode = ZAB_SYNC_DIFF;
	zab_tracef(z, "sync %llu %s 0x%llx peer=0x%llx", (unsigned long long)h->sid,
		   mode_name(mode), (unsigned long long)(mode == ZAB_SYNC_SNAP ? max : op_zxid),
		   (unsigned long long)h->last_zxid);
	if (mode == ZAB_SYNC_SNAP) {
		send_snap(z, h, max);
		from = zab_log_lower_bound(z, max + 1);
	} else {
		zab_send_packet(z, h->conn, mode == ZAB_SYNC_DIFF ? ZAB_DIFF : ZAB_TRUNC, op_zxid,
				NULL, -1);
	}
	size_t i = from;
	for (; i < z->log.n && z->log.e[i].zxid <= max; i++) {
		const struct zab_entry *e = &z->log.e[i];
		zab_send_packet(z, h->conn, ZAB_PROPOSAL, e->zxid, e->data, (int32_t)e->len);
		zab_send_packet(z, h->conn, ZAB_COMMIT, e->zxid, NULL, -1);
	}
	for (; !h->observer && i < z->log.n; i++) {
		const struct zab_entry *e = &z->log.e[i];
		zab_send_packet(z, h->conn, ZAB_PROPOSAL, e->zxid, e->data, (int32_t)e->len);
	}
	h->forwarding = true;
	h->st = LH_WAIT_NEWLEADER_ACK;
	zab_send_packet(z, h->conn, ZAB_NEWLEADER, ZXID(z->L.new_epoch, 0), z->cfg.config_text,
			z->cfg.config_text ? z->cfg.config_len : -1);
}
