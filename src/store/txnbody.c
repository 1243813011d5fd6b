/* txnbody.c: record boundaries of logged txns (see txnbody.h). */
#include "store/txnbody.h"

#include <string.h>

#include "jute/jute.h"

static void skip_acls(struct jute_reader *r)
{
	int32_t n = jute_get_count(r, 12);
	for (int32_t i = 0; i < n && !r->err; i++) {
		jute_get_int(r);
		jute_get_ustring(r);
		jute_get_ustring(r);
	}
}

static void skip_strings(struct jute_reader *r)
{
	int32_t n = jute_get_count(r, 4);
	for (int32_t i = 0; i < n && !r->err; i++)
		jute_get_ustring(r);
}

static void skip_multi(struct jute_reader *r)
{
	int32_t n = jute_get_count(r, 8);
	for (int32_t i = 0; i < n && !r->err; i++) {
		jute_get_int(r);
		jute_get_buffer(r);
	}
}

/* Parses one record of `type`; returns false for a type without a parser. */
static bool skip_record(struct jute_reader *r, int32_t type, bool v0)
{
	switch (type) {
	case -10: /* createSession */
	case -1:  /* error */
		jute_get_int(r);
		return true;
	case -11: /* closeSession (3.6+ CloseSessionTxn) */
		skip_strings(r);
		return true;
	case 1:   /* create */
	case 15:  /* create2 */
	case 19:  /* createContainer */
	case 21:  /* createTTL */
		jute_get_ustring(r);
		jute_get_buffer(r);
		skip_acls(r);
		if (type == 1 || type == 15)
			jute_get_bool(r);
		if (!v0)
			jute_get_int(r);
		if (type == 21)
			jute_get_long(r);
		return true;
	case 2:   /* delete */
	case 20:  /* deleteContainer */
		jute_get_ustring(r);
		return true;
	case 5:   /* setData */
	case 16:  /* reconfig */
		jute_get_ustring(r);
		jute_get_buffer(r);
		jute_get_int(r);
		return true;
	case 7:   /* setACL */
		jute_get_ustring(r);
		skip_acls(r);
		jute_get_int(r);
		return true;
	case 13:  /* check: only inside a multi */
		jute_get_ustring(r);
		jute_get_int(r);
		return true;
	case 14:  /* multi */
		skip_multi(r);
		return true;
	default:
		return false;
	}
}

int64_t txn_record_len(int32_t type, const uint8_t *p, size_t len)
{
	struct jute_reader r;
	jute_reader_init(&r, p, len, INT32_MAX, NULL);
	if (!skip_record(&r, type, false) || r.err)
		return -1;
	return (int64_t)r.pos;
}

int txn_split(const uint8_t *body, size_t len, struct txn_parts *out)
{
	memset(out, 0, sizeof(*out));
	struct jute_reader r;
	jute_reader_init(&r, body, len, INT32_MAX, NULL);
	if (jr_txn_header_decode(&r, &out->hdr))
		return -1;
	int32_t type = out->hdr.type;
	if (type == 13)
		return -2;  /* Java: "Unsupported Txn with type=13" */
	size_t start = r.pos;
	if (!skip_record(&r, type, false))
		return -2;
	if (r.err && type == 1) {
		jute_reader_init(&r, body, len, INT32_MAX, NULL);
		r.pos = start;
		skip_record(&r, type, true);
		out->create_v0 = true;
	}
	if (r.err)
		return -1;
	out->record = body + start;
	out->record_len = r.pos - start;
	if (jute_remaining(&r) >= 12) {
		out->has_digest = true;
		jr_txn_digest_decode(&r, &out->digest);
	}
	return 0;
}

const char *txn_type_name(int32_t type)
{
	switch (type) {
	case -11: return "closeSession";
	case -10: return "createSession";
	case -1: return "error";
	case 1: return "create";
	case 2: return "delete";
	case 5: return "setData";
	case 7: return "setACL";
	case 13: return "check";
	case 14: return "multi";
	case 15: return "create2";
	case 16: return "reconfig";
	case 19: return "createContainer";
	case 20: return "deleteContainer";
	case 21: return "createTTL";
	default: return "unknown";
	}
}
