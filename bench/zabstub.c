/* zabstub: a server that speaks just enough of the client protocol to
 * answer zabbench without doing any work — no tree, no log, no sync. Run
 * against it, zabbench shows its own ceiling. It answers ConnectRequest,
 * create (echoes the path), getData (a value of --value-size bytes),
 * setData/exists (a zero Stat), getChildren (--children names), ping,
 * closeSession (reply, then close), and the ruok/srvr four-letter words.
 * A getData with watch=1 arms a watch on that path for the connection; a
 * later setData of the same path on that connection fires it first.
 *
 * --fail-every K answers every K-th request (per thread) with NoNode, so a
 * test can check the bench reports every error. On SIGTERM/SIGINT it prints
 * one line of counters and exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/zalloc.h"
#include "jute/proto.h"
#include "jute/records.h"

enum { C_REQ, C_CREATE, C_GET, C_SET, C_EXISTS, C_CHILDREN, C_PING, C_CLOSE, C_OTHER, C_CONNECT,
       C_FAILED, C_EVENTS, C_N };
static const char *const counter_names[C_N] = {
	"requests", "create", "get", "set", "exists", "children", "ping", "close", "other",
	"connects", "failed", "events"};

struct stub_opts {
	int port, threads, value_size, children;
	long fail_every;
	const char *port_file;
};

struct sconn {
	int fd;
	bool handshaken, closing;
	uint8_t *in;
	size_t in_len, in_cap;
	struct buf out;
	char watch[256]; /* one armed data watch, "" if none */
};

struct sthread {
	int lfd, epfd;
	const struct stub_opts *o;
	uint64_t n[C_N];
	uint64_t reqs;
	int64_t zxid;
	int64_t next_session;
	uint8_t *value;
	struct arena arena; /* decoded ACL vectors, reset per request */
	pthread_t thr;
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	g_stop = 1;
}

static void put_reply_header(struct buf *b, size_t *off, int32_t xid, int64_t zxid, int32_t err)
{
	*off = b->len;
	buf_put_be32(b, 0);
	jr_reply_header_encode(b, &(struct jr_reply_header){.xid = xid, .zxid = zxid, .err = err});
}

static void end_frame(struct buf *b, size_t off)
{
	buf_set_be32(b, off, (uint32_t)(b->len - off - 4));
}

static void answer_connect(struct sthread *t, struct sconn *c, const uint8_t *p, size_t len)
{
	struct jute_reader r;
	jute_reader_init(&r, p, len, 1 << 20, NULL);
	struct jr_connect_request req;
	static const uint8_t zero[16];
	if (jr_connect_request_decode(&r, &req) != 0) {
		c->closing = true;
		return;
	}
	size_t off = c->out.len;
	buf_put_be32(&c->out, 0);
	struct jr_connect_response resp = {
		.protocol_version = 0,
		.time_out = req.time_out,
		.session_id = ++t->next_session,
		.passwd = {zero, 16},
	};
	jr_connect_response_encode(&c->out, &resp);
	jute_put_bool(&c->out, false);
	end_frame(&c->out, off);
	c->handshaken = true;
	t->n[C_CONNECT]++;
}

static void fire_watch(struct sthread *t, struct sconn *c, struct jute_bytes path)
{
	if (!c->watch[0] || !jute_bytes_eq_str(path, c->watch))
		return;
	size_t off;
	put_reply_header(&c->out, &off, ZXID_NOTIFICATION, -1, 0);
	struct jr_watcher_event ev = {.type = ZEV_NODE_DATA_CHANGED, .state = ZSTATE_SYNC_CONNECTED,
				      .path = path};
	jr_watcher_event_encode(&c->out, &ev);
	end_frame(&c->out, off);
	c->watch[0] = 0;
	t->n[C_EVENTS]++;
}

static void arm_watch(struct sconn *c, struct jute_bytes path)
{
	if (path.len > 0 && (size_t)path.len < sizeof c->watch) {
		memcpy(c->watch, path.data, (size_t)path.len);
		c->watch[path.len] = 0;
	}
}

static void put_children(struct sthread *t, struct buf *b)
{
	char name[32];
	jute_put_int(b, t->o->children);
	for (int i = 0; i < t->o->children; i++) {
		int n = snprintf(name, sizeof name, "k%08d", i);
		jute_put_strn(b, name, (size_t)n);
	}
}

/* Body of a successful reply, and the counter of the op. */
static void answer_body(struct sthread *t, struct sconn *c, int32_t type, struct jute_reader *r)
{
	struct jr_stat stat = {0};
	struct jr_get_data_request pw; /* {path, watch}: getData/exists/getChildren */
	switch (type) {
	case ZOP_CREATE: {
		struct jr_create_request cr;
		jr_create_request_decode(r, &cr);
		jr_create_response_encode(&c->out, &(struct jr_create_response){.path = cr.path});
		t->n[C_CREATE]++;
		break;
	}
	case ZOP_GET_DATA:
		jr_get_data_request_decode(r, &pw);
		if (pw.watch)
			arm_watch(c, pw.path);
		stat.data_length = t->o->value_size;
		jute_put_buffer(&c->out, (struct jute_bytes){t->value, t->o->value_size});
		jr_stat_encode(&c->out, &stat);
		t->n[C_GET]++;
		break;
	case ZOP_EXISTS:
		jr_exists_request_decode(r, (struct jr_exists_request *)&pw);
		jr_stat_encode(&c->out, &stat);
		t->n[C_EXISTS]++;
		break;
	case ZOP_GET_CHILDREN:
		put_children(t, &c->out);
		t->n[C_CHILDREN]++;
		break;
	case ZOP_CLOSE_SESSION:
		c->closing = true;
		t->n[C_CLOSE]++;
		break;
	default:
		t->n[C_OTHER]++;
		break;
	}
}

static void answer_request(struct sthread *t, struct sconn *c, const uint8_t *p, size_t len)
{
	struct jute_reader r;
	arena_reset(&t->arena);
	jute_reader_init(&r, p, len, 1 << 20, &t->arena);
	struct jr_request_header h;
	if (jr_request_header_decode(&r, &h) != 0) {
		c->closing = true;
		return;
	}
	if (h.type == ZOP_PING) {
		size_t off;
		put_reply_header(&c->out, &off, ZXID_PING, t->zxid, 0);
		end_frame(&c->out, off);
		t->n[C_PING]++;
		return;
	}
	t->n[C_REQ]++;
	t->reqs++;
	bool fail = t->o->fail_every > 0 && t->reqs % (uint64_t)t->o->fail_every == 0 &&
		    h.type != ZOP_CLOSE_SESSION;
	if (h.type == ZOP_SET_DATA && !fail) {
		struct jr_set_data_request sr;
		jute_reader_init(&r, p + 8, len - 8, 1 << 20, &t->arena);
		if (jr_set_data_request_decode(&r, &sr) == 0)
			fire_watch(t, c, sr.path);
	}
	int32_t err = fail ? ZNONODE : (h.type == ZOP_CREATE || h.type == ZOP_GET_DATA ||
					 h.type == ZOP_SET_DATA || h.type == ZOP_EXISTS ||
					 h.type == ZOP_GET_CHILDREN || h.type == ZOP_CLOSE_SESSION)
					? ZOK : ZUNIMPLEMENTED;
	if (zk_op_is_write(h.type))
		t->zxid++;
	size_t off;
	put_reply_header(&c->out, &off, h.xid, t->zxid, err);
	if (err == ZOK && h.type == ZOP_SET_DATA) {
		jr_stat_encode(&c->out, &(struct jr_stat){0});
		t->n[C_SET]++;
	}
	else if (err == ZOK)
		answer_body(t, c, h.type, &r);
	else
		t->n[C_FAILED]++;
	end_frame(&c->out, off);
}

static bool four_letter(struct sconn *c)
{
	if (c->handshaken || c->in_len < 4)
		return false;
	if (memcmp(c->in, "ruok", 4) == 0)
		buf_put(&c->out, "imok", 4);
	else if (memcmp(c->in, "srvr", 4) == 0 || memcmp(c->in, "stat", 4) == 0)
		buf_printf(&c->out, "Zookeeper version: zabstub\nMode: standalone\n");
	else
		return false;
	c->closing = true;
	return true;
}

static void conn_parse(struct sthread *t, struct sconn *c)
{
	if (four_letter(c)) {
		c->in_len = 0;
		return;
	}
	size_t off = 0;
	while (c->in_len - off >= 4 && !c->closing) {
		uint32_t len = be32_get(c->in + off);
		if (len > (1u << 20)) {
			c->closing = true;
			break;
		}
		if (c->in_len - off - 4 < len) {
			if (c->in_cap < len + 4) {
				c->in_cap = len + 4;
				c->in = zrealloc(c->in, c->in_cap);
			}
			break;
		}
		if (c->handshaken)
			answer_request(t, c, c->in + off + 4, len);
		else
			answer_connect(t, c, c->in + off + 4, len);
		off += 4 + len;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

static void conn_free(struct sthread *t, struct sconn *c)
{
	epoll_ctl(t->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	zfree(c->in);
	buf_free(&c->out);
	zfree(c);
}

/* Returns false when the connection is gone. */
static bool conn_flush(struct sthread *t, struct sconn *c)
{
	while (c->out.len > 0) {
		ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
		if (n > 0) {
			buf_consume(&c->out, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
			epoll_ctl(t->epfd, EPOLL_CTL_MOD, c->fd, &ev);
			return true;
		}
		conn_free(t, c);
		return false;
	}
	if (c->closing) {
		conn_free(t, c);
		return false;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	epoll_ctl(t->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	return true;
}

static void conn_readable(struct sthread *t, struct sconn *c)
{
	for (;;) {
		if (c->in_cap - c->in_len < 4096) {
			c->in_cap *= 2;
			c->in = zrealloc(c->in, c->in_cap);
		}
		ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
		if (n > 0) {
			c->in_len += (size_t)n;
			conn_parse(t, c);
			if (c->closing)
				break;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		conn_free(t, c);
		return;
	}
	conn_flush(t, c);
}

static void accept_all(struct sthread *t)
{
	for (;;) {
		int fd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK);
		if (fd < 0)
			return;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct sconn *c = zcalloc(1, sizeof *c);
		c->fd = fd;
		c->in_cap = 65536;
		c->in = zmalloc(c->in_cap);
		buf_init(&c->out);
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev);
	}
}

static void *stub_main(void *arg)
{
	struct sthread *t = arg;
	struct epoll_event evs[256];
	struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->lfd, &lev);
	while (!g_stop) {
		int n = epoll_wait(t->epfd, evs, 256, 50);
		for (int i = 0; i < n; i++) {
			struct sconn *c = evs[i].data.ptr;
			if (!c)
				accept_all(t);
			else if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				conn_readable(t, c);
			else if (evs[i].events & EPOLLOUT)
				conn_flush(t, c);
		}
	}
	return NULL; /* connections die with the process */
}

static int listen_on(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1024) != 0) {
		perror("zabstub: bind/listen");
		exit(1);
	}
	return fd;
}

static void parse_opts(int argc, char **argv, struct stub_opts *o)
{
	*o = (struct stub_opts){.port = 0, .threads = 1, .value_size = 100, .children = 10};
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--port")) o->port = atoi(v);
		else if (!strcmp(k, "--threads")) o->threads = atoi(v);
		else if (!strcmp(k, "--value-size")) o->value_size = atoi(v);
		else if (!strcmp(k, "--children")) o->children = atoi(v);
		else if (!strcmp(k, "--fail-every")) o->fail_every = atol(v);
		else if (!strcmp(k, "--port-file")) o->port_file = v;
		else {
			fprintf(stderr, "usage: zabstub [--port P] [--threads N] [--value-size B]"
					" [--children N] [--fail-every K] [--port-file F]\n");
			exit(2);
		}
	}
	if (o->threads < 1 || o->value_size < 0 || o->value_size > 1000000 || o->children < 0)
		exit(2);
}

int main(int argc, char **argv)
{
	struct stub_opts o;
	parse_opts(argc, argv, &o);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	struct sthread *t = zcalloc((size_t)o.threads, sizeof *t);
	uint8_t *value = zmalloc((size_t)o.value_size + 1);
	memset(value, 'v', (size_t)o.value_size);
	for (int i = 0; i < o.threads; i++) {
		t[i].lfd = listen_on(o.port);
		if (o.port == 0) { /* the others join the port the first one got */
			struct sockaddr_in a;
			socklen_t al = sizeof a;
			getsockname(t[i].lfd, (struct sockaddr *)&a, &al);
			o.port = ntohs(a.sin_port);
		}
		t[i].epfd = epoll_create1(0);
		arena_init(&t[i].arena);
		t[i].o = &o;
		t[i].value = value;
		t[i].next_session = ((int64_t)(i + 1) << 56);
	}
	if (o.port_file) {
		FILE *f = fopen(o.port_file, "w");
		fprintf(f, "%d\n", o.port);
		fclose(f);
	}
	for (int i = 0; i < o.threads; i++)
		pthread_create(&t[i].thr, NULL, stub_main, &t[i]);
	uint64_t total[C_N] = {0};
	for (int i = 0; i < o.threads; i++) {
		pthread_join(t[i].thr, NULL);
		for (int k = 0; k < C_N; k++)
			total[k] += t[i].n[k];
	}
	printf("zabstub port=%d", o.port);
	for (int k = 0; k < C_N; k++)
		printf(" %s=%llu", counter_names[k], (unsigned long long)total[k]);
	printf("\n");
	fflush(stdout);
	for (int i = 0; i < o.threads; i++) {
		arena_free(&t[i].arena);
		close(t[i].epfd); /* open connections die with the process */
		close(t[i].lfd);
	}
	zfree(t);
	zfree(value);
	return 0;
}
