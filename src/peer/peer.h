/* peer: one ensemble member's role state machine — QuorumPeer.run() as
 * events. It composes the election (election/fle) and the replication
 * protocol (zab/) and moves between their roles:
 *
 *            ┌──────────── zab_lost (timeout, lost quorum, bad packet) ────────┐
 *            ▼                                                                 │
 *   start ─▶ LOOKING ── fle decided ──▶ LEADING   (zab_lead)                   │
 *            │                    ├──▶ FOLLOWING (zab_follow)  ───────────────┤
 *            │                    └──▶ OBSERVING (zab_follow, observer) ──────┘
 *   Every entry into LOOKING reloads the database from the store and starts
 *   a new election round with the reloaded (last zxid, currentEpoch).
 *
 * The peer owns nothing outside itself: the network, disk and application
 * are the env and store given at peer_init (see zab/zab.h). All entry points
 * take the current time; none may be called from inside an env callback. */
#ifndef ZABD_PEER_PEER_H
#define ZABD_PEER_PEER_H
#include <stdbool.h>
#include <stdint.h>

#include "election/fle.h"
#include "zab/zab.h"

struct peer_config {
	uint64_t my_sid;
	const uint64_t *voters;
	int n_voters;
	const uint64_t *observers;
	int n_observers;
	uint32_t tick_ms, init_limit, sync_limit;
	uint32_t commit_log_count, snap_count;
	double snap_size_factor;   /* zookeeper.snapshotSizeFactor (see zab_config) */
	unsigned faults;
	const char *config_text;   /* dynamic config string (§5.1.2); borrowed */
};

struct peer {
	struct zab z;
	struct fle fle;
	struct peer_config cfg;
	int32_t state;             /* enum fle_state */
	uint64_t leader;           /* sid we follow or lead for */
	bool lost;                 /* a zab_lost() is waiting for the event to end */
	char lost_why[96];
	bool vote_updated;         /* peerEpoch refreshed after UPTODATE / establishment */
	uint64_t n_elections;      /* rounds decided */
};

/* Load from the store and start looking. Returns 0, or -1 after env->fatal. */
int peer_init(struct peer *p, const struct peer_config *cfg, const struct zab_env *env,
	      const struct zab_store *store, uint64_t now_ms);
void peer_free(struct peer *p);

void peer_on_vote(struct peer *p, uint64_t from_sid, const uint8_t *msg, size_t n, uint64_t now_ms);
void peer_on_packet(struct peer *p, uint64_t conn, uint64_t from_sid, const uint8_t *msg, size_t n,
		    uint64_t now_ms);
void peer_on_disconnect(struct peer *p, uint64_t conn, uint64_t now_ms);
void peer_on_persisted(struct peer *p, uint64_t up_to_zxid, uint64_t now_ms);
void peer_on_tick(struct peer *p, uint64_t now_ms);

/* Leader, established: propose a prepared txn. 0 or -1 (not leading). */
int peer_submit(struct peer *p, const uint8_t *txn, size_t n, uint64_t *zxid, uint64_t now_ms);
/* Follower, serving: forward a client write to the leader as REQUEST. */
int peer_forward(struct peer *p, int64_t session, int32_t cxid, int32_t type,
		 const uint8_t *body, size_t n, const uint8_t *auth, size_t auth_len, uint64_t now_ms);
/* Client sync: env->sync_done(token) once the leader's pipeline at the time
 * of the call has reached us. -1 if not serving. */
int peer_sync(struct peer *p, uint64_t token, const struct zab_sync_origin *origin, uint64_t now_ms);

/* Learner, serving: ask the leader whether a reattaching client's session
 * lives (env->revalidated answers). -1 if not a serving learner. */
int peer_revalidate(struct peer *p, int64_t session, int32_t timeout_ms, uint64_t now_ms);

/* Serving clients: an established leader, or a learner after UPTODATE. */
bool peer_is_serving(const struct peer *p);
bool peer_is_established_leader(const struct peer *p);
static inline int64_t peer_epoch(const struct peer *p) { return p->z.current_epoch; }

#endif
