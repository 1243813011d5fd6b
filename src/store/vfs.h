/* vfs: the file seam of the storage layer. Every byte the txn log, the
 * snapshots, recovery, purge and the epoch files read or write goes through
 * this table of function pointers, so the same code runs on the real disk
 * (vfs_posix.c, the only file of the core that performs I/O) and on the
 * in-memory disk of the tests and the simulator (vfs_mem.c), which can crash
 * and keep, drop or tear what was not fsynced.
 *
 * Conventions: every function returns 0 (or a byte count for pread) on
 * success and a negative errno value (-ENOENT, -EIO, ...) on failure; paths
 * are full paths as the caller built them ("dir/version-2/log.1"); a file
 * handle belongs to the caller until close(). Nothing here allocates on
 * behalf of the caller except the handle. */
#ifndef ZABD_STORE_VFS_H
#define ZABD_STORE_VFS_H
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

enum vfs_open_flags {
	VFS_RDONLY = 0,
	VFS_RDWR = 1,    /* read and write */
	VFS_CREATE = 2,  /* create if missing */
	VFS_TRUNC = 4,   /* cut to zero length on open */
	VFS_EXCL = 8,    /* with VFS_CREATE: fail with -EEXIST if it exists */
};

struct vfs_file;
struct vfs;

/* Called once per directory entry (not "." or ".."); a non-zero return
 * stops the listing and is returned by list(). */
typedef int (*vfs_list_fn)(void *arg, const char *name);

struct vfs {
	int (*xopen)(struct vfs *v, const char *path, int flags, struct vfs_file **out);
	void (*xclose)(struct vfs *v, struct vfs_file *f);
	/* Reads up to n bytes at off; returns the count (short only at EOF). */
	int64_t (*xpread)(struct vfs *v, struct vfs_file *f, void *buf, size_t n, uint64_t off);
	/* Writes all n bytes at off (a short write is an error). */
	int (*xpwrite)(struct vfs *v, struct vfs_file *f, const void *buf, size_t n, uint64_t off);
	/* Makes the file's data (and the size needed to read it) durable. */
	int (*xfsync)(struct vfs *v, struct vfs_file *f);
	/* Sets the length: cuts, or extends with zeros. */
	int (*xtruncate)(struct vfs *v, struct vfs_file *f, uint64_t size);
	int (*xsize)(struct vfs *v, struct vfs_file *f, uint64_t *size);
	int (*xrename)(struct vfs *v, const char *from, const char *to);
	int (*xunlink)(struct vfs *v, const char *path);
	/* Makes the directory's entries (creates, renames, unlinks) durable. */
	int (*xfsync_dir)(struct vfs *v, const char *dir);
	int (*xlist)(struct vfs *v, const char *dir, vfs_list_fn fn, void *arg);
	/* Creates one directory level; 0 if it already exists. */
	int (*xmkdir)(struct vfs *v, const char *path);
	/* Optional (NULL = not known): the first offset >= off that may hold
	 * data, or the file size if only holes (zeros) follow; lets readers
	 * skip the sparse preallocated tail of a txn log without reading it. */
	int (*xnext_data)(struct vfs *v, struct vfs_file *f, uint64_t off, uint64_t *out);
	void *ctx;
};

/* The real file system (vfs_posix.c). Static; never freed. */
struct vfs *vfs_posix(void);

/* Member names carry an x prefix (SQLite's xOpen) so that calls through the
 * table never look like the libc calls tools/tidy.sh bans in the core.
 * Callers use the vfs_* wrappers below. */
static inline int vfs_open(struct vfs *v, const char *path, int flags, struct vfs_file **out)
{
	return v->xopen(v, path, flags, out);
}
static inline void vfs_close(struct vfs *v, struct vfs_file *f)
{
	if (f)
		v->xclose(v, f);
}
static inline int64_t vfs_pread(struct vfs *v, struct vfs_file *f, void *b, size_t n, uint64_t off)
{
	return v->xpread(v, f, b, n, off);
}
static inline int vfs_pwrite(struct vfs *v, struct vfs_file *f, const void *b, size_t n, uint64_t off)
{
	return v->xpwrite(v, f, b, n, off);
}
static inline int vfs_sync(struct vfs *v, struct vfs_file *f)
{
	return v->xfsync(v, f);
}
static inline int vfs_truncate(struct vfs *v, struct vfs_file *f, uint64_t size)
{
	return v->xtruncate(v, f, size);
}
static inline int vfs_size(struct vfs *v, struct vfs_file *f, uint64_t *size)
{
	return v->xsize(v, f, size);
}
static inline int vfs_rename(struct vfs *v, const char *from, const char *to)
{
	return v->xrename(v, from, to);
}
static inline int vfs_unlink(struct vfs *v, const char *path)
{
	return v->xunlink(v, path);
}
static inline int vfs_sync_dir(struct vfs *v, const char *dir)
{
	return v->xfsync_dir(v, dir);
}
static inline int vfs_list(struct vfs *v, const char *dir, vfs_list_fn fn, void *arg)
{
	return v->xlist(v, dir, fn, arg);
}
static inline int vfs_mkdir(struct vfs *v, const char *path)
{
	return v->xmkdir(v, path);
}

/* -ENOTSUP when the vfs cannot tell (then assume data everywhere). */
static inline int vfs_next_data(struct vfs *v, struct vfs_file *f, uint64_t off, uint64_t *out)
{
	return v->xnext_data ? v->xnext_data(v, f, off, out) : -EOPNOTSUPP;
}

/* Helpers built on the table. */
/* Reads exactly n bytes at off: 0, -EIO-like on error, 1 if EOF came first. */
int vfs_read_exact(struct vfs *v, struct vfs_file *f, void *buf, size_t n, uint64_t off);
/* Creates every missing level of path (like mkdir -p). */
int vfs_mkdirs(struct vfs *v, const char *path);

#endif
