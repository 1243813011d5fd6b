/* snapshot: ZooKeeper 3.8's snapshot files, `snapshot.<hex zxid>` in
 * <dataDir>/version-2 (zookeeper-protocol.md §6.5), written and read as
 * 3.8.0 does by default: uncompressed (snapshot.compression.method unset),
 * one running Adler-32 over the whole stream.
 *
 *   FileHeader   int magic "ZKSN", int version 2, long dbid -1
 *   sessions     int count, {long id, int timeout_ms}*
 *   ACL cache    int count, {long ref, vector<ACL>}*
 *   nodes        {ustring path, buffer data, long acl_ref, StatPersisted}*
 *                pre-order from the root "" ; then the path "/" alone
 *   seal         long Adler-32 of all bytes before it, ustring "/"
 *   digest       long zxid, int version, long digest   (3.6+)
 *   seal         long Adler-32 of all bytes before it, ustring "/"
 *
 * The module never knows the tree. Writing is a streaming API the caller
 * drives in file order; reading calls back per session, ACL entry and node,
 * handing views that are valid only during the callback. Snapshots are
 * written to <name>.tmp, fsynced, renamed, and the directory fsynced, so a
 * crash leaves either the old state or a whole new file (recovery never
 * reads a .tmp; Java's readers would find a partial one invalid). */
#ifndef ZABD_STORE_SNAPSHOT_H
#define ZABD_STORE_SNAPSHOT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jute/records.h"
#include "store/store.h"
#include "store/vfs.h"

#define SNAPSHOT_MAGIC 0x5A4B534Eu  /* "ZKSN" */
#define SNAPSHOT_VERSION 2
#define SNAPSHOT_ACL_OPEN (-1LL)    /* the built-in nodes' OPEN_ACL_UNSAFE marker */

struct snapshot_digest {
	int64_t zxid;     /* last txn applied when the node section was finished */
	int32_t version;  /* 2 in 3.8 */
	int64_t digest;   /* tree digest (§6.4) */
};

struct snapshot_node {
	struct jute_bytes path;   /* "" for the root, else "/a/b" */
	struct jute_bytes data;   /* len -1 = null */
	int64_t acl_ref;          /* key in the ACL cache, or -1 */
	struct jr_stat_persisted stat;
};

/* --- writing -------------------------------------------------------------- */

struct snapshot_writer;

/* Starts snapshot.<hex zxid> (as .tmp) in snap_dir and writes the header. */
int snapshot_writer_open(struct snapshot_writer **out, struct vfs *vfs, const char *snap_dir,
			 int64_t zxid, struct store_error *e);
/* In this order: sessions_begin(count) then exactly count sessions;
 * acls_begin(count) then exactly count acl entries; then nodes, parent
 * before child, root first as "". Order mistakes are programmer errors
 * (zassert). Bytes are copied. */
void snapshot_write_sessions_begin(struct snapshot_writer *w, uint32_t count);
void snapshot_write_session(struct snapshot_writer *w, int64_t id, int32_t timeout_ms);
void snapshot_write_acls_begin(struct snapshot_writer *w, uint32_t count);
void snapshot_write_acl(struct snapshot_writer *w, int64_t ref, const struct jr_acl *acls,
			int32_t n);
int snapshot_write_node(struct snapshot_writer *w, const struct snapshot_node *n,
			struct store_error *e);
/* Writes the terminator, seal, digest trailer (NULL: zxid 0, version 2,
 * digest 0, which Java ignores), second seal; fsyncs, renames into place,
 * fsyncs the directory; frees w. On error the .tmp is removed. */
int snapshot_writer_finish(struct snapshot_writer *w, const struct snapshot_digest *d,
			   struct store_error *e);
/* Let finish skip both fsyncs (the file is renamed into place unsynced):
 * for a caller that makes file and directory durable itself before
 * anything depends on them. */
void snapshot_writer_no_sync(struct snapshot_writer *w);
/* Drops an unfinished snapshot (removes the .tmp); frees w. */
void snapshot_writer_abort(struct snapshot_writer *w);

/* --- reading -------------------------------------------------------------- */

/* Any callback may be NULL. A non-zero return stops the read with
 * STORE_ECALLBACK. Views are valid during the call only. */
struct snapshot_callbacks {
	int (*on_session)(void *arg, int64_t id, int32_t timeout_ms);
	int (*on_acl)(void *arg, int64_t ref, const struct jr_acl *acls, int32_t n);
	int (*on_node)(void *arg, const struct snapshot_node *n);
	int (*on_digest)(void *arg, const struct snapshot_digest *d);
	/* before the sessions / the ACL entries: their counts */
	int (*on_counts)(void *arg, int kind /* 0 sessions, 1 acls */, uint32_t count);
	/* once, after the first SNAPSHOT_HINT_NODES nodes of an uncompressed
	 * snapshot: the node count to expect from the bytes they took and the
	 * bytes left (the format has no node count; a loader sizes its index) */
	void (*on_nodes_hint)(void *arg, uint64_t expect_nodes);
};
#define SNAPSHOT_HINT_NODES 4096

struct snapshot_info {
	int64_t name_zxid;      /* from the file name, -1 if it does not parse */
	uint32_t sessions;
	uint32_t acls;
	uint64_t nodes;
	bool has_digest;        /* a 3.6+ trailer was present */
	struct snapshot_digest digest;
	uint64_t size;          /* bytes read */
};

/* Does the name say gzip (snapshot.<hex>.gz, zookeeper.snapshot.compression
 * .method=gz)? Such files are read through zlib; the checksums cover the
 * inflated bytes. (.snappy is not supported: it fails the quick check.) */
bool snapshot_is_gz(const char *path);

/* Java's quick validity check (SnapStream.isValidSnapshot): at least 10
 * bytes, ending with 00 00 00 01 2f; for .gz, the gzip magic. 1 valid,
 * 0 not, < 0 I/O error. */
int snapshot_quick_check(struct vfs *vfs, const char *path, struct store_error *e);

/* Reads a whole snapshot, checking every seal. cb may be NULL (verify
 * only). Returns 0, or STORE_ECORRUPT naming the file and offset. */
int snapshot_read(struct vfs *vfs, const char *path, const struct snapshot_callbacks *cb,
		  void *arg, struct snapshot_info *info, struct store_error *e);

#endif
