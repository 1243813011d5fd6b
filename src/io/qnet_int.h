/* qnet internals shared by qnet.c (common, quorum port, timers) and
 * qnet_elect.c (election port). */
#ifndef ZABD_IO_QNET_INT_H
#define ZABD_IO_QNET_INT_H
#include <netinet/in.h>
#include <sys/socket.h>

#include "base/hashmap.h"
#include "io/qnet.h"
#include "zab/qstream.h"

enum { C_DIALING, C_WAIT_INITIAL, C_OPEN, C_CLOSING };

/* One election connection (kept, or on its way to be judged). */
struct econn {
	struct qnet *q;          /* first: handle->data points here (qnet_alloc) */
	uv_tcp_t tcp;
	uv_timer_t timer;        /* connect / initial-message timeout */
	uv_connect_t creq;
	struct epeer *p;         /* NULL for an accepted one until its initial message */
	struct econn *next;      /* qnet's list of every econn */
	int state;
	int handles;             /* open uv handles; freed at 0 */
	bool outgoing;
	bool writing;            /* a frame is with the kernel */
	bool fresh;              /* nothing sent yet: re-send the last message */
	bool close_after_write;  /* we lost the sid contest: initial message only */
	struct buf rbuf;
};

/* Another ensemble member as the election sees it. */
struct epeer {
	uint64_t sid;
	struct sockaddr_storage eaddr, qaddr;
	struct econn *conn;      /* the kept connection */
	struct econn *dialing;
	struct buf pending;      /* send queue of capacity 1 */
	bool has_pending;
	struct buf last;         /* the last message handed to a connection */
	bool has_last;
	uint64_t retry_at;
	uint32_t backoff_ms;
};

struct qconn {
	struct qnet *q;          /* first: handle->data points here (qnet_alloc) */
	uv_tcp_t tcp;
	uv_timer_t timer;        /* connect timeout */
	uv_connect_t creq;
	uint64_t id;
	uint64_t sid;            /* the remote's, once known (0 before) */
	int state;
	int handles;
	struct qstream in;
	struct buf outq;         /* what the core sent while connecting */
	struct buf pend;         /* sent during this loop turn, written at its end */
	bool dirty;              /* in qnet.dirty */
};

enum defer_kind { D_SELF_VOTE, D_DISCONNECT };
struct defer_ev {
	enum defer_kind kind;
	uint64_t conn;
	uint8_t *data;
	size_t n;
};

struct qnet {
	uv_loop_t *loop;
	struct qnet_config cfg;
	struct qnet_sink sink;
	struct zab_env app;
	bool started, stopping;
	bool elisten_on, qlisten_on;  /* initialised handles */
	struct epeer peers[ZAB_MAX_SERVERS];
	int n_peers;
	struct sockaddr_storage my_eaddr, my_qaddr;
	char my_eaddr_text[300];
	uv_tcp_t elisten, qlisten;
	uv_timer_t tick, defer;
	int handles;             /* of the above that are open */
	uint64_t tick_due;
	uint64_t next_conn;
	struct u64map qconns;
	struct econn *econns;
	struct defer_ev *dq;
	size_t ndq, capdq;
	struct qnet_stats st;
	/* Quorum writes are gathered per connection for one loop turn and
	 * written together (a leader sends a PROPOSAL and a COMMIT per txn to
	 * every follower: one write each would cost a syscall per packet). */
	uv_check_t flush_check;  /* after the turn's I/O callbacks */
	uv_idle_t flush_idle;    /* keeps the turn from blocking in poll meanwhile */
	uint64_t *dirty;         /* conn ids with pend bytes */
	size_t ndirty, capdirty;
	char rbuf[65536];
};

uint64_t qnet_now(const struct qnet *q);
void qnet_after(struct qnet *q);
void qnet_write(struct qnet *q, uv_stream_t *s, const uint8_t *p, size_t n, void *arg,
		void (*done)(void *arg, int status));
void qnet_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b);

/* qnet_elect.c */
void qnet_elect_send(struct qnet *q, uint64_t to, const uint8_t *p, size_t n);
int qnet_elect_listen(struct qnet *q, struct buf *errmsg);
void qnet_elect_retry(struct qnet *q, uint64_t now);
uint64_t qnet_elect_next_retry(const struct qnet *q);
void qnet_elect_stop(struct qnet *q);
void qnet_elect_free(struct qnet *q);

#endif
