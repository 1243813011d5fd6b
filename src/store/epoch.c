/* epoch.c: acceptedEpoch / currentEpoch files (see epoch.h). */
#include "store/epoch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Long.parseLong on the first line: sign, 1+ digits, in range. */
static bool parse_long_line(const char *s, size_t n, int64_t *out)
{
	size_t end = 0;
	while (end < n && s[end] != '\n' && s[end] != '\r')
		end++;
	size_t i = 0;
	bool neg = false;
	if (i < end && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	if (i == end)
		return false;
	uint64_t v = 0;
	uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < end; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (lim - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

int epoch_read(struct vfs *vfs, const char *snap_dir, const char *name, int64_t *out,
	       struct store_error *e)
{
	char path[STORE_PATH_MAX];
	store_path(path, sizeof(path), snap_dir, name);
	struct vfs_file *f;
	int rc = vfs_open(vfs, path, VFS_RDONLY, &f);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return store_fail(e, STORE_EIO, -rc, path, -1, "cannot open epoch file");
	char text[64];
	int64_t n = vfs_pread(vfs, f, text, sizeof(text), 0);
	vfs_close(vfs, f);
	if (n < 0)
		return store_fail(e, STORE_EIO, (int)-n, path, -1, "cannot read epoch file");
	if (!parse_long_line(text, (size_t)n, out))
		return store_fail(e, STORE_ECORRUPT, 0, path, 0,
				  "epoch file does not hold a number");
	return 1;
}

int epoch_write(struct vfs *vfs, const char *snap_dir, const char *name, int64_t value,
		struct store_error *e)
{
	char path[STORE_PATH_MAX], tmp[STORE_PATH_MAX + 8], text[32];
	store_path(path, sizeof(path), snap_dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int len = snprintf(text, sizeof(text), "%lld", (long long)value);
	struct vfs_file *f;
	int rc = vfs_open(vfs, tmp, VFS_RDWR | VFS_CREATE | VFS_TRUNC, &f);
	if (rc < 0)
		return store_fail(e, STORE_EIO, -rc, tmp, -1, "cannot create epoch file");
	rc = vfs_pwrite(vfs, f, text, (size_t)len, 0);
	if (rc == 0)
		rc = vfs_sync(vfs, f);
	vfs_close(vfs, f);
	if (rc == 0)
		rc = vfs_rename(vfs, tmp, path);
	if (rc == 0)
		rc = vfs_sync_dir(vfs, snap_dir);
	if (rc < 0) {
		vfs_unlink(vfs, tmp);
		return store_fail(e, STORE_EIO, -rc, path, -1, "cannot write epoch file");
	}
	return 0;
}
