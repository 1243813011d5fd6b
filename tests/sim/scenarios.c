/* scenarios: hand-written simulations with expected traces, in the style of
 * cowsql's CLUSTER_TRACE: each one drives a small ensemble through one
 * situation and checks (a) the protocol steps it must take, as an ordered
 * list of trace lines that must appear (derived from the protocol, e.g.
 * "the highest sid wins a tie"), (b) that no checker fired, and (c) that
 * after healing every server converges with no committed txn lost.
 * The bug_* scenarios are the ZooKeeper sync/recovery data-loss bugs of
 * reliability.md, replayed as schedules. */
#include <stdio.h>
#include <string.h>

#include "jute/jute.h"
#include "sim.h"

static struct sim S;
static bool g_trace;
static unsigned g_faults;            /* zab_fault bits (zabsim_faulty) */
static double g_factor = 0.33;       /* snapshotSizeFactor for the next sc_init */
static char g_violation[512];

const char *scenarios_violation(void) { return g_violation; }

static void sc_init(int voters, int observers, uint32_t commitlog, uint32_t snap,
		    enum sim_crash_mode cm, uint32_t fsync_ms)
{
	struct sim_config c = {
		.n_voters = voters, .n_observers = observers, .tick_ms = 100, .init_limit = 10,
		.sync_limit = 5, .commit_log_count = commitlog, .snap_count = snap, .n_clients = 2,
		.client_period_ms = 50, .crash_mode = cm, .faults = g_faults,
		.snap_size_factor = g_factor,
		.net = {.lat_min_ms = 2, .lat_max_ms = 2, .fsync_max_ms = fsync_ms},
	};
	g_factor = 0.33;
	sim_init(&S, &c, 1);
	S.trace = g_trace;
	S.capture = true;
}

static void run_for(uint64_t ms) { sim_run(&S, S.now + ms, NULL); }

static bool wait_until(bool (*cond)(void), uint64_t ms)
{
	uint64_t end = S.now + ms;
	while (!S.violation[0] && S.now < end && !cond())
		if (!sim_step(&S))
			break;
	return cond();
}

static bool have_leader(void) { return sim_leader(&S) >= 0; }

/* Wait for an established leader and for its learners' UPTODATE. */
static void elect(void)
{
	wait_until(have_leader, 5000);
	run_for(300);
}

/* Writes through `node` as client 0 (so that Integrity knows them). */
static void write_n(int node, int n)
{
	for (int i = 0; i < n; i++) {
		struct sim_txn t = {.op = TXN_WRITE, .key = (uint8_t)(i % SIM_KEYS), .value = 1000 + i,
				    .client = 0, .opid = S.client[0].next_opid++};
		sim_submit(&S, node, &t);
		run_for(20);
	}
	run_for(100);
}

static int expect(const char *const *want)
{
	size_t at = 0;
	for (int w = 0; want[w]; w++) {
		while (at < S.nlines && !strstr(S.lines[at], want[w]))
			at++;
		if (at == S.nlines) {
			fprintf(stderr, "scenario: expected trace line not found (in order): \"%s\"\n", want[w]);
			return 1;
		}
		at++;
	}
	return 0;
}

static int refuse(const char *line)
{
	for (size_t i = 0; i < S.nlines; i++)
		if (strstr(S.lines[i], line)) {
			fprintf(stderr, "scenario: unexpected trace line \"%s\"\n", S.lines[i]);
			return 1;
		}
	return 0;
}

static bool g_probe;
static uint64_t g_probe_zxid;
static int64_t g_probe_epoch;
static bool all_converged(void)
{
	int l = sim_leader(&S);
	if (l < 0)
		return false;
	struct peer *p = &S.node[l].peer;
	if (!g_probe || g_probe_epoch != p->z.L.new_epoch) {
		struct sim_txn t = {.op = TXN_NOOP, .client = UINT32_MAX};
		if (sim_submit(&S, l, &t) == 0) {
			g_probe = true;
			g_probe_epoch = p->z.L.new_epoch;
			g_probe_zxid = p->z.L.last_proposed;
		}
		return false;
	}
	return p->z.committed >= g_probe_zxid && sim_converged(&S, NULL);
}

/* Heal everything, restart everyone, converge, run the final checks. */
static int finish(int rc)
{
	S.clients_on = false;
	net_heal(&S);
	for (int i = 0; i < S.n; i++) {
		S.node[i].disk.capacity = 0;
		sim_restart(&S, i);
	}
	g_probe = false;
	if (!wait_until(all_converged, 60000) && !S.violation[0])
		violation(&S, "Liveness", "the healed ensemble did not converge");
	check_final(&S, NULL);
	snprintf(g_violation, sizeof g_violation, "%s", S.violation);
	if (S.violation[0]) {
		fprintf(stderr, "scenario: %s\n", S.violation);
		rc = 1;
	}
	sim_free(&S);
	return rc;
}

#define LINES(...) ((const char *const[]){__VA_ARGS__, NULL})

static int sc_election_3(void)
{
	sc_init(3, 0, 500, 0, CRASH_DROP_ALL, 5);
	elect();
	int rc = expect(LINES("s3 LEADING zxid=0x0", "s3 new epoch 1", "s3 ESTABLISHED epoch=1"));
	rc |= expect(LINES("s1 FOLLOWING 3", "s1 synced by DIFF 0x0", "s1 UPTODATE epoch=1"));
	rc |= expect(LINES("s2 FOLLOWING 3", "s2 UPTODATE epoch=1"));
	write_n(0, 3);
	return finish(rc);
}

static int sc_election_5(void)
{
	sc_init(5, 0, 500, 0, CRASH_DROP_ALL, 5);
	elect();
	write_n(1, 2);
	sim_crash(&S, 4);          /* the leader s5 */
	run_for(3000);
	/* equal zxids and epochs: the highest remaining sid wins, with epoch 2 */
	int rc = expect(LINES("s5 LEADING", "s5 ESTABLISHED epoch=1", "s5 crash", "s4 LEADING zxid=0x100000002",
			      "s4 new epoch 2", "s4 ESTABLISHED epoch=2 zxid=0x100000002"));
	rc |= expect(LINES("s5 crash", "s1 FOLLOWING 4"));
	return finish(rc);
}

static int sc_election_tie(void)
{
	sc_init(3, 0, 500, 0, CRASH_DROP_ALL, 5);
	elect();
	write_n(0, 2);
	net_isolate(&S, 2, true, true);   /* s3, the leader, leaves */
	run_for(3000);
	/* s1 and s2 tie on (epoch 1, zxid 0x100000002): sid 2 wins */
	int rc = expect(LINES("s3 ESTABLISHED epoch=1", "s2 LEADING zxid=0x100000002", "s2 ESTABLISHED epoch=2"));
	rc |= expect(LINES("s3 ESTABLISHED epoch=1", "s1 FOLLOWING 2"));
	rc |= expect(LINES("s3 role ended: lost the quorum of synced followers"));
	net_heal(&S);
	run_for(3000);
	rc |= expect(LINES("s2 ESTABLISHED epoch=2", "s3 FOLLOWING 2", "s3 UPTODATE epoch=2"));
	return finish(rc);
}

static int sc_join_established(void)
{
	sc_init(3, 0, 500, 0, CRASH_DROP_ALL, 5);
	sim_crash(&S, 0);
	elect();
	write_n(1, 4);
	sim_restart(&S, 0);
	run_for(2000);
	/* s1 learns the leader from FOLLOWING/LEADING replies: no new epoch */
	int rc = expect(LINES("s3 ESTABLISHED epoch=1", "s1 boot", "s1 FOLLOWING 3",
			      "s3 sync 1 DIFF 0x100000004 peer=0x0", "s1 UPTODATE epoch=1 zxid=0x100000004"));
	rc |= refuse("new epoch 2");
	return finish(rc);
}

static int sc_leader_crash_mid_broadcast(void)
{
	sc_init(3, 0, 500, 0, CRASH_KEEP_PREFIX, 30);
	elect();
	write_n(0, 3);
	struct sim_txn t = {.op = TXN_WRITE, .key = 1, .value = 77, .client = 0,
			    .opid = S.client[0].next_opid++};
	sim_submit(&S, 2, &t);      /* proposed by s3 ... */
	run_for(3);                 /* ... on the wire, not yet committed */
	sim_crash(&S, 2);
	run_for(3000);
	int rc = expect(LINES("s3 crash", "s2 LEADING", "s2 ESTABLISHED epoch=2"));
	return finish(rc);
}

static int sc_follower_behind_diff(void)
{
	sc_init(3, 0, 500, 0, CRASH_DROP_ALL, 5);
	elect();
	write_n(0, 2);
	sim_crash(&S, 0);
	write_n(1, 5);
	sim_restart(&S, 0);
	run_for(2000);
	int rc = expect(LINES("s1 boot", "s3 sync 1 DIFF 0x100000007 peer=0x100000002",
			      "s1 synced by DIFF 0x100000007", "s1 UPTODATE epoch=1 zxid=0x100000007"));
	return finish(rc);
}

static int sc_old_epoch_trunc(void)
{
	sc_init(3, 0, 500, 1, CRASH_DROP_ALL, 5);
	elect();
	write_n(0, 3);
	net_isolate(&S, 2, true, true);
	struct sim_txn t = {.op = TXN_WRITE, .key = 2, .value = 5, .client = 0,
			    .opid = S.client[0].next_opid++};
	sim_submit(&S, 2, &t);      /* logged by the old leader only: 0x100000004 */
	run_for(3000);
	net_heal(&S);
	run_for(3000);
	/* the new leader's history ends at 0x100000003 < 0x100000004: TRUNC */
	int rc = expect(LINES("s3 LOOKING zxid=0x100000004", "s3 FOLLOWING 2",
			      "s2 sync 3 TRUNC 0x100000003 peer=0x100000004", "s3 synced by TRUNC 0x100000003"));
	rc |= expect(LINES("s2 ESTABLISHED epoch=2 zxid=0x100000003", "s3 FOLLOWING 2"));
	write_n(0, 2);
	return finish(rc);
}

static int sc_far_behind_snap(void)
{
	sc_init(3, 0, 3, 0, CRASH_DROP_ALL, 5);
	elect();
	sim_crash(&S, 0);
	write_n(1, 20);
	sim_restart(&S, 0);
	run_for(2000);
	int rc = expect(LINES("s1 boot", "s3 sync 1 SNAP 0x100000014 peer=0x0",
			      "s1 synced by SNAP 0x100000014", "s1 UPTODATE epoch=1 zxid=0x100000014"));
	return finish(rc);
}

static int sc_partition_heal(void)
{
	sc_init(5, 0, 500, 0, CRASH_DROP_ALL, 5);
	S.client[0].node = 0;
	elect();
	write_n(0, 2);
	bool side[SIM_MAX_NODES] = {false, false, false, true, true};
	for (int a = 0; a < 5; a++)
		for (int b = 0; b < 5; b++)
			S.block[a][b] = side[a] != side[b];
	run_for(3000);
	write_n(0, 3);
	int rc = expect(LINES("s5 ESTABLISHED epoch=1", "s5 role ended: lost the quorum of synced followers"));
	rc |= expect(LINES("s5 ESTABLISHED epoch=1", "s3 LEADING zxid=0x100000002", "s3 ESTABLISHED epoch=2"));
	net_heal(&S);
	run_for(3000);
	rc |= expect(LINES("s3 ESTABLISHED epoch=2", "s5 FOLLOWING 3", "s5 UPTODATE epoch=2 zxid=0x200000003"));
	return finish(rc);
}

static int sc_observer(void)
{
	sc_init(3, 1, 500, 0, CRASH_DROP_ALL, 5);
	elect();
	run_for(1000);
	write_n(3, 3);              /* writes through the observer are forwarded */
	sim_crash(&S, 3);
	write_n(0, 2);
	sim_restart(&S, 3);
	run_for(2000);
	int rc = expect(LINES("s4 OBSERVING 3", "s4 UPTODATE epoch=1", "s4 crash", "s4 boot",
			      "s3 sync 4 DIFF 0x100000005 peer=0x100000003", "s4 UPTODATE epoch=1 zxid=0x100000005"));
	rc |= refuse("s3 drop learner 4: timeout");
	return finish(rc);
}

/* ZOOKEEPER-4394/-4643/-4646/-4685: a learner ACKs NEWLEADER (and writes
 * currentEpoch) and a quorum crashes before its sync txns reach the disk. */
static bool s1_acked_newleader(void)
{
	struct peer *p = &S.node[0].peer;
	return S.node[0].up && p->z.role == ZAB_FOLLOWING && p->z.F.newleader_acked;
}

static int sc_bug_quorum_crash_after_newleader_ack(void)
{
	sc_init(3, 0, 500, 0, CRASH_DROP_ALL, 200);  /* slow fsyncs, unsynced data lost */
	elect();
	sim_crash(&S, 0);
	write_n(1, 6);
	sim_restart(&S, 0);
	wait_until(s1_acked_newleader, 5000);
	sim_crash(&S, 0);           /* the fresh learner ... */
	sim_crash(&S, 2);           /* ... and the leader: a quorum */
	sim_restart(&S, 0);
	run_for(4000);
	/* s1 comes back with the sync txns on disk: its vote has them */
	int rc = expect(LINES("s1 boot", "s1 synced by DIFF", "s1 crash", "s1 boot",
			      "s1 LOOKING zxid=0x100000006 epoch=1"));
	return finish(rc);
}

/* ZOOKEEPER-3642/-2872: SNAP sync interrupted before NEWLEADER. */
static bool s1_got_snap(void)
{
	struct peer *p = &S.node[0].peer;
	return S.node[0].up && p->z.role == ZAB_FOLLOWING && p->z.F.mode == ZAB_SYNC_SNAP;
}

static int sc_bug_snap_interrupted(void)
{
	sc_init(3, 0, 3, 0, CRASH_DROP_ALL, 50);
	elect();
	sim_crash(&S, 0);
	write_n(1, 20);
	sim_restart(&S, 0);
	wait_until(s1_got_snap, 5000);
	sim_crash(&S, 2);           /* the leader dies after SNAP, before NEWLEADER */
	sim_crash(&S, 0);
	sim_restart(&S, 0);
	run_for(4000);
	int rc = expect(LINES("s1 synced by SNAP 0x100000014", "s3 crash", "s1 crash", "s1 boot",
			      "s1 LOOKING zxid=0x100000014"));
	return finish(rc);
}

/* ZOOKEEPER-1154/-1156/-2832: the server with the highest zxid (an
 * uncommitted txn) is absent at the election and comes back later. */
static int sc_bug_highest_zxid_absent(void)
{
	sc_init(3, 0, 500, 3, CRASH_KEEP_ALL, 5);
	elect();
	write_n(0, 3);
	net_isolate(&S, 2, true, true);
	struct sim_txn t = {.op = TXN_WRITE, .key = 0, .value = 9, .client = 0,
			    .opid = S.client[0].next_opid++};
	sim_submit(&S, 2, &t);      /* 0x100000004 only on s3 */
	run_for(50);
	for (int i = 0; i < 3; i++)
		sim_crash(&S, i);       /* full-ensemble crash */
	net_heal(&S);
	sim_restart(&S, 0);
	sim_restart(&S, 1);
	elect();
	write_n(0, 2);
	sim_restart(&S, 2);
	run_for(3000);
	/* its (1,4) is followed by (2,1) in the leader's log: another epoch → SNAP */
	int rc = expect(LINES("s2 ESTABLISHED epoch=2 zxid=0x100000003", "s3 boot",
			      "s2 sync 3 SNAP 0x200000002 peer=0x100000004", "s3 UPTODATE epoch=2 zxid=0x200000002"));
	return finish(rc);
}

/* reliability.md: follower isolated, then the leader partitioned, clients on. */
static int sc_bug_isolate_follower_then_leader(void)
{
	sc_init(3, 0, 500, 0, CRASH_DROP_ALL, 30);
	elect();
	clients_start(&S);
	run_for(1000);
	net_isolate(&S, 0, true, true);
	run_for(700);
	int l = sim_leader(&S);
	if (l >= 0)
		net_isolate(&S, l, true, true);
	run_for(1500);
	net_heal(&S);
	run_for(3000);
	int rc = expect(LINES("s3 ESTABLISHED epoch=1", "s1 role ended: no word from the leader"));
	rc |= S.st.acked ? 0 : (fprintf(stderr, "scenario: no write was acknowledged\n"), 1);
	return finish(rc);
}

/* ZOOKEEPER-4925: a proposal stream with a hole is refused. */
static int sc_bug_hole_refused(void)
{
	sc_init(3, 0, 500, 0, CRASH_DROP_ALL, 5);
	elect();
	write_n(0, 2);
	struct peer *p = &S.node[0].peer;
	uint8_t txn[SIM_LOGGED_BYTES];
	struct sim_txn t = {.op = TXN_WRITE, .key = 0, .value = 1, .client = 0, .opid = 999};
	sim_txn_wrap(p->z.last_logged + 2, &t, txn);
	struct buf b;
	buf_init(&b);
	jute_put_int(&b, ZAB_PROPOSAL);
	jute_put_long(&b, (int64_t)(p->z.last_logged + 2));   /* skips one */
	jute_put_buffer(&b, (struct jute_bytes){txn, SIM_LOGGED_BYTES});
	jute_put_int(&b, -1);
	sim_schedule(&S, (struct sim_ev){.at = S.now, .type = EV_PACKET, .node = 0, .from = 2,
					 .inc = S.node[0].inc, .conn = p->z.F.conn,
					 .data = b.data, .n = b.len});
	run_for(3000);
	int rc = expect(LINES("s1 refuse proposal 0x100000004 after 0x100000002 (hole)",
			      "s1 role ended: proposal stream has a hole", "s1 FOLLOWING 3",
			      "s1 UPTODATE epoch=1 zxid=0x100000002"));
	return finish(rc);
}

static int sc_disk_full(void)
{
	sc_init(3, 0, 500, 0, CRASH_DROP_ALL, 5);
	elect();
	write_n(0, 2);
	S.node[0].disk.capacity = disk_used(&S.node[0].disk) + 10;
	write_n(1, 3);
	run_for(2000);
	int rc = expect(LINES("s1 FATAL txn log append failed", "s1 crash"));
	S.node[0].disk.capacity = 0;
	return finish(rc);
}

/* ---- sync over snapshots, the txn log, and sync after a leader change ---- */

static void submit_one(int node, uint8_t key, int64_t value)
{
	struct sim_txn t = {.op = TXN_WRITE, .key = key, .value = value, .client = 0,
			    .opid = S.client[0].next_opid++};
	sim_submit(&S, node, &t);
}

static uint64_t newest_snap(int i)
{
	return disk_newest_snap(&S.node[i].disk);
}

static uint64_t log_end(int i)
{
	return disk_log_end(&S.node[i].disk);
}

static bool in_G(uint64_t zxid)
{
	for (size_t i = 0; i < S.nG; i++)
		if (S.G[i].zxid == zxid)
			return true;
	return false;
}

static int check(bool ok, const char *what)
{
	if (!ok)
		fprintf(stderr, "scenario: expected %s\n", what);
	return ok ? 0 : 1;
}

/* Writes acknowledged to a client: client 0 through `node`, one at a time. */
static bool client_idle(void) { return !S.client[0].busy; }
static int acked_writes(int node, int n)
{
	uint64_t before = S.st.acked;
	for (int i = 0; i < n; i++) {
		if (!client_op(&S, 0, node, OP_WRITE))
			break;
		wait_until(client_idle, 4000);
	}
	return check(S.st.acked == before + (uint64_t)n, "every client write acknowledged");
}

static int g_node;
static bool node_waits_sync(void)
{
	const struct peer *p = &S.node[g_node].peer;
	return S.node[g_node].up && p->z.role == ZAB_FOLLOWING && p->z.F.st == LR_WAIT_SYNC;
}
static uint64_t g_zxid;
static bool node_applied(void)
{
	return S.node[g_node].up && S.node[g_node].peer.z.last_applied >= g_zxid;
}
static bool node_serving(void)
{
	return S.node[g_node].up && peer_is_serving(&S.node[g_node].peer) &&
	       S.node[g_node].peer.z.role != ZAB_LEADING;
}

/* Five servers; epoch 1 commits `committed` txns everywhere, then s5, cut
 * off, logs `extra` more that never commit. After a full crash s5, s1 and
 * s2 come back and s5 leads epoch 2 with its longer history, but its
 * stream to s2 is cut right after s2's ACKEPOCH: only s1 is synced (and
 * applies the extra txns), and epoch 2 never gets its NEWLEADER quorum.
 * `until` says how far s1 gets before s5 and s1 crash. Then s2, s3, s4
 * establish epoch 3 without the extra txns. */
enum aborted_until { UNTIL_APPLIED, UNTIL_NEWLEADER_ACK, UNTIL_SNAP };
static void aborted_epoch(int committed, int extra, enum aborted_until until)
{
	elect();
	write_n(1, committed);
	run_for(1000);
	net_isolate(&S, 4, true, true);
	for (int i = 0; i < extra; i++)
		submit_one(4, (uint8_t)(i % SIM_KEYS), 500 + i);
	run_for(600);
	for (int i = 0; i < 5; i++)
		sim_crash(&S, i);
	net_heal(&S);
	sim_restart(&S, 4);
	sim_restart(&S, 0);
	sim_restart(&S, 1);
	g_node = 1;
	wait_until(node_waits_sync, 5000);
	S.block[4][1] = true;       /* s5's sync stream to s2 is lost */
	g_node = 0;
	g_zxid = ZXID(1, committed + extra);
	if (until == UNTIL_NEWLEADER_ACK)
		wait_until(s1_acked_newleader, 5000);
	else if (until == UNTIL_SNAP)
		wait_until(s1_got_snap, 5000);
	else
		wait_until(node_applied, 5000);
	sim_crash(&S, 4);
	sim_crash(&S, 0);
	net_heal(&S);
	sim_restart(&S, 2);
	sim_restart(&S, 3);
	elect();
}

/* ZOOKEEPER-1549 (and -2832/-3911): a follower's durable snapshot holds a
 * txn that never committed. Here s1 applies s5's uncommitted 0x100000004
 * during the aborted epoch 2, snapshots it, and crashes before its log
 * entry reaches the disk: the snapshot is newer than its log. When it
 * comes back, the epoch-3 leader (which lacks the txn) must not DIFF on
 * top of that state: s1 reports 0x100000004, which the leader's history
 * follows with an epoch-3 txn, so it gets SNAP and the txn is gone. */
static int sc_bug_diff_dirty_snapshot(void)
{
	sc_init(5, 0, 500, 1, CRASH_DROP_ALL, 200);
	aborted_epoch(3, 1, UNTIL_APPLIED);
	int rc = check(newest_snap(0) == 0x100000004 && log_end(0) == 0x100000003,
		       "s1 to hold a snapshot at 0x100000004 beyond its log (0x100000003)");
	rc |= expect(LINES("s5 LEADING zxid=0x100000004", "s5 sync 1 DIFF 0x100000004 peer=0x100000003",
			   "s1 synced by DIFF 0x100000004", "s1 crash", "s4 LEADING zxid=0x100000003",
			   "s4 ESTABLISHED epoch=3 zxid=0x100000003"));
	rc |= acked_writes(3, 2);
	sim_restart(&S, 0);
	g_node = 0;
	wait_until(node_serving, 5000);
	rc |= expect(LINES("s4 ESTABLISHED epoch=3", "s1 boot",
			   "s1 disk: log ends at 0x100000003 below snapshot 0x100000004: dropped",
			   "s1 LOOKING zxid=0x100000004 epoch=1", "s1 FOLLOWING 4",
			   "s4 sync 1 SNAP 0x300000002 peer=0x100000004", "s1 synced by SNAP 0x300000002",
			   "s1 UPTODATE epoch=3 zxid=0x300000002"));
	rc |= refuse("s4 sync 1 DIFF");
	rc |= check(!in_G(0x100000004), "0x100000004 never committed");
	rc |= check(S.node[0].app.n == 5 && S.node[0].app.h[3].zxid == 0x300000001,
		    "s1's history to be the leader's: 3 epoch-1 txns, then 0x300000001");
	return finish(rc);
}

/* TRUNC past a snapshot, the learner's way: s1 holds a periodic snapshot
 * (0x100000007) newer than the TRUNC point (0x100000004), made of txns of
 * the aborted epoch 2 that it had also logged and ACKed NEWLEADER for.
 * The truncation drops that snapshot with the log tail, and s1 reloads
 * from the older snapshot (0x100000003) plus the log up to 0x100000004.
 * (ZooKeeper 3.8 keeps the newer snapshot and reloads from it.) */
static int sc_bug_trunc_past_snapshot(void)
{
	sc_init(5, 0, 500, 3, CRASH_DROP_ALL, 5);
	aborted_epoch(4, 3, UNTIL_NEWLEADER_ACK);
	int rc = check(newest_snap(0) == 0x100000007 && log_end(0) == 0x100000007,
		       "s1 to hold a snapshot at 0x100000007 and its log to 0x100000007");
	sim_restart(&S, 0);
	g_node = 0;
	wait_until(node_serving, 5000);
	rc |= expect(LINES("s4 ESTABLISHED epoch=3 zxid=0x100000004", "s1 boot",
			   "s1 LOOKING zxid=0x100000007 epoch=2", "s1 FOLLOWING 4",
			   "s4 sync 1 TRUNC 0x100000004 peer=0x100000007", "s1 synced by TRUNC 0x100000004",
			   "s1 UPTODATE epoch=3 zxid=0x100000004"));
	rc |= check(newest_snap(0) == 0x100000003 && log_end(0) == 0x100000004,
		    "s1's snapshot 0x100000007 and log tail dropped, reloaded from 0x100000003 + log");
	rc |= acked_writes(3, 2);
	return finish(rc);
}

/* TRUNC past a snapshot that cannot be undone: s1's only snapshot is the
 * one s5 installed by SNAP in the aborted epoch, at 0x100000007, holding
 * three txns that never committed. No state at or below the TRUNC point
 * (0x100000004) can be rebuilt, so s1 changes nothing, leaves the sync,
 * and the leader, which saw it leave before its NEWLEADER ACK, sends SNAP.
 * (A 3.8 Java learner exits on the failed truncation and, restarted,
 * would loop on the same TRUNC from a Java leader.) */
static int sc_bug_trunc_below_snap_base(void)
{
	sc_init(5, 0, 3, 3, CRASH_DROP_ALL, 5);
	sim_crash(&S, 0);
	aborted_epoch(4, 3, UNTIL_SNAP);
	int rc = check(disk_n_snaps(&S.node[0].disk) == 1 && newest_snap(0) == 0x100000007,
		       "s1's only snapshot to be the installed 0x100000007");
	sim_restart(&S, 0);
	g_node = 0;
	wait_until(node_serving, 8000);
	rc |= expect(LINES("s5 sync 1 SNAP 0x100000007 peer=0x0", "s1 synced by SNAP 0x100000007",
			   "s4 ESTABLISHED epoch=3 zxid=0x100000004", "s1 boot", "s1 FOLLOWING 4",
			   "s4 sync 1 TRUNC 0x100000004 peer=0x100000007",
			   "s1 cannot truncate to 0x100000004: no snapshot at or below it",
			   "s1 role ended: TRUNC below our oldest snapshot", "s4 drop learner 1",
			   "s1 FOLLOWING 4", "s4 sync 1 SNAP 0x100000004 peer=0x100000007 (left its last TRUNC sync)",
			   "s1 synced by SNAP 0x100000004", "s1 UPTODATE epoch=3 zxid=0x100000004"));
	rc |= refuse("FATAL");
	rc |= acked_writes(3, 2);
	return finish(rc);
}

/* Rule 4 of LearnerHandler.syncFollower: a learner behind the leader's
 * in-memory window (3 txns here) is DIFFed from the on-disk txn log when
 * the log reaches back to it and snapshotSizeFactor allows (0 here: no
 * limit; the only snapshot is the empty snapshot.0, 62 bytes of framing,
 * whose 0.33 would refuse any log); with the log from its zxid on larger
 * than 0.33 × the newest snapshot file, it gets SNAP. */
static int sc_diff_from_txnlog(void)
{
	g_factor = 0;
	sc_init(3, 0, 3, 0, CRASH_DROP_ALL, 5);
	elect();
	write_n(0, 2);
	sim_crash(&S, 0);
	write_n(1, 20);
	sim_restart(&S, 0);
	run_for(2000);
	int rc = expect(LINES("s1 boot", "s3 sync 1 DIFF 0x100000016 peer=0x100000002 txnlog",
			      "s1 synced by DIFF 0x100000016", "s1 UPTODATE epoch=1 zxid=0x100000016"));
	rc |= check(S.node[2].disk.n_log_reads == 1, "one read of s3's txn log");
	return finish(rc);
}

static int sc_txnlog_size_limit(void)
{
	sc_init(3, 0, 3, 10, CRASH_DROP_ALL, 5);
	elect();
	write_n(0, 2);
	sim_crash(&S, 0);
	write_n(1, 20);
	sim_restart(&S, 0);
	run_for(2000);
	/* log from 0x100000002 on: 21 entries of 71 bytes (TxnHeader 32 + 26 +
	 * 13) > 0.33 × snapshot file of 20 txns (4 + 20 × 34 + 62 = 746) */
	int rc = expect(LINES("s1 boot", "s3 sync 1 SNAP 0x100000016 peer=0x100000002",
			      "s1 synced by SNAP 0x100000016", "s1 UPTODATE epoch=1 zxid=0x100000016"));
	rc |= check(S.node[2].disk.n_log_reads == 0, "no read of s3's txn log");
	return finish(rc);
}

/* ZOOKEEPER-1675: a leader that its followers have left (their ends of
 * the connections were reset; it hears nothing and believes it leads
 * until syncLimit) must not answer a sync: a write acknowledged by the
 * new leader would be missing from the read after it. Here the sync at
 * the deposed s3 stays unanswered until s3 steps down. The faulty build
 * (--faults=16: answer without hearing from a quorum) must fail this on
 * Linearizability. */
static int g_old;
static bool old_still_leads_new_established(void)
{
	int l = -1;
	for (int i = 0; i < S.n; i++)
		if (i != g_old && S.node[i].up && peer_is_established_leader(&S.node[i].peer))
			l = i;
	return l >= 0 && peer_is_established_leader(&S.node[g_old].peer);
}

static int sc_bug_sync_deposed_leader(void)
{
	sc_init(3, 0, 500, 0, CRASH_DROP_ALL, 5);
	elect();
	write_n(0, 2);
	g_old = 2;
	net_half_open(&S, 2);
	wait_until(old_still_leads_new_established, 2000);
	int rc = check(old_still_leads_new_established(), "s2 established while s3 still leads");
	rc |= acked_writes(1, 1);
	rc |= check(peer_is_established_leader(&S.node[2].peer), "s3 to still believe it leads");
	uint64_t reads = S.st.sync_reads;
	rc |= check(client_op(&S, 1, 2, OP_SYNC_READ), "a sync at s3 to start");
	run_for(1000);
	rc |= check(S.st.sync_reads == reads, "the sync at the deposed s3 not to be answered");
	rc |= expect(LINES("s2 ESTABLISHED epoch=2", "s3 role ended: lost the quorum of synced followers"));
	net_heal(&S);
	/* and a sync at the new leader and at its follower is answered */
	rc |= check(client_op(&S, 0, 1, OP_SYNC_READ), "a sync at s2 to start");
	wait_until(client_idle, 1000);
	rc |= check(client_op(&S, 0, 0, OP_SYNC_READ), "a sync at s1 to start");
	wait_until(client_idle, 1000);
	rc |= check(S.st.sync_reads == reads + 2, "both syncs answered");
	return finish(rc);
}

struct scenario { const char *name; int (*fn)(void); };
static const struct scenario all[] = {
	{"election_3", sc_election_3},
	{"election_5", sc_election_5},
	{"election_tie", sc_election_tie},
	{"join_established", sc_join_established},
	{"leader_crash_mid_broadcast", sc_leader_crash_mid_broadcast},
	{"follower_behind_diff", sc_follower_behind_diff},
	{"old_epoch_trunc", sc_old_epoch_trunc},
	{"far_behind_snap", sc_far_behind_snap},
	{"partition_heal", sc_partition_heal},
	{"observer", sc_observer},
	{"bug_quorum_crash_after_newleader_ack", sc_bug_quorum_crash_after_newleader_ack},
	{"bug_snap_interrupted", sc_bug_snap_interrupted},
	{"bug_highest_zxid_absent", sc_bug_highest_zxid_absent},
	{"bug_isolate_follower_then_leader", sc_bug_isolate_follower_then_leader},
	{"bug_hole_refused", sc_bug_hole_refused},
	{"disk_full", sc_disk_full},
	{"bug_diff_dirty_snapshot", sc_bug_diff_dirty_snapshot},
	{"bug_trunc_past_snapshot", sc_bug_trunc_past_snapshot},
	{"bug_trunc_below_snap_base", sc_bug_trunc_below_snap_base},
	{"diff_from_txnlog", sc_diff_from_txnlog},
	{"txnlog_size_limit", sc_txnlog_size_limit},
	{"bug_sync_deposed_leader", sc_bug_sync_deposed_leader},
};

void scenarios_list(void)
{
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		printf("%s\n", all[i].name);
}

int scenarios_run(const char *name, bool trace, unsigned faults)
{
	int rc = 0, found = 0;
	g_trace = trace;
	g_faults = faults;
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		if (strcmp(name, "all") && strcmp(name, all[i].name))
			continue;
		found = 1;
		int r = all[i].fn();
		printf("scenario %s: %s\n", all[i].name, r ? "FAIL" : "ok");
		rc |= r;
	}
	if (!found)
		fprintf(stderr, "no scenario %s\n", name);
	return found ? rc : 2;
}
