/* vfs_posix: the real file system behind store/vfs.h. This is the one file
 * of the pure core allowed to perform I/O (tools/tidy.sh exempts it); it
 * only translates calls and errno, and decides nothing. fsync is
 * fdatasync(2): it makes the data durable together with the file size
 * needed to read it back, which is all the log and snapshots rely on. */
#define _GNU_SOURCE /* SEEK_DATA */
#include "store/vfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/zalloc.h"

struct vfs_file {
	int fd;
};

static int px_open(struct vfs *v, const char *path, int flags, struct vfs_file **out)
{
	int of = O_CLOEXEC;
	of |= (flags & VFS_RDWR) ? O_RDWR : O_RDONLY;
	if (flags & VFS_CREATE)
		of |= O_CREAT;
	if (flags & VFS_TRUNC)
		of |= O_TRUNC;
	if (flags & VFS_EXCL)
		of |= O_EXCL;
	int fd;
	do
		fd = open(path, of, 0644);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -errno;
	struct vfs_file *f = zmalloc(sizeof(*f));
	f->fd = fd;
	*out = f;
	return 0;
}

static void px_close(struct vfs *v, struct vfs_file *f)
{
	if (f == NULL)
		return;
	close(f->fd);
	zfree(f);
}

static int64_t px_pread(struct vfs *v, struct vfs_file *f, void *buf, size_t n, uint64_t off)
{
	for (;;) {
		ssize_t r = pread(f->fd, buf, n, (off_t)off);
		if (r >= 0)
			return r;
		if (errno != EINTR)
			return -errno;
	}
}

static int px_pwrite(struct vfs *v, struct vfs_file *f, const void *buf, size_t n, uint64_t off)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = pwrite(f->fd, (const uint8_t *)buf + done, n - done, (off_t)(off + done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		done += (size_t)r;
	}
	return 0;
}

static int px_fsync(struct vfs *v, struct vfs_file *f)
{
	int rc;
	do
		rc = fdatasync(f->fd);
	while (rc < 0 && errno == EINTR);
	return rc < 0 ? -errno : 0;
}

static int px_truncate(struct vfs *v, struct vfs_file *f, uint64_t size)
{
	int rc;
	do
		rc = ftruncate(f->fd, (off_t)size);
	while (rc < 0 && errno == EINTR);
	return rc < 0 ? -errno : 0;
}

static int px_size(struct vfs *v, struct vfs_file *f, uint64_t *size)
{
	struct stat st;
	if (fstat(f->fd, &st) < 0)
		return -errno;
	*size = (uint64_t)st.st_size;
	return 0;
}

/* SEEK_DATA: holes read as zeros; ENXIO = nothing but holes up to EOF. A
 * file system without hole tracking reports all of the file as data. */
static int px_next_data(struct vfs *v, struct vfs_file *f, uint64_t off, uint64_t *out)
{
	off_t r = lseek(f->fd, (off_t)off, SEEK_DATA);
	if (r >= 0) {
		*out = (uint64_t)r;
		return 0;
	}
	if (errno != ENXIO)
		return -errno;
	struct stat st;
	if (fstat(f->fd, &st) < 0)
		return -errno;
	*out = (uint64_t)st.st_size > off ? (uint64_t)st.st_size : off;
	return 0;
}

static int px_rename(struct vfs *v, const char *from, const char *to)
{
	return rename(from, to) < 0 ? -errno : 0;
}

static int px_unlink(struct vfs *v, const char *path)
{
	return unlink(path) < 0 ? -errno : 0;
}

static int px_fsync_dir(struct vfs *v, const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int px_list(struct vfs *v, const char *dir, vfs_list_fn fn, void *arg)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return -errno;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		rc = fn(arg, e->d_name);
		if (rc != 0)
			break;
	}
	closedir(d);
	return rc;
}

static int px_mkdir(struct vfs *v, const char *path)
{
	if (mkdir(path, 0755) == 0)
		return 0;
	if (errno == EEXIST) {
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		return -ENOTDIR;
	}
	return -errno;
}

static struct vfs posix_vfs = {
	.xopen = px_open,
	.xclose = px_close,
	.xpread = px_pread,
	.xpwrite = px_pwrite,
	.xfsync = px_fsync,
	.xtruncate = px_truncate,
	.xsize = px_size,
	.xrename = px_rename,
	.xunlink = px_unlink,
	.xfsync_dir = px_fsync_dir,
	.xlist = px_list,
	.xmkdir = px_mkdir,
	.xnext_data = px_next_data,
	.ctx = NULL,
};

struct vfs *vfs_posix(void)
{
	return &posix_vfs;
}
