#include "admin/fourlw.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/clock.h"
#include "jute/proto.h"

static const char *const WORDS[] = {"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk",
				    "srvr", "srst", "stat", "wchc", "wchp", "wchs", "mntr", "isro", "hash"};

static int64_t trace_mask = 306;

bool fourlw_is_word(const char *w)
{
	for (size_t i = 0; i < sizeof WORDS / sizeof *WORDS; i++)
		if (memcmp(w, WORDS[i], 4) == 0)
			return true;
	return false;
}

size_t fourlw_conns_from(struct node *n, const char *ip)
{
	size_t k = 0, pos = 0;
	struct u64map_slot *s;
	while ((s = u64map_next(&n->conns, &pos)))
		if (strcmp(((struct node_conn *)s->value)->remote_ip, ip) == 0)
			k++;
	return k;
}

static size_t outstanding(struct node *n)
{
	size_t k = 0, pos = 0;
	struct u64map_slot *s;
	while ((s = u64map_next(&n->conns, &pos)))
		k += ((struct node_conn *)s->value)->n_queued;
	return k;
}

/* ZooKeeper's average latency: rounded HALF_UP to 4 decimals, printed by
 * Java's Double.toString ("0.0", "9.0667", "1.0E-4"). */
static void put_java_avg(struct buf *out, uint64_t sum, uint64_t count)
{
	uint64_t scaled = count ? (sum * 10000 * 2 + count) / (2 * count) : 0; /* avg * 10^4, rounded */
	if (scaled > 0 && scaled < 10) {
		buf_printf(out, "%llu.0E-4", (unsigned long long)scaled);
		return;
	}
	char frac[8];
	snprintf(frac, sizeof frac, "%04llu", (unsigned long long)(scaled % 10000));
	size_t k = 4;
	while (k > 1 && frac[k - 1] == '0')
		k--;
	buf_printf(out, "%llu.%.*s", (unsigned long long)(scaled / 10000), (int)k, frac);
}

static void latency_line(struct node *n, struct buf *out)
{
	const struct server_stats *st = &n->stats;
	long long min = st->min_latency_ms < 0 ? 0 : st->min_latency_ms;
	buf_printf(out, "Latency min/avg/max: %lld/", min);
	put_java_avg(out, (uint64_t)st->sum_latency_ms, st->n_latency);
	buf_printf(out, "/%lld\n", (long long)st->max_latency_ms);
}

/* ServerState as srvr's Mode and mntr's zk_server_state print it. */
static const char *role_name(const struct node *n)
{
	static const char *const names[] = {"standalone", "standalone", "leader", "follower", "observer"};
	return names[n->role];
}

static void srvr_tail(struct node *n, struct buf *out)
{
	latency_line(n, out);
	buf_printf(out, "Received: %llu\n", (unsigned long long)n->stats.packets_received);
	buf_printf(out, "Sent: %llu\n", (unsigned long long)n->stats.packets_sent);
	buf_printf(out, "Connections: %zu\n", n->conns.count);
	buf_printf(out, "Outstanding: %zu\n", outstanding(n));
	/* Java prints the highest zxid handed out (hzxid): a fresh leader's is
	 * its epoch << 32, before any txn */
	int64_t z = n->st.last_prepared_zxid > n->st.last_applied_zxid ? n->st.last_prepared_zxid
									: n->st.last_applied_zxid;
	buf_printf(out, "Zxid: 0x%llx\n", (unsigned long long)z);
	buf_printf(out, "Mode: %s\n", role_name(n));
	buf_printf(out, "Node count: %zu\n", tree_count(&n->st.tree) + 1);
	if (n->quorum.member && n->role == NODE_LEADING)
		buf_printf(out, "Proposal sizes last/min/max: %lld/%lld/%lld\n", (long long)n->quorum.proposal_last,
			   (long long)n->quorum.proposal_min, (long long)n->quorum.proposal_max);
}

/* Electing or syncing in an ensemble: what Java answers without a server. */
static bool answer_not_serving(const struct node *n, const char *w, struct buf *out)
{
	if (n->role != NODE_LOOKING)
		return false;
	if (!strcmp(w, "ruok"))
		buf_printf(out, "imok");
	else if (!strcmp(w, "isro"))
		buf_printf(out, "null");
	else if (!strcmp(w, "hash"))
		buf_printf(out, "This ZooKeeper instance is not currently serving requests");
	else if (strcmp(w, "envi") && strcmp(w, "gtmk") && strcmp(w, "stmk"))
		buf_printf(out, "This ZooKeeper instance is not currently serving requests\n");
	else
		return false;
	return true;
}

static const char *lop_name(int32_t op)
{
	switch (op) {
	case ZOP_PING: return "PING";
	case ZOP_CREATE_SESSION: return "SESS";
	case ZOP_MULTI: return "MULT";
	case ZOP_MULTI_READ: return "MLTR";
	case ZOP_CREATE: case ZOP_CREATE2: case ZOP_CREATE_CONTAINER: case ZOP_CREATE_TTL: return "CREA";
	case ZOP_DELETE: return "DELE";
	case ZOP_SET_DATA: return "SETD";
	case ZOP_RECONFIG: return "RECO";
	case ZOP_SET_ACL: return "SETA";
	case ZOP_CLOSE_SESSION: return "CLOS";
	case ZOP_SYNC: return "SYNC";
	case ZOP_CHECK: return "CHEC";
	case ZOP_EXISTS: return "EXIS";
	case ZOP_GET_DATA: return "GETD";
	case ZOP_SET_WATCHES: return "SETW";
	case ZOP_SET_WATCHES2: return "STW2";
	case ZOP_ADD_WATCH: return "ADDW";
	case ZOP_GET_ACL: return "GETA";
	case ZOP_GET_CHILDREN: case ZOP_GET_CHILDREN2: return "GETC";
	case ZOP_GET_ALL_CHILDREN_NUMBER: return "GETACN";
	case ZOP_CHECK_WATCHES: return "CHKW";
	case ZOP_REMOVE_WATCHES: return "REMW";
	case ZOP_WHO_AM_I: return "HOMI";
	case ZOP_GET_EPHEMERALS: return "GETE";
	default: return "NA";
	}
}

static void conn_line(const struct node_conn *c, bool full, struct buf *out)
{
	buf_printf(out, " /%s:%u[%d](queued=%u,recved=%llu,sent=%llu", c->remote_ip, c->remote_port,
		   c->dead ? 0 : 1, c->n_queued, (unsigned long long)c->st.received,
		   (unsigned long long)c->st.sent);
	if (full && c->session_id) {
		double avg = c->st.n_latency ? (double)c->st.sum_latency_ms / (double)c->st.n_latency : 0;
		buf_printf(out, ",sid=0x%llx,lop=%s,est=%lld,to=%d", (unsigned long long)c->session_id,
			   c->st.n_latency ? lop_name(c->st.last_op) : "NA", (long long)c->st.est_ms, c->timeout_ms);
		if (c->st.n_latency)
			buf_printf(out, ",lcxid=0x%x", (unsigned)c->st.last_cxid);
		buf_printf(out, ",lzxid=0x%llx,lresp=%lld,llat=%lld,minlat=%lld,avglat=%lld,maxlat=%lld",
			   (unsigned long long)c->st.last_zxid, (long long)c->st.last_resp_ms,
			   (long long)c->st.last_latency_ms,
			   (long long)(c->st.min_latency_ms < 0 ? 0 : c->st.min_latency_ms), (long long)avg,
			   (long long)c->st.max_latency_ms);
	}
	buf_printf(out, ")\n");
}

static void all_conns(struct node *n, bool full, struct buf *out)
{
	size_t pos = 0;
	struct u64map_slot *s;
	while ((s = u64map_next(&n->conns, &pos)))
		conn_line(s->value, full, out);
}

static void stat_cmd(struct node *n, struct buf *out)
{
	buf_printf(out, "Zookeeper version: %s, %s\n", ZABD_VERSION, ZABD_BUILT);
	buf_printf(out, "Clients:\n");
	all_conns(n, false, out);
	buf_printf(out, "\n");
	srvr_tail(n, out);
}

static void envi_cmd(struct buf *out)
{
	char host[256] = "<NA>";
	gethostname(host, sizeof host);
	char cwd[1024] = "<NA>";
	if (!getcwd(cwd, sizeof cwd))
		snprintf(cwd, sizeof cwd, "<NA>");
	buf_printf(out, "Environment:\n");
	buf_printf(out, "zookeeper.version=%s, %s\n", ZABD_VERSION, ZABD_BUILT);
	buf_printf(out, "host.name=%s\n", host);
	buf_printf(out, "java.version=<NA>\njava.vendor=<NA>\njava.home=<NA>\njava.class.path=<NA>\n");
	buf_printf(out, "java.library.path=<NA>\njava.io.tmpdir=/tmp\njava.compiler=<NA>\n");
	buf_printf(out, "os.name=Linux\nos.arch=amd64\nos.version=<NA>\n");
	buf_printf(out, "user.name=<NA>\nuser.home=<NA>\nuser.dir=%s\n", cwd);
	buf_printf(out, "os.memory.free=0MB\nos.memory.max=0MB\nos.memory.total=0MB\n");
}

static long count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	long k = 0;
	while (readdir(d))
		k++;
	closedir(d);
	return k - 2;
}

static void mntr_cmd(struct node *n, struct buf *out)
{
	const struct server_stats *st = &n->stats;
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	size_t eph = 0, pos = 0;
	struct u64map_slot *s;
	while ((s = u64map_next(&n->st.tree.ephemerals, &pos)))
		eph += ((struct eph_list *)s->value)->count;
	buf_printf(out, "zk_version\t%s, %s\n", ZABD_VERSION, ZABD_BUILT);
	buf_printf(out, "zk_server_state\t%s\n", role_name(n));
	const struct quorum_stats *q = &n->quorum;
	if (q->member) {
		static const char *const peer[] = {"", "looking", "leading", "following", "observing"};
		buf_printf(out, "zk_peer_state\t%s - broadcast\n", peer[n->role]);
		if (n->role == NODE_OBSERVING)
			buf_printf(out, "zk_observer_master_id\t%lld\n", (long long)q->leader_sid);
	}
	buf_printf(out, "zk_avg_latency\t");
	put_java_avg(out, (uint64_t)st->sum_latency_ms, st->n_latency);
	buf_printf(out, "\n");
	buf_printf(out, "zk_max_latency\t%lld\n", (long long)st->max_latency_ms);
	buf_printf(out, "zk_min_latency\t%lld\n", (long long)(st->min_latency_ms < 0 ? 0 : st->min_latency_ms));
	buf_printf(out, "zk_packets_received\t%llu\n", (unsigned long long)st->packets_received);
	buf_printf(out, "zk_packets_sent\t%llu\n", (unsigned long long)st->packets_sent);
	buf_printf(out, "zk_num_alive_connections\t%zu\n", n->conns.count);
	buf_printf(out, "zk_outstanding_requests\t%zu\n", outstanding(n));
	buf_printf(out, "zk_uptime\t%lld\n", (long long)(clock_wall_ms() - st->start_ms));
	buf_printf(out, "zk_znode_count\t%zu\n", tree_count(&n->st.tree) + 1);
	buf_printf(out, "zk_watch_count\t%zu\n", watch_count(&n->st.watches));
	buf_printf(out, "zk_ephemerals_count\t%zu\n", eph);
	buf_printf(out, "zk_approximate_data_size\t%llu\n", (unsigned long long)n->st.tree.data_bytes);
	buf_printf(out, "zk_global_sessions\t%u\n", session_count(&n->st.sessions));
	buf_printf(out, "zk_local_sessions\t0\n");
	buf_printf(out, "zk_open_file_descriptor_count\t%ld\n", count_fds());
	buf_printf(out, "zk_max_file_descriptor_count\t%llu\n", (unsigned long long)rl.rlim_cur);
	buf_printf(out, "zk_connection_drop_probability\t0.0\n");
	buf_printf(out, "zk_outstanding_tls_handshake\t0\n");
	buf_printf(out, "zk_auth_failed_count\t0\n");
	if (q->member)
		buf_printf(out, "zk_quorum_size\t%d\n", q->quorum_size);
	if (q->member && n->role == NODE_LEADING) {
		buf_printf(out, "zk_learners\t%d\n", q->learners);
		buf_printf(out, "zk_synced_followers\t%d\n", q->synced_followers);
		buf_printf(out, "zk_synced_non_voting_followers\t0\n");
		buf_printf(out, "zk_synced_observers\t%d\n", q->synced_observers);
		buf_printf(out, "zk_pending_syncs\t%d\n", q->pending_syncs);
		buf_printf(out, "zk_leader_uptime\t%lld\n", (long long)(clock_wall_ms() - q->leader_since_ms));
		buf_printf(out, "zk_last_proposal_size\t%lld\n", (long long)q->proposal_last);
		buf_printf(out, "zk_min_proposal_size\t%lld\n", (long long)q->proposal_min);
		buf_printf(out, "zk_max_proposal_size\t%lld\n", (long long)q->proposal_max);
	} else if (q->member && n->role == NODE_FOLLOWING) {
		buf_printf(out, "zk_synced_observers\t0\n");
	}
}

static void wchs_cmd(struct node *n, struct buf *out)
{
	buf_printf(out, "%zu connections watching %zu paths\n", watch_conns_with(&n->st.watches, WATCH_DATA),
		   watch_table_paths(&n->st.watches, WATCH_DATA));
	buf_printf(out, "Total watches:%zu\n", watch_table_entries(&n->st.watches, WATCH_DATA));
}

static void wchc_cmd(struct node *n, struct buf *out)
{
	size_t pos = 0;
	struct u64map_slot *s;
	while ((s = u64map_next(&n->conns, &pos))) {
		const struct node_conn *c = s->value;
		size_t p2 = 0, len;
		const char *path = watch_conn_next(&n->st.watches, c->id, WATCH_DATA, &p2, &len);
		if (!path)
			continue;
		buf_printf(out, "0x%llx\n", (unsigned long long)c->session_id);
		for (; path; path = watch_conn_next(&n->st.watches, c->id, WATCH_DATA, &p2, &len))
			buf_printf(out, "\t%.*s\n", (int)len, path);
	}
	buf_printf(out, "\n");
}

static void wchp_cmd(struct node *n, struct buf *out)
{
	size_t pos = 0;
	struct strmap_slot *s;
	while ((s = strmap_next(&n->st.watches.tables[WATCH_DATA], &pos))) {
		const struct watch_path *wp = s->value;
		buf_printf(out, "%.*s\n", (int)wp->path_len, wp->path);
		for (uint32_t i = 0; i < wp->count; i++) {
			struct node_conn *c = node_conn_get(n, wp->items[i].conn);
			buf_printf(out, "\t0x%llx\n", (unsigned long long)(c ? c->session_id : 0));
		}
	}
	buf_printf(out, "\n");
}

static void dump_cmd(struct node *n, struct buf *out)
{
	const struct session_table *t = &n->st.sessions;
	buf_printf(out, "SessionTracker dump:\nSession Sets (%zu)/(%u):\n", t->buckets.count, session_count(t));
	size_t pos = 0;
	struct u64map_slot *s;
	while ((s = u64map_next(&t->buckets, &pos))) {
		const struct session_bucket *b = s->value;
		buf_printf(out, "%u expire at %lld:\n", b->count, (long long)b->expire_at_ms);
		for (const struct session *x = b->head; x; x = x->bnext)
			buf_printf(out, "\t0x%llx\n", (unsigned long long)x->id);
	}
	buf_printf(out, "ephemeral nodes dump:\nSessions with Ephemerals (%zu):\n", n->st.tree.ephemerals.count);
	pos = 0;
	while ((s = u64map_next(&n->st.tree.ephemerals, &pos))) {
		const struct eph_list *l = s->value;
		buf_printf(out, "0x%llx:\n", (unsigned long long)s->key);
		for (uint32_t i = 0; i < l->count; i++)
			buf_printf(out, "\t%s\n", l->items[i]->path);
	}
	buf_printf(out, "Connections dump:\n");
}

static uint64_t dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	uint64_t total = 0;
	struct dirent *e;
	char p[4096];
	while ((e = readdir(d))) {
		struct stat sb;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (e->d_name[0] != '.' && stat(p, &sb) == 0 && S_ISREG(sb.st_mode))
			total += (uint64_t)sb.st_size;
	}
	closedir(d);
	return total;
}

static void conf_cmd(const struct zoocfg *cfg, struct buf *out)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/version-2", cfg->data_log_dir ? cfg->data_log_dir : cfg->data_dir);
	uint64_t log_bytes = dir_bytes(p);
	snprintf(p, sizeof p, "%s/version-2", cfg->data_dir);
	uint64_t snap_bytes = dir_bytes(p);
	struct zoocfg_conf_info info = {cfg->client_port, -1, log_bytes, snap_bytes, 0, false, 0};
	zoocfg_dump(cfg, &info, out);
}

static void reset_conn_stats(struct node *n)
{
	size_t pos = 0;
	struct u64map_slot *s;
	while ((s = u64map_next(&n->conns, &pos))) {
		struct node_conn *c = s->value;
		c->st.received = c->st.sent = 0;
		c->st.min_latency_ms = -1;
		c->st.max_latency_ms = c->st.sum_latency_ms = c->st.last_latency_ms = 0;
		c->st.n_latency = 0;
	}
}

static void dispatch(struct node *n, const struct zoocfg *cfg, const char *w, struct buf *out)
{
	if (!strcmp(w, "ruok")) buf_printf(out, "imok");
	else if (!strcmp(w, "srvr")) {
		buf_printf(out, "Zookeeper version: %s, %s\n", ZABD_VERSION, ZABD_BUILT);
		srvr_tail(n, out);
	} else if (!strcmp(w, "stat")) stat_cmd(n, out);
	else if (!strcmp(w, "cons")) { all_conns(n, true, out); buf_printf(out, "\n"); }
	else if (!strcmp(w, "conf")) conf_cmd(cfg, out);
	else if (!strcmp(w, "envi")) envi_cmd(out);
	else if (!strcmp(w, "mntr")) mntr_cmd(n, out);
	else if (!strcmp(w, "wchs")) wchs_cmd(n, out);
	else if (!strcmp(w, "wchc")) wchc_cmd(n, out);
	else if (!strcmp(w, "wchp")) wchp_cmd(n, out);
	else if (!strcmp(w, "dump")) dump_cmd(n, out);
	else if (!strcmp(w, "isro")) buf_printf(out, "rw");
	else if (!strcmp(w, "gtmk") || !strcmp(w, "stmk")) buf_printf(out, "%lld", (long long)trace_mask);
	else if (!strcmp(w, "hash")) { /* digests are not kept per zxid yet: empty, as with digests off */ }
	else if (!strcmp(w, "crst")) { reset_conn_stats(n); buf_printf(out, "Connection stats reset.\n"); }
	else if (!strcmp(w, "srst")) {
		n->stats.packets_received = n->stats.packets_sent = 0;
		n->stats.min_latency_ms = -1;
		n->stats.max_latency_ms = n->stats.sum_latency_ms = 0;
		n->stats.n_latency = 0;
		buf_printf(out, "Server stats reset.\n");
	} else if (!strcmp(w, "dirs")) {
		char p[4096];
		snprintf(p, sizeof p, "%s/version-2", cfg->data_log_dir ? cfg->data_log_dir : cfg->data_dir);
		uint64_t lb = dir_bytes(p);
		snprintf(p, sizeof p, "%s/version-2", cfg->data_dir);
		buf_printf(out, "datadir_size: %llu\nlogdir_size: %llu\n", (unsigned long long)lb,
			   (unsigned long long)dir_bytes(p));
	}
}

void fourlw_run(struct node *n, const struct zoocfg *cfg, const char word[4], uint64_t self,
		struct buf *out)
{
	(void)self;
	char w[5];
	memcpy(w, word, 4);
	w[4] = '\0';
	n->stats.packets_received++;
	if (!zoocfg_4lw_allowed(cfg, w)) {
		buf_printf(out, "%s is not executed because it is not in the whitelist.\n", w);
		return;
	}
	if (!answer_not_serving(n, w, out))
		dispatch(n, cfg, w, out);
	n->stats.packets_sent++;
}
