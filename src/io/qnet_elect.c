/* qnet_elect: the election port (QuorumCnxManager, §5.2).
 *
 * Connection life: an outgoing one dials (cnxTimeout), writes the initial
 * message in one write and then either is kept (the remote has the smaller
 * sid) or is closed once that write is done (the remote has the larger sid
 * and will call back). An incoming one waits for the initial message
 * (initial_timeout) and is kept if the remote's sid is larger, replacing an
 * older kept one; if smaller it is closed and we dial the remote. A kept
 * connection carries frames both ways until it breaks; then the next
 * message (or the retry timer, while one is queued) dials again. */
#include <string.h>

#include "base/log.h"
#include "base/zalloc.h"
#include "io/qnet_int.h"
#include "zab/qcnx.h"

static struct epeer *peer_by_sid(struct qnet *q, uint64_t sid)
{
	for (int i = 0; i < q->n_peers; i++)
		if (q->peers[i].sid == sid)
			return &q->peers[i];
	return NULL;
}

static void econn_handle_closed(uv_handle_t *h)
{
	struct econn *c = h->data;
	if (--c->handles > 0)
		return;
	struct econn **pp = &c->q->econns;
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	buf_free(&c->rbuf);
	zfree(c);
}

static void econn_close(struct econn *c)
{
	if (c->state == C_CLOSING)
		return;
	struct epeer *p = c->p;
	if (p && p->conn == c)
		p->conn = NULL;
	if (p && p->dialing == c)
		p->dialing = NULL;
	c->state = C_CLOSING;
	uv_close((uv_handle_t *)&c->tcp, econn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, econn_handle_closed);
}

static struct econn *econn_new(struct qnet *q)
{
	struct econn *c = zcalloc(1, sizeof *c);
	c->q = q;
	uv_tcp_init(q->loop, &c->tcp);
	uv_timer_init(q->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->creq.data = c;
	c->handles = 2;
	buf_init(&c->rbuf);
	c->next = q->econns;
	q->econns = c;
	return c;
}

static void failed_dial(struct qnet *q, struct epeer *p)
{
	p->retry_at = qnet_now(q) + p->backoff_ms;
	p->backoff_ms = p->backoff_ms * 2 < q->cfg.retry_max_ms ? p->backoff_ms * 2 : q->cfg.retry_max_ms;
}

/* ---- sending ---------------------------------------------------------- */

static void kick(struct qnet *q, struct epeer *p);

static void frame_written(void *arg, int status)
{
	struct econn *c = arg;
	c->writing = false;
	if (c->state != C_OPEN)
		return;
	if (status < 0) {
		log_info("election connection to %llu: %s", (unsigned long long)c->p->sid,
			 uv_strerror(status));
		econn_close(c);
		return;
	}
	kick(c->q, c->p);
}

static void write_frame(struct qnet *q, struct econn *c, const struct buf *msg)
{
	struct buf f;
	buf_init(&f);
	qcnx_frame_encode(&f, msg->data, msg->len);
	c->writing = true;
	c->fresh = false;
	qnet_write(q, (uv_stream_t *)&c->tcp, f.data, f.len, c, frame_written);
	buf_free(&f);
}

/* SendWorker: the queued message, else (on a fresh connection) the last. */
static void kick(struct qnet *q, struct epeer *p)
{
	struct econn *c = p->conn;
	if (!c || c->state != C_OPEN || c->writing)
		return;
	if (p->has_pending) {
		struct buf t = p->last;
		p->last = p->pending;
		p->pending = t;
		p->pending.len = 0;
		p->has_pending = false;
		p->has_last = true;
		write_frame(q, c, &p->last);
	} else if (c->fresh && p->has_last) {
		q->st.votes_resent++;
		write_frame(q, c, &p->last);
	}
}

static void elect_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);

/* Make c the kept connection to p (a newer one replaces an older one). */
static void adopt(struct qnet *q, struct epeer *p, struct econn *c)
{
	if (p->conn && p->conn != c) {
		log_info("election: new connection from %llu replaces the old one",
			 (unsigned long long)p->sid);
		econn_close(p->conn);
	}
	p->conn = c;
	c->p = p;
	c->state = C_OPEN;
	c->fresh = true;
	p->backoff_ms = q->cfg.retry_min_ms;
	p->retry_at = 0;
	uv_timer_stop(&c->timer);
	kick(q, p);
}

static void initial_written(void *arg, int status)
{
	struct econn *c = arg;
	if (c->state == C_CLOSING)
		return;
	if (status < 0 || c->close_after_write)
		econn_close(c);
}

static void dialed(uv_connect_t *req, int status)
{
	struct econn *c = req->data;
	struct qnet *q = c->q;
	struct epeer *p = c->p;
	if (c->state != C_DIALING)
		return;
	uv_timer_stop(&c->timer);
	if (status < 0) {
		log_debug("election: cannot connect to %llu: %s", (unsigned long long)p->sid,
			  uv_strerror(status));
		econn_close(c);
		failed_dial(q, p);
		return;
	}
	p->dialing = NULL;
	uv_tcp_nodelay(&c->tcp, 1);
	struct buf b;
	buf_init(&b);
	qcnx_initial_encode(&b, q->cfg.my_sid, q->my_eaddr_text);
	/* One buffer, one write(): Java reads the address with a single read(). */
	c->close_after_write = p->sid > q->cfg.my_sid;
	c->state = C_WAIT_INITIAL;
	qnet_write(q, (uv_stream_t *)&c->tcp, b.data, b.len, c, initial_written);
	buf_free(&b);
	if (c->state == C_CLOSING)
		return;
	if (c->close_after_write) {
		/* We lost the contest: wait for the call back, and do not dial
		 * again before the back-off says so. */
		failed_dial(q, p);
		return;
	}
	if (p->conn) {
		/* Already connected (it called us meanwhile): keep that one. */
		c->close_after_write = true;
		return;
	}
	uv_read_start((uv_stream_t *)&c->tcp, qnet_alloc, elect_read);
	adopt(q, p, c);
}

static void dial_timeout(uv_timer_t *t)
{
	struct econn *c = t->data;
	if (c->state == C_DIALING) {
		log_debug("election: connect to %llu timed out", (unsigned long long)c->p->sid);
		struct epeer *p = c->p;
		econn_close(c);
		failed_dial(c->q, p);
	} else if (c->state == C_WAIT_INITIAL) {
		log_info("election: no initial message in time, closed");
		econn_close(c);
	}
}

static void dial(struct qnet *q, struct epeer *p)
{
	if (p->conn || p->dialing || !q->started || q->stopping)
		return;
	struct econn *c = econn_new(q);
	c->p = p;
	c->outgoing = true;
	c->state = C_DIALING;
	p->dialing = c;
	q->st.elect_dials++;
	int rc = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&p->eaddr, dialed);
	if (rc != 0) {
		econn_close(c);
		failed_dial(q, p);
		return;
	}
	uv_timer_start(&c->timer, dial_timeout, q->cfg.cnx_timeout_ms, 0);
}

void qnet_elect_send(struct qnet *q, uint64_t to, const uint8_t *msg, size_t n)
{
	struct epeer *p = peer_by_sid(q, to);
	if (!p)
		return;
	if (p->has_pending)
		q->st.votes_replaced++;
	p->pending.len = 0;
	buf_put(&p->pending, msg, n);
	p->has_pending = true;
	if (p->conn)
		kick(q, p);
	else if (qnet_now(q) >= p->retry_at)
		dial(q, p);
}

void qnet_elect_retry(struct qnet *q, uint64_t now)
{
	for (int i = 0; i < q->n_peers; i++) {
		struct epeer *p = &q->peers[i];
		if (p->has_pending && !p->conn && !p->dialing && now >= p->retry_at)
			dial(q, p);
	}
}

uint64_t qnet_elect_next_retry(const struct qnet *q)
{
	uint64_t t = UINT64_MAX;
	for (int i = 0; i < q->n_peers; i++) {
		const struct epeer *p = &q->peers[i];
		if (p->has_pending && !p->conn && !p->dialing && p->retry_at < t)
			t = p->retry_at;
	}
	return t;
}

/* ---- receiving -------------------------------------------------------- */

/* The initial message of an accepted connection decides its fate. 1 = kept,
 * 0 = closed or waiting for more. */
static int judge(struct qnet *q, struct econn *c, size_t *used)
{
	struct qcnx_initial im;
	int rc = qcnx_initial_parse(c->rbuf.data, c->rbuf.len, &im, used);
	if (rc == 0)
		return 0;
	if (rc < 0) {
		log_info("election: bad initial message, closed");
		econn_close(c);
		return 0;
	}
	struct epeer *p = im.sid >= 0 ? peer_by_sid(q, (uint64_t)im.sid) : NULL;
	if (!p) {
		log_info("election: connection from unknown or own sid %lld, closed", (long long)im.sid);
		econn_close(c);
		return 0;
	}
	if (p->sid < q->cfg.my_sid) {
		/* The larger sid keeps the connection: ours. */
		q->st.elect_dropped_smaller++;
		econn_close(c);
		dial(q, p);
		return 0;
	}
	adopt(q, p, c);
	return 1;
}

static void on_frames(struct qnet *q, struct econn *c, size_t off)
{
	const uint8_t *m;
	size_t n, used;
	int rc = 0;
	while (c->state == C_OPEN &&
	       (rc = qcnx_frame_parse(c->rbuf.data + off, c->rbuf.len - off, &m, &n, &used)) == 1) {
		q->st.votes_in++;
		uint64_t sid = c->p->sid;
		/* The sink may close c (never free it: that waits for uv_close). */
		q->sink.vote(q->sink.ctx, sid, m, n, qnet_now(q));
		off += used;
		qnet_after(q);
	}
	if (c->state == C_OPEN && rc < 0) {
		log_info("election: bad frame length from %llu, closed", (unsigned long long)c->p->sid);
		q->st.bad_input++;
		econn_close(c);
		return;
	}
	buf_consume(&c->rbuf, off);
}

static void elect_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct econn *c = s->data;
	struct qnet *q = c->q;
	if (c->state == C_CLOSING)
		return;
	if (nread < 0) {
		log_debug("election connection closed: %s", uv_strerror((int)nread));
		econn_close(c);
		return;
	}
	buf_put(&c->rbuf, b->base, (size_t)nread);
	size_t off = 0;
	if (c->state == C_WAIT_INITIAL && !c->outgoing && judge(q, c, &off) == 0)
		return;
	if (c->state == C_OPEN)
		on_frames(q, c, off);
}

static void on_accept(uv_stream_t *server, int status)
{
	struct qnet *q = server->data;
	if (status < 0 || q->stopping)
		return;
	struct econn *c = econn_new(q);
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		econn_close(c);
		return;
	}
	q->st.elect_accepts++;
	c->state = C_WAIT_INITIAL;
	uv_tcp_nodelay(&c->tcp, 1);
	uv_timer_start(&c->timer, dial_timeout, q->cfg.initial_timeout_ms, 0);
	uv_read_start((uv_stream_t *)&c->tcp, qnet_alloc, elect_read);
}

int qnet_elect_listen(struct qnet *q, struct buf *errmsg)
{
	struct sockaddr_storage a = q->my_eaddr;
	if (q->cfg.listen_all_ips) {
		if (a.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&a)->sin6_addr = in6addr_any;
		else
			((struct sockaddr_in *)&a)->sin_addr.s_addr = htonl(INADDR_ANY);
	}
	uv_tcp_init(q->loop, &q->elisten);
	q->elisten_on = true;
	q->elisten.data = q;
	q->handles++;
	int rc = uv_tcp_bind(&q->elisten, (const struct sockaddr *)&a, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&q->elisten, 64, on_accept);
	if (rc != 0) {
		buf_printf(errmsg, "election port %s: %s", q->my_eaddr_text, uv_strerror(rc));
		return -1;
	}
	return 0;
}

static void listen_closed(uv_handle_t *h)
{
	struct qnet *q = h->data;
	q->handles--;
}

void qnet_elect_stop(struct qnet *q)
{
	for (struct econn *c = q->econns; c; c = c->next)
		econn_close(c);
	if (q->elisten_on && !uv_is_closing((uv_handle_t *)&q->elisten))
		uv_close((uv_handle_t *)&q->elisten, listen_closed);
}

void qnet_elect_free(struct qnet *q)
{
	for (int i = 0; i < q->n_peers; i++) {
		buf_free(&q->peers[i].pending);
		buf_free(&q->peers[i].last);
	}
}

bool qnet_election_connected(const struct qnet *q, uint64_t sid)
{
	for (int i = 0; i < q->n_peers; i++)
		if (q->peers[i].sid == sid)
			return q->peers[i].conn && q->peers[i].conn->state == C_OPEN;
	return false;
}
