/* qcnx: election-port initial message and frames (see qcnx.h). */
#include "zab/qcnx.h"

#include <string.h>

void qcnx_initial_encode(struct buf *b, uint64_t sid, const char *addr)
{
	size_t n = strlen(addr);
	buf_put_be64(b, (uint64_t)(int64_t)QCNX_PROTOCOL_V1);
	buf_put_be64(b, sid);
	buf_put_be32(b, (uint32_t)n);
	buf_put(b, addr, n);
}

int qcnx_initial_parse(const uint8_t *p, size_t n, struct qcnx_initial *out, size_t *used)
{
	if (n < 8)
		return 0;
	int64_t v = (int64_t)be64_get(p);
	memset(out, 0, sizeof *out);
	out->version = v;
	if (v >= 0) {
		/* A pre-3.5 server sends only its sid. */
		out->sid = v;
		*used = 8;
		return 1;
	}
	if (v != QCNX_PROTOCOL_V1 && v != QCNX_PROTOCOL_V2)
		return -1;
	if (n < 20)
		return 0;
	int32_t len = (int32_t)be32_get(p + 16);
	if (len <= 0 || len > QCNX_MAX_ADDR)
		return -1;
	if (n < 20 + (size_t)len)
		return 0;
	out->sid = (int64_t)be64_get(p + 8);
	out->addr = p + 20;
	out->addr_len = len;
	*used = 20 + (size_t)len;
	return 1;
}

void qcnx_frame_encode(struct buf *b, const uint8_t *msg, size_t n)
{
	buf_put_be32(b, (uint32_t)n);
	buf_put(b, msg, n);
}

int qcnx_frame_parse(const uint8_t *p, size_t n, const uint8_t **msg, size_t *len, size_t *used)
{
	if (n < 4)
		return 0;
	int32_t l = (int32_t)be32_get(p);
	if (l <= 0 || l > QCNX_MAX_FRAME)
		return -1;
	if (n < 4 + (size_t)l)
		return 0;
	*msg = p + 4;
	*len = (size_t)l;
	*used = 4 + (size_t)l;
	return 1;
}
