/* sim.c: the event queue, the virtual clock, node lifecycle and the env
 * glue between each peer and its simulated world. */
#include "sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/zalloc.h"

/* ---- PRNG ---- */
static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void rng_seed(struct sim_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_next(struct sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
	s[2] ^= t; s[3] = rotl(s[3], 45);
	return res;
}

uint64_t rng_below(struct sim_rng *r, uint64_t n) { return n ? rng_next(r) % n : 0; }
double rng_unit(struct sim_rng *r) { return (double)(rng_next(r) >> 11) / 9007199254740992.0; }
bool rng_chance(struct sim_rng *r, double p) { return p > 0 && rng_unit(r) < p; }

/* ---- event heap ordered by (at, seq) ---- */
static bool ev_less(const struct sim_ev *a, const struct sim_ev *b)
{
	return a->at != b->at ? a->at < b->at : a->seq < b->seq;
}

void sim_schedule(struct sim *s, struct sim_ev ev)
{
	if (s->nq == s->capq) {
		s->capq = s->capq ? s->capq * 2 : 1024;
		s->q = zrealloc(s->q, s->capq * sizeof *s->q);
	}
	ev.seq = s->seq++;
	size_t i = s->nq++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!ev_less(&ev, &s->q[p]))
			break;
		s->q[i] = s->q[p];
		i = p;
	}
	s->q[i] = ev;
}

static struct sim_ev pop(struct sim *s)
{
	struct sim_ev top = s->q[0], last = s->q[--s->nq];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct sim_ev *mv = &last;
		if (l < s->nq && ev_less(&s->q[l], mv)) { m = l; mv = &s->q[l]; }
		if (r < s->nq && ev_less(&s->q[r], mv)) { m = r; }
		if (m == i)
			break;
		s->q[i] = s->q[m];
		i = m;
	}
	if (s->nq)
		s->q[i] = last;
	return top;
}

void sim_tracef(struct sim *s, const char *fmt, ...)
{
	if (!s->trace && !s->capture)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (s->trace)
		printf("%8llu %s\n", (unsigned long long)s->now, line);
	if (s->capture) {
		if (s->nlines == s->caplines) {
			s->caplines = s->caplines ? s->caplines * 2 : 256;
			s->lines = zrealloc(s->lines, s->caplines * sizeof *s->lines);
		}
		s->lines[s->nlines++] = zstrndup(line, strlen(line));
	}
}

/* ---- env glue ---- */
static struct sim *g_sim;  /* the env ctx is the node; it needs its sim */

static void env_send_vote(void *ctx, uint64_t to, const uint8_t *p, size_t n)
{
	struct sim_node *nd = ctx;
	net_send_vote(g_sim, nd->idx, (int)to - 1, p, n);
}

static uint64_t env_connect(void *ctx, uint64_t leader)
{
	struct sim_node *nd = ctx;
	return net_connect(g_sim, nd->idx, (int)leader - 1);
}

static void env_send(void *ctx, uint64_t conn, const uint8_t *p, size_t n)
{
	struct sim_node *nd = ctx;
	net_send(g_sim, nd->idx, conn, p, n);
}

static void env_close(void *ctx, uint64_t conn)
{
	struct sim_node *nd = ctx;
	net_close(g_sim, nd->idx, conn, false);
}

static void env_apply(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct sim_node *nd = ctx;
	struct sim_txn t;
	uint64_t hdr_zxid;
	if (sim_txn_unwrap(p, n, &hdr_zxid, &t) != 0 || hdr_zxid != zxid) {
		violation(g_sim, "integrity", "node %d applied undecodable txn 0x%llx", nd->idx + 1,
			  (unsigned long long)zxid);
		return;
	}
	if (nd->app.n && nd->app.h[nd->app.n - 1].zxid >= zxid) {
		violation(g_sim, "primary_order", "node %d applied 0x%llx after 0x%llx", nd->idx + 1,
			  (unsigned long long)zxid, (unsigned long long)nd->app.h[nd->app.n - 1].zxid);
		return;
	}
	bool ok = app_apply(&nd->app, zxid, &t);
	if (t.op != TXN_NOOP && nd->n_cand < 64)
		nd->cand[nd->n_cand++] = (typeof(nd->cand[0])){t.client, t.opid, zxid, ok};
}

static void env_snapshot(void *ctx, struct buf *out)
{
	struct sim_node *nd = ctx;
	app_snapshot(&nd->app, out);
}

static int env_restore(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	(void)zxid;
	struct sim_node *nd = ctx;
	nd->n_cand = 0;
	return app_restore(&nd->app, p, n);
}

static void env_request(void *ctx, uint64_t from, int64_t session, int32_t cxid, int32_t type,
			const uint8_t *body, size_t n, const uint8_t *auth, size_t auth_len)
{
	struct sim_node *nd = ctx;
	(void)auth;
	(void)auth_len;
	/* Prep runs as its own step, like ZooKeeper's PrepRequestProcessor. */
	uint8_t *copy = zmalloc(n ? n : 1);
	memcpy(copy, body, n);
	sim_schedule(g_sim, (struct sim_ev){.at = g_sim->now, .type = EV_REQUEST, .node = nd->idx,
					    .inc = nd->inc, .data = copy, .n = n});
	(void)from; (void)session; (void)cxid; (void)type;
}

static void env_sync_done(void *ctx, uint64_t token)
{
	struct sim_node *nd = ctx;
	client_sync_done(g_sim, nd->idx, token);
}

static void env_trace(void *ctx, const char *line)
{
	struct sim_node *nd = ctx;
	sim_tracef(g_sim, "s%d %s", nd->idx + 1, line);
}

static void env_fatal(void *ctx, const char *why)
{
	struct sim_node *nd = ctx;
	sim_tracef(g_sim, "s%d FATAL %s", nd->idx + 1, why);
	nd->fatal = true;
}

static const struct zab_env sim_env_ops = {
	.send_vote = env_send_vote, .connect = env_connect, .send = env_send, .close = env_close,
	.apply = env_apply, .snapshot = env_snapshot, .restore = env_restore,
	.request = env_request, .sync_done = env_sync_done, .trace = env_trace, .fatal = env_fatal,
};

/* ---- lifecycle ---- */
static void schedule_tick(struct sim *s, struct sim_node *nd)
{
	uint64_t period = s->cfg.tick_ms / 2;
	sim_schedule(s, (struct sim_ev){.at = s->now + period, .type = EV_TICK, .node = nd->idx,
					.inc = nd->inc});
}

static void node_boot(struct sim *s, int i)
{
	struct sim_node *nd = &s->node[i];
	struct peer_config pc = {
		.my_sid = nd->sid, .voters = s->voters, .n_voters = s->cfg.n_voters,
		.observers = s->observers, .n_observers = s->cfg.n_observers,
		.tick_ms = s->cfg.tick_ms, .init_limit = s->cfg.init_limit,
		.sync_limit = s->cfg.sync_limit, .commit_log_count = s->cfg.commit_log_count,
		.snap_count = s->cfg.snap_count, .snap_size_factor = s->cfg.snap_size_factor,
		.faults = s->cfg.faults,
		.config_text = s->config_text,
	};
	struct zab_env env = sim_env_ops;
	env.ctx = nd;
	struct zab_store store = disk_store(nd, s);
	nd->up = true;
	nd->inc++;
	nd->n_cand = 0;
	nd->fatal = false;
	app_init(&nd->app);
	sim_tracef(s, "s%d boot", i + 1);
	if (peer_init(&nd->peer, &pc, &env, &store, s->now) != 0 || nd->fatal) {
		sim_crash(s, i);
		return;
	}
	schedule_tick(s, nd);
}

void sim_init(struct sim *s, const struct sim_config *cfg, uint64_t seed)
{
	memset(s, 0, sizeof *s);
	g_sim = s;
	s->cfg = *cfg;
	s->seed = seed;
	rng_seed(&s->rng, seed);
	s->n = cfg->n_voters + cfg->n_observers;
	s->restart_min_ms = 100;
	s->restart_max_ms = 3000;
	size_t off = 0;
	for (int i = 0; i < s->n; i++) {
		struct sim_node *nd = &s->node[i];
		nd->idx = i;
		nd->sid = (uint64_t)i + 1;
		nd->observer = i >= cfg->n_voters;
		if (nd->observer)
			s->observers[i - cfg->n_voters] = nd->sid;
		else
			s->voters[i] = nd->sid;
		off += (size_t)snprintf(s->config_text + off, sizeof s->config_text - off,
					"server.%d=127.0.0.1:%d:%d:%s\n", i + 1, 2888 + i, 3888 + i,
					nd->observer ? "observer" : "participant");
		disk_init(&nd->disk, seed * 0x9e3779b97f4a7c15ull + (uint64_t)i + 1);
		nd->disk.purge = cfg->purge;
	}
	snprintf(s->config_text + off, sizeof s->config_text - off, "version=0");
	for (int i = 0; i < s->n; i++)
		node_boot(s, i);
}

/* Fold a peer's counters into the run's statistics before it goes. */
static void harvest(struct sim *s, struct sim_node *nd)
{
	const struct zab *z = &nd->peer.z;
	for (int m = 0; m < 4; m++)
		s->st.syncs[m] += z->n_sync_modes[m];
	s->st.txnlog_diffs += z->n_txnlog_diffs;
	s->st.trunc_refused += z->n_trunc_refused;
}

void sim_free(struct sim *s)
{
	for (int i = 0; i < s->n; i++) {
		if (s->node[i].up) {
			harvest(s, &s->node[i]);
			peer_free(&s->node[i].peer);
		}
		app_free(&s->node[i].app);
		disk_free(&s->node[i].disk);
	}
	for (size_t i = 0; i < s->nq; i++)
		zfree(s->q[i].data);
	zfree(s->q);
	zfree(s->conns);
	for (size_t i = 0; i < s->nlines; i++)
		zfree(s->lines[i]);
	zfree(s->lines);
	zfree(s->G);
	zfree(s->acked);
}

void sim_crash(struct sim *s, int i)
{
	struct sim_node *nd = &s->node[i];
	if (!nd->up)
		return;
	sim_tracef(s, "s%d crash", i + 1);
	s->st.crashes++;
	harvest(s, nd);
	peer_free(&nd->peer);
	nd->up = false;
	nd->inc++;
	net_node_down(s, i);
	disk_crash(s, &nd->disk);
	clients_on_node_down(s, i);
	app_free(&nd->app);
	app_init(&nd->app);
}

void sim_restart(struct sim *s, int i)
{
	if (!s->node[i].up)
		node_boot(s, i);
}

int sim_leader(const struct sim *s)
{
	for (int i = 0; i < s->n; i++)
		if (s->node[i].up && peer_is_established_leader(&s->node[i].peer))
			return i;
	return -1;
}

int sim_submit(struct sim *s, int i, const struct sim_txn *t)
{
	struct sim_node *nd = &s->node[i];
	uint8_t b[SIM_TXN_BYTES];
	sim_txn_encode(t, b);
	if (!nd->up)
		return -1;
	if (nd->peer.z.role == ZAB_LEADING) {
		/* prep: the txn carries the zxid it is about to get, as the
		 * server's TxnHeader does */
		const struct zab_leader *L = &nd->peer.z.L;
		uint8_t w[SIM_LOGGED_BYTES];
		sim_txn_wrap(ZXID(L->new_epoch, L->counter + 1), t, w);
		return peer_submit(&nd->peer, w, sizeof w, NULL, s->now);
	}
	return peer_forward(&nd->peer, t->client, (int32_t)t->opid, 5, b, sizeof b, NULL, 0, s->now);
}

static void dispatch(struct sim *s, struct sim_ev *ev)
{
	struct sim_node *nd = ev->node >= 0 ? &s->node[ev->node] : NULL;
	bool live = nd && nd->up && ev->inc == nd->inc;
	switch (ev->type) {
	case EV_VOTE:
		if (live && s->trace) {
			struct fle_notification n;
			if (fle_notification_decode(ev->data, ev->n, &n) == 0)
				sim_tracef(s, "vote s%d->s%d st=%d leader=%lld zxid=0x%llx ee=%lld pe=%lld",
					   ev->from + 1, ev->node + 1, n.state, (long long)n.leader,
					   (unsigned long long)n.zxid, (long long)n.election_epoch,
					   (long long)n.peer_epoch);
		}
		if (live)
			peer_on_vote(&nd->peer, (uint64_t)ev->from + 1, ev->data, ev->n, s->now);
		break;
	case EV_PACKET: {
		struct sim_conn *c = net_conn(s, ev->conn);
		if (live && c && c->alive)
			peer_on_packet(&nd->peer, ev->conn, (uint64_t)ev->from + 1, ev->data, ev->n, s->now);
		break;
	}
	case EV_DISCONNECT:
		if (live)
			peer_on_disconnect(&nd->peer, ev->conn, s->now);
		break;
	case EV_PERSISTED:
		if (nd && nd->up)
			disk_on_persisted_event(s, nd, ev->inc, ev->zxid);
		break;
	case EV_TICK:
		if (live) {
			peer_on_tick(&nd->peer, s->now);
			schedule_tick(s, nd);
		}
		break;
	case EV_RESTART:
		sim_restart(s, ev->node);
		break;
	case EV_REQUEST:
		if (live) {
			struct sim_txn t;
			if (sim_txn_decode(ev->data, ev->n, &t) == 0)
				sim_submit(s, ev->node, &t);
		}
		break;
	case EV_CLIENT:
		client_event(s, ev->node, ev->inc);
		break;
	case EV_FAULT:
		break;  /* handled by the swarm driver through its stop hook */
	}
}

bool sim_step(struct sim *s)
{
	if (!s->nq)
		return false;
	struct sim_ev ev = pop(s);
	s->now = ev.at;
	s->st.events++;
	dispatch(s, &ev);
	zfree(ev.data);
	for (int i = 0; i < s->n; i++)
		if (s->node[i].up && s->node[i].fatal)
			sim_crash(s, i);
	clients_after_step(s);
	check_step(s);
	return true;
}

void sim_run(struct sim *s, uint64_t until, bool (*stop)(struct sim *s))
{
	while (!s->violation[0] && s->nq && s->q[0].at <= until) {
		sim_step(s);
		if (stop && stop(s))
			return;
	}
	if (s->now < until)
		s->now = until;
}

bool sim_converged(struct sim *s, const bool *which)
{
	int l = sim_leader(s);
	if (l < 0)
		return false;
	uint64_t target = s->node[l].peer.z.committed;
	for (int i = 0; i < s->n; i++) {
		if (which && !which[i])
			continue;
		struct sim_node *nd = &s->node[i];
		if (!nd->up || !peer_is_serving(&nd->peer) || nd->peer.leader != s->node[l].sid)
			return false;
		if (nd->peer.z.last_applied != target || nd->peer.z.committed != target)
			return false;
	}
	return true;
}
