/* server.c: see server.h. Reads are framed here (4-byte big-endian length,
 * checked against jute.maxbuffer before anything is buffered, §2.1); a new
 * connection whose first 4 bytes are a known four-letter word becomes a
 * command connection instead (§4.1). After every event the node's outputs
 * are written and its new txns are persisted (in memory until the durable
 * log is wired: they are reported durable at once), looping until the node
 * is quiet, since applying a txn can prepare new ones. */
#include "io/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/fourlw.h"
#include "io/durable.h"
#include "io/ensemble.h"
#include "base/log.h"
#include "base/zalloc.h"
#include "io/clock.h"

struct client {
	uv_tcp_t tcp;
	struct server *srv;
	uint64_t conn;
	uint8_t *rbuf;
	size_t rlen, rcap;
	bool framed;       /* past the point where a four-letter word is possible */
	bool closing;
	bool close_after_writes;
	bool shutting_down;
	unsigned writes_pending;
};

struct server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	uv_timer_t timer;
	const struct zoocfg *cfg;
	struct node node;
	struct durable dur;
	bool dur_open;
	struct ensemble *ens;    /* a member of an ensemble: used instead of dur */
	struct u64map clients;   /* conn id -> client */
	uv_prepare_t persist_prepare;
	uv_check_t persist_check;
	bool stopping;
};

struct write_req {
	uv_write_t req;
	uv_buf_t buf;
	uint8_t *data;  /* what to free: buf may start past the part written at once */
	struct client *cl;
};

static void server_flush(struct server *s);

static void client_free_cb(uv_handle_t *h)
{
	struct client *cl = h->data;
	zfree(cl->rbuf);
	zfree(cl);
}

static void client_close(struct client *cl)
{
	if (cl->closing)
		return;
	cl->closing = true;
	struct server *s = cl->srv;
	if (cl->conn) {
		u64map_del(&s->clients, cl->conn);
		node_conn_closed(&s->node, cl->conn, clock_wall_ms());
		cl->conn = 0;
	}
	uv_close((uv_handle_t *)&cl->tcp, client_free_cb);
}

static void shutdown_done(uv_shutdown_t *req, int status)
{
	struct client *cl = req->data;
	(void)status;
	zfree(req);
	client_close(cl);
}

/* Close after the answer: FIN follows the data (as ZooKeeper's
 * shutdownOutput), then the handle closes. */
static void client_close_gracefully(struct client *cl)
{
	if (cl->closing || cl->shutting_down)
		return;
	cl->shutting_down = true;
	uv_shutdown_t *req = zmalloc(sizeof(*req));
	req->data = cl;
	uv_read_stop((uv_stream_t *)&cl->tcp);
	if (uv_shutdown(req, (uv_stream_t *)&cl->tcp, shutdown_done) != 0) {
		zfree(req);
		client_close(cl);
	}
}

static void write_done(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct client *cl = w->cl;
	zfree(w->data);
	zfree(w);
	cl->writes_pending--;
	if (status < 0)
		client_close(cl);
	else if (cl->close_after_writes && cl->writes_pending == 0)
		client_close_gracefully(cl);
}

/* Queue bytes (owned: data, freed when written) behind what is pending. */
static void client_queue(struct client *cl, uint8_t *data, size_t off, size_t len)
{
	struct write_req *w = zmalloc(sizeof(*w));
	w->data = data;
	w->buf = uv_buf_init((char *)data + off, (unsigned)(len - off));
	w->cl = cl;
	cl->writes_pending++;
	if (uv_write(&w->req, (uv_stream_t *)&cl->tcp, &w->buf, 1, write_done) < 0) {
		zfree(data);
		zfree(w);
		cl->writes_pending--;
		client_close(cl);
	}
}

/* Write at once what the socket takes, when nothing of this client is
 * queued (uv_try_write): a reply that fits the socket buffer, as nearly
 * all do, then needs no request, no completion callback and no epoll
 * change (libuv re-arms the watcher after every completed uv_write).
 * Returns the bytes written, or -1 if the client was closed. */
static int64_t client_write_now(struct client *cl, const uint8_t *data, size_t len)
{
	if (cl->writes_pending)
		return 0;
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
	int n = uv_try_write((uv_stream_t *)&cl->tcp, &b, 1);
	if (n < 0 && n != UV_EAGAIN) {
		client_close(cl);
		return -1;
	}
	if ((size_t)(n > 0 ? n : 0) == len && cl->close_after_writes)
		client_close_gracefully(cl);
	return n > 0 ? n : 0;
}

/* Takes ownership of data. */
static void client_write(struct client *cl, uint8_t *data, size_t len)
{
	int64_t done = client_write_now(cl, data, len);
	if (done >= 0 && (size_t)done < len)
		client_queue(cl, data, (size_t)done, len);
	else
		zfree(data);
}

/* A connection's output buffer keeps its memory for the next replies,
 * unless a burst made it bigger than this. */
#define OUT_KEEP (64 * 1024)

/* Send and empty the node's output buffer of a connection. */
static void client_send(struct client *cl, struct buf *out)
{
	int64_t done = client_write_now(cl, out->data, out->len);
	if (done >= 0 && (size_t)done < out->len) {
		if (done == 0) {
			size_t len;
			uint8_t *data = buf_steal(out, &len);
			client_queue(cl, data, 0, len);
		} else {
			size_t rest = out->len - (size_t)done;
			uint8_t *data = zmalloc(rest);
			memcpy(data, out->data + done, rest);
			client_queue(cl, data, 0, rest);
		}
	}
	out->len = 0;
	if (out->cap > OUT_KEEP)
		buf_free(out);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct client *cl = h->data;
	(void)suggested;
	if (cl->rcap - cl->rlen < 65536) {
		cl->rcap = cl->rcap ? cl->rcap * 2 : 65536;
		cl->rbuf = zrealloc(cl->rbuf, cl->rcap);
	}
	*buf = uv_buf_init((char *)cl->rbuf + cl->rlen, (unsigned)(cl->rcap - cl->rlen));
}

/* A four-letter word: answer, half-close, close (§4.1). */
static void run_fourlw(struct client *cl, const char word[4])
{
	struct buf out;
	buf_init(&out);
	fourlw_run(&cl->srv->node, cl->srv->cfg, word, cl->conn, &out);
	size_t len;
	uint8_t *data = buf_steal(&out, &len);
	cl->close_after_writes = true;
	cl->framed = true;
	if (len)
		client_write(cl, data, len);
	else {
		zfree(data);
		client_close(cl);
	}
}

/* Consume whole frames from the read buffer; false if the client was closed. */
static bool consume_frames(struct client *cl)
{
	struct server *s = cl->srv;
	size_t off = 0;
	int64_t max = s->node.cfg.max_buffer;
	int64_t now = clock_wall_ms();  /* one read's frames arrived together */
	while (!cl->closing && cl->rlen - off >= 4) {
		if (!cl->framed) {
			cl->framed = true;
			if (fourlw_is_word((const char *)cl->rbuf + off)) {
				run_fourlw(cl, (const char *)cl->rbuf + off);
				cl->rlen = 0;
				return false;
			}
		}
		int32_t flen = (int32_t)be32_get(cl->rbuf + off);
		if (flen < 0 || flen > max) {
			log_info("closing connection: frame length %d outside 0..%lld", flen, (long long)max);
			client_close(cl);
			return false;
		}
		if (cl->rlen - off - 4 < (size_t)flen)
			break;
		node_conn_frame(&s->node, cl->conn, cl->rbuf + off + 4, (size_t)flen, now);
		off += 4 + (size_t)flen;
	}
	if (off) {
		memmove(cl->rbuf, cl->rbuf + off, cl->rlen - off);
		cl->rlen -= off;
	}
	return !cl->closing;
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct client *cl = stream->data;
	(void)buf;
	if (nread < 0) {
		/* EOF: a four-letter-word client may half-close after its word */
		if (cl->close_after_writes && cl->writes_pending)
			uv_read_stop(stream);
		else
			client_close(cl);
		server_flush(cl->srv);
		return;
	}
	cl->rlen += (size_t)nread;
	consume_frames(cl);
	server_flush(cl->srv);
}

static void peer_ip(uv_tcp_t *tcp, char *ip, size_t cap, uint16_t *port)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	ip[0] = '\0';
	*port = 0;
	if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		uv_ip4_name(a, ip, cap);
		*port = ntohs(a->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		uv_ip6_name(a, ip, cap);
		*port = ntohs(a->sin6_port);
	}
}

static void on_connection(uv_stream_t *server, int status)
{
	struct server *s = server->data;
	if (status < 0)
		return;
	struct client *cl = zcalloc(1, sizeof(*cl));
	cl->srv = s;
	uv_tcp_init(s->loop, &cl->tcp);
	cl->tcp.data = cl;
	if (uv_accept(server, (uv_stream_t *)&cl->tcp) != 0) {
		uv_close((uv_handle_t *)&cl->tcp, client_free_cb);
		return;
	}
	uv_tcp_nodelay(&cl->tcp, 1);
	char ip[64];
	uint16_t port;
	peer_ip(&cl->tcp, ip, sizeof ip, &port);
	if (s->cfg->max_client_cnxns > 0 && fourlw_conns_from(&s->node, ip) >= (size_t)s->cfg->max_client_cnxns) {
		log_warn("too many connections from %s (max %d)", ip, s->cfg->max_client_cnxns);
		uv_close((uv_handle_t *)&cl->tcp, client_free_cb);
		return;
	}
	cl->conn = node_conn_open(&s->node, ip, port, clock_wall_ms());
	u64map_put(&s->clients, cl->conn, cl);
	uv_read_start((uv_stream_t *)&cl->tcp, alloc_cb, read_cb);
}

/* Standalone: hand every txn prepared since the last call to the log
 * thread; they are applied and answered when it reports them durable
 * (on_persisted). Runs once per loop iteration, after the I/O callbacks (check) and before the
 * loop blocks (prepare, for what timers prepared), not after every event:
 * the writes read from all connections in one iteration, and those the
 * applied batch released, reach the log thread together and share an
 * fsync. Handed over one by one, the first woke the thread, which began
 * its fsync with that txn alone, and the rest waited a whole fsync more. */
static void persist_step(struct server *s)
{
	if (s->ens)
		return;  /* a member's txns are proposed or forwarded by server_flush */
	struct node_txn *list = node_take_persist(&s->node);
	if (list && durable_submit_list(&s->dur, list) != 0) {
		log_error("the txn log has stopped; stopping the server");
		exit(2);
	}
}

static void persist_prepare_cb(uv_prepare_t *h)
{
	persist_step(h->data);
}

static void persist_check_cb(uv_check_t *h)
{
	persist_step(h->data);
}

static void on_persisted(void *arg, int64_t zxid)
{
	struct server *s = arg;
	node_persisted(&s->node, zxid, clock_wall_ms());
	if (s->node.fatal) {
		log_error("a committed txn could not be applied; stopping");
		exit(2);
	}
	server_flush(s);
}

static void on_fatal(void *arg, const char *why)
{
	(void)arg;
	/* an fsync that failed may have lost data a retry would not report:
	 * nothing more may be acknowledged */
	log_error("txn log failure: %s; stopping", why);
	exit(2);
}

static void timer_cb(uv_timer_t *t);
static void flush_cb(void *arg);

static void arm_timer(struct server *s)
{
	if (s->stopping)
		return;
	int64_t now = clock_wall_ms();
	int64_t due = node_next_deadline(&s->node) - now;
	if (due < 1)
		due = 1;
	uv_timer_start(&s->timer, timer_cb, (uint64_t)due, 0);
}

static void server_flush(struct server *s)
{
	if (s->ens)
		ensemble_step(s->ens);  /* proposed or forwarded instead of persisted */
	uint64_t conn;
	struct buf *out;
	bool close_after;
	while (node_next_output(&s->node, &conn, &out, &close_after)) {
		struct client *cl = u64map_get(&s->clients, conn);
		if (!cl) {
			out->len = 0;
			continue;
		}
		if (out->len)
			client_send(cl, out);
		if (close_after) {
			cl->close_after_writes = true;
			if (cl->writes_pending == 0)
				client_close_gracefully(cl);
			else
				uv_read_stop((uv_stream_t *)&cl->tcp);
		}
	}
	arm_timer(s);
}

static void flush_cb(void *arg)
{
	server_flush(arg);
}

static void timer_cb(uv_timer_t *t)
{
	struct server *s = t->data;
	node_tick(&s->node, clock_wall_ms());
	server_flush(s);
}

static void build_zconfig(const struct zoocfg *c, struct zconfig *z)
{
	memset(z, 0, sizeof(*z));
	z->tick_ms = c->tick_time;
	z->min_session_timeout_ms = zoocfg_min_session_timeout(c);
	z->max_session_timeout_ms = zoocfg_max_session_timeout(c);
	z->max_buffer = c->jute_maxbuffer;
	z->max_buffer_extra = zoocfg_jute_extrasize(c);
	z->ttl_enabled = c->extended_types_enabled;
	z->skip_acl = c->skip_acl;
	z->digest_auth_enabled = c->digest_auth_enabled;
	if (c->super_digest)
		snprintf(z->super_digest, sizeof z->super_digest, "%s", c->super_digest);
	z->container_check_ms = c->container_check_interval_ms > 0 ? c->container_check_interval_ms : 60000;
	z->container_max_per_minute = c->container_max_per_minute;
	z->container_max_never_used_ms = c->container_max_never_used_interval_ms;
	z->server_id = 1;  /* standalone: session ids carry server id 1 (§2.9.2); an ensemble's myid */
	z->sessionless_timeout_ms = c->nio_sessionless_cnxn_timeout;
}

struct server *server_start(uv_loop_t *loop, const struct zoocfg *cfg, struct buf *errmsg)
{
	struct server *s = zcalloc(1, sizeof(*s));
	s->loop = loop;
	s->cfg = cfg;
	struct zconfig z;
	build_zconfig(cfg, &z);
	bool quorum = zoocfg_is_distributed(cfg);
	int64_t myid = 0;
	if (quorum && zoocfg_read_myid(cfg, &myid, errmsg) != 0) {
		zfree(s);
		return NULL;
	}
	if (quorum)
		z.server_id = myid;
	node_init(&s->node, &z, clock_wall_ms());
	u64map_init(&s->clients);
	s->dur.on_persisted = on_persisted;
	s->dur.on_fatal = on_fatal;
	s->dur.arg = s;
	if (quorum) {
		s->ens = ensemble_open(loop, cfg, &s->node, flush_cb, s, errmsg);
	} else if (durable_open(&s->dur, loop, cfg, &s->node, errmsg) == 0) {
		s->dur_open = true;
	}
	if (!s->ens && !s->dur_open) {
		node_free(&s->node);
		u64map_free(&s->clients);
		zfree(s);
		return NULL;
	}
	uv_timer_init(loop, &s->timer);
	s->timer.data = s;
	uv_tcp_init(loop, &s->listener);
	s->listener.data = s;
	const char *host = cfg->client_port_address ? cfg->client_port_address : "0.0.0.0";
	struct sockaddr_storage addr;
	int rc = strchr(host, ':') ? uv_ip6_addr(host, cfg->client_port, (struct sockaddr_in6 *)&addr)
				  : uv_ip4_addr(host, cfg->client_port, (struct sockaddr_in *)&addr);
	if (rc == 0)
		rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&s->listener, 1024, on_connection);
	if (rc != 0) {
		buf_printf(errmsg, "cannot listen on %s:%d: %s", host, cfg->client_port, uv_strerror(rc));
		uv_close((uv_handle_t *)&s->listener, NULL);
		uv_close((uv_handle_t *)&s->timer, NULL);
		if (s->ens)
			ensemble_close(s->ens);
		else
			durable_close(&s->dur);
		uv_run(loop, UV_RUN_NOWAIT);
		if (s->ens)
			ensemble_free(s->ens);
		node_free(&s->node);
		u64map_free(&s->clients);
		zfree(s);
		return NULL;
	}
	uv_prepare_init(loop, &s->persist_prepare);
	s->persist_prepare.data = s;
	uv_prepare_start(&s->persist_prepare, persist_prepare_cb);
	uv_unref((uv_handle_t *)&s->persist_prepare);
	uv_check_init(loop, &s->persist_check);
	s->persist_check.data = s;
	uv_check_start(&s->persist_check, persist_check_cb);
	uv_unref((uv_handle_t *)&s->persist_check);
	arm_timer(s);
	return s;
}

void server_stop(struct server *s)
{
	s->stopping = true;
	persist_step(s);  /* what this iteration prepared: the log flushes it on close */
	uv_close((uv_handle_t *)&s->persist_prepare, NULL);
	uv_close((uv_handle_t *)&s->persist_check, NULL);
	uv_timer_stop(&s->timer);
	uv_close((uv_handle_t *)&s->timer, NULL);
	uv_close((uv_handle_t *)&s->listener, NULL);
	size_t pos = 0;
	struct u64map_slot *sl;
	/* closing removes from the map: collect first */
	size_t n = s->clients.count, k = 0;
	struct client **all = zmalloc((n ? n : 1) * sizeof(*all));
	while ((sl = u64map_next(&s->clients, &pos)))
		all[k++] = sl->value;
	for (size_t i = 0; i < k; i++)
		client_close(all[i]);
	zfree(all);
	if (s->dur_open)
		durable_close(&s->dur);
	if (s->ens)
		ensemble_close(s->ens);
}

void server_free(struct server *s)
{
	if (s->ens)
		ensemble_free(s->ens);
	node_free(&s->node);
	u64map_free(&s->clients);
	zfree(s);
}

struct node *server_node(struct server *s)
{
	return &s->node;
}
