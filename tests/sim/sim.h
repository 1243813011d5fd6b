/* sim: a deterministic cluster simulator for the consensus core.
 *
 * N peers (src/peer) run in one process on one virtual clock. Everything
 * that happens is an event in one queue ordered by (time, sequence), and
 * every random choice comes from one seeded PRNG, so a seed replays a run
 * exactly. The world around each peer is simulated:
 *  - network (sim_net.c): election messages may be dropped, duplicated,
 *    delayed and therefore reordered; quorum connections are FIFO streams
 *    that can break (TCP), and partitions (symmetric, asymmetric, bridge,
 *    leader isolation) silence links;
 *  - disk (sim_disk.c): the zab_store seam over a model that keeps what was
 *    fsynced and, on a crash, keeps, drops or tears what was not; it can
 *    fill up;
 *  - application (sim_app.c): a small key-value register machine whose
 *    history is hash-chained, so two replicas compare in O(1);
 *  - clients (clients.c): write, CAS, read and sync+read through any server;
 *  - checkers (checkers.c): the invariants, after every event.
 * Swarm mode (swarm.c) draws a fault mix per seed; scenarios.c holds the
 * hand-written scenarios. */
#ifndef ZABD_SIM_H
#define ZABD_SIM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peer/peer.h"

#define SIM_MAX_NODES 10
#define SIM_MAX_CLIENTS 8
#define SIM_KEYS 4

/* ---- PRNG (splitmix64 / xoshiro256**) ---- */
struct sim_rng { uint64_t s[4]; };
void rng_seed(struct sim_rng *r, uint64_t seed);
uint64_t rng_next(struct sim_rng *r);
uint64_t rng_below(struct sim_rng *r, uint64_t n);   /* [0, n) */
bool rng_chance(struct sim_rng *r, double p);
double rng_unit(struct sim_rng *r);

/* ---- application: key/value registers with a hash-chained history ---- */
enum { TXN_WRITE = 1, TXN_CAS = 2, TXN_NOOP = 3 };
struct sim_txn {          /* the opaque txn bytes, as the sim encodes them */
	uint8_t op, key;
	int64_t value, expect;
	uint32_t client, opid;
};
#define SIM_TXN_BYTES 26
void sim_txn_encode(const struct sim_txn *t, uint8_t out[SIM_TXN_BYTES]);
int sim_txn_decode(const uint8_t *p, size_t n, struct sim_txn *t);
/* The txn as the core carries and the store logs it, like the server's: a
 * ZooKeeper TxnHeader {clientId, cxid, zxid, time 0, type setData} then
 * the sim record (the store checks the zxid at byte 12; the record stays
 * opaque to it). The leader wraps with the zxid peer_submit will assign. */
#define SIM_HDR_BYTES 32
#define SIM_LOGGED_BYTES (SIM_HDR_BYTES + SIM_TXN_BYTES)
void sim_txn_wrap(uint64_t zxid, const struct sim_txn *t, uint8_t out[SIM_LOGGED_BYTES]);
int sim_txn_unwrap(const uint8_t *p, size_t n, uint64_t *zxid, struct sim_txn *t);

struct sim_hist { uint64_t zxid; uint64_t chain; struct sim_txn txn; bool ok; };
struct sim_app {
	int64_t kv[SIM_KEYS];
	struct sim_hist *h;
	size_t n, cap;
	uint64_t chain;
};
void app_init(struct sim_app *a);
void app_free(struct sim_app *a);
/* Returns the CAS outcome (true for writes). */
bool app_apply(struct sim_app *a, uint64_t zxid, const struct sim_txn *t);
void app_snapshot(const struct sim_app *a, struct buf *out);
int app_restore(struct sim_app *a, const uint8_t *p, size_t n);
uint64_t app_digest(const struct sim_app *a);
/* Number of history entries with zxid <= z. */
size_t app_prefix_len(const struct sim_app *a, uint64_t z);

/* ---- disk ---- */
enum sim_crash_mode { CRASH_KEEP_ALL, CRASH_DROP_ALL, CRASH_KEEP_PREFIX, CRASH_TEAR };
/* One server's disk: the server's store (store/zstore.h) over its own
 * crash-prone in-memory file system (store/vfs_mem.h). */
struct vfs;
struct zstore;
struct zstore_job;
struct sim_disk {
	struct vfs *vfs;
	struct zstore *zs;          /* this incarnation's store; NULL while down */
	struct zstore_job *job;     /* the log job whose EV_PERSISTED is pending */
	bool purge;                 /* autopurge: keep 5 snapshots and the logs they need */
	uint64_t n_log_reads;       /* DIFFs read from this log */
	size_t capacity;            /* bytes; 0 = unlimited */
	uint32_t gen;               /* bumped by a crash: stale fsync completions are ignored */
	uint64_t n_fsyncs;
};

/* ---- network ---- */
struct sim_conn {
	uint64_t id;
	int a, b;                   /* node indexes: a = learner (initiator), b = leader */
	uint32_t inc_a, inc_b;      /* incarnations when it was opened */
	bool alive;
	uint64_t last_at[2];        /* FIFO: last delivery time per direction (0: a->b) */
};

struct sim_net_params {
	double p_drop_vote, p_dup_vote, p_break_conn, p_slow;
	uint32_t lat_min_ms, lat_max_ms, slow_ms;
	uint32_t fsync_max_ms;      /* an fsync takes 1..fsync_max_ms */
};

/* ---- events ---- */
enum sim_ev_type { EV_VOTE, EV_PACKET, EV_DISCONNECT, EV_PERSISTED, EV_TICK, EV_RESTART,
		   EV_REQUEST, EV_CLIENT, EV_FAULT };
struct sim_ev {
	uint64_t at, seq;
	enum sim_ev_type type;
	int node, from;
	uint32_t inc;               /* target incarnation (or disk gen for EV_PERSISTED) */
	uint64_t conn, zxid;
	uint8_t *data;
	size_t n;
};

/* ---- clients and history ---- */
enum sim_op_kind { OP_WRITE, OP_CAS, OP_READ, OP_SYNC_READ };
struct sim_client {
	int node;                   /* server the session is attached to */
	uint32_t next_opid;
	bool busy;
	enum sim_op_kind kind;
	uint32_t opid;
	struct sim_txn txn;
	uint64_t invoked_at, deadline;
	uint64_t max_acked_at_invoke;  /* global: highest acked write zxid when invoked */
	uint64_t last_seen;         /* highest zxid this client has seen */
	int64_t last_read[SIM_KEYS];
	uint64_t sync_token;
	uint32_t wake;              /* only the newest scheduled wake-up counts */
};

struct sim_node {
	int idx;
	uint64_t sid;
	bool observer;
	bool up;
	uint32_t inc;
	struct peer peer;
	struct sim_disk disk;
	struct sim_app app;
	bool fatal;                 /* env->fatal this step: crash after it */
	/* Completed applies that may answer a client once committed. */
	struct { uint32_t client, opid; uint64_t zxid; bool ok; } cand[64];
	int n_cand;
	uint64_t tick_phase;
};

struct sim_config {
	int n_voters, n_observers;
	uint32_t tick_ms, init_limit, sync_limit, commit_log_count, snap_count;
	double snap_size_factor;    /* zookeeper.snapshotSizeFactor */
	bool purge;                 /* disks autopurge old snapshots and logs */
	unsigned faults;            /* zab_fault bits (faulty build only) */
	int n_clients;
	uint64_t client_period_ms;  /* mean think time between ops */
	enum sim_crash_mode crash_mode;
	struct sim_net_params net;
};

#define SIM_FAULT_KINDS 16
struct sim_stats {
	uint64_t faults, committed, elections, acked, events;
	uint64_t by_kind[SIM_FAULT_KINDS];      /* swarm fault kinds injected */
	uint64_t syncs[4];                      /* learner syncs by enum zab_sync_mode */
	uint64_t txnlog_diffs, trunc_refused, sync_reads, crashes;
};

struct sim {
	struct sim_config cfg;
	struct sim_rng rng;
	uint64_t seed;
	uint64_t now;
	uint64_t seq;
	struct sim_ev *q;           /* binary heap */
	size_t nq, capq;
	int n;                      /* nodes */
	struct sim_node node[SIM_MAX_NODES];
	uint64_t voters[SIM_MAX_NODES], observers[SIM_MAX_NODES];
	char config_text[1024];
	struct sim_conn *conns;
	size_t nconns, capconns;
	bool block[SIM_MAX_NODES][SIM_MAX_NODES];   /* block[a][b]: a cannot reach b */
	struct sim_client client[SIM_MAX_CLIENTS];
	bool clients_on;
	bool trace;                 /* print a trace line per event */
	/* trace capture for scenario tests */
	char **lines;
	size_t nlines, caplines;
	bool capture;
	/* checker state */
	struct sim_hist *G;         /* the committed history seen so far */
	size_t nG, capG;
	struct { int64_t epoch; uint64_t sid; } leaders[256];
	int nleaders;
	uint64_t max_acked;         /* highest acked write zxid */
	struct { uint32_t client, opid; uint64_t zxid; } *acked;
	size_t nacked, capacked;
	char violation[512];
	struct sim_stats st;
	int restart_min_ms, restart_max_ms;
};

/* sim.c */
void sim_init(struct sim *s, const struct sim_config *cfg, uint64_t seed);
void sim_free(struct sim *s);
void sim_schedule(struct sim *s, struct sim_ev ev);
bool sim_step(struct sim *s);                     /* false when the queue is empty */
/* Run until `until` virtual ms, a violation, or `stop(s)` returns true. */
void sim_run(struct sim *s, uint64_t until, bool (*stop)(struct sim *s));
void sim_crash(struct sim *s, int i);
void sim_restart(struct sim *s, int i);
void sim_tracef(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sim_leader(const struct sim *s);              /* index of an established leader, or -1 */
bool sim_converged(struct sim *s, const bool *which);
int sim_submit(struct sim *s, int node, const struct sim_txn *t);

/* sim_net.c */
void net_send_vote(struct sim *s, int from, int to, const uint8_t *p, size_t n);
uint64_t net_connect(struct sim *s, int from, int to);
void net_send(struct sim *s, int from, uint64_t conn, const uint8_t *p, size_t n);
void net_close(struct sim *s, int from, uint64_t conn, bool notify_self);
void net_node_down(struct sim *s, int i);
void net_heal(struct sim *s);
void net_isolate(struct sim *s, int i, bool in, bool out);
/* Cut node i off; its peers' ends of its connections are reset (they
 * notice at once), its own ends are not (it notices by timeout). */
void net_half_open(struct sim *s, int i);
struct sim_conn *net_conn(struct sim *s, uint64_t id);

/* sim_disk.c */
void disk_init(struct sim_disk *d, uint64_t seed);
/* Bytes in the disk's files; the newest snapshot's zxid; how many
 * snapshots; the last log entry's zxid (0 if none). */
size_t disk_used(struct sim_disk *d);
uint64_t disk_newest_snap(struct sim_disk *d);
int disk_n_snaps(struct sim_disk *d);
uint64_t disk_log_end(struct sim_disk *d);
void disk_free(struct sim_disk *d);
void disk_crash(struct sim *s, struct sim_disk *d);
struct zab_store disk_store(struct sim_node *nd, struct sim *s);
void disk_on_persisted_event(struct sim *s, struct sim_node *nd, uint32_t gen, uint64_t upto);

/* clients.c */
void clients_start(struct sim *s);
void client_event(struct sim *s, int c, uint32_t wake);
void clients_on_node_down(struct sim *s, int node);
void clients_after_step(struct sim *s);
void client_sync_done(struct sim *s, int node, uint64_t token);
/* Scenarios: client c, attached to `node`, starts one operation of this
 * kind now. false if it could not start (busy, or the server refused). */
bool client_op(struct sim *s, int c, int node, enum sim_op_kind kind);

/* checkers.c */
void check_step(struct sim *s);
void check_client_ack(struct sim *s, const struct sim_client *c, uint64_t zxid, bool ok);
void check_read(struct sim *s, const struct sim_client *c, int key, int64_t value, uint64_t zxid,
		bool after_sync);
void check_final(struct sim *s, const bool *which);
void violation(struct sim *s, const char *inv, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* swarm.c */
struct swarm_result { bool ok; struct sim_stats st; char violation[512]; };
void swarm_config(uint64_t seed, struct sim_config *cfg);
const char *swarm_fault_name(int kind);     /* NULL past the last kind */
struct swarm_result swarm_run(uint64_t seed, unsigned faults, bool trace);

/* scenarios.c */
int scenarios_run(const char *name, bool trace, unsigned faults);
const char *scenarios_violation(void);  /* the last scenario's checker violation, or "" */
void scenarios_list(void);

#endif
