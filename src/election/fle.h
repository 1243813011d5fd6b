/* fle: ZooKeeper 3.8's FastLeaderElection as a pure state machine.
 *
 * It owns one server's election round: the logical clock, the current
 * proposal, the receive set (votes of this round) and the out-of-election
 * set (votes of servers that already follow or lead), the finalize wait and
 * the exponential back-off of re-sends. Events come in through fle_start(),
 * fle_on_notification() and fle_on_tick(); notifications leave through the
 * send callback and the decision through the decided callback. It never
 * touches a socket, clock or file: time is the `now_ms` of each event.
 *
 * The notification's byte layout (§5.3.1 of zookeeper-protocol.md) is in
 * fle_wire.c; the vote order (§5.3.2) and Vote.equals are in vote.c. */
#ifndef ZABD_ELECTION_FLE_H
#define ZABD_ELECTION_FLE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "jute/jute.h"

#define FLE_MAX_SERVERS 16
#define FLE_VERSION 2  /* notification format version sent by 3.5+ */

/* QuorumPeer.ServerState, as sent in the notification's first int. */
enum fle_state { FLE_LOOKING = 0, FLE_FOLLOWING = 1, FLE_LEADING = 2, FLE_OBSERVING = 3 };

/* One notification, decoded (config is a view into the input). */
struct fle_notification {
	int32_t state;
	int64_t leader;
	int64_t zxid;
	int64_t election_epoch;
	int64_t peer_epoch;
	int32_t version;
	struct jute_bytes config;
};

/* Exactly 44 + config bytes, as Java 3.8's buildMsg. */
void fle_notification_encode(struct buf *b, const struct fle_notification *n);
/* Accepts the 28-, 40- and versioned forms; 0 or -1 for a malformed message. */
int fle_notification_decode(const uint8_t *p, size_t len, struct fle_notification *n);

/* A vote as Vote.java holds it. */
struct fle_vote {
	int64_t leader;
	int64_t zxid;
	int64_t election_epoch;
	int64_t peer_epoch;
	int32_t state;
	int32_t version;
};

/* totalOrderPredicate: does (leader, zxid, epoch) beat the current one? The
 * caller checks that the new leader is a voter (non-zero weight). */
bool fle_vote_beats(int64_t new_leader, int64_t new_zxid, int64_t new_epoch,
		    int64_t cur_leader, int64_t cur_zxid, int64_t cur_epoch);
/* Vote.equals, including its version and state quirks (§5.3.3 step 5). */
bool fle_vote_equal(const struct fle_vote *a, const struct fle_vote *b);

struct fle_config {
	uint64_t my_sid;
	bool is_voter;
	const uint64_t *voters;  /* sids of the voting members; borrowed for the fle's life */
	int n_voters;
	uint32_t finalize_wait_ms;   /* 200 */
	uint32_t min_notify_ms;      /* 200 */
	uint32_t max_notify_ms;      /* 60000 */
	struct jute_bytes config_text;  /* sent in every notification; borrowed */
};

struct fle_out {
	void *ctx;
	void (*send)(void *ctx, uint64_t to_sid, const struct fle_notification *n);
	/* The round ended: state is FLE_LEADING, FLE_FOLLOWING or FLE_OBSERVING. */
	void (*decided)(void *ctx, int32_t state, const struct fle_vote *vote);
};

struct fle_slot {
	uint64_t sid;
	bool used;
	struct fle_vote v;
};

struct fle {
	struct fle_config cfg;
	struct fle_out out;
	int64_t logicalclock;
	int64_t prop_leader, prop_zxid, prop_epoch;
	int64_t my_zxid, my_epoch;       /* this server's last zxid and currentEpoch for the round */
	bool looking;
	bool finalizing;
	uint64_t deadline_ms;            /* notTimeout or finalize deadline */
	uint32_t not_timeout_ms;
	int32_t my_state;                /* for replies: LOOKING or the decided state */
	struct fle_vote current_vote;    /* last decided vote, or the startup vote */
	struct fle_slot recvset[FLE_MAX_SERVERS];
	struct fle_slot outofelection[FLE_MAX_SERVERS];
	/* A message to ourselves is looped back after the current event. */
	bool self_pending;
	struct fle_notification self_msg;
	unsigned sent;                   /* notifications sent, for tests */
};

void fle_init(struct fle *f, const struct fle_config *cfg, const struct fle_out *out,
	      int64_t my_zxid, int64_t my_epoch);
/* Start a new round (lookForLeader): logicalclock + 1, vote for ourselves. */
void fle_start(struct fle *f, int64_t my_zxid, int64_t my_epoch, uint64_t now_ms);
void fle_on_notification(struct fle *f, uint64_t from_sid, const struct fle_notification *n,
			 uint64_t now_ms);
void fle_on_tick(struct fle *f, uint64_t now_ms);
/* The peer left LOOKING on its own account (e.g. updated peerEpoch after
 * UPTODATE, ZOOKEEPER-1732): refresh the vote used in replies. */
void fle_set_current_vote(struct fle *f, int32_t state, const struct fle_vote *v);
bool fle_is_voter(const struct fle *f, uint64_t sid);

#endif
