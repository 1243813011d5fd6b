/* apply: a committed txn → tree and session mutations, watch notifications
 * and the reply body (ZooKeeper's DataTree.processTxn + FinalRequestProcessor).
 * A pure function of (state, txn bytes): the same on the leader, on
 * followers, and when replaying a log at start. Defensive against txns that
 * no longer fit the tree (replay over a fuzzy snapshot): such a txn changes
 * nothing and reports its error, as ZooKeeper's processTxn does. */
#ifndef ZABD_REQUEST_APPLY_H
#define ZABD_REQUEST_APPLY_H
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "jute/records.h"
#include "request/state.h"

struct apply_result {
	struct jr_txn_header hdr;
	int32_t err;          /* ReplyHeader.err for the client */
	int32_t session_timeout_ms;  /* createSession */
};

/* Applies txn (TxnHeader + record [+ TxnDigest]); appends the reply body to
 * `reply` (may be NULL when nobody waits). Returns 0, or -1 if the bytes do
 * not even hold a txn header (a corrupt txn: the caller stops). */
int apply_txn(struct zstate *s, const uint8_t *txn, size_t len, int64_t now_ms, struct buf *reply,
	      struct apply_result *res);

#endif
