#include "tree/acl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "base/zalloc.h"

void acl_cache_init(struct acl_cache *c)
{
	u64map_init(&c->by_ref);
	u64map_init(&c->by_hash);
	c->next_ref = 1;
}

static void list_free(struct acl_list *l)
{
	for (int32_t i = 0; i < l->count; i++) {
		zfree(l->items[i].scheme);
		zfree(l->items[i].id);
	}
	zfree(l->items);
	zfree(l);
}

void acl_cache_free(struct acl_cache *c)
{
	size_t pos = 0;
	struct u64map_slot *s;
	while ((s = u64map_next(&c->by_ref, &pos)))
		list_free(s->value);
	u64map_free(&c->by_ref);
	u64map_free(&c->by_hash);
}

static uint32_t hash_items(const struct jr_acl *items, int32_t count)
{
	uint32_t h = 2166136261u;
	for (int32_t i = 0; i < count; i++) {
		h = (h ^ (uint32_t)items[i].perms) * 16777619u;
		h ^= strmap_hash((const char *)items[i].id.scheme.data,
				 (size_t)(items[i].id.scheme.len > 0 ? items[i].id.scheme.len : 0));
		h *= 16777619u;
		h ^= strmap_hash((const char *)items[i].id.id.data,
				 (size_t)(items[i].id.id.len > 0 ? items[i].id.id.len : 0));
		h *= 16777619u;
	}
	return h;
}

static bool bytes_eq_cstr(struct jute_bytes b, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(b.len > 0 ? b.len : 0) == n && (n == 0 || memcmp(b.data, s, n) == 0);
}

static bool list_equals(const struct acl_list *l, const struct jr_acl *items, int32_t count)
{
	if (l->count != count)
		return false;
	for (int32_t i = 0; i < count; i++) {
		if (l->items[i].perms != items[i].perms || !bytes_eq_cstr(items[i].id.scheme, l->items[i].scheme) ||
		    !bytes_eq_cstr(items[i].id.id, l->items[i].id))
			return false;
	}
	return true;
}

/* A null scheme or id (len -1, data NULL) cannot come from a client —
 * prep rejects it — but can from a corrupt log or snapshot: it is kept as
 * "" rather than copied from a NULL pointer. */
static char *dup_bytes(struct jute_bytes b)
{
	if (b.len <= 0)
		return zstrndup("", 0);
	return zstrndup((const char *)b.data, (size_t)b.len);
}

static struct acl_list *list_new(int64_t ref, uint32_t hash, const struct jr_acl *items, int32_t count)
{
	struct acl_list *l = zmalloc(sizeof(*l));
	l->ref = ref;
	l->refs = 0;
	l->hash = hash;
	l->count = count;
	l->items = zcalloc((size_t)(count > 0 ? count : 1), sizeof(*l->items));
	for (int32_t i = 0; i < count; i++) {
		l->items[i].perms = items[i].perms;
		l->items[i].scheme = dup_bytes(items[i].id.scheme);
		l->items[i].id = dup_bytes(items[i].id.id);
	}
	return l;
}

/* by_hash maps a content hash to a ref; collisions are resolved by probing
 * hash+1, hash+2, ... in the 64-bit key space (keys are hash | probe<<32). */
int64_t acl_cache_intern(struct acl_cache *c, const struct jr_acl *items, int32_t count)
{
	uint32_t h = hash_items(items, count);
	for (uint64_t probe = 0;; probe++) {
		uint64_t key = ((uint64_t)probe << 32) | h;
		struct acl_list *l = u64map_get(&c->by_hash, key);
		if (!l) {
			int64_t ref = c->next_ref++;
			l = list_new(ref, h, items, count);
			l->refs = 1;
			u64map_put(&c->by_ref, (uint64_t)ref, l);
			u64map_put(&c->by_hash, key, l);
			return ref;
		}
		if (list_equals(l, items, count)) {
			l->refs++;
			return l->ref;
		}
	}
}

void acl_cache_put_ref(struct acl_cache *c, int64_t ref, const struct jr_acl *items, int32_t count)
{
	uint32_t h = hash_items(items, count);
	struct acl_list *l = list_new(ref, h, items, count);
	u64map_put(&c->by_ref, (uint64_t)ref, l);
	for (uint64_t probe = 0;; probe++) {
		uint64_t key = ((uint64_t)probe << 32) | h;
		if (!u64map_get(&c->by_hash, key)) {
			u64map_put(&c->by_hash, key, l);
			break;
		}
	}
	if (ref >= c->next_ref)
		c->next_ref = ref + 1;
}

void acl_cache_addref(struct acl_cache *c, int64_t ref)
{
	struct acl_list *l = u64map_get(&c->by_ref, (uint64_t)ref);
	if (l)
		l->refs++;
}

void acl_cache_release(struct acl_cache *c, int64_t ref)
{
	struct acl_list *l = u64map_get(&c->by_ref, (uint64_t)ref);
	if (!l || --l->refs > 0)
		return;
	/* find and drop its by_hash key, then close the probe gap by re-inserting
	 * the entries that follow it in its chain */
	for (uint64_t probe = 0;; probe++) {
		uint64_t key = ((uint64_t)probe << 32) | l->hash;
		struct acl_list *x = u64map_get(&c->by_hash, key);
		if (!x)
			break;
		if (x == l) {
			u64map_del(&c->by_hash, key);
			for (uint64_t p2 = probe + 1;; p2++) {
				uint64_t k2 = ((uint64_t)p2 << 32) | l->hash;
				struct acl_list *y = u64map_del(&c->by_hash, k2);
				if (!y)
					break;
				u64map_put(&c->by_hash, ((uint64_t)(p2 - 1) << 32) | l->hash, y);
			}
			break;
		}
	}
	u64map_del(&c->by_ref, (uint64_t)ref);
	list_free(l);
}

const struct acl_list *acl_cache_get(const struct acl_cache *c, int64_t ref)
{
	if (ref == ACL_REF_OPEN)
		return NULL;
	return u64map_get(&c->by_ref, (uint64_t)ref);
}

static uint32_t java_string_hash(const char *s)
{
	/* String.hashCode over UTF-16 code units; ASCII ids (all that the
	 * schemes produce but digest user names) give the same units */
	uint32_t h = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = 31 * h + *p;
	return h;
}

uint32_t acl_java_id_hash(const char *scheme, const char *id)
{
	uint32_t r = 17;
	r = 37 * r + java_string_hash(scheme);
	r = 37 * r + java_string_hash(id);
	return r;
}

static uint32_t java_bucket(uint32_t h, uint32_t cap)
{
	return (h ^ (h >> 16)) & (cap - 1);
}

void acl_ids_java_order(struct auth_id *ids, size_t n)
{
	uint32_t cap = 16;
	while (n > cap * 3 / 4)
		cap *= 2;
	/* insertion sort: n is a handful */
	for (size_t i = 1; i < n; i++) {
		struct auth_id x = ids[i];
		uint32_t bx = java_bucket(x.java_hash, cap);
		size_t j = i;
		while (j > 0) {
			uint32_t bj = java_bucket(ids[j - 1].java_hash, cap);
			if (bj < bx || (bj == bx && ids[j - 1].seq < x.seq))
				break;
			ids[j] = ids[j - 1];
			j--;
		}
		ids[j] = x;
	}
}

bool acl_ids_have_super(const struct auth_id *ids, size_t n_ids)
{
	for (size_t i = 0; i < n_ids; i++)
		if (strcmp(ids[i].scheme, "super") == 0)
			return true;
	return false;
}

static bool entry_matches(const struct acl_entry *e, const struct auth_id *ids, size_t n_ids)
{
	if (strcmp(e->scheme, "world") == 0 && strcmp(e->id, "anyone") == 0)
		return true;
	for (size_t i = 0; i < n_ids; i++) {
		if (strcmp(ids[i].scheme, e->scheme) != 0)
			continue;
		if (strcmp(e->scheme, "ip") == 0) {
			if (acl_ip_match(e->id, ids[i].id))
				return true;
		} else if (strcmp(ids[i].id, e->id) == 0) {
			return true;
		}
	}
	return false;
}

bool acl_check(const struct acl_cache *c, int64_t ref, int32_t perms, const struct auth_id *ids,
	       size_t n_ids, bool skip_acl)
{
	if (skip_acl)
		return true;
	const struct acl_list *l = acl_cache_get(c, ref);
	if (!l || l->count == 0)
		return true;
	if (acl_ids_have_super(ids, n_ids))
		return true;
	for (int32_t i = 0; i < l->count; i++)
		if ((l->items[i].perms & perms) != 0 && entry_matches(&l->items[i], ids, n_ids))
			return true;
	return false;
}

/* Java's Integer.parseInt on ASCII: an optional sign, then one or more
 * digits, any number of them ("007", "+8" and "-0" are numbers). Values
 * beyond `max` (or negative, other than -0) fail; so does overflow. */
static bool parse_java_uint(const char *s, size_t n, long max, long *out)
{
	size_t i = 0;
	bool neg = false;
	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == n)
		return false;
	long v = 0;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
		if (v > max)
			return false;
	}
	if (neg && v != 0)
		return false;
	*out = v;
	return true;
}

/* Parse dotted IPv4 into 4 bytes as IPAuthenticationProvider does
 * (split on '.', exactly four parts, each parseInt'd into 0..255). */
static bool parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
	int part = 0;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		long v;
		if (part > 3 || !parse_java_uint(s + start, i - start, 255, &v))
			return false;
		out[part++] = (uint8_t)v;
		start = i + 1;
	}
	return part == 4;
}

static bool parse_ip_acl(const char *id, size_t n, uint8_t addr[4], int *bits)
{
	const char *slash = memchr(id, '/', n);
	size_t alen = slash ? (size_t)(slash - id) : n;
	if (!parse_ipv4(id, alen, addr))
		return false;
	*bits = 32;
	if (slash) {
		long b;
		if (!parse_java_uint(slash + 1, n - alen - 1, 32, &b))
			return false;
		*bits = (int)b;
	}
	return true;
}

bool acl_ip_valid(const char *id, size_t n)
{
	uint8_t a[4];
	int bits;
	return parse_ip_acl(id, n, a, &bits);
}

bool acl_ip_match(const char *acl_id, const char *addr)
{
	uint8_t net[4], host[4];
	int bits;
	if (!parse_ip_acl(acl_id, strlen(acl_id), net, &bits))
		return false;
	if (!parse_ipv4(addr, strlen(addr), host))
		return false;
	for (int i = 0; i < 4; i++) {
		int take = bits - i * 8;
		uint8_t mask = take >= 8 ? 0xff : take <= 0 ? 0 : (uint8_t)(0xff << (8 - take));
		if ((net[i] & mask) != (host[i] & mask))
			return false;
	}
	return true;
}

bool acl_digest_valid(const char *id, size_t n)
{
	/* Java: id.split(":").length == 2, where split drops trailing empty
	 * strings: "u:h", "u:h:", ":h" pass; "u:", "u:h:x", "u" fail. */
	size_t end = n;
	while (end > 0 && id[end - 1] == ':')
		end--;
	int parts = end > 0 ? 1 : 0;
	for (size_t i = 0; i < end; i++)
		if (id[i] == ':')
			parts++;
	return parts == 2;
}

void acl_digest_id(const char *cred, size_t n, char *out, size_t out_cap)
{
	const char *colon = memchr(cred, ':', n);
	size_t ulen = colon ? (size_t)(colon - cred) : n;
	unsigned char sha[SHA_DIGEST_LENGTH];
	SHA1((const unsigned char *)cred, n, sha);
	unsigned char b64[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
	EVP_EncodeBlock(b64, sha, SHA_DIGEST_LENGTH);
	snprintf(out, out_cap, "%.*s:%s", (int)ulen, cred, (const char *)b64);
}
