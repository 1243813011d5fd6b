/* zalloc: the allocator every module uses. Owns nothing; on out-of-memory it
 * aborts with the size that was asked for (a server that cannot allocate
 * cannot keep its promises, so it stops loudly instead of limping on).
 * Every size that comes from a client must be checked against a limit
 * before it reaches these functions. */
#ifndef ZABD_BASE_ZALLOC_H
#define ZABD_BASE_ZALLOC_H
#include <stdbool.h>
#include <stddef.h>

void *zmalloc(size_t n);
void *zcalloc(size_t count, size_t n);
void *zrealloc(void *p, size_t n);
char *zstrndup(const char *s, size_t n);
void zfree(void *p);

/* For big, long-lived, randomly accessed memory (the path index): at
 * ZALLOC_HUGE bytes and more, 2 MiB-aligned and marked for transparent huge
 * pages, so random probes into a million-node index walk a few TLB entries
 * instead of thousands of 4 KiB pages. Freed with zfree. `zero`: cleared
 * like zcalloc. */
#define ZALLOC_HUGE ((size_t)2 << 20)
void *zalloc_big(size_t n, bool zero);

#endif
