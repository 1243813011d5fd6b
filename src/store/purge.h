/* purge: autopurge retention, ZooKeeper's PurgeTxnLog rule
 * (zookeeper-protocol.md §6.5.4): keep the newest snapRetainCount snapshots
 * that pass the quick validity check (at least 3), plus the txn log with
 * the greatest start <= the oldest kept snapshot's zxid and every later
 * log, because replaying from that snapshot needs them; delete every other
 * log.* and snapshot.* whose zxid is below that snapshot's — including
 * invalid snapshots and names that do not parse (zxid -1), as Java does.
 * Nothing newer than the oldest kept snapshot is ever touched. */
#ifndef ZABD_STORE_PURGE_H
#define ZABD_STORE_PURGE_H
#include <stdint.h>

#include "store/store.h"
#include "store/vfs.h"

#define PURGE_MIN_RETAIN 3

struct purge_result {
	int64_t oldest_kept;    /* zxid of the oldest snapshot kept, -1 if none */
	unsigned snaps_removed;
	unsigned logs_removed;
};

/* snap_dir / log_dir: the version-2 directories. retain < 3 counts as 3. */
int purge_run(struct vfs *vfs, const char *snap_dir, const char *log_dir, int retain,
	      struct purge_result *res, struct store_error *e);

#endif
