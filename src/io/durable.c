#define _GNU_SOURCE /* close_range */
#include "io/durable.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "io/clock.h"
#include "node/restore.h"
#include "store/purge.h"
#include "store/recover.h"
#include "store/vfs.h"

static int recover(struct durable *d, const struct zoocfg *cfg, struct recover_result *res,
		   struct buf *err)
{
	struct recover_opts ro = {.vfs = vfs_posix(), .data_dir = cfg->data_dir,
				  .data_log_dir = cfg->data_log_dir, .trust_empty_snapshot = cfg->snapshot_trust_empty};
	struct recover_callbacks cb;
	node_restore_callbacks(&cb);
	struct node_restore r = {.n = d->node, .now_ms = clock_wall_ms()};
	struct store_error e;
	store_error_clear(&e);
	int64_t t0 = clock_monotonic_ms();
	if (recover_open(&ro, &cb, &r, res, &e) != 0) {
		buf_printf(err, "cannot open the data directory: %s%s%s", e.msg, r.err[0] ? ": " : "", r.err);
		return -1;
	}
	if (!res->fresh && node_restore_finish(&r, res) != 0) {
		buf_printf(err, "cannot open the data directory: %s: %s", res->snapshot, r.err);
		return -1;
	}
	snprintf(d->snap_dir, sizeof d->snap_dir, "%s", res->snap_dir);
	snprintf(d->log_dir, sizeof d->log_dir, "%s", res->log_dir);
	d->snap0[0] = '\0';
	if (res->fresh) {
		/* as ZooKeeper does: an empty database starts with snapshot.0;
		 * written now, made durable by the log thread before its first
		 * log file (so the two fsyncs are not on the way to listen) */
		if (node_snapshot_save_unsynced(d->node, vfs_posix(), d->snap_dir, d->snap0,
						sizeof d->snap0, &e) != 0) {
			buf_printf(err, "cannot write the first snapshot: %s", e.msg);
			return -1;
		}
	}
	log_info("data dir: %s (%s, %llu txns replayed, last zxid 0x%llx, %lld ms)", d->snap_dir,
		 res->fresh ? "new" : res->snapshot, (unsigned long long)res->txns,
		 (unsigned long long)d->node->st.last_applied_zxid, (long long)(clock_monotonic_ms() - t0));
	return 0;
}

static void lt_persisted(void *arg, int64_t zxid)
{
	struct durable *d = arg;
	d->on_persisted(d->arg, zxid);
}

static void lt_error(void *arg, const struct store_error *e)
{
	struct durable *d = arg;
	d->on_fatal(d->arg, e->msg);
}

/* The child inherits every descriptor of the parent: the listening socket,
 * the client connections, the open txn log. Kept open, they outlive the
 * parent: a client whose server was killed (or whose connection the
 * parent closed) sees no end of stream until the child has written the
 * whole snapshot, and a server restarted meanwhile cannot bind its port.
 * It needs none of them (the snapshot file is opened afterwards; messages
 * go to stderr), so it closes them first. */
static void close_inherited_fds(void)
{
	if (close_range(3, ~0U, 0) == 0)
		return;
	long max = sysconf(_SC_OPEN_MAX);
	for (long fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
		close((int)fd);
}

/* The snapshot child's disk: vfs_posix, except that every SNAP_CHUNK bytes
 * it makes what it wrote durable and then rests as long as that took. The
 * txn log shares the disk, and each of its fdatasyncs must wait for what
 * is queued ahead of it: written in one go, a snapshot of a few hundred
 * thousand znodes reaches the disk as one burst of tens of MB at the final
 * fsync (the page cache holds it until then), and the log's fsyncs behind
 * it stalled for 100-200 ms (every acknowledged write with them). In
 * chunks, a log fsync waits for at most one chunk, and the rests leave the
 * disk to the log at least half of the time. */
#define SNAP_CHUNK (1u << 20)
#define SNAP_REST_MAX_NS 50000000LL

static struct vfs paced_vfs;
static uint64_t paced_unsynced;

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int paced_pwrite(struct vfs *v, struct vfs_file *f, const void *buf, size_t n, uint64_t off)
{
	struct vfs *in = vfs_posix();
	(void)v;
	int rc = in->xpwrite(in, f, buf, n, off);
	paced_unsynced += n;
	if (rc < 0 || paced_unsynced < SNAP_CHUNK)
		return rc;
	paced_unsynced = 0;
	int64_t t0 = now_ns();
	if ((rc = in->xfsync(in, f)) < 0)
		return rc;
	int64_t rest = now_ns() - t0;
	if (rest > SNAP_REST_MAX_NS)
		rest = SNAP_REST_MAX_NS;
	struct timespec ts = {0, (long)rest};
	nanosleep(&ts, NULL);
	return 0;
}

/* Background work: the child yields the CPU to the loop and the log thread
 * (nice 19) and the disk to the log (idle I/O class; mq-deadline ages
 * starved requests, so the snapshot still finishes on a busy disk). */
static void snapshot_child_init(void)
{
	if (setpriority(PRIO_PROCESS, 0, 19) != 0)
		fprintf(stderr, "zabd WARN snapshot: setpriority: %s\n", strerror(errno));
	enum { WHO_PROCESS = 1, CLASS_IDLE = 3, CLASS_SHIFT = 13 };
	(void)syscall(SYS_ioprio_set, WHO_PROCESS, 0, CLASS_IDLE << CLASS_SHIFT);
	paced_vfs = *vfs_posix();
	paced_vfs.xpwrite = paced_pwrite;
	paced_unsynced = 0;
}

/* The child writes the snapshot from its copy-on-write image of the tree
 * and exits; it touches nothing the parent's threads hold. */
static void lt_snapshot_due(void *arg, int64_t zxid)
{
	struct durable *d = arg;
	if (d->snap_child || d->closed)
		return;  /* one at a time, as ZooKeeper skips while one runs */
	pid_t pid = fork();
	if (pid < 0) {
		log_warn("snapshot after 0x%llx skipped: fork: %s", (unsigned long long)zxid, strerror(errno));
		return;
	}
	if (pid == 0) {
		close_inherited_fds();
		snapshot_child_init();
		struct store_error e;
		store_error_clear(&e);
		int rc = node_snapshot_save(d->node, &paced_vfs, d->snap_dir, &e);
		if (rc)
			fprintf(stderr, "zabd WARN snapshot failed: %s\n", e.msg);
		_exit(rc ? 1 : 0);
	}
	d->snap_child = pid;
	d->snap_child_zxid = d->node->st.last_applied_zxid;
}

static void on_sigchld(uv_signal_t *h, int sig)
{
	struct durable *d = h->data;
	(void)sig;
	if (!d->snap_child)
		return;
	int status;
	pid_t p = waitpid(d->snap_child, &status, WNOHANG);
	if (p != d->snap_child)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_info("snapshot.%llx written", (unsigned long long)d->snap_child_zxid);
	else
		log_warn("snapshot of 0x%llx failed", (unsigned long long)d->snap_child_zxid);
	d->snap_child = 0;
}

static void purge_work(uv_work_t *w)
{
	struct durable *d = w->data;
	struct purge_result pr;
	struct store_error e;
	store_error_clear(&e);
	if (purge_run(vfs_posix(), d->snap_dir, d->log_dir, d->retain, &pr, &e) != 0)
		fprintf(stderr, "zabd WARN autopurge: %s\n", e.msg);
}

static void purge_done(uv_work_t *w, int status)
{
	struct durable *d = w->data;
	(void)status;
	d->purge_running = false;
}

static void purge_tick(uv_timer_t *t)
{
	struct durable *d = t->data;
	if (d->purge_running || d->closed)
		return;
	d->purge_running = true;
	d->purge_work.data = d;
	uv_queue_work(d->loop, &d->purge_work, purge_work, purge_done);
}

static int start_log(struct durable *d, const struct zoocfg *cfg, struct buf *err)
{
	struct logthread_opts lo = {.vfs = vfs_posix(), .log_dir = d->log_dir, .snap_count = cfg->snap_count,
				    .snap_size_kb = cfg->snap_size_limit_kb,
				    .seed = (uint64_t)clock_monotonic_ms() ^ (uint64_t)getpid(),
				    .presync_file = d->snap0[0] ? d->snap0 : NULL, .presync_dir = d->snap_dir};
	txnlog_opts_default(&lo.log);
	lo.log.prealloc_bytes = (uint64_t)cfg->pre_alloc_size_kb * 1024;
	lo.log.force_sync = cfg->force_sync;
	lo.fsync_each_txn = !cfg->group_commit;
	struct logthread_callbacks cb = {lt_persisted, lt_snapshot_due, lt_error, d};
	struct store_error e;
	store_error_clear(&e);
	if (logthread_start(&d->lt, d->loop, &lo, &cb, &e) != 0) {
		buf_printf(err, "cannot start the txn log: %s", e.msg);
		return -1;
	}
	return 0;
}

int durable_open(struct durable *d, uv_loop_t *loop, const struct zoocfg *cfg, struct node *node,
		 struct buf *err)
{
	d->loop = loop;
	d->node = node;
	d->snap_child = 0;
	d->closed = false;
	d->purge_running = false;
	struct recover_result res;
	if (recover(d, cfg, &res, err) != 0 || start_log(d, cfg, err) != 0)
		return -1;
	uv_signal_init(loop, &d->sigchld);
	d->sigchld.data = d;
	uv_signal_start(&d->sigchld, on_sigchld, SIGCHLD);
	uv_timer_init(loop, &d->purge_timer);
	d->purge_timer.data = d;
	d->retain = cfg->autopurge_snap_retain_count;
	d->purge_interval_ms = (int64_t)cfg->autopurge_purge_interval * 3600 * 1000;
	if (d->purge_interval_ms > 0)
		uv_timer_start(&d->purge_timer, purge_tick, 0, (uint64_t)d->purge_interval_ms);
	return 0;
}

int durable_submit(struct durable *d, int64_t zxid, const struct buf *bytes)
{
	return logthread_submit(d->lt, zxid, bytes->data, bytes->len);
}

int durable_submit_list(struct durable *d, const struct node_txn *list)
{
	struct logthread_txn a[64];
	size_t n = 0;
	for (const struct node_txn *t = list; t; t = t->next) {
		a[n++] = (struct logthread_txn){t->zxid, t->bytes.data, t->bytes.len};
		if (n == sizeof a / sizeof a[0] || !t->next) {
			if (logthread_submit_batch(d->lt, a, n) != 0)
				return -1;
			n = 0;
		}
	}
	return 0;
}

void durable_stats(struct durable *d, struct logthread_stats *st)
{
	logthread_get_stats(d->lt, st);
}

void durable_close(struct durable *d)
{
	if (d->closed)
		return;
	d->closed = true;
	logthread_stop(d->lt);
	if (d->snap_child) {
		int status;
		waitpid(d->snap_child, &status, 0);
		d->snap_child = 0;
	}
	uv_timer_stop(&d->purge_timer);
	uv_close((uv_handle_t *)&d->purge_timer, NULL);
	uv_signal_stop(&d->sigchld);
	uv_close((uv_handle_t *)&d->sigchld, NULL);
}
