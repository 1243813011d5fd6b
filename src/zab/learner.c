/* learner: the FOLLOWING and OBSERVING roles (Learner.java, Follower.java,
 * Observer.java), with the sync ordering of the fixed ZooKeeper (3.9.3).
 *
 *  zab_follow() ── FOLLOWERINFO/OBSERVERINFO{acceptedEpoch<<32} ─▶
 *  [WAIT_LEADERINFO] ── LEADERINFO{e}: e > acceptedEpoch → persist
 *     │                 acceptedEpoch = e, ACKEPOCH{lastZxid, currentEpoch};
 *     │                 e == acceptedEpoch → ACKEPOCH{.., -1}; e < → LOOKING
 *     ▼
 *  [WAIT_SYNC] ── DIFF | TRUNC (log and newer snapshots dropped durably,
 *     │           state reloaded; below our oldest snapshot: nothing
 *     │           changed, back to LOOKING, the leader sends SNAP next) |
 *     │           SNAP (state restored and installed durably at once)
 *     ▼
 *  [SYNCING] ── PROPOSAL: logged (hole → refuse, LOOKING); COMMIT: applied
 *     │ NEWLEADER
 *     ▼
 *  [WAIT_DURABLE] ── every txn received before NEWLEADER durable ─▶
 *     │              persist currentEpoch = e, then ACK{e<<32}
 *     ▼
 *  [WAIT_UPTODATE] ── UPTODATE ─▶ everything applied is committed, ACK{e<<32}
 *     ▼
 *  [SERVING] PROPOSAL → log → (durable) → ACK in order; COMMIT → apply;
 *            PING → PING reply echoing its zxid (every one, in order: the
 *            leader counts them to confirm its leadership for SYNC);
 *            SYNC → oldest client sync done.
 *
 * Why this order (ZOOKEEPER-4394/-4643/-4646/-4685/-4785): if NEWLEADER is
 * ACKed before the sync txns are on disk, or currentEpoch is written before
 * them, a crash leaves a server whose epoch says "I have the new leader's
 * history" while its disk does not; it can then win an election on that
 * epoch and TRUNCate the txns away on everyone else. Here both the ACK and
 * the epoch wait for the fsync.
 *
 * A learner ACKs only txns of the new epoch (sync-phase txns of older
 * epochs are committed by the NEWLEADER quorum), and only after its
 * NEWLEADER ACK, which a Java leader requires to be the first packet after
 * NEWLEADER. Observers never ACK proposals. */
#include "zab/zab.h"

#include <string.h>

#include "base/zalloc.h"
#include "jute/jute.h"
#include "jute/proto.h"
#include "jute/records.h"

void zab_learner_stop(struct zab *z)
{
	if (z->F.conn)
		z->env.close(z->env.ctx, z->F.conn);
	z->F.conn = 0;
	z->F.n_syncs = 0;
}

static void learner_connect(struct zab *z);

void zab_follow(struct zab *z, uint64_t leader_sid, bool observer)
{
	struct zab_learner *F = &z->F;
	uint64_t *syncs = F->syncs;
	size_t cap = F->cap_syncs;
	memset(F, 0, sizeof *F);
	F->syncs = syncs;
	F->cap_syncs = cap;
	z->role = observer ? ZAB_OBSERVING : ZAB_FOLLOWING;
	F->leader_sid = leader_sid;
	F->st = LR_WAIT_LEADERINFO;
	F->last_heard_ms = z->now_ms;
	zab_tracef(z, "%s %llu", observer ? "OBSERVING" : "FOLLOWING", (unsigned long long)leader_sid);
	learner_connect(z);
}

/* Connect and register; retried every 100 ms while the leader is not yet
 * listening, within initLimit (Learner.connectToLeader). */
static void learner_connect(struct zab *z)
{
	struct zab_learner *F = &z->F;
	bool observer = z->role == ZAB_OBSERVING;
	F->conn = z->env.connect(z->env.ctx, F->leader_sid);
	struct buf b;
	buf_init(&b);
	struct jr_learner_info li = {.serverid = (int64_t)z->cfg.my_sid,
				     .protocol_version = ZAB_PROTOCOL_VERSION, .config_version = 0};
	jr_learner_info_encode(&b, &li);
	zab_send_packet(z, F->conn, observer ? ZAB_OBSERVERINFO : ZAB_FOLLOWERINFO,
			ZXID(z->accepted_epoch, 0), b.data, (int32_t)b.len);
	buf_free(&b);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static void on_leaderinfo(struct zab *z, uint64_t zxid, const uint8_t *d, int32_t len)
{
	struct zab_learner *F = &z->F;
	int64_t e = (int64_t)ZXID_EPOCH(zxid);
	uint8_t ack[4];
	if (len < 4) {
		zab_lost(z, "LEADERINFO without protocol version");
		return;
	}
	if (e > z->accepted_epoch) {
		if (zab_save_epoch(z, ZAB_ACCEPTED_EPOCH, e) != 0)
			return;
		put_be32(ack, (uint32_t)(int32_t)z->current_epoch);
	} else if (e == z->accepted_epoch) {
		put_be32(ack, (uint32_t)-1);
	} else {
		zab_lost(z, "leader's epoch is less than our accepted epoch");
		return;
	}
	F->new_epoch = e;
	F->last_acked = ZXID(e, 0);
	F->st = LR_WAIT_SYNC;
	zab_send_packet(z, F->conn, ZAB_ACKEPOCH, z->last_logged, ack, 4);
}

static void on_snap(struct zab *z, uint64_t zxid, const uint8_t *stream, size_t n)
{
	/* The leader's whole state becomes ours, durably, before we go on: a
	 * SNAP held only in memory is ZOOKEEPER-3642. */
	if (z->env.restore(z->env.ctx, zxid, stream, n) != 0) {
		zab_lost(z, "bad snapshot stream");
		return;
	}
	if (z->store.snap_install(z->store.ctx, zxid, stream, n) != 0) {
		z->dead = true;
		z->env.fatal(z->env.ctx, "cannot install snapshot");
		return;
	}
	for (size_t i = 0; i < z->log.n; i++)
		zfree(z->log.e[i].data);
	z->log.n = 0;
	z->last_logged = z->last_applied = z->last_durable = z->log_base = zxid;
}

static void on_sync_packet(struct zab *z, int type, uint64_t zxid, const uint8_t *rest, size_t n)
{
	struct zab_learner *F = &z->F;
	switch (type) {
	case ZAB_DIFF:
		F->mode = ZAB_SYNC_DIFF;
		break;
	case ZAB_TRUNC: {
		F->mode = ZAB_SYNC_TRUNC;
		int rc = z->store.log_truncate(z->store.ctx, zxid);
		if (rc > 0) {
			/* Our oldest snapshot is newer than the TRUNC point (an
			 * installed SNAP that held txns the new leader lacks, or a
			 * purged log): nothing on disk was changed. Leave the sync;
			 * the leader sees us go before the NEWLEADER ACK and sends
			 * SNAP next time (a 3.8 Java learner exits here instead). */
			zab_tracef(z, "cannot truncate to 0x%llx: no snapshot at or below it",
				   (unsigned long long)zxid);
			z->n_trunc_refused++;
			zab_lost(z, "TRUNC below our oldest snapshot");
			return;
		}
		if (rc != 0) {
			z->dead = true;
			z->env.fatal(z->env.ctx, "not able to truncate the log");
			return;
		}
		if (zab_reload(z) != 0)
			return;
		break;
	}
	case ZAB_SNAP:
		F->mode = ZAB_SYNC_SNAP;
		on_snap(z, zxid, rest, n);
		break;
	default:
		zab_lost(z, "expected DIFF, TRUNC or SNAP");
		return;
	}
	zab_tracef(z, "synced by %s 0x%llx", type == ZAB_DIFF ? "DIFF" : type == ZAB_TRUNC ? "TRUNC" : "SNAP",
		   (unsigned long long)zxid);
	F->st = LR_SYNCING;
}

/* Acks for new-epoch txns that are durable, in zxid order. */
static void send_acks(struct zab *z)
{
	struct zab_learner *F = &z->F;
	if (z->role != ZAB_FOLLOWING || !F->newleader_acked)
		return;
	uint64_t upto = zab_fault(z, ZAB_FAULT_ACK_BEFORE_LOG) ? z->last_logged : z->last_durable;
	size_t i = zab_log_lower_bound(z, F->last_acked + 1);
	for (; i < z->log.n && z->log.e[i].zxid <= upto; i++) {
		uint64_t zx = z->log.e[i].zxid;
		F->last_acked = zx;
		if ((int64_t)ZXID_EPOCH(zx) == F->new_epoch)
			zab_send_packet(z, F->conn, ZAB_ACK, zx, NULL, -1);
	}
}

/* ZOOKEEPER-4925: a stream with a hole would leave a history that no
 * leader ever had. */
static bool follows(uint64_t last, uint64_t zxid)
{
	if (ZXID_EPOCH(zxid) == ZXID_EPOCH(last))
		return ZXID_COUNTER(zxid) == ZXID_COUNTER(last) + 1;
	return ZXID_EPOCH(zxid) > ZXID_EPOCH(last) && ZXID_COUNTER(zxid) == 1;
}

static void mark_committed(struct zab *z, uint64_t zxid)
{
	/* A sync-phase COMMIT of an older epoch commits nothing by itself: that
	 * history is committed by the NEWLEADER quorum (seen at UPTODATE). */
	if ((z->F.st == LR_SERVING || (int64_t)ZXID_EPOCH(zxid) == z->F.new_epoch) &&
	    zxid > z->committed)
		z->committed = zxid;
}

static int on_proposal(struct zab *z, uint64_t zxid, const uint8_t *d, int32_t len)
{
	if (zxid <= z->last_logged) {
		if (zab_log_find(z, zxid))
			return 0;
		zab_lost(z, "stale proposal");
		return -1;
	}
	if (!follows(z->last_logged, zxid)) {
		zab_tracef(z, "refuse proposal 0x%llx after 0x%llx (hole)", (unsigned long long)zxid,
			   (unsigned long long)z->last_logged);
		zab_lost(z, "proposal stream has a hole");
		return -1;
	}
	if (zab_log_txn(z, zxid, d, len > 0 ? (size_t)len : 0) != 0)
		return -1;
	z->store.log_flush(z->store.ctx);
	return 0;
}

static void on_commit(struct zab *z, uint64_t zxid)
{
	if (!zab_log_find(z, zxid)) {
		if (zxid > z->last_applied)
			zab_lost(z, "COMMIT of a txn we do not have");
		return;
	}
	zab_apply_upto(z, zxid);
	mark_committed(z, zxid);
	zab_trim(z);
}

static void newleader_continue(struct zab *z)
{
	struct zab_learner *F = &z->F;
	if (F->st != LR_WAIT_DURABLE)
		return;
	if (z->last_durable < F->newleader_need && !zab_fault(z, ZAB_FAULT_EARLY_NEWLEADER_ACK))
		return;
	if (zab_save_epoch(z, ZAB_CURRENT_EPOCH, F->new_epoch) != 0)
		return;
	zab_send_packet(z, F->conn, ZAB_ACK, ZXID(F->new_epoch, 0), NULL, -1);
	F->newleader_acked = true;
	F->st = LR_WAIT_UPTODATE;
	send_acks(z);
}

static void on_uptodate(struct zab *z)
{
	struct zab_learner *F = &z->F;
	if (z->last_applied > z->committed)
		z->committed = z->last_applied;
	F->st = LR_SERVING;
	zab_send_packet(z, F->conn, ZAB_ACK, ZXID(F->new_epoch, 0), NULL, -1);
	zab_tracef(z, "UPTODATE epoch=%lld zxid=0x%llx", (long long)F->new_epoch,
		   (unsigned long long)z->last_applied);
	send_acks(z);
}

static void on_sync_done(struct zab *z)
{
	struct zab_learner *F = &z->F;
	if (!F->n_syncs)
		return;
	uint64_t token = F->syncs[0];
	memmove(F->syncs, F->syncs + 1, (F->n_syncs - 1) * sizeof *F->syncs);
	F->n_syncs--;
	if (z->env.sync_done)
		z->env.sync_done(z->env.ctx, token);
}

static void on_broadcast(struct zab *z, int type, uint64_t zxid, const uint8_t *d, int32_t len)
{
	struct zab_learner *F = &z->F;
	switch (type) {
	case ZAB_PROPOSAL:
		if (on_proposal(z, zxid, d, len) == 0)
			send_acks(z);
		break;
	case ZAB_COMMIT:
		on_commit(z, zxid);
		break;
	case ZAB_INFORM:
		if (zxid > z->last_logged && on_proposal(z, zxid, d, len) == 0)
			on_commit(z, zxid);
		break;
	case ZAB_NEWLEADER:
		if (F->st != LR_SYNCING || (int64_t)ZXID_EPOCH(zxid) != F->new_epoch) {
			zab_lost(z, "unexpected NEWLEADER");
			return;
		}
		F->st = LR_WAIT_DURABLE;
		F->newleader_need = z->last_logged;
		if (z->last_durable < z->last_logged)
			z->store.log_flush(z->store.ctx);
		newleader_continue(z);
		break;
	case ZAB_UPTODATE:
		if (F->st != LR_WAIT_UPTODATE) {
			zab_lost(z, "unexpected UPTODATE");
			return;
		}
		on_uptodate(z);
		break;
	case ZAB_PING: {
		struct buf touches;
		buf_init(&touches);
		if (z->env.ping_data)
			z->env.ping_data(z->env.ctx, &touches);
		uint8_t none = 0;
		zab_send_packet(z, F->conn, ZAB_PING, zxid, touches.len ? touches.data : &none,
				(int32_t)touches.len);
		buf_free(&touches);
		break;
	}
	case ZAB_SYNC:
		on_sync_done(z);
		break;
	case ZAB_REVALIDATE:
		/* {long session, boolean valid} (Learner.revalidate) */
		if (len >= 9 && z->env.revalidated)
			z->env.revalidated(z->env.ctx, (int64_t)be64_get(d), d[8] != 0);
		break;
	default:
		break;
	}
}

void zab_learner_on_packet(struct zab *z, uint64_t conn, const uint8_t *p, size_t n)
{
	struct zab_learner *F = &z->F;
	int type;
	uint64_t zxid;
	const uint8_t *d;
	int32_t len;
	size_t used;
	if (conn != F->conn)
		return;
	if (zab_decode_packet(p, n, &type, &zxid, &d, &len, &used) != 0) {
		zab_lost(z, "malformed packet from the leader");
		return;
	}
	F->last_heard_ms = z->now_ms;
	if (F->st == LR_WAIT_LEADERINFO) {
		if (type == ZAB_LEADERINFO)
			on_leaderinfo(z, zxid, d, len);
		else
			zab_lost(z, "expected LEADERINFO");
		return;
	}
	if (F->st == LR_WAIT_SYNC) {
		on_sync_packet(z, type, zxid, p + used, n - used);
		return;
	}
	on_broadcast(z, type, zxid, d, len);
}

void zab_learner_on_disconnect(struct zab *z, uint64_t conn)
{
	struct zab_learner *F = &z->F;
	if (conn != F->conn)
		return;
	if (F->st == LR_WAIT_LEADERINFO) {
		F->conn = 0;  /* the leader is not listening yet: retry */
		F->retry_at_ms = z->now_ms + 100;
		return;
	}
	zab_lost(z, "connection to the leader closed");
}

void zab_learner_on_persisted(struct zab *z)
{
	newleader_continue(z);
	send_acks(z);
}

void zab_learner_on_tick(struct zab *z)
{
	struct zab_learner *F = &z->F;
	if (!F->conn && z->now_ms >= F->retry_at_ms)
		learner_connect(z);
	uint32_t ticks = F->st < LR_WAIT_UPTODATE ? z->cfg.init_limit : z->cfg.sync_limit;
	if (z->now_ms > F->last_heard_ms + (uint64_t)ticks * z->cfg.tick_ms)
		zab_lost(z, "no word from the leader");
}

int zab_learner_forward(struct zab *z, int64_t session, int32_t cxid, int32_t type,
			const uint8_t *body, size_t n, const uint8_t *auth, size_t auth_len)
{
	struct zab_learner *F = &z->F;
	if (F->st != LR_SERVING || z->dead)
		return -1;
	struct buf b;
	buf_init(&b);
	struct jr_quorum_request_header h = {.session_id = session, .cxid = cxid, .type = type};
	jr_quorum_request_header_encode(&b, &h);
	buf_put(&b, body, n);
	/* Java's leader checks ACLs against these ids (a null list fails its
	 * checks with MarshallingError), so the packet is built here */
	struct buf pk;
	buf_init(&pk);
	jute_put_int(&pk, ZAB_REQUEST);
	jute_put_long(&pk, -1);
	jute_put_buffer(&pk, (struct jute_bytes){b.data, (int32_t)b.len});
	if (auth && auth_len >= 4)
		buf_put(&pk, auth, auth_len);
	else
		jute_put_int(&pk, -1);
	z->env.send(z->env.ctx, F->conn, pk.data, pk.len);
	buf_free(&pk);
	buf_free(&b);
	return 0;
}

int zab_learner_revalidate(struct zab *z, int64_t session, int32_t timeout_ms)
{
	struct zab_learner *F = &z->F;
	if (F->st != LR_SERVING || z->dead)
		return -1;
	uint8_t d[12];
	for (int i = 0; i < 8; i++)
		d[i] = (uint8_t)((uint64_t)session >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		d[8 + i] = (uint8_t)((uint32_t)timeout_ms >> (24 - 8 * i));
	zab_send_packet(z, F->conn, ZAB_REVALIDATE, (uint64_t)-1, d, 12);
	return 0;
}

int zab_learner_sync(struct zab *z, uint64_t token, const struct zab_sync_origin *o)
{
	struct zab_learner *F = &z->F;
	if (F->st != LR_SERVING || z->dead)
		return -1;
	if (F->n_syncs == F->cap_syncs) {
		F->cap_syncs = F->cap_syncs ? F->cap_syncs * 2 : 16;
		F->syncs = zrealloc(F->syncs, F->cap_syncs * sizeof *F->syncs);
	}
	F->syncs[F->n_syncs++] = token;
	if (o)
		return zab_learner_forward(z, o->session, o->cxid, ZOP_SYNC, o->body, o->n, o->auth,
					   o->auth_len);
	struct buf body;
	buf_init(&body);
	jute_put_cstr(&body, "/");
	int rc = zab_learner_forward(z, 0, 0, ZOP_SYNC, body.data, body.len, NULL, 0);
	buf_free(&body);
	return rc;
}
