/* qcnx: the byte formats of the election port (QuorumCnxManager,
 * zookeeper-protocol.md §5.2), pure.
 *
 * An initiator opens with the initial message (long protocol version
 * -65536, long sid, int length, "ip:port"), raw; after it both directions
 * carry frames: int length (1..512 KiB), then one FLE notification. Java
 * reads the initial message's address with one read(), so the encoder's
 * output must be handed to the kernel in one write. The parsers take a
 * prefix of what has been received and say how much of it they used. */
#ifndef ZABD_ZAB_QCNX_H
#define ZABD_ZAB_QCNX_H
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define QCNX_PROTOCOL_V1 (-65536)  /* 3.5+ */
#define QCNX_PROTOCOL_V2 (-65535)  /* 3.6+ with multiAddress.enabled */
#define QCNX_MAX_ADDR 2048
#define QCNX_MAX_FRAME 524288

struct qcnx_initial {
	int64_t version;   /* QCNX_PROTOCOL_V1/V2, or the sid itself for a pre-3.5 sender */
	int64_t sid;
	const uint8_t *addr;  /* view into the input; NULL for a pre-3.5 sender */
	int32_t addr_len;
};

/* V1 initial message for `sid` with our election address "ip:port". */
void qcnx_initial_encode(struct buf *b, uint64_t sid, const char *addr);
/* 1 = parsed (*used bytes), 0 = need more, -1 = malformed (close). */
int qcnx_initial_parse(const uint8_t *p, size_t n, struct qcnx_initial *out, size_t *used);

void qcnx_frame_encode(struct buf *b, const uint8_t *msg, size_t n);
/* 1 = one frame: msg and len view its payload, used = bytes; 0 = need more;
 * -1 = length <= 0 or over QCNX_MAX_FRAME (close). */
int qcnx_frame_parse(const uint8_t *p, size_t n, const uint8_t **msg, size_t *len, size_t *used);

#endif
