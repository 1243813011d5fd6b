/* vfs_mem.c: the crash-modelling in-memory disk (see vfs_mem.h).
 *
 * Data model:
 *   inode  = { data (what reads see), durable (what survives), ops[] (what
 *              happened since the last fsync, in order) }
 *   cur[]  = the namespace as the process sees it: (path, inode) pairs
 *   dur[]  = the namespace a crash falls back to; fsync_dir(d) copies the
 *            entries of d from cur to dur.
 * Inodes are never freed before vfs_mem_destroy (they are small and a test
 * disk is short-lived), which keeps unlink-while-open trivially safe. */
#include "store/vfs_mem.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "base/zalloc.h"
#include "base/zassert.h"

enum { OP_WRITE, OP_TRUNC };

struct mem_op {
	int kind;
	uint64_t off;  /* OP_TRUNC: the new size */
	size_t len;
	uint8_t *bytes;
};

struct mem_inode {
	uint8_t *data;
	size_t len, cap;
	uint8_t *durable;
	size_t durable_len;
	struct mem_op *ops;
	size_t n_ops, cap_ops;
	struct mem_inode *next_all;
};

struct mem_entry {
	char *path;
	struct mem_inode *ino;
};

struct mem_ns {
	struct mem_entry *e;
	size_t n, cap;
};

struct vfs_mem {
	struct vfs vfs;
	struct mem_ns cur, dur;
	char **dirs;
	size_t n_dirs, cap_dirs;
	struct mem_inode *all;
	uint64_t rng;
	uint64_t fsyncs;
	int fail_after[VFS_MEM_FAULT_COUNT];
	int fail_err[VFS_MEM_FAULT_COUNT];
};

struct vfs_file {
	struct mem_inode *ino;
	int flags;
};

static struct vfs_mem *M(struct vfs *v)
{
	return (struct vfs_mem *)v;
}

static uint64_t rnd(struct vfs_mem *m)
{
	/* xorshift64*: deterministic from the seed */
	m->rng ^= m->rng >> 12;
	m->rng ^= m->rng << 25;
	m->rng ^= m->rng >> 27;
	return m->rng * 0x2545F4914F6CDD1DULL;
}

static int fault(struct vfs_mem *m, enum vfs_mem_fault k)
{
	if (m->fail_after[k] < 0)
		return 0;
	if (m->fail_after[k]-- == 0)
		return m->fail_err[k];
	return 0;
}

/* --- namespaces ----------------------------------------------------------- */

static struct mem_entry *ns_find(struct mem_ns *ns, const char *path)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->e[i].path, path) == 0)
			return &ns->e[i];
	return NULL;
}

static void ns_put(struct mem_ns *ns, const char *path, struct mem_inode *ino)
{
	struct mem_entry *e = ns_find(ns, path);
	if (e) {
		e->ino = ino;
		return;
	}
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 16;
		ns->e = zrealloc(ns->e, ns->cap * sizeof(*ns->e));
	}
	ns->e[ns->n].path = zstrndup(path, strlen(path));
	ns->e[ns->n].ino = ino;
	ns->n++;
}

static void ns_del_at(struct mem_ns *ns, size_t i)
{
	zfree(ns->e[i].path);
	ns->e[i] = ns->e[--ns->n];
}

static bool ns_del(struct mem_ns *ns, const char *path)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->e[i].path, path) == 0) {
			ns_del_at(ns, i);
			return true;
		}
	return false;
}

static void ns_clear(struct mem_ns *ns)
{
	while (ns->n)
		ns_del_at(ns, ns->n - 1);
}

/* Is `path` directly inside `dir`? */
static bool in_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (strncmp(path, dir, n) != 0 || path[n] != '/')
		return false;
	return path[n + 1] != '\0' && strchr(path + n + 1, '/') == NULL;
}

static bool dir_exists(struct vfs_mem *m, const char *dir)
{
	for (size_t i = 0; i < m->n_dirs; i++)
		if (strcmp(m->dirs[i], dir) == 0)
			return true;
	return false;
}

static bool parent_exists(struct vfs_mem *m, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL || slash == path)
		return true;  /* relative names and "/x" live in an implicit root */
	char dir[4096];
	size_t n = (size_t)(slash - path);
	if (n >= sizeof(dir))
		return false;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return dir_exists(m, dir);
}

/* --- inodes --------------------------------------------------------------- */

static struct mem_inode *inode_new(struct vfs_mem *m)
{
	struct mem_inode *ino = zcalloc(1, sizeof(*ino));
	ino->next_all = m->all;
	m->all = ino;
	return ino;
}

static void bytes_resize(uint8_t **p, size_t *len, size_t *cap, size_t n)
{
	if (n > *cap) {
		size_t c = *cap ? *cap : 64;
		while (c < n)
			c *= 2;
		*p = zrealloc(*p, c);
		*cap = c;
	}
	if (n > *len)
		memset(*p + *len, 0, n - *len);
	*len = n;
}

static void apply_write(uint8_t **p, size_t *len, size_t *cap, uint64_t off, const void *b, size_t n)
{
	if (n == 0)
		return;
	if (off + n > *len)
		bytes_resize(p, len, cap, (size_t)(off + n));
	memcpy(*p + off, b, n);
}

static void op_push(struct mem_inode *ino, int kind, uint64_t off, const void *b, size_t n)
{
	if (ino->n_ops == ino->cap_ops) {
		ino->cap_ops = ino->cap_ops ? ino->cap_ops * 2 : 8;
		ino->ops = zrealloc(ino->ops, ino->cap_ops * sizeof(*ino->ops));
	}
	struct mem_op *op = &ino->ops[ino->n_ops++];
	op->kind = kind;
	op->off = off;
	op->len = n;
	op->bytes = NULL;
	if (n) {
		op->bytes = zmalloc(n);
		memcpy(op->bytes, b, n);
	}
}

static void ops_clear(struct mem_inode *ino)
{
	for (size_t i = 0; i < ino->n_ops; i++)
		zfree(ino->ops[i].bytes);
	ino->n_ops = 0;
}

static void inode_make_durable(struct mem_inode *ino)
{
	zfree(ino->durable);
	ino->durable = NULL;
	if (ino->len) {
		ino->durable = zmalloc(ino->len);
		memcpy(ino->durable, ino->data, ino->len);
	}
	ino->durable_len = ino->len;
	ops_clear(ino);
}

/* Rebuild `data` as durable + the first `keep` ops, the last of them cut to
 * `tear` bytes when tear != SIZE_MAX. */
static void inode_settle(struct mem_inode *ino, size_t keep, size_t tear)
{
	uint8_t *d = NULL;
	size_t len = 0, cap = 0;
	bytes_resize(&d, &len, &cap, ino->durable_len);
	if (ino->durable_len)
		memcpy(d, ino->durable, ino->durable_len);
	for (size_t i = 0; i < keep && i < ino->n_ops; i++) {
		struct mem_op *op = &ino->ops[i];
		size_t n = op->len;
		if (i + 1 == keep && tear != SIZE_MAX && tear < n)
			n = tear;
		if (op->kind == OP_TRUNC) {
			if (op->off < len)
				len = (size_t)op->off;
			else
				bytes_resize(&d, &len, &cap, (size_t)op->off);
		} else {
			apply_write(&d, &len, &cap, op->off, op->bytes, n);
		}
	}
	zfree(ino->data);
	ino->data = d;
	ino->len = len;
	ino->cap = cap;
	inode_make_durable(ino);
}

/* --- the vfs table -------------------------------------------------------- */

static int m_open(struct vfs *v, const char *path, int flags, struct vfs_file **out)
{
	struct vfs_mem *m = M(v);
	int rc = fault(m, VFS_MEM_FAIL_OPEN);
	if (rc)
		return rc;
	struct mem_entry *e = ns_find(&m->cur, path);
	if (e && (flags & VFS_CREATE) && (flags & VFS_EXCL))
		return -EEXIST;
	if (e == NULL && dir_exists(m, path))
		return -EISDIR;
	struct mem_inode *ino;
	if (e == NULL) {
		if (!(flags & VFS_CREATE))
			return -ENOENT;
		if (!parent_exists(m, path))
			return -ENOENT;
		ino = inode_new(m);
		ns_put(&m->cur, path, ino);
	} else {
		ino = e->ino;
	}
	if ((flags & VFS_TRUNC) && ino->len) {
		ino->len = 0;
		op_push(ino, OP_TRUNC, 0, NULL, 0);
	}
	struct vfs_file *f = zmalloc(sizeof(*f));
	f->ino = ino;
	f->flags = flags;
	*out = f;
	return 0;
}

static void m_close(struct vfs *v, struct vfs_file *f)
{
	zfree(f);
}

static int64_t m_pread(struct vfs *v, struct vfs_file *f, void *buf, size_t n, uint64_t off)
{
	struct mem_inode *ino = f->ino;
	if (off >= ino->len)
		return 0;
	size_t k = ino->len - (size_t)off;
	if (k > n)
		k = n;
	memcpy(buf, ino->data + off, k);
	return (int64_t)k;
}

static int m_pwrite(struct vfs *v, struct vfs_file *f, const void *buf, size_t n, uint64_t off)
{
	if (!(f->flags & VFS_RDWR))
		return -EBADF;
	int rc = fault(M(v), VFS_MEM_FAIL_WRITE);
	if (rc)
		return rc;
	struct mem_inode *ino = f->ino;
	apply_write(&ino->data, &ino->len, &ino->cap, off, buf, n);
	op_push(ino, OP_WRITE, off, buf, n);
	return 0;
}

static int m_fsync(struct vfs *v, struct vfs_file *f)
{
	struct vfs_mem *m = M(v);
	m->fsyncs++;
	int rc = fault(m, VFS_MEM_FAIL_FSYNC);
	if (rc)
		return rc;
	inode_make_durable(f->ino);
	return 0;
}

static int m_truncate(struct vfs *v, struct vfs_file *f, uint64_t size)
{
	if (!(f->flags & VFS_RDWR))
		return -EBADF;
	struct mem_inode *ino = f->ino;
	if (size < ino->len)
		ino->len = (size_t)size;
	else
		bytes_resize(&ino->data, &ino->len, &ino->cap, (size_t)size);
	op_push(ino, OP_TRUNC, size, NULL, 0);
	return 0;
}

static int m_size(struct vfs *v, struct vfs_file *f, uint64_t *size)
{
	*size = f->ino->len;
	return 0;
}

static int m_rename(struct vfs *v, const char *from, const char *to)
{
	struct vfs_mem *m = M(v);
	struct mem_entry *e = ns_find(&m->cur, from);
	if (e == NULL)
		return -ENOENT;
	if (!parent_exists(m, to))
		return -ENOENT;
	struct mem_inode *ino = e->ino;
	ns_del(&m->cur, from);
	ns_put(&m->cur, to, ino);
	return 0;
}

static int m_unlink(struct vfs *v, const char *path)
{
	return ns_del(&M(v)->cur, path) ? 0 : -ENOENT;
}

static int m_fsync_dir(struct vfs *v, const char *dir)
{
	struct vfs_mem *m = M(v);
	m->fsyncs++;
	int rc = fault(m, VFS_MEM_FAIL_FSYNC);
	if (rc)
		return rc;
	if (!dir_exists(m, dir))
		return -ENOENT;
	for (size_t i = m->dur.n; i-- > 0;)
		if (in_dir(m->dur.e[i].path, dir))
			ns_del_at(&m->dur, i);
	for (size_t i = 0; i < m->cur.n; i++)
		if (in_dir(m->cur.e[i].path, dir))
			ns_put(&m->dur, m->cur.e[i].path, m->cur.e[i].ino);
	return 0;
}

static int m_list(struct vfs *v, const char *dir, vfs_list_fn fn, void *arg)
{
	struct vfs_mem *m = M(v);
	if (!dir_exists(m, dir))
		return -ENOENT;
	/* copy the names first: the callback may unlink */
	size_t n = 0;
	char **names = zmalloc((m->cur.n + 1) * sizeof(char *));
	for (size_t i = 0; i < m->cur.n; i++)
		if (in_dir(m->cur.e[i].path, dir)) {
			const char *p = strrchr(m->cur.e[i].path, '/') + 1;
			names[n++] = zstrndup(p, strlen(p));
		}
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = fn(arg, names[i]);
		zfree(names[i]);
	}
	zfree(names);
	return rc;
}

static int m_mkdir(struct vfs *v, const char *path)
{
	struct vfs_mem *m = M(v);
	if (dir_exists(m, path))
		return 0;
	if (ns_find(&m->cur, path))
		return -ENOTDIR;
	if (m->n_dirs == m->cap_dirs) {
		m->cap_dirs = m->cap_dirs ? m->cap_dirs * 2 : 8;
		m->dirs = zrealloc(m->dirs, m->cap_dirs * sizeof(char *));
	}
	m->dirs[m->n_dirs++] = zstrndup(path, strlen(path));
	return 0;
}

/* --- public --------------------------------------------------------------- */

struct vfs *vfs_mem_create(uint64_t seed)
{
	struct vfs_mem *m = zcalloc(1, sizeof(*m));
	m->vfs = (struct vfs){
		.xopen = m_open, .xclose = m_close, .xpread = m_pread, .xpwrite = m_pwrite,
		.xfsync = m_fsync, .xtruncate = m_truncate, .xsize = m_size, .xrename = m_rename,
		.xunlink = m_unlink, .xfsync_dir = m_fsync_dir, .xlist = m_list, .xmkdir = m_mkdir,
		.ctx = m,
	};
	m->rng = seed * 2654435761u + 0x9E3779B97F4A7C15ULL;
	if (m->rng == 0)
		m->rng = 1;
	for (int i = 0; i < VFS_MEM_FAULT_COUNT; i++)
		m->fail_after[i] = -1;
	return &m->vfs;
}

void vfs_mem_destroy(struct vfs *v)
{
	if (v == NULL)
		return;
	struct vfs_mem *m = M(v);
	ns_clear(&m->cur);
	ns_clear(&m->dur);
	zfree(m->cur.e);
	zfree(m->dur.e);
	for (size_t i = 0; i < m->n_dirs; i++)
		zfree(m->dirs[i]);
	zfree(m->dirs);
	while (m->all) {
		struct mem_inode *ino = m->all;
		m->all = ino->next_all;
		ops_clear(ino);
		zfree(ino->ops);
		zfree(ino->data);
		zfree(ino->durable);
		zfree(ino);
	}
	zfree(m);
}

static void crash_files(struct vfs_mem *m, enum vfs_mem_crash_mode mode)
{
	for (struct mem_inode *ino = m->all; ino; ino = ino->next_all) {
		size_t keep = 0, tear = SIZE_MAX;
		if (mode == VFS_MEM_KEEP_ALL) {
			keep = ino->n_ops;
		} else if (mode == VFS_MEM_RANDOM && ino->n_ops) {
			keep = (size_t)(rnd(m) % (ino->n_ops + 1));
			if (keep > 0 && rnd(m) % 2) {
				struct mem_op *last = &ino->ops[keep - 1];
				if (last->kind == OP_WRITE && last->len)
					tear = (size_t)(rnd(m) % last->len);
			}
		}
		inode_settle(ino, keep, tear);
	}
}

void vfs_mem_crash(struct vfs *v, enum vfs_mem_crash_mode mode)
{
	struct vfs_mem *m = M(v);
	crash_files(m, mode);
	for (size_t d = 0; d < m->n_dirs; d++) {
		const char *dir = m->dirs[d];
		bool keep_cur = mode == VFS_MEM_KEEP_ALL || (mode == VFS_MEM_RANDOM && rnd(m) % 2);
		struct mem_ns *from = keep_cur ? &m->cur : &m->dur;
		struct mem_ns *to = keep_cur ? &m->dur : &m->cur;
		for (size_t i = to->n; i-- > 0;)
			if (in_dir(to->e[i].path, dir))
				ns_del_at(to, i);
		for (size_t i = 0; i < from->n; i++)
			if (in_dir(from->e[i].path, dir))
				ns_put(to, from->e[i].path, from->e[i].ino);
	}
	/* entries outside any mkdir'ed directory (relative names) follow the files */
}

void vfs_mem_fail(struct vfs *v, enum vfs_mem_fault kind, int after, int err)
{
	zassert(kind < VFS_MEM_FAULT_COUNT);
	M(v)->fail_after[kind] = after;
	M(v)->fail_err[kind] = err;
}

const uint8_t *vfs_mem_get(struct vfs *v, const char *path, size_t *len)
{
	struct mem_entry *e = ns_find(&M(v)->cur, path);
	if (e == NULL)
		return NULL;
	*len = e->ino->len;
	return e->ino->data ? e->ino->data : (const uint8_t *)"";
}

void vfs_mem_put(struct vfs *v, const char *path, const void *data, size_t len)
{
	struct vfs_mem *m = M(v);
	struct mem_entry *e = ns_find(&m->cur, path);
	struct mem_inode *ino = e ? e->ino : inode_new(m);
	ino->len = 0;
	apply_write(&ino->data, &ino->len, &ino->cap, 0, data, len);
	ino->len = len;
	inode_make_durable(ino);
	ns_put(&m->cur, path, ino);
	ns_put(&m->dur, path, ino);
}

uint64_t vfs_mem_fsyncs(struct vfs *v)
{
	return M(v)->fsyncs;
}
