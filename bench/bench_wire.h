/* bench_wire: request frames as zabbench sends them, built with the
 * generated jute records (build/gen/jute/records.h). Each helper appends one
 * whole frame (4-byte length + RequestHeader + record) to `b`. */
#ifndef ZABD_BENCH_WIRE_H
#define ZABD_BENCH_WIRE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "jute/records.h"

size_t zbw_begin(struct buf *b, int32_t xid, int32_t type); /* returns frame offset */
void zbw_end(struct buf *b, size_t off);                    /* back-patch its length */
void zbw_connect(struct buf *b, int timeout_ms, int64_t session_id);
void zbw_create(struct buf *b, int32_t xid, const char *path, struct jute_bytes data, int flags);
/* getData / exists / getChildren: {path, watch} */
void zbw_path_op(struct buf *b, int32_t xid, int32_t type, const char *path, bool watch);
void zbw_set(struct buf *b, int32_t xid, const char *path, struct jute_bytes data);
/* ping, closeSession: header only */
void zbw_bare(struct buf *b, int32_t xid, int32_t type);

/* TCP to host:port with TCP_NODELAY; non-blocking sockets may still be
 * connecting when this returns. -1 on failure. */
int zb_connect_tcp(const char *host, int port, bool blocking);

#endif
