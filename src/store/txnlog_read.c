/* txnlog_read.c: reading, repairing and truncating log.<zxid> files.
 *
 * One file is read through a window buffer (rd_*): rd_get(off, n) returns n
 * contiguous bytes at off, reading ahead in 1 MiB slices, so a multi-GiB log
 * never sits in memory and a 2 MiB body still arrives in one piece.
 *
 * scan_entry() is the only parser of entries; it returns SCAN_ENTRY,
 * SCAN_END (the rest of the file is zeros or nothing), SCAN_TORN (an
 * anomaly followed only by zeros) or a negative STORE_ECORRUPT, applying the
 * classification rule of txnlog.h. Java would also end a file quietly at a
 * missing 'B' followed by data; we call that corruption because a torn write
 * cannot produce it. */
#include "store/txnlog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/zalloc.h"
#include "base/zassert.h"

#define SLICE (1u << 20)

enum { SCAN_END = 0, SCAN_ENTRY = 1, SCAN_TORN = 2 };

struct rd {
	struct vfs *vfs;
	struct vfs_file *f;
	char path[STORE_PATH_MAX];
	uint64_t size;
	uint64_t off;        /* next entry */
	uint8_t *win;
	size_t win_cap;
	uint64_t win_off;
	size_t win_len;
	const char *torn_why;
};

struct txnlog_iter {
	struct vfs *vfs;
	char dir[STORE_PATH_MAX];
	struct store_files files;
	size_t next_file;
	bool single;
	int64_t from_zxid;
	struct txnlog_read_opts opts;
	struct rd rd;
	bool open;
	bool done;
	struct txnlog_iter_report rep;
};

void txnlog_read_opts_default(struct txnlog_read_opts *o)
{
	o->max_body_len = STORE_MAX_RECORD;
	o->repair = false;
}

/* --- the window reader ---------------------------------------------------- */

static void rd_close(struct rd *r)
{
	vfs_close(r->vfs, r->f);
	r->f = NULL;
	zfree(r->win);
	r->win = NULL;
	r->win_cap = r->win_len = 0;
}

/* n contiguous bytes at off (the caller checked off + n <= size), or NULL on
 * an I/O error (*err set). */
static const uint8_t *rd_get(struct rd *r, uint64_t off, size_t n, int *err)
{
	if (off >= r->win_off && off + n <= r->win_off + r->win_len)
		return r->win + (off - r->win_off);
	size_t want = n > SLICE ? n : SLICE;
	if (off + want > r->size)
		want = (size_t)(r->size - off);
	if (want > r->win_cap) {
		r->win = zrealloc(r->win, want);
		r->win_cap = want;
	}
	int rc = vfs_read_exact(r->vfs, r->f, r->win, want, off);
	if (rc != 0) {
		*err = rc < 0 ? rc : -EIO;  /* EOF before size: the file shrank */
		r->win_len = 0;
		return NULL;
	}
	r->win_off = off;
	r->win_len = want;
	return r->win;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	/* OR whole blocks (the compiler vectorises the inner loop), stopping at
	 * the first block with a set bit */
	while (n) {
		size_t k = n > 4096 ? 4096 : n;
		uint8_t acc = 0;
		for (size_t i = 0; i < k; i++)
			acc |= p[i];
		if (acc)
			return false;
		p += k;
		n -= k;
	}
	return true;
}

/* 1 if [from, to) holds only zero bytes, 0 if not, < 0 on I/O error. Holes
 * (the sparse preallocated tail of a log: 64 MiB by default) are skipped
 * without reading them when the vfs can tell where data is. */
static int rd_zero(struct rd *r, uint64_t from, uint64_t to)
{
	bool holes = true;
	while (from < to) {
		if (holes) {
			uint64_t d;
			int rc = vfs_next_data(r->vfs, r->f, from, &d);
			if (rc < 0)
				holes = false;  /* unknown: read everything */
			else if (d >= to)
				return 1;
			else if (d > from)
				from = d;
		}
		size_t n = to - from > SLICE ? SLICE : (size_t)(to - from);
		int err = 0;
		const uint8_t *p = rd_get(r, from, n, &err);
		if (p == NULL)
			return err;
		if (!all_zero(p, n))
			return 0;
		from += n;
	}
	return 1;
}

static int rd_open(struct rd *r, struct vfs *vfs, const char *path, bool rw, struct store_error *e)
{
	memset(r, 0, sizeof(*r));
	r->vfs = vfs;
	snprintf(r->path, sizeof(r->path), "%s", path);
	int rc = vfs_open(vfs, path, rw ? VFS_RDWR : VFS_RDONLY, &r->f);
	if (rc < 0) {
		r->f = NULL;
		return store_fail(e, STORE_EIO, -rc, path, -1, "cannot open txn log");
	}
	rc = vfs_size(vfs, r->f, &r->size);
	if (rc < 0) {
		rd_close(r);
		return store_fail(e, STORE_EIO, -rc, path, -1, "cannot stat txn log");
	}
	return 0;
}

static int io_err(struct rd *r, int rc, struct store_error *e)
{
	return store_fail(e, STORE_EIO, -rc, r->path, -1, "cannot read txn log");
}

/* --- entry parsing -------------------------------------------------------- */

/* An anomaly at `o` whose bytes reach up to `extent`. */
static int classify(struct rd *r, uint64_t o, uint64_t extent, const char *why,
		    struct store_error *e)
{
	int z = rd_zero(r, o, r->size);
	if (z < 0)
		return io_err(r, z, e);
	if (z)
		return SCAN_END;
	if (extent > r->size)
		extent = r->size;
	z = rd_zero(r, extent, r->size);
	if (z < 0)
		return io_err(r, z, e);
	if (z) {
		r->torn_why = why;
		return SCAN_TORN;
	}
	return store_fail(e, STORE_ECORRUPT, 0, r->path, (int64_t)o,
			  "corrupt txn log: %s, with more data after it", why);
}

/* Is there a whole, checksum-valid entry starting anywhere in (from, to)? */
static int valid_entry_after(struct rd *r, uint64_t from, uint64_t to, int32_t max_len)
{
	for (uint64_t p = from + 1; p + 13 <= to; p++) {
		int err = 0;
		const uint8_t *h = rd_get(r, p, 12, &err);
		if (h == NULL)
			return err;
		int32_t len = (int32_t)be32_get(h + 8);
		if (len < 32 || len > max_len || p + 13 + (uint64_t)len > to || be32_get(h) != 0)
			continue;
		const uint8_t *b = rd_get(r, p, (size_t)len + 13, &err);
		if (b == NULL)
			return err;
		if (b[12 + len] == TXNLOG_EOR &&
		    be64_get(b) == store_adler32(STORE_ADLER_INIT, b + 12, (size_t)len))
			return 1;
	}
	return 0;
}

/* An entry whose length runs past the end of the file: the tail of a write
 * that was cut short, unless a whole entry hides in the bytes it claims (the
 * length itself is then what got damaged). */
static int partial(struct rd *r, uint64_t o, struct store_error *e)
{
	int v = valid_entry_after(r, o, r->size, INT32_MAX);
	if (v < 0)
		return io_err(r, v, e);
	if (v == 0) {
		r->torn_why = "partial entry";
		return SCAN_TORN;
	}
	return store_fail(e, STORE_ECORRUPT, 0, r->path, (int64_t)o,
			  "corrupt txn log: entry length runs past the end of the file over "
			  "whole entries");
}

static int scan_entry(struct rd *r, int32_t max_len, struct txnlog_entry *out,
		      struct store_error *e)
{
	uint64_t o = r->off, size = r->size;
	int err = 0;
	if (o >= size)
		return SCAN_END;
	if (size - o < 12)
		return classify(r, o, size, "partial entry header", e);
	const uint8_t *p = rd_get(r, o, 12, &err);
	if (p == NULL)
		return io_err(r, err, e);
	uint64_t crc = be64_get(p);
	int32_t len = (int32_t)be32_get(p + 8);
	if (len == 0)
		return classify(r, o, o + 12, "zero length", e);
	if (len < 0 || len > max_len)
		return classify(r, o, o + 12, "unreasonable length", e);
	uint64_t end = o + 12 + (uint64_t)len + 1;
	if (end > size)
		return partial(r, o, e);
	p = rd_get(r, o, (size_t)len + 13, &err);
	if (p == NULL)
		return io_err(r, err, e);
	const uint8_t *body = p + 12;
	if (body[len] != TXNLOG_EOR)
		return classify(r, o, end, "missing end-of-record byte", e);
	if (crc != store_adler32(STORE_ADLER_INIT, body, (size_t)len))
		return classify(r, o, end, "checksum mismatch", e);
	if (len < 32)
		return classify(r, o, end, "entry too short for a txn header", e);
	out->zxid = (int64_t)be64_get(body + 12);
	out->body = body;
	out->len = (uint32_t)len;
	out->path = r->path;
	out->offset = o;
	r->off = end;
	return SCAN_ENTRY;
}

/* Check the header of a freshly opened file. 1 = entries follow, 0 = the
 * file holds no header (shorter than 16 bytes: skip it), < 0 = bad magic. */
static int check_header(struct rd *r, struct store_error *e)
{
	if (r->size < TXNLOG_HEADER_LEN)
		return 0;
	int err = 0;
	const uint8_t *p = rd_get(r, 0, TXNLOG_HEADER_LEN, &err);
	if (p == NULL)
		return io_err(r, err, e);
	if (be32_get(p) != TXNLOG_MAGIC)
		return store_fail(e, STORE_ECORRUPT, 0, r->path, 0,
				  "not a txn log: bad magic 0x%08x", be32_get(p));
	r->off = TXNLOG_HEADER_LEN;
	return 1;
}

/* --- the iterator --------------------------------------------------------- */

static struct txnlog_iter *iter_new(struct vfs *vfs, const struct txnlog_read_opts *opts)
{
	struct txnlog_iter *it = zcalloc(1, sizeof(*it));
	it->vfs = vfs;
	if (opts)
		it->opts = *opts;
	else
		txnlog_read_opts_default(&it->opts);
	it->rep.last_zxid = -1;
	return it;
}

int txnlog_iter_open(struct txnlog_iter **out, struct vfs *vfs, const char *log_dir,
		     int64_t from_zxid, const struct txnlog_read_opts *opts, struct store_error *e)
{
	struct txnlog_iter *it = iter_new(vfs, opts);
	snprintf(it->dir, sizeof(it->dir), "%s", log_dir);
	it->from_zxid = from_zxid;
	int rc = store_list(vfs, log_dir, STORE_LOG_PREFIX, false, &it->files, e);
	if (rc) {
		zfree(it);
		return rc;
	}
	/* skip all but the newest file that starts below from_zxid */
	size_t first = 0;
	for (size_t i = 0; i < it->files.n; i++)
		if (it->files.v[i].zxid < from_zxid)
			first = i;
	it->next_file = first;
	*out = it;
	return 0;
}

int txnlog_iter_open_file(struct txnlog_iter **out, struct vfs *vfs, const char *path,
			  const struct txnlog_read_opts *opts, struct store_error *e)
{
	struct txnlog_iter *it = iter_new(vfs, opts);
	it->single = true;
	it->from_zxid = INT64_MIN;
	it->files.v = zcalloc(1, sizeof(*it->files.v));
	it->files.n = 1;
	/* the path goes in dir, the name stays empty: see file_path() */
	snprintf(it->dir, sizeof(it->dir), "%s", path);
	*out = it;
	return 0;
}

static void file_path(struct txnlog_iter *it, size_t i, char *out, size_t cap)
{
	if (it->single)
		snprintf(out, cap, "%s", it->dir);
	else
		store_path(out, cap, it->dir, it->files.v[i].name);
}

static int open_next_file(struct txnlog_iter *it, struct store_error *e)
{
	char path[STORE_PATH_MAX];
	file_path(it, it->next_file++, path, sizeof(path));
	int rc = rd_open(&it->rd, it->vfs, path, it->opts.repair, e);
	if (rc)
		return rc;
	it->open = true;
	it->rep.files++;
	rc = check_header(&it->rd, e);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		/* Java 3.8 cannot start with such a file (§6.2.1); it holds nothing */
		log_warn("txn log %s is shorter than its header (%llu bytes)", path,
			 (unsigned long long)it->rd.size);
		it->rd.off = it->rd.size;
		if (it->opts.repair) {
			rd_close(&it->rd);
			it->open = false;
			rc = vfs_unlink(it->vfs, path);
			if (rc < 0)
				return store_fail(e, STORE_EIO, -rc, path, -1, "cannot remove");
			it->rep.removed++;
		}
	}
	return 0;
}

static int cut_torn(struct txnlog_iter *it, struct store_error *e)
{
	struct rd *r = &it->rd;
	it->rep.torn++;
	snprintf(it->rep.torn_path, sizeof(it->rep.torn_path), "%s", r->path);
	it->rep.torn_offset = r->off;
	snprintf(it->rep.torn_why, sizeof(it->rep.torn_why), "%s", r->torn_why);
	log_warn("txn log %s: torn tail at offset %llu (%s)%s", r->path,
		 (unsigned long long)r->off, r->torn_why, it->opts.repair ? ", cut" : "");
	if (!it->opts.repair)
		return 0;
	int rc = vfs_truncate(r->vfs, r->f, r->off);
	if (rc == 0)
		rc = vfs_sync(r->vfs, r->f);
	if (rc < 0)
		return store_fail(e, STORE_EIO, -rc, r->path, (int64_t)r->off,
				  "cannot cut torn tail");
	return 0;
}

int txnlog_iter_next(struct txnlog_iter *it, struct txnlog_entry *out, struct store_error *e)
{
	while (!it->done) {
		if (!it->open) {
			if (it->next_file >= it->files.n) {
				it->done = true;
				break;
			}
			int rc = open_next_file(it, e);
			if (rc) {
				it->done = true;
				return rc;
			}
			continue;
		}
		int rc = scan_entry(&it->rd, it->opts.max_body_len, out, e);
		if (rc == SCAN_ENTRY) {
			if (out->zxid < it->from_zxid)
				continue;
			it->rep.last_zxid = out->zxid;
			return 1;
		}
		/* A torn tail can only be the end of the newest log: we (and Java
		 * with forceSync) sync a log before the next one is started, so a
		 * torn entry with a later log after it means txns in between are
		 * gone. Java skips them silently; we stop rather than serve a tree
		 * with a hole in its history. */
		if (rc == SCAN_TORN && it->next_file < it->files.n)
			rc = store_fail(e, STORE_ECORRUPT, 0, it->rd.path, (int64_t)it->rd.off,
					"torn entry (%s) in a log that is not the newest: the txns "
					"after it are lost", it->rd.torn_why ? it->rd.torn_why : "partial entry");
		else if (rc == SCAN_TORN)
			rc = cut_torn(it, e);
		if (rc < 0) {
			it->done = true;
			return rc;
		}
		rd_close(&it->rd);
		it->open = false;
	}
	return 0;
}

void txnlog_iter_close(struct txnlog_iter *it)
{
	if (it == NULL)
		return;
	if (it->open)
		rd_close(&it->rd);
	store_files_free(&it->files);
	zfree(it);
}

const struct txnlog_iter_report *txnlog_iter_report(const struct txnlog_iter *it)
{
	return &it->rep;
}

int txnlog_last_zxid(struct vfs *vfs, const char *log_dir, int64_t *out, struct store_error *e)
{
	struct txnlog_iter *it;
	struct store_files files;
	int rc = store_list(vfs, log_dir, STORE_LOG_PREFIX, false, &files, e);
	if (rc)
		return rc;
	/* only the newest file that holds a txn matters */
	*out = -1;
	for (size_t i = files.n; i-- > 0 && *out < 0;) {
		char path[STORE_PATH_MAX];
		store_path(path, sizeof(path), log_dir, files.v[i].name);
		rc = txnlog_iter_open_file(&it, vfs, path, NULL, e);
		if (rc)
			break;
		struct txnlog_entry en;
		while ((rc = txnlog_iter_next(it, &en, e)) == 1)
			*out = en.zxid;
		txnlog_iter_close(it);
		if (rc < 0)
			break;
	}
	store_files_free(&files);
	return rc < 0 ? rc : 0;
}

/* --- truncate ------------------------------------------------------------- */

/* Cut one file after its last entry <= zxid. *later = 1 if an entry > zxid
 * was found (everything after this file goes too). */
static int truncate_file(struct vfs *vfs, const char *path, int64_t zxid, bool *later,
			 struct store_error *e)
{
	struct rd r;
	int rc = rd_open(&r, vfs, path, true, e);
	if (rc)
		return rc;
	rc = check_header(&r, e);
	uint64_t keep = r.size;
	while (rc == 1) {
		struct txnlog_entry en;
		uint64_t at = r.off;
		rc = scan_entry(&r, STORE_MAX_RECORD, &en, e);
		if (rc == SCAN_ENTRY && en.zxid > zxid) {
			keep = at;
			*later = true;
			break;
		}
		if (rc == SCAN_TORN)
			keep = at;
	}
	if (rc >= 0 && keep < r.size) {
		rc = vfs_truncate(vfs, r.f, keep);
		if (rc == 0)
			rc = vfs_sync(vfs, r.f);
		if (rc < 0)
			rc = store_fail(e, STORE_EIO, -rc, path, (int64_t)keep, "cannot truncate");
	}
	rd_close(&r);
	return rc < 0 ? rc : 0;
}

int txnlog_truncate(struct vfs *vfs, const char *log_dir, int64_t zxid, struct store_error *e)
{
	struct store_files files;
	int rc = store_list(vfs, log_dir, STORE_LOG_PREFIX, false, &files, e);
	if (rc)
		return rc;
	bool later = false, removed = false;
	for (size_t i = 0; i < files.n && rc == 0; i++) {
		char path[STORE_PATH_MAX];
		store_path(path, sizeof(path), log_dir, files.v[i].name);
		if (later || files.v[i].zxid > zxid) {
			later = true;
			rc = vfs_unlink(vfs, path);
			if (rc < 0)
				rc = store_fail(e, STORE_EIO, -rc, path, -1, "cannot remove");
			removed = true;
			continue;
		}
		rc = truncate_file(vfs, path, zxid, &later, e);
	}
	if (rc == 0 && removed) {
		rc = vfs_sync_dir(vfs, log_dir);
		if (rc < 0)
			rc = store_fail(e, STORE_EIO, -rc, log_dir, -1, "cannot fsync directory");
	}
	store_files_free(&files);
	return rc;
}
