/* vfs_mem: an in-memory disk behind store/vfs.h for unit tests and the
 * simulator. It models what a power cut does to a file system:
 *   - every file has the bytes last made durable by fsync and, on top, the
 *     list of writes and truncates done since (the "unsynced" ops);
 *   - every directory has the entries last made durable by fsync_dir and
 *     the current ones (creates, renames and unlinks since);
 *   - vfs_mem_crash() throws away the process's view and keeps, per file,
 *     the durable bytes plus a prefix of the unsynced ops (all, none, or a
 *     seeded random prefix whose last write may be torn), and per directory
 *     either the current or the durable entries.
 * Directories made with mkdir are durable at once. A torn write keeps a
 * prefix of its bytes (sectors reach the disk in order); garbling is done by
 * tests explicitly with vfs_mem_put(). Pure: no I/O, no clock, seeded. */
#ifndef ZABD_STORE_VFS_MEM_H
#define ZABD_STORE_VFS_MEM_H
#include <stddef.h>
#include <stdint.h>

#include "store/vfs.h"

enum vfs_mem_crash_mode {
	VFS_MEM_KEEP_ALL,       /* the process died, the kernel did not: everything stays */
	VFS_MEM_DROP_UNSYNCED,  /* only what was fsynced (files and directories) stays */
	VFS_MEM_RANDOM,         /* per file a random prefix of the unsynced ops, maybe torn */
};

enum vfs_mem_fault {
	VFS_MEM_FAIL_WRITE,
	VFS_MEM_FAIL_FSYNC,
	VFS_MEM_FAIL_OPEN,
	VFS_MEM_FAULT_COUNT,
};

/* A new, empty disk. Free it with vfs_mem_destroy(). */
struct vfs *vfs_mem_create(uint64_t seed);
void vfs_mem_destroy(struct vfs *v);

/* Power cut. Open handles must not be used afterwards (close them). */
void vfs_mem_crash(struct vfs *v, enum vfs_mem_crash_mode mode);

/* The (after+1)-th next call of that kind fails with err (a negative errno);
 * after = -1 disarms. */
void vfs_mem_fail(struct vfs *v, enum vfs_mem_fault kind, int after, int err);

/* Test access to whole files. get returns a view valid until the next
 * operation on that file (NULL if missing); put replaces the content (and
 * creates the file) durably, as if it had always been on disk. */
const uint8_t *vfs_mem_get(struct vfs *v, const char *path, size_t *len);
void vfs_mem_put(struct vfs *v, const char *path, const void *data, size_t len);

/* Number of fsync calls (files and directories) so far. */
uint64_t vfs_mem_fsyncs(struct vfs *v);

#endif
