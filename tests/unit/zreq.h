/* Test helpers: request bodies as a client encodes them, and small reply
 * decoders. Shared by test_prep_apply.c and test_node.c. */
#ifndef ZABD_TESTS_ZREQ_H
#define ZABD_TESTS_ZREQ_H
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "jute/jute.h"
#include "jute/proto.h"
#include "jute/records.h"

static const struct jr_acl ZT_OPEN_ACL[] = {{.perms = ZPERM_ALL, .id = {{(const uint8_t *)"world", 5},
									 {(const uint8_t *)"anyone", 6}}}};

static inline struct jr_acl zt_acl(int32_t perms, const char *scheme, const char *id)
{
	struct jr_acl a = {.perms = perms, .id = {JUTE_STR(scheme), id ? JUTE_STR(id) : JUTE_NULL}};
	return a;
}

static inline void zt_put_acls(struct buf *b, const struct jr_acl *acl, int32_t n)
{
	jute_put_int(b, n);
	for (int32_t i = 0; i < n; i++) {
		jute_put_int(b, acl[i].perms);
		jute_put_ustring(b, acl[i].id.scheme);
		jute_put_ustring(b, acl[i].id.id);
	}
}

/* data == NULL → null buffer */
static inline void zt_create(struct buf *b, const char *path, const char *data, const struct jr_acl *acl,
			     int32_t n_acl, int32_t flags)
{
	jute_put_cstr(b, path);
	jute_put_cstr(b, data);
	zt_put_acls(b, acl, n_acl);
	jute_put_int(b, flags);
}

static inline void zt_create_ttl(struct buf *b, const char *path, const char *data, int32_t flags, int64_t ttl)
{
	zt_create(b, path, data, ZT_OPEN_ACL, 1, flags);
	jute_put_long(b, ttl);
}

/* ConnectRequest with the readOnly byte (pw NULL: 16 zero bytes). */
static inline void zt_connect(struct buf *b, int64_t last_zxid, int32_t timeout, int64_t sid, const uint8_t *pw)
{
	static const uint8_t zero[16];
	jute_put_int(b, 0);
	jute_put_long(b, last_zxid);
	jute_put_int(b, timeout);
	jute_put_long(b, sid);
	jute_put_buffer(b, (struct jute_bytes){pw ? pw : zero, 16});
	jute_put_bool(b, false);
}

static inline void zt_path_version(struct buf *b, const char *path, int32_t version)
{
	jute_put_cstr(b, path);
	jute_put_int(b, version);
}

static inline void zt_set_data(struct buf *b, const char *path, const char *data, int32_t version)
{
	jute_put_cstr(b, path);
	jute_put_cstr(b, data);
	jute_put_int(b, version);
}

static inline void zt_set_acl(struct buf *b, const char *path, const struct jr_acl *acl, int32_t n,
			      int32_t version)
{
	jute_put_cstr(b, path);
	zt_put_acls(b, acl, n);
	jute_put_int(b, version);
}

/* exists / getData / getChildren(2) */
static inline void zt_path_watch(struct buf *b, const char *path, bool watch)
{
	jute_put_cstr(b, path);
	jute_put_bool(b, watch);
}

static inline void zt_multi_op(struct buf *b, int32_t type)
{
	struct jr_multi_header h = {type, false, -1};
	jr_multi_header_encode(b, &h);
}

static inline void zt_multi_end(struct buf *b)
{
	struct jr_multi_header h = {-1, true, -1};
	jr_multi_header_encode(b, &h);
}

/* A decoded ustring compared with a C string. */
static inline bool zt_str_is(struct jute_bytes v, const char *s)
{
	return jute_bytes_eq_str(v, s);
}

#endif
