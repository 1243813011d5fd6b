/* jute: ZooKeeper's binary serialization, the primitives. Big-endian ints and
 * longs, one-byte booleans, length-prefixed buffers and strings (-1 = null)
 * and count-prefixed vectors (-1 = null vector).
 *
 * Reading is done through a bounds-checked cursor with a sticky error: once
 * any read fails every later read returns zero values and the error stays,
 * so decoders check once at the end. Every length is checked against the
 * bytes that remain and against `max_len` (jute.maxbuffer + extrasize) before
 * anything is trusted; vector counts are checked against the smallest
 * possible encoded element, so a hostile count can never make us allocate
 * more than the frame could describe. Decoded strings and buffers are
 * *views* into the input; vectors are allocated from the reader's arena.
 *
 * Writing appends to a struct buf and cannot fail. */
#ifndef ZABD_JUTE_JUTE_H
#define ZABD_JUTE_JUTE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"

/* A borrowed byte string: len == -1 is jute's null. */
struct jute_bytes {
	const uint8_t *data;
	int32_t len;
};

#define JUTE_NULL ((struct jute_bytes){NULL, -1})
#define JUTE_STR(s) ((struct jute_bytes){(const uint8_t *)(s), (int32_t)strlen(s)})

enum jute_err {
	JUTE_OK = 0,
	JUTE_ERR_SHORT,     /* ran past the end of the input */
	JUTE_ERR_LENGTH,    /* negative (other than -1) or over max_len */
	JUTE_ERR_COUNT,     /* vector count impossible for the bytes left */
};

struct jute_reader {
	const uint8_t *p;
	size_t len;
	size_t pos;
	int32_t max_len;   /* largest buffer/string length accepted */
	enum jute_err err;
	struct arena *arena; /* where vectors are allocated; may be NULL if none are read */
};

void jute_reader_init(struct jute_reader *r, const void *p, size_t len, int32_t max_len,
		      struct arena *arena);
static inline size_t jute_remaining(const struct jute_reader *r)
{
	return r->len - r->pos;
}

int32_t jute_get_int(struct jute_reader *r);
int64_t jute_get_long(struct jute_reader *r);
bool jute_get_bool(struct jute_reader *r);  /* any non-zero byte is true, as in Java */
uint8_t jute_get_byte(struct jute_reader *r);
struct jute_bytes jute_get_buffer(struct jute_reader *r);
struct jute_bytes jute_get_ustring(struct jute_reader *r);
/* Returns the count (-1 for a null vector) after checking that `count`
 * elements of at least `min_elem` bytes each fit in what is left. */
int32_t jute_get_count(struct jute_reader *r, size_t min_elem);
/* Arena allocation of `count` elements of `size`, zeroed (NULL if count <= 0). */
void *jute_alloc_vec(struct jute_reader *r, int32_t count, size_t size);

void jute_put_int(struct buf *b, int32_t v);
void jute_put_long(struct buf *b, int64_t v);
void jute_put_bool(struct buf *b, bool v);  /* exactly 0x01 / 0x00 */
void jute_put_byte(struct buf *b, uint8_t v);
void jute_put_buffer(struct buf *b, struct jute_bytes v);
void jute_put_ustring(struct buf *b, struct jute_bytes v);
void jute_put_cstr(struct buf *b, const char *s);  /* NULL → null string */
void jute_put_strn(struct buf *b, const char *s, size_t n);

static inline size_t jute_bytes_size(struct jute_bytes v)
{
	return 4 + (v.len > 0 ? (size_t)v.len : 0);
}

bool jute_bytes_eq(struct jute_bytes a, struct jute_bytes b);
bool jute_bytes_eq_str(struct jute_bytes a, const char *s);

#endif
