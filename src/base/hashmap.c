#include "base/hashmap.h"

#include <string.h>

#include "base/zalloc.h"

/* FNV-1a: short keys (paths) dominate, and it is cheap and good enough. */
uint32_t strmap_hash(const char *key, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 16777619u;
	}
	return h;
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
