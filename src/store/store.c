/* store.c: shared helpers of the storage layer (see store.h). */
#include "store/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/zalloc.h"
#include "base/zassert.h"

void store_error_clear(struct store_error *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->sys_errno = 0;
	e->path[0] = '\0';
	e->offset = -1;
	e->msg[0] = '\0';
}

int store_fail(struct store_error *e, int code, int sys_errno, const char *path, int64_t offset,
	       const char *fmt, ...)
{
	if (e == NULL)
		return code;
	e->code = code;
	e->sys_errno = sys_errno;
	snprintf(e->path, sizeof(e->path), "%s", path ? path : "");
	e->offset = offset;
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	size_t n = 0;
	if (path && *path)
		n = (size_t)snprintf(e->msg, sizeof(e->msg), "%s: ", path);
	if (n < sizeof(e->msg))
		n += (size_t)snprintf(e->msg + n, sizeof(e->msg) - n, "%s", what);
	if (offset >= 0 && n < sizeof(e->msg))
		n += (size_t)snprintf(e->msg + n, sizeof(e->msg) - n, " at offset %lld",
				      (long long)offset);
	if (sys_errno && n < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - n, " (%s)", strerror(sys_errno));
	return code;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int64_t store_zxid_from_name(const char *name, const char *prefix)
{
	size_t pl = strlen(prefix);
	if (strncmp(name, prefix, pl) != 0 || name[pl] != '.')
		return -1;
	const char *p = name + pl + 1;
	bool neg = false;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (*p == '\0' || *p == '.')
		return -1;
	uint64_t v = 0;
	for (; *p && *p != '.'; p++) {
		int d = hexval(*p);
		if (d < 0 || v > (UINT64_MAX >> 4))
			return -1;
		v = (v << 4) | (uint64_t)d;
	}
	if ((!neg && v > (uint64_t)INT64_MAX) || (neg && v > (uint64_t)INT64_MAX + 1))
		return -1;
	/* a negative zxid is as useless to the readers as a bad name */
	return neg && v ? -1 : (int64_t)v;
}

void store_name(char *out, size_t cap, const char *prefix, int64_t zxid)
{
	snprintf(out, cap, "%s.%llx", prefix, (unsigned long long)zxid);
}

void store_path(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);
	zassert(n > 0 && (size_t)n < cap);
}

struct list_ctx {
	const char *prefix;
	bool include_bad;
	struct store_files *out;
	size_t cap;
};

static int list_one(void *arg, const char *name)
{
	struct list_ctx *c = arg;
	size_t pl = strlen(c->prefix);
	if (strncmp(name, c->prefix, pl) != 0 || name[pl] != '.')
		return 0;
	int64_t z = store_zxid_from_name(name, c->prefix);
	if (z < 0 && !c->include_bad)
		return 0;
	if (strlen(name) >= sizeof(c->out->v[0].name))
		return 0;
	if (c->out->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->out->v = zrealloc(c->out->v, c->cap * sizeof(*c->out->v));
	}
	struct store_file *f = &c->out->v[c->out->n++];
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->zxid = z;
	return 0;
}

static int file_cmp(const void *a, const void *b)
{
	const struct store_file *x = a, *y = b;
	if (x->zxid != y->zxid)
		return x->zxid < y->zxid ? -1 : 1;
	return strcmp(x->name, y->name);
}

int store_list(struct vfs *vfs, const char *dir, const char *prefix, bool include_bad,
	       struct store_files *out, struct store_error *e)
{
	out->v = NULL;
	out->n = 0;
	struct list_ctx c = {prefix, include_bad, out, 0};
	int rc = vfs_list(vfs, dir, list_one, &c);
	if (rc < 0) {
		store_files_free(out);
		return store_fail(e, STORE_EIO, -rc, dir, -1, "cannot list directory");
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), file_cmp);
	return 0;
}

void store_files_free(struct store_files *f)
{
	zfree(f->v);
	f->v = NULL;
	f->n = 0;
}

uint32_t store_adler32(uint32_t adler, const void *p, size_t n)
{
	/* zlib takes uInt lengths; feed huge buffers in slices */
	const uint8_t *b = p;
	while (n) {
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
		adler = (uint32_t)adler32(adler, b, k);
		b += k;
		n -= k;
	}
	return adler;
}
