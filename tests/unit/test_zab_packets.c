/* test_zab_packets: QuorumPacket and LearnerInfo bytes against the packets
 * of a live handshake with ZooKeeper 3.8.0 (zookeeper-protocol.md §5.4.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jute/records.h"
#include "zab/zab.h"

static void packet(struct buf *b, int type, int64_t zxid, const uint8_t *d, int32_t len)
{
	struct jr_quorum_packet qp = {.type = type, .zxid = zxid, .data = {d, len},
				      .authinfo = {-1, NULL}};
	jr_quorum_packet_encode(b, &qp);
}

static void test_followerinfo(void **st)
{
	(void)st;
	static const uint8_t want[] = {
		0, 0, 0, 0x0b,  0, 0, 0, 0, 0, 0, 0, 0,  0, 0, 0, 0x14,
		0, 0, 0, 0, 0, 0, 0, 3,  0, 1, 0, 0,  0, 0, 0, 0, 0, 0, 0, 0,  0xff, 0xff, 0xff, 0xff};
	struct buf li, b;
	buf_init(&li);
	buf_init(&b);
	struct jr_learner_info info = {.serverid = 3, .protocol_version = ZAB_PROTOCOL_VERSION,
				       .config_version = 0};
	jr_learner_info_encode(&li, &info);
	packet(&b, ZAB_FOLLOWERINFO, 0, li.data, (int32_t)li.len);
	assert_int_equal(b.len, sizeof want);
	assert_memory_equal(b.data, want, sizeof want);
	buf_free(&li);
	buf_free(&b);
}

static void test_leaderinfo_ackepoch_ping(void **st)
{
	(void)st;
	static const uint8_t li[] = {0, 0, 0, 0x11, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4,
				     0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t ae[] = {0, 0, 0, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4,
				     0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t pong[] = {0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
				       0xff, 0xff, 0xff, 0xff};
	static const uint8_t uptodate[] = {0, 0, 0, 0x0c, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t v[4] = {0, 1, 0, 0}, zero[4] = {0};
	struct buf b;
	buf_init(&b);
	packet(&b, ZAB_LEADERINFO, (int64_t)ZXID(1, 0), v, 4);
	assert_memory_equal(b.data, li, sizeof li);
	b.len = 0;
	packet(&b, ZAB_ACKEPOCH, 0, zero, 4);
	assert_memory_equal(b.data, ae, sizeof ae);
	b.len = 0;
	packet(&b, ZAB_PING, (int64_t)ZXID(1, 0), zero, 0);  /* empty touch table, not null */
	assert_int_equal(b.len, sizeof pong);
	assert_memory_equal(b.data, pong, sizeof pong);
	b.len = 0;
	packet(&b, ZAB_UPTODATE, -1, NULL, -1);
	assert_memory_equal(b.data, uptodate, sizeof uptodate);
	/* and back */
	int type;
	uint64_t zxid;
	const uint8_t *d;
	int32_t len;
	size_t used;
	assert_int_equal(zab_decode_packet(b.data, b.len, &type, &zxid, &d, &len, &used), 0);
	assert_int_equal(type, ZAB_UPTODATE);
	assert_int_equal(len, -1);
	assert_int_equal(used, b.len);
	assert_int_equal(zab_decode_packet(b.data, b.len - 1, &type, &zxid, &d, &len, &used), -1);
	buf_free(&b);
}

static void test_codes_and_zxid(void **st)
{
	(void)st;
	assert_int_equal(ZAB_PROPOSAL, 2);
	assert_int_equal(ZAB_NEWLEADER, 10);
	assert_int_equal(ZAB_SNAP, 15);
	assert_int_equal(ZAB_ACKEPOCH, 18);
	assert_string_equal(zab_packet_name(ZAB_TRUNC), "TRUNC");
	assert_true(ZXID(1, 0x8d) == 0x10000008dull);
	assert_int_equal(ZXID_EPOCH(0x300000002ull), 3);
	assert_int_equal(ZXID_COUNTER(0x300000002ull), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_followerinfo),
		cmocka_unit_test(test_leaderinfo_ackepoch_ping),
		cmocka_unit_test(test_codes_and_zxid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
