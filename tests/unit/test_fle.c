/* test_fle: the election notification's bytes (against a frame captured
 * from ZooKeeper 3.8.0, zookeeper-protocol.md §5.3.1), the vote order and
 * Vote.equals quirks, and a three-server election driven by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "election/fle.h"

static const char CFG[] =
	"server.1=127.0.0.1:32888:33888:participant\nserver.2=127.0.0.1:32889:33889:participant\n"
	"server.3=127.0.0.1:32890:33890:participant\nversion=0";

static void test_encode_live_frame(void **st)
{
	(void)st;
	/* [live] server 1 FOLLOWING leader 2, zxid 0, electionEpoch 1, peerEpoch 1. */
	static const uint8_t head[44] = {
		0, 0, 0, 1,  0, 0, 0, 0, 0, 0, 0, 2,  0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 1,  0, 0, 0, 0, 0, 0, 0, 1,  0, 0, 0, 2,  0, 0, 0, 0x8a};
	assert_int_equal(strlen(CFG), 138);
	struct fle_notification n = {.state = FLE_FOLLOWING, .leader = 2, .zxid = 0,
				     .election_epoch = 1, .peer_epoch = 1, .version = 2,
				     .config = {(const uint8_t *)CFG, 138}};
	struct buf b;
	buf_init(&b);
	fle_notification_encode(&b, &n);
	assert_int_equal(b.len, 182);  /* the frame length of the capture */
	assert_memory_equal(b.data, head, 44);
	assert_memory_equal(b.data + 44, CFG, 138);
	struct fle_notification d;
	assert_int_equal(fle_notification_decode(b.data, b.len, &d), 0);
	assert_int_equal(d.state, 1);
	assert_int_equal(d.leader, 2);
	assert_int_equal(d.peer_epoch, 1);
	assert_int_equal(d.version, 2);
	assert_int_equal(d.config.len, 138);
	buf_free(&b);
}

static void test_decode_old_forms(void **st)
{
	(void)st;
	uint8_t m[48] = {0};
	struct fle_notification d;
	m[3] = 0;                 /* LOOKING */
	m[11] = 3;                /* leader 3 */
	m[12] = 0; m[15] = 5;     /* zxid 0x0000000500000007: epoch 5 */
	m[19] = 7;
	m[27] = 9;                /* electionEpoch 9 */
	assert_int_equal(fle_notification_decode(m, 27, &d), -1);
	assert_int_equal(fle_notification_decode(m, 28, &d), 0);
	assert_int_equal(d.peer_epoch, 5);  /* taken from the zxid */
	assert_int_equal(d.version, 0);
	m[35] = 4;                /* peerEpoch 4 */
	assert_int_equal(fle_notification_decode(m, 40, &d), 0);
	assert_int_equal(d.peer_epoch, 4);
	assert_int_equal(d.version, 0);
	m[39] = 2;                /* version 2 needs a config length */
	assert_int_equal(fle_notification_decode(m, 42, &d), -1);
	m[43] = 5;                /* configLength 5 with 4 bytes left */
	assert_int_equal(fle_notification_decode(m, 48, &d), -1);
	m[43] = 4;
	assert_int_equal(fle_notification_decode(m, 48, &d), 0);
	assert_int_equal(d.config.len, 4);
}

static void test_vote_order(void **st)
{
	(void)st;
	/* peer epoch first, then zxid, then sid */
	assert_true(fle_vote_beats(1, 0, 2, 3, 100, 1));
	assert_false(fle_vote_beats(3, 100, 1, 1, 0, 2));
	assert_true(fle_vote_beats(1, 6, 1, 3, 5, 1));
	assert_true(fle_vote_beats(3, 5, 1, 2, 5, 1));
	assert_false(fle_vote_beats(2, 5, 1, 2, 5, 1));
	/* an observer's Long.MIN_VALUE proposal loses to any real vote */
	assert_true(fle_vote_beats(1, 0, 0, INT64_MIN, INT64_MIN, INT64_MIN));
}

static void test_vote_equal(void **st)
{
	(void)st;
	struct fle_vote a = {.leader = 3, .zxid = 7, .election_epoch = 2, .peer_epoch = 1,
			     .state = FLE_LOOKING, .version = 0};
	struct fle_vote b = a;
	assert_true(fle_vote_equal(&a, &b));
	b.zxid = 8;
	assert_false(fle_vote_equal(&a, &b));       /* LOOKING: every field counts */
	a.state = FLE_FOLLOWING;
	b.state = FLE_LEADING;
	b.version = 2;
	b.peer_epoch = 9;
	assert_true(fle_vote_equal(&a, &b));        /* one version 0: the sid alone */
	a.version = 2;
	assert_false(fle_vote_equal(&a, &b));       /* both versioned: sid + peer epoch */
	b.peer_epoch = 1;
	assert_true(fle_vote_equal(&a, &b));
}

/* A tiny network for three fle instances: messages delivered in order. */
struct msg { uint64_t from, to; struct fle_notification n; };
static struct msg q[4096];
static int qh, qt;
static struct fle F[3];
static int decided[3];
static int64_t leader_of[3];
static uint64_t voters[3] = {1, 2, 3};

static void t_send(void *ctx, uint64_t to, const struct fle_notification *n)
{
	struct fle *f = ctx;
	assert_true(qt < 4096);
	q[qt++] = (struct msg){f->cfg.my_sid, to, *n};
}

static void t_decided(void *ctx, int32_t state, const struct fle_vote *v)
{
	struct fle *f = ctx;
	decided[f->cfg.my_sid - 1] = state;
	leader_of[f->cfg.my_sid - 1] = v->leader;
}

static void setup3(const int64_t *zxid, const int64_t *epoch)
{
	qh = qt = 0;
	for (int i = 0; i < 3; i++) {
		struct fle_config c = {.my_sid = (uint64_t)i + 1, .is_voter = true, .voters = voters,
				       .n_voters = 3, .finalize_wait_ms = 200, .min_notify_ms = 200,
				       .max_notify_ms = 60000};
		struct fle_out o = {.ctx = &F[i], .send = t_send, .decided = t_decided};
		fle_init(&F[i], &c, &o, zxid[i], epoch[i]);
		decided[i] = -1;
	}
	for (int i = 0; i < 3; i++)
		fle_start(&F[i], zxid[i], epoch[i], 0);
}

static void run3(uint64_t until)
{
	for (uint64_t now = 0; now <= until; now += 10) {
		while (qh < qt) {
			struct msg m = q[qh++];
			fle_on_notification(&F[m.to - 1], m.from, &m.n, now);
		}
		for (int i = 0; i < 3; i++)
			fle_on_tick(&F[i], now);
	}
}

static void test_election_highest_sid(void **st)
{
	(void)st;
	int64_t z[3] = {0, 0, 0}, e[3] = {0, 0, 0};
	setup3(z, e);
	run3(1000);
	assert_int_equal(decided[2], FLE_LEADING);
	assert_int_equal(decided[0], FLE_FOLLOWING);
	assert_int_equal(decided[1], FLE_FOLLOWING);
	assert_int_equal(leader_of[0], 3);
}

static void test_election_highest_zxid_then_epoch(void **st)
{
	(void)st;
	int64_t z[3] = {0x100000005, 0x100000009, 0x100000007}, e[3] = {1, 1, 1};
	setup3(z, e);
	run3(1000);
	assert_int_equal(decided[1], FLE_LEADING);
	assert_int_equal(leader_of[0], 2);
	int64_t z2[3] = {0x100000009, 0x100000002, 0x100000001}, e2[3] = {1, 1, 2};
	setup3(z2, e2);
	run3(1000);
	assert_int_equal(decided[2], FLE_LEADING);  /* newer currentEpoch beats a longer log */
	assert_int_equal(leader_of[0], 3);
}

static void test_backoff(void **st)
{
	(void)st;
	/* Alone, a server re-sends with doubling intervals: 200, 400, 800 ... */
	struct fle_config c = {.my_sid = 1, .is_voter = true, .voters = voters, .n_voters = 3,
			       .finalize_wait_ms = 200, .min_notify_ms = 200, .max_notify_ms = 60000};
	struct fle_out o = {.ctx = &F[0], .send = t_send, .decided = t_decided};
	qh = qt = 0;
	fle_init(&F[0], &c, &o, 0, 0);
	fle_start(&F[0], 0, 0, 0);
	unsigned base = F[0].sent;
	uint64_t resends[4], n = 0;
	for (uint64_t now = 0; now < 3100 && n < 4; now += 10) {
		unsigned before = F[0].sent;
		fle_on_tick(&F[0], now);
		if (F[0].sent != before)
			resends[n++] = now;
	}
	assert_true(base > 0);
	assert_int_equal(n, 4);
	assert_int_equal(resends[0], 200);
	assert_int_equal(resends[1], 600);
	assert_int_equal(resends[2], 1400);
	assert_int_equal(resends[3], 3000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_live_frame),
		cmocka_unit_test(test_decode_old_forms),
		cmocka_unit_test(test_vote_order),
		cmocka_unit_test(test_vote_equal),
		cmocka_unit_test(test_election_highest_sid),
		cmocka_unit_test(test_election_highest_zxid_then_epoch),
		cmocka_unit_test(test_backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
