/* clients: sessions that write, compare-and-set, read and sync+read
 * through the server they are attached to, as ZooKeeper clients do. A
 * client moves to another server when its own is down, not serving or
 * behind what the client has already seen (the lastZxidSeen rule), and
 * gives an operation up after a timeout (its outcome is then unknown: it
 * may or may not commit, which the checkers allow). */
#include "sim.h"

#define OP_TIMEOUT_MS 3000

static void schedule(struct sim *s, int c, uint64_t delay)
{
	sim_schedule(s, (struct sim_ev){.at = s->now + delay, .type = EV_CLIENT, .node = c,
					.inc = ++s->client[c].wake});
}

void clients_start(struct sim *s)
{
	s->clients_on = true;
	for (int c = 0; c < s->cfg.n_clients; c++) {
		s->client[c].node = (int)rng_below(&s->rng, (uint64_t)s->n);
		schedule(s, c, 1 + rng_below(&s->rng, s->cfg.client_period_ms));
	}
}

static void think(struct sim *s, int c)
{
	s->client[c].busy = false;
	schedule(s, c, 1 + rng_below(&s->rng, 2 * s->cfg.client_period_ms));
}

static bool usable(struct sim *s, struct sim_client *cl)
{
	struct sim_node *nd = &s->node[cl->node];
	return nd->up && peer_is_serving(&nd->peer) && nd->peer.z.last_applied >= cl->last_seen;
}

static void do_read(struct sim *s, struct sim_client *cl, bool after_sync)
{
	struct sim_node *nd = &s->node[cl->node];
	int key = (int)rng_below(&s->rng, SIM_KEYS);
	int64_t v = nd->app.kv[key];
	uint64_t z = nd->peer.z.last_applied;
	check_read(s, cl, key, v, z, after_sync);
	cl->last_read[key] = v;
	if (z > cl->last_seen)
		cl->last_seen = z;
}

static bool begin_op(struct sim *s, int c, enum sim_op_kind kind);

static void start_op(struct sim *s, int c)
{
	struct sim_client *cl = &s->client[c];
	if (!s->clients_on)
		return;
	if (!usable(s, cl)) {
		cl->node = (int)rng_below(&s->rng, (uint64_t)s->n);
		schedule(s, c, 50 + rng_below(&s->rng, 100));
		return;
	}
	uint64_t r = rng_below(&s->rng, 100);
	begin_op(s, c, r < 35 ? OP_WRITE : r < 55 ? OP_CAS : r < 85 ? OP_READ : OP_SYNC_READ);
}

/* true if the operation started (or, for a plain read, was done) */
static bool begin_op(struct sim *s, int c, enum sim_op_kind kind)
{
	struct sim_client *cl = &s->client[c];
	cl->kind = kind;
	cl->opid = cl->next_opid++;
	cl->invoked_at = s->now;
	cl->max_acked_at_invoke = s->max_acked;
	if (cl->kind == OP_READ) {
		do_read(s, cl, false);
		think(s, c);
		return true;
	}
	cl->busy = true;
	cl->deadline = s->now + OP_TIMEOUT_MS;
	int rc;
	if (cl->kind == OP_SYNC_READ) {
		cl->sync_token = ((uint64_t)c << 32) | cl->opid;
		rc = peer_sync(&s->node[cl->node].peer, cl->sync_token, NULL, s->now);
	} else {
		uint8_t key = (uint8_t)rng_below(&s->rng, SIM_KEYS);
		cl->txn = (struct sim_txn){.op = cl->kind == OP_WRITE ? TXN_WRITE : TXN_CAS, .key = key,
					   .value = ((int64_t)c << 24) | cl->opid,
					   .expect = cl->last_read[key], .client = (uint32_t)c,
					   .opid = cl->opid};
		rc = sim_submit(s, cl->node, &cl->txn);
	}
	if (rc != 0) {
		think(s, c);
		return false;
	}
	schedule(s, c, OP_TIMEOUT_MS);
	return true;
}

bool client_op(struct sim *s, int c, int node, enum sim_op_kind kind)
{
	struct sim_client *cl = &s->client[c];
	if (cl->busy || !s->node[node].up)
		return false;
	cl->node = node;
	return begin_op(s, c, kind);
}

void client_event(struct sim *s, int c, uint32_t wake)
{
	struct sim_client *cl = &s->client[c];
	if (wake != cl->wake)
		return;  /* superseded */
	if (cl->busy) {
		if (s->now < cl->deadline)
			return;
		cl->node = (int)rng_below(&s->rng, (uint64_t)s->n);  /* timed out: try elsewhere */
		think(s, c);
		return;
	}
	start_op(s, c);
}

void clients_on_node_down(struct sim *s, int node)
{
	(void)s; (void)node;  /* pending ops time out; their outcome stays unknown */
}

void client_sync_done(struct sim *s, int node, uint64_t token)
{
	int c = (int)(token >> 32);
	if (c >= s->cfg.n_clients)
		return;
	struct sim_client *cl = &s->client[c];
	if (!cl->busy || cl->kind != OP_SYNC_READ || cl->sync_token != token || cl->node != node)
		return;
	s->st.sync_reads++;
	do_read(s, cl, true);
	think(s, c);
}

void clients_after_step(struct sim *s)
{
	for (int i = 0; i < s->n; i++) {
		struct sim_node *nd = &s->node[i];
		if (!nd->up || !nd->n_cand)
			continue;
		int k = 0;
		for (int j = 0; j < nd->n_cand; j++) {
			if (nd->cand[j].zxid > nd->peer.z.committed) {
				nd->cand[k++] = nd->cand[j];
				continue;
			}
			uint32_t c = nd->cand[j].client;
			if (c >= (uint32_t)s->cfg.n_clients)
				continue;
			struct sim_client *cl = &s->client[c];
			if (cl->busy && cl->node == i && cl->opid == nd->cand[j].opid &&
			    (cl->kind == OP_WRITE || cl->kind == OP_CAS)) {
				check_client_ack(s, cl, nd->cand[j].zxid, nd->cand[j].ok);
				if (nd->cand[j].zxid > cl->last_seen)
					cl->last_seen = nd->cand[j].zxid;
				think(s, (int)c);
			}
		}
		nd->n_cand = k;
	}
}
