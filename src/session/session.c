#include "session/session.h"

#include <string.h>

#include "base/zalloc.h"

static int64_t bucket_time(const struct session_table *t, int64_t at_ms)
{
	/* ExpiryQueue.roundToNextInterval: (floor(at / tick) + 1) * tick */
	return (at_ms / t->tick_ms + 1) * t->tick_ms;
}

void session_table_init(struct session_table *t, int64_t tick_ms, int64_t server_id, int64_t now_ms)
{
	u64map_init(&t->by_id);
	u64map_init(&t->buckets);
	t->tick_ms = tick_ms > 0 ? tick_ms : 1;
	/* §2.9.2: ((now << 24) >>> 8) | (sid << 56) */
	uint64_t id = ((uint64_t)now_ms << 24) >> 8;
	id |= (uint64_t)server_id << 56;
	if (id == 0x8000000000000000ULL)
		id++;
	t->next_id = (int64_t)id;
	t->next_expiry_ms = bucket_time(t, now_ms);
}

static void bucket_unlink(struct session_table *t, struct session *s)
{
	if (!s->expire_at_ms)
		return;
	struct session_bucket *b = u64map_get(&t->buckets, (uint64_t)s->expire_at_ms);
	if (!b)
		return;
	if (s->bprev)
		s->bprev->bnext = s->bnext;
	else
		b->head = s->bnext;
	if (s->bnext)
		s->bnext->bprev = s->bprev;
	s->bnext = s->bprev = NULL;
	if (--b->count == 0) {
		u64map_del(&t->buckets, (uint64_t)b->expire_at_ms);
		zfree(b);
	}
	s->expire_at_ms = 0;
}

static void bucket_link(struct session_table *t, struct session *s, int64_t at)
{
	struct session_bucket *b = u64map_get(&t->buckets, (uint64_t)at);
	if (!b) {
		b = zcalloc(1, sizeof(*b));
		b->expire_at_ms = at;
		u64map_put(&t->buckets, (uint64_t)at, b);
	}
	s->bnext = b->head;
	s->bprev = NULL;
	if (b->head)
		b->head->bprev = s;
	b->head = s;
	b->count++;
	s->expire_at_ms = at;
}

void session_table_free(struct session_table *t)
{
	size_t pos = 0;
	struct u64map_slot *s;
	while ((s = u64map_next(&t->by_id, &pos)))
		zfree(s->value);
	pos = 0;
	while ((s = u64map_next(&t->buckets, &pos)))
		zfree(s->value);
	u64map_free(&t->by_id);
	u64map_free(&t->buckets);
}

int64_t session_alloc_id(struct session_table *t)
{
	return t->next_id++;
}

struct session *session_add(struct session_table *t, int64_t id, int32_t timeout_ms, int64_t now_ms)
{
	struct session *s = u64map_get(&t->by_id, (uint64_t)id);
	if (!s) {
		s = zcalloc(1, sizeof(*s));
		s->id = id;
		u64map_put(&t->by_id, (uint64_t)id, s);
	}
	s->timeout_ms = timeout_ms;
	session_touch(t, s, now_ms);
	return s;
}

struct session *session_get(const struct session_table *t, int64_t id)
{
	return u64map_get(&t->by_id, (uint64_t)id);
}

void session_remove(struct session_table *t, int64_t id)
{
	struct session *s = u64map_del(&t->by_id, (uint64_t)id);
	if (!s)
		return;
	bucket_unlink(t, s);
	zfree(s);
}

void session_touch(struct session_table *t, struct session *s, int64_t now_ms)
{
	int64_t at = bucket_time(t, now_ms + s->timeout_ms);
	if (at == s->expire_at_ms)
		return;
	bucket_unlink(t, s);
	bucket_link(t, s, at);
}

struct session *session_next_expired(struct session_table *t, int64_t now_ms)
{
	while (t->next_expiry_ms <= now_ms) {
		struct session_bucket *b = u64map_get(&t->buckets, (uint64_t)t->next_expiry_ms);
		if (b) {
			struct session *s = b->head;
			bucket_unlink(t, s);
			if (!s->closing)
				return s;
			continue;
		}
		t->next_expiry_ms += t->tick_ms;
	}
	return NULL;
}

int64_t session_next_deadline(const struct session_table *t)
{
	return t->next_expiry_ms;
}

uint32_t session_count(const struct session_table *t)
{
	return (uint32_t)t->by_id.count;
}

/* java.util.Random, bit for bit */
static int32_t jrand_next32(uint64_t *s)
{
	*s = (*s * 0x5DEECE66DULL + 0xBULL) & ((1ULL << 48) - 1);
	return (int32_t)(*s >> 16);
}

void session_password(int64_t id, uint8_t out[16])
{
	uint64_t seed = (uint64_t)id ^ 0xB3415C00ULL;
	uint64_t s = (seed ^ 0x5DEECE66DULL) & ((1ULL << 48) - 1);
	for (int i = 0; i < 16;) {
		uint32_t r = (uint32_t)jrand_next32(&s);
		for (int k = 0; k < 4; k++, r >>= 8)
			out[i++] = (uint8_t)r;
	}
}

bool session_password_ok(int64_t id, const uint8_t *pw, int32_t len)
{
	if (id == 0 || len != 16 || !pw)
		return false;
	uint8_t want[16];
	session_password(id, want);
	return memcmp(want, pw, 16) == 0;
}
