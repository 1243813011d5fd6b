/* arena: a bump allocator for memory that lives for one step of the core
 * (decoded vectors of a request, scratch lists). arena_reset() frees it all
 * at once, so the request path does no per-object malloc/free. */
#ifndef ZABD_BASE_ARENA_H
#define ZABD_BASE_ARENA_H
#include <stddef.h>

struct arena_block;
struct arena {
	struct arena_block *head;
};

void arena_init(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);
void arena_reset(struct arena *a);  /* keeps the first block for reuse */
void arena_free(struct arena *a);

#endif
