/* vote: the order and equality of election votes.
 *
 * Order (FastLeaderElection.totalOrderPredicate, §5.3.2): the higher peer
 * epoch wins, then the higher zxid, then the higher server id. All three are
 * compared as signed 64-bit values, so the Long.MIN_VALUE proposal of an
 * observer loses to any real vote.
 *
 * Equality (Vote.equals): if either vote is LOOKING, leader, zxid, election
 * epoch and peer epoch must all match. Otherwise (both FOLLOWING/LEADING)
 * only the leader and the peer epoch, and only the leader when exactly one
 * of the two has version 0 — which is how FOLLOWING/LEADING entries of the
 * receive set (stored with version 0) match a version-2 probe on the sid
 * alone. */
#include "election/fle.h"

bool fle_vote_beats(int64_t new_leader, int64_t new_zxid, int64_t new_epoch,
		    int64_t cur_leader, int64_t cur_zxid, int64_t cur_epoch)
{
	if (new_epoch != cur_epoch)
		return new_epoch > cur_epoch;
	if (new_zxid != cur_zxid)
		return new_zxid > cur_zxid;
	return new_leader > cur_leader;
}

bool fle_vote_equal(const struct fle_vote *a, const struct fle_vote *b)
{
	if (a->state == FLE_LOOKING || b->state == FLE_LOOKING)
		return a->leader == b->leader && a->zxid == b->zxid &&
		       a->election_epoch == b->election_epoch && a->peer_epoch == b->peer_epoch;
	if ((a->version > 0) != (b->version > 0))
		return a->leader == b->leader;
	return a->leader == b->leader && a->peer_epoch == b->peer_epoch;
}
