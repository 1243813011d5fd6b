/* swarm: one seed, one fault mix (swarm testing: each seed enables its own
 * subset of faults with its own rates, so that rare combinations get
 * explored instead of being drowned in an average mix).
 *
 *  1. safety phase: clients run while faults are injected at random times;
 *     the checkers run after every event;
 *  2. liveness phase 1: clients stop; a random quorum ("core") is healed —
 *     restarted, reconnected, disks freed, no more message loss; everyone
 *     else stays down or isolated. The core must elect a leader, commit a
 *     probe txn and converge within a bound;
 *  3. liveness phase 2: everything is healed and every server must
 *     converge; then the final durability and digest checks run. */
#include <stdio.h>
#include <string.h>

#include "sim.h"

/* Fault kinds a seed may enable. Message drop, duplication, delay (hence
 * reordering of election messages) and connection resets are per-seed
 * rates in sim_net_params; lost or torn unsynced writes are the seed's
 * crash mode; observers and 3/5/7 voters are drawn in swarm_config. */
enum fault_kind { F_CRASH, F_CRASH_LEADER, F_PARTITION, F_ASYM, F_ISOLATE_LEADER, F_BRIDGE,
		  F_ISOLATE_THEN_LEADER, F_HEAL, F_FULL_CRASH, F_DISK_FULL, F_HALF_OPEN_LEADER,
		  F_KINDS };
static const char *const fault_names[F_KINDS] = {
	"crash", "crash_leader", "partition", "asymmetric", "isolate_leader", "bridge",
	"isolate_follower_then_leader", "heal", "full_crash", "disk_full", "half_open_leader",
};

struct swarm {
	struct sim s;
	bool enabled[F_KINDS];
	uint64_t mean_gap_ms;
	bool core[SIM_MAX_NODES];
	bool probe_sent;
	int64_t probe_epoch;
	uint64_t probe_zxid;
	int pending_leader_isolation;
	uint64_t pending_at;
};

void swarm_config(uint64_t seed, struct sim_config *cfg)
{
	struct sim_rng r;
	rng_seed(&r, seed * 7919 + 17);
	static const int sizes[] = {3, 3, 3, 5, 5, 7};
	memset(cfg, 0, sizeof *cfg);
	cfg->n_voters = sizes[rng_below(&r, 6)];
	cfg->n_observers = rng_chance(&r, 0.3) ? 1 + (int)rng_below(&r, 2) : 0;
	cfg->tick_ms = 100;
	cfg->init_limit = 10;
	cfg->sync_limit = 5;
	static const uint32_t cl[] = {3, 8, 30, 500};
	cfg->commit_log_count = cl[rng_below(&r, 4)];
	static const uint32_t sc[] = {0, 5, 13, 40};
	cfg->snap_count = sc[rng_below(&r, 4)];
	cfg->n_clients = 2 + (int)rng_below(&r, 4);
	cfg->client_period_ms = 20 + rng_below(&r, 150);
	cfg->crash_mode = (enum sim_crash_mode)rng_below(&r, 4);
	cfg->net.p_drop_vote = rng_chance(&r, 0.5) ? rng_unit(&r) * 0.3 : 0;
	cfg->net.p_dup_vote = rng_chance(&r, 0.5) ? rng_unit(&r) * 0.2 : 0;
	cfg->net.p_break_conn = rng_chance(&r, 0.4) ? rng_unit(&r) * 0.003 : 0;
	cfg->net.p_slow = rng_chance(&r, 0.5) ? rng_unit(&r) * 0.1 : 0;
	cfg->net.lat_min_ms = 1;
	cfg->net.lat_max_ms = 2 + (uint32_t)rng_below(&r, 15);
	cfg->net.slow_ms = 50 + (uint32_t)rng_below(&r, 400);
	static const uint32_t fs[] = {4, 10, 40, 200};
	cfg->net.fsync_max_ms = fs[rng_below(&r, 4)];
	static const double sf[] = {-1, 0, 0.33, 1};
	cfg->snap_size_factor = sf[rng_below(&r, 4)];
	cfg->purge = rng_chance(&r, 0.4);
}

static int random_node(struct sim *s) { return (int)rng_below(&s->rng, (uint64_t)s->n); }

static void crash_for_a_while(struct sim *s, int i)
{
	if (!s->node[i].up)
		return;
	sim_crash(s, i);
	uint64_t d = (uint64_t)s->restart_min_ms +
		     rng_below(&s->rng, (uint64_t)(s->restart_max_ms - s->restart_min_ms));
	sim_schedule(s, (struct sim_ev){.at = s->now + d, .type = EV_RESTART, .node = i});
}

static void random_split(struct sim *s, bool *side)
{
	for (int i = 0; i < s->n; i++)
		side[i] = rng_chance(&s->rng, 0.5);
}

static void apply_split(struct sim *s, const bool *side, int bridge)
{
	net_heal(s);
	for (int a = 0; a < s->n; a++)
		for (int b = 0; b < s->n; b++)
			if (side[a] != side[b] && a != bridge && b != bridge)
				s->block[a][b] = true;
}

static void inject(struct swarm *w)
{
	struct sim *s = &w->s;
	int kinds[F_KINDS], nk = 0;
	for (int k = 0; k < F_KINDS; k++)
		if (w->enabled[k])
			kinds[nk++] = k;
	if (!nk)
		return;
	int k = kinds[rng_below(&s->rng, (uint64_t)nk)];
	int l = sim_leader(s);
	bool side[SIM_MAX_NODES];
	s->st.faults++;
	s->st.by_kind[k]++;
	switch (k) {
	case F_CRASH: crash_for_a_while(s, random_node(s)); break;
	case F_CRASH_LEADER: crash_for_a_while(s, l >= 0 ? l : random_node(s)); break;
	case F_PARTITION: random_split(s, side); apply_split(s, side, -1); sim_tracef(s, "fault: partition"); break;
	case F_BRIDGE: random_split(s, side); apply_split(s, side, random_node(s)); sim_tracef(s, "fault: bridge"); break;
	case F_ASYM:
		for (int i = 0; i < 2; i++) {
			int a = random_node(s), b = random_node(s);
			s->block[a][b] = a != b;
		}
		sim_tracef(s, "fault: asymmetric links");
		break;
	case F_ISOLATE_LEADER:
		net_isolate(s, l >= 0 ? l : random_node(s), true, true);
		sim_tracef(s, "fault: isolate leader");
		break;
	case F_ISOLATE_THEN_LEADER: {
		int f = random_node(s);
		if (f == l)
			f = (f + 1) % s->cfg.n_voters;
		net_isolate(s, f, true, true);
		w->pending_leader_isolation = 1;
		w->pending_at = s->now + 200 + rng_below(&s->rng, 1500);
		sim_tracef(s, "fault: isolate follower s%d", f + 1);
		break;
	}
	case F_HALF_OPEN_LEADER:
		/* The followers' connections are reset and they go looking at
		 * once; the leader hears nothing and believes it leads until
		 * syncLimit passes (the ZOOKEEPER-1675 window). */
		net_half_open(s, l >= 0 ? l : random_node(s));
		sim_tracef(s, "fault: half-open leader");
		break;
	case F_HEAL: net_heal(s); sim_tracef(s, "fault: heal"); break;
	case F_FULL_CRASH:
		sim_tracef(s, "fault: full-ensemble crash");
		for (int i = 0; i < s->n; i++)
			crash_for_a_while(s, i);
		break;
	case F_DISK_FULL: {
		struct sim_node *nd = &s->node[random_node(s)];
		nd->disk.capacity = disk_used(&nd->disk) + rng_below(&s->rng, 300);
		sim_tracef(s, "fault: disk of s%d fills up", nd->idx + 1);
		break;
	}
	}
}

static bool probe_and_converge(struct sim *s, struct swarm *w, const bool *which)
{
	int l = sim_leader(s);
	if (l < 0)
		return false;
	struct peer *lp = &s->node[l].peer;
	if (!w->probe_sent || w->probe_epoch != lp->z.L.new_epoch) {
		struct sim_txn t = {.op = TXN_NOOP, .client = UINT32_MAX};
		if (sim_submit(s, l, &t) == 0) {
			w->probe_sent = true;
			w->probe_epoch = lp->z.L.new_epoch;
			w->probe_zxid = lp->z.L.last_proposed;
		}
		return false;
	}
	return lp->z.committed >= w->probe_zxid && sim_converged(s, which);
}

static struct swarm *g_w;
static bool stop_core(struct sim *s) { return probe_and_converge(s, g_w, g_w->core); }
static bool stop_all(struct sim *s) { return probe_and_converge(s, g_w, NULL); }

static void safety_phase(struct swarm *w, uint64_t until)
{
	struct sim *s = &w->s;
	while (!s->violation[0] && s->now < until) {
		uint64_t next = s->now + 1 + rng_below(&s->rng, 2 * w->mean_gap_ms);
		if (w->pending_leader_isolation && w->pending_at < next)
			next = w->pending_at;
		sim_run(s, next < until ? next : until, NULL);
		if (s->now >= until)
			break;
		if (w->pending_leader_isolation && s->now >= w->pending_at) {
			int l = sim_leader(s);
			w->pending_leader_isolation = 0;
			if (l >= 0) {
				net_isolate(s, l, true, true);
				sim_tracef(s, "fault: then isolate leader s%d", l + 1);
			}
			continue;
		}
		inject(w);
	}
}

static void heal_node(struct sim *s, int i)
{
	s->node[i].disk.capacity = 0;
	if (!s->node[i].up)
		sim_restart(s, i);
}

static bool liveness(struct swarm *w, const bool *which, bool (*stop)(struct sim *), const char *what)
{
	struct sim *s = &w->s;
	w->probe_sent = false;
	uint64_t deadline = s->now + 40000;
	sim_run(s, deadline, stop);
	if (!s->violation[0] && !stop(s))
		violation(s, "Liveness", "%s did not elect a leader and converge within 40 s", what);
	if (!s->violation[0])
		check_final(s, which);
	return !s->violation[0];
}

static void pick_core(struct swarm *w)
{
	struct sim *s = &w->s;
	int nv = s->cfg.n_voters, need = nv / 2 + 1, got = 0;
	memset(w->core, 0, sizeof w->core);
	while (got < need) {
		int i = (int)rng_below(&s->rng, (uint64_t)nv);
		if (!w->core[i]) {
			w->core[i] = true;
			got++;
		}
	}
	for (int i = nv; i < s->n; i++)
		w->core[i] = rng_chance(&s->rng, 0.5);
}

static void heal_core(struct swarm *w)
{
	struct sim *s = &w->s;
	net_heal(s);
	for (int i = 0; i < s->n; i++) {
		if (w->core[i])
			heal_node(s, i);
		else if (rng_chance(&s->rng, 0.5))
			sim_crash(s, i);
		else
			net_isolate(s, i, true, true);
	}
	/* Pending restarts of non-core nodes would break the isolation: drop them. */
	for (size_t k = 0; k < s->nq; k++)
		if (s->q[k].type == EV_RESTART && !w->core[s->q[k].node])
			s->q[k].node = -1, s->q[k].type = EV_FAULT;
}

const char *swarm_fault_name(int k) { return k >= 0 && k < F_KINDS ? fault_names[k] : NULL; }

struct swarm_result swarm_run(uint64_t seed, unsigned faults, bool trace)
{
	static struct swarm w;
	struct sim_config cfg;
	struct swarm_result res;
	memset(&w, 0, sizeof w);
	g_w = &w;
	swarm_config(seed, &cfg);
	cfg.faults = faults;
	sim_init(&w.s, &cfg, seed);
	struct sim *s = &w.s;
	s->trace = trace;
	struct sim_rng r;
	rng_seed(&r, seed * 31 + 5);
	for (int k = 0; k < F_KINDS; k++)
		w.enabled[k] = rng_chance(&r, 0.5);
	w.enabled[F_HEAL] = true;
	w.mean_gap_ms = 200 + rng_below(&r, 1200);
	sim_tracef(s, "swarm seed=%llu voters=%d observers=%d clients=%d crash_mode=%d commitlog=%u snap=%u",
		   (unsigned long long)seed, cfg.n_voters, cfg.n_observers, cfg.n_clients, cfg.crash_mode,
		   cfg.commit_log_count, cfg.snap_count);
	clients_start(s);
	safety_phase(&w, 4000 + rng_below(&r, 6000));
	s->clients_on = false;
	s->cfg.net.p_drop_vote = s->cfg.net.p_break_conn = 0;
	if (!s->violation[0]) {
		pick_core(&w);
		heal_core(&w);
		if (liveness(&w, w.core, stop_core, "a healed quorum")) {
			net_heal(s);
			for (int i = 0; i < s->n; i++)
				heal_node(s, i);
			liveness(&w, NULL, stop_all, "the healed ensemble");
		}
	}
	res.ok = !s->violation[0];
	snprintf(res.violation, sizeof res.violation, "%s", s->violation);
	sim_free(s);
	res.st = s->st;  /* after sim_free, which folds in the live peers' counters */
	return res;
}
