/* ens_store: an ensemble member's data directory at run time — the
 * consensus core's store (store/zstore) over the real file system, with
 * the txn-log writes and fsyncs on a thread of their own so the event loop
 * never waits for the disk. One job at a time: what the core appends while
 * a job runs gathers into the next one (group commit). Completions come
 * back to the loop through a uv_async and are reported as `persisted`. */
#ifndef ZABD_IO_ENS_STORE_H
#define ZABD_IO_ENS_STORE_H
#include <stdint.h>

#include <uv.h>

#include "base/buf.h"
#include "config/zoocfg.h"
#include "zab/zab.h"

struct ens_store;

/* empty_state: the SNAP stream of an empty tree (snapshot.0 of a fresh dir). */
struct ens_store *ens_store_open(uv_loop_t *loop, const struct zoocfg *cfg, const struct buf *empty_state,
				 void (*persisted)(void *arg, uint64_t upto),
				 void (*fatal)(void *arg, const char *why), void *arg, struct buf *errmsg);
struct zab_store ens_store_seam(struct ens_store *s);
/* Stop the thread after its job, close the async handle; frees once the
 * loop has closed it. */
void ens_store_close(struct ens_store *s);

#endif
