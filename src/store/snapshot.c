/* snapshot.c: writing and reading snapshot.<zxid> (format in snapshot.h).
 *
 * Writer invariants:
 *  1. bytes go through out(): appended to a 1 MiB buffer and folded into the
 *     running Adler-32 in the same step, so the seal always covers exactly
 *     what reached the file before it;
 *  2. the state only moves forward: HEADER → SESSIONS → ACLS → NODES → done;
 *     the announced counts must be met before moving on (zassert).
 *
 * Reader: a window over the file (peek(n) = the next n bytes, contiguous;
 * take(n) = consume them and fold them into the checksum). A record (one
 * node, one ACL entry) is peeked whole before it is parsed, so the views
 * handed to callbacks point into one stable window. Every length is checked
 * against STORE_MAX_RECORD and the bytes left before anything is allocated. */
#include "store/snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/adler32.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/zalloc.h"
#include "base/zassert.h"
#include "jute/jute.h"

#include <zlib.h>

#define OUT_FLUSH (1u << 20)

enum wstate { W_HEADER, W_SESSIONS, W_ACLS, W_NODES };

struct snapshot_writer {
	struct vfs *vfs;
	struct vfs_file *f;
	char dir[STORE_PATH_MAX];
	char tmp[STORE_PATH_MAX + 8];
	char final[STORE_PATH_MAX];
	struct buf b;
	uint64_t written;
	uint32_t adler;
	enum wstate st;
	uint32_t left;  /* sessions or acls still to come */
	bool no_sync;
	int err;
	struct store_error first_err;
};

/* --- writing -------------------------------------------------------------- */

static int w_flush(struct snapshot_writer *w)
{
	if (w->err || w->b.len == 0)
		return w->err;
	int rc = vfs_pwrite(w->vfs, w->f, w->b.data, w->b.len, w->written);
	if (rc < 0) {
		w->err = store_fail(&w->first_err, STORE_EIO, -rc, w->tmp, -1,
				    "cannot write snapshot");
		return w->err;
	}
	w->written += w->b.len;
	w->b.len = 0;
	return 0;
}

/* Fold the bytes appended since `from` into the checksum. */
static void w_sum(struct snapshot_writer *w, size_t from)
{
	w->adler = adler32_update(w->adler, w->b.data + from, w->b.len - from);
	if (w->b.len >= OUT_FLUSH)
		w_flush(w);
}

int snapshot_writer_open(struct snapshot_writer **out, struct vfs *vfs, const char *snap_dir,
			 int64_t zxid, struct store_error *e)
{
	struct snapshot_writer *w = zcalloc(1, sizeof(*w));
	w->vfs = vfs;
	snprintf(w->dir, sizeof(w->dir), "%s", snap_dir);
	char name[64];
	store_name(name, sizeof(name), STORE_SNAP_PREFIX, zxid);
	store_path(w->final, sizeof(w->final), snap_dir, name);
	snprintf(w->tmp, sizeof(w->tmp), "%s.tmp", w->final);
	int rc = vfs_open(vfs, w->tmp, VFS_RDWR | VFS_CREATE | VFS_TRUNC, &w->f);
	if (rc < 0) {
		store_fail(e, STORE_EIO, -rc, w->tmp, -1, "cannot create snapshot");
		zfree(w);
		return STORE_EIO;
	}
	buf_init(&w->b);
	w->adler = STORE_ADLER_INIT;
	store_error_clear(&w->first_err);
	buf_put_be32(&w->b, SNAPSHOT_MAGIC);
	buf_put_be32(&w->b, SNAPSHOT_VERSION);
	buf_put_be64(&w->b, UINT64_MAX);  /* dbid -1 */
	w_sum(w, 0);
	*out = w;
	return 0;
}

void snapshot_write_sessions_begin(struct snapshot_writer *w, uint32_t count)
{
	zassert(w->st == W_HEADER);
	w->st = W_SESSIONS;
	w->left = count;
	size_t at = w->b.len;
	buf_put_be32(&w->b, count);
	w_sum(w, at);
}

void snapshot_write_session(struct snapshot_writer *w, int64_t id, int32_t timeout_ms)
{
	zassert(w->st == W_SESSIONS && w->left > 0);
	w->left--;
	size_t at = w->b.len;
	buf_put_be64(&w->b, (uint64_t)id);
	buf_put_be32(&w->b, (uint32_t)timeout_ms);
	w_sum(w, at);
}

void snapshot_write_acls_begin(struct snapshot_writer *w, uint32_t count)
{
	zassert(w->st == W_SESSIONS && w->left == 0);
	w->st = W_ACLS;
	w->left = count;
	size_t at = w->b.len;
	buf_put_be32(&w->b, count);
	w_sum(w, at);
}

void snapshot_write_acl(struct snapshot_writer *w, int64_t ref, const struct jr_acl *acls,
			int32_t n)
{
	zassert(w->st == W_ACLS && w->left > 0 && n >= 0);
	w->left--;
	size_t at = w->b.len;
	buf_put_be64(&w->b, (uint64_t)ref);
	buf_put_be32(&w->b, (uint32_t)n);
	for (int32_t i = 0; i < n; i++)
		jr_acl_encode(&w->b, &acls[i]);
	w_sum(w, at);
}

int snapshot_write_node(struct snapshot_writer *w, const struct snapshot_node *n,
			struct store_error *e)
{
	if (w->st == W_ACLS) {
		zassert(w->left == 0);
		w->st = W_NODES;
	}
	zassert(w->st == W_NODES);
	if (n->path.len < 0 || n->path.len > STORE_MAX_RECORD || n->data.len > STORE_MAX_RECORD)
		return store_fail(e, STORE_EINVAL, 0, w->tmp, -1,
				  "node path or data over %d bytes", STORE_MAX_RECORD);
	size_t at = w->b.len;
	jute_put_ustring(&w->b, n->path);
	jute_put_buffer(&w->b, n->data);
	jute_put_long(&w->b, n->acl_ref);
	jr_stat_persisted_encode(&w->b, &n->stat);
	w_sum(w, at);
	if (w->err) {
		if (e)
			*e = w->first_err;
		return w->err;
	}
	return 0;
}

static void put_seal(struct snapshot_writer *w)
{
	size_t at = w->b.len;
	buf_put_be64(&w->b, w->adler);
	jute_put_cstr(&w->b, "/");
	w_sum(w, at);
}

static int w_fail(struct snapshot_writer *w, int rc, const char *what, struct store_error *e)
{
	if (!w->err)
		store_fail(&w->first_err, STORE_EIO, -rc, w->tmp, -1, "%s", what);
	if (e)
		*e = w->first_err;
	return STORE_EIO;
}

int snapshot_writer_finish(struct snapshot_writer *w, const struct snapshot_digest *d,
			   struct store_error *e)
{
	if (w->st == W_ACLS)
		w->st = W_NODES;
	zassert(w->st == W_NODES);
	size_t at = w->b.len;
	jute_put_cstr(&w->b, "/");
	w_sum(w, at);
	put_seal(w);
	struct snapshot_digest zero = {0, 2, 0};
	if (d == NULL)
		d = &zero;
	at = w->b.len;
	buf_put_be64(&w->b, (uint64_t)d->zxid);
	buf_put_be32(&w->b, (uint32_t)d->version);
	buf_put_be64(&w->b, (uint64_t)d->digest);
	w_sum(w, at);
	put_seal(w);
	int rc = w_flush(w);
	if (rc == 0 && !w->no_sync && (rc = vfs_sync(w->vfs, w->f)) < 0)
		rc = w_fail(w, rc, "fsync of snapshot failed", e);
	vfs_close(w->vfs, w->f);
	w->f = NULL;
	if (rc == 0 && (rc = vfs_rename(w->vfs, w->tmp, w->final)) < 0)
		rc = w_fail(w, rc, "cannot rename snapshot into place", e);
	if (rc == 0 && !w->no_sync && (rc = vfs_sync_dir(w->vfs, w->dir)) < 0)
		rc = w_fail(w, rc, "cannot fsync snapshot directory", e);
	if (rc) {
		if (e && rc == w->err)
			*e = w->first_err;
		vfs_unlink(w->vfs, w->tmp);
	}
	buf_free(&w->b);
	zfree(w);
	return rc;
}

void snapshot_writer_no_sync(struct snapshot_writer *w)
{
	w->no_sync = true;
}

void snapshot_writer_abort(struct snapshot_writer *w)
{
	if (w == NULL)
		return;
	vfs_close(w->vfs, w->f);
	vfs_unlink(w->vfs, w->tmp);
	buf_free(&w->b);
	zfree(w);
}

/* --- reading -------------------------------------------------------------- */

#define WIN (1u << 20)

struct sr {
	struct vfs *vfs;
	struct vfs_file *f;
	const char *path;
	uint64_t size;
	uint64_t pos;      /* consumed */
	uint8_t *win;
	size_t cap;
	uint64_t win_off;  /* file offset of win[0] */
	size_t win_len;
	uint32_t adler;    /* of the bytes before `summed` */
	uint64_t summed;   /* consumed bytes are summed in bulk (sum_flush) */
	struct store_error *e;
	struct arena arena;
	/* .gz snapshots: the window holds inflated bytes; size is unknown
	 * (UINT64_MAX) until the stream ends */
	bool gz;
	bool gz_end;
	z_stream zs;
	uint8_t *zin;
	uint64_t src_off;  /* next compressed byte to read */
};

static const uint8_t *short_file(struct sr *r)
{
	store_fail(r->e, STORE_ECORRUPT, 0, r->path, (int64_t)r->pos,
		   "snapshot ends in the middle of a record");
	return NULL;
}

static const uint8_t *read_fail(struct sr *r, int rc, const char *what)
{
	store_fail(r->e, STORE_EIO, rc < 0 ? -rc : EIO, r->path, (int64_t)r->pos, "%s", what);
	r->win_len = 0;
	return NULL;
}

/* Inflate into win[have..want); returns the new fill, or -1 (error set). */
static int64_t gz_fill(struct sr *r, size_t have, size_t want)
{
	r->zs.next_out = r->win + have;
	r->zs.avail_out = (uInt)(want - have);
	while (r->zs.avail_out > 0 && !r->gz_end) {
		if (r->zs.avail_in == 0) {
			int64_t got = vfs_pread(r->vfs, r->f, r->zin, WIN, r->src_off);
			if (got < 0)
				return read_fail(r, (int)got, "cannot read snapshot"), -1;
			if (got == 0)
				break;  /* truncated gzip stream: reported as a short file */
			r->src_off += (uint64_t)got;
			r->zs.next_in = r->zin;
			r->zs.avail_in = (uInt)got;
		}
		int zr = inflate(&r->zs, Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			r->gz_end = true;
		else if (zr != Z_OK && zr != Z_BUF_ERROR)
			return store_fail(r->e, STORE_ECORRUPT, 0, r->path, (int64_t)r->src_off,
					  "corrupt gzip stream in snapshot"), -1;
	}
	return (int64_t)(want - r->zs.avail_out);
}

/* Fold the consumed bytes not yet summed into the Adler-32 (they are still
 * in the window: it only moves in peek, which flushes first). */
static void sum_flush(struct sr *r)
{
	if (r->pos > r->summed) {
		r->adler = adler32_update(r->adler, r->win + (r->summed - r->win_off),
					  (size_t)(r->pos - r->summed));
		r->summed = r->pos;
	}
}

/* The next n bytes, contiguous; NULL (error set) if the file ends first. */
static const uint8_t *peek(struct sr *r, size_t n)
{
	if (r->pos + n > r->size)
		return short_file(r);
	if (r->pos >= r->win_off && r->pos + n <= r->win_off + r->win_len)
		return r->win + (r->pos - r->win_off);
	sum_flush(r);
	size_t want = n > WIN ? n : WIN;
	if (r->pos + want > r->size)
		want = (size_t)(r->size - r->pos);
	/* keep the bytes from pos on (a compressed stream cannot be re-read) */
	size_t keep = 0;
	if (r->pos >= r->win_off && r->pos < r->win_off + r->win_len)
		keep = (size_t)(r->win_off + r->win_len - r->pos);
	if (want > r->cap) {
		uint8_t *w = zmalloc(want);
		if (keep)
			memcpy(w, r->win + (r->pos - r->win_off), keep);
		zfree(r->win);
		r->win = w;
		r->cap = want;
	} else if (keep) {
		memmove(r->win, r->win + (r->pos - r->win_off), keep);
	}
	r->win_off = r->pos;
	r->win_len = keep;
	if (r->gz) {
		int64_t got = gz_fill(r, keep, want);
		if (got < 0)
			return NULL;
		r->win_len = (size_t)got;
		if (r->win_len < n)
			return short_file(r);
		return r->win;
	}
	int rc = vfs_read_exact(r->vfs, r->f, r->win + keep, want - keep, r->pos + keep);
	if (rc != 0)
		return read_fail(r, rc, "cannot read snapshot");
	r->win_len = want;
	return r->win;
}

/* Bytes left if known (plain files); compressed streams claim "plenty" and
 * rely on peek() failing at the real end. */
static uint64_t left(const struct sr *r)
{
	return r->gz ? UINT64_MAX / 2 : r->size - r->pos;
}

/* True once nothing follows (for the optional 3.6 trailer). */
static bool at_end(struct sr *r)
{
	if (!r->gz)
		return r->pos == r->size;
	if (r->pos < r->win_off + r->win_len)
		return false;
	struct store_error scratch, *saved = r->e;
	r->e = &scratch;
	bool end = peek(r, 1) == NULL;
	r->e = saved;
	return end;
}

static void take(struct sr *r, size_t n)
{
	r->pos += n;
}

static int get_u32(struct sr *r, uint32_t *v)
{
	const uint8_t *p = peek(r, 4);
	if (p == NULL)
		return r->e ? r->e->code : STORE_ECORRUPT;
	*v = be32_get(p);
	take(r, 4);
	return 0;
}

static int corrupt(struct sr *r, uint64_t at, const char *what)
{
	return store_fail(r->e, STORE_ECORRUPT, 0, r->path, (int64_t)at, "corrupt snapshot: %s",
			  what);
}

/* Length of a jute string/buffer at p + off inside a peeked region, or -2
 * for a bad length (-1 null passes). */
static int64_t str_len(const uint8_t *p, size_t off)
{
	int32_t n = (int32_t)be32_get(p + off);
	if (n < -1 || n > STORE_MAX_RECORD)
		return -2;
	return n;
}

static int read_header(struct sr *r)
{
	const uint8_t *p = peek(r, 16);
	if (p == NULL)
		return r->e->code;
	if (be32_get(p) != SNAPSHOT_MAGIC)
		return corrupt(r, 0, "bad magic (not a snapshot)");
	take(r, 16);
	return 0;
}

static int read_sessions(struct sr *r, const struct snapshot_callbacks *cb, void *arg,
			 struct snapshot_info *info)
{
	uint64_t at = r->pos;
	uint32_t n;
	int rc = get_u32(r, &n);
	if (rc)
		return rc;
	if ((int32_t)n < 0 || (uint64_t)n * 12 > left(r))
		return corrupt(r, at, "impossible session count");
	info->sessions = n;
	if (cb && cb->on_counts && cb->on_counts(arg, 0, n))
		return store_fail(r->e, STORE_ECALLBACK, 0, r->path, -1, "session count refused");
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p = peek(r, 12);
		if (p == NULL)
			return r->e->code;
		int64_t id = (int64_t)be64_get(p);
		int32_t to = (int32_t)be32_get(p + 8);
		take(r, 12);
		if (cb && cb->on_session && cb->on_session(arg, id, to))
			return store_fail(r->e, STORE_ECALLBACK, 0, r->path, -1, "session refused");
	}
	return 0;
}

/* One ACL cache entry: long ref, vector<ACL>, peeked whole. */
static int read_acl_entry(struct sr *r, const struct snapshot_callbacks *cb, void *arg)
{
	uint64_t at = r->pos;
	const uint8_t *p = peek(r, 12);
	if (p == NULL)
		return r->e->code;
	int32_t count = (int32_t)be32_get(p + 8);
	if (count < 0 || (uint64_t)count * 12 > left(r) - 12)
		return corrupt(r, at, "impossible ACL count");
	size_t need = 12;
	for (int32_t i = 0; i < count; i++) {
		need += 4;  /* perms */
		for (int k = 0; k < 2; k++) {  /* scheme, id */
			p = peek(r, need + 4);
			if (p == NULL)
				return r->e->code;
			int64_t l = str_len(p, need);
			if (l < -1)
				return corrupt(r, at, "bad ACL string length");
			need += 4 + (l > 0 ? (size_t)l : 0);
		}
	}
	p = peek(r, need);
	if (p == NULL)
		return r->e->code;
	arena_reset(&r->arena);
	struct jute_reader jr;
	jute_reader_init(&jr, p + 12, need - 12, STORE_MAX_RECORD, &r->arena);
	struct jr_acl *acls = jute_alloc_vec(&jr, count, sizeof(*acls));
	for (int32_t i = 0; i < count; i++)
		jr_acl_decode(&jr, &acls[i]);
	zassert(!jr.err);
	int64_t ref = (int64_t)be64_get(p);
	int cbrc = cb && cb->on_acl ? cb->on_acl(arg, ref, acls, count) : 0;
	take(r, need);
	if (cbrc)
		return store_fail(r->e, STORE_ECALLBACK, 0, r->path, -1, "ACL entry refused");
	return 0;
}

static int read_acls(struct sr *r, const struct snapshot_callbacks *cb, void *arg,
		     struct snapshot_info *info)
{
	uint64_t at = r->pos;
	uint32_t n;
	int rc = get_u32(r, &n);
	if (rc)
		return rc;
	if ((int32_t)n < 0 || (uint64_t)n * 12 > left(r))
		return corrupt(r, at, "impossible ACL cache size");
	info->acls = n;
	if (cb && cb->on_counts && cb->on_counts(arg, 1, n))
		return store_fail(r->e, STORE_ECALLBACK, 0, r->path, -1, "ACL count refused");
	for (uint32_t i = 0; i < n && rc == 0; i++)
		rc = read_acl_entry(r, cb, arg);
	return rc;
}

/* One node, or the "/" terminator (returns 1). */
static int read_node(struct sr *r, const struct snapshot_callbacks *cb, void *arg)
{
	uint64_t at = r->pos;
	const uint8_t *p = peek(r, 4);
	if (p == NULL)
		return r->e->code;
	int64_t plen = str_len(p, 0);
	if (plen < 0)
		return corrupt(r, at, "bad node path length");
	p = peek(r, 4 + (size_t)plen);
	if (p == NULL)
		return r->e->code;
	if (plen == 1 && p[4] == '/') {
		take(r, 5);
		return 1;
	}
	size_t need = 4 + (size_t)plen;
	p = peek(r, need + 4);
	if (p == NULL)
		return r->e->code;
	int64_t dlen = str_len(p, need);
	if (dlen < -1)
		return corrupt(r, at, "bad node data length");
	size_t total = need + 4 + (dlen > 0 ? (size_t)dlen : 0) + 8 + 60;
	p = peek(r, total);
	if (p == NULL)
		return r->e->code;
	/* lengths are checked above: decode the fixed layout in place
	 * (ustring path, buffer data, long acl, StatPersisted) */
	struct snapshot_node n;
	n.path = (struct jute_bytes){p + 4, (int32_t)plen};
	const uint8_t *q = p + need + 4;
	n.data = dlen < 0 ? JUTE_NULL : (struct jute_bytes){q, (int32_t)dlen};
	q += dlen > 0 ? (size_t)dlen : 0;
	n.acl_ref = (int64_t)be64_get(q);
	n.stat.czxid = (int64_t)be64_get(q + 8);
	n.stat.mzxid = (int64_t)be64_get(q + 16);
	n.stat.ctime = (int64_t)be64_get(q + 24);
	n.stat.mtime = (int64_t)be64_get(q + 32);
	n.stat.version = (int32_t)be32_get(q + 40);
	n.stat.cversion = (int32_t)be32_get(q + 44);
	n.stat.aversion = (int32_t)be32_get(q + 48);
	n.stat.ephemeral_owner = (int64_t)be64_get(q + 52);
	n.stat.pzxid = (int64_t)be64_get(q + 60);
	zassert(q + 68 == p + total);
	int cbrc = cb && cb->on_node ? cb->on_node(arg, &n) : 0;
	take(r, total);
	if (cbrc)
		return store_fail(r->e, STORE_ECALLBACK, 0, r->path, -1, "node refused");
	return 0;
}

/* long checksum + ustring "/" ; the checksum covers everything before it */
static int read_seal(struct sr *r)
{
	uint64_t at = r->pos;
	sum_flush(r);
	uint32_t want = r->adler;
	const uint8_t *p = peek(r, 12);
	if (p == NULL)
		return r->e->code;
	uint64_t val = be64_get(p);
	int64_t sl = str_len(p, 8);
	if (val != want)
		return corrupt(r, at, "checksum mismatch (seal)");
	if (sl < 0)
		return corrupt(r, at + 8, "bad seal signature");
	take(r, 12);
	if (sl > 0) {
		if (peek(r, (size_t)sl) == NULL)
			return r->e->code;
		take(r, (size_t)sl);
	}
	return 0;
}

static int read_trailer(struct sr *r, const struct snapshot_callbacks *cb, void *arg,
			struct snapshot_info *info)
{
	if (at_end(r))
		return 0;  /* a 3.5 snapshot: no digest */
	const uint8_t *p = peek(r, 12);
	if (p == NULL)
		return r->e->code;
	struct snapshot_digest d;
	d.zxid = (int64_t)be64_get(p);
	d.version = (int32_t)be32_get(p + 8);
	take(r, 12);
	if (d.version >= 2) {
		if ((p = peek(r, 8)) == NULL)
			return r->e->code;
		d.digest = (int64_t)be64_get(p);
		take(r, 8);
	} else {
		/* versions < 2 store the digest as a hex string */
		if ((p = peek(r, 4)) == NULL)
			return r->e->code;
		int64_t l = str_len(p, 0);
		if (l < 0 || l > 16 || peek(r, 4 + (size_t)l) == NULL)
			return corrupt(r, r->pos, "bad digest string");
		d.digest = 0;
		p = peek(r, 4 + (size_t)l);
		for (int64_t i = 0; i < l; i++) {
			char c = (char)p[4 + i];
			int v = c >= '0' && c <= '9' ? c - '0' : (c | 32) - 'a' + 10;
			d.digest = (int64_t)(((uint64_t)d.digest << 4) | (uint64_t)(v & 15));
		}
		take(r, 4 + (size_t)l);
	}
	int rc = read_seal(r);
	if (rc)
		return rc;
	info->has_digest = true;
	info->digest = d;
	if (cb && cb->on_digest && cb->on_digest(arg, &d))
		return store_fail(r->e, STORE_ECALLBACK, 0, r->path, -1, "digest refused");
	return 0;
}

static int read_body(struct sr *r, const struct snapshot_callbacks *cb, void *arg,
		     struct snapshot_info *info)
{
	int rc = read_header(r);
	if (rc == 0)
		rc = read_sessions(r, cb, arg, info);
	if (rc == 0)
		rc = read_acls(r, cb, arg, info);
	uint64_t nodes_at = r->pos;
	while (rc == 0) {
		rc = read_node(r, cb, arg);
		if (rc == 0 && ++info->nodes == SNAPSHOT_HINT_NODES && !r->gz && cb && cb->on_nodes_hint) {
			/* a tenth more than the average so far predicts (the trailer
			 * is a few bytes, so nearly all that is left is nodes) */
			double per = (double)(r->pos - nodes_at) / (double)info->nodes;
			double more = (double)left(r) / per * 1.1;
			cb->on_nodes_hint(arg, info->nodes + (uint64_t)more);
		}
	}
	if (rc == 1)
		rc = read_seal(r);
	if (rc == 0)
		rc = read_trailer(r, cb, arg, info);
	return rc;
}

/* The snapshot read whole; the gzip stream must also end properly (its
 * CRC-32 and length trailer checked by zlib), or the file was cut. */
static int gz_finish(struct sr *r)
{
	while (!r->gz_end) {
		r->pos = r->win_off + r->win_len;  /* drop what was consumed */
		int64_t got = gz_fill(r, 0, r->cap);
		if (got < 0)
			return r->e->code;
		r->win_off = r->pos;
		r->win_len = (size_t)got;
		if (got == 0 && !r->gz_end)
			return store_fail(r->e, STORE_ECORRUPT, 0, r->path, (int64_t)r->src_off,
					  "gzip stream of the snapshot is cut short");
	}
	return 0;
}

int snapshot_read(struct vfs *vfs, const char *path, const struct snapshot_callbacks *cb,
		  void *arg, struct snapshot_info *info, struct store_error *e)
{
	struct store_error scratch;
	if (e == NULL)
		e = &scratch;
	store_error_clear(e);
	memset(info, 0, sizeof(*info));
	const char *base = strrchr(path, '/');
	info->name_zxid = store_zxid_from_name(base ? base + 1 : path, STORE_SNAP_PREFIX);
	struct sr r = {.vfs = vfs, .path = path, .adler = STORE_ADLER_INIT, .e = e};
	int rc = vfs_open(vfs, path, VFS_RDONLY, &r.f);
	if (rc < 0)
		return store_fail(e, STORE_EIO, -rc, path, -1, "cannot open snapshot");
	rc = vfs_size(vfs, r.f, &r.size);
	if (rc < 0) {
		vfs_close(vfs, r.f);
		return store_fail(e, STORE_EIO, -rc, path, -1, "cannot stat snapshot");
	}
	if (snapshot_is_gz(path)) {
		r.gz = true;
		r.size = UINT64_MAX;
		r.zin = zmalloc(WIN);
		if (inflateInit2(&r.zs, 16 + MAX_WBITS) != Z_OK) {
			zfree(r.zin);
			vfs_close(vfs, r.f);
			return store_fail(e, STORE_EIO, ENOMEM, path, -1, "cannot start inflate");
		}
	}
	arena_init(&r.arena);
	rc = read_body(&r, cb, arg, info);
	info->size = r.pos;
	if (rc == 0 && r.gz)
		rc = gz_finish(&r);
	arena_free(&r.arena);
	if (r.gz) {
		inflateEnd(&r.zs);
		zfree(r.zin);
	}
	zfree(r.win);
	vfs_close(vfs, r.f);
	return rc;
}

bool snapshot_is_gz(const char *path)
{
	size_t n = strlen(path);
	return n > 3 && strcmp(path + n - 3, ".gz") == 0;
}

int snapshot_quick_check(struct vfs *vfs, const char *path, struct store_error *e)
{
	struct vfs_file *f;
	int rc = vfs_open(vfs, path, VFS_RDONLY, &f);
	if (rc < 0)
		return store_fail(e, STORE_EIO, -rc, path, -1, "cannot open snapshot");
	uint64_t size = 0;
	rc = vfs_size(vfs, f, &size);
	uint8_t tail[5];
	int ok = 0;
	if (snapshot_is_gz(path)) {
		/* SnapStream.isValidGZipStream: the gzip magic */
		if (rc == 0 && size >= 2 && (rc = vfs_read_exact(vfs, f, tail, 2, 0)) == 0)
			ok = tail[0] == 0x1f && tail[1] == 0x8b;
	} else if (rc == 0 && size >= 10 && (rc = vfs_read_exact(vfs, f, tail, 5, size - 5)) == 0) {
		ok = memcmp(tail, "\0\0\0\1/", 5) == 0;
	}
	vfs_close(vfs, f);
	if (rc < 0)
		return store_fail(e, STORE_EIO, -rc, path, -1, "cannot read snapshot");
	return ok;
}
