/* qnet_probe: one ensemble member made of the real peer (FLE + ZAB) over
 * the real network shell (io/qnet), with an in-memory disk and an
 * application that keeps nothing. It reads a zoo.cfg and <dataDir>/myid as
 * the server will, joins the election and, once decided, leads or follows
 * through the quorum port: against Java servers it proves the election
 * port and the learner side of the quorum port byte-compatible.
 *
 * stdout gets one JSON line per change of role:
 *   {"event":"decided","sid":3,"state":"FOLLOWING","leader":2,"election_epoch":1}
 *   {"event":"serving","sid":3,"state":"FOLLOWING","leader":2,"epoch":1,"zxid":"0x100000000"}
 *   {"event":"looking","sid":3,"why":"..."}
 * stderr gets the core's trace lines.
 *
 * usage: qnet_probe zoo.cfg [--run-ms N] [--epoch E] [--dump FILE]
 *   --run-ms   exit after N ms (default 120000; SIGTERM also stops it)
 *   --epoch E  start as if a snapshot at zxid E<<32 (the app_snapshot state)
 *              and epochs E were on disk: a fresh learner then needs SNAP
 *   --dump     append every message received from a leader to FILE: the
 *              quorum byte stream as qstream split it (the SNAP signature,
 *              which qnet strips, put back) */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "base/buf.h"
#include "base/zalloc.h"
#include "config/zoocfg.h"
#include "io/clock.h"
#include "io/qnet.h"
#include "jute/jute.h"
#include "peer/peer.h"

struct entry {
	uint64_t zxid;
	uint8_t *p;
	size_t n;
};

struct probe {
	uv_loop_t *loop;
	struct peer peer;
	struct qnet *q;
	struct qnet_sink inner;
	uint64_t sid;
	/* the in-memory disk */
	int64_t epochs[2];
	struct buf snap;
	uint64_t snap_zxid;
	bool has_snap;
	struct entry *log;
	size_t nlog, caplog;
	uint64_t flushed_to;
	uv_timer_t flush, stop_timer;
	uv_signal_t sigterm;
	/* what was last printed */
	uint64_t printed_elections;
	bool printed_serving;
	FILE *dump;
	uint64_t applied;
};

static const char *state_name(int32_t s)
{
	return s == FLE_LEADING ? "LEADING" : s == FLE_FOLLOWING ? "FOLLOWING"
		: s == FLE_OBSERVING ? "OBSERVING" : "LOOKING";
}

/* ---- store: memory --------------------------------------------------- */

static void log_drop_after(struct probe *pr, uint64_t zxid)
{
	while (pr->nlog && pr->log[pr->nlog - 1].zxid > zxid)
		zfree(pr->log[--pr->nlog].p);
}

static int st_append(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct probe *pr = ctx;
	if (pr->nlog == pr->caplog) {
		pr->caplog = pr->caplog ? pr->caplog * 2 : 64;
		pr->log = zrealloc(pr->log, pr->caplog * sizeof *pr->log);
	}
	uint8_t *c = zmalloc(n ? n : 1);
	memcpy(c, p, n);
	pr->log[pr->nlog++] = (struct entry){zxid, c, n};
	return 0;
}

static void on_flush(uv_timer_t *t)
{
	struct probe *pr = t->data;
	uint64_t upto = pr->nlog ? pr->log[pr->nlog - 1].zxid : pr->snap_zxid;
	pr->flushed_to = upto;
	peer_on_persisted(&pr->peer, upto, (uint64_t)clock_monotonic_ms());
	qnet_rearm(pr->q);
}

static void st_flush(void *ctx)
{
	struct probe *pr = ctx;
	/* "fsync" completes after the current event, as the log thread's would. */
	uv_timer_start(&pr->flush, on_flush, 0, 0);
}

static int st_truncate(void *ctx, uint64_t zxid)
{
	struct probe *pr = ctx;
	if (pr->has_snap && pr->snap_zxid > zxid)
		return 1;
	log_drop_after(pr, zxid);
	return 0;
}

static int st_snap_install(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct probe *pr = ctx;
	pr->snap.len = 0;
	buf_put(&pr->snap, p, n);
	pr->snap_zxid = zxid;
	pr->has_snap = true;
	log_drop_after(pr, 0);
	return 0;
}

static int st_snap_save(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	(void)ctx; (void)zxid; (void)p; (void)n;
	return 0;
}

static int st_epoch(void *ctx, enum zab_epoch_file which, uint64_t e)
{
	struct probe *pr = ctx;
	pr->epochs[which] = (int64_t)e;
	return 0;
}

static int st_load(void *ctx, void *arg,
		   void (*snap)(void *, uint64_t, const uint8_t *, size_t),
		   void (*entry)(void *, uint64_t, const uint8_t *, size_t),
		   int64_t *acc, int64_t *cur, uint64_t *durable)
{
	struct probe *pr = ctx;
	snap(arg, pr->has_snap ? pr->snap_zxid : 0, pr->snap.data, pr->has_snap ? pr->snap.len : 0);
	for (size_t i = 0; i < pr->nlog; i++)
		if (pr->log[i].zxid > pr->snap_zxid)
			entry(arg, pr->log[i].zxid, pr->log[i].p, pr->log[i].n);
	*acc = pr->epochs[ZAB_ACCEPTED_EPOCH];
	*cur = pr->epochs[ZAB_CURRENT_EPOCH];
	*durable = pr->flushed_to;
	return 0;
}

/* ---- application: nothing kept ---------------------------------------- */

static void app_apply(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	struct probe *pr = ctx;
	(void)zxid; (void)p; (void)n;
	pr->applied++;
}

/* The smallest snapshot stream a Java learner loads (§5.4.5, §6.5.1; the
 * signature is qnet's): no sessions, no ACLs, the built-in nodes "",
 * /zookeeper and /zookeeper/quota (acl -1, zero stat), then "/". */
static void app_snapshot(void *ctx, struct buf *out)
{
	(void)ctx;
	jute_put_int(out, 0);
	jute_put_int(out, 0);
	static const char *const paths[] = {"", "/zookeeper", "/zookeeper/quota"};
	for (int k = 0; k < 3; k++) {
		jute_put_cstr(out, paths[k]);
		jute_put_int(out, 0);
		jute_put_long(out, -1);
		for (int i = 0; i < 60; i++)
			buf_put_u8(out, 0);
	}
	jute_put_cstr(out, "/");
}

static int app_restore(void *ctx, uint64_t zxid, const uint8_t *p, size_t n)
{
	(void)ctx; (void)zxid; (void)p; (void)n;
	return 0;
}

static void app_trace(void *ctx, const char *line)
{
	struct probe *pr = ctx;
	fprintf(stderr, "[probe %" PRIu64 "] %s\n", pr->sid, line);
}

static void app_fatal(void *ctx, const char *why)
{
	struct probe *pr = ctx;
	fprintf(stderr, "[probe %" PRIu64 "] FATAL %s\n", pr->sid, why);
	exit(2);
}

/* ---- sink: the peer, plus reporting ------------------------------------ */

static void report(struct probe *pr)
{
	struct peer *p = &pr->peer;
	if (p->n_elections != pr->printed_elections) {
		pr->printed_elections = p->n_elections;
		pr->printed_serving = false;
		printf("{\"event\":\"decided\",\"sid\":%" PRIu64 ",\"state\":\"%s\",\"leader\":%" PRIu64
		       ",\"election_epoch\":%" PRId64 "}\n",
		       pr->sid, state_name(p->state), p->leader, p->fle.current_vote.election_epoch);
	}
	bool serving = peer_is_serving(p);
	if (serving && !pr->printed_serving) {
		pr->printed_serving = true;
		printf("{\"event\":\"serving\",\"sid\":%" PRIu64 ",\"state\":\"%s\",\"leader\":%" PRIu64
		       ",\"epoch\":%" PRId64 ",\"zxid\":\"0x%" PRIx64 "\"}\n",
		       pr->sid, state_name(p->state), p->leader, p->z.current_epoch, p->z.last_applied);
	} else if (!serving && pr->printed_serving && p->state == FLE_LOOKING) {
		pr->printed_serving = false;
		printf("{\"event\":\"looking\",\"sid\":%" PRIu64 "}\n", pr->sid);
	}
	fflush(stdout);
}

static void sk_vote(void *ctx, uint64_t from, const uint8_t *m, size_t n, uint64_t now)
{
	struct probe *pr = ctx;
	pr->inner.vote(pr->inner.ctx, from, m, n, now);
}

static void sk_packet(void *ctx, uint64_t conn, uint64_t from, const uint8_t *m, size_t n,
		      uint64_t now)
{
	struct probe *pr = ctx;
	if (pr->dump && pr->peer.z.role != ZAB_LEADING && conn == pr->peer.z.F.conn) {
		fwrite(m, 1, n, pr->dump);
		if (n >= 4 && be32_get(m) == ZAB_SNAP)  /* qnet took the signature off */
			fwrite("\0\0\0\x0a" "BenWasHere", 1, 14, pr->dump);
		fflush(pr->dump);
	}
	pr->inner.packet(pr->inner.ctx, conn, from, m, n, now);
}

static void sk_disconnect(void *ctx, uint64_t conn, uint64_t now)
{
	struct probe *pr = ctx;
	pr->inner.disconnect(pr->inner.ctx, conn, now);
}

static void sk_tick(void *ctx, uint64_t now)
{
	struct probe *pr = ctx;
	pr->inner.tick(pr->inner.ctx, now);
}

static uint64_t sk_deadline(void *ctx)
{
	struct probe *pr = ctx;
	return pr->inner.deadline(pr->inner.ctx);
}

static bool sk_leading(void *ctx)
{
	struct probe *pr = ctx;
	return pr->inner.leading(pr->inner.ctx);
}

static void sk_after(void *ctx, uint64_t now)
{
	(void)now;
	report(ctx);
}

/* ---- main ---------------------------------------------------------------- */

static void closer(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void stop(struct probe *pr)
{
	qnet_stop(pr->q);
	uv_walk(pr->loop, closer, NULL);
}

static void on_stop_timer(uv_timer_t *t)
{
	stop(t->data);
}

static void on_sigterm(uv_signal_t *s, int sig)
{
	(void)sig;
	stop(s->data);
}

static int setup(struct probe *pr, const struct zoocfg *zc, uint64_t *voters, int *nv,
		 uint64_t *observers, int *no, struct buf *membership)
{
	struct buf err;
	buf_init(&err);
	int64_t myid;
	struct qnet_config qc;
	if (zoocfg_read_myid(zc, &myid, &err) != 0 ||
	    qnet_config_from_zoocfg(&qc, zc, (uint64_t)myid, &err) != 0 ||
	    !(pr->q = qnet_new(pr->loop, &qc, &err))) {
		fprintf(stderr, "qnet_probe: %.*s\n", (int)err.len, (char *)err.data);
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	pr->sid = (uint64_t)myid;
	for (size_t i = 0; i < zc->nservers; i++) {
		if (zc->servers[i].type == ZOOCFG_OBSERVER)
			observers[(*no)++] = (uint64_t)zc->servers[i].sid;
		else
			voters[(*nv)++] = (uint64_t)zc->servers[i].sid;
	}
	zoocfg_membership(zc, zc->config_version, membership);
	buf_put_u8(membership, 0);
	return 0;
}

struct opts {
	uint64_t run_ms;
	const char *dump;
	int64_t preload;
};

static void parse_opts(int argc, char **argv, struct opts *o)
{
	o->run_ms = 120000;
	o->dump = NULL;
	o->preload = 0;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--run-ms") == 0)
			o->run_ms = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--dump") == 0)
			o->dump = argv[i + 1];
		else if (strcmp(argv[i], "--epoch") == 0)
			o->preload = strtoll(argv[i + 1], NULL, 10);
	}
}

static void teardown(struct probe *pr, struct zoocfg *zc, struct buf *membership)
{
	peer_free(&pr->peer);
	qnet_free(pr->q);
	log_drop_after(pr, 0);
	zfree(pr->log);
	buf_free(&pr->snap);
	buf_free(membership);
	zoocfg_free(zc);
	if (pr->dump)
		fclose(pr->dump);
	uv_loop_close(pr->loop);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: qnet_probe zoo.cfg [--run-ms N] [--epoch E] [--dump FILE]\n");
		return 2;
	}
	struct opts o;
	parse_opts(argc, argv, &o);
	uint64_t run_ms = o.run_ms;
	const char *dump = o.dump;
	int64_t preload = o.preload;
	signal(SIGPIPE, SIG_IGN);  /* a peer that went away is a closed connection */
	struct zoocfg zc;
	struct buf err;
	buf_init(&err);
	if (zoocfg_load(&zc, argv[1], &err) != 0) {
		fprintf(stderr, "qnet_probe: %.*s\n", (int)err.len, (char *)err.data);
		return 2;
	}
	buf_free(&err);
	static struct probe pr;
	pr.loop = uv_default_loop();
	pr.epochs[0] = pr.epochs[1] = -1;
	buf_init(&pr.snap);
	if (preload > 0) {
		pr.epochs[0] = pr.epochs[1] = preload;
		pr.snap_zxid = pr.flushed_to = (uint64_t)preload << 32;
		pr.has_snap = true;
		app_snapshot(&pr, &pr.snap);
	}
	uint64_t voters[ZAB_MAX_SERVERS], observers[ZAB_MAX_SERVERS];
	int nv = 0, no = 0;
	struct buf membership;
	buf_init(&membership);
	if (setup(&pr, &zc, voters, &nv, observers, &no, &membership) != 0)
		return 2;
	if (dump)
		pr.dump = fopen(dump, "ab");
	struct zab_env app = {.ctx = &pr, .apply = app_apply, .snapshot = app_snapshot,
			      .restore = app_restore, .trace = app_trace, .fatal = app_fatal};
	struct zab_env env;
	qnet_env(pr.q, &app, &env);
	struct zab_store store = {.ctx = &pr, .log_append = st_append, .log_flush = st_flush,
				  .log_truncate = st_truncate, .snap_install = st_snap_install,
				  .snap_save = st_snap_save, .epoch_save = st_epoch, .load = st_load};
	struct peer_config pc = {
		.my_sid = pr.sid, .voters = voters, .n_voters = nv, .observers = observers,
		.n_observers = no, .tick_ms = (uint32_t)zc.tick_time,
		.init_limit = (uint32_t)zc.init_limit, .sync_limit = (uint32_t)zc.sync_limit,
		.commit_log_count = 500, .snap_count = 0, .snap_size_factor = 0.33,
		.config_text = (const char *)membership.data,
	};
	uv_timer_init(pr.loop, &pr.flush);
	pr.flush.data = &pr;
	if (peer_init(&pr.peer, &pc, &env, &store, (uint64_t)clock_monotonic_ms()) != 0)
		return 2;
	pr.inner = qnet_peer_sink(&pr.peer);
	struct qnet_sink sink = {.ctx = &pr, .vote = sk_vote, .packet = sk_packet,
				 .disconnect = sk_disconnect, .tick = sk_tick,
				 .deadline = sk_deadline, .leading = sk_leading, .after = sk_after};
	buf_init(&err);
	if (qnet_start(pr.q, &sink, &err) != 0) {
		fprintf(stderr, "qnet_probe: %.*s\n", (int)err.len, (char *)err.data);
		return 2;
	}
	buf_free(&err);
	uv_timer_init(pr.loop, &pr.stop_timer);
	pr.stop_timer.data = &pr;
	uv_timer_start(&pr.stop_timer, on_stop_timer, run_ms, 0);
	uv_signal_init(pr.loop, &pr.sigterm);
	pr.sigterm.data = &pr;
	uv_signal_start(&pr.sigterm, on_sigterm, SIGTERM);
	uv_run(pr.loop, UV_RUN_DEFAULT);
	teardown(&pr, &zc, &membership);
	return 0;
}
