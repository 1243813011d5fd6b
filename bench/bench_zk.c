/* zabbench on the official C client (libzookeeper_mt, async API), so the
 * figures can be checked against a client we did not write. Each session
 * is one zhandle (the library runs an I/O and a completion thread for it);
 * completions of one handle run on its one completion thread, so a
 * session's counters need no lock. A driver thread follows the phases:
 * it primes each session's window when issuing starts and reports when
 * the sessions are quiet. Rate limiting and the churn/watch ops are only in
 * the native engine. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zookeeper/zookeeper.h>

#include "base/zalloc.h"
#include "bench.h"

struct zsess {
	zhandle_t *zh;
	struct zb_shared *sh;
	int idx;
	atomic_int outstanding;
	struct zb_stats st;
	uint64_t rng;
	long create_n;
};

struct zreq {
	struct zsess *s;
	uint64_t t;
	bool pop;
};

static struct zsess *g_s;
static int g_ns;
static char *g_value;
static pthread_t g_driver;

static void zk_refill(struct zsess *s);

static void finish_req(struct zreq *r, int rc)
{
	struct zsess *s = r->s;
	uint64_t now = zb_now_ns();
	if (r->pop) {
		if (rc == ZOK || rc == ZNODEEXISTS)
			s->st.populated++;
		else
			s->st.pop_errors++;
	} else if (atomic_load(&s->sh->phase) != ZB_PH_MEASURE) {
		s->st.outside++;
	} else if (rc != ZOK) {
		zb_stats_error(&s->st, rc);
	} else {
		s->st.ops++;
		zb_hist_add(&s->st.hist, now - r->t);
	}
	zfree(r);
	atomic_fetch_sub(&s->outstanding, 1);
	zk_refill(s);
}

static void data_done(int rc, const char *v, int vlen, const struct Stat *st, const void *d)
{
	finish_req((struct zreq *)d, rc);
}

static void stat_done(int rc, const struct Stat *st, const void *d)
{
	finish_req((struct zreq *)d, rc);
}

static void string_done(int rc, const char *v, const void *d)
{
	finish_req((struct zreq *)d, rc);
}

static void strings_done(int rc, const struct String_vector *v, const void *d)
{
	finish_req((struct zreq *)d, rc);
}

static int zk_send(struct zsess *s, enum zb_op op, struct zreq *r, char *path, size_t n)
{
	const struct zb_config *cfg = s->sh->cfg;
	long key = cfg->keys > 0 ? (long)(zb_rand(&s->rng) % (uint64_t)cfg->keys) : 0;
	zb_key_path(path, n, cfg->root, key);
	switch (op) {
	case ZB_GET: return zoo_aget(s->zh, path, 0, data_done, r);
	case ZB_EXISTS: return zoo_aexists(s->zh, path, 0, stat_done, r);
	case ZB_SET: return zoo_aset(s->zh, path, g_value, cfg->value_size, -1, stat_done, r);
	case ZB_CHILDREN: return zoo_aget_children(s->zh, cfg->root, 0, strings_done, r);
	case ZB_CREATE:
		snprintf(path, n, "%s/z%d-%ld", cfg->root, s->idx, s->create_n++);
		return zoo_acreate(s->zh, path, g_value, cfg->value_size, &ZOO_OPEN_ACL_UNSAFE, 0,
				   string_done, r);
	default: return ZBADARGUMENTS;
	}
}

/* Issue one request if the phase wants one; false when nothing was sent. */
static bool zk_issue_one(struct zsess *s)
{
	const struct zb_config *cfg = s->sh->cfg;
	int ph = atomic_load(&s->sh->phase);
	char path[512];
	struct zreq *r = zmalloc(sizeof *r);
	*r = (struct zreq){.s = s, .t = zb_now_ns()};
	int rc;
	if (ph == ZB_PH_POPULATE) {
		long idx = atomic_fetch_add(&s->sh->pop_next, 1);
		if (idx >= cfg->populate)
			goto none;
		r->pop = true;
		zb_key_path(path, sizeof path, cfg->root, idx);
		rc = zoo_acreate(s->zh, path, g_value, cfg->value_size, &ZOO_OPEN_ACL_UNSAFE, 0,
				 string_done, r);
	} else if ((ph == ZB_PH_WARMUP || ph == ZB_PH_MEASURE) && cfg->op != ZB_NONE &&
		   zb_take_budget(s->sh)) {
		rc = zk_send(s, zb_pick_op(cfg, &s->rng), r, path, sizeof path);
	} else {
		goto none;
	}
	if (rc != ZOK) { /* refused before it was sent: still an error, counted */
		if (!r->pop && ph == ZB_PH_MEASURE)
			zb_stats_error(&s->st, rc);
		zfree(r);
		return false;
	}
	return true;
none:
	zfree(r);
	return false;
}

static void zk_refill(struct zsess *s)
{
	const struct zb_config *cfg = s->sh->cfg;
	while (atomic_fetch_add(&s->outstanding, 1) < cfg->window) {
		if (!zk_issue_one(s)) {
			atomic_fetch_sub(&s->outstanding, 1);
			return;
		}
	}
	atomic_fetch_sub(&s->outstanding, 1);
}

static void zk_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	struct zsess *s = ctx;
	if (type == ZOO_SESSION_EVENT && state == ZOO_CONNECTED_STATE)
		atomic_fetch_add(&s->sh->connected, 1);
}

static bool zk_quiet(void)
{
	for (int i = 0; i < g_ns; i++)
		if (atomic_load(&g_s[i].outstanding) > 0)
			return false;
	return true;
}

static void zk_close_all(struct zb_shared *sh)
{
	for (int i = 0; i < 500 && !zk_quiet(); i++) /* in-flight replies: up to 5 s */
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	for (int i = 0; i < g_ns; i++)
		if (g_s[i].zh)
			zookeeper_close(g_s[i].zh);
	atomic_fetch_add(&sh->drained_thr, 1);
}

static void *zk_driver(void *arg)
{
	struct zb_shared *sh = arg;
	int last = -1;
	bool pop_done = false, idle_done = false;
	for (;;) {
		int ph = atomic_load(&sh->phase);
		if (ph != last && (ph == ZB_PH_POPULATE || ph == ZB_PH_WARMUP || ph == ZB_PH_MEASURE))
			for (int i = 0; i < g_ns; i++)
				if (g_s[i].zh)
					zk_refill(&g_s[i]);
		if (ph != last && ph == ZB_PH_DRAIN) {
			zk_close_all(sh);
		}
		last = ph;
		if (ph == ZB_PH_EXIT)
			return NULL;
		if (ph == ZB_PH_POPULATE && !pop_done && atomic_load(&sh->pop_next) >= sh->cfg->populate &&
		    zk_quiet()) {
			pop_done = true;
			atomic_fetch_add(&sh->populated_thr, 1);
		}
		if (ph == ZB_PH_MEASURE && sh->cfg->max_ops > 0 && !idle_done &&
		    atomic_load(&sh->budget) <= 0 && zk_quiet()) {
			idle_done = true;
			atomic_fetch_add(&sh->idle_thr, 1);
		}
		nanosleep(&(struct timespec){0, 5000000}, NULL);
	}
}

int zb_zk_start(struct zb_shared *sh)
{
	const struct zb_config *cfg = sh->cfg;
	char hostport[300];
	snprintf(hostport, sizeof hostport, "%s:%d", cfg->host, cfg->port);
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
	g_value = zmalloc((size_t)cfg->value_size + 1);
	memset(g_value, 'v', (size_t)cfg->value_size);
	g_ns = cfg->sessions;
	g_s = zcalloc((size_t)g_ns, sizeof *g_s);
	for (int i = 0; i < g_ns; i++) {
		struct zsess *s = &g_s[i];
		s->sh = sh;
		s->idx = i;
		s->rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1) ^ zb_now_ns();
		s->zh = zookeeper_init(hostport, zk_watcher, cfg->session_timeout_ms, NULL, s, 0);
		if (!s->zh)
			atomic_fetch_add(&sh->failed, 1);
	}
	return pthread_create(&g_driver, NULL, zk_driver, sh) == 0 ? 0 : -1;
}

void zb_zk_finish(struct zb_stats *total)
{
	pthread_join(g_driver, NULL);
	for (int i = 0; i < g_ns; i++)
		zb_stats_merge(total, &g_s[i].st);
	zfree(g_s);
	zfree(g_value);
}
