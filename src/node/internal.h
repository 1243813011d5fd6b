/* Shared between the node's source files; not part of its interface. */
#ifndef ZABD_NODE_INTERNAL_H
#define ZABD_NODE_INTERNAL_H
#include "node/node.h"

/* A request waiting in a connection's queue. Writes already have their
 * txn (zxid != 0) and wait to be applied; everything else waits to run. */
struct nreq {
	struct nreq *next;
	int32_t xid;
	int32_t op;
	int64_t zxid;          /* in-flight write, or 0 */
	int64_t recv_ms;
	int32_t err;           /* auth: the outcome decided on arrival */
	uint32_t len;
	uint8_t body[];        /* request body (reads) or whole frame (held) */
};

enum { NREQ_CLOSE_AFTER = -1000 };  /* pseudo op: close once reached */
/* nreq.zxid of a request a learner forwarded: it waits for its commit
 * (or, for sync, the leader's SYNC) like an in-flight write. */
#define NREQ_FORWARDED (-2)

void conn_mark_dirty(struct node *n, struct node_conn *c);
void node_txn_free_list(struct node_txn *t);
void node_fwd_free_list(struct node_fwd *f);
size_t frame_begin(struct buf *b);
void frame_end(struct buf *b, size_t mark);
void conn_send_reply(struct node *n, struct node_conn *c, int32_t xid, int64_t zxid, int32_t err,
		     const struct buf *body, int32_t op, int64_t recv_ms, int64_t now_ms);
void conn_close_soon(struct node *n, struct node_conn *c);
void conn_add_id(struct node_conn *c, const char *scheme, const char *id);
void node_notify(void *arg, uint64_t conn, int32_t type, const char *path, size_t len, int64_t acl_ref);

/* handshake.c */
void handshake_frame(struct node *n, struct node_conn *c, const uint8_t *frame, size_t len, int64_t now_ms);
void handshake_applied(struct node *n, struct node_conn *c, int64_t now_ms);
void handshake_reattached(struct node *n, struct node_conn *c, int32_t timeout, int64_t now_ms);
void handshake_refused(struct node *n, struct node_conn *c);

/* pipeline.c */
void pipeline_frame(struct node *n, struct node_conn *c, const uint8_t *frame, size_t len, int64_t now_ms);
void pipeline_submit(struct node *n, struct buf *txn, int64_t zxid, uint64_t owner);
void nreq_free_list(struct nreq *r);
struct nreq *pipeline_enqueue(struct node_conn *c, int32_t xid, int32_t op, int64_t zxid, const uint8_t *body,
			      size_t len, int64_t now_ms);
struct nreq *pipeline_dequeue(struct node_conn *c);
void pipeline_drain(struct node *n, struct node_conn *c, int64_t now_ms);
void pipeline_deliver(struct node *n, struct node_txn *t, uint64_t owner, int64_t now_ms);

/* ensemble.c */
void ensemble_forward(struct node *n, struct node_conn *c, int32_t xid, int32_t op, const uint8_t *body,
		      size_t len, int64_t now_ms);
void ensemble_create_session(struct node *n, struct node_conn *c, int64_t id, int32_t timeout);
void ensemble_revalidate(struct node *n, struct node_conn *c, int64_t session, int32_t timeout);
void ensemble_touched(struct node *n, const struct session *s);
bool ensemble_expires_sessions(const struct node *n);

/* reaper.c */
void reaper_run(struct node *n, int64_t now_ms);

#endif
