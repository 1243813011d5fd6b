/* prep: turning a write request into a txn (ZooKeeper's PrepRequestProcessor,
 * zookeeper-protocol.md §3.2-§3.6). Every rule is checked here, in
 * ZooKeeper's order, against the pending overlay and then the tree; the
 * outcome is always a txn with its own zxid — a failed write becomes an
 * error txn (§3.3). Everything nondeterministic (time, session ids, sequence
 * numbers, ephemeral lists) is fixed in the txn, so applying it is a pure
 * function of (tree, txn). */
#ifndef ZABD_REQUEST_PREP_H
#define ZABD_REQUEST_PREP_H
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "request/state.h"

/* Prepare client write `op` with body bytes; appends TxnHeader + record to
 * `txn` and returns the txn's zxid. One case makes no txn at all: a multi
 * with a null path in a sub-op, where Java 3.8 fails while decoding, after
 * it has taken a zxid and before it builds the txn — the zxid is spent, no
 * txn exists, and the client gets MarshallingError. zabd does the same (so
 * its zxids stay equal to Java's); prep_write then returns 0 and leaves
 * `txn` untouched. */
#define PREP_NO_TXN_ERR ZMARSHALLINGERROR
int64_t prep_write(struct zstate *s, const struct caller *c, int32_t cxid, int32_t op,
		   const uint8_t *body, size_t len, int64_t now_ms, struct buf *txn);
/* Internal txns. */
int64_t prep_create_session(struct zstate *s, int64_t session_id, int32_t timeout_ms, int64_t now_ms,
			    struct buf *txn);
int64_t prep_close_session(struct zstate *s, int64_t session_id, int32_t cxid, int64_t now_ms,
			   struct buf *txn);
int64_t prep_delete_container(struct zstate *s, const char *path, size_t len, int64_t now_ms,
			      struct buf *txn);

/* Shared with multi.c. Each checks one op and, on success, records its
 * effect in the overlay and appends its txn record to `rec`; returns 0 or a
 * ZooKeeper error code. `*txn_type` is set to the txn type to log. */
int prep_create(struct zstate *s, const struct caller *c, int32_t op, struct jute_reader *r,
		int64_t zxid, struct buf *rec, int32_t *txn_type, bool in_multi);
int prep_delete(struct zstate *s, const struct caller *c, struct jute_reader *r, int64_t zxid,
		struct buf *rec);
int prep_set_data(struct zstate *s, const struct caller *c, struct jute_reader *r, int64_t zxid,
		  struct buf *rec);
int prep_check(struct zstate *s, const struct caller *c, struct jute_reader *r, int64_t zxid,
	       struct buf *rec);
int prep_multi(struct zstate *s, const struct caller *c, struct jute_reader *r, int64_t zxid,
	       struct buf *rec);
int prep_session_check(struct zstate *s, const struct caller *c);

/* prep_multi's code for "no txn" (see prep_write). */
#define PREP_NO_TXN 1

void txn_put_header(struct buf *b, int64_t client_id, int32_t cxid, int64_t zxid, int64_t time_ms,
		    int32_t type);

#endif
