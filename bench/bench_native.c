/* zabbench native engine: our own client-protocol codec over epoll. One
 * worker thread per core; each owns a share of the sessions, an epoll set,
 * and its counters, so workers share nothing on the hot path but the phase
 * word (and the budget / populate counters when those are in use).
 *
 * A session keeps up to `window` requests in flight. Replies come back in
 * request order (the protocol guarantees it), so the send times sit in a
 * FIFO per session; notifications (xid -1) and pings (xid -2) are outside it.
 * Requests are encoded into the session's out buffer as replies are handled
 * and flushed once per read batch, which gives natural pipelining. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/zalloc.h"
#include "base/zassert.h"
#include "bench.h"
#include "bench_wire.h"
#include "jute/proto.h"

enum sess_state { S_IDLE, S_HANDSHAKE, S_READY, S_CLOSING, S_CLOSED, S_FAILED };
enum ent_kind { K_POP, K_RUN, K_CLOSE, K_WATCH_GET, K_WATCH_SET, K_CHURN_CREATE };

struct fifo_ent {
	uint64_t t_ns;  /* send (or intended send) time */
	int32_t xid;
	int16_t op;     /* opcode, to pick the response decoder */
	uint8_t kind;
};

struct worker;
struct nsess {
	struct worker *w;
	int fd;
	int state;
	int gidx;        /* global session index */
	int srv;         /* index into cfg->servers */
	bool ever_connected;
	bool reopened;   /* opened again after a loss (--reconnect) */
	bool want_reopen;
	uint64_t retry_at;
	int32_t xid;
	struct fifo_ent *fifo;
	int head, count, cap;
	struct buf out;
	bool out_armed;  /* EPOLLOUT registered */
	uint8_t *in;
	size_t in_len, in_cap;
	uint64_t last_send_ns;
	unsigned gen;    /* bumped when the fd changes */
	/* watch / churn cycles */
	bool cycle;           /* a cycle is in flight */
	uint64_t cycle_t;
	int cycle_replies;    /* replies still due in this cycle */
	bool cycle_event;     /* watch event seen */
	uint64_t cycle_ev_t;
	int cycle_err;
	long wkey;
	long churn_n;
};

struct worker {
	struct zb_shared *sh;
	const struct zb_config *cfg;
	int id;
	int epfd;
	struct nsess *s;
	int ns;
	struct zb_stats st;
	uint64_t rng;
	struct arena arena;
	struct jute_bytes value;
	uint64_t next_due, interval_ns;
	int rr;
	bool pop_done, idle_done, drain_done;
	uint64_t drain_deadline;
	pthread_t thr;
};

static void sess_arm(struct nsess *s, bool want_out)
{
	if (s->fd < 0 || s->out_armed == want_out)
		return;
	struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = s};
	epoll_ctl(s->w->epfd, EPOLL_CTL_MOD, s->fd, &ev);
	s->out_armed = want_out;
}

static void sess_flush(struct nsess *s)
{
	while (s->out.len > 0 && s->fd >= 0) {
		ssize_t n = send(s->fd, s->out.data, s->out.len, MSG_NOSIGNAL);
		if (n > 0) {
			buf_consume(&s->out, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			sess_arm(s, true);
			return;
		}
		return; /* the read side sees the error */
	}
	sess_arm(s, false);
}

static void fifo_push(struct nsess *s, int32_t xid, int op, int kind, uint64_t t)
{
	zassert(s->count < s->cap);
	struct fifo_ent *e = &s->fifo[(s->head + s->count) % s->cap];
	*e = (struct fifo_ent){.t_ns = t, .xid = xid, .op = (int16_t)op, .kind = (uint8_t)kind};
	s->count++;
	s->last_send_ns = t;
}

static int32_t next_xid(struct nsess *s)
{
	if (++s->xid <= 0)
		s->xid = 1;
	return s->xid;
}

static void sess_open(struct worker *w, struct nsess *s)
{
	s->gen++;
	const struct zb_server *srv = &w->cfg->servers[s->srv];
	s->fd = zb_connect_tcp(srv->host, srv->port, false);
	s->out.len = 0;
	s->in_len = 0;
	s->count = 0;
	s->head = 0;
	s->xid = 0;
	s->out_armed = false;
	if (s->fd < 0) {
		s->state = S_FAILED;
		return;
	}
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = s};
	epoll_ctl(w->epfd, EPOLL_CTL_ADD, s->fd, &ev);
	s->out_armed = true;
	zbw_connect(&s->out, w->cfg->session_timeout_ms, 0);
	s->last_send_ns = zb_now_ns();
	s->state = S_HANDSHAKE;
}

static void sess_close_fd(struct nsess *s, int state)
{
	if (s->fd >= 0) {
		epoll_ctl(s->w->epfd, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
		s->fd = -1;
	}
	s->gen++;
	s->state = state;
}

/* --reconnect: a session lost while loading comes back on the next server
 * after the delay (sweep_sessions reopens it), with a fresh session. */
static void schedule_reopen(struct worker *w, struct nsess *s)
{
	int ph = atomic_load(&w->sh->phase);
	if (w->cfg->reconnect_ms <= 0 || s->state != S_FAILED || (ph != ZB_PH_WARMUP && ph != ZB_PH_MEASURE))
		return;
	uint64_t now = zb_now_ns();
	if (!w->st.first_loss_ns)
		w->st.first_loss_ns = now;
	s->srv = (s->srv + 1) % w->cfg->nservers;
	s->retry_at = now + (uint64_t)w->cfg->reconnect_ms * 1000000ull;
	s->want_reopen = true;
}

static void maybe_reopen(struct worker *w, struct nsess *s, uint64_t now)
{
	int ph = atomic_load(&w->sh->phase);
	if (!s->want_reopen || now < s->retry_at || (ph != ZB_PH_WARMUP && ph != ZB_PH_MEASURE))
		return;
	s->want_reopen = false;
	s->reopened = true;
	w->st.reconnects++;
	sess_open(w, s);
	schedule_reopen(w, s); /* no-op unless the connect failed at once */
}

static bool measuring(const struct worker *w)
{
	return atomic_load_explicit(&w->sh->phase, memory_order_relaxed) == ZB_PH_MEASURE;
}

/* One finished op of the run phase: counted only while measuring. */
static void count_op(struct worker *w, struct nsess *s, int err, uint64_t t0, uint64_t now)
{
	if (err == 0 && s->reopened && !w->st.first_ok_after_ns)
		w->st.first_ok_after_ns = now;
	if (!measuring(w)) {
		w->st.outside++;
		return;
	}
	if (err != 0) {
		zb_stats_error(&w->st, err);
		return;
	}
	w->st.ops++;
	zb_hist_add(&w->st.hist, now > t0 ? now - t0 : 0);
}

/* --- issuing ------------------------------------------------------------ */

static void send_op(struct worker *w, struct nsess *s, enum zb_op op, uint64_t t)
{
	char path[512];
	long key = w->cfg->keys > 0 ? (long)(zb_rand(&w->rng) % (uint64_t)w->cfg->keys) : 0;
	zb_key_path(path, sizeof path, w->cfg->root, key);
	int32_t xid = next_xid(s);
	int opcode = 0;
	switch (op) {
	case ZB_GET: zbw_path_op(&s->out, xid, opcode = ZOP_GET_DATA, path, false); break;
	case ZB_EXISTS: zbw_path_op(&s->out, xid, opcode = ZOP_EXISTS, path, false); break;
	case ZB_SET: zbw_set(&s->out, xid, path, w->value); opcode = ZOP_SET_DATA; break;
	case ZB_CHILDREN:
		zbw_path_op(&s->out, xid, opcode = ZOP_GET_CHILDREN, w->cfg->root, false);
		break;
	case ZB_CREATE:
		snprintf(path, sizeof path, "%s/c%d-%d-%ld", w->cfg->root, w->id, s->gidx, s->churn_n++);
		zbw_create(&s->out, xid, path, w->value, ZCF_PERSISTENT);
		opcode = ZOP_CREATE;
		break;
	default: zassert(!"op not sent by send_op");
	}
	fifo_push(s, xid, opcode, K_RUN, t);
}

static void start_cycle(struct worker *w, struct nsess *s)
{
	char path[512];
	uint64_t now = zb_now_ns();
	s->cycle = true;
	s->cycle_t = now;
	s->cycle_err = 0;
	s->cycle_event = false;
	if (w->cfg->op == ZB_WATCH) {
		zb_key_path(path, sizeof path, w->cfg->root, s->wkey);
		int32_t xid = next_xid(s);
		zbw_path_op(&s->out, xid, ZOP_GET_DATA, path, true);
		fifo_push(s, xid, ZOP_GET_DATA, K_WATCH_GET, now);
		xid = next_xid(s);
		zbw_set(&s->out, xid, path, w->value);
		fifo_push(s, xid, ZOP_SET_DATA, K_WATCH_SET, now);
		s->cycle_replies = 2;
	} else { /* churn: create an ephemeral, close, reconnect */
		snprintf(path, sizeof path, "%s/e%d-%d-%ld", w->cfg->root, w->id, s->gidx, s->churn_n++);
		int32_t xid = next_xid(s);
		zbw_create(&s->out, xid, path, w->value, ZCF_EPHEMERAL);
		fifo_push(s, xid, ZOP_CREATE, K_CHURN_CREATE, now);
		xid = next_xid(s);
		zbw_bare(&s->out, xid, ZOP_CLOSE_SESSION);
		fifo_push(s, xid, ZOP_CLOSE_SESSION, K_CLOSE, now);
		s->cycle_replies = 2;
	}
}

static void refill_populate(struct worker *w, struct nsess *s)
{
	char path[512];
	while (s->count < w->cfg->window) {
		long idx = atomic_fetch_add(&w->sh->pop_next, 1);
		if (idx >= w->cfg->populate)
			return;
		zb_key_path(path, sizeof path, w->cfg->root, idx);
		int32_t xid = next_xid(s);
		zbw_create(&s->out, xid, path, w->value, ZCF_PERSISTENT);
		fifo_push(s, xid, ZOP_CREATE, K_POP, zb_now_ns());
	}
}

static void refill(struct worker *w, struct nsess *s)
{
	if (s->state != S_READY)
		return;
	int ph = atomic_load(&w->sh->phase);
	if (ph == ZB_PH_POPULATE) {
		refill_populate(w, s);
	} else if (ph == ZB_PH_WARMUP || ph == ZB_PH_MEASURE) {
		if (w->cfg->op == ZB_WATCH || w->cfg->op == ZB_CHURN) {
			if (!s->cycle && zb_take_budget(w->sh))
				start_cycle(w, s);
		} else if (w->cfg->rate <= 0 && w->cfg->op != ZB_NONE) {
			uint64_t now = zb_now_ns();
			while (s->count < w->cfg->window && zb_take_budget(w->sh))
				send_op(w, s, zb_pick_op(w->cfg, &w->rng), now);
		}
	} else if (ph >= ZB_PH_DRAIN && s->count == 0 && !s->cycle) {
		zbw_bare(&s->out, next_xid(s), ZOP_CLOSE_SESSION);
		fifo_push(s, s->xid, ZOP_CLOSE_SESSION, K_CLOSE, zb_now_ns());
		s->state = S_CLOSING;
	}
}

/* Open loop: send what is due, stamped with the time it was due. */
static void send_due(struct worker *w)
{
	uint64_t now = zb_now_ns();
	while (w->next_due <= now) {
		struct nsess *s = NULL;
		for (int i = 0; i < w->ns && !s; i++) {
			struct nsess *c = &w->s[(w->rr + i) % w->ns];
			if (c->state == S_READY && c->count < w->cfg->window)
				s = c;
		}
		if (!s || !zb_take_budget(w->sh))
			return; /* behind: the due time stays, so the wait shows as latency */
		w->rr = (int)(s - w->s + 1) % w->ns;
		send_op(w, s, zb_pick_op(w->cfg, &w->rng), w->next_due);
		w->next_due += w->interval_ns;
		sess_flush(s);
	}
}

/* --- receiving ------------------------------------------------------------ */

static int decode_body(struct worker *w, int op, struct jute_reader *r)
{
	union {
		struct jr_get_data_response get;
		struct jr_set_data_response set;
		struct jr_exists_response exists;
		struct jr_get_children_response children;
		struct jr_create_response create;
	} v;
	switch (op) {
	case ZOP_GET_DATA: return jr_get_data_response_decode(r, &v.get);
	case ZOP_SET_DATA: return jr_set_data_response_decode(r, &v.set);
	case ZOP_EXISTS: return jr_exists_response_decode(r, &v.exists);
	case ZOP_GET_CHILDREN: return jr_get_children_response_decode(r, &v.children);
	case ZOP_CREATE: return jr_create_response_decode(r, &v.create);
	default: return 0;
	}
}

static void end_cycle(struct worker *w, struct nsess *s, int err, uint64_t t1)
{
	s->cycle = false;
	count_op(w, s, err, s->cycle_t, t1);
}

static void check_watch_cycle(struct worker *w, struct nsess *s)
{
	if (!s->cycle || s->cycle_replies > 0)
		return;
	if (s->cycle_err != 0)
		end_cycle(w, s, s->cycle_err, zb_now_ns());
	else if (s->cycle_event)
		end_cycle(w, s, 0, s->cycle_ev_t);
	/* else: the event is still due; sweep() bounds the wait */
}

static void on_close_reply(struct worker *w, struct nsess *s)
{
	sess_close_fd(s, S_CLOSED);
	if (!s->cycle)
		return;
	if (s->cycle_err != 0 || atomic_load(&w->sh->phase) >= ZB_PH_DRAIN)
		end_cycle(w, s, s->cycle_err, zb_now_ns());
	else
		sess_open(w, s); /* the churn op ends when the new session is up */
}

static void on_reply(struct worker *w, struct nsess *s, struct fifo_ent e, int err, uint64_t now)
{
	switch (e.kind) {
	case K_POP:
		if (err == ZOK || err == ZNODEEXISTS)
			w->st.populated++;
		else
			w->st.pop_errors++;
		break;
	case K_RUN:
		count_op(w, s, err, e.t_ns, now);
		break;
	case K_WATCH_GET:
	case K_WATCH_SET:
		if (e.kind == K_WATCH_SET)
			s->cycle_t = e.t_ns;
		if (err && !s->cycle_err)
			s->cycle_err = err;
		s->cycle_replies--;
		check_watch_cycle(w, s);
		break;
	case K_CHURN_CREATE:
		if (err && !s->cycle_err)
			s->cycle_err = err;
		break;
	case K_CLOSE:
		on_close_reply(w, s);
		break;
	}
}

static void on_event(struct worker *w, struct nsess *s, struct jute_reader *r, uint64_t now)
{
	struct jr_watcher_event ev;
	if (jr_watcher_event_decode(r, &ev) != 0)
		return;
	if (s->cycle && w->cfg->op == ZB_WATCH && ev.type == ZEV_NODE_DATA_CHANGED && !s->cycle_event) {
		s->cycle_event = true;
		s->cycle_ev_t = now;
		check_watch_cycle(w, s);
	}
}

static void on_handshake(struct worker *w, struct nsess *s, struct jute_reader *r, uint64_t now)
{
	struct jr_connect_response resp;
	if (jr_connect_response_decode(r, &resp) != 0 || resp.time_out <= 0) {
		if (s->cycle)
			end_cycle(w, s, resp.time_out <= 0 ? ZB_E_EXPIRED : ZB_E_DECODE, now);
		if (!s->ever_connected)
			atomic_fetch_add(&w->sh->failed, 1);
		sess_close_fd(s, S_FAILED);
		schedule_reopen(w, s);
		return;
	}
	s->state = S_READY;
	if (!s->ever_connected) {
		s->ever_connected = true;
		atomic_fetch_add(&w->sh->connected, 1);
	}
	if (s->cycle)
		end_cycle(w, s, s->cycle_err, now);
}

/* The connection broke: everything in flight is an error, never dropped. */
static void on_lost(struct worker *w, struct nsess *s)
{
	uint64_t now = zb_now_ns();
	if (s->state == S_HANDSHAKE && !s->ever_connected)
		atomic_fetch_add(&w->sh->failed, 1);
	for (; s->count > 0; s->count--, s->head = (s->head + 1) % s->cap) {
		struct fifo_ent e = s->fifo[s->head];
		if (e.kind == K_POP)
			w->st.pop_errors++;
		else if (e.kind == K_RUN)
			count_op(w, s, ZB_E_CLOSED, e.t_ns, now);
	}
	if (s->cycle)
		end_cycle(w, s, ZB_E_CLOSED, now);
	sess_close_fd(s, s->state == S_CLOSING ? S_CLOSED : S_FAILED);
	schedule_reopen(w, s);
}

static void handle_frame(struct worker *w, struct nsess *s, const uint8_t *p, size_t len)
{
	uint64_t now = zb_now_ns();
	struct jute_reader r;
	jute_reader_init(&r, p, len, 64 << 20, &w->arena);
	if (s->state == S_HANDSHAKE) {
		on_handshake(w, s, &r, now);
		return;
	}
	struct jr_reply_header h;
	if (jr_reply_header_decode(&r, &h) != 0) {
		on_lost(w, s);
		return;
	}
	if (h.xid == ZXID_NOTIFICATION) {
		on_event(w, s, &r, now);
		return;
	}
	if (h.xid == ZXID_PING || h.xid == ZXID_AUTH || h.xid == ZXID_SET_WATCHES)
		return;
	if (s->count == 0 || s->fifo[s->head].xid != h.xid) {
		if (s->count > 0 && s->fifo[s->head].kind == K_RUN)
			count_op(w, s, ZB_E_XID, s->fifo[s->head].t_ns, now);
		on_lost(w, s); /* out of order: the stream cannot be trusted */
		return;
	}
	struct fifo_ent e = s->fifo[s->head];
	s->head = (s->head + 1) % s->cap;
	s->count--;
	int err = h.err;
	if (err == ZOK && decode_body(w, e.op, &r) != 0)
		err = ZB_E_DECODE;
	arena_reset(&w->arena);
	on_reply(w, s, e, err, now);
}

static bool parse_frames(struct worker *w, struct nsess *s)
{
	size_t off = 0;
	unsigned gen = s->gen;
	while (s->in_len - off >= 4) {
		uint32_t len = be32_get(s->in + off);
		if (len > (64u << 20)) {
			on_lost(w, s);
			return false;
		}
		if (s->in_len - off - 4 < len) {
			if (s->in_cap < (size_t)len + 4) {
				s->in_cap = (size_t)len + 4;
				s->in = zrealloc(s->in, s->in_cap);
			}
			break;
		}
		handle_frame(w, s, s->in + off + 4, len);
		if (s->gen != gen)
			return false; /* closed or reconnected: the rest is moot */
		off += 4 + len;
	}
	memmove(s->in, s->in + off, s->in_len - off);
	s->in_len -= off;
	return true;
}

static void on_readable(struct worker *w, struct nsess *s)
{
	for (;;) {
		if (s->in_cap - s->in_len < 4096) {
			s->in_cap *= 2;
			s->in = zrealloc(s->in, s->in_cap);
		}
		ssize_t n = recv(s->fd, s->in + s->in_len, s->in_cap - s->in_len, 0);
		if (n > 0) {
			s->in_len += (size_t)n;
			if (!parse_frames(w, s))
				break;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		on_lost(w, s);
		break;
	}
	refill(w, s);
	sess_flush(s);
}

/* --- the worker loop ------------------------------------------------------ */

static bool all_quiet(const struct worker *w)
{
	for (int i = 0; i < w->ns; i++)
		if (w->s[i].count > 0 || w->s[i].cycle)
			return false;
	return true;
}

static bool all_closed(const struct worker *w)
{
	for (int i = 0; i < w->ns; i++)
		if (w->s[i].state != S_CLOSED && w->s[i].state != S_FAILED)
			return false;
	return true;
}

static void sweep_sessions(struct worker *w, uint64_t now)
{
	uint64_t ping_after = (uint64_t)w->cfg->session_timeout_ms * 1000000ull / 3;
	for (int i = 0; i < w->ns; i++) {
		struct nsess *s = &w->s[i];
		maybe_reopen(w, s, now);
		if (s->state == S_READY && now - s->last_send_ns > ping_after) {
			zbw_bare(&s->out, ZXID_PING, ZOP_PING);
			s->last_send_ns = now;
		}
		if (s->cycle && w->cfg->op == ZB_WATCH && s->cycle_replies == 0 &&
		    now - s->cycle_t > 5000000000ull)
			end_cycle(w, s, ZB_E_NOEVENT, now);
		refill(w, s);
		sess_flush(s);
	}
}

static void sweep(struct worker *w, int ph)
{
	uint64_t now = zb_now_ns();
	sweep_sessions(w, now);
	struct zb_shared *sh = w->sh;
	if (ph == ZB_PH_POPULATE && !w->pop_done && atomic_load(&sh->pop_next) >= w->cfg->populate &&
	    all_quiet(w)) {
		w->pop_done = true;
		atomic_fetch_add(&sh->populated_thr, 1);
	}
	if (w->cfg->max_ops > 0 && !w->idle_done && ph == ZB_PH_MEASURE &&
	    atomic_load(&sh->budget) <= 0 && all_quiet(w)) {
		w->idle_done = true;
		atomic_fetch_add(&sh->idle_thr, 1);
	}
	if (ph == ZB_PH_DRAIN && !w->drain_done && (all_closed(w) || now > w->drain_deadline)) {
		w->drain_done = true;
		atomic_fetch_add(&sh->drained_thr, 1);
	}
}

static void on_phase(struct worker *w, int ph)
{
	uint64_t now = zb_now_ns();
	if (ph == ZB_PH_WARMUP || (ph == ZB_PH_MEASURE && w->next_due == 0))
		w->next_due = now;
	if (ph == ZB_PH_DRAIN)
		w->drain_deadline = now + 5000000000ull;
}

static void worker_wait(struct worker *w, int ph)
{
	struct epoll_event evs[256];
	uint64_t wait_ns = 10000000; /* 10 ms */
	bool open_loop = w->cfg->rate > 0 && (ph == ZB_PH_WARMUP || ph == ZB_PH_MEASURE);
	if (open_loop) {
		uint64_t now = zb_now_ns();
		wait_ns = w->next_due > now ? w->next_due - now : 0;
		if (wait_ns > 10000000)
			wait_ns = 10000000;
	}
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)wait_ns};
	int n = epoll_pwait2(w->epfd, evs, 256, &ts, NULL);
	for (int i = 0; i < n; i++) {
		struct nsess *s = evs[i].data.ptr;
		if (s->fd < 0)
			continue;
		if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			on_readable(w, s);
		else if (evs[i].events & EPOLLOUT)
			sess_flush(s);
	}
	if (open_loop)
		send_due(w);
}

static void prctl_timerslack_min(void)
{
	/* open-loop sends are due at ns granularity; 50 us of default slack would show as latency */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	if (w->cfg->rate > 0)
		prctl_timerslack_min();
	for (int i = 0; i < w->ns; i++)
		sess_open(w, &w->s[i]);
	int last_ph = -1;
	uint64_t last_sweep = 0;
	for (;;) {
		int ph = atomic_load(&w->sh->phase);
		if (ph == ZB_PH_EXIT)
			break;
		if (ph != last_ph) {
			on_phase(w, ph);
			last_ph = ph;
			last_sweep = 0;
		}
		worker_wait(w, ph);
		uint64_t now = zb_now_ns();
		if (now - last_sweep > 10000000) {
			sweep(w, ph);
			last_sweep = now;
		}
	}
	for (int i = 0; i < w->ns; i++)
		sess_close_fd(&w->s[i], S_CLOSED);
	return NULL;
}

/* --- start / finish -------------------------------------------------------- */

static struct worker *g_workers;
static int g_nworkers;

static void worker_init(struct worker *w, struct zb_shared *sh, int id, int nsess, int first)
{
	const struct zb_config *cfg = sh->cfg;
	*w = (struct worker){.sh = sh, .cfg = cfg, .id = id, .ns = nsess};
	w->epfd = epoll_create1(0);
	w->rng = 0x9E3779B97F4A7C15ull * (uint64_t)(id + 1) ^ zb_now_ns();
	arena_init(&w->arena);
	uint8_t *v = zmalloc((size_t)cfg->value_size + 1);
	memset(v, 'v', (size_t)cfg->value_size);
	w->value = (struct jute_bytes){v, cfg->value_size};
	if (cfg->rate > 0)
		w->interval_ns = (uint64_t)(1e9 * cfg->threads / cfg->rate);
	w->s = zcalloc((size_t)nsess, sizeof *w->s);
	for (int i = 0; i < nsess; i++) {
		struct nsess *s = &w->s[i];
		s->w = w;
		s->fd = -1;
		s->gidx = first + i * cfg->threads;
		s->srv = s->gidx % cfg->nservers;
		s->cap = cfg->window + 4;
		s->fifo = zcalloc((size_t)s->cap, sizeof *s->fifo);
		buf_init(&s->out);
		s->in_cap = 65536;
		s->in = zmalloc(s->in_cap);
		s->wkey = cfg->keys > 0 ? s->gidx % cfg->keys : 0;
	}
}

int zb_native_start(struct zb_shared *sh)
{
	const struct zb_config *cfg = sh->cfg;
	g_nworkers = cfg->threads;
	g_workers = zcalloc((size_t)g_nworkers, sizeof *g_workers);
	for (int t = 0; t < g_nworkers; t++) {
		int nsess = cfg->sessions / g_nworkers + (t < cfg->sessions % g_nworkers);
		worker_init(&g_workers[t], sh, t, nsess, t);
	}
	for (int t = 0; t < g_nworkers; t++)
		if (pthread_create(&g_workers[t].thr, NULL, worker_main, &g_workers[t]) != 0)
			return -1;
	return 0;
}

void zb_native_finish(struct zb_stats *total)
{
	for (int t = 0; t < g_nworkers; t++) {
		struct worker *w = &g_workers[t];
		pthread_join(w->thr, NULL);
		zb_stats_merge(total, &w->st);
		for (int i = 0; i < w->ns; i++) {
			zfree(w->s[i].fifo);
			zfree(w->s[i].in);
			buf_free(&w->s[i].out);
		}
		zfree(w->s);
		zfree((void *)w->value.data);
		arena_free(&w->arena);
		close(w->epfd);
	}
	zfree(g_workers);
}
