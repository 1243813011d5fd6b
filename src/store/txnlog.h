/* txnlog: ZooKeeper 3.8's transaction log files, `log.<hex zxid>` in
 * <dataLogDir>/version-2 (zookeeper-protocol.md §6.2), written and read
 * byte for byte as Java does, through the vfs seam.
 *
 * A file is a 16-byte FileHeader {int magic "ZKLG", int version 2, long dbid
 * 0} followed by entries {long Adler-32 of the body, int length, body,
 * byte 0x42 'B'}; the body is TxnHeader ‖ txn record ‖ optional TxnDigest,
 * exactly the bytes the caller hands to txnlog_append(). The file is grown
 * with zeros in steps of preAllocSize, so a zero length means "end".
 *
 * This module owns the files, never the meaning of a txn: it does not look
 * inside a body beyond the zxid at byte 12 (see txnbody.h for that). It
 * never appends to an existing file (Java doesn't either): the first append
 * after open or roll creates log.<zxid of that txn>.
 *
 * Reading classifies every anomaly at offset o of a file:
 *   - everything from o to the end of the file is zero (or o is the end):
 *     the file ends cleanly (preallocated space);
 *   - only zeros follow the anomalous entry: a torn tail, left by a crash
 *     during a write that was never fsynced; reading ends the file there
 *     and, with repair set, cuts the file at o so that Java (which finds a
 *     checksum mismatch fatal) can read the directory too;
 *   - otherwise (bad checksum, bad length or missing 'B' with real data
 *     after it): corruption, STORE_ECORRUPT naming the file and offset. */
#ifndef ZABD_STORE_TXNLOG_H
#define ZABD_STORE_TXNLOG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/vfs.h"

#define TXNLOG_MAGIC 0x5A4B4C47u  /* "ZKLG" */
#define TXNLOG_VERSION 2
#define TXNLOG_HEADER_LEN 16
#define TXNLOG_EOR 0x42
#define TXNLOG_ENTRY_OVERHEAD 13  /* checksum 8 + length 4 + EOR 1 */
#define TXNLOG_PREALLOC_DEFAULT (64u * 1024 * 1024)

struct txnlog_opts {
	uint64_t prealloc_bytes;  /* preAllocSize (KiB in zoo.cfg) * 1024; 0 = none */
	bool force_sync;          /* forceSync=yes (default): fsync on commit */
	int32_t max_body_len;     /* largest body accepted (STORE_MAX_RECORD) */
};
void txnlog_opts_default(struct txnlog_opts *o);

/* --- writing -------------------------------------------------------------- */

struct txnlog;

/* A writer for the directory log_dir (which must exist). Does no I/O until
 * the first append. Never fails. */
struct txnlog *txnlog_open(struct vfs *vfs, const char *log_dir, const struct txnlog_opts *opts);
/* Frees the writer; whatever was not committed may or may not be on disk. */
void txnlog_close(struct txnlog *lg);

/* Queues one entry. body = TxnHeader ‖ record ‖ digest as serialized; zxid
 * must equal the TxnHeader's (checked). The bytes are copied. Writes reach
 * the file when the internal buffer fills or at commit. Errors (vfs failure,
 * oversized body) are sticky: after one, every call fails. */
int txnlog_append(struct txnlog *lg, int64_t zxid, const void *body, size_t len,
		  struct store_error *e);
/* Writes everything queued and, if force_sync, fsyncs it (and the directory
 * after creating a file). On return 0, every appended entry is durable. */
int txnlog_commit(struct txnlog *lg, struct store_error *e);
/* Writes everything queued to the file without fsync (the bytes are then
 * the OS's to lose or tear until the next commit). Lets a caller model
 * write-back (the simulator's disk) or bound what a crash can lose. */
int txnlog_write(struct txnlog *lg, struct store_error *e);
/* Commits, then closes the current file: the next append starts a new one.
 * A no-op when no file is open. */
int txnlog_roll(struct txnlog *lg, struct store_error *e);

struct txnlog_stats {
	uint64_t txns;          /* entries appended */
	uint64_t commits;       /* commit calls that had something to write */
	uint64_t fsyncs;        /* fsyncs of log files */
	uint64_t files;         /* files created */
	uint64_t bytes_since_roll; /* on-disk size (with padding) of files since the last roll */
	int64_t last_zxid;      /* last zxid appended, -1 if none */
};
void txnlog_get_stats(const struct txnlog *lg, struct txnlog_stats *out);

/* --- reading -------------------------------------------------------------- */

struct txnlog_entry {
	int64_t zxid;
	const uint8_t *body;   /* view, valid until the next txnlog_iter_next() */
	uint32_t len;
	const char *path;      /* the file it came from */
	uint64_t offset;       /* of the entry's checksum field in that file */
};

struct txnlog_read_opts {
	int32_t max_body_len;  /* "Unreasonable length" above this (STORE_MAX_RECORD) */
	bool repair;           /* cut torn tails, unlink files shorter than a header */
};
void txnlog_read_opts_default(struct txnlog_read_opts *o);

struct txnlog_iter;

/* Iterate the txns with zxid >= from_zxid over the files of log_dir as Java
 * picks them: every file starting at >= from_zxid plus the newest one
 * starting below it. */
int txnlog_iter_open(struct txnlog_iter **out, struct vfs *vfs, const char *log_dir,
		     int64_t from_zxid, const struct txnlog_read_opts *opts, struct store_error *e);
/* Iterate every txn of one file (path as given). */
int txnlog_iter_open_file(struct txnlog_iter **out, struct vfs *vfs, const char *path,
			  const struct txnlog_read_opts *opts, struct store_error *e);
/* 1: *out holds the next entry; 0: no more; < 0: error (corruption or I/O),
 * the iterator is then finished. */
int txnlog_iter_next(struct txnlog_iter *it, struct txnlog_entry *out, struct store_error *e);
void txnlog_iter_close(struct txnlog_iter *it);

struct txnlog_iter_report {
	unsigned files;        /* files opened */
	unsigned torn;         /* torn tails met (cut if repair) */
	char torn_path[STORE_PATH_MAX];   /* the last torn tail: file ... */
	uint64_t torn_offset;  /* ... and where it was cut */
	char torn_why[96];
	unsigned removed;      /* header-less files unlinked (repair) */
	int64_t last_zxid;     /* last zxid returned, -1 if none */
};
const struct txnlog_iter_report *txnlog_iter_report(const struct txnlog_iter *it);

/* The zxid of the last whole txn in log_dir, -1 if none (no repair). */
int txnlog_last_zxid(struct vfs *vfs, const char *log_dir, int64_t *out, struct store_error *e);

/* TRUNC: keep every txn with zxid <= zxid, cut the file holding the first
 * later one right before it, delete every later file; fsync what changed. */
int txnlog_truncate(struct vfs *vfs, const char *log_dir, int64_t zxid, struct store_error *e);

/* --- when to snapshot ----------------------------------------------------- */

/* ZooKeeper's SyncRequestProcessor rule (§6.5.4): after each logged txn,
 * snapshot (and roll the log) when count > snapCount/2 + randRoll or the log
 * bytes since the last roll exceed snapSize/2 + randSize; both random terms
 * are drawn again at each trigger. Seeded, so the simulator can replay. */
struct txnlog_snap_policy {
	int64_t snap_count;       /* >= 2 */
	int64_t snap_size_bytes;  /* <= 0: size trigger off */
	int64_t rand_roll;
	int64_t rand_size;
	int64_t count;
	uint64_t rng;
};
void txnlog_snap_policy_init(struct txnlog_snap_policy *p, int64_t snap_count,
			     int64_t snap_size_kb, uint64_t seed);
/* Count one logged txn; log_bytes = txnlog_stats.bytes_since_roll. Returns
 * true when a snapshot is due; the counters then start over. */
bool txnlog_snap_policy_logged(struct txnlog_snap_policy *p, uint64_t log_bytes);

#endif
