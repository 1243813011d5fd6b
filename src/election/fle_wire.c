/* fle_wire: the FastLeaderElection notification, byte for byte as ZooKeeper
 * 3.8 writes it (FastLeaderElection.buildMsg) and reads it (WorkerReceiver):
 *
 *   0  int   state         (0 LOOKING, 1 FOLLOWING, 2 LEADING, 3 OBSERVING)
 *   4  long  leader        proposed leader's sid
 *   12 long  zxid          proposed leader's last zxid
 *   20 long  electionEpoch sender's logical clock
 *   28 long  peerEpoch     proposed leader's currentEpoch
 *   36 int   version       2
 *   40 int   configLength  then configLength bytes of dynamic config text
 *
 * Older senders: 28 bytes (no peerEpoch, taken as the epoch of zxid) and
 * 40 bytes (peerEpoch, version 0, no config). A version > 1 message must
 * carry the config length and text. Anything else is malformed. */
#include "election/fle.h"

void fle_notification_encode(struct buf *b, const struct fle_notification *n)
{
	jute_put_int(b, n->state);
	jute_put_long(b, n->leader);
	jute_put_long(b, n->zxid);
	jute_put_long(b, n->election_epoch);
	jute_put_long(b, n->peer_epoch);
	jute_put_int(b, n->version);
	int32_t len = n->config.len > 0 ? n->config.len : 0;
	jute_put_int(b, len);
	if (len > 0)
		buf_put(b, n->config.data, (size_t)len);
}

int fle_notification_decode(const uint8_t *p, size_t len, struct fle_notification *n)
{
	struct jute_reader r;
	if (len < 28)
		return -1;
	jute_reader_init(&r, p, len, (int32_t)(len > INT32_MAX ? INT32_MAX : len), NULL);
	n->state = jute_get_int(&r);
	n->leader = jute_get_long(&r);
	n->zxid = jute_get_long(&r);
	n->election_epoch = jute_get_long(&r);
	n->config = (struct jute_bytes){NULL, 0};
	if (len == 28) {
		n->peer_epoch = (int64_t)((uint64_t)n->zxid >> 32);
		n->version = 0;
		return 0;
	}
	n->peer_epoch = jute_get_long(&r);
	if (len == 40) {
		n->version = 0;
		return r.err == JUTE_OK ? 0 : -1;
	}
	n->version = jute_get_int(&r);
	if (n->version > 1) {
		int32_t clen = jute_get_int(&r);
		if (r.err != JUTE_OK || clen < 0 || (size_t)clen > jute_remaining(&r))
			return -1;
		n->config = (struct jute_bytes){p + r.pos, clen};
		r.pos += (size_t)clen;
	}
	return r.err == JUTE_OK ? 0 : -1;
}
