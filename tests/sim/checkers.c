/* checkers: the invariants, checked after every simulator step. Names
 * follow the invariants of ZooKeeper's TLA+ system spec (zk-3.7):
 *
 *  Leadership            at most one established leader per epoch
 *                        (check_leadership, every step);
 *  PrefixConsistency /   the committed history of every server (its applied
 *  Agreement / TotalOrder history up to its commit point) is a prefix of
 *                        the global committed history G, hence any two are
 *                        prefixes of one another (check_prefix, every step);
 *  PrimaryOrder          a server applies txns in strictly increasing zxid
 *                        order (sim.c env_apply, every apply);
 *  Integrity             every committed txn was submitted by a client
 *                        (extend_G, whenever G grows);
 *  CommittedLogDurability no server holds a commit point beyond its own
 *                        history (a committed txn truncated away), every
 *                        acknowledged write is in G, and G is a prefix of
 *                        every healed server's history at the end;
 *  Linearizability       acknowledged writes are ordered as real time
 *                        orders them, and a read after sync sees every
 *                        write acknowledged before the sync was issued;
 *  SequentialConsistency a read returns the value of G at the zxid the
 *                        server had applied, a client's reads never go
 *                        back, and a server never serves uncommitted state;
 *  Convergence           after healing, every server has the same digest. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/zalloc.h"
#include "sim.h"

void violation(struct sim *s, const char *inv, const char *fmt, ...)
{
	if (s->violation[0])
		return;
	char detail[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	snprintf(s->violation, sizeof s->violation, "%s: %s (t=%llu)", inv, detail,
		 (unsigned long long)s->now);
	sim_tracef(s, "VIOLATION %s", s->violation);
}

static void check_leadership(struct sim *s)
{
	for (int i = 0; i < s->n; i++) {
		struct sim_node *nd = &s->node[i];
		if (!nd->up || !peer_is_established_leader(&nd->peer))
			continue;
		int64_t e = nd->peer.z.L.new_epoch;
		int k = 0;
		for (; k < s->nleaders; k++)
			if (s->leaders[k].epoch == e)
				break;
		if (k == s->nleaders) {
			if (s->nleaders < 256) {
				s->leaders[s->nleaders].epoch = e;
				s->leaders[s->nleaders++].sid = nd->sid;
			}
			s->st.elections++;
		} else if (s->leaders[k].sid != nd->sid) {
			violation(s, "Leadership", "s%llu and s%llu both established epoch %lld",
				  (unsigned long long)s->leaders[k].sid, (unsigned long long)nd->sid,
				  (long long)e);
		}
	}
}

static void integrity(struct sim *s, const struct sim_hist *h)
{
	if (h->txn.op == TXN_NOOP)
		return;
	if (h->txn.client >= (uint32_t)s->cfg.n_clients ||
	    h->txn.opid >= s->client[h->txn.client].next_opid)
		violation(s, "Integrity", "txn 0x%llx was never submitted", (unsigned long long)h->zxid);
}

static size_t first_diff(const struct sim_app *a, const struct sim_hist *G, size_t k)
{
	size_t lo = 0, hi = k;  /* chains agree on a prefix, then differ for ever */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (a->h[mid].chain == G[mid].chain)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void extend_G(struct sim *s, struct sim_node *nd)
{
	const struct sim_app *a = &nd->app;
	uint64_t committed = nd->peer.z.committed;
	uint64_t last = a->n ? a->h[a->n - 1].zxid : 0;
	if (committed > last) {
		violation(s, "CommittedLogDurability",
			  "s%d knows 0x%llx committed but its history ends at 0x%llx", nd->idx + 1,
			  (unsigned long long)committed, (unsigned long long)last);
		return;
	}
	size_t L = app_prefix_len(a, committed);
	size_t k = L < s->nG ? L : s->nG;
	if (k > 0 && a->h[k - 1].chain != s->G[k - 1].chain) {
		size_t d = first_diff(a, s->G, k);
		violation(s, "PrefixConsistency",
			  "s%d committed 0x%llx (client %u op %u) where the committed history has 0x%llx (client %u op %u), position %zu",
			  nd->idx + 1, (unsigned long long)a->h[d].zxid, a->h[d].txn.client,
			  a->h[d].txn.opid, (unsigned long long)s->G[d].zxid, s->G[d].txn.client,
			  s->G[d].txn.opid, d);
		return;
	}
	for (size_t i = s->nG; i < L; i++) {
		if (s->nG == s->capG) {
			s->capG = s->capG ? s->capG * 2 : 256;
			s->G = zrealloc(s->G, s->capG * sizeof *s->G);
		}
		s->G[s->nG++] = a->h[i];
		integrity(s, &a->h[i]);
	}
}

void check_step(struct sim *s)
{
	if (s->violation[0])
		return;
	check_leadership(s);
	for (int i = 0; i < s->n && !s->violation[0]; i++)
		if (s->node[i].up)
			extend_G(s, &s->node[i]);
	s->st.committed = s->nG;
}

static const struct sim_hist *G_find(struct sim *s, uint64_t zxid)
{
	size_t lo = 0, hi = s->nG;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->G[mid].zxid < zxid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nG && s->G[lo].zxid == zxid ? &s->G[lo] : NULL;
}

void check_client_ack(struct sim *s, const struct sim_client *c, uint64_t zxid, bool ok)
{
	int ci = (int)(c - s->client);
	check_step(s);
	const struct sim_hist *h = G_find(s, zxid);
	if (!h || h->txn.client != (uint32_t)ci || h->txn.opid != c->opid) {
		violation(s, "CommittedLogDurability", "client %d op %u acked at 0x%llx, not in the committed history",
			  ci, c->opid, (unsigned long long)zxid);
		return;
	}
	if (h->ok != ok)
		violation(s, "Agreement", "client %d op %u: CAS result differs between replicas", ci, c->opid);
	if (zxid <= c->max_acked_at_invoke)
		violation(s, "Linearizability",
			  "client %d op %u committed at 0x%llx before 0x%llx, which was acked before it was invoked",
			  ci, c->opid, (unsigned long long)zxid, (unsigned long long)c->max_acked_at_invoke);
	if (zxid > s->max_acked)
		s->max_acked = zxid;
	if (s->nacked == s->capacked) {
		s->capacked = s->capacked ? s->capacked * 2 : 256;
		s->acked = zrealloc(s->acked, s->capacked * sizeof *s->acked);
	}
	s->acked[s->nacked].client = (uint32_t)ci;
	s->acked[s->nacked].opid = c->opid;
	s->acked[s->nacked++].zxid = zxid;
	s->st.acked++;
}

static int64_t G_value_at(struct sim *s, int key, uint64_t zxid)
{
	size_t lo = 0, hi = s->nG;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->G[mid].zxid <= zxid)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo > 0) {
		const struct sim_hist *h = &s->G[--lo];
		if (h->txn.key == key && h->ok && (h->txn.op == TXN_WRITE || h->txn.op == TXN_CAS))
			return h->txn.value;
	}
	return 0;
}

void check_read(struct sim *s, const struct sim_client *c, int key, int64_t value, uint64_t zxid,
		bool after_sync)
{
	int ci = (int)(c - s->client);
	struct sim_node *nd = &s->node[c->node];
	check_step(s);
	if (zxid > nd->peer.z.committed) {
		violation(s, "SequentialConsistency", "s%d served a read at 0x%llx beyond its commit point 0x%llx",
			  c->node + 1, (unsigned long long)zxid, (unsigned long long)nd->peer.z.committed);
		return;
	}
	int64_t want = G_value_at(s, key, zxid);
	if (want != value)
		violation(s, "SequentialConsistency", "client %d read key %d = %lld at 0x%llx on s%d, committed history says %lld",
			  ci, key, (long long)value, (unsigned long long)zxid, c->node + 1, (long long)want);
	if (zxid < c->last_seen)
		violation(s, "SequentialConsistency", "client %d read at 0x%llx after seeing 0x%llx", ci,
			  (unsigned long long)zxid, (unsigned long long)c->last_seen);
	if (after_sync && zxid < c->max_acked_at_invoke)
		violation(s, "Linearizability", "client %d sync+read at 0x%llx missed write 0x%llx acked before the sync",
			  ci, (unsigned long long)zxid, (unsigned long long)c->max_acked_at_invoke);
}

void check_final(struct sim *s, const bool *which)
{
	check_step(s);
	uint64_t digest = 0;
	int first = -1;
	for (int i = 0; i < s->n && !s->violation[0]; i++) {
		if (which && !which[i])
			continue;
		struct sim_node *nd = &s->node[i];
		const struct sim_app *a = &nd->app;
		if (a->n < s->nG || (s->nG && a->h[s->nG - 1].chain != s->G[s->nG - 1].chain)) {
			violation(s, "CommittedLogDurability", "s%d's final history lacks committed txns (%zu entries, committed %zu)",
				  i + 1, a->n, s->nG);
			return;
		}
		if (first < 0) {
			first = i;
			digest = app_digest(a);
		} else if (app_digest(a) != digest) {
			violation(s, "Convergence", "s%d and s%d differ after healing", first + 1, i + 1);
		}
	}
}
