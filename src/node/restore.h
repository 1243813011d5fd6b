/* restore: a node's state to and from ZooKeeper's data directory. Loading
 * takes the snapshot's sessions, ACL cache and nodes, then the logged txns
 * after it, all through the same apply path the pipeline uses; saving
 * walks the tree parent-before-child into a snapshot writer. Pure: the
 * files are reached only through store/ and its vfs, which the shell
 * chooses. */
#ifndef ZABD_NODE_RESTORE_H
#define ZABD_NODE_RESTORE_H
#include <stdint.h>

#include "node/node.h"
#include "store/recover.h"
#include "store/snapshot.h"

struct node_restore {
	struct node *n;
	int64_t now_ms;
	bool emptied;       /* the fresh tree was dropped for the snapshot's */
	char err[256];      /* why a callback refused, for the operator */
};

/* Callbacks for recover_open(); arg is a struct node_restore. */
void node_restore_callbacks(struct recover_callbacks *cb);
/* After recover_open() succeeded: counters follow the last txn. */
int node_restore_finish(struct node_restore *r, const struct recover_result *res);

/* Write the whole state as snapshot.<last applied zxid> in snap_dir. */
int node_snapshot_save(struct node *n, struct vfs *vfs, const char *snap_dir, struct store_error *e);
/* The same without fsyncs (the caller syncs the file and snap_dir before
 * anything relies on them); the file's path goes to path_out. */
int node_snapshot_save_unsynced(struct node *n, struct vfs *vfs, const char *snap_dir,
				char *path_out, size_t path_cap, struct store_error *e);

#endif
