/* vfs.c: helpers shared by every vfs implementation (no I/O of its own). */
#include "store/vfs.h"

#include <errno.h>
#include <string.h>

int vfs_read_exact(struct vfs *v, struct vfs_file *f, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		int64_t r = vfs_pread(v, f, (uint8_t *)buf + got, n - got, off + got);
		if (r < 0)
			return (int)r;
		if (r == 0)
			return 1;
		got += (size_t)r;
	}
	return 0;
}

int vfs_mkdirs(struct vfs *v, const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		char c = tmp[i];
		tmp[i] = '\0';
		int rc = vfs_mkdir(v, tmp);
		tmp[i] = c;
		if (rc < 0)
			return rc;
	}
	return 0;
}
