/* leader: the LEADING role — Leader.java and its LearnerHandlers in one
 * event-driven object.
 *
 *  zab_lead()
 *     │  FOLLOWERINFO/OBSERVERINFO from learners; our own vote counts
 *     ▼
 *  [epoch open] ── quorum of participants connected ──▶ new epoch =
 *     │            1 + max(acceptedEpoch of all connected), persisted as
 *     │            acceptedEpoch, LEADERINFO to every learner
 *     ▼
 *  [wait ACKEPOCH] ── quorum of ACKEPOCH (learners more recent than us
 *     │               are dropped) and our log durable ──▶ currentEpoch :=
 *     │               new epoch (persisted), each learner synced
 *     ▼               (sync.c: DIFF/TRUNC/SNAP, pairs, NEWLEADER)
 *  [wait NEWLEADER ACKs] ── quorum ──▶ ESTABLISHED: initial history
 *     │                                committed, UPTODATE to everyone
 *     ▼
 *  [broadcast] PROPOSAL → ACKs (durable) → COMMIT in zxid order,
 *              INFORM to observers, PING every tick/2; SYNC answered
 *              after the pipeline and after a quorum answered a
 *              PING/PROPOSAL sent after it arrived.
 *
 * Any stage that takes longer than initLimit ticks, or a broadcast phase
 * where the learners heard within syncLimit ticks plus us are no quorum,
 * ends the role (zab_lost → LOOKING). A learner handler that has been quiet
 * for initLimit (before its NEWLEADER ACK) or syncLimit ticks is dropped.
 *
 * A learner that has accepted a newer epoch than ours (promised to a leader
 * that then failed) would refuse us for ever: we abdicate (see on_info).
 *
 * Live COMMITs for a learner that has not yet been sent UPTODATE are held
 * and flushed right after UPTODATE: a 3.8 Java learner dies on a COMMIT
 * between NEWLEADER and UPTODATE (ZOOKEEPER-4394). */
#include "zab/zab.h"

#include <string.h>

#include "base/zalloc.h"
#include "jute/jute.h"
#include "jute/proto.h"
#include "jute/records.h"

static struct zab_learner_handler *lh_by_conn(struct zab *z, uint64_t conn)
{
	for (int i = 0; i < ZAB_MAX_SERVERS; i++)
		if (z->L.lh[i].used && z->L.lh[i].conn == conn)
			return &z->L.lh[i];
	return NULL;
}

static struct zab_learner_handler *lh_by_sid(struct zab *z, uint64_t sid)
{
	for (int i = 0; i < ZAB_MAX_SERVERS; i++)
		if (z->L.lh[i].used && z->L.lh[i].sid == sid)
			return &z->L.lh[i];
	return NULL;
}

static void lh_drop(struct zab *z, struct zab_learner_handler *h, const char *why)
{
	zab_tracef(z, "drop learner %llu: %s", (unsigned long long)h->sid, why);
	zab_lh_left(z, h);
	z->env.close(z->env.ctx, h->conn);
	uint64_t *held = h->held;
	size_t cap = h->cap_held;
	memset(h, 0, sizeof *h);
	h->held = held;
	h->cap_held = cap;
}

static uint32_t self_bit(const struct zab *z)
{
	int i = zab_voter_index(z, z->cfg.my_sid);
	return i >= 0 ? 1u << i : 0;
}

static uint32_t lh_bit(const struct zab *z, const struct zab_learner_handler *h)
{
	int i = h->observer ? -1 : zab_voter_index(z, h->sid);
	return i >= 0 ? 1u << i : 0;
}

void zab_leader_stop(struct zab *z)
{
	for (int i = 0; i < ZAB_MAX_SERVERS; i++)
		if (z->L.lh[i].used)
			lh_drop(z, &z->L.lh[i], "leader stopped");
	z->L.n_out = 0;
	z->L.n_sw = 0;
}

void zab_lead(struct zab *z)
{
	struct zab_leader *L = &z->L;
	zab_leader_stop(z);
	struct zab_proposal *out = L->out;
	struct zab_sync_wait *sw = L->sw;
	size_t co = L->cap_out, cs = L->cap_sw;
	struct zab_learner_handler lh[ZAB_MAX_SERVERS];
	memcpy(lh, L->lh, sizeof lh);
	memset(L, 0, sizeof *L);
	memcpy(L->lh, lh, sizeof lh);
	L->out = out; L->cap_out = co; L->sw = sw; L->cap_sw = cs;
	z->role = ZAB_LEADING;
	L->start_ms = L->stage_ms = z->now_ms;
	L->my_epoch_at_start = z->current_epoch;
	L->my_zxid_at_start = z->last_logged;
	L->sync_max = z->last_logged;
	L->next_ping_ms = z->now_ms;
	zab_tracef(z, "LEADING zxid=0x%llx", (unsigned long long)z->last_logged);
}

static void send_leaderinfo(struct zab *z, struct zab_learner_handler *h)
{
	uint8_t v[4] = {0, 1, 0, 0};  /* protocol version 0x10000 */
	zab_send_packet(z, h->conn, ZAB_LEADERINFO, ZXID(z->L.new_epoch, 0), v, 4);
	h->st = LH_WAIT_ACKEPOCH;
}

static void try_fix_epoch(struct zab *z)
{
	struct zab_leader *L = &z->L;
	if (L->epoch_fixed)
		return;
	uint32_t bits = self_bit(z);
	int64_t max = z->accepted_epoch;
	for (int i = 0; i < ZAB_MAX_SERVERS; i++) {
		struct zab_learner_handler *h = &L->lh[i];
		if (!h->used)
			continue;
		bits |= lh_bit(z, h);
		if (h->accepted_epoch > max)
			max = h->accepted_epoch;
	}
	if (!zab_is_quorum(z, bits))
		return;
	L->new_epoch = max + 1;
	if (zab_save_epoch(z, ZAB_ACCEPTED_EPOCH, L->new_epoch) != 0)
		return;
	L->epoch_fixed = true;
	L->stage_ms = z->now_ms;
	zab_tracef(z, "new epoch %lld", (long long)L->new_epoch);
	for (int i = 0; i < ZAB_MAX_SERVERS; i++)
		if (L->lh[i].used)
			send_leaderinfo(z, &L->lh[i]);
}

static void maybe_write_current_epoch(struct zab *z)
{
	struct zab_leader *L = &z->L;
	if (!L->want_epoch_write)
		return;
	/* Our history must be durable before we claim the new epoch with it. */
	if (z->last_durable < z->last_logged) {
		z->store.log_flush(z->store.ctx);
		return;
	}
	L->want_epoch_write = false;
	if (zab_save_epoch(z, ZAB_CURRENT_EPOCH, L->new_epoch) != 0)
		return;
	L->epoch_quorum = true;
	L->stage_ms = z->now_ms;
	for (int i = 0; i < ZAB_MAX_SERVERS && !z->dead; i++)
		if (L->lh[i].used && L->lh[i].st == LH_WAIT_EPOCH_QUORUM)
			zab_sync_learner(z, &L->lh[i]);
}

static void try_epoch_quorum(struct zab *z)
{
	struct zab_leader *L = &z->L;
	if (L->epoch_quorum || L->want_epoch_write || !L->epoch_fixed)
		return;
	uint32_t bits = self_bit(z);
	for (int i = 0; i < ZAB_MAX_SERVERS; i++)
		if (L->lh[i].used && L->lh[i].epoch_acked)
			bits |= lh_bit(z, &L->lh[i]);
	if (!zab_is_quorum(z, bits))
		return;
	L->want_epoch_write = true;
	maybe_write_current_epoch(z);
}

static void flush_held(struct zab *z, struct zab_learner_handler *h)
{
	for (size_t i = 0; i < h->n_held; i++)
		zab_send_packet(z, h->conn, ZAB_COMMIT, h->held[i], NULL, -1);
	h->n_held = 0;
}

/* A PING whose reply proves the learner still followed us after every
 * SYNC that had arrived when it was sent: a serving learner answers each
 * PING in order, echoing its zxid. Before establishment PINGs only keep
 * learners between NEWLEADER and UPTODATE alive (a 3.8 Java learner reads
 * and ignores them there; ours answers) and carry zxid 0 (last_proposed
 * is set at establishment), so they are not counted, nor are replies
 * echoing 0. With a full ring of unanswered PINGs the slot keeps the
 * older, unanswered PING's mark, no newer than ours (marks only grow):
 * the reply then confirms less than it could, never more. */
static void send_ping(struct zab *z, struct zab_learner_handler *h)
{
	uint64_t zxid = z->L.last_proposed;
	if (zxid && h->uptodate_sent) {
		if (h->pings_sent - h->ping_replies < ZAB_PING_RING)
			h->ping_mark[h->pings_sent % ZAB_PING_RING] = z->L.mark;
		h->pings_sent++;
	}
	zab_send_packet(z, h->conn, ZAB_PING, zxid, NULL, -1);
}

static void send_uptodate(struct zab *z, struct zab_learner_handler *h)
{
	zab_send_packet(z, h->conn, ZAB_UPTODATE, (uint64_t)-1, NULL, -1);
	h->uptodate_sent = true;
	flush_held(z, h);
}

static void try_establish(struct zab *z)
{
	struct zab_leader *L = &z->L;
	if (L->established || !L->epoch_quorum)
		return;
	uint32_t bits = self_bit(z);
	for (int i = 0; i < ZAB_MAX_SERVERS; i++)
		if (L->lh[i].used && L->lh[i].newleader_acked)
			bits |= lh_bit(z, &L->lh[i]);
	if (!zab_is_quorum(z, bits))
		return;
	L->established = true;
	L->counter = 0;
	L->last_proposed = ZXID(L->new_epoch, 0);
	if (z->committed < L->sync_max)
		z->committed = L->sync_max;
	zab_tracef(z, "ESTABLISHED epoch=%lld zxid=0x%llx", (long long)L->new_epoch,
		   (unsigned long long)L->sync_max);
	for (int i = 0; i < ZAB_MAX_SERVERS; i++)
		if (L->lh[i].used && L->lh[i].st == LH_ACTIVE)
			send_uptodate(z, &L->lh[i]);
}

static void on_info(struct zab *z, uint64_t conn, int type, uint64_t zxid, const uint8_t *d,
		    int32_t len)
{
	struct jute_reader r;
	jute_reader_init(&r, d, len > 0 ? (size_t)len : 0, 0, NULL);
	int64_t sid = jute_get_long(&r);
	bool known = zab_voter_index(z, (uint64_t)sid) >= 0;
	for (int i = 0; i < z->cfg.n_observers; i++)
		known = known || z->cfg.observers[i] == (uint64_t)sid;
	if (r.err || !known || (uint64_t)sid == z->cfg.my_sid) {
		z->env.close(z->env.ctx, conn);
		return;
	}
	struct zab_learner_handler *h = lh_by_sid(z, (uint64_t)sid);
	if (h)
		lh_drop(z, h, "reconnected");
	for (int i = 0; !h && i < ZAB_MAX_SERVERS; i++)
		if (!z->L.lh[i].used)
			h = &z->L.lh[i];
	if (!h) {
		z->env.close(z->env.ctx, conn);
		return;
	}
	h->used = true;
	h->sid = (uint64_t)sid;
	h->conn = conn;
	h->observer = type == ZAB_OBSERVERINFO;
	h->accepted_epoch = (int64_t)ZXID_EPOCH(zxid);
	h->last_heard_ms = z->now_ms;
	h->n_held = 0;
	if (!z->L.epoch_fixed) {
		try_fix_epoch(z);
		return;
	}
	if (h->accepted_epoch > z->L.new_epoch) {
		/* It promised a newer (failed) leader not to follow older epochs and
		 * would refuse our LEADERINFO for ever; Java leaves it out until the
		 * next election. We abdicate, so that the next round's epoch covers
		 * its promise and the whole ensemble can converge. */
		zab_tracef(z, "learner %llu accepted epoch %lld > %lld", (unsigned long long)h->sid,
			   (long long)h->accepted_epoch, (long long)z->L.new_epoch);
		zab_lost(z, "a learner has accepted a newer epoch");
		return;
	}
	send_leaderinfo(z, h);
}

static void on_ackepoch(struct zab *z, struct zab_learner_handler *h, uint64_t zxid,
			const uint8_t *d, int32_t len)
{
	struct zab_leader *L = &z->L;
	if (len < 4) {
		lh_drop(z, h, "ACKEPOCH without epoch");
		return;
	}
	int32_t ce = (int32_t)be32_get(d);
	h->current_epoch = ce;
	h->last_zxid = zxid;
	if (!L->epoch_quorum && !L->want_epoch_write) {
		if (ce != -1 && (ce > L->my_epoch_at_start ||
				 (ce == L->my_epoch_at_start && zxid > L->my_zxid_at_start) )) {
			lh_drop(z, h, "learner more recent than leader");
			return;
		}
		if (ce != -1 && zxid != (uint64_t)-1)
			h->epoch_acked = true;
		h->st = LH_WAIT_EPOCH_QUORUM;
		try_epoch_quorum(z);
		return;
	}
	h->st = LH_WAIT_EPOCH_QUORUM;
	if (L->epoch_quorum)
		zab_sync_learner(z, h);
}

/* ZOOKEEPER-1675: a leader that a quorum has already left (and that has
 * not noticed yet) must not answer a SYNC, or the read after it misses
 * writes that the new leader acknowledged. So a SYNC is answered only once
 * a quorum (us included) has answered a PING or PROPOSAL sent after the
 * SYNC arrived: those answers were sent while their senders still
 * followed us, after the SYNC, so no newer epoch had been established
 * then by a quorum that would intersect theirs. */
static bool sync_confirmed(struct zab *z, const struct zab_sync_wait *w)
{
	if (zab_fault(z, ZAB_FAULT_SYNC_NO_QUORUM))
		return true;
	uint32_t bits = self_bit(z);
	for (int i = 0; i < ZAB_MAX_SERVERS; i++) {
		const struct zab_learner_handler *h = &z->L.lh[i];
		if (h->used && h->st == LH_ACTIVE && h->newleader_acked && h->confirmed_mark >= w->mark)
			bits |= lh_bit(z, h);
	}
	return zab_is_quorum(z, bits);
}

static void leader_complete_syncs(struct zab *z)
{
	struct zab_leader *L = &z->L;
	size_t k = 0;
	for (size_t i = 0; i < L->n_sw; i++) {
		struct zab_sync_wait *w = &L->sw[i];
		if (w->zxid > z->committed || !sync_confirmed(z, w)) {
			L->sw[k++] = *w;
			continue;
		}
		if (w->sid == 0) {
			if (z->env.sync_done)
				z->env.sync_done(z->env.ctx, w->token);
		} else {
			struct zab_learner_handler *h = lh_by_sid(z, w->sid);
			if (h)
				zab_send_packet(z, h->conn, ZAB_SYNC, 0, NULL, -1);
		}
	}
	L->n_sw = k;
}

static void commit_one(struct zab *z, uint64_t zxid)
{
	struct zab_leader *L = &z->L;
	z->committed = zxid;
	L->sync_max = zxid;
	z->n_commits++;
	zab_apply_upto(z, zxid);
	const struct zab_entry *e = zab_log_find(z, zxid);
	for (int i = 0; i < ZAB_MAX_SERVERS; i++) {
		struct zab_learner_handler *h = &L->lh[i];
		if (!h->used || !h->forwarding)
			continue;
		if (h->observer) {
			if (e)
				zab_send_packet(z, h->conn, ZAB_INFORM, zxid, e->data, (int32_t)e->len);
		} else if (!h->uptodate_sent) {
			if (h->n_held == h->cap_held) {
				h->cap_held = h->cap_held ? h->cap_held * 2 : 16;
				h->held = zrealloc(h->held, h->cap_held * sizeof *h->held);
			}
			h->held[h->n_held++] = zxid;
		} else {
			zab_send_packet(z, h->conn, ZAB_COMMIT, zxid, NULL, -1);
		}
	}
	leader_complete_syncs(z);
}

static void try_commit(struct zab *z)
{
	struct zab_leader *L = &z->L;
	size_t done = 0;
	while (done < L->n_out && !z->dead) {
		struct zab_proposal *p = &L->out[done];
		bool ok = zab_is_quorum(z, p->acks);
		if (zab_fault(z, ZAB_FAULT_COMMIT_MINORITY))
			ok = ok || (p->acks & self_bit(z));
		if (!ok)
			break;
		commit_one(z, p->zxid);
		done++;
	}
	if (done) {
		memmove(L->out, L->out + done, (L->n_out - done) * sizeof *L->out);
		L->n_out -= done;
		zab_trim(z);
	}
}

static void on_ack(struct zab *z, struct zab_learner_handler *h, uint64_t zxid)
{
	struct zab_leader *L = &z->L;
	if (h->st == LH_WAIT_NEWLEADER_ACK) {
		h->st = LH_ACTIVE;
		h->newleader_acked = zxid == ZXID(L->new_epoch, 0);
		if (!h->newleader_acked)
			zab_tracef(z, "NEWLEADER ACK from %llu is from a different epoch",
				   (unsigned long long)h->sid);
		if (L->established)
			send_uptodate(z, h);
		else
			try_establish(z);
		return;
	}
	if (h->st != LH_ACTIVE || ZXID_COUNTER(zxid) == 0 || h->observer)
		return;
	for (size_t i = 0; i < L->n_out; i++) {
		if (L->out[i].zxid == zxid) {
			L->out[i].acks |= lh_bit(z, h);
			if (L->out[i].mark > h->confirmed_mark)
				h->confirmed_mark = L->out[i].mark;
			try_commit(z);
			leader_complete_syncs(z);
			return;
		}
	}
}

static void on_ping_reply(struct zab *z, struct zab_learner_handler *h)
{
	if (h->ping_replies >= h->pings_sent)
		return;
	uint64_t m = h->ping_mark[h->ping_replies % ZAB_PING_RING];
	h->ping_replies++;
	if (m > h->confirmed_mark) {
		h->confirmed_mark = m;
		leader_complete_syncs(z);
	}
}

static void on_request(struct zab *z, struct zab_learner_handler *h, const uint8_t *d, int32_t len,
		       const uint8_t *auth, size_t auth_len)
{
	if (!z->L.established || len < 16 || h->st != LH_ACTIVE)
		return;
	int64_t session = (int64_t)be64_get(d);
	int32_t cxid = (int32_t)be32_get(d + 8);
	int32_t type = (int32_t)be32_get(d + 12);
	if (type == ZOP_SYNC) {
		zab_leader_sync(z, h->sid, 0);
		return;
	}
	if (z->env.request)
		z->env.request(z->env.ctx, h->sid, session, cxid, type, d + 16, (size_t)len - 16, auth,
			       auth_len);
}

void zab_leader_on_packet(struct zab *z, uint64_t conn, uint64_t from, const uint8_t *p, size_t n)
{
	int type;
	uint64_t zxid;
	const uint8_t *d;
	int32_t len;
	size_t used;
	(void)from;
	if (zab_decode_packet(p, n, &type, &zxid, &d, &len, &used) != 0) {
		z->env.close(z->env.ctx, conn);
		struct zab_learner_handler *bad = lh_by_conn(z, conn);
		if (bad)
			lh_drop(z, bad, "malformed packet");
		return;
	}
	if (type == ZAB_FOLLOWERINFO || type == ZAB_OBSERVERINFO) {
		on_info(z, conn, type, zxid, d, len);
		return;
	}
	struct zab_learner_handler *h = lh_by_conn(z, conn);
	if (!h)
		return;
	h->last_heard_ms = z->now_ms;
	switch (type) {
	case ZAB_ACKEPOCH:
		if (h->st == LH_WAIT_ACKEPOCH)
			on_ackepoch(z, h, zxid, d, len);
		break;
	case ZAB_ACK:
		on_ack(z, h, zxid);
		break;
	case ZAB_REQUEST: {
		/* the authinfo vector follows the data buffer */
		size_t at = 16 + (len > 0 ? (size_t)len : 0);
		on_request(z, h, d, len, p + at, used > at ? used - at : 0);
		break;
	}
	case ZAB_PING:
		if (zxid)
			on_ping_reply(z, h);
		if (len > 0 && z->env.touch && !h->observer)
			z->env.touch(z->env.ctx, h->sid, d, (size_t)len);
		break;
	case ZAB_REVALIDATE:
		if (len >= 12 && h->st == LH_ACTIVE && z->env.revalidate) {
			int64_t session = (int64_t)be64_get(d);
			bool valid = z->env.revalidate(z->env.ctx, h->sid, session, (int32_t)be32_get(d + 8));
			uint8_t r[9];
			memcpy(r, d, 8);
			r[8] = valid;
			zab_send_packet(z, h->conn, ZAB_REVALIDATE, zxid, r, 9);
		}
		break;
	default:
		break;
	}
}

void zab_leader_on_disconnect(struct zab *z, uint64_t conn)
{
	struct zab_learner_handler *h = lh_by_conn(z, conn);
	if (h)
		lh_drop(z, h, "disconnected");
}

void zab_leader_on_persisted(struct zab *z)
{
	struct zab_leader *L = &z->L;
	maybe_write_current_epoch(z);
	for (size_t i = 0; i < L->n_out; i++)
		if (L->out[i].zxid <= z->last_durable)
			L->out[i].acks |= self_bit(z);
	try_commit(z);
}

int zab_leader_submit(struct zab *z, const uint8_t *txn, size_t n, uint64_t *zxid_out)
{
	struct zab_leader *L = &z->L;
	if (z->role != ZAB_LEADING || !L->established || z->dead || L->counter == 0xffffffffu)
		return -1;
	uint64_t zxid = ZXID(L->new_epoch, L->counter + 1);
	if (zab_log_txn(z, zxid, txn, n) != 0)
		return -1;
	L->counter++;
	L->last_proposed = zxid;
	if (L->n_out == L->cap_out) {
		L->cap_out = L->cap_out ? L->cap_out * 2 : 64;
		L->out = zrealloc(L->out, L->cap_out * sizeof *L->out);
	}
	L->out[L->n_out++] = (struct zab_proposal){.zxid = zxid, .mark = L->mark,
		.acks = zab_fault(z, ZAB_FAULT_ACK_BEFORE_LOG) ? self_bit(z) : 0};
	for (int i = 0; i < ZAB_MAX_SERVERS; i++) {
		struct zab_learner_handler *h = &L->lh[i];
		if (h->used && h->forwarding && !h->observer)
			zab_send_packet(z, h->conn, ZAB_PROPOSAL, zxid, txn, (int32_t)n);
	}
	z->store.log_flush(z->store.ctx);
	if (zxid_out)
		*zxid_out = zxid;
	try_commit(z);
	return 0;
}

void zab_leader_sync(struct zab *z, uint64_t sid, uint64_t token)
{
	struct zab_leader *L = &z->L;
	if (L->n_sw == L->cap_sw) {
		L->cap_sw = L->cap_sw ? L->cap_sw * 2 : 16;
		L->sw = zrealloc(L->sw, L->cap_sw * sizeof *L->sw);
	}
	L->sw[L->n_sw++] = (struct zab_sync_wait){
		.zxid = L->n_out ? L->last_proposed : z->committed, .mark = ++L->mark, .sid = sid,
		.token = token};
	/* Ask the followers now rather than wait for the next PING round. */
	for (int i = 0; i < ZAB_MAX_SERVERS && !zab_fault(z, ZAB_FAULT_SYNC_NO_QUORUM); i++) {
		struct zab_learner_handler *h = &L->lh[i];
		if (h->used && !h->observer && h->st == LH_ACTIVE && h->uptodate_sent)
			send_ping(z, h);
	}
	leader_complete_syncs(z);
}

static void leader_check_quorum(struct zab *z)
{
	struct zab_leader *L = &z->L;
	uint64_t sync_ms = (uint64_t)z->cfg.sync_limit * z->cfg.tick_ms;
	uint64_t init_ms = (uint64_t)z->cfg.init_limit * z->cfg.tick_ms;
	uint32_t bits = self_bit(z);
	for (int i = 0; i < ZAB_MAX_SERVERS; i++) {
		struct zab_learner_handler *h = &L->lh[i];
		if (!h->used)
			continue;
		uint64_t limit = h->st == LH_ACTIVE ? sync_ms : init_ms;
		if (z->now_ms > h->last_heard_ms + limit) {
			lh_drop(z, h, "timeout");
			continue;
		}
		if (h->st == LH_ACTIVE && h->newleader_acked)
			bits |= lh_bit(z, h);
	}
	if (!L->established) {
		if (z->now_ms > L->stage_ms + init_ms)
			zab_lost(z, "initLimit passed before the leader was established");
		return;
	}
	if (!zab_is_quorum(z, bits))
		zab_lost(z, "lost the quorum of synced followers");
}

void zab_leader_on_tick(struct zab *z)
{
	struct zab_leader *L = &z->L;
	if (z->now_ms < L->next_ping_ms)
		return;
	L->next_ping_ms = z->now_ms + z->cfg.tick_ms / 2;
	for (int i = 0; i < ZAB_MAX_SERVERS; i++) {
		struct zab_learner_handler *h = &L->lh[i];
		if (h->used && h->st == LH_ACTIVE)
			send_ping(z, h);
	}
	leader_check_quorum(z);
}
