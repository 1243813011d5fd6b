/* ensemble.c: see ensemble.h. */
#include "io/ensemble.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/zalloc.h"
#include "io/clock.h"
#include "io/ens_store.h"
#include "io/qnet.h"
#include "jute/proto.h"
#include "peer/peer.h"

struct ensemble {
	struct peer peer;          /* first: the qnet sink's ctx is the peer */
	uv_loop_t *loop;
	const struct zoocfg *cfg;
	struct node *node;
	struct qnet *net;
	struct ens_store *store;
	void (*flush)(void *arg);
	void *arg;
	int64_t myid;
	uint64_t voters[ZAB_MAX_SERVERS], observers[ZAB_MAX_SERVERS];
	struct buf config_text;
	struct buf empty_state;
	bool peer_up;
	bool in_step;
	int64_t role_epoch;
	uint64_t role_leader;
};

static uint64_t mono(void)
{
	return (uint64_t)clock_monotonic_ms();
}

/* --- the application half of the core's env ------------------------------ */

static void app_apply(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct ensemble *e = ctx;
	if (node_commit(e->node, (int64_t)zxid, p, n, clock_wall_ms()) != 0) {
		log_error("quorum: committed txn 0x%llx could not be applied; stopping",
			  (unsigned long long)zxid);
		exit(2);
	}
}

static void app_snapshot(void *ctx, struct buf *out)
{
	struct ensemble *e = ctx;
	node_snapshot_stream(e->node, out);
}

static int app_restore(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct ensemble *e = ctx;
	/* the state is rebuilt (election, or SNAP): nobody is served meanwhile */
	node_set_role(e->node, NODE_LOOKING, 0, clock_wall_ms());
	int rc = node_restore_stream(e->node, (int64_t)zxid, p, n, clock_wall_ms());
	if (rc != 0)
		log_warn("quorum: snapshot at 0x%llx (%zu bytes) does not decode", (unsigned long long)zxid, n);
	return rc;
}

static void app_request(void *ctx, uint64_t from_sid, int64_t session, int32_t cxid, int32_t type,
			const uint8_t *body, size_t n, const uint8_t *auth, size_t auth_len)
{
	struct ensemble *e = ctx;
	(void)from_sid;
	node_forwarded(e->node, session, cxid, type, body, n, auth, auth_len, clock_wall_ms());
}

static bool app_revalidate(void *ctx, uint64_t from_sid, int64_t session, int32_t timeout_ms)
{
	struct ensemble *e = ctx;
	(void)from_sid;
	return node_revalidate(e->node, session, timeout_ms, clock_wall_ms());
}

static void app_revalidated(void *ctx, int64_t session, bool valid)
{
	struct ensemble *e = ctx;
	node_revalidated(e->node, session, valid, clock_wall_ms());
}

static void app_ping_data(void *ctx, struct buf *out)
{
	struct ensemble *e = ctx;
	node_take_touches(e->node, out);
}

static void app_touch(void *ctx, uint64_t from_sid, const uint8_t *p, size_t n)
{
	struct ensemble *e = ctx;
	(void)from_sid;
	node_apply_touches(e->node, p, n, clock_wall_ms());
}

static void app_sync_done(void *ctx, uint64_t token)
{
	struct ensemble *e = ctx;
	node_sync_done(e->node, token, clock_wall_ms());
}

static void app_trace(void *ctx, const char *line)
{
	struct ensemble *e = ctx;
	log_info("quorum %lld: %s", (long long)e->myid, line);
}

static void app_fatal(void *ctx, const char *why)
{
	struct ensemble *e = ctx;
	log_error("quorum %lld: %s; stopping", (long long)e->myid, why);
	exit(2);
}

/* --- role and hand-over between node and core ----------------------------- */

static void sync_role(struct ensemble *e)
{
	struct peer *p = &e->peer;
	enum node_role want = NODE_LOOKING;
	if (peer_is_serving(p)) {
		if (p->state == FLE_LEADING)
			want = NODE_LEADING;
		else if (p->state == FLE_OBSERVING)
			want = NODE_OBSERVING;
		else
			want = NODE_FOLLOWING;
	}
	int64_t epoch = peer_epoch(p);
	if (want == e->node->role && (want == NODE_LOOKING || (epoch == e->role_epoch && p->leader == e->role_leader)))
		return;
	static const char *const names[] = {"standalone", "looking", "leading", "following", "observing"};
	log_info("quorum %lld: %s (leader %llu, epoch %lld, zxid 0x%llx)", (long long)e->myid, names[want],
		 (unsigned long long)p->leader, (long long)epoch, (unsigned long long)e->node->st.last_applied_zxid);
	node_set_role(e->node, want, epoch, clock_wall_ms());
	if (want != NODE_LOOKING)
		node_set_config_node(e->node, (const char *)e->config_text.data, e->config_text.len - 1,
				     e->cfg->config_version, clock_wall_ms());
	if (want == NODE_LEADING) {
		e->node->quorum.leader_since_ms = clock_wall_ms();
		e->node->quorum.proposal_last = e->node->quorum.proposal_min = e->node->quorum.proposal_max = -1;
	}
	e->role_epoch = epoch;
	e->role_leader = p->leader;
}

/* mntr's view of the core (the node cannot see it). */
static void fill_quorum_stats(struct ensemble *e)
{
	struct quorum_stats *q = &e->node->quorum;
	const struct zab *z = &e->peer.z;
	q->member = true;
	q->quorum_size = z->cfg.n_voters;
	q->leader_sid = (int64_t)e->peer.leader;
	q->learners = q->synced_followers = q->synced_observers = 0;
	q->pending_syncs = 0;
	if (e->node->role != NODE_LEADING)
		return;
	for (int i = 0; i < ZAB_MAX_SERVERS; i++) {
		const struct zab_learner_handler *h = &z->L.lh[i];
		if (!h->used)
			continue;
		q->learners++;
		if (h->st == LH_ACTIVE && h->observer)
			q->synced_observers++;
		else if (h->st == LH_ACTIVE)
			q->synced_followers++;
	}
	q->pending_syncs = (int)z->L.n_sw;
}

/* The node's new txns (leader) and forwards (learner) into the core. */
static void hand_over(struct ensemble *e)
{
	uint64_t now = mono();
	for (struct node_txn *t = node_take_persist(e->node); t; t = t->next) {
		uint64_t zxid = 0;
		if (peer_submit(&e->peer, t->bytes.data, t->bytes.len, &zxid, now) != 0) {
			/* no longer an established leader: the role change that
			 * follows drops what was prepared and closes its clients */
			log_warn("quorum %lld: txn 0x%llx not proposed: not leading", (long long)e->myid,
				 (unsigned long long)t->zxid);
			break;
		}
		struct quorum_stats *q = &e->node->quorum;
		int64_t size = (int64_t)t->bytes.len;  /* Java's proposalStats: the txn's bytes */
		q->proposal_last = size;
		if (q->proposal_min < 0 || size < q->proposal_min)
			q->proposal_min = size;
		if (size > q->proposal_max)
			q->proposal_max = size;
		if ((int64_t)zxid != t->zxid) {
			log_error("quorum: prepared zxid 0x%llx but proposed 0x%llx; stopping",
				  (unsigned long long)t->zxid, (unsigned long long)zxid);
			exit(2);
		}
	}
	struct node_fwd *f = node_take_forward(e->node);
	while (f) {
		struct node_fwd *next = f->next;
		if (f->type == ZOP_SYNC) {
			/* the client's own request, as a Java learner forwards it */
			struct zab_sync_origin o = {f->session, f->cxid, f->body, f->len, f->body + f->len,
						    f->auth_len};
			(void)peer_sync(&e->peer, f->conn, &o, now);
		}
		else if (f->type == NODE_FWD_REVALIDATE)
			(void)peer_revalidate(&e->peer, f->session, f->cxid, now);
		else
			(void)peer_forward(&e->peer, f->session, f->cxid, f->type, f->body, f->len,
					   f->body + f->len, f->auth_len, now);
		zfree(f);
		f = next;
	}
}

void ensemble_step(struct ensemble *e)
{
	if (!e->peer_up || e->in_step)
		return;
	e->in_step = true;
	sync_role(e);
	hand_over(e);
	sync_role(e);
	fill_quorum_stats(e);
	e->in_step = false;
	qnet_rearm(e->net);
}

/* qnet calls this after every delivery into the peer. */
static void after_event(void *ctx, uint64_t now_ms)
{
	struct ensemble *e = ctx;  /* the peer is the first member */
	(void)now_ms;
	e->flush(e->arg);          /* the server's flush runs ensemble_step */
}

static void store_persisted(void *arg, uint64_t upto)
{
	struct ensemble *e = arg;
	peer_on_persisted(&e->peer, upto, mono());
	e->flush(e->arg);
}

static void store_fatal(void *arg, const char *why)
{
	app_fatal(arg, why);
}

/* --- set-up ----------------------------------------------------------------- */

static int build_peer_config(struct ensemble *e, struct peer_config *pc, struct buf *errmsg)
{
	const struct zoocfg *c = e->cfg;
	memset(pc, 0, sizeof *pc);
	pc->my_sid = (uint64_t)e->myid;
	for (size_t i = 0; i < c->nservers; i++) {
		const struct zoocfg_server *s = &c->servers[i];
		if (pc->n_voters + pc->n_observers >= ZAB_MAX_SERVERS) {
			buf_printf(errmsg, "at most %d servers are supported", ZAB_MAX_SERVERS);
			return -1;
		}
		if (s->type == ZOOCFG_OBSERVER)
			e->observers[pc->n_observers++] = (uint64_t)s->sid;
		else
			e->voters[pc->n_voters++] = (uint64_t)s->sid;
	}
	if (!zoocfg_find_server(c, e->myid)) {
		buf_printf(errmsg, "myid %lld has no server.%lld line", (long long)e->myid, (long long)e->myid);
		return -1;
	}
	pc->voters = e->voters;
	pc->observers = e->observers;
	pc->tick_ms = (uint32_t)c->tick_time;
	pc->init_limit = (uint32_t)c->init_limit;
	pc->sync_limit = (uint32_t)c->sync_limit;
	pc->commit_log_count = (uint32_t)c->commit_log_count;
	pc->snap_count = (uint32_t)c->snap_count;
	pc->snap_size_factor = c->snapshot_size_factor;
	zoocfg_membership(c, c->config_version, &e->config_text);
	buf_put(&e->config_text, "", 1);  /* NUL for the borrowed C string */
	pc->config_text = (const char *)e->config_text.data;
	return 0;
}

struct ensemble *ensemble_open(uv_loop_t *loop, const struct zoocfg *cfg, struct node *node,
			       void (*flush)(void *arg), void *arg, struct buf *errmsg)
{
	struct ensemble *e = zcalloc(1, sizeof *e);
	e->loop = loop;
	e->cfg = cfg;
	e->node = node;
	e->flush = flush;
	e->arg = arg;
	buf_init(&e->config_text);
	buf_init(&e->empty_state);
	struct peer_config pc;
	if (zoocfg_read_myid(cfg, &e->myid, errmsg) != 0 || build_peer_config(e, &pc, errmsg) != 0)
		goto fail;
	if (cfg->init_limit <= 0 || cfg->sync_limit <= 0) {
		buf_printf(errmsg, "initLimit and syncLimit are required in an ensemble");
		goto fail;
	}
	struct qnet_config qc;
	if (qnet_config_from_zoocfg(&qc, cfg, (uint64_t)e->myid, errmsg) != 0)
		goto fail;
	e->net = qnet_new(loop, &qc, errmsg);
	if (!e->net)
		goto fail;
	/* the node is fresh: its stream is snapshot.0 of a new dir (zstore
	 * borrows it until the first load) */
	node_snapshot_stream(node, &e->empty_state);
	e->store = ens_store_open(loop, cfg, &e->empty_state, store_persisted, store_fatal, e, errmsg);
	if (!e->store)
		goto fail;
	struct zab_env app = {.ctx = e, .apply = app_apply, .snapshot = app_snapshot, .restore = app_restore,
			      .request = app_request, .ping_data = app_ping_data, .touch = app_touch,
			      .sync_done = app_sync_done, .trace = app_trace, .fatal = app_fatal,
			      .revalidate = app_revalidate, .revalidated = app_revalidated};
	struct zab_env env;
	qnet_env(e->net, &app, &env);
	struct zab_store st = ens_store_seam(e->store);
	node_set_role(node, NODE_LOOKING, 0, clock_wall_ms());
	if (peer_init(&e->peer, &pc, &env, &st, mono()) != 0) {
		buf_printf(errmsg, "cannot load the data directory %s", cfg->data_dir);
		goto fail;
	}
	e->peer_up = true;
	struct qnet_sink sink = qnet_peer_sink(&e->peer);
	sink.after = after_event;
	if (qnet_start(e->net, &sink, errmsg) != 0)
		goto fail;
	log_info("quorum %lld: %d voters, %d observers, looking from zxid 0x%llx", (long long)e->myid,
		 pc.n_voters, pc.n_observers, (unsigned long long)node->st.last_applied_zxid);
	return e;
fail:
	if (e->peer_up)
		peer_free(&e->peer);
	if (e->net) {
		qnet_stop(e->net);
		uv_run(loop, UV_RUN_NOWAIT);
		qnet_free(e->net);
	}
	if (e->store)
		ens_store_close(e->store);
	buf_free(&e->config_text);
	buf_free(&e->empty_state);
	zfree(e);
	return NULL;
}

void ensemble_close(struct ensemble *e)
{
	qnet_stop(e->net);
	ens_store_close(e->store);
	e->store = NULL;
}

void ensemble_free(struct ensemble *e)
{
	peer_free(&e->peer);
	qnet_free(e->net);
	buf_free(&e->config_text);
	buf_free(&e->empty_state);
	zfree(e);
}

int64_t ensemble_my_id(const struct ensemble *e)
{
	return e->myid;
}
