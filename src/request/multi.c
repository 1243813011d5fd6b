/* multi.c: prep of opcode 14 (zookeeper-protocol.md §2.5, §3.6).
 *
 * The body is decoded whole first: an unknown sub-op, a read op, or a
 * record that does not decode fails the multi with MarshallingError (an
 * error txn). Then each op is prepared against the state the earlier ones
 * leave (the overlay, all under the multi's one zxid). At the first failing
 * op the rest become ErrorTxn(-2) and the overlay is rolled back; the txn is
 * still a MultiTxn, and apply will change nothing for it. */
#include <string.h>

#include "jute/proto.h"
#include "jute/records.h"
#include "request/prep.h"

struct multi_op {
	int32_t type;
	size_t off;
};

static bool skip_record(struct jute_reader *r, int32_t type)
{
	union {
		struct jr_create_request c;
		struct jr_create_ttl_request t;
		struct jr_delete_request d;
		struct jr_set_data_request s;
		struct jr_check_version_request k;
	} u;
	switch (type) {
	case ZOP_CREATE:
	case ZOP_CREATE2:
	case ZOP_CREATE_CONTAINER:
		return jr_create_request_decode(r, &u.c) == 0;
	case ZOP_CREATE_TTL:
		return jr_create_ttl_request_decode(r, &u.t) == 0;
	case ZOP_DELETE:
		return jr_delete_request_decode(r, &u.d) == 0;
	case ZOP_SET_DATA:
		return jr_set_data_request_decode(r, &u.s) == 0;
	case ZOP_CHECK:
		return jr_check_version_request_decode(r, &u.k) == 0;
	default:
		return false;  /* read ops and unknown types cannot be in a write multi */
	}
}

static void put_sub_txn(struct buf *rec, int32_t type, const struct buf *body)
{
	jute_put_int(rec, type);
	jute_put_int(rec, (int32_t)body->len);
	buf_put(rec, body->data, body->len);
}

static void put_sub_error(struct buf *rec, int err)
{
	jute_put_int(rec, ZOP_ERROR);
	jute_put_int(rec, 4);
	jute_put_int(rec, err);
}

static int prep_one(struct zstate *s, const struct caller *c, struct jute_reader *r, int32_t type,
		    int64_t zxid, struct buf *body, int32_t *txn_type)
{
	*txn_type = type;
	switch (type) {
	case ZOP_CREATE:
	case ZOP_CREATE2:
	case ZOP_CREATE_CONTAINER:
	case ZOP_CREATE_TTL:
		return prep_create(s, c, type, r, zxid, body, txn_type, true);
	case ZOP_DELETE:
		return prep_delete(s, c, r, zxid, body);
	case ZOP_SET_DATA:
		return prep_set_data(s, c, r, zxid, body);
	case ZOP_CHECK:
		return prep_check(s, c, r, zxid, body);
	default:
		return ZMARSHALLINGERROR;
	}
}

int prep_multi(struct zstate *s, const struct caller *c, struct jute_reader *r, int64_t zxid,
	       struct buf *rec)
{
	size_t cap = 16, n = 0;
	bool null_path = false;
	struct multi_op *ops = arena_alloc(&s->scratch, cap * sizeof(*ops));
	for (;;) {
		struct jr_multi_header h;
		if (jr_multi_header_decode(r, &h))
			return ZMARSHALLINGERROR;
		if (h.done)
			break;
		if (n == cap) {
			struct multi_op *more = arena_alloc(&s->scratch, 2 * cap * sizeof(*ops));
			memcpy(more, ops, n * sizeof(*ops));
			ops = more;
			cap *= 2;
		}
		ops[n].type = h.type;
		ops[n].off = r->pos;
		if (!skip_record(r, h.type))
			return ZMARSHALLINGERROR;
		/* every write record starts with its path; a null one makes Java
		 * throw outside its decode error path (see PREP_NO_TXN) */
		if ((int32_t)be32_get(r->p + ops[n].off) == -1)
			null_path = true;
		n++;
	}
	if (null_path)
		return PREP_NO_TXN;
	jute_put_int(rec, (int32_t)n);
	pending_begin_undo(&s->pending);
	bool failed = false;
	struct buf body;
	buf_init(&body);
	for (size_t i = 0; i < n; i++) {
		if (failed) {
			put_sub_error(rec, ZRUNTIMEINCONSISTENCY);
			continue;
		}
		struct jute_reader sub = *r;
		sub.pos = ops[i].off;
		body.len = 0;
		int32_t txn_type;
		int rc = prep_one(s, c, &sub, ops[i].type, zxid, &body, &txn_type);
		if (rc) {
			put_sub_error(rec, rc);
			failed = true;
		} else {
			put_sub_txn(rec, txn_type, &body);
		}
	}
	buf_free(&body);
	if (failed)
		pending_rollback(&s->pending, &s->tree);
	else
		pending_commit_undo(&s->pending, &s->tree);
	return 0;
}
