/* txnlog.c: writing log.<zxid> files (the format is described in txnlog.h;
 * reading lives in txnlog_read.c).
 *
 * Invariants of a writer:
 *  1. f == NULL between open/roll and the next append; the append that finds
 *     it NULL creates log.<its zxid> (truncating a stale file of that name,
 *     as Java's new FileOutputStream does) and queues the 16-byte header
 *     first, so the header reaches the file in the same write as the first
 *     entry and a log file is never left empty by us.
 *  2. data_end is where the next queued byte lands; padded is the file size
 *     including preallocation; padded > data_end + 4096 after each flush
 *     (Java's FilePadding rule: grow by preAllocSize when within 4 KiB).
 *  3. A commit fsyncs the file and, the first time, its directory, so a new
 *     file cannot vanish in a crash after its txns were reported durable.
 *  4. After any vfs failure the writer is dead (failed): an fsync that failed
 *     may have dropped dirty pages, so retrying would lie about durability. */
#include "store/txnlog.h"

#include <errno.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/zalloc.h"
#include "base/zassert.h"

/* Flush the queue without fsync once it holds this much. */
#define FLUSH_AT (1u << 20)

struct txnlog {
	struct vfs *vfs;
	char dir[STORE_PATH_MAX];
	struct txnlog_opts opts;
	struct vfs_file *f;
	char path[STORE_PATH_MAX];
	bool dir_unsynced;
	uint64_t data_end;
	uint64_t padded;
	uint64_t bytes_prev_files;
	struct buf q;
	bool dirty;  /* written since the last fsync */
	int failed;
	struct txnlog_stats st;
};

void txnlog_opts_default(struct txnlog_opts *o)
{
	o->prealloc_bytes = TXNLOG_PREALLOC_DEFAULT;
	o->force_sync = true;
	o->max_body_len = STORE_MAX_RECORD;
}

struct txnlog *txnlog_open(struct vfs *vfs, const char *log_dir, const struct txnlog_opts *opts)
{
	struct txnlog *lg = zcalloc(1, sizeof(*lg));
	lg->vfs = vfs;
	size_t n = strlen(log_dir);
	zassert(n < sizeof(lg->dir));
	memcpy(lg->dir, log_dir, n + 1);
	if (opts)
		lg->opts = *opts;
	else
		txnlog_opts_default(&lg->opts);
	buf_init(&lg->q);
	lg->st.last_zxid = -1;
	return lg;
}

void txnlog_close(struct txnlog *lg)
{
	if (lg == NULL)
		return;
	vfs_close(lg->vfs, lg->f);
	buf_free(&lg->q);
	zfree(lg);
}

static int fail_io(struct txnlog *lg, struct store_error *e, int rc, const char *what)
{
	lg->failed = STORE_EIO;
	return store_fail(e, STORE_EIO, -rc, lg->path, -1, "%s", what);
}

static int dead(struct txnlog *lg, struct store_error *e)
{
	return store_fail(e, lg->failed, 0, lg->path, -1,
			  "txn log writer stopped after an earlier error");
}

static int create_file(struct txnlog *lg, int64_t zxid, struct store_error *e)
{
	char name[64];
	store_name(name, sizeof(name), STORE_LOG_PREFIX, zxid);
	store_path(lg->path, sizeof(lg->path), lg->dir, name);
	int rc = vfs_open(lg->vfs, lg->path, VFS_RDWR | VFS_CREATE | VFS_TRUNC, &lg->f);
	if (rc < 0) {
		lg->f = NULL;
		return fail_io(lg, e, rc, "cannot create txn log");
	}
	lg->dir_unsynced = true;
	lg->data_end = 0;
	lg->padded = 0;
	buf_put_be32(&lg->q, TXNLOG_MAGIC);
	buf_put_be32(&lg->q, TXNLOG_VERSION);
	buf_put_be64(&lg->q, 0);  /* dbid: always 0 in 3.8 */
	lg->st.files++;
	return 0;
}

/* FilePadding.calculateFileSizeWithPadding, applied at the data end. */
static uint64_t padded_size(uint64_t position, uint64_t size, uint64_t prealloc)
{
	if (prealloc == 0 || position + 4096 < size)
		return size;
	if (position > size) {
		uint64_t s = position + prealloc;
		return s - s % prealloc;
	}
	return size + prealloc;
}

static int flush(struct txnlog *lg, struct store_error *e)
{
	if (lg->q.len == 0)
		return 0;
	uint64_t end = lg->data_end + lg->q.len;
	/* the header is the file's first 16 bytes: Java pads from there */
	uint64_t base = lg->padded ? lg->padded : TXNLOG_HEADER_LEN;
	/* Java checks at the position before each append; we check at the start
	 * of the batch, then once more at its end for batches that outgrow it */
	uint64_t pos = lg->data_end > TXNLOG_HEADER_LEN ? lg->data_end : TXNLOG_HEADER_LEN;
	uint64_t want = padded_size(pos, base, lg->opts.prealloc_bytes);
	if (end + 4096 >= want)
		want = padded_size(end, want, lg->opts.prealloc_bytes);
	if (want > lg->padded && lg->opts.prealloc_bytes) {
		int rc = vfs_truncate(lg->vfs, lg->f, want);
		if (rc < 0)
			return fail_io(lg, e, rc, "cannot preallocate txn log");
		lg->padded = want;
	}
	int rc = vfs_pwrite(lg->vfs, lg->f, lg->q.data, lg->q.len, lg->data_end);
	if (rc < 0)
		return fail_io(lg, e, rc, "cannot write txn log");
	lg->data_end = end;
	if (lg->padded < end)
		lg->padded = end;
	lg->q.len = 0;
	lg->dirty = true;
	return 0;
}

int txnlog_append(struct txnlog *lg, int64_t zxid, const void *body, size_t len,
		  struct store_error *e)
{
	if (lg->failed)
		return dead(lg, e);
	if (len < 32 || len > (size_t)lg->opts.max_body_len)
		return store_fail(e, STORE_EINVAL, 0, lg->path, -1,
				  "txn body of %zu bytes is outside 32..%d", len,
				  lg->opts.max_body_len);
	zassert((int64_t)be64_get((const uint8_t *)body + 12) == zxid);
	if (zxid <= lg->st.last_zxid)
		log_warn("txn log: zxid 0x%llx appended after 0x%llx", (unsigned long long)zxid,
			 (unsigned long long)lg->st.last_zxid);
	if (lg->f == NULL) {
		int rc = create_file(lg, zxid, e);
		if (rc)
			return rc;
	}
	buf_put_be64(&lg->q, store_adler32(STORE_ADLER_INIT, body, len));
	buf_put_be32(&lg->q, (uint32_t)len);
	buf_put(&lg->q, body, len);
	buf_put_u8(&lg->q, TXNLOG_EOR);
	lg->st.txns++;
	lg->st.last_zxid = zxid;
	if (lg->q.len >= FLUSH_AT)
		return flush(lg, e);
	return 0;
}

int txnlog_write(struct txnlog *lg, struct store_error *e)
{
	if (lg->failed)
		return dead(lg, e);
	return lg->f == NULL ? 0 : flush(lg, e);
}

int txnlog_commit(struct txnlog *lg, struct store_error *e)
{
	if (lg->failed)
		return dead(lg, e);
	if (lg->f == NULL)
		return 0;
	bool had = lg->q.len > 0 || lg->dirty;
	int rc = flush(lg, e);
	if (rc)
		return rc;
	if (!had)
		return 0;
	lg->st.commits++;
	if (lg->opts.force_sync) {
		rc = vfs_sync(lg->vfs, lg->f);
		if (rc < 0)
			return fail_io(lg, e, rc, "fsync of txn log failed");
		lg->st.fsyncs++;
		if (lg->dir_unsynced) {
			rc = vfs_sync_dir(lg->vfs, lg->dir);
			if (rc < 0)
				return fail_io(lg, e, rc, "fsync of txn log directory failed");
			lg->dir_unsynced = false;
		}
	}
	lg->dirty = false;
	return 0;
}

int txnlog_roll(struct txnlog *lg, struct store_error *e)
{
	if (lg->f == NULL)
		return lg->failed ? dead(lg, e) : 0;
	int rc = txnlog_commit(lg, e);
	if (rc)
		return rc;
	vfs_close(lg->vfs, lg->f);
	lg->f = NULL;
	lg->bytes_prev_files = 0;
	lg->padded = 0;
	lg->data_end = 0;
	return 0;
}

void txnlog_get_stats(const struct txnlog *lg, struct txnlog_stats *out)
{
	*out = lg->st;
	out->bytes_since_roll = lg->bytes_prev_files + (lg->f ? lg->padded : 0);
}

/* --- snapshot policy ------------------------------------------------------ */

static uint64_t policy_rand(struct txnlog_snap_policy *p)
{
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return p->rng * 0x2545F4914F6CDD1DULL;
}

static void policy_reset(struct txnlog_snap_policy *p)
{
	p->count = 0;
	p->rand_roll = (int64_t)(policy_rand(p) % (uint64_t)(p->snap_count / 2));
	p->rand_size = 0;
	if (p->snap_size_bytes > 1)
		p->rand_size = (int64_t)(policy_rand(p) % (uint64_t)(p->snap_size_bytes / 2));
}

void txnlog_snap_policy_init(struct txnlog_snap_policy *p, int64_t snap_count,
			     int64_t snap_size_kb, uint64_t seed)
{
	memset(p, 0, sizeof(*p));
	p->snap_count = snap_count < 2 ? 2 : snap_count;
	/* Java divides by zero on 0; we treat <= 0 as "off" (§7.3) */
	p->snap_size_bytes = snap_size_kb > 0 ? snap_size_kb * 1024 : 0;
	p->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
	policy_reset(p);
}

bool txnlog_snap_policy_logged(struct txnlog_snap_policy *p, uint64_t log_bytes)
{
	p->count++;
	bool due = p->count > p->snap_count / 2 + p->rand_roll;
	if (p->snap_size_bytes > 0 &&
	    (int64_t)log_bytes > p->snap_size_bytes / 2 + p->rand_size)
		due = true;
	if (due)
		policy_reset(p);
	return due;
}
