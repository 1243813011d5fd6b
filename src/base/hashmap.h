/* hashmap: open-addressing hash maps with linear probing and backward-shift
 * deletion (no tombstones), in three flavours:
 *   strmap: keys are byte strings that the *value* owns (a watch's path),
 *           so the map stores only a pointer, the length and the hash;
 *   keymap: the key and its uint32 length sit at fixed offsets inside the
 *           value (a znode's path and path_len), so a slot is one 8-byte
 *           word: the value's address and 16 bits of the key's hash; the
 *           tree's million-entry index is where those bytes count;
 *   u64map: keys are 64-bit integers (session ids, connection ids).
 * Neither map owns its values. Iteration order is unspecified. */
#ifndef ZABD_BASE_HASHMAP_H
#define ZABD_BASE_HASHMAP_H
#include <stddef.h>
#include <stdint.h>

struct strmap_slot {
	const char *key;  /* NULL = empty */
	uint32_t len;
	uint32_t hash;
	void *value;
};

struct strmap {
	struct strmap_slot *slots;
	size_t cap;  /* power of two */
	size_t count;
};

uint32_t strmap_hash(const char *key, size_t len);
void strmap_init(struct strmap *m);
void strmap_free(struct strmap *m);
void *strmap_get(const struct strmap *m, const char *key, size_t len);
/* Insert or replace; `key` must stay valid while the entry exists. */
void strmap_put(struct strmap *m, const char *key, size_t len, void *value);
void *strmap_del(struct strmap *m, const char *key, size_t len);
/* Iterate: start with *pos = 0; returns NULL at the end. */
struct strmap_slot *strmap_next(const struct strmap *m, size_t *pos);

struct keymap {
	uint64_t *slots;  /* 0 = empty, else value address | hash tag << 48 */
	size_t cap;       /* any size; grows by half at load 3/4 */
	size_t count;
	size_t key_off;   /* the key: (const char *)value + key_off */
	size_t len_off;   /* its length: a uint32_t at value + len_off */
};

void keymap_init(struct keymap *m, size_t key_off, size_t len_off);
void keymap_free(struct keymap *m);
void *keymap_get(const struct keymap *m, const char *key, size_t len);
/* Insert value under its key (len bytes at value + key_off) unless that key
 * is present: returns the value already there (nothing inserted), or NULL. */
void *keymap_insert(struct keymap *m, void *value, size_t len);
void *keymap_del(struct keymap *m, const char *key, size_t len);
/* Iterate values: start with *pos = 0; returns NULL at the end. */
void *keymap_next(const struct keymap *m, size_t *pos);
/* Make room for n entries without growing again. */
void keymap_reserve(struct keymap *m, size_t n);
/* The hash a key is filed under; prefetch its home slot and insert with it
 * later, so the slot's cache miss overlaps other work (bulk loading). */
uint64_t keymap_hash(const char *key, size_t len);
void keymap_prefetch(const struct keymap *m, uint64_t h);
void *keymap_insert_hashed(struct keymap *m, void *value, size_t len, uint64_t h);

struct u64map_slot {
	uint64_t key;
	void *value;  /* NULL = empty */
};

struct u64map {
	struct u64map_slot *slots;
	size_t cap;
	size_t count;
};

void u64map_init(struct u64map *m);
void u64map_free(struct u64map *m);
void *u64map_get(const struct u64map *m, uint64_t key);
void u64map_put(struct u64map *m, uint64_t key, void *value);  /* value != NULL */
void *u64map_del(struct u64map *m, uint64_t key);
struct u64map_slot *u64map_next(const struct u64map *m, size_t *pos);

#endif
