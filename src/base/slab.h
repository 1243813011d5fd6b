/* slab: a header-free allocator for many small objects whose size the
 * caller knows again when freeing them (a znode: struct + path + inline
 * data). Sizes round up to 8 bytes; each 8-byte class keeps a free list
 * threaded through its free objects, and new objects are carved from blocks
 * (256 KiB, then 2 MiB) shared by all classes, so an object
 * costs its size rounded to 8 and no malloc chunk header (malloc adds 8
 * bytes and rounds to 16). Objects above SLAB_MAX go to zmalloc. Memory returns to the
 * system only when the slab is destroyed; a freed object is reused by the
 * next object of its class. Under AddressSanitizer every object is its own
 * zmalloc, so use-after-free and overflows are still caught. */
#ifndef ZABD_BASE_SLAB_H
#define ZABD_BASE_SLAB_H
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_ASAN 1
#endif
#endif

#define SLAB_MAX 2048
#define SLAB_BLOCK (256u << 10)    /* the first SLAB_SMALL_BLOCKS blocks */
#define SLAB_SMALL_BLOCKS 8        /* then blocks of SLAB_BIG_BLOCK */
#define SLAB_BIG_BLOCK (2u << 20)

struct slab {
	void *free[SLAB_MAX / 8 + 1];  /* per class (size / 8): free objects */
	char *bump;                    /* unused tail of the newest block */
	size_t bump_left;
	void **blocks;
	size_t n_blocks, cap_blocks;
};

void slab_init(struct slab *s);
/* Frees every block: all objects at once (the caller frees what they own). */
void slab_destroy(struct slab *s);
void *slab_alloc(struct slab *s, size_t size);
/* size: the same size the object was allocated with. */
void slab_free(struct slab *s, void *p, size_t size);

#endif
