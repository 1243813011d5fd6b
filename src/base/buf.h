/* buf: a growable, owned byte buffer used for everything the server writes
 * (reply frames, txn records, snapshot streams). Appends never fail (the
 * allocator aborts on OOM). Big-endian put helpers match jute's encoding.
 * The buffer owns `data`; a caller may take it with buf_steal(). */
#ifndef ZABD_BASE_BUF_H
#define ZABD_BASE_BUF_H
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_put(struct buf *b, const void *p, size_t n);
void buf_put_u8(struct buf *b, uint8_t v);
void buf_put_be32(struct buf *b, uint32_t v);
void buf_put_be64(struct buf *b, uint64_t v);
/* Overwrite 4 bytes at `off` (used to back-patch a frame length). */
void buf_set_be32(struct buf *b, size_t off, uint32_t v);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (after a partial write). */
void buf_consume(struct buf *b, size_t n);
/* Hand the storage to the caller and leave b empty. */
uint8_t *buf_steal(struct buf *b, size_t *len);

static inline uint32_t be32_get(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t be64_get(const uint8_t *p)
{
	return ((uint64_t)be32_get(p) << 32) | be32_get(p + 4);
}

#endif
