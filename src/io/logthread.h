/* logthread: the thread that makes txns durable, with group commit.
 *
 * The loop thread hands over serialized txns with logthread_submit() (the
 * bytes are copied, so the caller's buffer is free at once). The log thread
 * takes everything queued at that moment, appends it to the txn log
 * (store/txnlog.h), does ONE commit (fsync, unless forceSync=no) for the
 * whole batch, and then wakes the loop thread through a uv_async, which
 * calls on_persisted(arg, zxid) with the highest durable zxid. zxids passed
 * to on_persisted only grow; several batches may be reported as one.
 *
 * The thread also applies ZooKeeper's snapshot rule (txnlog.h
 * txnlog_snap_policy, SyncRequestProcessor): when it fires after txn Z, the
 * thread rolls the log (the next txn starts log.<Z+1>) and the loop thread
 * gets on_snapshot_due(arg, Z): take a (fuzzy) snapshot now. Triggers that
 * fire before the loop thread wakes up are reported once, with the latest
 * Z (one snapshot covers them; Java skips a snapshot while one is running).
 *
 * A write or fsync failure is final: the thread stops, on_error runs on the
 * loop thread with the reason, and later submits fail. The server must stop
 * (an fsync that failed may have lost data that a retry would not report).
 *
 * Threads: submit/roll/stats may be called from the loop thread only (they
 * lock); callbacks run on the loop thread. */
#ifndef ZABD_IO_LOGTHREAD_H
#define ZABD_IO_LOGTHREAD_H
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "store/store.h"
#include "store/txnlog.h"
#include "store/vfs.h"

struct logthread_opts {
	struct vfs *vfs;           /* vfs_posix() in the server */
	const char *log_dir;       /* <dataLogDir>/version-2, must exist */
	struct txnlog_opts log;    /* preAllocSize, forceSync, max body */
	int64_t snap_count;        /* zookeeper.snapCount; 0 = no snapshot rule */
	int64_t snap_size_kb;      /* zookeeper.snapSizeLimitInKb; <= 0 off */
	uint64_t seed;             /* for the rule's randomisation */
	bool fsync_each_txn;       /* group commit off (groupCommit=no): commit after every txn */
	/* Optional: a file (and its directory) written without fsync that must
	 * be durable before any txn log exists: the fresh data dir's
	 * snapshot.0. The thread syncs both before it writes its first batch,
	 * so the fsyncs cost nothing between exec and listen, and a log never
	 * reaches the disk ahead of the snapshot that makes it loadable. */
	const char *presync_file;
	const char *presync_dir;
};

struct logthread_callbacks {
	void (*on_persisted)(void *arg, int64_t zxid);
	void (*on_snapshot_due)(void *arg, int64_t zxid);    /* may be NULL */
	void (*on_error)(void *arg, const struct store_error *e);
	void *arg;
};

struct logthread_stats {
	uint64_t txns;        /* txns written */
	uint64_t fsyncs;      /* fsyncs of the log (txns / fsyncs = group size) */
	uint64_t batches;     /* commits */
	uint64_t max_batch;   /* most txns in one commit */
	int64_t durable_zxid; /* highest zxid known durable, -1 if none */
	uint64_t queued;      /* txns submitted but not yet durable */
};

struct logthread;

/* Starts the thread; the writer opens no file until the first txn. */
int logthread_start(struct logthread **out, uv_loop_t *loop, const struct logthread_opts *o,
		    const struct logthread_callbacks *cb, struct store_error *e);
/* Queues one txn (body = TxnHeader ‖ record ‖ digest, zxid as in the
 * header). 0, or -1 if the thread has stopped or failed. */
int logthread_submit(struct logthread *lt, int64_t zxid, const void *body, size_t len);
/* Queues n txns at once: one lock and at most one wakeup for all (the
 * loop thread submits what one event prepared together). */
struct logthread_txn {
	int64_t zxid;
	const void *body;
	size_t len;
};
int logthread_submit_batch(struct logthread *lt, const struct logthread_txn *txns, size_t n);
/* Queues a roll: the next txn goes to a new file (after a TRUNC or when the
 * caller takes a snapshot on its own). */
int logthread_roll(struct logthread *lt);
void logthread_get_stats(struct logthread *lt, struct logthread_stats *out);
/* Writes and syncs everything queued, stops the thread, reports the last
 * durable zxid through on_persisted (synchronously), and releases lt once
 * the loop has closed the async handle (run the loop afterwards). */
void logthread_stop(struct logthread *lt);

#endif
