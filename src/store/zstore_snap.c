/* zstore_snap.c: snapshot files around the core's snapshot bytes (format
 * in zstore.h).
 *
 * The Adler-32 seals cover every byte before them, exactly what Java's
 * CheckedOutputStream has seen when it writes them: the first one the
 * header and the bytes, the second one also the first seal and the
 * trailer. Reading recognises the two layouts Java writes — with the 3.6+
 * digest trailer (version 2, fixed size) and without it (3.5, or
 * zookeeper.digest.enabled=false) — from the end of the file: each is
 * accepted only if its seal(s) check, so bytes that merely look like a
 * seal are not enough. */
#include "store/zstore.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/zalloc.h"
#include "store/snapshot.h"

#define HDR 16
#define SEAL 13
#define TRAILER 20

static void put_seal(struct buf *b, uint32_t adler)
{
	buf_put_be64(b, adler);
	buf_put_be32(b, 1);
	buf_put(b, "/", 1);
}

static int write_all(struct vfs *vfs, struct vfs_file *f, const uint8_t *p, size_t n,
		     uint64_t *off)
{
	int rc = vfs_pwrite(vfs, f, p, n, *off);
	*off += n;
	return rc;
}

int zstore_snapfile_write(struct vfs *vfs, const char *dir, uint64_t zxid, const uint8_t *p,
			  size_t n, struct store_error *e)
{
	char name[64], path[STORE_PATH_MAX], tmp[STORE_PATH_MAX + 8];
	store_name(name, sizeof name, STORE_SNAP_PREFIX, (int64_t)zxid);
	store_path(path, sizeof path, dir, name);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	struct buf head, tail;
	buf_init(&head);
	buf_init(&tail);
	buf_put_be32(&head, SNAPSHOT_MAGIC);
	buf_put_be32(&head, SNAPSHOT_VERSION);
	buf_put_be64(&head, UINT64_MAX);  /* dbid -1 */
	uint32_t a = store_adler32(STORE_ADLER_INIT, head.data, head.len);
	a = store_adler32(a, p, n);
	put_seal(&tail, a);
	buf_put_be64(&tail, 0);  /* digest trailer: zxid 0 (Java ignores it) */
	buf_put_be32(&tail, 2);
	buf_put_be64(&tail, 0);
	a = store_adler32(a, tail.data, tail.len);
	put_seal(&tail, a);
	struct vfs_file *f;
	const char *what = "cannot create snapshot";
	int rc = vfs_open(vfs, tmp, VFS_RDWR | VFS_CREATE | VFS_TRUNC, &f);
	if (rc == 0) {
		uint64_t off = 0;
		what = "cannot write snapshot";
		rc = write_all(vfs, f, head.data, head.len, &off);
		if (rc == 0 && n)
			rc = write_all(vfs, f, p, n, &off);
		if (rc == 0)
			rc = write_all(vfs, f, tail.data, tail.len, &off);
		if (rc == 0 && (what = "cannot fsync snapshot"))
			rc = vfs_sync(vfs, f);
		vfs_close(vfs, f);
		if (rc == 0 && (what = "cannot rename snapshot"))
			rc = vfs_rename(vfs, tmp, path);
		if (rc == 0 && (what = "cannot fsync directory"))
			rc = vfs_sync_dir(vfs, dir);
		if (rc < 0 && strcmp(what, "cannot fsync directory") != 0)
			vfs_unlink(vfs, tmp);
	}
	buf_free(&head);
	buf_free(&tail);
	return rc < 0 ? store_fail(e, STORE_EIO, -rc, tmp, -1, "%s", what) : 0;
}

static bool seal_at(const uint8_t *f, size_t at, uint32_t adler)
{
	return be64_get(f + at) == adler && memcmp(f + at + 8, "\0\0\0\1/", 5) == 0;
}

/* The end of the core's bytes: the offset of the first seal, or 0. */
static size_t content_end(const uint8_t *f, size_t size)
{
	if (size >= HDR + SEAL + TRAILER + SEAL) {
		size_t s1 = size - SEAL - TRAILER - SEAL;
		uint32_t a1 = store_adler32(STORE_ADLER_INIT, f, s1);
		uint32_t a2 = store_adler32(a1, f + s1, SEAL + TRAILER);
		if (seal_at(f, s1, a1) && be32_get(f + s1 + SEAL + 8) >= 2 && seal_at(f, size - SEAL, a2))
			return s1;
	}
	if (size >= HDR + SEAL && seal_at(f, size - SEAL, store_adler32(STORE_ADLER_INIT, f, size - SEAL)))
		return size - SEAL;
	return 0;
}

int zstore_snapfile_read(struct vfs *vfs, const char *path, uint8_t **file, size_t *off,
			 size_t *len, struct store_error *e)
{
	struct vfs_file *f;
	*file = NULL;
	int rc = vfs_open(vfs, path, VFS_RDONLY, &f);
	if (rc < 0)
		return store_fail(e, STORE_EIO, -rc, path, -1, "cannot open snapshot");
	uint64_t size = 0;
	rc = vfs_size(vfs, f, &size);
	if (rc == 0 && size > SIZE_MAX / 2)
		rc = -EFBIG;
	uint8_t *p = NULL;
	if (rc == 0) {
		p = zmalloc(size ? (size_t)size : 1);
		if (size)
			rc = vfs_read_exact(vfs, f, p, (size_t)size, 0);
	}
	vfs_close(vfs, f);
	if (rc != 0) {
		zfree(p);
		return store_fail(e, STORE_EIO, rc < 0 ? -rc : EIO, path, -1, "cannot read snapshot");
	}
	bool magic = size >= HDR && be32_get(p) == SNAPSHOT_MAGIC;
	size_t end = magic ? content_end(p, (size_t)size) : 0;
	if (end < HDR) {
		zfree(p);
		return store_fail(e, STORE_ECORRUPT, 0, path, magic ? (int64_t)size : 0, "%s",
				  magic ? "snapshot seal missing or checksum mismatch"
					: "not a snapshot (bad magic or too short)");
	}
	*file = p;
	*off = HDR;
	*len = end - HDR;
	return 0;
}
