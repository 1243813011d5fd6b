/* zabdump: print ZooKeeper txn logs and snapshots (ours or Java's), one txn
 * or one node per line, as text or as JSON lines.
 *
 *   zabdump [--json] FILE...        a log.* or snapshot.* file (by magic;
 *                                   snapshot.*.gz is inflated)
 *   zabdump [--json] --datadir DIR [--logdir DIR]
 *                                   what recovery would load: the newest
 *                                   valid snapshot, then the txns after it
 *                                   (read only: nothing is cut)
 *   zabdump --copy SRC DST          recover SRC and write it again into DST
 *                                   with our own writers (snapshot + logs,
 *                                   same file boundaries)
 *
 * Exit status: 0 fine (a torn tail is reported on stderr, it is not an
 * error), 2 corruption (the message names the file and offset), 1 other
 * errors. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "jute/jute.h"
#include "jute/records.h"
#include "store/recover.h"
#include "store/snapshot.h"
#include "store/txnbody.h"
#include "store/txnlog.h"
#include "store/vfs.h"

static bool json;

/* --- output helpers ------------------------------------------------------- */

static void put_str(const uint8_t *p, int32_t n)
{
	if (n < 0) {
		fputs(json ? "null" : "<null>", stdout);
		return;
	}
	if (json)
		putchar('"');
	for (int32_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (json && (c == '"' || c == '\\'))
			printf("\\%c", c);
		else if (json && (c < 0x20 || c >= 0x7f))
			printf("\\u%04x", c);
		else if (!json && (c < 0x20 || c >= 0x7f || c == ' ' || c == '\\'))
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	if (json)
		putchar('"');
}

static void put_bytes(struct jute_bytes b)
{
	put_str(b.data, b.len);
}

static void key(const char *k)
{
	printf(json ? ",\"%s\":" : " %s=", k);
}

static void kv_str(const char *k, struct jute_bytes b)
{
	key(k);
	put_bytes(b);
}

static void kv_int(const char *k, long long v)
{
	key(k);
	printf("%lld", v);
}

static void kv_hex(const char *k, long long v)
{
	key(k);
	printf(json ? "%lld" : "0x%llx", v);
}

static void put_acls(const struct jr_acl *a, int32_t n)
{
	putchar('[');
	for (int32_t i = 0; i < n; i++) {
		if (i)
			putchar(',');
		if (json) {
			printf("{\"perms\":%d,\"scheme\":", (int)a[i].perms);
			put_bytes(a[i].id.scheme);
			fputs(",\"id\":", stdout);
			put_bytes(a[i].id.id);
			putchar('}');
		} else {
			printf("%d:", (int)a[i].perms);
			put_bytes(a[i].id.scheme);
			putchar(':');
			put_bytes(a[i].id.id);
		}
	}
	putchar(']');
}

/* --- txn records ---------------------------------------------------------- */

static int print_record(int32_t type, const uint8_t *p, size_t len, struct arena *a);

static void print_create(int32_t type, struct jute_reader *r, bool v0)
{
	struct jute_bytes path = jute_get_ustring(r), data = jute_get_buffer(r);
	int32_t n = jute_get_count(r, 12);
	struct jr_acl *acl = jute_alloc_vec(r, n, sizeof(*acl));
	for (int32_t i = 0; i < n; i++)
		jr_acl_decode(r, &acl[i]);
	kv_str("path", path);
	kv_str("data", data);
	key("acl");
	put_acls(acl, n < 0 ? 0 : n);
	if (type == 1 || type == 15)
		kv_int("ephemeral", jute_get_bool(r));
	if (!v0)
		kv_int("parentCVersion", jute_get_int(r));
	if (type == 21)
		kv_int("ttl", jute_get_long(r));
}

static void print_multi(struct jute_reader *r, struct arena *a)
{
	struct jr_multi_txn m;
	jr_multi_txn_decode(r, &m);
	key("ops");
	putchar('[');
	for (int32_t i = 0; i < m.txns.count; i++) {
		const struct jr_txn *t = &m.txns.items[i];
		if (i)
			putchar(json ? ',' : ';');
		printf(json ? "{\"type\":\"%s\"" : "%s", txn_type_name(t->type));
		print_record(t->type, t->data.data, t->data.len > 0 ? (size_t)t->data.len : 0, a);
		if (json)
			putchar('}');
	}
	putchar(']');
}

static void print_acl_rec(struct jute_reader *r)
{
	kv_str("path", jute_get_ustring(r));
	int32_t n = jute_get_count(r, 12);
	struct jr_acl *acl = jute_alloc_vec(r, n, sizeof(*acl));
	for (int32_t i = 0; i < n; i++)
		jr_acl_decode(r, &acl[i]);
	key("acl");
	put_acls(acl, n < 0 ? 0 : n);
	kv_int("version", jute_get_int(r));
}

static void print_close(struct jute_reader *r)
{
	int32_t n = jute_get_count(r, 4);
	key("paths2Delete");
	putchar('[');
	for (int32_t i = 0; i < n && !r->err; i++) {
		if (i)
			putchar(',');
		put_bytes(jute_get_ustring(r));
	}
	putchar(']');
}

static int print_record(int32_t type, const uint8_t *p, size_t len, struct arena *a)
{
	struct jute_reader r;
	jute_reader_init(&r, p, len, INT32_MAX, a);
	switch (type) {
	case -10: kv_int("timeOut", jute_get_int(&r)); break;
	case -11: print_close(&r); break;
	case -1: kv_int("err", jute_get_int(&r)); break;
	case 1: case 15: case 19: case 21:
		print_create(type, &r, type == 1 && txn_record_len(1, p, len) < 0);
		break;
	case 2: case 20: kv_str("path", jute_get_ustring(&r)); break;
	case 5: case 16:
		kv_str("path", jute_get_ustring(&r));
		kv_str("data", jute_get_buffer(&r));
		kv_int("version", jute_get_int(&r));
		break;
	case 7: print_acl_rec(&r); break;
	case 13:
		kv_str("path", jute_get_ustring(&r));
		kv_int("version", jute_get_int(&r));
		break;
	case 14: print_multi(&r, a); break;
	default: break;
	}
	return r.err ? -1 : 0;
}

static int print_txn(const struct txn_parts *tp, const char *file, uint64_t off)
{
	struct arena a;
	arena_init(&a);
	const struct jr_txn_header *h = &tp->hdr;
	if (json)
		printf("{\"kind\":\"txn\",\"zxid\":%lld", (long long)h->zxid);
	else
		printf("txn zxid=0x%llx", (unsigned long long)h->zxid);
	kv_hex("session", h->client_id);
	kv_hex("cxid", h->cxid);
	kv_int("time", h->time);
	key("type");
	printf(json ? "\"%s\"" : "%s", txn_type_name(h->type));
	int rc = print_record(h->type, tp->record, tp->record_len, &a);
	if (tp->has_digest) {
		kv_int("digestVersion", tp->digest.version);
		kv_hex("digest", tp->digest.tree_digest);
	}
	if (json) {
		fputs(",\"file\":", stdout);
		put_str((const uint8_t *)file, (int32_t)strlen(file));
		printf(",\"offset\":%llu}", (unsigned long long)off);
	}
	putchar('\n');
	arena_free(&a);
	return rc;
}

/* --- files ---------------------------------------------------------------- */

static int fail(const struct store_error *e)
{
	fflush(stdout);
	fprintf(stderr, "zabdump: %s\n", e->msg);
	return e->code == STORE_ECORRUPT ? 2 : 1;
}

static int report_torn(const struct txnlog_iter_report *rep)
{
	if (rep->torn)
		fprintf(stderr, "zabdump: %s: torn tail at offset %llu (%s): the log ends there\n",
			rep->torn_path, (unsigned long long)rep->torn_offset, rep->torn_why);
	return 0;
}

static int dump_txn(const struct txnlog_entry *en, struct store_error *e)
{
	struct txn_parts tp;
	int s = txn_split(en->body, en->len, &tp);
	if (s == 0 && print_txn(&tp, en->path, en->offset) == 0)
		return 0;
	return store_fail(e, STORE_ECORRUPT, 0, en->path, (int64_t)en->offset,
			  s == -2 ? "unsupported txn type %d" : "txn record of type %d does not parse",
			  (int)tp.hdr.type);
}

static int dump_log(struct vfs *v, const char *path)
{
	struct store_error e;
	store_error_clear(&e);
	struct txnlog_iter *it;
	if (txnlog_iter_open_file(&it, v, path, NULL, &e))
		return fail(&e);
	struct txnlog_entry en;
	int rc;
	while ((rc = txnlog_iter_next(it, &en, &e)) == 1)
		if ((rc = dump_txn(&en, &e)) < 0)
			break;
	report_torn(txnlog_iter_report(it));
	txnlog_iter_close(it);
	return rc < 0 ? fail(&e) : 0;
}

static int on_session(void *arg, int64_t id, int32_t to)
{
	if (json)
		printf("{\"kind\":\"session\",\"id\":%lld,\"timeout\":%d}\n", (long long)id, (int)to);
	else
		printf("session id=0x%llx timeout=%d\n", (unsigned long long)id, (int)to);
	return 0;
}

static int on_acl(void *arg, int64_t ref, const struct jr_acl *acls, int32_t n)
{
	printf(json ? "{\"kind\":\"acl\",\"ref\":%lld,\"acl\":" : "acl ref=%lld acl=", (long long)ref);
	put_acls(acls, n);
	puts(json ? "}" : "");
	return 0;
}

static int on_node(void *arg, const struct snapshot_node *n)
{
	const struct jr_stat_persisted *s = &n->stat;
	if (json) {
		fputs("{\"kind\":\"node\",\"path\":", stdout);
		put_str(n->path.len ? n->path.data : (const uint8_t *)"/", n->path.len ? n->path.len : 1);
	} else {
		fputs("node ", stdout);
		put_str(n->path.len ? n->path.data : (const uint8_t *)"/", n->path.len ? n->path.len : 1);
	}
	kv_hex("czxid", s->czxid);
	kv_hex("mzxid", s->mzxid);
	kv_hex("pzxid", s->pzxid);
	kv_int("ctime", s->ctime);
	kv_int("mtime", s->mtime);
	kv_int("version", s->version);
	kv_int("cversion", s->cversion);
	kv_int("aversion", s->aversion);
	kv_hex("ephemeralOwner", s->ephemeral_owner);
	kv_int("dataLength", n->data.len > 0 ? n->data.len : 0);
	kv_int("acl", n->acl_ref);
	kv_str("data", n->data);
	puts(json ? "}" : "");
	return 0;
}

static int on_digest(void *arg, const struct snapshot_digest *d)
{
	if (json)
		printf("{\"kind\":\"digest\",\"zxid\":%lld,\"version\":%d,\"digest\":%lld}\n",
		       (long long)d->zxid, (int)d->version, (long long)d->digest);
	else
		printf("digest zxid=0x%llx version=%d digest=0x%llx\n", (unsigned long long)d->zxid,
		       (int)d->version, (unsigned long long)d->digest);
	return 0;
}

static const struct snapshot_callbacks print_cb = {
	.on_session = on_session, .on_acl = on_acl, .on_node = on_node, .on_digest = on_digest,
};

static int dump_snapshot(struct vfs *v, const char *path)
{
	struct store_error e;
	struct snapshot_info info;
	/* verify first, so a corrupt file prints nothing but the error */
	if (snapshot_read(v, path, NULL, NULL, &info, &e) ||
	    snapshot_read(v, path, &print_cb, NULL, &info, &e))
		return fail(&e);
	return 0;
}

static int dump_file(struct vfs *v, const char *path)
{
	struct vfs_file *f;
	uint8_t magic[4];
	int rc = vfs_open(v, path, VFS_RDONLY, &f);
	if (rc < 0) {
		fprintf(stderr, "zabdump: %s: cannot open (%s)\n", path, strerror(-rc));
		return 1;
	}
	rc = vfs_read_exact(v, f, magic, 4, 0);
	vfs_close(v, f);
	if (rc == 0 && be32_get(magic) == TXNLOG_MAGIC)
		return dump_log(v, path);
	if (rc == 0 && (be32_get(magic) == SNAPSHOT_MAGIC ||
			(snapshot_is_gz(path) && magic[0] == 0x1f && magic[1] == 0x8b)))
		return dump_snapshot(v, path);
	fprintf(stderr, "zabdump: %s: neither a txn log nor a snapshot (bad magic)\n", path);
	return 2;
}

/* --- data directories ----------------------------------------------------- */

static int on_txn_print(void *arg, const struct txn_parts *p, const struct txnlog_entry *en)
{
	return print_txn(p, en->path, en->offset);
}

static int dump_datadir(struct vfs *v, const char *dir, const char *logdir)
{
	struct recover_opts o = {.vfs = v, .data_dir = dir, .data_log_dir = logdir,
				 .no_repair = true};
	struct recover_callbacks cb = {.snap = print_cb, .on_txn = on_txn_print};
	struct recover_result res;
	struct store_error e;
	int rc = recover_open(&o, &cb, NULL, &res, &e);
	fflush(stdout);
	fprintf(stderr, "zabdump: snapshot %s, %llu txns replayed, last zxid 0x%llx\n",
		res.snapshot[0] ? res.snapshot : "(none)", (unsigned long long)res.txns,
		(unsigned long long)res.last_zxid);
	report_torn(&res.log);
	return rc ? fail(&e) : 0;
}

int zabdump_copy(struct vfs *v, const char *src, const char *dst);

static int usage(void)
{
	fputs("usage: zabdump [--json] FILE...\n"
	      "       zabdump [--json] --datadir DIR [--logdir DIR]\n"
	      "       zabdump --copy SRC_DATADIR DST_DATADIR\n", stderr);
	return 1;
}

int main(int argc, char **argv)
{
	struct vfs *v = vfs_posix();
	int i = 1, rc = 0;
	const char *datadir = NULL, *logdir = NULL;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--datadir") == 0 && i + 1 < argc)
			datadir = argv[++i];
		else if (strcmp(argv[i], "--logdir") == 0 && i + 1 < argc)
			logdir = argv[++i];
		else if (strcmp(argv[i], "--copy") == 0 && i + 2 < argc)
			return zabdump_copy(v, argv[i + 1], argv[i + 2]);
		else
			return usage();
	}
	if (datadir)
		return dump_datadir(v, datadir, logdir);
	if (i == argc)
		return usage();
	for (; i < argc; i++) {
		int r = dump_file(v, argv[i]);
		if (r > rc)
			rc = r;
	}
	return rc;
}

/* --- copy: recover SRC, write DST with our writers ------------------------ */

struct copy {
	struct vfs *v;
	const char *dst;
	struct recover_result *res;
	struct snapshot_writer *w;
	struct txnlog *lg;
	char cur_file[STORE_PATH_MAX];
	int err;
	struct store_error e;
};

static int cp_counts(void *arg, int kind, uint32_t n)
{
	struct copy *c = arg;
	if (kind == 0) {
		char dir[STORE_PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/version-2", c->dst);
		if (snapshot_writer_open(&c->w, c->v, dir, c->res->snap_zxid, &c->e))
			return c->err = 1;
		snapshot_write_sessions_begin(c->w, n);
	} else {
		snapshot_write_acls_begin(c->w, n);
	}
	return 0;
}

static int cp_session(void *arg, int64_t id, int32_t to)
{
	snapshot_write_session(((struct copy *)arg)->w, id, to);
	return 0;
}

static int cp_acl(void *arg, int64_t ref, const struct jr_acl *a, int32_t n)
{
	snapshot_write_acl(((struct copy *)arg)->w, ref, a, n);
	return 0;
}

static int cp_node(void *arg, const struct snapshot_node *n)
{
	struct copy *c = arg;
	return snapshot_write_node(c->w, n, &c->e) ? (c->err = 1) : 0;
}

static int cp_digest(void *arg, const struct snapshot_digest *d)
{
	struct copy *c = arg;
	int rc = snapshot_writer_finish(c->w, d, &c->e);
	c->w = NULL;
	return rc ? (c->err = 1) : 0;
}

static int cp_txn(void *arg, const struct txn_parts *p, const struct txnlog_entry *en)
{
	struct copy *c = arg;
	if (c->w) {  /* a 3.5 snapshot without a digest trailer */
		if (snapshot_writer_finish(c->w, NULL, &c->e))
			return c->err = 1;
		c->w = NULL;
	}
	/* keep the source's file boundaries: roll when it moved to a new file */
	if (c->cur_file[0] && strcmp(c->cur_file, en->path) != 0 && txnlog_roll(c->lg, &c->e))
		return c->err = 1;
	snprintf(c->cur_file, sizeof(c->cur_file), "%s", en->path);
	if (txnlog_append(c->lg, en->zxid, en->body, en->len, &c->e))
		return c->err = 1;
	return 0;
}

int zabdump_copy(struct vfs *v, const char *src, const char *dst)
{
	struct copy c = {.v = v, .dst = dst};
	struct recover_result res;
	c.res = &res;
	char logdir[STORE_PATH_MAX];
	snprintf(logdir, sizeof(logdir), "%s/version-2", dst);
	if (vfs_mkdirs(v, logdir) < 0) {
		fprintf(stderr, "zabdump: cannot create %s\n", logdir);
		return 1;
	}
	c.lg = txnlog_open(v, logdir, NULL);
	struct recover_opts o = {.vfs = v, .data_dir = src, .no_repair = true};
	struct recover_callbacks cb = {
		.snap = {.on_counts = cp_counts, .on_session = cp_session, .on_acl = cp_acl,
			 .on_node = cp_node, .on_digest = cp_digest},
		.on_txn = cp_txn};
	struct store_error e;
	int rc = recover_open(&o, &cb, &c, &res, &e);
	if (rc == 0 && c.w && snapshot_writer_finish(c.w, NULL, &c.e))
		c.err = 1;
	else if (rc)
		snapshot_writer_abort(c.w);
	if (rc == 0 && txnlog_commit(c.lg, &c.e))
		c.err = 1;
	txnlog_close(c.lg);
	if (c.err)
		return fail(&c.e);
	if (rc)
		return fail(&e);
	fprintf(stderr, "zabdump: copied snapshot 0x%llx and %llu txns to %s\n",
		(unsigned long long)res.snap_zxid, (unsigned long long)res.txns, dst);
	return 0;
}
