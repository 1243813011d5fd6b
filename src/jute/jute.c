#include "jute/jute.h"

#include <string.h>

void jute_reader_init(struct jute_reader *r, const void *p, size_t len, int32_t max_len,
		      struct arena *arena)
{
	r->p = p;
	r->len = len;
	r->pos = 0;
	r->max_len = max_len;
	r->err = JUTE_OK;
	r->arena = arena;
}

static const uint8_t *take(struct jute_reader *r, size_t n)
{
	if (r->err)
		return NULL;
	if (r->len - r->pos < n) {
		r->err = JUTE_ERR_SHORT;
		r->pos = r->len;
		return NULL;
	}
	const uint8_t *p = r->p + r->pos;
	r->pos += n;
	return p;
}

int32_t jute_get_int(struct jute_reader *r)
{
	const uint8_t *p = take(r, 4);
	return p ? (int32_t)be32_get(p) : 0;
}

int64_t jute_get_long(struct jute_reader *r)
{
	const uint8_t *p = take(r, 8);
	return p ? (int64_t)be64_get(p) : 0;
}

bool jute_get_bool(struct jute_reader *r)
{
	const uint8_t *p = take(r, 1);
	return p ? *p != 0 : false;
}

uint8_t jute_get_byte(struct jute_reader *r)
{
	const uint8_t *p = take(r, 1);
	return p ? *p : 0;
}

struct jute_bytes jute_get_buffer(struct jute_reader *r)
{
	int32_t n = jute_get_int(r);
	if (r->err)
		return JUTE_NULL;
	if (n == -1)
		return JUTE_NULL;
	if (n < 0 || n > r->max_len) {
		r->err = JUTE_ERR_LENGTH;
		return JUTE_NULL;
	}
	const uint8_t *p = take(r, (size_t)n);
	if (!p)
		return JUTE_NULL;
	return (struct jute_bytes){p, n};
}

struct jute_bytes jute_get_ustring(struct jute_reader *r)
{
	return jute_get_buffer(r);
}

int32_t jute_get_count(struct jute_reader *r, size_t min_elem)
{
	int32_t n = jute_get_int(r);
	if (r->err)
		return -1;
	if (n == -1)
		return -1;
	if (n < 0) {
		r->err = JUTE_ERR_COUNT;
		return -1;
	}
	if (min_elem == 0)
		min_elem = 1;
	if ((size_t)n > jute_remaining(r) / min_elem) {
		r->err = JUTE_ERR_COUNT;
		return -1;
	}
	return n;
}

void *jute_alloc_vec(struct jute_reader *r, int32_t count, size_t size)
{
	if (count <= 0 || r->err)
		return NULL;
	void *p = arena_alloc(r->arena, (size_t)count * size);
	memset(p, 0, (size_t)count * size);
	return p;
}

void jute_put_int(struct buf *b, int32_t v)
{
	buf_put_be32(b, (uint32_t)v);
}

void jute_put_long(struct buf *b, int64_t v)
{
	buf_put_be64(b, (uint64_t)v);
}

void jute_put_bool(struct buf *b, bool v)
{
	buf_put_u8(b, v ? 1 : 0);
}

void jute_put_byte(struct buf *b, uint8_t v)
{
	buf_put_u8(b, v);
}

void jute_put_buffer(struct buf *b, struct jute_bytes v)
{
	if (v.len < 0 || (!v.data && v.len > 0)) {
		jute_put_int(b, -1);
		return;
	}
	jute_put_int(b, v.len);
	buf_put(b, v.data, (size_t)v.len);
}

void jute_put_ustring(struct buf *b, struct jute_bytes v)
{
	jute_put_buffer(b, v);
}

void jute_put_cstr(struct buf *b, const char *s)
{
	if (!s) {
		jute_put_int(b, -1);
		return;
	}
	jute_put_strn(b, s, strlen(s));
}

void jute_put_strn(struct buf *b, const char *s, size_t n)
{
	jute_put_int(b, (int32_t)n);
	buf_put(b, s, n);
}

bool jute_bytes_eq(struct jute_bytes a, struct jute_bytes b)
{
	if (a.len != b.len)
		return false;
	return a.len <= 0 || memcmp(a.data, b.data, (size_t)a.len) == 0;
}

bool jute_bytes_eq_str(struct jute_bytes a, const char *s)
{
	size_t n = strlen(s);
	return a.len >= 0 && (size_t)a.len == n && memcmp(a.data, s, n) == 0;
}
