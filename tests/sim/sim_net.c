/* sim_net: the simulated network.
 *
 * Election messages are datagrams here: each may be dropped, duplicated and
 * given its own delay, so they also arrive out of order. (Java's election
 * runs over TCP too, but with reconnects and re-sends of the last message
 * it behaves like this to the election.)
 *
 * Quorum traffic uses connections with TCP's guarantees: in order, no
 * duplicates, and after the first lost byte nothing more. A connection
 * breaks when a random fault hits it (both ends are told, as by an RST), or
 * silently when a partition cuts the link (the ends find out by timeouts).
 * A crashed node's connections are reset. */
#include <string.h>

#include "base/zalloc.h"
#include "sim.h"

static uint64_t latency(struct sim *s)
{
	const struct sim_net_params *p = &s->cfg.net;
	uint64_t d = p->lat_min_ms + rng_below(&s->rng, p->lat_max_ms - p->lat_min_ms + 1);
	if (rng_chance(&s->rng, p->p_slow))
		d += rng_below(&s->rng, p->slow_ms + 1);
	return d;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *c = zmalloc(n ? n : 1);
	memcpy(c, p, n);
	return c;
}

void net_send_vote(struct sim *s, int from, int to, const uint8_t *p, size_t n)
{
	if (to < 0 || to >= s->n || s->block[from][to])
		return;
	if (rng_chance(&s->rng, s->cfg.net.p_drop_vote))
		return;
	int copies = rng_chance(&s->rng, s->cfg.net.p_dup_vote) ? 2 : 1;
	for (int i = 0; i < copies; i++)
		sim_schedule(s, (struct sim_ev){.at = s->now + latency(s), .type = EV_VOTE, .node = to,
						.from = from, .inc = s->node[to].inc,
						.data = dup_bytes(p, n), .n = n});
}

struct sim_conn *net_conn(struct sim *s, uint64_t id)
{
	return id >= 1 && id <= s->nconns ? &s->conns[id - 1] : NULL;
}

static void notify(struct sim *s, int node, uint32_t inc, uint64_t conn)
{
	sim_schedule(s, (struct sim_ev){.at = s->now + latency(s), .type = EV_DISCONNECT,
					.node = node, .inc = inc, .conn = conn});
}

uint64_t net_connect(struct sim *s, int from, int to)
{
	if (s->nconns == s->capconns) {
		s->capconns = s->capconns ? s->capconns * 2 : 64;
		s->conns = zrealloc(s->conns, s->capconns * sizeof *s->conns);
	}
	struct sim_conn *c = &s->conns[s->nconns++];
	*c = (struct sim_conn){.id = s->nconns, .a = from, .b = to, .inc_a = s->node[from].inc,
			       .inc_b = to >= 0 && to < s->n ? s->node[to].inc : 0,
			       .alive = to >= 0 && to < s->n && s->node[to].up};
	if (!c->alive)
		notify(s, from, s->node[from].inc, c->id);
	return c->id;
}

static void conn_break(struct sim *s, struct sim_conn *c, bool tell)
{
	if (!c->alive)
		return;
	c->alive = false;
	if (tell) {
		notify(s, c->a, c->inc_a, c->id);
		notify(s, c->b, c->inc_b, c->id);
	}
}

void net_send(struct sim *s, int from, uint64_t id, const uint8_t *p, size_t n)
{
	struct sim_conn *c = net_conn(s, id);
	if (!c || !c->alive)
		return;
	int to = c->a == from ? c->b : c->a;
	int dir = c->a == from ? 0 : 1;
	if (s->block[from][to]) {
		conn_break(s, c, false);
		return;
	}
	if (rng_chance(&s->rng, s->cfg.net.p_break_conn)) {
		sim_tracef(s, "net: connection %llu s%d-s%d reset", (unsigned long long)id, c->a + 1,
			   c->b + 1);
		conn_break(s, c, true);
		return;
	}
	uint64_t at = s->now + latency(s);
	if (at < c->last_at[dir])
		at = c->last_at[dir];
	c->last_at[dir] = at;
	sim_schedule(s, (struct sim_ev){.at = at, .type = EV_PACKET, .node = to, .from = from,
					.inc = dir == 0 ? c->inc_b : c->inc_a, .conn = id,
					.data = dup_bytes(p, n), .n = n});
}

void net_close(struct sim *s, int from, uint64_t id, bool notify_self)
{
	struct sim_conn *c = net_conn(s, id);
	if (!c || !c->alive)
		return;
	c->alive = false;
	int other = c->a == from ? c->b : c->a;
	uint32_t inc = c->a == from ? c->inc_b : c->inc_a;
	/* A FIN reaches the other end only if the link lets it through. */
	if (!s->block[from][other])
		notify(s, other, inc, id);
	if (notify_self)
		notify(s, from, s->node[from].inc, id);
}

void net_node_down(struct sim *s, int i)
{
	for (size_t k = 0; k < s->nconns; k++) {
		struct sim_conn *c = &s->conns[k];
		if (c->alive && (c->a == i || c->b == i)) {
			c->alive = false;
			int other = c->a == i ? c->b : c->a;
			if (!s->block[i][other])
				notify(s, other, c->a == i ? c->inc_b : c->inc_a, c->id);
		}
	}
}

void net_heal(struct sim *s)
{
	memset(s->block, 0, sizeof s->block);
}

void net_isolate(struct sim *s, int i, bool in, bool out)
{
	for (int j = 0; j < s->n; j++) {
		if (j == i)
			continue;
		if (out)
			s->block[i][j] = true;
		if (in)
			s->block[j][i] = true;
	}
}

void net_half_open(struct sim *s, int i)
{
	net_isolate(s, i, true, true);
	for (size_t k = 0; k < s->nconns; k++) {
		struct sim_conn *c = &s->conns[k];
		if (!c->alive || (c->a != i && c->b != i))
			continue;
		c->alive = false;
		int other = c->a == i ? c->b : c->a;
		notify(s, other, c->a == i ? c->inc_b : c->inc_a, c->id);
	}
}
