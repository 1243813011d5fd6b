/* recover: opening a ZooKeeper data directory at startup, as Java's
 * FileTxnSnapLog.restore does (zookeeper-protocol.md §6.5.3):
 *   1. snapshots live in <dataDir>/version-2, logs in <dataLogDir>/version-2
 *      (dataLogDir defaults to dataDir); both are created if missing;
 *   2. the newest snapshot that passes the quick check and reads whole, with
 *      both seals, is loaded through the snapshot callbacks (it is read once
 *      to verify and once to load, so callbacks never see a snapshot that
 *      turns out bad halfway); of the newest 100 candidates;
 *   3. every txn after the snapshot's zxid is replayed through on_txn, split
 *      into header, record and digest;
 *   4. a torn tail is cut at the last whole entry; a corrupt entry (bad
 *      checksum, length or type with data after it) stops recovery with
 *      STORE_ECORRUPT and a message naming the file and offset — the server
 *      must stop with it;
 *   5. no loadable snapshot: an empty database if there are no logs either
 *      (result.fresh: the caller builds the empty tree and, as Java does,
 *      writes snapshot.0), else STORE_ENOSNAP unless trust_empty_snapshot.
 * The module knows nothing of the tree, sessions or digests: it delivers
 * bytes in order. Applying them (idempotently, for the fuzzy snapshot's
 * overlap) and comparing digests is the caller's job. */
#ifndef ZABD_STORE_RECOVER_H
#define ZABD_STORE_RECOVER_H
#include <stdbool.h>
#include <stdint.h>

#include "store/snapshot.h"
#include "store/store.h"
#include "store/txnbody.h"
#include "store/txnlog.h"
#include "store/vfs.h"

struct recover_opts {
	struct vfs *vfs;
	const char *data_dir;
	const char *data_log_dir;    /* NULL = data_dir */
	bool trust_empty_snapshot;   /* zookeeper.snapshot.trust.empty */
	bool no_repair;              /* read only: report torn tails, cut nothing */
	int32_t max_body_len;        /* 0 = STORE_MAX_RECORD */
};

struct recover_callbacks {
	struct snapshot_callbacks snap;
	/* one logged txn, in log order: parts = header, record and digest, views
	 * into en->body (the whole entry body, as it would be re-logged or sent
	 * in a PROPOSAL); en also names the file and offset. Valid during the
	 * call only. */
	int (*on_txn)(void *arg, const struct txn_parts *parts, const struct txnlog_entry *en);
	/* Optional: undo everything the snapshot callbacks did. With it, each
	 * candidate snapshot is read once, loading as it verifies, and a
	 * snapshot that turns out bad halfway is undone with this before the
	 * next is tried (half the reading of a big snapshot); without it, a
	 * verifying read comes first and callbacks only see good snapshots. */
	int (*on_snapshot_reset)(void *arg);
};

struct recover_result {
	char snap_dir[STORE_PATH_MAX];
	char log_dir[STORE_PATH_MAX];
	bool fresh;                  /* nothing on disk: start from an empty tree */
	char snapshot[STORE_PATH_MAX]; /* the snapshot loaded, "" if none (set
					* before its callbacks run) */
	int64_t snap_zxid;           /* its zxid (file name), -1 if none */
	struct snapshot_info snap;
	unsigned snapshots_skipped;  /* newer candidates that did not read whole */
	int64_t last_zxid;           /* after replay; snap_zxid if no txns; 0 if fresh */
	uint64_t txns;               /* replayed */
	bool initialize_found;       /* <dataLogDir>/initialize existed (now removed) */
	struct txnlog_iter_report log;
};

int recover_open(const struct recover_opts *opts, const struct recover_callbacks *cb, void *arg,
		 struct recover_result *res, struct store_error *e);

#endif
