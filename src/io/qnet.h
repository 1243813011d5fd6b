/* qnet: the network shell of one ensemble member — the election port and
 * the quorum port over TCP with libuv, byte-compatible with ZooKeeper 3.8
 * (zookeeper-protocol.md §5.2, §5.4.1), and the timer that ticks the peer.
 *
 * It owns the sockets, the per-peer election send queues and the quorum
 * connections. It implements the network half of `struct zab_env`
 * (send_vote, connect, send, close) and turns what arrives into calls on a
 * sink (normally a struct peer, see qnet_peer_sink):
 *
 *  Election port (QuorumCnxManager): we listen on our election address and
 *  connect to a server when we have a notification for it (and retry with
 *  back-off while one is pending). At most one connection per pair is kept,
 *  the one opened by the larger sid: a connection we open to a larger sid
 *  only carries our initial message (then we close it and wait for the call
 *  back); one from a smaller sid is closed and answered with our own. Per
 *  server the send queue holds one message (a newer one replaces an unsent
 *  older one), and a (re)started connection with nothing queued re-sends
 *  the last message. A notification to ourselves is looped back after the
 *  current event.
 *
 *  Quorum port: we listen on our quorum address (and accept only while the
 *  sink says it leads, see qnet_sink.leading) and a learner's
 *  env->connect opens a connection to the leader's quorum address from the
 *  config. Each connection's bytes are split into QuorumPackets (and a SNAP
 *  with its snapshot stream) by zab/qstream; bad input closes the connection
 *  and reports it as a disconnect.
 *
 *  The SNAP signature is ours: the core's snapshot stream (env->snapshot,
 *  env->restore, store->snap_install; node_snapshot_stream) ends with the
 *  path "/". On a leader-side connection a send() that starts with a SNAP
 *  packet (which zab/sync.c sends together with the whole stream and
 *  nothing else) gets the ustring "BenWasHere" appended; on a learner-side
 *  one the signature is checked and stripped before the core sees it.
 *
 * Nothing here calls the sink from inside an env call (the peer forbids
 * it): loop-backs and failures found during a send are delivered from a
 * zero-delay timer. The connections the core closes itself are not
 * reported back to it. Time is cfg.now_ms() (monotonic by default), the
 * same clock the caller must use for its own peer calls. The process must
 * ignore SIGPIPE (main.c does). */
#ifndef ZABD_IO_QNET_H
#define ZABD_IO_QNET_H
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/buf.h"
#include "zab/zab.h"

struct peer;
struct zoocfg;

/* One ensemble member (a server.N line). */
struct qnet_server {
	uint64_t sid;
	char host[256];     /* IP literal or name (resolved once at qnet_init) */
	int quorum_port;
	int election_port;
	bool observer;
};

struct qnet_config {
	uint64_t my_sid;
	struct qnet_server servers[ZAB_MAX_SERVERS];
	int n_servers;
	uint32_t tick_ms;              /* tickTime: the sink is ticked every tick_ms / 2 */
	uint32_t cnx_timeout_ms;       /* election connect timeout (zookeeper.cnxTimeout, 5000) */
	uint32_t initial_timeout_ms;   /* initial-message read timeout (tickTime × syncLimit) */
	uint32_t quorum_connect_timeout_ms;  /* learner → leader (tickTime × initLimit) */
	uint32_t retry_min_ms, retry_max_ms; /* election reconnect back-off (100, 5000) */
	int32_t max_buffer;            /* jute.maxbuffer + extrasize */
	uint64_t max_snap;             /* largest SNAP stream accepted */
	uint64_t max_write_backlog;    /* bytes queued on one quorum connection before it is dropped */
	bool listen_all_ips;           /* quorumListenOnAllIPs */
	int64_t (*now_ms)(void);       /* NULL = clock_monotonic_ms */
};

/* Where arriving traffic goes. */
struct qnet_sink {
	void *ctx;
	void (*vote)(void *ctx, uint64_t from_sid, const uint8_t *msg, size_t n, uint64_t now_ms);
	void (*packet)(void *ctx, uint64_t conn, uint64_t from_sid, const uint8_t *msg, size_t n,
		       uint64_t now_ms);
	void (*disconnect)(void *ctx, uint64_t conn, uint64_t now_ms);
	void (*tick)(void *ctx, uint64_t now_ms);
	/* Optional: the earliest time the sink wants its next tick (the FLE's
	 * 200 ms finalize wait is shorter than tickTime / 2); UINT64_MAX = none. */
	uint64_t (*deadline)(void *ctx);
	/* Optional: is this member leading? Only a leader accepts learners
	 * (Java listens on the quorum port only then): a connection accepted
	 * otherwise is closed at once, as a refused connect, so the learner
	 * retries instead of waiting out initLimit. NULL = always accept. */
	bool (*leading)(void *ctx);
	/* Optional: called after every delivery (the server checks role changes). */
	void (*after)(void *ctx, uint64_t now_ms);
};

struct qnet;

/* Defaults for everything but my_sid and the servers. */
void qnet_config_defaults(struct qnet_config *c);
/* From a parsed zoo.cfg: servers, tickTime, cnxTimeout, quorumCnxnTimeoutMs
 * (else tickTime × syncLimit), initLimit, jute limits. 0 or -1 + errmsg. */
int qnet_config_from_zoocfg(struct qnet_config *c, const struct zoocfg *zc, uint64_t my_sid,
			    struct buf *errmsg);

/* Resolve the addresses; no socket yet. NULL + errmsg on a bad config. */
struct qnet *qnet_new(uv_loop_t *loop, const struct qnet_config *cfg, struct buf *errmsg);
/* The env to give peer_init: send_vote/connect/send/close are qnet's, the
 * rest forwards to `app` (apply, snapshot, restore, request, ...). Messages
 * sent before qnet_start are kept and go out once it runs. */
void qnet_env(struct qnet *q, const struct zab_env *app, struct zab_env *out);
/* Listen on our election and quorum ports, start the tick timer and the
 * connections. 0 or -1 + errmsg (e.g. port in use). */
int qnet_start(struct qnet *q, const struct qnet_sink *sink, struct buf *errmsg);
/* The sink for a struct peer (ticks it early for the FLE's deadlines). */
struct qnet_sink qnet_peer_sink(struct peer *p);
/* Tell qnet the sink's deadline may have moved (after the caller itself
 * called into the peer, e.g. peer_submit). */
void qnet_rearm(struct qnet *q);
/* Close every handle; after the loop has run dry, qnet_free. */
void qnet_stop(struct qnet *q);
void qnet_free(struct qnet *q);

/* Counters, for tests and mntr-style reporting. */
struct qnet_stats {
	uint64_t votes_in, votes_out, votes_replaced, votes_resent;
	uint64_t elect_dials, elect_accepts, elect_dropped_smaller;
	uint64_t packets_in, bytes_out, quorum_conns, bad_input;
};
void qnet_get_stats(const struct qnet *q, struct qnet_stats *out);
/* Is the election connection to sid up (kept, able to send)? */
bool qnet_election_connected(const struct qnet *q, uint64_t sid);

#endif
