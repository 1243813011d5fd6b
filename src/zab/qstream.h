/* qstream: splits the byte stream of a quorum-port connection into the
 * messages the zab core takes (zookeeper-protocol.md §5.4.1, §5.4.5).
 *
 * The quorum port carries jute QuorumPackets with no length prefix
 * (int type, long zxid, buffer data, vector<Id> authinfo), so the only way
 * to find where one ends is to walk its fields. On the learner side a SNAP
 * packet is followed by the leader's raw snapshot stream (sessions, ACL
 * cache, nodes in pre-order up to the path "/", then the ustring
 * "BenWasHere"); the core wants that packet and the stream as ONE message
 * (zab_learner_on_packet reads the stream after the packet's bytes, as the
 * leader's send() of SNAP writes them together). The walker checks every
 * length against the limits before it trusts it and builds nothing: it only
 * moves a cursor, so bad input costs at most the bytes it came with.
 *
 * It owns the receive buffer. Usage: qstream_push() what the socket gave,
 * then call qstream_next() until it returns QSTREAM_MORE; a QSTREAM_ERROR is
 * sticky (close the connection). A message returned by qstream_next() stays
 * valid until the next push/next/free call. Work is linear in the bytes
 * received, however the stream is split. */
#ifndef ZABD_ZAB_QSTREAM_H
#define ZABD_ZAB_QSTREAM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define QSTREAM_DEFAULT_MAX_BUFFER 2097150              /* jute.maxbuffer + extrasize */
#define QSTREAM_DEFAULT_MAX_SNAP ((uint64_t)1 << 30)    /* one snapshot stream */
#define QSTREAM_SNAP_SIGNATURE_LEN 14                   /* ustring "BenWasHere", last in a SNAP message */

struct qstream_limits {
	int32_t max_buffer;  /* largest buffer/string length (data, Id parts, paths, node data) */
	uint64_t max_snap;   /* largest SNAP packet + snapshot stream, in bytes */
};

enum qstream_status { QSTREAM_ERROR = -1, QSTREAM_MORE = 0, QSTREAM_MSG = 1 };

struct qstream {
	struct qstream_limits lim;
	bool snap_follows;   /* learner side: SNAP carries a snapshot stream */
	struct buf b;        /* received bytes; the current message starts at `start` */
	size_t start;
	size_t pos;          /* next byte to walk */
	int st;              /* where the walk is (qstream.c) */
	int32_t type;        /* of the packet being walked */
	int64_t left;        /* items left in the current list */
	int64_t acl_left;    /* ACLs left in the current ACL-cache entry */
	const char *err;
};

/* limits NULL = the defaults above. */
void qstream_init(struct qstream *q, const struct qstream_limits *lim, bool snap_follows);
void qstream_free(struct qstream *q);
void qstream_push(struct qstream *q, const uint8_t *p, size_t n);
/* QSTREAM_MSG: msg and n hold one QuorumPacket (for a learner's SNAP: the
 * packet followed by its whole snapshot stream), type its type. */
int qstream_next(struct qstream *q, const uint8_t **msg, size_t *n, int32_t *type);
/* Why the last QSTREAM_ERROR (static text), or NULL. */
const char *qstream_error(const struct qstream *q);
/* Bytes received but not yet returned as a message. */
size_t qstream_pending(const struct qstream *q);

#endif
