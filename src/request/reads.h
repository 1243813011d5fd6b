/* reads: requests answered from the local committed tree without a txn —
 * exists, getData, getACL, getChildren(2), getAllChildrenNumber,
 * getEphemerals, multiRead, sync (standalone), whoAmI and the watch
 * operations (addWatch, checkWatches, removeWatches, setWatches(2)).
 * Watch registration and synthesized SetWatches events go through the
 * state's notify callback, so they precede the reply on the connection. */
#ifndef ZABD_REQUEST_READS_H
#define ZABD_REQUEST_READS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "request/state.h"

/* True if `op` is served here. */
bool reads_handles(int32_t op);
/* Executes a read; appends the response record to `reply` (only if the
 * result is 0) and returns the ReplyHeader err. */
int reads_execute(struct zstate *s, const struct caller *c, int32_t op, const uint8_t *body, size_t len,
		  struct buf *reply);

#endif
