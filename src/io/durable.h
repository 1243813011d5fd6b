/* durable: the server's data directory at run time — recovery at start,
 * the log thread that makes every txn durable before it is applied and
 * answered (group commit), snapshots after snapCount txns taken by a forked
 * child (a copy-on-write view of the tree, so the loop never stalls), and
 * autopurge. Shell code: it forks, runs threads and touches files; the
 * formats live in store/ and the state in node/. */
#ifndef ZABD_IO_DURABLE_H
#define ZABD_IO_DURABLE_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#include "config/zoocfg.h"
#include "io/logthread.h"
#include "node/node.h"
#include "store/store.h"

struct durable {
	uv_loop_t *loop;
	struct node *node;
	struct logthread *lt;
	char snap_dir[STORE_PATH_MAX];
	char log_dir[STORE_PATH_MAX];
	char snap0[STORE_PATH_MAX];  /* a fresh dir's unsynced snapshot.0, "" if none */
	pid_t snap_child;            /* 0 = no snapshot running */
	int64_t snap_child_zxid;
	uv_signal_t sigchld;
	uv_timer_t purge_timer;
	uv_work_t purge_work;
	bool purge_running;
	int retain;
	int64_t purge_interval_ms;
	bool closed;
	/* the server's hooks, called on the loop thread */
	void (*on_persisted)(void *arg, int64_t zxid);
	void (*on_fatal)(void *arg, const char *why);
	void *arg;
};

/* Recover the data dir into `node` (built but not yet serving), then start
 * the log thread. Returns 0, or -1 with the operator's message in err. */
int durable_open(struct durable *d, uv_loop_t *loop, const struct zoocfg *cfg, struct node *node,
		 struct buf *err);
/* Hand a prepared txn to the log thread (copied). */
int durable_submit(struct durable *d, int64_t zxid, const struct buf *bytes);
/* The same for a list of txns (node_take_persist order), handed over
 * together: one lock and one wakeup of the log thread per call. */
int durable_submit_list(struct durable *d, const struct node_txn *list);
void durable_stats(struct durable *d, struct logthread_stats *st);
/* Flush and stop the log thread, close handles (run the loop afterwards). */
void durable_close(struct durable *d);

#endif
