#include "base/slab.h"

#include <string.h>

#include "base/zalloc.h"
#include "base/zassert.h"

void slab_init(struct slab *s)
{
	memset(s, 0, sizeof(*s));
}

void slab_destroy(struct slab *s)
{
	for (size_t i = 0; i < s->n_blocks; i++)
		zfree(s->blocks[i]);
	zfree(s->blocks);
	slab_init(s);
}

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

#ifndef SLAB_ASAN
static void *carve(struct slab *s, size_t sz)
{
	if (s->bump_left < sz) {
		/* the old tail (< sz bytes) is lost: at most SLAB_MAX a block */
		if (s->n_blocks == s->cap_blocks) {
			s->cap_blocks = s->cap_blocks ? s->cap_blocks * 2 : 16;
			s->blocks = zrealloc(s->blocks, s->cap_blocks * sizeof(*s->blocks));
		}
		/* small trees stay in small blocks, a big one takes bigger
		 * ones (plain pages: marking them for huge pages measured no
		 * faster on a 1M restart, the zeroing of 2 MiB pages costs
		 * what the saved faults gain) */
		size_t block = s->n_blocks < SLAB_SMALL_BLOCKS ? SLAB_BLOCK : SLAB_BIG_BLOCK;
		s->bump = zmalloc(block);
		s->blocks[s->n_blocks++] = s->bump;
		s->bump_left = block;
	}
	void *p = s->bump;
	s->bump += sz;
	s->bump_left -= sz;
	return p;
}
#endif

void *slab_alloc(struct slab *s, size_t size)
{
	size_t sz = round8(size ? size : 1);
#ifdef SLAB_ASAN
	(void)s;
	return zmalloc(sz);
#else
	if (sz > SLAB_MAX)
		return zmalloc(sz);
	void **head = &s->free[sz / 8];
	if (*head) {
		void *p = *head;
		memcpy(head, p, sizeof(void *));
		return p;
	}
	return carve(s, sz);
#endif
}

void slab_free(struct slab *s, void *p, size_t size)
{
	if (!p)
		return;
	size_t sz = round8(size ? size : 1);
#ifdef SLAB_ASAN
	(void)s;
	(void)sz;
	zfree(p);
#else
	if (sz > SLAB_MAX) {
		zfree(p);
		return;
	}
	void **head = &s->free[sz / 8];
	memcpy(p, head, sizeof(void *));
	*head = p;
#endif
}
