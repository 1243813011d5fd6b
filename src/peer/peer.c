/* peer: glue between the election and the replication roles.
 *
 * Role changes never happen inside a zab callback: zab_lost() only records
 * the reason, and the entry point that was running moves to LOOKING when it
 * returns (after_event). That keeps every zab function free to finish its
 * work on a consistent role state. */
#include "peer/peer.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"

static void fle_send(void *ctx, uint64_t to, const struct fle_notification *n)
{
	struct peer *p = ctx;
	struct buf b;
	buf_init(&b);
	fle_notification_encode(&b, n);
	p->z.env.send_vote(p->z.env.ctx, to, b.data, b.len);
	buf_free(&b);
}

static void stop_role(struct peer *p)
{
	if (p->z.role == ZAB_LEADING)
		zab_leader_stop(&p->z);
	else if (p->z.role == ZAB_FOLLOWING || p->z.role == ZAB_OBSERVING)
		zab_learner_stop(&p->z);
	p->z.role = ZAB_NONE;
}

static void fle_decided(void *ctx, int32_t state, const struct fle_vote *v)
{
	struct peer *p = ctx;
	p->state = state;
	p->leader = (uint64_t)v->leader;
	p->n_elections++;
	p->vote_updated = false;
	if (state == FLE_LEADING)
		zab_lead(&p->z);
	else
		zab_follow(&p->z, (uint64_t)v->leader, state == FLE_OBSERVING);
}

static void on_lost(void *arg, const char *why)
{
	struct peer *p = arg;
	if (p->lost)
		return;
	p->lost = true;
	snprintf(p->lost_why, sizeof p->lost_why, "%s", why);
}

static void go_looking(struct peer *p, uint64_t now_ms)
{
	stop_role(p);
	p->state = FLE_LOOKING;
	p->lost = false;
	if (zab_reload(&p->z) != 0)
		return;
	zab_tracef(&p->z, "LOOKING zxid=0x%llx epoch=%lld", (unsigned long long)p->z.last_logged,
		   (long long)p->z.current_epoch);
	fle_start(&p->fle, (int64_t)p->z.last_logged, p->z.current_epoch, now_ms);
}

/* ZOOKEEPER-1732: once serving, answer LOOKING peers with the new epoch. */
static void update_vote(struct peer *p)
{
	if (p->vote_updated || !peer_is_serving(p))
		return;
	struct fle_vote v = p->fle.current_vote;
	v.peer_epoch = p->z.current_epoch;
	fle_set_current_vote(&p->fle, p->state, &v);
	p->vote_updated = true;
}

static void after_event(struct peer *p, uint64_t now_ms)
{
	for (int i = 0; i < 4 && p->lost && !p->z.dead; i++) {
		zab_tracef(&p->z, "role ended: %s", p->lost_why);
		go_looking(p, now_ms);
	}
	if (!p->z.dead)
		update_vote(p);
}

int peer_init(struct peer *p, const struct peer_config *cfg, const struct zab_env *env,
	      const struct zab_store *store, uint64_t now_ms)
{
	memset(p, 0, sizeof *p);
	p->cfg = *cfg;
	struct zab_config zc = {
		.my_sid = cfg->my_sid, .voters = cfg->voters, .n_voters = cfg->n_voters,
		.observers = cfg->observers, .n_observers = cfg->n_observers,
		.tick_ms = cfg->tick_ms, .init_limit = cfg->init_limit, .sync_limit = cfg->sync_limit,
		.commit_log_count = cfg->commit_log_count, .snap_count = cfg->snap_count,
		.snap_size_factor = cfg->snap_size_factor, .faults = cfg->faults,
		.config_text = (const uint8_t *)cfg->config_text,
		.config_len = cfg->config_text ? (int32_t)strlen(cfg->config_text) : -1,
	};
	zab_init(&p->z, &zc, env, store);
	p->z.on_lost = on_lost;
	p->z.lost_arg = p;
	p->z.now_ms = now_ms;
	bool voter = false;
	for (int i = 0; i < cfg->n_voters; i++)
		voter = voter || cfg->voters[i] == cfg->my_sid;
	struct fle_config fc = {
		.my_sid = cfg->my_sid, .is_voter = voter, .voters = cfg->voters,
		.n_voters = cfg->n_voters, .finalize_wait_ms = 200, .min_notify_ms = 200,
		.max_notify_ms = 60000, .config_text = zc.config_len > 0
			? (struct jute_bytes){zc.config_text, zc.config_len} : (struct jute_bytes){NULL, 0},
	};
	struct fle_out fo = {.ctx = p, .send = fle_send, .decided = fle_decided};
	fle_init(&p->fle, &fc, &fo, 0, 0);
	go_looking(p, now_ms);
	return p->z.dead ? -1 : 0;
}

void peer_free(struct peer *p)
{
	zab_free(&p->z);
}

#define ENTER(p, now)                      \
	do {                               \
		if ((p)->z.dead)           \
			return;            \
		(p)->z.now_ms = (now);     \
	} while (0)

void peer_on_vote(struct peer *p, uint64_t from, const uint8_t *msg, size_t n, uint64_t now_ms)
{
	struct fle_notification nt;
	ENTER(p, now_ms);
	if (fle_notification_decode(msg, n, &nt) != 0)
		return;
	fle_on_notification(&p->fle, from, &nt, now_ms);
	after_event(p, now_ms);
}

void peer_on_packet(struct peer *p, uint64_t conn, uint64_t from, const uint8_t *msg, size_t n,
		    uint64_t now_ms)
{
	ENTER(p, now_ms);
	if (p->z.role == ZAB_LEADING)
		zab_leader_on_packet(&p->z, conn, from, msg, n);
	else if (p->z.role == ZAB_FOLLOWING || p->z.role == ZAB_OBSERVING)
		zab_learner_on_packet(&p->z, conn, msg, n);
	else
		p->z.env.close(p->z.env.ctx, conn);  /* nobody listens on the quorum port */
	after_event(p, now_ms);
}

void peer_on_disconnect(struct peer *p, uint64_t conn, uint64_t now_ms)
{
	ENTER(p, now_ms);
	if (p->z.role == ZAB_LEADING)
		zab_leader_on_disconnect(&p->z, conn);
	else if (p->z.role != ZAB_NONE)
		zab_learner_on_disconnect(&p->z, conn);
	after_event(p, now_ms);
}

void peer_on_persisted(struct peer *p, uint64_t up_to, uint64_t now_ms)
{
	ENTER(p, now_ms);
	if (up_to > p->z.last_durable)
		p->z.last_durable = up_to;
	if (p->z.role == ZAB_LEADING)
		zab_leader_on_persisted(&p->z);
	else if (p->z.role != ZAB_NONE)
		zab_learner_on_persisted(&p->z);
	after_event(p, now_ms);
}

void peer_on_tick(struct peer *p, uint64_t now_ms)
{
	ENTER(p, now_ms);
	if (p->z.role == ZAB_NONE)
		fle_on_tick(&p->fle, now_ms);
	else if (p->z.role == ZAB_LEADING)
		zab_leader_on_tick(&p->z);
	else
		zab_learner_on_tick(&p->z);
	after_event(p, now_ms);
}

int peer_submit(struct peer *p, const uint8_t *txn, size_t n, uint64_t *zxid, uint64_t now_ms)
{
	if (p->z.dead)
		return -1;
	p->z.now_ms = now_ms;
	int rc = zab_leader_submit(&p->z, txn, n, zxid);
	after_event(p, now_ms);
	return rc;
}

int peer_forward(struct peer *p, int64_t session, int32_t cxid, int32_t type,
		 const uint8_t *body, size_t n, const uint8_t *auth, size_t auth_len, uint64_t now_ms)
{
	if (p->z.dead || (p->z.role != ZAB_FOLLOWING && p->z.role != ZAB_OBSERVING))
		return -1;
	p->z.now_ms = now_ms;
	int rc = zab_learner_forward(&p->z, session, cxid, type, body, n, auth, auth_len);
	after_event(p, now_ms);
	return rc;
}

int peer_revalidate(struct peer *p, int64_t session, int32_t timeout_ms, uint64_t now_ms)
{
	if (p->z.dead || (p->z.role != ZAB_FOLLOWING && p->z.role != ZAB_OBSERVING))
		return -1;
	p->z.now_ms = now_ms;
	int rc = zab_learner_revalidate(&p->z, session, timeout_ms);
	after_event(p, now_ms);
	return rc;
}

int peer_sync(struct peer *p, uint64_t token, const struct zab_sync_origin *origin, uint64_t now_ms)
{
	if (p->z.dead || !peer_is_serving(p))
		return -1;
	p->z.now_ms = now_ms;
	int rc = 0;
	if (p->z.role == ZAB_LEADING)
		zab_leader_sync(&p->z, 0, token);
	else
		rc = zab_learner_sync(&p->z, token, origin);
	after_event(p, now_ms);
	return rc;
}

bool peer_is_established_leader(const struct peer *p)
{
	return !p->z.dead && p->z.role == ZAB_LEADING && p->z.L.established;
}

bool peer_is_serving(const struct peer *p)
{
	if (p->z.dead)
		return false;
	if (p->z.role == ZAB_LEADING)
		return p->z.L.established;
	if (p->z.role == ZAB_FOLLOWING || p->z.role == ZAB_OBSERVING)
		return p->z.F.st == LR_SERVING;
	return false;
}
