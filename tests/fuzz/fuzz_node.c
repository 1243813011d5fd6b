/* fuzz_node: a struct node driven the way hostile clients and an unlucky
 * shell can drive it. The input is a script for 1-3 connections:
 *
 *   byte 0          number of connection slots: 1 + b % 3
 *   then commands, each a byte `k` (kind = k >> 5, arg = k & 31):
 *     kind 0-3      a frame for slot arg % slots: 2-byte big-endian length,
 *                   then that many bytes (fewer at the end of the input);
 *                   an empty slot first gets a new connection
 *     kind 4        everything taken from node_take_persist is durable
 *     kind 5        durable up to the (arg % taken)-th taken txn only
 *     kind 6        the clock moves arg*arg*250+1 ms, then node_tick
 *     kind 7        slot arg % slots: arg & 4 the shell closes it,
 *                   arg & 8 closes it and opens a new one; neither: the
 *                   shell completes the closes the node asked for
 *
 * After every command the harness drains node_next_output and
 * node_take_persist as the shell does and checks: output is whole frames; a
 * connection's first frame is a ConnectResponse and later ones carry a
 * ReplyHeader; reply xids follow request order (a subsequence: requests of a
 * closing session get none); reply zxids never run ahead of the applied
 * zxid nor go backwards; a write's reply has the code prep predicted (0
 * unless its txn is an ErrorTxn, no failed part in a multi prep let
 * through — the overlay must foresee the tree); nothing is written to a connection after it was
 * told to close; no session names a closed connection; an established
 * connection that was not told to close owns a live session; the node never
 * goes fatal (its own txns always apply). Every 16 commands and at the end:
 * the tree's links, ephemeral index, ACL reference counts and digest
 * (recomputed from scratch); watches name only open connections. With no
 * txn in flight the pending overlay is empty and every ephemeral belongs to
 * a live session. At the end all sessions expire, which must leave no
 * session and no ephemeral behind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "jute/proto.h"
#include "node/node.h"
#include "tree/acl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0 1700000000000LL
#define MAX_SLOTS 3
#define MAX_XIDS 512
#define MAX_TAKEN 4096
#define TXN_RING 8192

/* What a prepared txn promised, looked up when its reply comes. */
struct txn_info {
	int64_t zxid;
	uint64_t owner;   /* connection waiting for the reply */
	int32_t cxid;
	bool replied;
	int32_t type;
	int32_t err;      /* ErrorTxn: its code */
	bool multi_ok;    /* MultiTxn without ErrorTxn parts */
};

struct slot {
	uint64_t conn;          /* 0 = no connection */
	bool told_close;
	bool got_first;         /* the ConnectResponse came */
	int64_t last_zxid;
	int32_t xids[MAX_XIDS]; /* request xids sent, in order */
	size_t n_xids, cursor;
	bool xids_overflow;
};

struct harness {
	struct zconfig cfg;
	struct node n;
	struct slot s[MAX_SLOTS];
	int nslots;
	int64_t now;
	int64_t taken[MAX_TAKEN]; /* zxids taken for persistence, not yet durable */
	size_t n_taken;
	size_t steps;
	struct txn_info ring[TXN_RING];
};

static const char *const REMOTE[MAX_SLOTS] = {"127.0.0.1", "10.1.2.3", "192.168.0.7"};

static void config(struct zconfig *z)
{
	memset(z, 0, sizeof(*z));
	z->tick_ms = 2000;
	z->min_session_timeout_ms = 4000;
	z->max_session_timeout_ms = 40000;
	z->max_buffer = 1048575;
	z->max_buffer_extra = 1024;
	z->ttl_enabled = true;
	z->digest_auth_enabled = true;
	/* super:test is the superuser, so the fuzzer can find the super paths */
	static const char cred[] = "super:test";
	acl_digest_id(cred, sizeof cred - 1, z->super_digest, sizeof z->super_digest);
	z->container_check_ms = 60000;
	z->container_max_per_minute = 10000;
	z->container_max_never_used_ms = 0;
	z->server_id = 1;
	z->sessionless_timeout_ms = 10000;
}

static struct slot *slot_of(struct harness *h, uint64_t conn)
{
	for (int i = 0; i < h->nslots; i++)
		if (h->s[i].conn == conn)
			return &h->s[i];
	return NULL;
}

static void record_txn(struct harness *h, const struct node_txn *t)
{
	struct txn_info *ti = &h->ring[(uint64_t)t->zxid % TXN_RING];
	const uint8_t *b = t->bytes.data;
	size_t len = t->bytes.len;
	*ti = (struct txn_info){.zxid = t->zxid,
				.owner = (uint64_t)(uintptr_t)u64map_get(&h->n.write_owner, (uint64_t)t->zxid),
				.cxid = (int32_t)be32_get(b + 8),
				.type = (int32_t)be32_get(b + 28)};
	if (ti->type == ZOP_ERROR && len >= 36)
		ti->err = (int32_t)be32_get(b + 32);
	if (ti->type == ZOP_MULTI && len >= 36) {
		/* vector<Txn{int type; buffer data}> */
		size_t off = 36, n = be32_get(b + 32);
		ti->multi_ok = true;
		for (size_t i = 0; i < n && off + 8 <= len; i++) {
			if ((int32_t)be32_get(b + off) == ZOP_ERROR)
				ti->multi_ok = false;
			off += 8 + be32_get(b + off + 4);
		}
	}
}

/* A txn prep accepted must apply as prep predicted: the overlay it checked
 * against is the tree the txn meets. So a reply to a write carries the
 * ErrorTxn's code, 0 for any other txn, and a multi that prep let through
 * has no failed part in its results. */
static void check_write_reply(struct harness *h, uint64_t conn, int32_t xid, int64_t zxid, int32_t err,
			      const uint8_t *body, size_t len)
{
	struct txn_info *ti = &h->ring[(uint64_t)zxid % TXN_RING];
	/* otherwise a read (or a write without txn) answered at this zxid */
	if (ti->zxid != zxid || ti->owner != conn || ti->cxid != xid || ti->replied)
		return;
	ti->replied = true;
	if (ti->type == ZOP_ERROR) {
		FZ_CHECK(err == ti->err, "ErrorTxn %d replied as %d", ti->err, err);
		return;
	}
	if (ti->type == ZOP_CREATE_SESSION)
		return;
	FZ_CHECK(err == 0, "txn type %d prepared fine, applied with %d", ti->type, err);
	if (ti->type != ZOP_MULTI || !ti->multi_ok)
		return;
	size_t off = 0;
	while (off + 9 <= len) {
		int32_t type = (int32_t)be32_get(body + off);
		bool done = body[off + 4] != 0;
		int32_t e = (int32_t)be32_get(body + off + 5);
		off += 9;
		if (done)
			break;
		FZ_CHECK(type != ZOP_ERROR && e == 0, "multi part prepared fine, applied with %d", e);
		if (type == ZOP_CREATE || type == ZOP_CREATE2) {
			FZ_CHECK(off + 4 <= len, "multi result path");
			off += 4 + be32_get(body + off);
		}
		if (type == ZOP_CREATE2 || type == ZOP_SET_DATA)
			off += 68;  /* Stat */
	}
}

static bool trace; /* FUZZ_NODE_TRACE=1: print every frame (to check seeds) */

/* One frame the node wrote to a slot. */
static void check_frame(struct harness *h, struct slot *sl, const uint8_t *p, size_t len)
{
	if (trace)
		fprintf(stderr, "conn %llu: %zu bytes: xid %d zxid %lld err %d\n", (unsigned long long)sl->conn,
			len, len >= 16 ? (int32_t)be32_get(p) : 0, len >= 16 ? (long long)be64_get(p + 4) : 0,
			len >= 16 ? (int32_t)be32_get(p + 12) : 0);
	if (!sl->got_first) {
		/* ConnectResponse: protocol, timeout, session id, 16-byte password [, readOnly] */
		FZ_CHECK(len == 36 || len == 37, "first frame of %zu bytes", len);
		FZ_CHECK(be32_get(p + 16) == 16, "password length");
		sl->got_first = true;
		return;
	}
	FZ_CHECK(len >= 16, "reply of %zu bytes", len);
	int32_t xid = (int32_t)be32_get(p);
	int64_t zxid = (int64_t)be64_get(p + 4);
	int32_t err = (int32_t)be32_get(p + 12);
	FZ_CHECK(err <= 0, "error code %d", err);
	if (err != 0)
		FZ_CHECK(len == 16, "error reply with a body (%zu bytes)", len);
	if (xid == ZXID_NOTIFICATION)
		return;
	if (zxid > 0) {
		FZ_CHECK(zxid <= node_last_zxid(&h->n), "reply zxid %lld ahead of applied %lld", (long long)zxid,
			 (long long)node_last_zxid(&h->n));
		FZ_CHECK(zxid >= sl->last_zxid, "reply zxid %lld after %lld", (long long)zxid,
			 (long long)sl->last_zxid);
		sl->last_zxid = zxid;
		check_write_reply(h, sl->conn, xid, zxid, err, p + 16, len - 16);
	}
	if (sl->xids_overflow)
		return;
	while (sl->cursor < sl->n_xids && sl->xids[sl->cursor] != xid)
		sl->cursor++;
	FZ_CHECK(sl->cursor < sl->n_xids, "reply xid %d not among the requests still unanswered", xid);
	sl->cursor++;
}

static void drain_output(struct harness *h)
{
	uint64_t conn;
	struct buf *out;
	bool close_after;
	while (node_next_output(&h->n, &conn, &out, &close_after)) {
		struct slot *sl = slot_of(h, conn);
		FZ_CHECK(sl != NULL, "output for connection %llu the shell closed", (unsigned long long)conn);
		FZ_CHECK(!sl->told_close || out->len == 0, "%zu bytes after close", out->len);
		size_t off = 0;
		while (off < out->len) {
			FZ_CHECK(out->len - off >= 4, "partial frame length");
			size_t fl = be32_get(out->data + off);
			FZ_CHECK(out->len - off - 4 >= fl, "partial frame");
			check_frame(h, sl, out->data + off + 4, fl);
			off += 4 + fl;
		}
		out->len = 0;
		if (close_after)
			sl->told_close = true;
	}
}

static void take_persist(struct harness *h)
{
	for (struct node_txn *t = node_take_persist(&h->n); t; t = t->next) {
		FZ_CHECK(h->n_taken == 0 || t->zxid > h->taken[h->n_taken - 1], "txn zxids out of order");
		FZ_CHECK(t->bytes.len >= 28, "txn of %zu bytes", t->bytes.len);
		FZ_CHECK((int64_t)be64_get(t->bytes.data + 12) == t->zxid, "txn header zxid");
		if (h->n_taken == MAX_TAKEN) {
			/* make room: everything so far is durable */
			node_persisted(&h->n, h->taken[h->n_taken - 1], h->now);
			h->n_taken = 0;
		}
		h->taken[h->n_taken++] = t->zxid;
		record_txn(h, t);
	}
}

static void persist_upto(struct harness *h, size_t k)
{
	if (h->n_taken == 0)
		return;
	if (k >= h->n_taken)
		k = h->n_taken - 1;
	node_persisted(&h->n, h->taken[k], h->now);
	memmove(h->taken, h->taken + k + 1, (h->n_taken - k - 1) * sizeof(h->taken[0]));
	h->n_taken -= k + 1;
}

static void open_slot(struct harness *h, int i)
{
	struct slot *sl = &h->s[i];
	memset(sl, 0, sizeof(*sl));
	sl->conn = node_conn_open(&h->n, REMOTE[i], (uint16_t)(40000 + i), h->now);
}

static void close_slot(struct harness *h, int i)
{
	if (!h->s[i].conn)
		return;
	node_conn_closed(&h->n, h->s[i].conn, h->now);
	h->s[i].conn = 0;
}

static void send_frame(struct harness *h, int i, const uint8_t *p, size_t len)
{
	struct slot *sl = &h->s[i];
	if (!sl->conn)
		open_slot(h, i);
	struct node_conn *c = node_conn_get(&h->n, sl->conn);
	if (c && c->state != CONN_NEW && len >= 8) {
		int32_t xid = (int32_t)be32_get(p);
		if ((int32_t)be32_get(p + 4) == ZOP_PING)
			xid = ZXID_PING;
		if (sl->n_xids == MAX_XIDS)
			sl->xids_overflow = true;
		else if (xid != ZXID_NOTIFICATION)
			sl->xids[sl->n_xids++] = xid;
	}
	/* the shell hands the node a private copy; so do we, so ASan sees overreads */
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, p, len);
	node_conn_frame(&h->n, sl->conn, copy, len, h->now);
	free(copy);
}

static void check_conns(struct harness *h)
{
	struct node *n = &h->n;
	FZ_CHECK(!n->fatal, "the node went fatal");
	size_t pos = 0;
	struct u64map_slot *e;
	while ((e = u64map_next(&n->st.sessions.by_id, &pos))) {
		const struct session *s = e->value;
		FZ_CHECK(s->conn_id == 0 || node_conn_get(n, s->conn_id), "session %llx names closed conn %llu",
			 (unsigned long long)s->id, (unsigned long long)s->conn_id);
	}
	for (int i = 0; i < h->nslots; i++) {
		struct slot *sl = &h->s[i];
		if (!sl->conn)
			continue;
		struct node_conn *c = node_conn_get(n, sl->conn);
		FZ_CHECK(c != NULL, "slot %d lost its connection", i);
		FZ_CHECK(!sl->told_close || c->dead, "told to close but alive");
		if (c->state == CONN_OPEN && !c->dead) {
			const struct session *s = session_get(&n->st.sessions, c->session_id);
			FZ_CHECK(s && s->conn_id == c->id, "open conn %llu without its session %llx",
				 (unsigned long long)c->id, (unsigned long long)c->session_id);
		}
	}
	size_t k = 0;
	for (struct node_txn *t = n->inflight_head; t; t = t->next)
		k++;
	FZ_CHECK(k == n->n_inflight, "inflight list %zu, count %u", k, n->n_inflight);
}

static void check_watches(struct harness *h)
{
	struct watch_mgr *w = &h->n.st.watches;
	for (int t = 0; t < 2; t++) {
		size_t pos = 0;
		struct strmap_slot *s;
		while ((s = strmap_next(&w->tables[t], &pos))) {
			const struct watch_path *wp = s->value;
			FZ_CHECK(wp->count > 0, "empty watch entry for %s", wp->path);
			for (uint32_t i = 0; i < wp->count; i++)
				FZ_CHECK(node_conn_get(&h->n, wp->items[i].conn), "watch on %s by closed conn %llu",
					 wp->path, (unsigned long long)wp->items[i].conn);
		}
	}
	size_t pos = 0;
	struct u64map_slot *e;
	while ((e = u64map_next(&w->by_conn, &pos)))
		FZ_CHECK(node_conn_get(&h->n, e->key), "watch list of closed conn %llu", (unsigned long long)e->key);
}

static void check_quiet(struct harness *h)
{
	struct node *n = &h->n;
	if (n->n_inflight != 0)
		return;
	FZ_CHECK(n->st.pending.changes.count == 0, "%zu pending entries with nothing in flight",
		 n->st.pending.changes.count);
	FZ_CHECK(n->st.pending.fifo_count == 0, "%zu pending writes to retire with nothing in flight",
		 n->st.pending.fifo_count);
	size_t pos = 0;
	struct u64map_slot *e;
	while ((e = u64map_next(&n->st.tree.ephemerals, &pos)))
		FZ_CHECK(session_get(&n->st.sessions, (int64_t)e->key), "ephemerals of dead session %llx",
			 (unsigned long long)e->key);
}

static void check_all(struct harness *h, bool full)
{
	check_conns(h);
	check_quiet(h);
	if (full) {
		fz_check_tree(&h->n.st.tree, true);
		fz_check_acl_refs(&h->n.st.tree, &h->n.st.pending);
		check_watches(h);
	}
}

static void after_step(struct harness *h)
{
	take_persist(h);
	drain_output(h);
	h->steps++;
	check_all(h, h->steps % 16 == 0);
}

static void shell_closes(struct harness *h)
{
	for (int i = 0; i < h->nslots; i++)
		if (h->s[i].conn && h->s[i].told_close)
			close_slot(h, i);
}

static void finish(struct harness *h)
{
	take_persist(h);
	persist_upto(h, SIZE_MAX);
	drain_output(h);
	check_all(h, true);
	/* every session runs out: nothing of them may remain */
	for (int i = 0; i < h->nslots; i++)
		close_slot(h, i);
	h->now += 2 * h->cfg.max_session_timeout_ms + 2 * h->cfg.tick_ms;
	node_tick(&h->n, h->now);
	take_persist(h);
	persist_upto(h, SIZE_MAX);
	drain_output(h);
	check_all(h, true);
	FZ_CHECK(session_count(&h->n.st.sessions) == 0, "%u sessions outlived their timeout",
		 session_count(&h->n.st.sessions));
	FZ_CHECK(h->n.st.tree.ephemerals.count == 0, "ephemerals outlived their sessions");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static struct harness h;
	memset(&h, 0, sizeof(h));
	trace = getenv("FUZZ_NODE_TRACE") != NULL;
	config(&h.cfg);
	h.now = T0;
	node_init(&h.n, &h.cfg, h.now);
	h.nslots = 1 + data[0] % MAX_SLOTS;
	for (int i = 0; i < h.nslots; i++)
		open_slot(&h, i);
	size_t p = 1;
	while (p < size) {
		uint8_t k = data[p++];
		int kind = k >> 5, arg = k & 31;
		int slot = arg % h.nslots;
		if (kind <= 3) {
			size_t len = 0;
			if (p + 2 <= size) {
				len = (size_t)data[p] << 8 | data[p + 1];
				p += 2;
			} else {
				p = size;
			}
			if (len > size - p)
				len = size - p;
			send_frame(&h, slot, data + p, len);
			p += len;
		} else if (kind == 4) {
			persist_upto(&h, SIZE_MAX);
		} else if (kind == 5) {
			if (h.n_taken)
				persist_upto(&h, (size_t)arg % h.n_taken);
		} else if (kind == 6) {
			h.now += (int64_t)arg * arg * 250 + 1;
			node_tick(&h.n, h.now);
			shell_closes(&h);
		} else if (arg & 8) {
			close_slot(&h, slot);
			open_slot(&h, slot);
		} else if (arg & 4) {
			close_slot(&h, slot);
		} else {
			shell_closes(&h);
		}
		after_step(&h);
	}
	finish(&h);
	node_free(&h.n);
	return 0;
}
