/* Helpers shared by the storage unit tests (header only; each test file is
 * its own executable). */
#ifndef TEST_TXNLOG_UTIL_H
#define TEST_TXNLOG_UTIL_H
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "jute/jute.h"
#include "jute/records.h"

/* A setData txn body for zxid: TxnHeader ‖ SetDataTxn ‖ TxnDigest. The data
 * grows with the zxid so entries have different lengths. */
static inline void tu_body(struct buf *b, int64_t zxid)
{
	struct jr_txn_header h = {.client_id = 0x100008c04f60000LL, .cxid = (int32_t)zxid,
				  .zxid = zxid, .time = 1700000000000LL + zxid, .type = 5};
	char data[64];
	int n = (int)(zxid % 40) + 1;
	memset(data, 'a' + (int)(zxid % 26), (size_t)n);
	struct jr_set_data_txn t = {.path = JUTE_STR("/node"),
				    .data = {(const uint8_t *)data, n},
				    .version = (int32_t)zxid};
	struct jr_txn_digest d = {.version = 2, .tree_digest = zxid * 7919};
	b->len = 0;
	jr_txn_header_encode(b, &h);
	jr_set_data_txn_encode(b, &t);
	jr_txn_digest_encode(b, &d);
}

#endif
