#include "base/arena.h"

#include "base/zalloc.h"

struct arena_block {
	struct arena_block *next;
	size_t used;
	size_t cap;
	_Alignas(16) unsigned char mem[];
};

#define ARENA_BLOCK_MIN 16384

void arena_init(struct arena *a)
{
	a->head = NULL;
}

void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct arena_block *b = a->head;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK_MIN ? n : ARENA_BLOCK_MIN;
		struct arena_block *nb = zmalloc(sizeof(*nb) + cap);
		nb->used = 0;
		nb->cap = cap;
		nb->next = b;
		a->head = nb;
		b = nb;
	}
	void *p = b->mem + b->used;
	b->used += n;
	return p;
}

void arena_reset(struct arena *a)
{
	struct arena_block *b = a->head;
	if (!b)
		return;
	/* keep the oldest block (the last in the chain), free the rest */
	while (b->next) {
		struct arena_block *n = b->next;
		zfree(b);
		b = n;
	}
	b->used = 0;
	a->head = b;
}

void arena_free(struct arena *a)
{
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *n = b->next;
		zfree(b);
		b = n;
	}
	a->head = NULL;
}
