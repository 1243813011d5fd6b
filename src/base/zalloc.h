/* zalloc: the allocator every module uses. Owns nothing; on out-of-memory it
 * aborts with the size that was asked for (a server that cannot allocate
 * cannot keep its promises, so it stops loudly instead of limping on).
 * Every size that comes from a client must be checked against a limit
 * before it reaches these functions. */
#ifndef ZABD_BASE_ZALLOC_H
#define ZABD_BASE_ZALLOC_H
#include <stddef.h>

void *zmalloc(size_t n);
void *zcalloc(size_t count, size_t n);
void *zrealloc(void *p, size_t n);
char *zstrndup(const char *s, size_t n);
void zfree(void *p);

#endif
