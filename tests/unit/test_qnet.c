/* io/qnet over real loopback sockets in one libuv loop: two or three
 * members with recording sinks. Checks the QuorumCnxManager behaviours the
 * election relies on (one kept connection per pair, send queue of one,
 * re-send of the last message on a new connection, loop-back to self) and
 * the quorum port's connect/send/close/disconnect contract. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "io/clock.h"
#include "io/qnet.h"
#include "zab/zab.h"

#define MAXREC 64

struct member {
	struct qnet *q;
	struct zab_env env;
	uint64_t sid;
	bool in_env;          /* the test is inside an env call */
	bool reentered;       /* a sink call came from inside one */
	int nvotes;
	uint64_t vote_from[MAXREC];
	char vote[MAXREC][32];
	int npk;
	uint64_t pk_conn[MAXREC], pk_from[MAXREC];
	int32_t pk_type[MAXREC];
	size_t pk_len[MAXREC];
	struct buf last_pk;
	int ndisc;
	uint64_t disc[MAXREC];
	int ticks;
	bool follower;        /* refuses learners */
};

static uv_loop_t loop;
static int ports[3][2];  /* quorum, election */

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void sk_vote(void *ctx, uint64_t from, const uint8_t *m, size_t n, uint64_t now)
{
	struct member *mb = ctx;
	(void)now;
	mb->reentered |= mb->in_env;
	assert_true(mb->nvotes < MAXREC);
	mb->vote_from[mb->nvotes] = from;
	snprintf(mb->vote[mb->nvotes++], 32, "%.*s", (int)n, (const char *)m);
}

static void sk_packet(void *ctx, uint64_t conn, uint64_t from, const uint8_t *m, size_t n,
		      uint64_t now)
{
	struct member *mb = ctx;
	(void)now;
	mb->reentered |= mb->in_env;
	assert_true(mb->npk < MAXREC && n >= 4);
	mb->pk_conn[mb->npk] = conn;
	mb->pk_from[mb->npk] = from;
	mb->pk_len[mb->npk] = n;
	mb->last_pk.len = 0;
	buf_put(&mb->last_pk, m, n);
	mb->pk_type[mb->npk++] = (int32_t)be32_get(m);
}

static void sk_disconnect(void *ctx, uint64_t conn, uint64_t now)
{
	struct member *mb = ctx;
	(void)now;
	mb->reentered |= mb->in_env;
	assert_true(mb->ndisc < MAXREC);
	mb->disc[mb->ndisc++] = conn;
}

static void sk_tick(void *ctx, uint64_t now)
{
	struct member *mb = ctx;
	(void)now;
	mb->ticks++;
}

static bool sk_leading(void *ctx)
{
	struct member *mb = ctx;
	return !mb->follower;
}

static void start(struct member *mb, uint64_t sid, int nservers)
{
	memset(mb, 0, sizeof *mb);
	mb->sid = sid;
	buf_init(&mb->last_pk);
	struct qnet_config c;
	qnet_config_defaults(&c);
	c.my_sid = sid;
	c.tick_ms = 100;
	c.retry_min_ms = 20;
	c.retry_max_ms = 200;
	for (int i = 0; i < nservers; i++) {
		struct qnet_server *s = &c.servers[c.n_servers++];
		s->sid = (uint64_t)i + 1;
		snprintf(s->host, sizeof s->host, "127.0.0.1");
		s->quorum_port = ports[i][0];
		s->election_port = ports[i][1];
	}
	struct buf err;
	buf_init(&err);
	mb->q = qnet_new(&loop, &c, &err);
	assert_non_null(mb->q);
	struct zab_env app = {0};
	qnet_env(mb->q, &app, &mb->env);
	struct qnet_sink sink = {.ctx = mb, .vote = sk_vote, .packet = sk_packet,
				 .disconnect = sk_disconnect, .tick = sk_tick, .leading = sk_leading};
	assert_int_equal(qnet_start(mb->q, &sink, &err), 0);
	buf_free(&err);
}

static void stop(struct member *mb)
{
	qnet_stop(mb->q);
	uv_run(&loop, UV_RUN_NOWAIT);
	for (int i = 0; i < 50 && uv_loop_alive(&loop); i++)
		uv_run(&loop, UV_RUN_NOWAIT);
}

static void drop(struct member *mb)
{
	stop(mb);
	buf_free(&mb->last_pk);
	qnet_free(mb->q);
	mb->q = NULL;
}

/* Run the loop until cond() or 5 s. */
#define RUN_UNTIL(cond)                                                            \
	do {                                                                       \
		int64_t until_ = clock_monotonic_ms() + 5000;                      \
		while (!(cond) && clock_monotonic_ms() < until_)                   \
			uv_run(&loop, UV_RUN_ONCE);                                \
		assert_true(cond);                                                 \
	} while (0)

static void settle(int ms)
{
	int64_t until = clock_monotonic_ms() + ms;
	while (clock_monotonic_ms() < until)
		uv_run(&loop, UV_RUN_ONCE);
}

static void vote(struct member *mb, uint64_t to, const char *text)
{
	mb->in_env = true;
	mb->env.send_vote(mb->env.ctx, to, (const uint8_t *)text, strlen(text));
	mb->in_env = false;
}

static int setup(void **state)
{
	(void)state;
	uv_loop_init(&loop);
	for (int i = 0; i < 3; i++) {
		ports[i][0] = free_port();
		ports[i][1] = free_port();
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(uv_loop_close(&loop), 0);
	return 0;
}

static void test_votes_both_ways_and_to_self(void **state)
{
	(void)state;
	struct member a, b;
	start(&a, 1, 2);
	start(&b, 2, 2);
	vote(&a, 2, "a->b");  /* 1 < 2: 1 asks, 2 calls back and keeps it */
	vote(&b, 1, "b->a");
	vote(&a, 1, "a->a");
	assert_int_equal(a.nvotes, 0);  /* never from inside the env call */
	RUN_UNTIL(a.nvotes >= 2 && b.nvotes >= 1);
	settle(100);
	assert_false(a.reentered || b.reentered);
	bool self = false, from_b = false;
	for (int i = 0; i < a.nvotes; i++) {
		self |= a.vote_from[i] == 1 && strcmp(a.vote[i], "a->a") == 0;
		from_b |= a.vote_from[i] == 2 && strcmp(a.vote[i], "b->a") == 0;
	}
	assert_true(self && from_b);
	assert_int_equal(b.nvotes, 1);
	assert_int_equal(b.vote_from[0], 1);
	assert_string_equal(b.vote[0], "a->b");
	assert_true(qnet_election_connected(a.q, 2) && qnet_election_connected(b.q, 1));
	struct qnet_stats sa, sb;
	qnet_get_stats(a.q, &sa);
	qnet_get_stats(b.q, &sb);
	assert_int_equal(sa.elect_accepts, 1);  /* the kept connection is 2's */
	/* More traffic rides the one kept connection. */
	vote(&a, 2, "again");
	RUN_UNTIL(b.nvotes == 2);
	assert_string_equal(b.vote[1], "again");
	qnet_get_stats(a.q, &sa);
	assert_int_equal(sa.elect_accepts, 1);
	drop(&a);
	drop(&b);
}

static void test_queue_of_one_and_resend_on_new_connection(void **state)
{
	(void)state;
	struct member a, b;
	start(&a, 1, 2);
	/* 2 is down: only the newest of three messages is kept. */
	vote(&a, 2, "one");
	vote(&a, 2, "two");
	vote(&a, 2, "three");
	settle(100);
	start(&b, 2, 2);
	RUN_UNTIL(b.nvotes >= 1);
	settle(300);
	assert_int_equal(b.nvotes, 1);
	assert_string_equal(b.vote[0], "three");
	struct qnet_stats sa;
	qnet_get_stats(a.q, &sa);
	assert_int_equal(sa.votes_replaced, 2);
	/* 2 restarts: on the new connection 1 sends its last message again,
	 * with nothing new queued. */
	drop(&b);
	settle(50);
	start(&b, 2, 2);
	vote(&b, 1, "hello");  /* 2 dials 1 (it keeps that connection) */
	RUN_UNTIL(b.nvotes >= 1);
	assert_string_equal(b.vote[0], "three");
	qnet_get_stats(a.q, &sa);
	assert_int_equal(sa.votes_resent, 1);
	drop(&a);
	drop(&b);
}

static void send_packet(struct member *mb, uint64_t conn, int32_t type, const void *data, int32_t len)
{
	struct buf b;
	buf_init(&b);
	buf_put_be32(&b, (uint32_t)type);
	buf_put_be64(&b, 0);
	buf_put_be32(&b, (uint32_t)len);
	if (len > 0)
		buf_put(&b, data, (size_t)len);
	buf_put_be32(&b, (uint32_t)-1);
	mb->in_env = true;
	mb->env.send(mb->env.ctx, conn, b.data, b.len);
	mb->in_env = false;
	buf_free(&b);
}

/* SNAP: the leader's core sends packet + stream (ending with "/"); on the
 * wire qnet adds the signature, and takes it off again for the learner's
 * core, which gets exactly what was sent. */
static void check_snap(struct member *a, struct member *b, uint64_t lc)
{
	struct buf snap;
	buf_init(&snap);
	buf_put_be32(&snap, ZAB_SNAP);
	buf_put_be64(&snap, 0x100000000ULL);
	buf_put_be32(&snap, (uint32_t)-1);
	buf_put_be32(&snap, (uint32_t)-1);
	static const uint8_t stream[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	buf_put(&snap, stream, sizeof stream);  /* no sessions, no ACLs, root "", empty data, acl -1 */
	for (int i = 0; i < 60; i++)
		buf_put_u8(&snap, 0);
	buf_put(&snap, "\0\0\0\1/", 5);
	struct qnet_stats before, after;
	qnet_get_stats(b->q, &before);
	b->in_env = true;
	b->env.send(b->env.ctx, lc, snap.data, snap.len);
	b->in_env = false;
	send_packet(b, lc, ZAB_NEWLEADER, NULL, -1);
	RUN_UNTIL(a->npk == 3);
	assert_int_equal(a->pk_type[1], ZAB_SNAP);
	assert_int_equal(a->pk_len[1], snap.len);
	assert_int_equal(a->pk_type[2], ZAB_NEWLEADER);
	assert_memory_equal(a->last_pk.data, "\0\0\0\x0a", 4);  /* NEWLEADER right after it */
	qnet_get_stats(b->q, &after);
	assert_int_equal(after.bytes_out - before.bytes_out, snap.len + 14 + 20);
	buf_free(&snap);
}

static void test_quorum_connections(void **state)
{
	(void)state;
	struct member a, b;
	start(&a, 1, 2);
	start(&b, 2, 2);
	/* learner 1 -> leader 2; writes before the connect completes are kept */
	a.in_env = true;
	uint64_t c = a.env.connect(a.env.ctx, 2);
	a.in_env = false;
	assert_true(c != 0);
	uint8_t li[20] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0};
	send_packet(&a, c, ZAB_FOLLOWERINFO, li, 20);
	send_packet(&a, c, ZAB_ACK, NULL, -1);
	RUN_UNTIL(b.npk == 2);
	assert_int_equal(b.pk_type[0], ZAB_FOLLOWERINFO);
	assert_int_equal(b.pk_type[1], ZAB_ACK);
	assert_int_equal(b.pk_from[1], 1);  /* the sid, from its LearnerInfo */
	uint64_t lc = b.pk_conn[0];
	send_packet(&b, lc, ZAB_LEADERINFO, "\0\1\0\0", 4);
	RUN_UNTIL(a.npk == 1);
	assert_int_equal(a.pk_type[0], ZAB_LEADERINFO);
	assert_int_equal(a.pk_conn[0], c);
	check_snap(&a, &b, lc);
	/* the leader closes: the learner hears of it, the leader does not */
	b.in_env = true;
	b.env.close(b.env.ctx, lc);
	b.env.send(b.env.ctx, lc, (const uint8_t *)"x", 1);  /* after close: dropped */
	b.in_env = false;
	RUN_UNTIL(a.ndisc == 1);
	assert_int_equal(a.disc[0], c);
	settle(100);
	assert_int_equal(b.ndisc, 0);
	/* garbage from a "learner" closes that connection and is reported */
	a.in_env = true;
	uint64_t c2 = a.env.connect(a.env.ctx, 2);
	a.in_env = false;
	send_packet(&a, c2, ZAB_REQUEST, NULL, -7);
	RUN_UNTIL(b.ndisc == 1 && a.ndisc == 2);
	assert_int_equal(a.disc[1], c2);
	struct qnet_stats sb;
	qnet_get_stats(b.q, &sb);
	assert_int_equal(sb.bad_input, 1);
	/* a member that does not lead refuses learners: closed at once */
	b.follower = true;
	a.in_env = true;
	uint64_t c4 = a.env.connect(a.env.ctx, 2);
	a.in_env = false;
	send_packet(&a, c4, ZAB_FOLLOWERINFO, li, 20);
	RUN_UNTIL(a.ndisc == 3);
	assert_int_equal(a.disc[2], c4);
	settle(50);
	assert_int_equal(b.npk, 2);
	assert_int_equal(b.ndisc, 1);
	/* connecting to a leader that is not there: a disconnect, later */
	drop(&b);
	a.in_env = true;
	uint64_t c3 = a.env.connect(a.env.ctx, 2);
	a.in_env = false;
	RUN_UNTIL(a.ndisc == 4);
	assert_int_equal(a.disc[3], c3);
	assert_false(a.reentered || b.reentered);
	drop(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_votes_both_ways_and_to_self, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_of_one_and_resend_on_new_connection, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_quorum_connections, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
