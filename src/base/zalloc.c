#include "base/zalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void oom(size_t n)
{
	fprintf(stderr, "zabd: out of memory allocating %zu bytes\n", n);
	abort();
}

void *zmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *zcalloc(size_t count, size_t n)
{
	void *p = calloc(count ? count : 1, n ? n : 1);
	if (!p)
		oom(count * n);
	return p;
}

void *zrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *zstrndup(const char *s, size_t n)
{
	char *d = zmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void zfree(void *p)
{
	free(p);
}

void *zalloc_big(size_t n, bool zero)
{
	if (n < ZALLOC_HUGE)
		return zero ? zcalloc(1, n) : zmalloc(n);
	void *p = NULL;
	if (posix_memalign(&p, ZALLOC_HUGE, n) != 0 || !p)
		oom(n);
#ifdef MADV_HUGEPAGE
	/* a hint: with THP in "madvise" mode, 2 MiB pages for this range;
	 * failure only means 4 KiB pages */
	(void)madvise(p, n, MADV_HUGEPAGE);
#endif
	if (zero)
		memset(p, 0, n);
	return p;
}
