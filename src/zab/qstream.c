/* qstream: the resumable walk over QuorumPackets and the SNAP stream.
 *
 * Each step of the walk is one item whose size the bytes themselves say
 * (a packet head with its data, one Id, one session, one ACL, one node):
 * a step runs only when all of the item is there, else the walk stays put
 * and waits for more. Re-checking an incomplete item reads only its few
 * length fields, so a stream split into single bytes still costs linear
 * time. */
#include "zab/qstream.h"

#include <string.h>

#include "zab/zab.h"

enum {
	ST_HEAD,        /* int type, long zxid, buffer data */
	ST_AUTH_COUNT,  /* vector<Id> authinfo: count */
	ST_AUTH_ID,     /* Id: ustring scheme, ustring id */
	ST_SESS_COUNT,  /* snapshot: int session count */
	ST_SESS,        /* long id, int timeout */
	ST_ACL_COUNT,   /* int ACL-cache entries */
	ST_ACL_ENTRY,   /* long id, int vector count */
	ST_ACL,         /* int perms, ustring scheme, ustring id */
	ST_NODE,        /* ustring path; unless "/": buffer data, long acl, StatPersisted */
	ST_SIGNATURE,   /* ustring "BenWasHere" */
	ST_DONE,        /* a whole message ends at pos */
	ST_ERROR,
};

#define STAT_PERSISTED_LEN 60
#define MAX_AUTH_IDS 4096  /* vector counts are not bounded by Java; ours are */

void qstream_init(struct qstream *q, const struct qstream_limits *lim, bool snap_follows)
{
	memset(q, 0, sizeof *q);
	q->lim = lim ? *lim
		     : (struct qstream_limits){QSTREAM_DEFAULT_MAX_BUFFER, QSTREAM_DEFAULT_MAX_SNAP};
	q->snap_follows = snap_follows;
	buf_init(&q->b);
	q->st = ST_HEAD;
}

void qstream_free(struct qstream *q)
{
	buf_free(&q->b);
}

void qstream_push(struct qstream *q, const uint8_t *p, size_t n)
{
	if (q->st == ST_ERROR || n == 0)
		return;
	if (q->start > 0) {
		/* Drop the messages already handed out (the current one is
		 * usually short at this point: the tail of the last read). */
		buf_consume(&q->b, q->start);
		q->pos -= q->start;
		q->start = 0;
	}
	buf_put(&q->b, p, n);
}

static size_t avail(const struct qstream *q, size_t at)
{
	return at <= q->b.len ? q->b.len - at : 0;
}

static int32_t get32(const struct qstream *q, size_t at)
{
	return (int32_t)be32_get(q->b.data + at);
}

static int fail(struct qstream *q, const char *why)
{
	q->st = ST_ERROR;
	q->err = why;
	return -1;
}

/* A jute length at `at`: 1 with *len (-1 = null), 0 need more, -1 bad. */
static int length_at(struct qstream *q, size_t at, int32_t *len)
{
	if (avail(q, at) < 4)
		return 0;
	int32_t l = get32(q, at);
	if (l < -1 || l > q->lim.max_buffer)
		return fail(q, "buffer or string length out of range");
	*len = l;
	return 1;
}

static size_t span(int32_t len)
{
	return 4 + (len > 0 ? (size_t)len : 0);
}

/* Two ustrings back to back (an Id): 1 with *size, 0 more, -1 bad. */
static int two_strings(struct qstream *q, size_t at, size_t *size)
{
	int32_t a, b;
	int rc = length_at(q, at, &a);
	if (rc <= 0)
		return rc;
	size_t s = span(a);
	rc = length_at(q, at + s, &b);
	if (rc <= 0)
		return rc;
	s += span(b);
	if (avail(q, at) < s)
		return 0;
	*size = s;
	return 1;
}

static int step_head(struct qstream *q)
{
	if (avail(q, q->pos) < 16)
		return 0;
	int32_t dlen;
	int rc = length_at(q, q->pos + 12, &dlen);
	if (rc <= 0)
		return rc;
	if (avail(q, q->pos) < 12 + span(dlen))
		return 0;
	q->type = get32(q, q->pos);
	q->pos += 12 + span(dlen);
	q->st = ST_AUTH_COUNT;
	return 1;
}

static void packet_done(struct qstream *q)
{
	q->st = q->snap_follows && q->type == ZAB_SNAP ? ST_SESS_COUNT : ST_DONE;
}

static int step_auth(struct qstream *q)
{
	if (q->st == ST_AUTH_COUNT) {
		if (avail(q, q->pos) < 4)
			return 0;
		int32_t c = get32(q, q->pos);
		if (c < -1 || c > MAX_AUTH_IDS)
			return fail(q, "authinfo count out of range");
		q->pos += 4;
		q->left = c > 0 ? c : 0;
		q->st = ST_AUTH_ID;
	}
	while (q->left > 0) {
		size_t s;
		int rc = two_strings(q, q->pos, &s);
		if (rc <= 0)
			return rc;
		q->pos += s;
		q->left--;
	}
	packet_done(q);
	return 1;
}

/* An int count at pos that must be >= 0; then go to `next`. */
static int step_count(struct qstream *q, int next, const char *what)
{
	if (avail(q, q->pos) < 4)
		return 0;
	int32_t c = get32(q, q->pos);
	if (c < 0)
		return fail(q, what);
	q->pos += 4;
	q->left = c;
	q->st = next;
	return 1;
}

static int step_sessions(struct qstream *q)
{
	size_t n = avail(q, q->pos) / 12;
	if ((int64_t)n > q->left)
		n = (size_t)q->left;
	q->pos += n * 12;
	q->left -= (int64_t)n;
	if (q->left > 0)
		return 0;
	q->st = ST_ACL_COUNT;
	return 1;
}

static int step_acl_cache(struct qstream *q)
{
	for (;;) {
		if (q->st == ST_ACL_ENTRY) {
			if (q->left == 0) {
				q->st = ST_NODE;
				return 1;
			}
			if (avail(q, q->pos) < 12)
				return 0;
			int32_t c = get32(q, q->pos + 8);
			if (c < 0)
				return fail(q, "null ACL list in the snapshot's ACL cache");
			q->pos += 12;
			q->acl_left = c;
			q->left--;
			q->st = ST_ACL;
		}
		while (q->acl_left > 0) {
			size_t s;
			if (avail(q, q->pos) < 4)
				return 0;
			int rc = two_strings(q, q->pos + 4, &s);
			if (rc <= 0)
				return rc;
			q->pos += 4 + s;
			q->acl_left--;
		}
		q->st = ST_ACL_ENTRY;
	}
}

static int step_node(struct qstream *q)
{
	int32_t plen, dlen;
	int rc = length_at(q, q->pos, &plen);
	if (rc <= 0)
		return rc;
	if (plen < 0)
		return fail(q, "null path in the snapshot");
	if (avail(q, q->pos) < span(plen))
		return 0;
	if (plen == 1 && q->b.data[q->pos + 4] == '/') {
		q->pos += 5;
		q->st = ST_SIGNATURE;
		return 1;
	}
	size_t at = q->pos + span(plen);
	rc = length_at(q, at, &dlen);
	if (rc <= 0)
		return rc;
	size_t s = span(plen) + span(dlen) + 8 + STAT_PERSISTED_LEN;
	if (avail(q, q->pos) < s)
		return 0;
	q->pos += s;
	return 1;
}

static int step_signature(struct qstream *q)
{
	static const char sig[] = "BenWasHere";
	int32_t len;
	int rc = length_at(q, q->pos, &len);
	if (rc <= 0)
		return rc;
	if (len != (int32_t)(sizeof sig - 1))
		return fail(q, "snapshot stream does not end with BenWasHere");
	if (avail(q, q->pos) < span(len))
		return 0;
	if (memcmp(q->b.data + q->pos + 4, sig, sizeof sig - 1) != 0)
		return fail(q, "snapshot stream does not end with BenWasHere");
	q->pos += span(len);
	q->st = ST_DONE;
	return 1;
}

static int step(struct qstream *q)
{
	switch (q->st) {
	case ST_HEAD: return step_head(q);
	case ST_AUTH_COUNT:
	case ST_AUTH_ID: return step_auth(q);
	case ST_SESS_COUNT: return step_count(q, ST_SESS, "negative session count in the snapshot");
	case ST_SESS: return step_sessions(q);
	case ST_ACL_COUNT: return step_count(q, ST_ACL_ENTRY, "negative ACL-cache size in the snapshot");
	case ST_ACL_ENTRY:
	case ST_ACL: return step_acl_cache(q);
	case ST_NODE: return step_node(q);
	case ST_SIGNATURE: return step_signature(q);
	default: return -1;
	}
}

/* A packet is at most its data and a few Ids; a SNAP with its stream is
 * bounded by max_snap. */
static uint64_t limit(const struct qstream *q)
{
	bool snap = q->st == ST_DONE ? q->snap_follows && q->type == ZAB_SNAP : q->st >= ST_SESS_COUNT;
	if (snap)
		return q->lim.max_snap;
	return 2 * (uint64_t)q->lim.max_buffer + 65536;
}

int qstream_next(struct qstream *q, const uint8_t **msg, size_t *n, int32_t *type)
{
	if (q->st == ST_ERROR)
		return QSTREAM_ERROR;
	while (q->st != ST_DONE) {
		int rc = step(q);
		if (rc < 0)
			return QSTREAM_ERROR;
		/* Everything from start on is this message while it is incomplete. */
		size_t seen = rc == 0 ? q->b.len - q->start : q->pos - q->start;
		if (seen > limit(q))
			return fail(q, q->st >= ST_SESS_COUNT ? "snapshot stream over the limit"
							      : "quorum packet over the limit");
		if (rc == 0)
			return QSTREAM_MORE;
	}
	*msg = q->b.data + q->start;
	*n = q->pos - q->start;
	*type = q->type;
	q->start = q->pos;
	q->st = ST_HEAD;
	return QSTREAM_MSG;
}

const char *qstream_error(const struct qstream *q)
{
	return q->err;
}

size_t qstream_pending(const struct qstream *q)
{
	return q->b.len - q->start;
}
