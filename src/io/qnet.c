/* qnet: setup, the tick timer, deferred deliveries, the env glue and the
 * quorum port. The election port is in qnet_elect.c. */
#include "io/qnet_int.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/zalloc.h"
#include "config/zoocfg.h"
#include "io/clock.h"
#include "jute/jute.h"
#include "peer/peer.h"

#define QNET_DEFAULT_BACKLOG ((uint64_t)2 << 30)

void qnet_config_defaults(struct qnet_config *c)
{
	memset(c, 0, sizeof *c);
	c->tick_ms = 2000;
	c->cnx_timeout_ms = 5000;
	c->initial_timeout_ms = 10000;
	c->quorum_connect_timeout_ms = 20000;
	c->retry_min_ms = 100;
	c->retry_max_ms = 5000;
	c->max_buffer = QSTREAM_DEFAULT_MAX_BUFFER;
	c->max_snap = QSTREAM_DEFAULT_MAX_SNAP;
	c->max_write_backlog = QNET_DEFAULT_BACKLOG;
}

int qnet_config_from_zoocfg(struct qnet_config *c, const struct zoocfg *zc, uint64_t my_sid,
			    struct buf *errmsg)
{
	qnet_config_defaults(c);
	c->my_sid = my_sid;
	if (zc->nservers > ZAB_MAX_SERVERS) {
		buf_printf(errmsg, "at most %d servers are supported", ZAB_MAX_SERVERS);
		return -1;
	}
	for (size_t i = 0; i < zc->nservers; i++) {
		const struct zoocfg_server *s = &zc->servers[i];
		struct qnet_server *d = &c->servers[c->n_servers++];
		d->sid = (uint64_t)s->sid;
		snprintf(d->host, sizeof d->host, "%s", s->host);
		d->quorum_port = s->quorum_port;
		d->election_port = s->election_port;
		d->observer = s->type == ZOOCFG_OBSERVER;
	}
	c->tick_ms = (uint32_t)zc->tick_time;
	c->cnx_timeout_ms = (uint32_t)zc->cnx_timeout;
	c->initial_timeout_ms = zc->quorum_cnxn_timeout_ms > 0
		? (uint32_t)zc->quorum_cnxn_timeout_ms
		: (uint32_t)zc->tick_time * (uint32_t)(zc->sync_limit > 0 ? zc->sync_limit : 5);
	uint32_t lim = (uint32_t)(zc->connect_to_learner_master_limit > 0
					  ? zc->connect_to_learner_master_limit : zc->init_limit);
	c->quorum_connect_timeout_ms = (uint32_t)zc->tick_time * (lim ? lim : 10);
	int64_t mb = (int64_t)zc->jute_maxbuffer + zoocfg_jute_extrasize(zc);
	c->max_buffer = mb > INT32_MAX ? INT32_MAX : (int32_t)mb;
	c->listen_all_ips = zc->quorum_listen_on_all_ips;
	return 0;
}

uint64_t qnet_now(const struct qnet *q)
{
	return (uint64_t)(q->cfg.now_ms ? q->cfg.now_ms() : clock_monotonic_ms());
}

/* ---- addresses ------------------------------------------------------- */

static int resolve(const char *host, int port, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof *out);
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0)
		return 0;
	if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) == 0)
		return 0;
	/* A name: resolved once, at startup, as Java resolves at config time. */
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
		return -1;
	memcpy(out, res->ai_addr, res->ai_addrlen);
	if (out->ss_family == AF_INET)
		((struct sockaddr_in *)out)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)out)->sin6_port = htons((uint16_t)port);
	freeaddrinfo(res);
	return 0;
}

/* "ip:port" or "[v6]:port", as NetUtils.formatInetAddr. */
static void format_addr(const struct sockaddr_storage *a, char *out, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)a;
		uv_ip6_name(s6, ip, sizeof ip);
		snprintf(out, n, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)a;
		uv_ip4_name(s4, ip, sizeof ip);
		snprintf(out, n, "%s:%u", ip, ntohs(s4->sin_port));
	}
}

static void wildcard(struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET6)
		((struct sockaddr_in6 *)a)->sin6_addr = in6addr_any;
	else
		((struct sockaddr_in *)a)->sin_addr.s_addr = htonl(INADDR_ANY);
}

struct qnet *qnet_new(uv_loop_t *loop, const struct qnet_config *cfg, struct buf *errmsg)
{
	struct qnet *q = zcalloc(1, sizeof *q);
	q->loop = loop;
	q->cfg = *cfg;
	u64map_init(&q->qconns);
	bool me = false;
	for (int i = 0; i < cfg->n_servers; i++) {
		const struct qnet_server *s = &cfg->servers[i];
		struct sockaddr_storage ea, qa;
		if (resolve(s->host, s->election_port, &ea) != 0 ||
		    resolve(s->host, s->quorum_port, &qa) != 0) {
			buf_printf(errmsg, "server.%llu: cannot resolve %s", (unsigned long long)s->sid,
				   s->host);
			qnet_free(q);
			return NULL;
		}
		if (s->sid == cfg->my_sid) {
			me = true;
			q->my_eaddr = ea;
			q->my_qaddr = qa;
			format_addr(&ea, q->my_eaddr_text, sizeof q->my_eaddr_text);
			continue;
		}
		struct epeer *p = &q->peers[q->n_peers++];
		p->sid = s->sid;
		p->eaddr = ea;
		p->qaddr = qa;
		p->backoff_ms = cfg->retry_min_ms;
		buf_init(&p->pending);
		buf_init(&p->last);
	}
	if (!me) {
		buf_printf(errmsg, "no server.%llu line for our own id", (unsigned long long)cfg->my_sid);
		qnet_free(q);
		return NULL;
	}
	return q;
}

/* ---- writes ---------------------------------------------------------- */

struct qwrite {
	uv_write_t req;
	void *arg;
	void (*done)(void *arg, int status);
	uint8_t data[];
};

static void write_done(uv_write_t *req, int status)
{
	struct qwrite *w = (struct qwrite *)req;
	if (w->done)
		w->done(w->arg, status);
	zfree(w);
}

void qnet_write(struct qnet *q, uv_stream_t *s, const uint8_t *p, size_t n, void *arg,
		void (*done)(void *arg, int status))
{
	struct qwrite *w = zmalloc(sizeof *w + n);
	memcpy(w->data, p, n);
	w->arg = arg;
	w->done = done;
	q->st.bytes_out += n;
	uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)n);
	int rc = uv_write(&w->req, s, &b, 1, write_done);
	if (rc != 0) {
		if (done)
			done(arg, rc);
		zfree(w);
	}
}

void qnet_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct qnet *q = *(struct qnet **)h->data;
	(void)suggested;
	*b = uv_buf_init(q->rbuf, sizeof q->rbuf);
}

/* ---- deferred deliveries and ticks ------------------------------------ */

static void defer_kick(struct qnet *q);

static void defer_push(struct qnet *q, struct defer_ev ev)
{
	if (q->ndq == q->capdq) {
		q->capdq = q->capdq ? q->capdq * 2 : 8;
		q->dq = zrealloc(q->dq, q->capdq * sizeof *q->dq);
	}
	q->dq[q->ndq++] = ev;
	defer_kick(q);
}

static void on_defer(uv_timer_t *t);

static void defer_kick(struct qnet *q)
{
	if (q->started && !q->stopping && q->ndq)
		uv_timer_start(&q->defer, on_defer, 0, 0);
}

static void on_defer(uv_timer_t *t)
{
	struct qnet *q = t->data;
	/* Deliver what is queued now; what these deliveries queue waits for
	 * the next turn. */
	size_t n = q->ndq;
	struct defer_ev *evs = q->dq;
	q->dq = NULL;
	q->ndq = q->capdq = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t now = qnet_now(q);
		if (q->stopping) {
			zfree(evs[i].data);
			continue;
		}
		if (evs[i].kind == D_SELF_VOTE) {
			q->st.votes_in++;
			q->sink.vote(q->sink.ctx, q->cfg.my_sid, evs[i].data, evs[i].n, now);
		} else {
			q->sink.disconnect(q->sink.ctx, evs[i].conn, now);
		}
		zfree(evs[i].data);
		qnet_after(q);
	}
	zfree(evs);
	defer_kick(q);
}

static void on_tick(uv_timer_t *t);

void qnet_rearm(struct qnet *q)
{
	if (!q->started || q->stopping)
		return;
	uint64_t now = qnet_now(q), due = q->tick_due;
	if (q->sink.deadline) {
		uint64_t d = q->sink.deadline(q->sink.ctx);
		if (d < due)
			due = d;
	}
	uint64_t r = qnet_elect_next_retry(q);
	if (r < due)
		due = r;
	uv_timer_start(&q->tick, on_tick, due > now ? due - now : 0, 0);
	defer_kick(q);
}

void qnet_after(struct qnet *q)
{
	if (q->sink.after)
		q->sink.after(q->sink.ctx, qnet_now(q));
	qnet_rearm(q);
	defer_kick(q);
}

static void on_tick(uv_timer_t *t)
{
	struct qnet *q = t->data;
	uint64_t now = qnet_now(q);
	if (now >= q->tick_due) {
		uint32_t period = q->cfg.tick_ms / 2 ? q->cfg.tick_ms / 2 : 1;
		q->tick_due = now + period;
	}
	qnet_elect_retry(q, now);
	q->sink.tick(q->sink.ctx, now);
	qnet_after(q);
}

/* ---- env -------------------------------------------------------------- */

static void env_send_vote(void *ctx, uint64_t to, const uint8_t *p, size_t n)
{
	struct qnet *q = ctx;
	q->st.votes_out++;
	if (to == q->cfg.my_sid) {
		uint8_t *c = zmalloc(n ? n : 1);
		memcpy(c, p, n);
		defer_push(q, (struct defer_ev){.kind = D_SELF_VOTE, .data = c, .n = n});
		return;
	}
	qnet_elect_send(q, to, p, n);
}

static void qconn_handle_closed(uv_handle_t *h);

static void qconn_close(struct qnet *q, struct qconn *c, bool notify)
{
	if (c->state == C_CLOSING)
		return;
	c->state = C_CLOSING;
	u64map_del(&q->qconns, c->id);
	uv_close((uv_handle_t *)&c->tcp, qconn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, qconn_handle_closed);
	if (notify)
		defer_push(q, (struct defer_ev){.kind = D_DISCONNECT, .conn = c->id});
}

static void qconn_handle_closed(uv_handle_t *h)
{
	struct qconn *c = h->data;
	if (--c->handles > 0)
		return;
	qstream_free(&c->in);
	buf_free(&c->outq);
	buf_free(&c->pend);
	zfree(c);
}

static struct qconn *qconn_new(struct qnet *q, bool learner_side)
{
	struct qconn *c = zcalloc(1, sizeof *c);
	c->q = q;
	c->id = ++q->next_conn;
	struct qstream_limits lim = {q->cfg.max_buffer, q->cfg.max_snap};
	qstream_init(&c->in, &lim, learner_side);
	buf_init(&c->outq);
	buf_init(&c->pend);
	uv_tcp_init(q->loop, &c->tcp);
	uv_timer_init(q->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->handles = 2;
	u64map_put(&q->qconns, c->id, c);
	q->st.quorum_conns++;
	return c;
}

static void qconn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);

static void qconn_on_read_end(struct qnet *q, struct qconn *c, const char *why)
{
	log_info("quorum connection %llu (sid %llu) closed: %s", (unsigned long long)c->id,
		 (unsigned long long)c->sid, why);
	qconn_close(q, c, true);
}

static void qconn_deliver(struct qnet *q, struct qconn *c)
{
	const uint8_t *m;
	size_t n;
	int32_t type;
	int rc = QSTREAM_MORE;
	while (c->state == C_OPEN && (rc = qstream_next(&c->in, &m, &n, &type)) == QSTREAM_MSG) {
		if ((type == ZAB_FOLLOWERINFO || type == ZAB_OBSERVERINFO) && n >= 24 &&
		    (int32_t)be32_get(m + 12) >= 8)
			c->sid = be64_get(m + 16);
		if (type == ZAB_SNAP && c->in.snap_follows)
			n -= QSTREAM_SNAP_SIGNATURE_LEN;  /* the core's stream has none (see qnet.h) */
		q->st.packets_in++;
		q->sink.packet(q->sink.ctx, c->id, c->sid, m, n, qnet_now(q));
		qnet_after(q);
	}
	if (c->state == C_OPEN && rc == QSTREAM_ERROR) {
		q->st.bad_input++;
		qconn_on_read_end(q, c, qstream_error(&c->in));
	}
}

static void qconn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct qconn *c = s->data;
	struct qnet *q = c->q;
	if (c->state != C_OPEN)
		return;
	if (nread < 0) {
		qconn_on_read_end(q, c, nread == UV_EOF ? "end of stream" : uv_strerror((int)nread));
		return;
	}
	qstream_push(&c->in, (const uint8_t *)b->base, (size_t)nread);
	qconn_deliver(q, c);
}

static void qconn_connected(uv_connect_t *req, int status)
{
	struct qconn *c = req->data;
	struct qnet *q = c->q;
	if (c->state != C_DIALING)
		return;
	uv_timer_stop(&c->timer);
	if (status < 0) {
		log_info("quorum connection %llu to the leader failed: %s", (unsigned long long)c->id,
			 uv_strerror(status));
		qconn_close(q, c, true);
		return;
	}
	c->state = C_OPEN;
	uv_tcp_nodelay(&c->tcp, 1);
	if (c->outq.len)
		qnet_write(q, (uv_stream_t *)&c->tcp, c->outq.data, c->outq.len, NULL, NULL);
	buf_free(&c->outq);
	uv_read_start((uv_stream_t *)&c->tcp, qnet_alloc, qconn_read);
}

static void qconn_connect_timeout(uv_timer_t *t)
{
	struct qconn *c = t->data;
	log_info("quorum connection %llu to the leader timed out", (unsigned long long)c->id);
	qconn_close(c->q, c, true);
}

static uint64_t env_connect(void *ctx, uint64_t leader)
{
	struct qnet *q = ctx;
	struct qconn *c = qconn_new(q, true);
	c->sid = leader;
	c->state = C_DIALING;
	const struct sockaddr_storage *addr = NULL;
	for (int i = 0; i < q->n_peers; i++)
		if (q->peers[i].sid == leader)
			addr = &q->peers[i].qaddr;
	c->creq.data = c;
	int rc = addr ? uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)addr,
				       qconn_connected)
		      : UV_EINVAL;
	if (rc != 0) {
		log_warn("cannot connect to the leader %llu: %s", (unsigned long long)leader,
			 uv_strerror(rc));
		qconn_close(q, c, true);
	} else {
		uv_timer_start(&c->timer, qconn_connect_timeout, q->cfg.quorum_connect_timeout_ms, 0);
	}
	return c->id;
}

static void qconn_write_done(void *arg, int status)
{
	(void)arg;
	(void)status;  /* a failed write also fails the read side, which reports it */
}

/* The leader's sync sends SNAP (null data, null authinfo) and the whole
 * snapshot stream in one send() and nothing else with it (zab/sync.c). */
static bool is_snap_send(const uint8_t *p, size_t n)
{
	return n >= 20 && be32_get(p) == ZAB_SNAP && be32_get(p + 12) == 0xffffffffu &&
	       be32_get(p + 16) == 0xffffffffu;
}

/* Write what every connection gathered this turn, one write each. */
static void flush_pending(uv_check_t *h)
{
	struct qnet *q = h->data;
	for (size_t i = 0; i < q->ndirty; i++) {
		struct qconn *c = u64map_get(&q->qconns, q->dirty[i]);
		if (!c)
			continue;
		c->dirty = false;
		if (c->state == C_OPEN && c->pend.len)
			qnet_write(q, (uv_stream_t *)&c->tcp, c->pend.data, c->pend.len, c, qconn_write_done);
		c->pend.len = 0;
	}
	q->ndirty = 0;
	uv_check_stop(&q->flush_check);
	uv_idle_stop(&q->flush_idle);
}

static void idle_noop(uv_idle_t *h)
{
	(void)h;
}

static void queue_send(struct qnet *q, struct qconn *c, const uint8_t *p, size_t n)
{
	buf_put(&c->pend, p, n);
	if (c->dirty)
		return;
	c->dirty = true;
	if (q->ndirty == q->capdirty) {
		q->capdirty = q->capdirty ? 2 * q->capdirty : 16;
		q->dirty = zrealloc(q->dirty, q->capdirty * sizeof *q->dirty);
	}
	q->dirty[q->ndirty++] = c->id;
	if (q->ndirty == 1 && !q->stopping) {
		uv_check_start(&q->flush_check, flush_pending);
		uv_idle_start(&q->flush_idle, idle_noop);
	}
}

static void env_send(void *ctx, uint64_t conn, const uint8_t *p, size_t n)
{
	struct qnet *q = ctx;
	struct qconn *c = u64map_get(&q->qconns, conn);
	if (!c)
		return;
	if (c->state == C_DIALING) {
		buf_put(&c->outq, p, n);
		return;
	}
	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) + c->pend.len + n > q->cfg.max_write_backlog) {
		log_warn("quorum connection %llu: peer too slow, dropped", (unsigned long long)conn);
		qconn_close(q, c, true);
		return;
	}
	if (!c->in.snap_follows && is_snap_send(p, n)) {
		/* SNAP + the core's stream: the signature goes after it (§5.4.5). */
		struct buf b;
		buf_init(&b);
		buf_put(&b, p, n);
		jute_put_cstr(&b, "BenWasHere");
		queue_send(q, c, b.data, b.len);
		buf_free(&b);
		return;
	}
	queue_send(q, c, p, n);
}

static void env_close(void *ctx, uint64_t conn)
{
	struct qnet *q = ctx;
	struct qconn *c = u64map_get(&q->qconns, conn);
	if (c)
		qconn_close(q, c, false);
}

/* The application half of the env, forwarded. */
#define FWD(name, params, args)                           \
	static void fwd_##name params                     \
	{                                                 \
		struct qnet *q = ctx;                     \
		if (q->app.name)                          \
			q->app.name args;                 \
	}
FWD(apply, (void *ctx, uint64_t z, const uint8_t *p, size_t n), (q->app.ctx, z, p, n))
FWD(snapshot, (void *ctx, struct buf *out), (q->app.ctx, out))
FWD(request, (void *ctx, uint64_t f, int64_t s, int32_t c, int32_t t, const uint8_t *b, size_t n,
	       const uint8_t *a, size_t an),
    (q->app.ctx, f, s, c, t, b, n, a, an))
FWD(sync_done, (void *ctx, uint64_t t), (q->app.ctx, t))
FWD(trace, (void *ctx, const char *l), (q->app.ctx, l))
FWD(fatal, (void *ctx, const char *w), (q->app.ctx, w))

FWD(ping_data, (void *ctx, struct buf *out), (q->app.ctx, out))
FWD(revalidated, (void *ctx, int64_t s, bool v), (q->app.ctx, s, v))

static bool fwd_revalidate(void *ctx, uint64_t f, int64_t s, int32_t t)
{
	struct qnet *q = ctx;
	return q->app.revalidate ? q->app.revalidate(q->app.ctx, f, s, t) : false;
}
FWD(touch, (void *ctx, uint64_t f, const uint8_t *p, size_t n), (q->app.ctx, f, p, n))

static int fwd_restore(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct qnet *q = ctx;
	return q->app.restore ? q->app.restore(q->app.ctx, zxid, p, n) : 0;
}

void qnet_env(struct qnet *q, const struct zab_env *app, struct zab_env *out)
{
	q->app = *app;
	*out = (struct zab_env){
		.ctx = q, .send_vote = env_send_vote, .connect = env_connect, .send = env_send,
		.close = env_close, .apply = fwd_apply, .snapshot = fwd_snapshot,
		.restore = fwd_restore, .request = fwd_request,
		.ping_data = q->app.ping_data ? fwd_ping_data : NULL,
		.touch = q->app.touch ? fwd_touch : NULL, .sync_done = fwd_sync_done,
		.revalidate = q->app.revalidate ? fwd_revalidate : NULL,
		.revalidated = q->app.revalidated ? fwd_revalidated : NULL,
		.trace = fwd_trace, .fatal = fwd_fatal,
	};
}

/* ---- start / stop ------------------------------------------------------ */

static void on_quorum_accept(uv_stream_t *server, int status)
{
	struct qnet *q = server->data;
	if (status < 0 || q->stopping)
		return;
	struct qconn *c = qconn_new(q, false);
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		qconn_close(q, c, false);
		return;
	}
	if (q->sink.leading && !q->sink.leading(q->sink.ctx)) {
		qconn_close(q, c, false);
		return;
	}
	c->state = C_OPEN;
	uv_tcp_nodelay(&c->tcp, 1);
	uv_read_start((uv_stream_t *)&c->tcp, qnet_alloc, qconn_read);
}

int qnet_start(struct qnet *q, const struct qnet_sink *sink, struct buf *errmsg)
{
	q->sink = *sink;
	uv_timer_init(q->loop, &q->tick);
	uv_timer_init(q->loop, &q->defer);
	q->tick.data = q;
	q->defer.data = q;
	uv_check_init(q->loop, &q->flush_check);
	uv_idle_init(q->loop, &q->flush_idle);
	q->flush_check.data = q;
	q->flush_idle.data = q;
	q->handles = 4;
	q->started = true;
	struct sockaddr_storage qa = q->my_qaddr;
	if (q->cfg.listen_all_ips)
		wildcard(&qa);
	uv_tcp_init(q->loop, &q->qlisten);
	q->qlisten_on = true;
	q->qlisten.data = q;
	q->handles++;
	int rc = uv_tcp_bind(&q->qlisten, (const struct sockaddr *)&qa, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&q->qlisten, 64, on_quorum_accept);
	if (rc != 0) {
		char t[300];
		format_addr(&qa, t, sizeof t);
		buf_printf(errmsg, "quorum port %s: %s", t, uv_strerror(rc));
		return -1;
	}
	if (qnet_elect_listen(q, errmsg) != 0)
		return -1;
	q->tick_due = qnet_now(q) + (q->cfg.tick_ms / 2 ? q->cfg.tick_ms / 2 : 1);
	qnet_rearm(q);
	qnet_elect_retry(q, qnet_now(q));
	defer_kick(q);
	return 0;
}

static void q_handle_closed(uv_handle_t *h)
{
	struct qnet *q = h->data;
	q->handles--;
}

void qnet_stop(struct qnet *q)
{
	if (!q->started || q->stopping)
		return;
	q->stopping = true;
	size_t pos = 0;
	struct u64map_slot *sl;
	/* Collect first: closing removes from the map. */
	struct qconn **all = zcalloc(q->qconns.count + 1, sizeof *all);
	size_t n = 0;
	while ((sl = u64map_next(&q->qconns, &pos)) != NULL)
		all[n++] = sl->value;
	for (size_t i = 0; i < n; i++)
		qconn_close(q, all[i], false);
	zfree(all);
	qnet_elect_stop(q);
	uv_close((uv_handle_t *)&q->tick, q_handle_closed);
	uv_close((uv_handle_t *)&q->defer, q_handle_closed);
	uv_close((uv_handle_t *)&q->flush_check, q_handle_closed);
	uv_close((uv_handle_t *)&q->flush_idle, q_handle_closed);
	if (q->qlisten_on)
		uv_close((uv_handle_t *)&q->qlisten, q_handle_closed);
}

void qnet_free(struct qnet *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->ndq; i++)
		zfree(q->dq[i].data);
	zfree(q->dq);
	zfree(q->dirty);
	qnet_elect_free(q);
	u64map_free(&q->qconns);
	zfree(q);
}

void qnet_get_stats(const struct qnet *q, struct qnet_stats *out)
{
	*out = q->st;
}

/* ---- the peer as sink -------------------------------------------------- */

static void ps_vote(void *ctx, uint64_t from, const uint8_t *m, size_t n, uint64_t now)
{
	peer_on_vote(ctx, from, m, n, now);
}

static void ps_packet(void *ctx, uint64_t conn, uint64_t from, const uint8_t *m, size_t n,
		      uint64_t now)
{
	peer_on_packet(ctx, conn, from, m, n, now);
}

static void ps_disconnect(void *ctx, uint64_t conn, uint64_t now)
{
	peer_on_disconnect(ctx, conn, now);
}

static void ps_tick(void *ctx, uint64_t now)
{
	peer_on_tick(ctx, now);
}

static uint64_t ps_deadline(void *ctx)
{
	struct peer *p = ctx;
	if (p->z.dead)
		return UINT64_MAX;  /* it ignores every event: do not spin on a past deadline */
	/* While LOOKING the FLE's own timeouts (200 ms finalize wait, the
	 * notification back-off) are shorter than tickTime / 2. */
	if (p->z.role == ZAB_NONE && p->fle.looking)
		return p->fle.deadline_ms;
	return UINT64_MAX;
}

static bool ps_leading(void *ctx)
{
	struct peer *p = ctx;
	return !p->z.dead && p->z.role == ZAB_LEADING;
}

struct qnet_sink qnet_peer_sink(struct peer *p)
{
	return (struct qnet_sink){.ctx = p, .vote = ps_vote, .packet = ps_packet,
				  .disconnect = ps_disconnect, .tick = ps_tick,
				  .deadline = ps_deadline, .leading = ps_leading};
}
