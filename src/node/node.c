/* node.c: the node object, its connections, and frame output. The request
 * pipeline is in pipeline.c, the session handshake in handshake.c, the
 * container/TTL reaper in reaper.c. */
#include "node/node.h"

#include <stdio.h>
#include <string.h>

#include "base/zalloc.h"
#include "jute/proto.h"
#include "jute/records.h"
#include "node/internal.h"
#include "request/prep.h"

void node_init(struct node *n, const struct zconfig *cfg, int64_t now_ms)
{
	memset(n, 0, sizeof(*n));
	n->cfg = *cfg;
	zstate_init(&n->st, &n->cfg, now_ms);
	n->st.notify = node_notify;
	n->st.notify_arg = n;
	u64map_init(&n->conns);
	u64map_init(&n->write_owner);
	u64map_init(&n->handshaking);
	u64map_init(&n->touched);
	n->next_conn_id = 1;
	n->next_container_check_ms = now_ms + cfg->container_check_ms;
	n->stats.start_ms = now_ms;
	n->stats.min_latency_ms = -1;
	buf_init(&n->reply_scratch);
}

static void conn_free(struct node_conn *c)
{
	buf_free(&c->out);
	for (size_t i = 0; i < c->n_ids; i++) {
		zfree(c->ids[i].scheme);
		zfree(c->ids[i].id);
	}
	zfree(c->ids);
	nreq_free_list(c->qhead);
	nreq_free_list(c->held_head);
	zfree(c);
}

void node_free(struct node *n)
{
	size_t pos = 0;
	struct u64map_slot *s;
	while ((s = u64map_next(&n->conns, &pos)))
		conn_free(s->value);
	u64map_free(&n->conns);
	u64map_free(&n->write_owner);
	u64map_free(&n->handshaking);
	u64map_free(&n->touched);
	node_fwd_free_list(node_take_forward(n));
	node_txn_free_list(n->inflight_head);
	zstate_free(&n->st);
	buf_free(&n->reply_scratch);
}

void node_txn_free_list(struct node_txn *t)
{
	while (t) {
		struct node_txn *next = t->next;
		buf_free(&t->bytes);
		zfree(t);
		t = next;
	}
}

void node_fwd_free_list(struct node_fwd *f)
{
	while (f) {
		struct node_fwd *next = f->next;
		zfree(f);
		f = next;
	}
}

void conn_add_id(struct node_conn *c, const char *scheme, const char *id)
{
	for (size_t i = 0; i < c->n_ids; i++)
		if (strcmp(c->ids[i].scheme, scheme) == 0 && strcmp(c->ids[i].id, id) == 0)
			return;  /* a set, as in ZooKeeper */
	if (c->n_ids == c->cap_ids) {
		c->cap_ids = c->cap_ids ? c->cap_ids * 2 : 4;
		c->ids = zrealloc(c->ids, c->cap_ids * sizeof(*c->ids));
	}
	struct auth_id *x = &c->ids[c->n_ids];
	x->scheme = zstrndup(scheme, strlen(scheme));
	x->id = zstrndup(id, strlen(id));
	x->java_hash = acl_java_id_hash(scheme, id);
	x->seq = (uint32_t)c->n_ids;
	c->n_ids++;
	acl_ids_java_order(c->ids, c->n_ids);
}

uint64_t node_conn_open(struct node *n, const char *remote_ip, uint16_t remote_port, int64_t now_ms)
{
	struct node_conn *c = zcalloc(1, sizeof(*c));
	c->id = n->next_conn_id++;
	c->state = CONN_NEW;
	buf_init(&c->out);
	snprintf(c->remote_ip, sizeof c->remote_ip, "%s", remote_ip ? remote_ip : "");
	c->remote_port = remote_port;
	c->opened_ms = now_ms;
	c->st.last_zxid = -1;
	c->st.min_latency_ms = -1;
	c->st.last_resp_ms = now_ms;
	/* every connection holds its address as an ip id (§2.8.2) */
	if (remote_ip && *remote_ip)
		conn_add_id(c, "ip", remote_ip);
	u64map_put(&n->conns, c->id, c);
	return c->id;
}

struct node_conn *node_conn_get(struct node *n, uint64_t conn)
{
	return u64map_get(&n->conns, conn);
}

void conn_mark_dirty(struct node *n, struct node_conn *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	c->dirty_next = n->dirty_head;
	n->dirty_head = c;
}

void conn_close_soon(struct node *n, struct node_conn *c)
{
	c->close_after_flush = true;
	c->dead = true;
	conn_mark_dirty(n, c);
}

size_t frame_begin(struct buf *b)
{
	size_t mark = b->len;
	buf_put_be32(b, 0);
	return mark;
}

void frame_end(struct buf *b, size_t mark)
{
	buf_set_be32(b, mark, (uint32_t)(b->len - mark - 4));
}

void conn_send_reply(struct node *n, struct node_conn *c, int32_t xid, int64_t zxid, int32_t err,
		     const struct buf *body, int32_t op, int64_t recv_ms, int64_t now_ms)
{
	size_t mark = frame_begin(&c->out);
	struct jr_reply_header h = {xid, zxid, err};
	jr_reply_header_encode(&c->out, &h);
	/* an error reply is the header alone (§2.3), even where Java leaks
	 * the empty MultiResponse it had built: no stock client reads it */
	if (err == 0 && body)
		buf_put(&c->out, body->data, body->len);
	frame_end(&c->out, mark);
	conn_mark_dirty(n, c);
	c->st.sent++;
	n->stats.packets_sent++;
	if (xid >= 0 || xid == ZXID_PING) {
		int64_t lat = now_ms - recv_ms;
		if (lat < 0)
			lat = 0;
		c->st.last_latency_ms = lat;
		c->st.sum_latency_ms += lat;
		c->st.n_latency++;
		if (c->st.min_latency_ms < 0 || lat < c->st.min_latency_ms)
			c->st.min_latency_ms = lat;
		if (lat > c->st.max_latency_ms)
			c->st.max_latency_ms = lat;
		n->stats.sum_latency_ms += lat;
		n->stats.n_latency++;
		if (n->stats.min_latency_ms < 0 || lat < n->stats.min_latency_ms)
			n->stats.min_latency_ms = lat;
		if (lat > n->stats.max_latency_ms)
			n->stats.max_latency_ms = lat;
	}
	if (xid >= 0)
		c->st.last_cxid = xid;
	c->st.last_zxid = zxid;
	c->st.last_op = op;
	c->st.last_resp_ms = now_ms;
}

/* Watch notification: ReplyHeader{-1, -1, 0} + WatcherEvent (§2.7.2). */
void node_notify(void *arg, uint64_t conn, int32_t type, const char *path, size_t len, int64_t acl_ref)
{
	struct node *n = arg;
	struct node_conn *c = node_conn_get(n, conn);
	if (!c || c->dead)
		return;
	if (acl_ref != NOTIFY_UNFILTERED &&
	    !acl_check(&n->st.tree.acls, acl_ref, ZPERM_READ, c->ids, c->n_ids, n->cfg.skip_acl))
		return;
	size_t mark = frame_begin(&c->out);
	struct jr_reply_header h = {ZXID_NOTIFICATION, -1, 0};
	jr_reply_header_encode(&c->out, &h);
	jute_put_int(&c->out, type);
	jute_put_int(&c->out, ZSTATE_SYNC_CONNECTED);
	jute_put_strn(&c->out, path, len);
	frame_end(&c->out, mark);
	conn_mark_dirty(n, c);
	c->st.sent++;
	n->stats.packets_sent++;
}

void node_conn_frame(struct node *n, uint64_t conn, const uint8_t *frame, size_t len, int64_t now_ms)
{
	struct node_conn *c = node_conn_get(n, conn);
	if (!c || c->dead || c->stop_reading)
		return;
	c->st.received++;
	n->stats.packets_received++;
	if (c->state == CONN_OPEN)
		pipeline_frame(n, c, frame, len, now_ms);
	else
		handshake_frame(n, c, frame, len, now_ms);
}

void node_conn_closed(struct node *n, uint64_t conn, int64_t now_ms)
{
	(void)now_ms;
	struct node_conn *c = u64map_del(&n->conns, conn);
	if (!c)
		return;
	watch_remove_conn(&n->st.watches, conn);
	if (c->session_id) {
		struct session *s = session_get(&n->st.sessions, c->session_id);
		if (s && s->conn_id == conn)
			s->conn_id = 0;
	}
	if (c->dirty) {
		/* unlink from the dirty list */
		struct node_conn **pp = &n->dirty_head;
		while (*pp && *pp != c)
			pp = &(*pp)->dirty_next;
		if (*pp)
			*pp = c->dirty_next;
	}
	conn_free(c);
}

bool node_next_output(struct node *n, uint64_t *conn, struct buf **out, bool *close_after)
{
	struct node_conn *c = n->dirty_head;
	if (!c)
		return false;
	n->dirty_head = c->dirty_next;
	c->dirty = false;
	c->dirty_next = NULL;
	*conn = c->id;
	*out = &c->out;
	*close_after = c->close_after_flush;
	return true;
}

struct node_txn *node_take_persist(struct node *n)
{
	struct node_txn *t = n->persist_next;
	n->persist_next = NULL;
	return t;
}

int64_t node_last_zxid(const struct node *n)
{
	return n->st.last_applied_zxid;
}

/* A connection that sends no ConnectRequest is closed after
 * nio.sessionlessCnxnTimeout, as ZooKeeper's NIO factory does. */
static void close_sessionless(struct node *n, int64_t now_ms)
{
	if (n->cfg.sessionless_timeout_ms <= 0)
		return;
	size_t pos = 0;
	struct u64map_slot *s;
	while ((s = u64map_next(&n->conns, &pos))) {
		struct node_conn *c = s->value;
		if (c->state == CONN_NEW && !c->dead && now_ms - c->opened_ms > n->cfg.sessionless_timeout_ms)
			conn_close_soon(n, c);
	}
}

void node_tick(struct node *n, int64_t now_ms)
{
	struct session *s;
	while (ensemble_expires_sessions(n) && (s = session_next_expired(&n->st.sessions, now_ms))) {
		struct buf txn;
		buf_init(&txn);
		int64_t zxid = prep_close_session(&n->st, s->id, 0, now_ms, &txn);
		pipeline_submit(n, &txn, zxid, 0);
	}
	close_sessionless(n, now_ms);
	if (now_ms >= n->next_container_check_ms) {
		if (ensemble_expires_sessions(n))
			reaper_run(n, now_ms);
		n->next_container_check_ms = now_ms + n->cfg.container_check_ms;
	}
}

int64_t node_next_deadline(const struct node *n)
{
	int64_t a = session_next_deadline(&n->st.sessions);
	int64_t b = n->next_container_check_ms;
	return a < b ? a : b;
}
