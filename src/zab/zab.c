/* zab.c: state shared by every role — the epochs, the in-memory log window,
 * apply, load/reload from the store, packet framing, quorum counting.
 *
 * Reload. Every return to LOOKING rebuilds the in-memory state from the
 * store, as ZooKeeper does when it reloads its database: the newest
 * snapshot, then every log entry after it (committed or not). So the vote a
 * server sends is always the history it actually holds on disk, never a
 * state that exists only in memory (the root of ZOOKEEPER-3642: a learner
 * that kept a SNAP only in memory and then voted with it).
 *
 * Epoch files at load (QuorumPeer.loadDataBase): a missing file takes the
 * epoch of the last zxid. If the log holds txns of an epoch newer than
 * currentEpoch, those txns were received from that epoch's leader after
 * its whole sync stream (the quorum channel is FIFO and the log a durable
 * prefix), so the server does hold that leader's initial history and we
 * adopt the epoch, where ZooKeeper would need currentEpoch.tmp. An
 * acceptedEpoch below currentEpoch is corrupt state: fatal. */
#include "zab/zab.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/zalloc.h"
#include "base/zassert.h"
#include "jute/jute.h"
#include "jute/records.h"

const char *zab_packet_name(int type)
{
	static const char *names[] = {
		"?", "REQUEST", "PROPOSAL", "ACK", "COMMIT", "PING", "REVALIDATE", "SYNC",
		"INFORM", "COMMITANDACTIVATE", "NEWLEADER", "FOLLOWERINFO", "UPTODATE", "DIFF",
		"TRUNC", "SNAP", "OBSERVERINFO", "LEADERINFO", "ACKEPOCH", "INFORMANDACTIVATE",
	};
	return type > 0 && type < (int)(sizeof names / sizeof names[0]) ? names[type] : "?";
}

void zab_init(struct zab *z, const struct zab_config *cfg, const struct zab_env *env,
	      const struct zab_store *store)
{
	memset(z, 0, sizeof *z);
	z->cfg = *cfg;
	z->env = *env;
	z->store = *store;
	z->accepted_epoch = -1;
	z->current_epoch = -1;
}

static void log_clear(struct zab_log *l)
{
	for (size_t i = 0; i < l->n; i++)
		zfree(l->e[i].data);
	l->n = 0;
}

void zab_free(struct zab *z)
{
	log_clear(&z->log);
	zfree(z->log.e);
	for (int i = 0; i < ZAB_MAX_SERVERS; i++)
		zfree(z->L.lh[i].held);
	zfree(z->L.out);
	zfree(z->L.sw);
	zfree(z->F.syncs);
	memset(&z->log, 0, sizeof z->log);
}

bool zab_fault(const struct zab *z, enum zab_fault f)
{
#ifdef ZABD_TEST_FAULTS
	return (z->cfg.faults & (unsigned)f) != 0;
#else
	(void)z; (void)f;
	return false;
#endif
}

int zab_voter_index(const struct zab *z, uint64_t sid)
{
	for (int i = 0; i < z->cfg.n_voters; i++)
		if (z->cfg.voters[i] == sid)
			return i;
	return -1;
}

bool zab_is_quorum(const struct zab *z, uint32_t bits)
{
	return __builtin_popcount(bits) > z->cfg.n_voters / 2;
}

size_t zab_log_lower_bound(const struct zab *z, uint64_t zxid)
{
	size_t lo = 0, hi = z->log.n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (z->log.e[mid].zxid < zxid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct zab_entry *zab_log_find(const struct zab *z, uint64_t zxid)
{
	size_t i = zab_log_lower_bound(z, zxid);
	return i < z->log.n && z->log.e[i].zxid == zxid ? &z->log.e[i] : NULL;
}

static void log_push(struct zab *z, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct zab_log *l = &z->log;
	zassert(l->n == 0 || l->e[l->n - 1].zxid < zxid);
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->e = zrealloc(l->e, l->cap * sizeof *l->e);
	}
	uint8_t *copy = zmalloc(n ? n : 1);
	if (n)
		memcpy(copy, p, n);
	l->e[l->n++] = (struct zab_entry){.zxid = zxid, .data = copy, .len = (uint32_t)n};
}

int zab_log_txn(struct zab *z, uint64_t zxid, const uint8_t *p, size_t n)
{
	zassert(zxid > z->last_logged);
	if (z->store.log_append(z->store.ctx, zxid, p, n) != 0) {
		z->dead = true;
		z->env.fatal(z->env.ctx, "txn log append failed");
		return -1;
	}
	log_push(z, zxid, p, n);
	z->last_logged = zxid;
	z->n_proposals++;
	return 0;
}

static void maybe_snapshot(struct zab *z)
{
	if (!z->cfg.snap_count || ++z->applied_since_snap < z->cfg.snap_count)
		return;
	z->applied_since_snap = 0;
	struct buf b;
	buf_init(&b);
	z->env.snapshot(z->env.ctx, &b);
	/* A failed periodic snapshot is not fatal: the log still has it all. */
	(void)z->store.snap_save(z->store.ctx, z->last_applied, b.data, b.len);
	buf_free(&b);
}

void zab_apply_upto(struct zab *z, uint64_t zxid)
{
	size_t i = zab_log_lower_bound(z, z->last_applied + 1);
	for (; i < z->log.n && z->log.e[i].zxid <= zxid; i++) {
		struct zab_entry *e = &z->log.e[i];
		z->env.apply(z->env.ctx, e->zxid, e->data, e->len);
		z->last_applied = e->zxid;
		maybe_snapshot(z);
		if (z->dead)
			return;
	}
}

/* Keep commit_log_count committed txns (the leader's DIFF window) and
 * everything not yet committed or applied. */
void zab_trim(struct zab *z)
{
	size_t ncommitted = zab_log_lower_bound(z, z->committed + 1);
	size_t keep = z->cfg.commit_log_count;
	size_t applied = zab_log_lower_bound(z, z->last_applied + 1);
	if (ncommitted > applied)
		ncommitted = applied;
	if (ncommitted <= keep + keep / 2 + 8)
		return;  /* trim in batches */
	size_t drop = ncommitted - keep;
	z->log_base = z->log.e[drop - 1].zxid;
	for (size_t i = 0; i < drop; i++)
		zfree(z->log.e[i].data);
	memmove(z->log.e, z->log.e + drop, (z->log.n - drop) * sizeof *z->log.e);
	z->log.n -= drop;
}

struct reload_ctx {
	struct zab *z;
	int err;
};

static void reload_snap(void *arg, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct reload_ctx *rc = arg;
	if (rc->z->env.restore(rc->z->env.ctx, zxid, p, n) != 0)
		rc->err = -1;
	rc->z->last_applied = rc->z->last_logged = rc->z->log_base = zxid;
}

static void reload_entry(void *arg, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct reload_ctx *rc = arg;
	struct zab *z = rc->z;
	if (zxid <= z->last_logged)
		return;
	log_push(z, zxid, p, n);
	z->last_logged = zxid;
	z->env.apply(z->env.ctx, zxid, p, n);
	z->last_applied = zxid;
}

int zab_save_epoch(struct zab *z, enum zab_epoch_file which, int64_t epoch)
{
	if (z->store.epoch_save(z->store.ctx, which, (uint64_t)epoch) != 0) {
		z->dead = true;
		z->env.fatal(z->env.ctx, which == ZAB_ACCEPTED_EPOCH ? "cannot write acceptedEpoch"
								     : "cannot write currentEpoch");
		return -1;
	}
	if (which == ZAB_ACCEPTED_EPOCH)
		z->accepted_epoch = epoch;
	else
		z->current_epoch = epoch;
	return 0;
}

static int reload_epochs(struct zab *z, int64_t acc, int64_t cur)
{
	int64_t log_epoch = (int64_t)ZXID_EPOCH(z->last_logged);
	if (cur < 0 || log_epoch > cur) {
		if (zab_save_epoch(z, ZAB_CURRENT_EPOCH, cur < log_epoch ? log_epoch : cur) != 0)
			return -1;
		cur = z->current_epoch;
	}
	if (acc < 0) {
		if (zab_save_epoch(z, ZAB_ACCEPTED_EPOCH, cur) != 0)
			return -1;
		acc = cur;
	}
	if (acc < cur) {
		z->dead = true;
		z->env.fatal(z->env.ctx, "acceptedEpoch is less than currentEpoch");
		return -1;
	}
	z->accepted_epoch = acc;
	z->current_epoch = cur;
	return 0;
}

int zab_reload(struct zab *z)
{
	log_clear(&z->log);
	z->last_logged = z->last_applied = z->log_base = 0;
	struct reload_ctx rc = {.z = z};
	int64_t acc = -1, cur = -1;
	uint64_t durable = 0;
	if (z->store.load(z->store.ctx, &rc, reload_snap, reload_entry, &acc, &cur, &durable) != 0 ||
	    rc.err) {
		z->dead = true;
		z->env.fatal(z->env.ctx, "cannot load the database");
		return -1;
	}
	z->last_durable = durable;
	if (z->last_durable < z->last_logged)
		z->store.log_flush(z->store.ctx);
	z->applied_since_snap = 0;
	return reload_epochs(z, acc, cur);
}

void zab_send_packet(struct zab *z, uint64_t conn, int type, uint64_t zxid,
		     const uint8_t *data, int32_t len)
{
	struct buf b;
	buf_init(&b);
	struct jr_quorum_packet qp = {
		.type = type, .zxid = (int64_t)zxid,
		.data = {data, len},
		.authinfo = {-1, NULL},
	};
	jr_quorum_packet_encode(&b, &qp);
	z->env.send(z->env.ctx, conn, b.data, b.len);
	buf_free(&b);
}

int zab_decode_packet(const uint8_t *p, size_t n, int *type, uint64_t *zxid,
		      const uint8_t **data, int32_t *len, size_t *used)
{
	struct jute_reader r;
	struct arena a;
	arena_init(&a);
	jute_reader_init(&r, p, n, 2097150, &a);
	struct jr_quorum_packet qp;
	int rc = jr_quorum_packet_decode(&r, &qp);
	arena_free(&a);
	if (rc != 0)
		return -1;
	*type = qp.type;
	*zxid = (uint64_t)qp.zxid;
	*data = qp.data.data;
	*len = qp.data.len;
	*used = r.pos;
	return 0;
}

void zab_lost(struct zab *z, const char *why)
{
	if (z->on_lost)
		z->on_lost(z->lost_arg, why);
}

void zab_tracef(struct zab *z, const char *fmt, ...)
{
	if (!z->env.trace)
		return;
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	z->env.trace(z->env.ctx, line);
}
