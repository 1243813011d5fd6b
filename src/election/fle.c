/* fle: FastLeaderElection.lookForLeader and its WorkerReceiver, as events.
 *
 *            fle_start()                 quorum of recvset == proposal
 *   (idle) ─────────────▶ LOOKING ─────────────────────────────▶ FINALIZING
 *      ▲                   │  ▲   better vote arrives (put back)     │
 *      │                   │  └──────────────────────────────────────┤
 *      │  FOLLOWING/LEADING quorum + leader check                     │ finalize_wait_ms
 *      │                   ▼                                          ▼ with nothing better
 *      └──────────────── decided(LEADING | FOLLOWING | OBSERVING) ◀───┘
 *
 * Java's lookForLeader blocks on a queue poll with a timeout; here the
 * deadline is kept in `deadline_ms` and fle_on_tick() fires it:
 *  - while LOOKING, every notification restarts the poll (deadline = now +
 *    notTimeout); a timeout re-sends our vote to everyone and doubles
 *    notTimeout up to max_notify_ms (the back-off of re-sends);
 *  - while FINALIZING, a notification that does not beat the proposal is
 *    dropped and the finalize wait restarts; one that beats it is processed
 *    as in LOOKING.
 * Replies that WorkerReceiver sends on its own (§5.3.4) are sent whatever
 * the round is doing, and also after the decision, so that a restarted
 * server learns the established leader. */
#include "election/fle.h"

#include <string.h>

static bool in_voters(const struct fle *f, uint64_t sid)
{
	for (int i = 0; i < f->cfg.n_voters; i++)
		if (f->cfg.voters[i] == sid)
			return true;
	return false;
}

bool fle_is_voter(const struct fle *f, uint64_t sid)
{
	return in_voters(f, sid);
}

static void slots_clear(struct fle_slot *s)
{
	memset(s, 0, sizeof(struct fle_slot) * FLE_MAX_SERVERS);
}

static void slots_put(struct fle_slot *s, uint64_t sid, const struct fle_vote *v)
{
	int free_i = -1;
	for (int i = 0; i < FLE_MAX_SERVERS; i++) {
		if (s[i].used && s[i].sid == sid) {
			s[i].v = *v;
			return;
		}
		if (!s[i].used && free_i < 0)
			free_i = i;
	}
	if (free_i >= 0)
		s[free_i] = (struct fle_slot){.sid = sid, .used = true, .v = *v};
}

static const struct fle_vote *slots_get(const struct fle_slot *s, uint64_t sid)
{
	for (int i = 0; i < FLE_MAX_SERVERS; i++)
		if (s[i].used && s[i].sid == sid)
			return &s[i].v;
	return NULL;
}

/* QuorumMaj.containsQuorum over the voters whose vote equals `probe`. */
static bool has_quorum(const struct fle *f, const struct fle_slot *s, const struct fle_vote *probe)
{
	int n = 0;
	for (int i = 0; i < FLE_MAX_SERVERS; i++)
		if (s[i].used && in_voters(f, s[i].sid) && fle_vote_equal(&s[i].v, probe))
			n++;
	return n > f->cfg.n_voters / 2;
}

static void send_one(struct fle *f, uint64_t to, int32_t state, const struct fle_vote *v,
		     int64_t election_epoch)
{
	struct fle_notification n = {
		.state = state, .leader = v->leader, .zxid = v->zxid,
		.election_epoch = election_epoch, .peer_epoch = v->peer_epoch,
		.version = FLE_VERSION, .config = f->cfg.config_text,
	};
	f->sent++;
	if (to == f->cfg.my_sid) {
		f->self_msg = n;
		f->self_pending = true;
		return;
	}
	f->out.send(f->out.ctx, to, &n);
}

static struct fle_vote proposal(const struct fle *f)
{
	return (struct fle_vote){.leader = f->prop_leader, .zxid = f->prop_zxid,
				 .election_epoch = f->logicalclock, .peer_epoch = f->prop_epoch,
				 .state = FLE_LOOKING, .version = FLE_VERSION};
}

/* sendNotifications: our proposal to every voter, ourselves included. */
static void send_all(struct fle *f)
{
	struct fle_vote v = proposal(f);
	for (int i = 0; i < f->cfg.n_voters; i++)
		send_one(f, f->cfg.voters[i], FLE_LOOKING, &v, f->logicalclock);
}

static void initial_vote(const struct fle *f, int64_t *leader, int64_t *zxid, int64_t *epoch)
{
	if (f->cfg.is_voter) {
		*leader = (int64_t)f->cfg.my_sid;
		*zxid = f->my_zxid;
		*epoch = f->my_epoch;
	} else {
		*leader = INT64_MIN;
		*zxid = INT64_MIN;
		*epoch = INT64_MIN;
	}
}

void fle_init(struct fle *f, const struct fle_config *cfg, const struct fle_out *out,
	      int64_t my_zxid, int64_t my_epoch)
{
	memset(f, 0, sizeof *f);
	f->cfg = *cfg;
	f->out = *out;
	f->my_zxid = my_zxid;
	f->my_epoch = my_epoch;
	f->my_state = FLE_LOOKING;
	f->current_vote = (struct fle_vote){.leader = (int64_t)cfg->my_sid, .zxid = my_zxid,
					    .peer_epoch = my_epoch, .state = FLE_LOOKING,
					    .version = FLE_VERSION};
}

static void drain_self(struct fle *f, uint64_t now_ms);

void fle_start(struct fle *f, int64_t my_zxid, int64_t my_epoch, uint64_t now_ms)
{
	f->my_zxid = my_zxid;
	f->my_epoch = my_epoch;
	f->logicalclock++;
	slots_clear(f->recvset);
	slots_clear(f->outofelection);
	initial_vote(f, &f->prop_leader, &f->prop_zxid, &f->prop_epoch);
	f->looking = true;
	f->finalizing = false;
	f->my_state = FLE_LOOKING;
	f->not_timeout_ms = f->cfg.min_notify_ms;
	f->deadline_ms = now_ms + f->not_timeout_ms;
	send_all(f);
	drain_self(f, now_ms);
}

static void decide(struct fle *f, int32_t state, const struct fle_vote *v)
{
	f->looking = false;
	f->finalizing = false;
	f->my_state = state;
	f->current_vote = *v;
	f->current_vote.state = state;
	f->out.decided(f->out.ctx, state, &f->current_vote);
}

static int32_t learning_state(const struct fle *f)
{
	return f->cfg.is_voter ? FLE_FOLLOWING : FLE_OBSERVING;
}

static void decide_proposal(struct fle *f)
{
	struct fle_vote v = proposal(f);
	int32_t st = f->prop_leader == (int64_t)f->cfg.my_sid ? FLE_LEADING : learning_state(f);
	decide(f, st, &v);
}

/* checkLeader: a leader other than us must have told us it leads. */
static bool check_leader(const struct fle *f, const struct fle_slot *s, int64_t leader,
			 int64_t election_epoch)
{
	if (leader != (int64_t)f->cfg.my_sid) {
		const struct fle_vote *v = slots_get(s, (uint64_t)leader);
		return v && v->state == FLE_LEADING;
	}
	return f->logicalclock == election_epoch;
}

static bool same_vote(const struct fle_vote *v, const struct fle_notification *n)
{
	return v && v->leader == n->leader && v->zxid == n->zxid && v->peer_epoch == n->peer_epoch &&
	       v->election_epoch == n->election_epoch;
}

static void on_looking(struct fle *f, uint64_t from, const struct fle_notification *n)
{
	if (f->my_zxid == -1 || n->zxid == -1)
		return;
	if (n->election_epoch > f->logicalclock) {
		int64_t il, iz, ie;
		f->logicalclock = n->election_epoch;
		slots_clear(f->recvset);
		initial_vote(f, &il, &iz, &ie);
		if (fle_vote_beats(n->leader, n->zxid, n->peer_epoch, il, iz, ie)) {
			f->prop_leader = n->leader; f->prop_zxid = n->zxid; f->prop_epoch = n->peer_epoch;
		} else {
			f->prop_leader = il; f->prop_zxid = iz; f->prop_epoch = ie;
		}
		send_all(f);
	} else if (n->election_epoch < f->logicalclock) {
		return;
	} else if (fle_vote_beats(n->leader, n->zxid, n->peer_epoch,
				  f->prop_leader, f->prop_zxid, f->prop_epoch)) {
		f->prop_leader = n->leader; f->prop_zxid = n->zxid; f->prop_epoch = n->peer_epoch;
		send_all(f);
	} else if (from != f->cfg.my_sid && !same_vote(slots_get(f->recvset, from), n)) {
		/* Deviation: a voter that joined our round late (restarted, or
		 * back from FOLLOWING) may never have received our vote, and Java
		 * only re-sends it when no notification at all arrives for
		 * notTimeout, which chatter from others can postpone past
		 * initLimit round after round (found by the simulator: a 7-server
		 * ensemble that kept electing a leader three followers short).
		 * So a vote new to our receive set gets our proposal back; the
		 * reply is not new to its receiver's set, so this cannot bounce. */
		struct fle_vote p = proposal(f);
		send_one(f, from, FLE_LOOKING, &p, f->logicalclock);
	}
	struct fle_vote v = {.leader = n->leader, .zxid = n->zxid,
			     .election_epoch = n->election_epoch, .peer_epoch = n->peer_epoch,
			     .state = FLE_LOOKING, .version = 0};
	slots_put(f->recvset, from, &v);
	struct fle_vote p = proposal(f);
	if (has_quorum(f, f->recvset, &p)) {
		f->finalizing = true;
		f->deadline_ms = 0;  /* set by the caller, which knows now */
	}
}

/* receivedFollowingNotification: someone already decided. */
static void on_decided_peer(struct fle *f, uint64_t from, const struct fle_notification *n)
{
	struct fle_vote probe = {.leader = n->leader, .zxid = n->zxid,
				 .election_epoch = n->election_epoch, .peer_epoch = n->peer_epoch,
				 .state = n->state, .version = n->version};
	int32_t st = n->leader == (int64_t)f->cfg.my_sid ? FLE_LEADING : learning_state(f);
	if (n->election_epoch == f->logicalclock) {
		struct fle_vote v = probe;
		v.version = 0;
		slots_put(f->recvset, from, &v);
		if (has_quorum(f, f->recvset, &probe) &&
		    check_leader(f, f->recvset, n->leader, n->election_epoch)) {
			decide(f, st, &probe);
			return;
		}
	}
	slots_put(f->outofelection, from, &probe);
	if (has_quorum(f, f->outofelection, &probe) &&
	    check_leader(f, f->outofelection, n->leader, n->election_epoch)) {
		f->logicalclock = n->election_epoch;
		decide(f, st, &probe);
	}
}

/* The lookForLeader loop body for one queued notification. */
static void look(struct fle *f, uint64_t from, const struct fle_notification *n, uint64_t now_ms)
{
	if (f->finalizing) {
		if (!fle_vote_beats(n->leader, n->zxid, n->peer_epoch,
				    f->prop_leader, f->prop_zxid, f->prop_epoch)) {
			f->deadline_ms = now_ms + f->cfg.finalize_wait_ms;
			return;
		}
		f->finalizing = false;  /* put back: handled below as in the main loop */
	}
	f->deadline_ms = now_ms + f->not_timeout_ms;
	switch (n->state) {
	case FLE_LOOKING:
		on_looking(f, from, n);
		if (f->finalizing)
			f->deadline_ms = now_ms + f->cfg.finalize_wait_ms;
		break;
	case FLE_FOLLOWING:
	case FLE_LEADING:
		on_decided_peer(f, from, n);
		break;
	default:
		break;  /* OBSERVING and unknown states are ignored */
	}
}

/* WorkerReceiver: replies and hand-over to the round. */
static void receive(struct fle *f, uint64_t from, const struct fle_notification *n, uint64_t now_ms)
{
	if (!in_voters(f, from)) {
		/* A non-voter gets our current vote, whatever it sent. */
		send_one(f, from, f->my_state, &f->current_vote, f->logicalclock);
		return;
	}
	if (n->state < FLE_LOOKING || n->state > FLE_OBSERVING)
		return;
	if (f->looking) {
		/* A non-voter does not answer laggards: the voter would answer it
		 * back with its own (old) round, for ever (Java does ping-pong). */
		bool laggard = f->cfg.is_voter && n->state == FLE_LOOKING &&
			       n->election_epoch < f->logicalclock;
		if (in_voters(f, (uint64_t)n->leader))
			look(f, from, n, now_ms);
		if (laggard) {
			struct fle_vote v = proposal(f);
			send_one(f, from, f->looking ? FLE_LOOKING : f->my_state, &v, f->logicalclock);
		}
	} else if (n->state == FLE_LOOKING && f->cfg.is_voter) {
		/* (Only voters answer: a voter ignores what a non-voter says, and an
		 * observer answering a LOOKING voter's reply to it loops for ever.) */
		send_one(f, from, f->my_state, &f->current_vote, f->current_vote.election_epoch);
	}
}

static void drain_self(struct fle *f, uint64_t now_ms)
{
	/* Our own vote can cause at most a few more self messages; bound it. */
	for (int i = 0; i < 8 && f->self_pending; i++) {
		struct fle_notification n = f->self_msg;
		f->self_pending = false;
		receive(f, f->cfg.my_sid, &n, now_ms);
	}
}

void fle_on_notification(struct fle *f, uint64_t from_sid, const struct fle_notification *n,
			 uint64_t now_ms)
{
	receive(f, from_sid, n, now_ms);
	drain_self(f, now_ms);
}

void fle_on_tick(struct fle *f, uint64_t now_ms)
{
	if (!f->looking || now_ms < f->deadline_ms)
		return;
	if (f->finalizing) {
		decide_proposal(f);
		return;
	}
	send_all(f);
	uint32_t t = f->not_timeout_ms * 2;
	f->not_timeout_ms = t < f->cfg.max_notify_ms ? t : f->cfg.max_notify_ms;
	f->deadline_ms = now_ms + f->not_timeout_ms;
	drain_self(f, now_ms);
}

void fle_set_current_vote(struct fle *f, int32_t state, const struct fle_vote *v)
{
	f->current_vote = *v;
	f->current_vote.state = state;
	f->my_state = state;
}
