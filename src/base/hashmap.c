#include "base/hashmap.h"

#include <string.h>

#include "base/zalloc.h"
#include "base/zassert.h"

static inline uint64_t load64(const char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* Eight bytes per step, multiply-xorshift mixing, then a final avalanche:
 * about a third of FNV-1a's cost on 15-byte paths (FNV-1a does one serial
 * multiply per byte). In-memory only, so byte order does not matter. */
static uint64_t hash64(const char *key, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)len;
	while (len >= 8) {
		h = (h ^ load64(key)) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
		key += 8;
		len -= 8;
	}
	uint64_t t = 0;
	for (size_t i = 0; i < len; i++)
		t |= (uint64_t)(unsigned char)key[i] << (8 * i);
	h = (h ^ t) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 32;
	return h;
}

uint32_t strmap_hash(const char *key, size_t len)
{
	return (uint32_t)hash64(key, len);
}

void strmap_init(struct strmap *m)
{
	m->slots = NULL;
	m->cap = 0;
	m->count = 0;
}

void strmap_free(struct strmap *m)
{
	zfree(m->slots);
	strmap_init(m);
}

static struct strmap_slot *strmap_find(const struct strmap *m, const char *key, size_t len,
				       uint32_t h)
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct strmap_slot *s = &m->slots[i];
		if (!s->key)
			return NULL;
		if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0)
			return s;
	}
}

void *strmap_get(const struct strmap *m, const char *key, size_t len)
{
	struct strmap_slot *s = strmap_find(m, key, len, strmap_hash(key, len));
	return s ? s->value : NULL;
}

static void strmap_insert_slot(struct strmap *m, struct strmap_slot e)
{
	size_t mask = m->cap - 1;
	for (size_t i = e.hash & mask;; i = (i + 1) & mask) {
		if (!m->slots[i].key) {
			m->slots[i] = e;
			return;
		}
	}
}

static void strmap_grow(struct strmap *m)
{
	size_t old_cap = m->cap;
	struct strmap_slot *old = m->slots;
	m->cap = old_cap ? old_cap * 2 : 16;
	m->slots = zcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key)
			strmap_insert_slot(m, old[i]);
	zfree(old);
}

void strmap_put(struct strmap *m, const char *key, size_t len, void *value)
{
	uint32_t h = strmap_hash(key, len);
	struct strmap_slot *s = strmap_find(m, key, len, h);
	if (s) {
		s->key = key;
		s->value = value;
		return;
	}
	if ((m->count + 1) * 4 > m->cap * 3)
		strmap_grow(m);
	strmap_insert_slot(m, (struct strmap_slot){key, (uint32_t)len, h, value});
	m->count++;
}

void *strmap_del(struct strmap *m, const char *key, size_t len)
{
	struct strmap_slot *s = strmap_find(m, key, len, strmap_hash(key, len));
	if (!s)
		return NULL;
	void *v = s->value;
	size_t mask = m->cap - 1;
	size_t i = (size_t)(s - m->slots);
	/* backward-shift deletion keeps probe chains intact without tombstones */
	for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
		size_t home = m->slots[j].hash & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = NULL;
	m->count--;
	return v;
}

struct strmap_slot *strmap_next(const struct strmap *m, size_t *pos)
{
	while (*pos < m->cap) {
		struct strmap_slot *s = &m->slots[(*pos)++];
		if (s->key)
			return s;
	}
	return NULL;
}

/* --- keymap --------------------------------------------------------------- */

/* A slot is one word: the value's address in the low 48 bits (user-space
 * addresses on x86-64 and arm64 fit; asserted on insert) and 16 bits of the
 * key's hash above it, so a probe dereferences a value only when those 16
 * bits match. The home slot comes from the hash's low 32 bits scaled to the
 * capacity (any capacity, not only powers of two, so the table grows by
 * half and a loader can size it for the count it expects), the tag from its
 * top bits; growing and deleting recompute the hash from the key itself. */
#define KM_ADDR_BITS 48
#define KM_ADDR_MASK ((UINT64_C(1) << KM_ADDR_BITS) - 1)

static inline uint64_t km_tag(uint64_t h)
{
	return (h >> KM_ADDR_BITS) << KM_ADDR_BITS;
}

static inline void *km_value(uint64_t slot)
{
	return (void *)(uintptr_t)(slot & KM_ADDR_MASK);
}

static inline const char *km_key(const struct keymap *m, const void *v)
{
	return (const char *)v + m->key_off;
}

static inline size_t km_len(const struct keymap *m, const void *v)
{
	uint32_t len;
	memcpy(&len, (const char *)v + m->len_off, sizeof len);
	return len;
}

static inline size_t km_home(const struct keymap *m, uint64_t h)
{
	return (size_t)(((h & 0xFFFFFFFFu) * (uint64_t)m->cap) >> 32);
}

static inline size_t km_step(const struct keymap *m, size_t i)
{
	return i + 1 == m->cap ? 0 : i + 1;
}

uint64_t keymap_hash(const char *key, size_t len)
{
	return hash64(key, len);
}

void keymap_init(struct keymap *m, size_t key_off, size_t len_off)
{
	m->slots = NULL;
	m->cap = 0;
	m->count = 0;
	m->key_off = key_off;
	m->len_off = len_off;
}

void keymap_free(struct keymap *m)
{
	zfree(m->slots);
	keymap_init(m, m->key_off, m->len_off);
}

static uint64_t *km_find(const struct keymap *m, const char *key, size_t len, uint64_t h)
{
	if (!m->cap)
		return NULL;
	uint64_t tag = km_tag(h);
	for (size_t i = km_home(m, h);; i = km_step(m, i)) {
		uint64_t *s = &m->slots[i];
		if (!*s)
			return NULL;
		if ((*s & ~KM_ADDR_MASK) == tag) {
			const void *v = km_value(*s);
			if (km_len(m, v) == len && memcmp(km_key(m, v), key, len) == 0)
				return s;
		}
	}
}

void *keymap_get(const struct keymap *m, const char *key, size_t len)
{
	uint64_t *s = km_find(m, key, len, hash64(key, len));
	return s ? km_value(*s) : NULL;
}

static uint64_t km_home_hash(const struct keymap *m, uint64_t slot)
{
	const void *v = km_value(slot);
	return hash64(km_key(m, v), km_len(m, v));
}

static void km_place(struct keymap *m, uint64_t slot, uint64_t h)
{
	for (size_t i = km_home(m, h);; i = km_step(m, i)) {
		if (!m->slots[i]) {
			m->slots[i] = slot;
			return;
		}
	}
}

static void km_resize(struct keymap *m, size_t cap)
{
	size_t old_cap = m->cap;
	uint64_t *old = m->slots;
	m->cap = cap;
	m->slots = zalloc_big(m->cap * sizeof(*m->slots), true);
	/* each rehash reads its key: fetch a few slots ahead to overlap the misses */
	enum { AHEAD = 8 };
	for (size_t i = 0; i < old_cap; i++) {
		if (i + AHEAD < old_cap && old[i + AHEAD])
			__builtin_prefetch(km_key(m, km_value(old[i + AHEAD])));
		if (old[i])
			km_place(m, old[i], km_home_hash(m, old[i]));
	}
	zfree(old);
}

void keymap_reserve(struct keymap *m, size_t n)
{
	zassert(n < ((size_t)1 << 31));
	size_t cap = n / 3 * 4 + 16;  /* load <= 3/4 */
	if (cap > m->cap)
		km_resize(m, cap);
}

void keymap_prefetch(const struct keymap *m, uint64_t h)
{
	if (m->cap)
		__builtin_prefetch(&m->slots[km_home(m, h)]);
}

void *keymap_insert_hashed(struct keymap *m, void *value, size_t len, uint64_t h)
{
	zassert(((uintptr_t)value & ~KM_ADDR_MASK) == 0 && value != NULL);
	uint64_t *s = km_find(m, km_key(m, value), len, h);
	if (s)
		return km_value(*s);
	if ((m->count + 1) * 4 > m->cap * 3) {
		zassert(m->cap < ((size_t)1 << 32) / 3 * 2);
		km_resize(m, m->cap ? m->cap + m->cap / 2 : 16);
	}
	km_place(m, (uint64_t)(uintptr_t)value | km_tag(h), h);
	m->count++;
	return NULL;
}

void *keymap_insert(struct keymap *m, void *value, size_t len)
{
	return keymap_insert_hashed(m, value, len, hash64(km_key(m, value), len));
}

void *keymap_del(struct keymap *m, const char *key, size_t len)
{
	uint64_t *s = km_find(m, key, len, hash64(key, len));
	if (!s)
		return NULL;
	void *v = km_value(*s);
	size_t cap = m->cap;
	size_t i = (size_t)(s - m->slots);
	for (size_t j = km_step(m, i); m->slots[j]; j = km_step(m, j)) {
		size_t home = km_home(m, km_home_hash(m, m->slots[j]));
		/* move j back to the hole i unless its home lies in (i, j] */
		size_t d_home = j >= home ? j - home : j + cap - home;
		size_t d_hole = j >= i ? j - i : j + cap - i;
		if (d_home >= d_hole) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i] = 0;
	m->count--;
	return v;
}

void *keymap_next(const struct keymap *m, size_t *pos)
{
	while (*pos < m->cap) {
		uint64_t s = m->slots[(*pos)++];
		if (s)
			return km_value(s);
	}
	return NULL;
}

/* --- u64map --------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

void u64map_init(struct u64map *m)
{
	m->slots = NULL;
	m->cap = 0;
	m->count = 0;
}

void u64map_free(struct u64map *m)
{
	zfree(m->slots);
	u64map_init(m);
}

static struct u64map_slot *u64map_find(const struct u64map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = mix64(key) & mask;; i = (i + 1) & mask) {
		struct u64map_slot *s = &m->slots[i];
		if (!s->value)
			return NULL;
		if (s->key == key)
			return s;
	}
}

void *u64map_get(const struct u64map *m, uint64_t key)
{
	struct u64map_slot *s = u64map_find(m, key);
	return s ? s->value : NULL;
}

static void u64map_insert_slot(struct u64map *m, struct u64map_slot e)
{
	size_t mask = m->cap - 1;
	for (size_t i = mix64(e.key) & mask;; i = (i + 1) & mask) {
		if (!m->slots[i].value) {
			m->slots[i] = e;
			return;
		}
	}
}

void u64map_put(struct u64map *m, uint64_t key, void *value)
{
	struct u64map_slot *s = u64map_find(m, key);
	if (s) {
		s->value = value;
		return;
	}
	if ((m->count + 1) * 4 > m->cap * 3) {
		size_t old_cap = m->cap;
		struct u64map_slot *old = m->slots;
		m->cap = old_cap ? old_cap * 2 : 16;
		m->slots = zcalloc(m->cap, sizeof(*m->slots));
		for (size_t i = 0; i < old_cap; i++)
			if (old[i].value)
				u64map_insert_slot(m, old[i]);
		zfree(old);
	}
	u64map_insert_slot(m, (struct u64map_slot){key, value});
	m->count++;
}

void *u64map_del(struct u64map *m, uint64_t key)
{
	struct u64map_slot *s = u64map_find(m, key);
	if (!s)
		return NULL;
	void *v = s->value;
	size_t mask = m->cap - 1;
	size_t i = (size_t)(s - m->slots);
	for (size_t j = (i + 1) & mask; m->slots[j].value; j = (j + 1) & mask) {
		size_t home = mix64(m->slots[j].key) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].value = NULL;
	m->count--;
	return v;
}

struct u64map_slot *u64map_next(const struct u64map *m, size_t *pos)
{
	while (*pos < m->cap) {
		struct u64map_slot *s = &m->slots[(*pos)++];
		if (s->value)
			return s;
	}
	return NULL;
}
