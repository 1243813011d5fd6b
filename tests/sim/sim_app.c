/* sim_app: the replicated application of the simulator — SIM_KEYS integer
 * registers with write and compare-and-set — plus the txn encoding. Each
 * applied txn extends a hash chain, so equal chains at equal positions
 * mean equal histories; the snapshot carries the history (a few hundred
 * entries at most in a run) so that checkers can compare replicas that
 * were synced by SNAP. */
#include <string.h>

#include "base/zalloc.h"
#include "jute/jute.h"
#include "sim.h"

void sim_txn_encode(const struct sim_txn *t, uint8_t out[SIM_TXN_BYTES])
{
	struct buf b;
	buf_init(&b);
	jute_put_byte(&b, t->op);
	jute_put_byte(&b, t->key);
	jute_put_long(&b, t->value);
	jute_put_long(&b, t->expect);
	jute_put_int(&b, (int32_t)t->client);
	jute_put_int(&b, (int32_t)t->opid);
	memcpy(out, b.data, SIM_TXN_BYTES);
	buf_free(&b);
}

int sim_txn_decode(const uint8_t *p, size_t n, struct sim_txn *t)
{
	struct jute_reader r;
	if (n != SIM_TXN_BYTES)
		return -1;
	jute_reader_init(&r, p, n, 0, NULL);
	t->op = jute_get_byte(&r);
	t->key = jute_get_byte(&r);
	t->value = jute_get_long(&r);
	t->expect = jute_get_long(&r);
	t->client = (uint32_t)jute_get_int(&r);
	t->opid = (uint32_t)jute_get_int(&r);
	return r.err == JUTE_OK && t->key < SIM_KEYS ? 0 : -1;
}

#define SIM_TXN_TYPE 5  /* setData: a type Java logs; the record stays opaque */

void sim_txn_wrap(uint64_t zxid, const struct sim_txn *t, uint8_t out[SIM_LOGGED_BYTES])
{
	struct buf b;
	buf_init(&b);
	jute_put_long(&b, t->client);     /* clientId */
	jute_put_int(&b, (int32_t)t->opid); /* cxid */
	jute_put_long(&b, (int64_t)zxid);
	jute_put_long(&b, 0);             /* time */
	jute_put_int(&b, SIM_TXN_TYPE);
	memcpy(out, b.data, SIM_HDR_BYTES);
	buf_free(&b);
	sim_txn_encode(t, out + SIM_HDR_BYTES);
}

int sim_txn_unwrap(const uint8_t *p, size_t n, uint64_t *zxid, struct sim_txn *t)
{
	if (n != SIM_LOGGED_BYTES)
		return -1;
	struct jute_reader r;
	jute_reader_init(&r, p, SIM_HDR_BYTES, 0, NULL);
	(void)jute_get_long(&r);
	(void)jute_get_int(&r);
	*zxid = (uint64_t)jute_get_long(&r);
	(void)jute_get_long(&r);
	int32_t type = jute_get_int(&r);
	if (r.err != JUTE_OK || type != SIM_TXN_TYPE)
		return -1;
	return sim_txn_decode(p + SIM_HDR_BYTES, SIM_TXN_BYTES, t);
}

void app_init(struct sim_app *a)
{
	memset(a, 0, sizeof *a);
}

void app_free(struct sim_app *a)
{
	zfree(a->h);
	memset(a, 0, sizeof *a);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static uint64_t txn_hash(uint64_t zxid, const struct sim_txn *t)
{
	uint64_t h = mix(zxid, t->op);
	h = mix(h, t->key);
	h = mix(h, (uint64_t)t->value);
	h = mix(h, (uint64_t)t->expect);
	return mix(h, ((uint64_t)t->client << 32) | t->opid);
}

bool app_apply(struct sim_app *a, uint64_t zxid, const struct sim_txn *t)
{
	bool ok = true;
	if (t->op == TXN_WRITE)
		a->kv[t->key] = t->value;
	else if (t->op == TXN_CAS) {
		ok = a->kv[t->key] == t->expect;
		if (ok)
			a->kv[t->key] = t->value;
	}
	a->chain = mix(a->chain, txn_hash(zxid, t));
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->h = zrealloc(a->h, a->cap * sizeof *a->h);
	}
	a->h[a->n++] = (struct sim_hist){zxid, a->chain, *t, ok};
	return ok;
}

void app_snapshot(const struct sim_app *a, struct buf *out)
{
	jute_put_int(out, (int32_t)a->n);
	for (size_t i = 0; i < a->n; i++) {
		uint8_t t[SIM_TXN_BYTES];
		jute_put_long(out, (int64_t)a->h[i].zxid);
		sim_txn_encode(&a->h[i].txn, t);
		buf_put(out, t, sizeof t);
	}
}

int app_restore(struct sim_app *a, const uint8_t *p, size_t n)
{
	app_free(a);
	if (n == 0)
		return 0;
	struct jute_reader r;
	jute_reader_init(&r, p, n, 0, NULL);
	int32_t cnt = jute_get_int(&r);
	if (cnt < 0 || (size_t)cnt * (8 + SIM_TXN_BYTES) > jute_remaining(&r))
		return -1;
	for (int32_t i = 0; i < cnt; i++) {
		uint64_t zxid = (uint64_t)jute_get_long(&r);
		struct sim_txn t;
		if (sim_txn_decode(p + r.pos, SIM_TXN_BYTES, &t) != 0)
			return -1;
		r.pos += SIM_TXN_BYTES;
		app_apply(a, zxid, &t);  /* replay: same state, same chain */
	}
	return r.err == JUTE_OK ? 0 : -1;
}

uint64_t app_digest(const struct sim_app *a)
{
	uint64_t h = a->chain;
	for (int i = 0; i < SIM_KEYS; i++)
		h = mix(h, (uint64_t)a->kv[i]);
	return h;
}

size_t app_prefix_len(const struct sim_app *a, uint64_t z)
{
	size_t lo = 0, hi = a->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (a->h[mid].zxid <= z)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
