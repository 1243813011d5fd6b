/* zstore: the consensus core's disk (struct zab_store, zab/zab.h) over a
 * ZooKeeper 3.8 data directory, through the vfs seam only. The server runs
 * it over vfs_posix(); the simulator runs the same code over vfs_mem, whose
 * crashes keep, drop or tear what was not fsynced.
 *
 * What is on disk is exactly what Java writes and reads
 * (zookeeper-protocol.md §5.6, §6):
 *   - log.<hex>: txnlog.h's files. A txn handed by the core IS the entry
 *     body (TxnHeader ‖ record ‖ optional digest); zstore checks that the
 *     header's zxid (byte 12) is the core's and never looks further.
 *   - snapshot.<hex>: FileHeader {"ZKSN", 2, dbid -1} ‖ the core's snapshot
 *     bytes ‖ seal {Adler-32 of everything before, "/"} ‖ digest trailer
 *     {zxid 0, version 2, digest 0} ‖ second seal. For the server the bytes
 *     are the SNAP stream content (§5.4.5: sessions, ACL cache, nodes ending
 *     with "/", no "BenWasHere"), which makes the file the one Java writes;
 *     the framing never looks inside, so the simulator's opaque application
 *     state goes through the same code. Reading takes the newest snapshot
 *     whose magic and seal(s) check (with or without the 3.6 trailer) and
 *     hands back the bytes between header and first seal. Written
 *     <name>.tmp, fsync, rename, fsync dir.
 *   - acceptedEpoch / currentEpoch: epoch.h (tmp, fsync, rename, fsync dir).
 *
 * The log writes run on an executor the embedder provides, so that the
 * owner's thread (the server's event loop) never writes or fsyncs the log:
 *
 *   owner thread                          executor
 *   log_append: copy into `pending`
 *   log_flush:  pending → the job,
 *               exec.submit(job) ───────▶ zstore_job_run(job)  (write, fsync)
 *                                          then wake the owner
 *   zstore_job_done(zs, job, &durable) ◀──┘
 *   peer_on_persisted(durable)
 *
 * Threading contract:
 *  1. Every zstore_* call except zstore_job_run/_write/_sync is made on the
 *     owner's thread; the three job calls are made by the executor, for the
 *     job it was handed, at most once each and in that order (_run = _write
 *     then _sync; _sync without _write does both).
 *  2. There is one job; submit() is never called while it is outstanding
 *     (from submit() until zstore_job_done() returned). Appends and flushes
 *     meanwhile gather in `pending`; zstore_job_done submits them as the
 *     next job (group commit).
 *  3. While a job runs, the executor owns the txn log writer; the owner
 *     thread touches no log file. Calls that must (log_truncate,
 *     snap_install, load, log_read) first call exec.drain(job), which must
 *     return once the job's I/O is finished (zstore_job_run returned); its
 *     completion, zstore_job_done, still comes later, as usual. Snapshots,
 *     epoch files and purge touch other files and run on the owner thread
 *     without draining (they fsync there: snap_save writes the whole file).
 *  4. zstore_job_done must be called on the owner thread, after the job's
 *     I/O, from an event of its own (not inside a zab_store call), then the
 *     embedder reports *durable to the core (peer_on_persisted). A failed
 *     write or fsync makes it return -1: fatal, as ZooKeeper exits when it
 *     cannot log (zstore_error() says why; every later append fails).
 *  5. zstore_free does no I/O: a crash (the simulator) frees with a job
 *     outstanding; the server stops its executor first.
 * The executor needs no knowledge of the job: the server's is a thread
 * that runs zstore_job_run and wakes the loop (uv_async); the simulator's
 * runs zstore_job_write at submit and zstore_job_sync at its fsync event.
 *
 * Durability bookkeeping: entries reported durable are never unreported; a
 * completion that predates a truncation or SNAP install reports nothing
 * beyond what survived it. After a restart everything found in the log is
 * fsynced at the first load before it counts as durable.
 *
 * Beyond Java: torn tails are cut at load (txnlog.h); a log that ends below
 * the newest snapshot (a crash lost entries the snapshot covers) is removed
 * at load (zab.h: no DIFF across that gap); snapshots that fail their
 * seals are renamed <name>.corrupt (kept for the operator, never loaded). */
#ifndef ZABD_STORE_ZSTORE_H
#define ZABD_STORE_ZSTORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/txnlog.h"
#include "store/vfs.h"
#include "zab/zab.h"

#define ZSTORE_SNAP_FRAMING 62  /* header 16 + seal 13 + trailer 20 + seal 13 */

struct zstore;
struct zstore_job;

struct zstore_executor {
	void *ctx;
	/* Run the job's I/O off the owner's thread, then have the owner call
	 * zstore_job_done(). */
	void (*submit)(void *ctx, struct zstore_job *job);
	/* Return once the job's I/O is finished (run it now if it has not
	 * started). Never called by the executor's own thread. */
	void (*drain)(void *ctx, struct zstore_job *job);
};

struct zstore_opts {
	struct vfs *vfs;
	const char *snap_dir;        /* <dataDir>/version-2 (created if missing) */
	const char *log_dir;         /* <dataLogDir>/version-2; NULL = snap_dir */
	struct txnlog_opts log;      /* preAllocSize, forceSync, largest body */
	/* The state of an empty database, written as snapshot.0 by the first
	 * load of an empty directory (Java writes snapshot.0 of the empty tree
	 * at the first start): the server's empty tree stream; may be empty. */
	const uint8_t *empty_state;
	size_t empty_state_len;
	/* zookeeper.snapshot.trust.empty: with no loadable snapshot but logs,
	 * replay the logs over the empty state instead of failing. */
	bool trust_empty_snapshot;
	/* Autopurge after each periodic snapshot (purge.h, Java's
	 * PurgeTxnLog): keep this many snapshots (>= 3) and the logs they
	 * need; 0 = never delete on our own (the server's timer may call
	 * zstore_purge()). */
	int purge_retain;
	/* Without autopurge: keep at most this many snapshots, dropping the
	 * second oldest (the oldest is the log's base, so truncation can
	 * always go back to it); 0 = keep all (Java). */
	int max_snaps;
	struct zstore_executor exec;
	/* Optional: one line per notable repair (torn tail cut, log dropped,
	 * corrupt snapshot set aside). */
	void (*trace)(void *arg, const char *line);
	void *trace_arg;
};

struct zstore_stats {
	uint64_t jobs;           /* flush jobs submitted */
	uint64_t log_reads;      /* log_read calls that returned entries (DIFF from disk) */
	uint64_t snaps_written;  /* snapshot files written (save and install) */
	uint64_t last_appended;  /* last zxid appended (0 if none) */
	uint64_t durable;        /* last zxid known fsynced */
};

int zstore_open(struct zstore **out, const struct zstore_opts *o, struct store_error *e);
void zstore_free(struct zstore *zs);
/* The seam for peer_init/zab_init, ctx = zs. */
struct zab_store zstore_seam(struct zstore *zs);
void zstore_get_stats(const struct zstore *zs, struct zstore_stats *out);
/* The first error of the last failed call ("" if none). */
const struct store_error *zstore_error(const struct zstore *zs);

/* --- the executor's side ---------------------------------------------- */
int zstore_job_run(struct zstore_job *job);
int zstore_job_write(struct zstore_job *job);  /* append + write, no fsync */
int zstore_job_sync(struct zstore_job *job);   /* fsync (writes first if needed) */
/* Owner thread, after the job's I/O: *durable = last zxid to report to
 * the core. 0, or -1 when the job failed (fatal). May submit the next job. */
int zstore_job_done(struct zstore *zs, struct zstore_job *job, uint64_t *durable);

/* Owner thread, no executor: drain, then write and fsync everything
 * pending (clean shutdown, tests). The outstanding job's completion, if
 * any, must still be delivered. */
int zstore_sync_now(struct zstore *zs, uint64_t *durable);
/* Autopurge now (the server's purgeInterval timer). */
int zstore_purge(struct zstore *zs, int retain);

/* --- the zab_store functions (also through zstore_seam) ------------------ */
int zstore_log_append(void *zs, uint64_t zxid, const uint8_t *p, size_t n);
void zstore_log_flush(void *zs);
int zstore_log_truncate(void *zs, uint64_t zxid);
int zstore_snap_install(void *zs, uint64_t zxid, const uint8_t *p, size_t n);
int zstore_snap_save(void *zs, uint64_t zxid, const uint8_t *p, size_t n);
int zstore_epoch_save(void *zs, enum zab_epoch_file which, uint64_t epoch);
int zstore_load(void *zs, void *arg,
		void (*snap)(void *arg, uint64_t zxid, const uint8_t *p, size_t n),
		void (*entry)(void *arg, uint64_t zxid, const uint8_t *p, size_t n),
		int64_t *accepted_epoch, int64_t *current_epoch, uint64_t *durable_zxid);
/* max_bytes counts on-disk entry bytes (body + 13) from the entry <= from
 * to the log's end (Java counts whole log files, preallocation included,
 * which would refuse nearly every txnlog DIFF). */
int zstore_log_read(void *zs, uint64_t from, uint64_t to, uint64_t max_bytes, void *arg,
		    void (*entry)(void *arg, uint64_t zxid, const uint8_t *p, size_t n));
/* Size of the newest snapshot file (Java's getSnapshotSizeInBytes). */
uint64_t zstore_snap_size(void *zs);

/* --- snapshot files, usable alone ---------------------------------------- */
/* Write snapshot.<hex zxid> in dir from the core's bytes (tmp, fsync,
 * rename, fsync dir). */
int zstore_snapfile_write(struct vfs *vfs, const char *dir, uint64_t zxid, const uint8_t *p,
			  size_t n, struct store_error *e);
/* Read and check a snapshot file: *file = the whole file (zfree it), the
 * core's bytes are (*file)[*off .. *off + *len). STORE_ECORRUPT if the magic
 * or a seal does not check. */
int zstore_snapfile_read(struct vfs *vfs, const char *path, uint8_t **file, size_t *off,
			 size_t *len, struct store_error *e);

#endif
