/* txnbody: splitting a logged txn body into its three parts, TxnHeader ‖
 * txn record ‖ optional TxnDigest (zookeeper-protocol.md §6.3), the way
 * Java's SerializeUtils.deserializeTxn finds the boundaries: the record is
 * parsed by type (without allocating) to learn its length, a type-1 create
 * that is too short for CreateTxn is read as CreateTxnV0, and whatever is
 * left, if at least 12 bytes, is the digest. Unknown types (including a
 * top-level check, 13) are rejected as Java rejects them. */
#ifndef ZABD_STORE_TXNBODY_H
#define ZABD_STORE_TXNBODY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jute/records.h"

struct txn_parts {
	struct jr_txn_header hdr;
	const uint8_t *record;   /* view into the body; NULL if the type has none */
	size_t record_len;
	bool create_v0;          /* a type-1 record in the pre-3.5 CreateTxnV0 layout */
	bool has_digest;
	struct jr_txn_digest digest;
};

/* 0 on success; -1 if the body is too short for a header or the record does
 * not parse; -2 if the type is not one Java logs. */
int txn_split(const uint8_t *body, size_t len, struct txn_parts *out);

/* Java's name for a txn type as TxnLogToolkit prints it ("create",
 * "setData", "createSession", ...), or "unknown". */
const char *txn_type_name(int32_t type);

/* Length of one sub-record of a multi (type as in Txn.type) or a top-level
 * record of that type; -1 if it does not parse. Exposed for zabdump. */
int64_t txn_record_len(int32_t type, const uint8_t *p, size_t len);

#endif
