/* Snapshot tests: our writer reproduces the 457-byte snapshot.0 of a fresh
 * ZooKeeper 3.8.0 byte for byte (zookeeper-protocol.md §6.5.2, both seals),
 * the reader hands back what was written, every flipped byte and every
 * truncation is caught, 3.5-style files without the digest trailer load,
 * and a crash while writing never leaves a half snapshot under the final
 * name. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "store/snapshot.h"
#include "store/vfs_mem.h"

#define DIR "/d/version-2"

#define LIT(s) {(const uint8_t *)(s), (int32_t)sizeof(s) - 1}
static const struct jr_acl read_unsafe[] = {{1, {LIT("world"), LIT("anyone")}}};
static const struct jr_acl open_unsafe[] = {{31, {LIT("world"), LIT("anyone")}}};

static struct vfs *disk(void)
{
	struct vfs *v = vfs_mem_create(3);
	assert_int_equal(vfs_mkdirs(v, DIR), 0);
	return v;
}

static void node(struct snapshot_writer *w, const char *path, const char *data, int64_t acl,
		 int32_t aversion)
{
	struct snapshot_node n = {.path = JUTE_STR(path), .acl_ref = acl};
	n.data = data ? JUTE_STR(data) : JUTE_NULL;
	n.stat.aversion = aversion;
	struct store_error e;
	assert_int_equal(snapshot_write_node(w, &n, &e), 0);
}

/* The database of a fresh server, in the order 3.8.0 writes it. */
static void write_fresh(struct vfs *v, int64_t zxid)
{
	struct snapshot_writer *w;
	struct store_error e;
	assert_int_equal(snapshot_writer_open(&w, v, DIR, zxid, &e), 0);
	snapshot_write_sessions_begin(w, 0);
	snapshot_write_acls_begin(w, 1);
	snapshot_write_acl(w, 1, read_unsafe, 1);
	node(w, "", "", -1, 0);
	node(w, "/zookeeper", "", -1, 0);
	node(w, "/zookeeper/config", "", 1, -1);
	node(w, "/zookeeper/quota", "", -1, 0);
	assert_int_equal(snapshot_writer_finish(w, NULL, &e), 0);
}

static void test_fresh_snapshot_bytes(void **state)
{
	struct vfs *v = disk();
	write_fresh(v, 0);
	size_t len;
	const uint8_t *f = vfs_mem_get(v, DIR "/snapshot.0", &len);
	assert_non_null(f);
	assert_int_equal(len, 457);
	static const uint8_t head[] = {0x5a, 0x4b, 0x53, 0x4e, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff,
				       0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1};
	assert_memory_equal(f, head, sizeof head);
	/* the seals of §6.5.2: Adler-32 of bytes 0..410, then of 0..440 */
	static const uint8_t seal1[] = {0, 0, 0, 0, 0xb8, 0xa2, 0x3b, 0x49, 0, 0, 0, 1, '/'};
	static const uint8_t trailer[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t seal2[] = {0, 0, 0, 0, 0x95, 0xb9, 0x3d, 0x59, 0, 0, 0, 1, '/'};
	assert_memory_equal(f + 411, seal1, sizeof seal1);
	assert_memory_equal(f + 424, trailer, sizeof trailer);
	assert_memory_equal(f + 444, seal2, sizeof seal2);
	size_t tl;
	assert_null(vfs_mem_get(v, DIR "/snapshot.0.tmp", &tl));
	assert_int_equal(snapshot_quick_check(v, DIR "/snapshot.0", NULL), 1);
	vfs_mem_destroy(v);
}

struct seen {
	int sessions, acls, nodes, digests;
	int64_t session_ids[8];
	int32_t timeouts[8];
	char paths[16][32];
	int64_t acl_refs[16];
	int32_t data_len[16];
	int64_t acl_ids[8];
	int32_t acl_n[8];
	struct snapshot_digest d;
	int stop_at_node;
};

static int s_session(void *a, int64_t id, int32_t to)
{
	struct seen *s = a;
	s->session_ids[s->sessions] = id;
	s->timeouts[s->sessions++] = to;
	return 0;
}

static int s_acl(void *a, int64_t ref, const struct jr_acl *acl, int32_t n)
{
	struct seen *s = a;
	s->acl_ids[s->acls] = ref;
	s->acl_n[s->acls++] = n;
	if (ref == 2) {
		assert_int_equal(n, 2);
		assert_true(jute_bytes_eq_str(acl[1].id.scheme, "digest"));
		assert_true(jute_bytes_eq_str(acl[1].id.id, "u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ="));
	}
	return 0;
}

static int s_node(void *a, const struct snapshot_node *n)
{
	struct seen *s = a;
	if (s->stop_at_node && s->nodes == s->stop_at_node)
		return 1;
	snprintf(s->paths[s->nodes], 32, "%.*s", (int)n->path.len, (const char *)n->path.data);
	s->acl_refs[s->nodes] = n->acl_ref;
	s->data_len[s->nodes++] = n->data.len;
	if (jute_bytes_eq_str(n->path, "/app/e")) {
		assert_int_equal(n->stat.ephemeral_owner, 0x100008c04f60000LL);
		assert_int_equal(n->stat.czxid, 0x10);
		assert_int_equal(n->stat.pzxid, 0x12);
		assert_int_equal(n->stat.version, 3);
		assert_int_equal(n->stat.cversion, -4);
		assert_memory_equal(n->data.data, "\0\1\2\xff", 4);
	}
	return 0;
}

static int s_digest(void *a, const struct snapshot_digest *d)
{
	struct seen *s = a;
	s->digests++;
	s->d = *d;
	return 0;
}

static const struct snapshot_callbacks cbs = {s_session, s_acl, s_node, s_digest, NULL, NULL};

static void write_app(struct vfs *v)
{
	static const struct jr_acl mixed[] = {
		{1, {LIT("world"), LIT("anyone")}},
		{31, {LIT("digest"), LIT("u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=")}}};
	struct snapshot_writer *w;
	struct store_error e;
	assert_int_equal(snapshot_writer_open(&w, v, DIR, 0x2000003e8LL, &e), 0);
	snapshot_write_sessions_begin(w, 2);
	snapshot_write_session(w, 0x100008c04f60000LL, 30000);
	snapshot_write_session(w, -2, 4000);
	snapshot_write_acls_begin(w, 3);
	snapshot_write_acl(w, 1, read_unsafe, 1);
	snapshot_write_acl(w, 2, mixed, 2);
	snapshot_write_acl(w, 3, open_unsafe, 1);
	node(w, "", "", -1, 0);
	node(w, "/app", NULL, 3, 0);
	struct snapshot_node n = {.path = JUTE_STR("/app/e"), .acl_ref = 2,
				  .data = {(const uint8_t *)"\0\1\2\xff", 4}};
	n.stat = (struct jr_stat_persisted){.czxid = 0x10, .mzxid = 0x11, .ctime = 5, .mtime = 6,
					    .version = 3, .cversion = -4, .aversion = 1,
					    .ephemeral_owner = 0x100008c04f60000LL, .pzxid = 0x12};
	assert_int_equal(snapshot_write_node(w, &n, &e), 0);
	node(w, "/zookeeper", "", -1, 0);
	node(w, "/zookeeper/config", "", 1, -1);
	node(w, "/zookeeper/quota", "", -1, 0);
	struct snapshot_digest d = {0x2000003eaLL, 2, 0x123456789abcLL};
	assert_int_equal(snapshot_writer_finish(w, &d, &e), 0);
}

static void test_roundtrip(void **state)
{
	struct vfs *v = disk();
	write_app(v);
	struct seen s = {0};
	struct snapshot_info info;
	struct store_error e;
	assert_int_equal(snapshot_read(v, DIR "/snapshot.2000003e8", &cbs, &s, &info, &e), 0);
	assert_int_equal(info.name_zxid, 0x2000003e8LL);
	assert_int_equal(s.sessions, 2);
	assert_int_equal(info.sessions, 2);
	assert_int_equal(s.session_ids[1], -2);
	assert_int_equal(s.timeouts[0], 30000);
	assert_int_equal(s.acls, 3);
	assert_int_equal(s.nodes, 6);
	assert_int_equal(info.nodes, 6);
	assert_string_equal(s.paths[0], "");
	assert_string_equal(s.paths[2], "/app/e");
	assert_int_equal(s.data_len[1], -1);  /* null data stays null */
	assert_int_equal(s.acl_refs[1], 3);
	assert_int_equal(s.digests, 1);
	assert_true(info.has_digest);
	assert_int_equal(s.d.zxid, 0x2000003eaLL);
	assert_int_equal(s.d.digest, 0x123456789abcLL);
	/* a callback can stop the read */
	struct seen s2 = {.stop_at_node = 2};
	assert_int_equal(snapshot_read(v, DIR "/snapshot.2000003e8", &cbs, &s2, &info, &e),
			 STORE_ECALLBACK);
	vfs_mem_destroy(v);
}

static void test_every_flip_and_cut_is_caught(void **state)
{
	struct vfs *v = disk();
	write_app(v);
	size_t len;
	const uint8_t *f = vfs_mem_get(v, DIR "/snapshot.2000003e8", &len);
	uint8_t orig[2048];
	assert_true(len <= sizeof orig);
	memcpy(orig, f, len);
	const char *p = DIR "/snapshot.2000003e8";
	struct snapshot_info info;
	struct store_error e;
	for (size_t i = 0; i < len; i++) {
		uint8_t img[2048];
		memcpy(img, orig, len);
		img[i] ^= 0x20;
		vfs_mem_put(v, p, img, len);
		/* either the reader or Java's quick check (which recovery runs
		 * first) rejects it: nothing corrupt loads */
		int read = snapshot_read(v, p, NULL, NULL, &info, &e);
		int quick = snapshot_quick_check(v, p, &e);
		assert_true(read != 0 || quick != 1);
		if (read != 0 && read != STORE_ECORRUPT)
			fail_msg("byte %zu: unexpected error %d", i, read);
	}
	for (size_t cut = 0; cut < len; cut++) {
		vfs_mem_put(v, p, orig, cut);
		bool loads = snapshot_quick_check(v, p, &e) == 1 &&
			     snapshot_read(v, p, NULL, NULL, &info, &e) == 0;
		/* the only prefix that loads is the 3.5 layout: up to the first seal */
		if (loads)
			assert_false(info.has_digest);
	}
	vfs_mem_destroy(v);
}

static void test_35_snapshot_without_trailer(void **state)
{
	struct vfs *v = disk();
	write_fresh(v, 0);
	size_t len;
	const uint8_t *f = vfs_mem_get(v, DIR "/snapshot.0", &len);
	uint8_t img[457];
	memcpy(img, f, 424);  /* header .. nodes .. first seal */
	vfs_mem_put(v, DIR "/snapshot.0", img, 424);
	struct seen s = {0};
	struct snapshot_info info;
	struct store_error e;
	assert_int_equal(snapshot_quick_check(v, DIR "/snapshot.0", &e), 1);
	assert_int_equal(snapshot_read(v, DIR "/snapshot.0", &cbs, &s, &info, &e), 0);
	assert_false(info.has_digest);
	assert_int_equal(s.digests, 0);
	assert_int_equal(s.nodes, 4);
	vfs_mem_destroy(v);
}

static void test_crash_while_writing(void **state)
{
	for (int mode = 0; mode < 3; mode++) {
		struct vfs *v = disk();
		struct snapshot_writer *w;
		struct store_error e;
		assert_int_equal(snapshot_writer_open(&w, v, DIR, 7, &e), 0);
		snapshot_write_sessions_begin(w, 0);
		snapshot_write_acls_begin(w, 0);
		node(w, "", "", -1, 0);
		/* the process dies before finish: the writer is never used again */
		vfs_mem_crash(v, (enum vfs_mem_crash_mode)mode);
		size_t len;
		assert_null(vfs_mem_get(v, DIR "/snapshot.7", &len));
		snapshot_writer_abort(w);
		/* a finished snapshot survives a power cut whole */
		write_fresh(v, 9);
		vfs_mem_crash(v, VFS_MEM_DROP_UNSYNCED);
		assert_non_null(vfs_mem_get(v, DIR "/snapshot.9", &len));
		assert_int_equal(len, 457);
		vfs_mem_destroy(v);
	}
}

static void test_bad_magic_and_lengths(void **state)
{
	struct vfs *v = disk();
	struct snapshot_info info;
	struct store_error e;
	vfs_mem_put(v, DIR "/snapshot.1", "ZKLG\0\0\0\2\0\0\0\0\0\0\0\0\0\0\0\1/", 21);
	assert_int_equal(snapshot_read(v, DIR "/snapshot.1", NULL, NULL, &info, &e),
			 STORE_ECORRUPT);
	assert_non_null(strstr(e.msg, "magic"));
	/* a session count that the file cannot hold is refused before any work */
	uint8_t img[64] = {0x5a, 0x4b, 0x53, 0x4e, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			   0xff, 0xff, 0x7f, 0xff, 0xff, 0xff};
	vfs_mem_put(v, DIR "/snapshot.2", img, sizeof img);
	assert_int_equal(snapshot_read(v, DIR "/snapshot.2", NULL, NULL, &info, &e),
			 STORE_ECORRUPT);
	assert_int_equal(e.offset, 16);
	vfs_mem_destroy(v);
}

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int count_nodes(void *a, const struct snapshot_node *n)
{
	(*(int *)a)++;
	return 0;
}

/* Bad input gets an error, never a crash or a huge allocation: mutate a
 * valid snapshot at random (bytes, counts, lengths, cuts) and read it. */
static void test_garbage_never_crashes(void **state)
{
	struct vfs *v = disk();
	write_app(v);
	size_t len;
	const char *p = DIR "/snapshot.2000003e8";
	const uint8_t *f = vfs_mem_get(v, p, &len);
	uint8_t orig[2048];
	memcpy(orig, f, len);
	uint64_t seed = 99;
	struct snapshot_callbacks cb = {.on_node = count_nodes};
	for (int round = 0; round < 4000; round++) {
		uint8_t img[2048];
		memcpy(img, orig, len);
		size_t n = len;
		int muts = 1 + (int)(xs(&seed) % 4);
		for (int m = 0; m < muts; m++) {
			size_t at = (size_t)(xs(&seed) % n);
			uint64_t how = xs(&seed) % 4;
			img[at] = how == 0 ? 0xff : how == 1 ? 0x7f : (uint8_t)(img[at] ^ (1u << (xs(&seed) % 8)));
		}
		if (xs(&seed) % 4 == 0)
			n = (size_t)(xs(&seed) % n);
		vfs_mem_put(v, p, img, n);
		int nodes = 0;
		struct snapshot_info info;
		struct store_error e;
		int rc = snapshot_read(v, p, &cb, &nodes, &info, &e);
		assert_true(rc == 0 || rc == STORE_ECORRUPT);
		assert_true(nodes <= 6);
	}
	vfs_mem_destroy(v);
}

/* gzip (RFC 1952) of src, as Java's GZIPOutputStream writes it */
static size_t gzip(const uint8_t *src, size_t n, uint8_t *dst, size_t cap)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)src;
	zs.avail_in = (uInt)n;
	zs.next_out = dst;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	size_t out = cap - zs.avail_out;
	deflateEnd(&zs);
	return out;
}

/* snapshot.compression.method=gz: snapshot.<hex>.gz is read through zlib
 * and the seals cover the inflated bytes. */
static void test_gz_snapshot(void **state)
{
	struct vfs *v = disk();
	write_app(v);
	size_t len;
	const uint8_t *f = vfs_mem_get(v, DIR "/snapshot.2000003e8", &len);
	uint8_t z[2048];
	size_t zn = gzip(f, len, z, sizeof z);
	const char *p = DIR "/snapshot.2000003e8.gz";
	vfs_mem_put(v, p, z, zn);
	struct store_error e;
	assert_true(snapshot_is_gz(p));
	assert_int_equal(snapshot_quick_check(v, p, &e), 1);
	struct seen s = {0};
	struct snapshot_info info;
	assert_int_equal(snapshot_read(v, p, &cbs, &s, &info, &e), 0);
	assert_int_equal(info.name_zxid, 0x2000003e8LL);
	assert_int_equal(s.nodes, 6);
	assert_int_equal(s.sessions, 2);
	assert_true(info.has_digest);
	assert_int_equal(info.size, len);
	/* a cut or damaged compressed stream is an error, never a load */
	for (size_t cut = 0; cut < zn; cut += 7) {
		vfs_mem_put(v, p, z, cut);
		assert_int_not_equal(snapshot_read(v, p, NULL, NULL, &info, &e), 0);
	}
	for (size_t i = 10; i < zn - 8; i += 5) {
		uint8_t bad[2048];
		memcpy(bad, z, zn);
		bad[i] ^= 0x10;
		vfs_mem_put(v, p, bad, zn);
		struct seen s2 = {0};
		int rc = snapshot_read(v, p, &cbs, &s2, &info, &e);
		/* some bits of a deflate stream do not change what it inflates to
		 * (e.g. code lengths of unused symbols); then it must load the same */
		if (rc == 0)
			assert_true(s2.nodes == 6 && s2.d.digest == s.d.digest);
		else if (rc != STORE_ECORRUPT)
			fail_msg("flip at %zu of %zu: %d", i, zn, rc);
	}
	/* the quick check of a .gz is its magic */
	vfs_mem_put(v, p, f, len);
	assert_int_equal(snapshot_quick_check(v, p, &e), 0);
	vfs_mem_destroy(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_snapshot_bytes),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_every_flip_and_cut_is_caught),
		cmocka_unit_test(test_35_snapshot_without_trailer),
		cmocka_unit_test(test_crash_while_writing),
		cmocka_unit_test(test_bad_magic_and_lengths),
		cmocka_unit_test(test_garbage_never_crashes),
		cmocka_unit_test(test_gz_snapshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
