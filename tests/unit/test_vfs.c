/* vfs tests: the in-memory disk keeps exactly what was fsynced across a
 * power cut (file data and directory entries separately), can keep or tear
 * unsynced writes, injects faults; the POSIX vfs does the same basic
 * operations on a real temporary directory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include <cmocka.h>

#include "store/vfs.h"
#include "store/vfs_mem.h"

static int collect(void *arg, const char *name)
{
	char *out = arg;
	strcat(out, name);
	strcat(out, ";");
	return 0;
}

static void write_file(struct vfs *v, const char *p, const char *s, bool sync)
{
	struct vfs_file *f;
	assert_int_equal(vfs_open(v, p, VFS_RDWR | VFS_CREATE | VFS_TRUNC, &f), 0);
	assert_int_equal(vfs_pwrite(v, f, s, strlen(s), 0), 0);
	if (sync)
		assert_int_equal(vfs_sync(v, f), 0);
	vfs_close(v, f);
}

static void test_mem_durability(void **state)
{
	struct vfs *v = vfs_mem_create(1);
	assert_int_equal(vfs_mkdirs(v, "/a/b"), 0);
	write_file(v, "/a/b/synced", "hello", true);
	assert_int_equal(vfs_sync_dir(v, "/a/b"), 0);
	write_file(v, "/a/b/unsynced", "lost", false);
	/* the synced file gets an unsynced append */
	struct vfs_file *f;
	assert_int_equal(vfs_open(v, "/a/b/synced", VFS_RDWR, &f), 0);
	assert_int_equal(vfs_pwrite(v, f, " world", 6, 5), 0);
	vfs_close(v, f);
	vfs_mem_crash(v, VFS_MEM_DROP_UNSYNCED);
	size_t len;
	const uint8_t *d = vfs_mem_get(v, "/a/b/synced", &len);
	assert_non_null(d);
	assert_int_equal(len, 5);
	assert_memory_equal(d, "hello", 5);
	assert_null(vfs_mem_get(v, "/a/b/unsynced", &len));  /* its directory entry was never synced */
	vfs_mem_destroy(v);
}

static void test_mem_rename_needs_dir_sync(void **state)
{
	struct vfs *v = vfs_mem_create(2);
	assert_int_equal(vfs_mkdirs(v, "/d"), 0);
	write_file(v, "/d/x.tmp", "new", true);
	assert_int_equal(vfs_rename(v, "/d/x.tmp", "/d/x"), 0);
	char names[256] = "";
	assert_int_equal(vfs_list(v, "/d", collect, names), 0);
	assert_string_equal(names, "x;");
	vfs_mem_crash(v, VFS_MEM_DROP_UNSYNCED);
	size_t len;
	assert_null(vfs_mem_get(v, "/d/x", &len));
	write_file(v, "/d/x.tmp", "new", true);
	assert_int_equal(vfs_rename(v, "/d/x.tmp", "/d/x"), 0);
	assert_int_equal(vfs_sync_dir(v, "/d"), 0);
	vfs_mem_crash(v, VFS_MEM_DROP_UNSYNCED);
	assert_non_null(vfs_mem_get(v, "/d/x", &len));
	assert_null(vfs_mem_get(v, "/d/x.tmp", &len));
	vfs_mem_destroy(v);
}

static void test_mem_random_keeps_a_prefix(void **state)
{
	/* unsynced appends come back as a prefix of what was written */
	for (uint64_t seed = 1; seed < 100; seed++) {
		struct vfs *v = vfs_mem_create(seed);
		assert_int_equal(vfs_mkdirs(v, "/d"), 0);
		write_file(v, "/d/f", "", true);
		assert_int_equal(vfs_sync_dir(v, "/d"), 0);
		struct vfs_file *f;
		assert_int_equal(vfs_open(v, "/d/f", VFS_RDWR, &f), 0);
		const char *text = "0123456789abcdefghij";
		for (int i = 0; i < 4; i++)
			assert_int_equal(vfs_pwrite(v, f, text + i * 5, 5, (uint64_t)i * 5), 0);
		vfs_close(v, f);
		vfs_mem_crash(v, VFS_MEM_RANDOM);
		size_t len;
		const uint8_t *d = vfs_mem_get(v, "/d/f", &len);
		assert_non_null(d);
		assert_true(len <= 20);
		assert_memory_equal(d, text, len);
		vfs_mem_destroy(v);
	}
}

static void test_mem_faults_and_errors(void **state)
{
	struct vfs *v = vfs_mem_create(3);
	struct vfs_file *f;
	assert_int_equal(vfs_open(v, "/nodir/x", VFS_RDWR | VFS_CREATE, &f), -ENOENT);
	assert_int_equal(vfs_mkdirs(v, "/d"), 0);
	assert_int_equal(vfs_open(v, "/d/x", VFS_RDONLY, &f), -ENOENT);
	write_file(v, "/d/x", "abc", true);
	assert_int_equal(vfs_open(v, "/d/x", VFS_RDWR | VFS_CREATE | VFS_EXCL, &f), -EEXIST);
	assert_int_equal(vfs_open(v, "/d/x", VFS_RDONLY, &f), 0);
	assert_int_equal(vfs_pwrite(v, f, "z", 1, 0), -EBADF);
	char buf[8];
	assert_int_equal(vfs_read_exact(v, f, buf, 3, 0), 0);
	assert_int_equal(vfs_read_exact(v, f, buf, 4, 0), 1);  /* EOF first */
	vfs_close(v, f);
	vfs_mem_fail(v, VFS_MEM_FAIL_WRITE, 1, -ENOSPC);
	assert_int_equal(vfs_open(v, "/d/x", VFS_RDWR, &f), 0);
	assert_int_equal(vfs_pwrite(v, f, "1", 1, 0), 0);
	assert_int_equal(vfs_pwrite(v, f, "2", 1, 1), -ENOSPC);
	assert_int_equal(vfs_pwrite(v, f, "3", 1, 2), 0);
	uint64_t size;
	assert_int_equal(vfs_truncate(v, f, 10), 0);
	assert_int_equal(vfs_size(v, f, &size), 0);
	assert_int_equal(size, 10);
	vfs_close(v, f);
	assert_int_equal(vfs_unlink(v, "/d/x"), 0);
	assert_int_equal(vfs_unlink(v, "/d/x"), -ENOENT);
	vfs_mem_destroy(v);
}

static void test_posix(void **state)
{
	char dir[] = "/tmp/zabd-vfs-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct vfs *v = vfs_posix();
	char p[256], q[256], sub[128];
	snprintf(sub, sizeof sub, "%s/a/b", dir);
	assert_int_equal(vfs_mkdirs(v, sub), 0);
	assert_int_equal(vfs_mkdirs(v, sub), 0);
	snprintf(p, sizeof p, "%s/f.tmp", sub);
	snprintf(q, sizeof q, "%s/f", sub);
	write_file(v, p, "data", true);
	assert_int_equal(vfs_rename(v, p, q), 0);
	assert_int_equal(vfs_sync_dir(v, sub), 0);
	char names[256] = "";
	assert_int_equal(vfs_list(v, sub, collect, names), 0);
	assert_string_equal(names, "f;");
	struct vfs_file *f;
	assert_int_equal(vfs_open(v, q, VFS_RDWR, &f), 0);
	uint64_t size;
	assert_int_equal(vfs_truncate(v, f, 4096), 0);
	assert_int_equal(vfs_size(v, f, &size), 0);
	assert_int_equal(size, 4096);
	char buf[8] = {0};
	assert_int_equal(vfs_pread(v, f, buf, 8, 0), 8);
	assert_memory_equal(buf, "data\0\0\0\0", 8);
	vfs_close(v, f);
	assert_int_equal(vfs_open(v, p, VFS_RDONLY, &f), -ENOENT);
	assert_int_equal(vfs_unlink(v, q), 0);
	char d1[128];
	snprintf(d1, sizeof d1, "%s/a", dir);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(d1), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem_durability),
		cmocka_unit_test(test_mem_rename_needs_dir_sync),
		cmocka_unit_test(test_mem_random_keeps_a_prefix),
		cmocka_unit_test(test_mem_faults_and_errors),
		cmocka_unit_test(test_posix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
