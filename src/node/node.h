/* node: one zabd server as a pure object. It owns the replicated state
 * (tree, sessions, watches — request/state.h), the client connections as
 * the protocol sees them, and the pipeline every write takes:
 *
 *   frame → prep (zxid, txn) → persist (the shell's log) → node_persisted()
 *         → commit (quorum of one, standalone) → apply → reply
 *
 * Standalone is an ensemble of one; the same path will serve a leader.
 * Replies to one connection leave in request order: a request that arrives
 * while an earlier write of the same connection is in flight waits in the
 * connection's queue and runs when that write is applied (ZooKeeper's
 * CommitProcessor rule); other connections are not held up.
 *
 * The node never touches a socket, file or clock: the shell passes `now_ms`
 * (wall clock) into every call, moves frames in, and after every call
 * drains node_next_output() and node_take_persist(). */
#ifndef ZABD_NODE_NODE_H
#define ZABD_NODE_NODE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/hashmap.h"
#include "request/state.h"

struct nreq;

enum conn_state { CONN_NEW, CONN_HANDSHAKE, CONN_OPEN };

struct conn_stats {
	uint64_t received, sent;
	int64_t est_ms;           /* when the session was established here */
	int32_t last_cxid;
	int64_t last_zxid;
	int32_t last_op;
	int64_t last_resp_ms;
	int64_t last_latency_ms, min_latency_ms, max_latency_ms, sum_latency_ms;
	uint64_t n_latency;
};

struct node_conn {
	uint64_t id;
	enum conn_state state;
	int64_t session_id;
	int32_t timeout_ms;
	int64_t handshake_zxid;     /* createSession txn we wait for */
	bool old_client;            /* no readOnly byte in the ConnectRequest */
	bool close_after_flush;
	bool dirty;
	bool dead;                  /* closing: ignore further frames */
	bool null_watch;            /* see struct caller */
	bool stop_reading;          /* an Unimplemented or failed auth is queued: read
				     * nothing more, but answer what came before it */
	struct buf out;
	struct auth_id *ids;
	size_t n_ids, cap_ids;
	char remote_ip[64];
	uint16_t remote_port;
	int64_t opened_ms;
	struct nreq *qhead, *qtail; /* requests waiting behind an in-flight write */
	uint32_t n_queued;
	struct nreq *held_head, *held_tail; /* frames that arrived during the handshake */
	struct conn_stats st;
	struct node_conn *dirty_next;
};

/* A txn handed to the shell to make durable; bytes are node-owned until
 * the txn is applied (after node_persisted covers it). */
struct node_txn {
	int64_t zxid;
	struct buf bytes;  /* TxnHeader + record, as logged */
	struct node_txn *next;
};

/* The node's part in an ensemble (node/ensemble.c). Standalone is the
 * default and an ensemble of one. */
enum node_role { NODE_STANDALONE = 0, NODE_LOOKING, NODE_LEADING, NODE_FOLLOWING, NODE_OBSERVING };

/* A client request a learner sends to the leader (REQUEST: session, cxid,
 * type, body); the shell takes them with node_take_forward(). Type
 * NODE_FWD_REVALIDATE is a reattaching session to revalidate (REVALIDATE,
 * cxid = the timeout). */
#define NODE_FWD_REVALIDATE (-100)
struct node_fwd {
	struct node_fwd *next;
	int64_t session;
	int32_t cxid;
	int32_t type;
	uint64_t conn;     /* sync: the connection to answer (node_sync_done) */
	uint32_t len;
	uint32_t auth_len; /* the client's ids as a jute vector<Id>, after the body */
	uint8_t body[];    /* len bytes of request body, then auth_len bytes */
};

/* What mntr reports of the member's part in the ensemble; the shell
 * fills it from the consensus core (the node does not see the core). */
struct quorum_stats {
	bool member;               /* zk_peer_state and zk_quorum_size are printed */
	int quorum_size;           /* voters */
	int64_t leader_sid;        /* whom we follow (observers: their learner master) */
	int learners;              /* leader: learner connections */
	int synced_followers;      /* leader: followers past NEWLEADER */
	int synced_observers;
	int pending_syncs;
	int64_t leader_since_ms;   /* leader: when it was established (wall clock) */
	/* leader: bytes of the txns proposed since it leads (-1 = none yet) */
	int64_t proposal_last, proposal_min, proposal_max;
};

struct server_stats {
	uint64_t packets_received, packets_sent;
	int64_t min_latency_ms, max_latency_ms, sum_latency_ms;
	uint64_t n_latency;
	int64_t start_ms;
};

struct node {
	struct zconfig cfg;
	struct zstate st;
	struct u64map conns;        /* id -> node_conn */
	struct u64map write_owner;  /* zxid -> conn id, for replies */
	uint64_t next_conn_id;
	struct node_conn *dirty_head;
	struct node_txn *inflight_head, *inflight_tail;  /* prepared, not applied, zxid order */
	struct node_txn *persist_next;                   /* first not yet taken by the shell */
	uint32_t n_inflight;
	int64_t next_container_check_ms;
	struct server_stats stats;
	struct quorum_stats quorum;
	struct buf reply_scratch;
	bool fatal;                 /* a txn could not be applied: stop serving */
	/* ensemble (node/ensemble.c) */
	enum node_role role;
	struct node_fwd *fwd_head, *fwd_tail;  /* learner: to forward, in order */
	struct u64map handshaking;  /* learner: session id -> conn awaiting its createSession or
				     * its REVALIDATE answer */
	struct u64map touched;      /* learner: session id -> timeout, active since the last PING */
};

void node_init(struct node *n, const struct zconfig *cfg, int64_t now_ms);
void node_free(struct node *n);

/* Connections. remote_ip is the peer's address, used for the ip scheme. */
uint64_t node_conn_open(struct node *n, const char *remote_ip, uint16_t remote_port, int64_t now_ms);
/* One whole frame (without its 4-byte length), already checked against
 * jute.maxbuffer by the shell. */
void node_conn_frame(struct node *n, uint64_t conn, const uint8_t *frame, size_t len, int64_t now_ms);
void node_conn_closed(struct node *n, uint64_t conn, int64_t now_ms);
struct node_conn *node_conn_get(struct node *n, uint64_t conn);

/* Outputs: connections with bytes to write (or to close). The buffer is
 * node-owned; the shell takes the bytes with buf_steal(). */
bool node_next_output(struct node *n, uint64_t *conn, struct buf **out, bool *close_after);

/* Persistence: txns prepared since the last call, in zxid order (borrowed). */
struct node_txn *node_take_persist(struct node *n);
/* Everything up to zxid is durable: commit, apply, reply. */
void node_persisted(struct node *n, int64_t zxid, int64_t now_ms);

/* Timers: session expiry and the container/TTL reaper. */
void node_tick(struct node *n, int64_t now_ms);
int64_t node_next_deadline(const struct node *n);

int64_t node_last_zxid(const struct node *n);

/* --- ensemble.c: the node inside a ZAB ensemble ------------------------
 * Leader: writes are prepared here as in standalone; the shell hands each
 * txn of node_take_persist() to the replication core (peer_submit, which
 * must give it the same zxid) and calls node_commit() when it commits.
 * Learner: client writes, session creation and sync go to the leader
 * (node_take_forward); committed txns arrive through node_commit() and
 * the one a local client waits for is answered. Reads are local always. */
void node_set_role(struct node *n, enum node_role role, int64_t epoch, int64_t now_ms);
bool node_is_learner(const struct node *n);
/* A committed txn (or one replayed at load): apply it, answer its client. */
int node_commit(struct node *n, int64_t zxid, const uint8_t *txn, size_t len, int64_t now_ms);
/* Leader: a learner's forwarded REQUEST. */
/* auth: the REQUEST's authinfo, a jute vector<Id> (NULL or -1: none). */
void node_forwarded(struct node *n, int64_t session, int32_t cxid, int32_t type, const uint8_t *body,
		    size_t len, const uint8_t *auth, size_t auth_len, int64_t now_ms);
/* Learner: requests to send to the leader, in order (free with zfree). */
struct node_fwd *node_take_forward(struct node *n);
/* Learner: the leader completed the sync forwarded for this connection. */
void node_sync_done(struct node *n, uint64_t conn, int64_t now_ms);
/* Leader: is this session alive (a learner's REVALIDATE)? Touches it.
 * Learner: the leader's answer for a reattaching client. */
bool node_revalidate(struct node *n, int64_t session, int32_t timeout_ms, int64_t now_ms);
void node_revalidated(struct node *n, int64_t session, bool valid, int64_t now_ms);
/* Learner: the touch table for a PING reply; leader: apply one. */
void node_take_touches(struct node *n, struct buf *out);
void node_apply_touches(struct node *n, const uint8_t *p, size_t len, int64_t now_ms);
/* A quorum member's /zookeeper/config holds its own membership text, set
 * locally (not by a txn) whenever it starts serving, as Java's
 * initConfigInZKDatabase: data = text, version -1, mzxid = the config
 * version, mtime = now. The node is outside the tree digest. */
void node_set_config_node(struct node *n, const char *text, size_t len, int64_t config_version, int64_t now_ms);
/* The state as the SNAP stream (§5.4.5 without the signature), and back. */
void node_snapshot_stream(struct node *n, struct buf *out);
int node_restore_stream(struct node *n, int64_t zxid, const uint8_t *p, size_t len, int64_t now_ms);

#endif
