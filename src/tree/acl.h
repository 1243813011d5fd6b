/* acl: interned ACL lists and permission checks (zookeeper-protocol.md §2.8).
 *
 * Every distinct ACL list is stored once in the cache with a reference count
 * and a 64-bit id, the way ZooKeeper's ReferenceCountedACLCache does (the
 * snapshot stores the same map). Znodes hold the id, not the list. Id -1
 * stands for OPEN_ACL_UNSAFE without a stored list, as the special nodes
 * have in ZooKeeper. The cache owns the lists and their strings. */
#ifndef ZABD_TREE_ACL_H
#define ZABD_TREE_ACL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hashmap.h"
#include "jute/records.h"

struct acl_entry {
	int32_t perms;
	char *scheme;
	char *id;
};

struct acl_list {
	int64_t ref;      /* cache id */
	uint32_t refs;    /* znodes using it */
	uint32_t hash;
	int32_t count;
	struct acl_entry *items;
};

/* An identity a connection holds: ("ip", "127.0.0.1"), ("digest", "u:hash"),
 * ("super", ""). */
struct auth_id {
	char *scheme;
	char *id;
	uint32_t java_hash;  /* Id.hashCode() of ZooKeeper's jute record */
	uint32_t seq;        /* insertion order */
};

/* A connection's ids are a Java HashSet in ZooKeeper, and its iteration
 * order is visible (the expansion of `auth` ACLs, whoAmI). These keep an
 * array of ids in that order: bucket of the spread hash at the set's
 * capacity, insertion order within a bucket. */
uint32_t acl_java_id_hash(const char *scheme, const char *id);
void acl_ids_java_order(struct auth_id *ids, size_t n);

struct acl_cache {
	struct u64map by_ref;   /* ref -> acl_list */
	struct u64map by_hash;  /* content hash -> first acl_list with it (chained by probing ref) */
	int64_t next_ref;
};

#define ACL_REF_OPEN ((int64_t)-1)

void acl_cache_init(struct acl_cache *c);
void acl_cache_free(struct acl_cache *c);
/* Intern a decoded list (copies it); returns its ref with one more reference. */
int64_t acl_cache_intern(struct acl_cache *c, const struct jr_acl *items, int32_t count);
/* Register a list under a known ref (snapshot load); refs start at 0. */
void acl_cache_put_ref(struct acl_cache *c, int64_t ref, const struct jr_acl *items, int32_t count);
void acl_cache_addref(struct acl_cache *c, int64_t ref);
void acl_cache_release(struct acl_cache *c, int64_t ref);
/* The list for a ref; NULL for ACL_REF_OPEN or an unknown ref. */
const struct acl_list *acl_cache_get(const struct acl_cache *c, int64_t ref);

/* ZooKeeper's checkACL: allowed if the list is open/empty, the caller is
 * super, or an entry with any requested bit matches one of the ids. */
bool acl_check(const struct acl_cache *c, int64_t ref, int32_t perms, const struct auth_id *ids,
	       size_t n_ids, bool skip_acl);
bool acl_ids_have_super(const struct auth_id *ids, size_t n_ids);

/* ip scheme: `a.b.c.d` or `a.b.c.d/bits` (IPv4 only, as in ZooKeeper). */
bool acl_ip_valid(const char *id, size_t n);
bool acl_ip_match(const char *acl_id, const char *addr);
/* digest scheme syntax: Java's "split(':') gives exactly two parts". */
bool acl_digest_valid(const char *id, size_t n);
/* "user:password" -> "user:BASE64(SHA1(user:password))" in out (needs >= n + 30 bytes). */
void acl_digest_id(const char *cred, size_t n, char *out, size_t out_cap);

#endif
