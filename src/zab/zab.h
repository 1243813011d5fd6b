/* zab: ZooKeeper's atomic broadcast (ZAB 1.0 as ZooKeeper 3.8 speaks it on
 * the quorum port, with the learner-side sync ordering of the fixed 3.9.3)
 * as a pure state machine.
 *
 * It owns one server's replication state: acceptedEpoch and currentEpoch,
 * the in-memory window of the txn log, the commit point, and the role state
 * of a leader (learner handlers, outstanding proposals and their ACK sets)
 * or of a learner (follower or observer: discovery, sync, broadcast). It
 * never touches a socket, file or clock: packets, fsync completions and
 * ticks come in as calls, and everything it does goes out through
 * `struct zab_env` (network, application) and `struct zab_store` (disk).
 *
 * The replicated state machine is opaque: a txn is bytes with a zxid;
 * committed txns are handed to env->apply in zxid order; SNAP serialises the
 * application through env->snapshot and env->restore.
 *
 * Rules the code keeps (they are the invariants of docs/design.md):
 *  1. acceptedEpoch / currentEpoch are durable (store->epoch_save returned)
 *     before anything is sent that depends on them.
 *  2. An ACK for a txn (the leader's own ACK included) is sent only after
 *     store reported the txn durable (zab_on_persisted).
 *  3. A learner ACKs NEWLEADER only after every txn it received during sync
 *     is durable and currentEpoch is written; currentEpoch is written only
 *     after those txns are durable (ZOOKEEPER-4394/-4643/-4646/-4685).
 *  4. A learner refuses a proposal stream with a hole (ZOOKEEPER-4925).
 *  5. A proposal commits on a quorum of durable ACKs and only after its
 *     predecessor committed.
 *  6. A SYNC is answered only after everything proposed before it
 *     committed and a quorum answered a PING or PROPOSAL sent after it
 *     arrived (ZOOKEEPER-1675: a deposed leader must not answer).
 *  7. A learner is never DIFFed across a gap: the on-disk log is read only
 *     as one contiguous run that ends where the in-memory window starts;
 *     a TRUNC the store cannot honour changes nothing and the learner gets
 *     SNAP next time. */
#ifndef ZABD_ZAB_ZAB_H
#define ZABD_ZAB_ZAB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define ZXID(e, c) (((uint64_t)(e) << 32) | (uint64_t)(uint32_t)(c))
#define ZXID_EPOCH(z) ((uint64_t)(z) >> 32)
#define ZXID_COUNTER(z) ((uint64_t)(z) & 0xffffffffu)

#define ZAB_MAX_SERVERS 16
#define ZAB_PROTOCOL_VERSION 0x10000

/* Leader.java packet type constants (§5.4.2). */
enum zab_packet_type {
	ZAB_REQUEST = 1, ZAB_PROPOSAL = 2, ZAB_ACK = 3, ZAB_COMMIT = 4, ZAB_PING = 5,
	ZAB_REVALIDATE = 6, ZAB_SYNC = 7, ZAB_INFORM = 8, ZAB_COMMITANDACTIVATE = 9,
	ZAB_NEWLEADER = 10, ZAB_FOLLOWERINFO = 11, ZAB_UPTODATE = 12, ZAB_DIFF = 13,
	ZAB_TRUNC = 14, ZAB_SNAP = 15, ZAB_OBSERVERINFO = 16, ZAB_LEADERINFO = 17,
	ZAB_ACKEPOCH = 18, ZAB_INFORMANDACTIVATE = 19,
};
const char *zab_packet_name(int type);

enum zab_role { ZAB_NONE, ZAB_LEADING, ZAB_FOLLOWING, ZAB_OBSERVING };
enum zab_epoch_file { ZAB_ACCEPTED_EPOCH, ZAB_CURRENT_EPOCH };
enum zab_sync_mode { ZAB_SYNC_NONE, ZAB_SYNC_DIFF, ZAB_SYNC_TRUNC, ZAB_SYNC_SNAP };

/* Test-only deliberate faults, to prove the simulator's checkers bite.
 * Compiled in only with -DZABD_TEST_FAULTS (the sim's "faulty" build). */
enum zab_fault {
	ZAB_FAULT_NONE = 0,
	ZAB_FAULT_ACK_BEFORE_LOG = 1,   /* ACK (and self-ACK) as soon as appended */
	ZAB_FAULT_COMMIT_MINORITY = 2,  /* commit on the leader's own ACK */
	ZAB_FAULT_SKIP_TRUNC = 4,       /* a new leader sends DIFF where TRUNC is due */
	ZAB_FAULT_EARLY_NEWLEADER_ACK = 8, /* 3.8.0's order: ACK NEWLEADER before sync txns are durable */
	ZAB_FAULT_SYNC_NO_QUORUM = 16,  /* answer SYNC without hearing from a quorum (ZOOKEEPER-1675) */
};

/* The storage seam: what the core needs from a txn log + snapshot store.
 * Implemented by src/store (ZooKeeper's file format) in the server and by a
 * crash-prone disk model in tests/sim. Every call is synchronous except the
 * log flush, whose completion arrives as zab_on_persisted(). Calls return 0
 * or -1 (disk full, I/O error); the core treats -1 as fatal for the server,
 * as ZooKeeper exits when it cannot write its log. */
struct zab_store {
	void *ctx;
	/* Buffer one log entry (not yet durable). zxids are strictly increasing. */
	int (*log_append)(void *ctx, uint64_t zxid, const uint8_t *p, size_t n);
	/* Ask for an fsync of everything appended so far. */
	void (*log_flush)(void *ctx);
	/* Durably drop every log entry and snapshot with zxid > `zxid`, so
	 * that load() rebuilds the state at exactly `zxid`. Returns 1, having
	 * changed nothing, when the store cannot rebuild that state (no
	 * snapshot at or below it from which the log reaches it: e.g. the
	 * oldest snapshot is one installed by SNAP, or the log was purged);
	 * -1 on an I/O error. */
	int (*log_truncate)(void *ctx, uint64_t zxid);
	/* Durably make this snapshot the whole state: the log and older
	 * snapshots are dropped (SNAP sync). */
	int (*snap_install)(void *ctx, uint64_t zxid, const uint8_t *p, size_t n);
	/* Durably add a snapshot of applied state (periodic; failure tolerated). */
	int (*snap_save)(void *ctx, uint64_t zxid, const uint8_t *p, size_t n);
	/* Durably write acceptedEpoch or currentEpoch (tmp, fsync, rename). */
	int (*epoch_save)(void *ctx, enum zab_epoch_file which, uint64_t epoch);
	/* Read back the state: the epochs (-1 when missing), the newest
	 * snapshot (snap called once, n = 0 and zxid 0 for "empty") and every
	 * log entry after it in order. *durable_zxid = the last entry known
	 * fsynced. Returns 0 or -1 (corrupt beyond repair).
	 * A crash can lose log entries that a durable snapshot already covers
	 * (a follower applies a COMMIT before its own fsync of the txn), which
	 * leaves a gap between the log's end and the snapshot; later appends
	 * follow the snapshot. The log before such a gap must be dropped (or
	 * at least never returned by log_read together with what follows it),
	 * since a DIFF read across it would skip the txns of the gap. */
	int (*load)(void *ctx, void *arg,
		    void (*snap)(void *arg, uint64_t zxid, const uint8_t *p, size_t n),
		    void (*entry)(void *arg, uint64_t zxid, const uint8_t *p, size_t n),
		    int64_t *accepted_epoch, int64_t *current_epoch, uint64_t *durable_zxid);
	/* Optional (NULL: learners behind the in-memory window get SNAP).
	 * Leader: read back the contiguous run of logged txns that starts with
	 * the last entry with zxid <= `from` and ends with the last entry
	 * <= `to`, calling entry() for each in order (DIFF from the txn log,
	 * ZKDatabase.getProposalsFromTxnLog). Returns 0; 1, having read
	 * nothing, when the log does not reach back to `from` or when the log
	 * from that entry on holds more than max_bytes (0 = no limit); -1 on
	 * an I/O error. */
	int (*log_read)(void *ctx, uint64_t from, uint64_t to, uint64_t max_bytes, void *arg,
			void (*entry)(void *arg, uint64_t zxid, const uint8_t *p, size_t n));
	/* Optional: bytes of the newest snapshot (the snapshotSizeFactor limit). */
	uint64_t (*snap_size)(void *ctx);
};

/* What the core asks of the world other than the disk. */
struct zab_env {
	void *ctx;
	/* Election channel: one encoded notification. */
	void (*send_vote)(void *ctx, uint64_t to_sid, const uint8_t *p, size_t n);
	/* Quorum channel: a learner opens a fresh connection to the leader
	 * (closing the previous one); returns a non-zero connection id. */
	uint64_t (*connect)(void *ctx, uint64_t leader_sid);
	/* Write bytes (one or more QuorumPackets, possibly followed by a
	 * snapshot stream) on a connection, in order. */
	void (*send)(void *ctx, uint64_t conn, const uint8_t *p, size_t n);
	void (*close)(void *ctx, uint64_t conn);
	/* Application: apply a txn (committed, or replayed from the log at
	 * load, as ZooKeeper replays its whole log). */
	void (*apply)(void *ctx, uint64_t zxid, const uint8_t *p, size_t n);
	void (*snapshot)(void *ctx, struct buf *out);
	/* Replace the application state with a snapshot taken at `zxid`;
	 * n == 0 means the empty state. */
	int (*restore)(void *ctx, uint64_t zxid, const uint8_t *p, size_t n);
	/* Leader: a forwarded client write (REQUEST data after the 16-byte
	 * header: session, cxid, type) and the packet's authinfo, the raw
	 * jute vector<Id> (int count, then {ustring scheme, ustring id}; count
	 * -1 = null) of the client's identities; the node layer preps it and
	 * calls peer_submit(). */
	void (*request)(void *ctx, uint64_t from_sid, int64_t session, int32_t cxid, int32_t type,
			const uint8_t *body, size_t n, const uint8_t *auth, size_t auth_len);
	/* Optional. Learner: the data of a PING reply — ZooKeeper's touch
	 * table, {long session, int timeout} per session active since the
	 * previous PING (Learner.ping). Leader: such data arrived from a
	 * learner (LearnerHandler touches each session). */
	void (*ping_data)(void *ctx, struct buf *out);
	void (*touch)(void *ctx, uint64_t from_sid, const uint8_t *p, size_t n);
	/* Optional. Leader: a learner asks whether a reattaching client's
	 * session is alive (REVALIDATE {long session, int timeout}); return
	 * true after touching it and making the learner its owner. Learner:
	 * the leader's answer to zab_learner_revalidate. */
	bool (*revalidate)(void *ctx, uint64_t from_sid, int64_t session, int32_t timeout_ms);
	void (*revalidated)(void *ctx, int64_t session, bool valid);
	/* A client sync issued with peer_sync(token) is complete. */
	void (*sync_done)(void *ctx, uint64_t token);
	/* A short line for traces (role changes, sync decisions). */
	void (*trace)(void *ctx, const char *line);
	/* An unrecoverable error (disk full, bad state on disk): stop. */
	void (*fatal)(void *ctx, const char *why);
};

struct zab_config {
	uint64_t my_sid;
	const uint64_t *voters;    /* participants */
	int n_voters;
	const uint64_t *observers;
	int n_observers;
	uint32_t tick_ms;          /* tickTime */
	uint32_t init_limit;       /* ticks */
	uint32_t sync_limit;       /* ticks */
	uint32_t commit_log_count; /* committed txns kept in memory for DIFF (500) */
	uint32_t snap_count;       /* take a snapshot every this many applied txns (0 = never) */
	/* zookeeper.snapshotSizeFactor: a learner behind the in-memory window
	 * is DIFFed from the on-disk log while the log from its zxid on is at
	 * most this × the newest snapshot's size (ZooKeeper's default 0.33;
	 * values > 1 mean 0.33; 0 = no limit; negative = never, always SNAP). */
	double snap_size_factor;
	unsigned faults;           /* enum zab_fault bits; ignored without ZABD_TEST_FAULTS */
	const uint8_t *config_text;  /* dynamic config string sent in NEWLEADER; borrowed */
	int32_t config_len;
};

struct zab_entry {
	uint64_t zxid;
	uint8_t *data;
	uint32_t len;
};

/* The in-memory log window: every txn logged since the last reload, minus
 * committed ones trimmed to commit_log_count. zxids strictly increase. */
struct zab_log {
	struct zab_entry *e;
	size_t n, cap;
};

struct zab_proposal {
	uint64_t zxid;
	uint32_t acks;      /* bit i = voters[i] ACKed (durably) */
	uint64_t mark;      /* leader's sync mark when it was proposed */
};

struct zab_sync_wait {
	uint64_t zxid;      /* complete once this is committed ... */
	uint64_t mark;      /* ... and a quorum answered something sent after it arrived */
	uint64_t sid;       /* learner to send SYNC to; 0 = local */
	uint64_t token;
};

#define ZAB_PING_RING 32

enum zab_lh_state { LH_WAIT_ACKEPOCH, LH_WAIT_EPOCH_QUORUM, LH_WAIT_NEWLEADER_ACK, LH_ACTIVE };

struct zab_learner_handler {
	bool used;
	bool observer;
	uint64_t sid;
	uint64_t conn;
	enum zab_lh_state st;
	int64_t accepted_epoch;
	int64_t current_epoch;
	uint64_t last_zxid;
	bool epoch_acked;       /* counted in the epoch-ack quorum */
	bool forwarding;        /* gets live PROPOSAL/COMMIT/INFORM */
	bool uptodate_sent;
	bool newleader_acked;   /* its NEWLEADER ACK counted */
	uint64_t *held;         /* live COMMIT zxids held until UPTODATE (ZOOKEEPER-4394) */
	size_t n_held, cap_held;
	uint64_t last_heard_ms;
	enum zab_sync_mode sync_mode;  /* what zab_sync_learner sent it */
	/* Leadership confirmation for SYNC (ZOOKEEPER-1675): counted are the
	 * PINGs sent after UPTODATE (zxid != 0), which a serving learner
	 * answers in order, so counted reply k answers counted ping k. */
	uint64_t pings_sent, ping_replies;
	uint64_t ping_mark[ZAB_PING_RING];  /* sync mark when ping k was sent */
	uint64_t confirmed_mark;            /* newest mark it has answered */
};

struct zab_leader {
	int64_t new_epoch;
	bool epoch_fixed;
	bool epoch_quorum;       /* ACKEPOCH quorum reached and currentEpoch written */
	bool want_epoch_write;   /* quorum reached, waiting for our log to be durable */
	bool established;        /* NEWLEADER quorum */
	uint64_t start_ms;
	uint64_t stage_ms;       /* start of the current discovery/sync stage (initLimit) */
	uint64_t next_ping_ms;
	int64_t my_epoch_at_start;
	uint64_t my_zxid_at_start;
	uint64_t sync_max;       /* highest zxid of the committed window (initial history end before establishment) */
	uint64_t last_proposed;
	uint32_t counter;
	uint64_t mark;           /* bumped by each SYNC that arrives */
	struct zab_learner_handler lh[ZAB_MAX_SERVERS];
	struct zab_proposal *out;  /* outstanding proposals, zxid order */
	size_t n_out, cap_out;
	struct zab_sync_wait *sw;
	size_t n_sw, cap_sw;
};

enum zab_lr_state { LR_WAIT_LEADERINFO, LR_WAIT_SYNC, LR_SYNCING, LR_WAIT_DURABLE,
		    LR_WAIT_UPTODATE, LR_SERVING };

struct zab_learner {
	uint64_t leader_sid;
	uint64_t conn;
	enum zab_lr_state st;
	int64_t new_epoch;
	enum zab_sync_mode mode;
	uint64_t last_heard_ms;
	uint64_t retry_at_ms;    /* reconnect while the leader is not listening yet */
	bool newleader_acked;
	uint64_t last_acked;     /* highest zxid ACKed */
	uint64_t newleader_need; /* txns up to here must be durable before the NEWLEADER ACK */
	uint64_t *syncs;         /* pending client sync tokens, FIFO */
	size_t n_syncs, cap_syncs;
};

struct zab {
	struct zab_config cfg;
	struct zab_env env;
	struct zab_store store;
	enum zab_role role;
	bool dead;               /* fatal error: ignores every event */
	int64_t accepted_epoch;
	int64_t current_epoch;
	uint64_t last_logged;    /* last zxid appended */
	uint64_t last_durable;   /* last zxid the store reported fsynced */
	uint64_t last_applied;   /* application state (lastProcessedZxid) */
	uint64_t committed;      /* highest zxid known committed (for checkers and sync) */
	uint64_t log_base;       /* zxid of the state just before the first in-memory entry */
	uint32_t applied_since_snap;
	uint64_t now_ms;
	struct zab_log log;
	struct zab_leader L;
	struct zab_learner F;
	/* Learners that left a TRUNC sync before ACKing NEWLEADER (a learner
	 * that cannot truncate below its oldest snapshot does that): they get
	 * SNAP at their next sync. Kept across our own role changes. */
	uint64_t snap_next[ZAB_MAX_SERVERS];
	int n_snap_next;
	/* Called when the role ends (timeout, lost quorum, protocol error). */
	void (*on_lost)(void *arg, const char *why);
	void *lost_arg;
	/* Counters for tests and the sim summary. */
	uint64_t n_commits, n_proposals;
	uint64_t n_sync_modes[4];  /* learner syncs sent, by enum zab_sync_mode */
	uint64_t n_txnlog_diffs;   /* of those DIFF/TRUNC, how many read the on-disk log */
	uint64_t n_trunc_refused;  /* learner: TRUNCs below our oldest snapshot */
};

/* --- zab.c: common state, log window, load ---------------------------- */
void zab_init(struct zab *z, const struct zab_config *cfg, const struct zab_env *env,
	      const struct zab_store *store);
void zab_free(struct zab *z);
/* Rebuild memory from the store (startup and every return to LOOKING). */
int zab_reload(struct zab *z);
bool zab_fault(const struct zab *z, enum zab_fault f);
int zab_voter_index(const struct zab *z, uint64_t sid);
bool zab_is_quorum(const struct zab *z, uint32_t ack_bits);
const struct zab_entry *zab_log_find(const struct zab *z, uint64_t zxid);
size_t zab_log_lower_bound(const struct zab *z, uint64_t zxid);
int zab_log_txn(struct zab *z, uint64_t zxid, const uint8_t *p, size_t n);
void zab_apply_upto(struct zab *z, uint64_t zxid);
void zab_trim(struct zab *z);
void zab_send_packet(struct zab *z, uint64_t conn, int type, uint64_t zxid,
		     const uint8_t *data, int32_t len);
void zab_lost(struct zab *z, const char *why);
void zab_tracef(struct zab *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int zab_save_epoch(struct zab *z, enum zab_epoch_file which, int64_t epoch);
/* Decode a QuorumPacket; *data and *len view the input (len -1 = null). */
int zab_decode_packet(const uint8_t *p, size_t n, int *type, uint64_t *zxid,
		      const uint8_t **data, int32_t *len, size_t *used);

/* --- leader.c ---------------------------------------------------------- */
void zab_lead(struct zab *z);
void zab_leader_on_packet(struct zab *z, uint64_t conn, uint64_t from, const uint8_t *p, size_t n);
void zab_leader_on_disconnect(struct zab *z, uint64_t conn);
void zab_leader_on_persisted(struct zab *z);
void zab_leader_on_tick(struct zab *z);
int zab_leader_submit(struct zab *z, const uint8_t *txn, size_t n, uint64_t *zxid);
void zab_leader_sync(struct zab *z, uint64_t sid, uint64_t token);
void zab_leader_stop(struct zab *z);

/* --- sync.c: DIFF / TRUNC / SNAP for one learner ------------------------ */
void zab_sync_learner(struct zab *z, struct zab_learner_handler *h);
/* A learner handler is going away: remember a learner that left a TRUNC
 * sync before its NEWLEADER ACK, so that it gets SNAP next time. */
void zab_lh_left(struct zab *z, const struct zab_learner_handler *h);

/* --- learner.c --------------------------------------------------------- */
void zab_follow(struct zab *z, uint64_t leader_sid, bool observer);
void zab_learner_on_packet(struct zab *z, uint64_t conn, const uint8_t *p, size_t n);
void zab_learner_on_disconnect(struct zab *z, uint64_t conn);
void zab_learner_on_persisted(struct zab *z);
void zab_learner_on_tick(struct zab *z);
/* auth: the raw vector<Id> for the packet's authinfo (NULL = null vector). */
int zab_learner_forward(struct zab *z, int64_t session, int32_t cxid, int32_t type,
			const uint8_t *body, size_t n, const uint8_t *auth, size_t auth_len);
/* The client request behind a learner's sync, forwarded as Java's learner
 * does (its session, cxid, SyncRequest body and ids); NULL: session 0 and
 * path "/". */
struct zab_sync_origin {
	int64_t session;
	int32_t cxid;
	const uint8_t *body;
	size_t n;
	const uint8_t *auth;
	size_t auth_len;
};
int zab_learner_sync(struct zab *z, uint64_t token, const struct zab_sync_origin *origin);
int zab_learner_revalidate(struct zab *z, int64_t session, int32_t timeout_ms);
void zab_learner_stop(struct zab *z);

#endif
