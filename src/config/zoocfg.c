/* zoocfg: the key table and its typed parsing, defaults, validation and
 * loading (see zoocfg.h). Server lines, myid and `conf` live in
 * zoocfg_quorum.c. */
#include "config/zoocfg.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/hashmap.h"
#include "base/zalloc.h"
#include "config/props.h"
#include "config/zoocfg_int.h"

#define SYSPROP_PREFIX "zookeeper."
#define MAX_FILE_BYTES (16u << 20)

/* ------------------------------------------------------------------ */
/* messages */

int zcx_fail(struct zcx *x, int line, const char *key, const char *fmt, ...)
{
	if (line > 0)
		buf_printf(x->err, "%s:%d: %s: ", x->name, line, key);
	else
		buf_printf(x->err, "%s: %s: ", x->name, key);
	va_list ap;
	va_start(ap, fmt);
	char tmp[512];
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	buf_printf(x->err, "%s", tmp);
	return -1;
}

void zcx_warn(struct zcx *x, int line, const char *key, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%s:%d: %.200s: %s", x->name, line, key, tmp);
	struct zoocfg *c = x->c;
	c->warnings = zrealloc(c->warnings, (c->nwarnings + 1) * sizeof *c->warnings);
	c->warnings[c->nwarnings++] = zstrndup((const char *)b.data, b.len);
	buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* value parsers */

bool zoocfg_parse_long(const char *s, int64_t *out)
{
	const char *p = s;
	bool neg = false;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (*p == '\0')
		return false;
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		unsigned d = (unsigned)(*p - '0');
		if (v > (lim - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

static int parse_bool(const char *s, bool *out)
{
	if (strcasecmp(s, "true") == 0)
		*out = true;
	else if (strcasecmp(s, "false") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the key table */

enum kind { K_INT, K_LONG, K_BOOL, K_YESNO, K_STR, K_ACCEPT, K_SPECIAL };

#define F_SYSPROP 1  /* also spelt zookeeper.<name> */
#define F_CLAMP 2    /* below min: take min with a warning (Java does) */

struct key_def {
	const char *name;
	enum kind kind;
	int flags;
	size_t off;
	int64_t min, max;
	int (*special)(struct zcx *x, const char *key, const char *value, int line);
};

#define FLD(f) offsetof(struct zoocfg, f)
#define INT(n, f, lo, hi, fl) {n, K_INT, fl, FLD(f), lo, hi, NULL}
#define LONG(n, f, lo, hi, fl) {n, K_LONG, fl, FLD(f), lo, hi, NULL}
#define BOOL(n, f, fl) {n, K_BOOL, fl, FLD(f), 0, 0, NULL}
#define YESNO(n, f) {n, K_YESNO, F_SYSPROP, FLD(f), 0, 0, NULL}
#define STR(n, f, fl) {n, K_STR, fl, FLD(f), 0, 0, NULL}
#define ACCEPT(n, fl) {n, K_ACCEPT, fl, 0, 0, 0, NULL}
#define SPECIAL(n, fn, fl) {n, K_SPECIAL, fl, 0, 0, 0, fn}
#define IMAX INT32_MAX
#define LMAX INT64_MAX
#define SP F_SYSPROP

static int set_peer_type(struct zcx *x, const char *key, const char *value, int line);
static int set_whitelist(struct zcx *x, const char *key, const char *value, int line);
static int set_compression(struct zcx *x, const char *key, const char *value, int line);
static int set_size_factor(struct zcx *x, const char *key, const char *value, int line);
static int set_max_cnxns(struct zcx *x, const char *key, const char *value, int line);
static int set_sync_enabled(struct zcx *x, const char *key, const char *value, int line);

static const struct key_def keys[] = {
	/* parsed directly by QuorumPeerConfig (§7.2) */
	INT("tickTime", tick_time, 1, IMAX, 0),
	STR("dataDir", data_dir, 0),
	STR("dataLogDir", data_log_dir, 0),
	INT("clientPort", client_port, 0, 65535, 0),
	STR("clientPortAddress", client_port_address, 0),
	INT("secureClientPort", secure_client_port, 0, 65535, 0),
	STR("secureClientPortAddress", secure_client_port_address, 0),
	INT("clientPortListenBacklog", client_port_listen_backlog, -1, IMAX, 0),
	INT("maxClientCnxns", max_client_cnxns, 0, IMAX, 0),
	INT("minSessionTimeout", min_session_timeout, -1, IMAX, 0),
	INT("maxSessionTimeout", max_session_timeout, -1, IMAX, 0),
	INT("initLimit", init_limit, 0, IMAX, 0),
	INT("syncLimit", sync_limit, 0, IMAX, 0),
	INT("connectToLearnerMasterLimit", connect_to_learner_master_limit, 0, IMAX, 0),
	INT("electionAlg", election_alg, INT32_MIN, IMAX, 0),
	SPECIAL("peerType", set_peer_type, 0),
	INT("observerMasterPort", observer_master_port, 0, 65535, 0),
	BOOL("quorumListenOnAllIPs", quorum_listen_on_all_ips, 0),
	BOOL("standaloneEnabled", standalone_enabled, 0),
	BOOL("reconfigEnabled", reconfig_enabled, 0),
	SPECIAL("syncEnabled", set_sync_enabled, 0),
	SPECIAL("observer.syncEnabled", set_sync_enabled, SP),
	STR("dynamicConfigFile", dynamic_config_file, 0),
	BOOL("localSessionsEnabled", local_sessions_enabled, 0),
	BOOL("localSessionsUpgradingEnabled", local_sessions_upgrading_enabled, 0),
	INT("autopurge.snapRetainCount", autopurge_snap_retain_count, 3, IMAX, F_CLAMP),
	INT("autopurge.purgeInterval", autopurge_purge_interval, 0, IMAX, 0),
	BOOL("sslQuorum", ssl_quorum, 0),
	BOOL("portUnification", port_unification, 0),
	ACCEPT("sslQuorumReloadCertFiles", 0),
	ACCEPT("client.portUnification", SP),
	BOOL("quorum.auth.enableSasl", quorum_sasl_enabled, 0),
	BOOL("quorum.auth.serverRequireSasl", quorum_server_require_sasl, 0),
	BOOL("quorum.auth.learnerRequireSasl", quorum_learner_require_sasl, 0),
	ACCEPT("quorum.auth.learner.saslLoginContext", 0),
	ACCEPT("quorum.auth.server.saslLoginContext", 0),
	ACCEPT("quorum.auth.kerberos.servicePrincipal", 0),
	INT("quorum.cnxn.threads.size", quorum_cnxn_threads_size, 0, IMAX, 0),
	BOOL("multiAddress.enabled", multi_address_enabled, 0),
	ACCEPT("multiAddress.reachabilityCheckTimeoutMs", 0),
	ACCEPT("multiAddress.reachabilityCheckEnabled", 0),
	STR("metricsProvider.className", metrics_provider_class, 0),
	ACCEPT("oraclePath", 0),
	ACCEPT("jvm.pause.monitor", 0),
	ACCEPT("jvm.pause.info-threshold.ms", 0),
	ACCEPT("jvm.pause.warn-threshold.ms", 0),
	ACCEPT("jvm.pause.sleep.time.ms", 0),
	/* system properties (§7.3), zoo.cfg keys in zabd */
	SPECIAL("4lw.commands.whitelist", set_whitelist, SP),
	INT("snapCount", snap_count, 2, IMAX, SP | F_CLAMP),
	LONG("snapSizeLimitInKb", snap_size_limit_kb, INT64_MIN, LMAX, SP),
	LONG("txnLogSizeLimitInKb", txn_log_size_limit_kb, INT64_MIN, LMAX, SP),
	LONG("preAllocSize", pre_alloc_size_kb, 1, LMAX / 1024, SP),
	YESNO("forceSync", force_sync),
	/* zabd only: one fsync per batch of txns (yes, default) or per txn (no, to measure it) */
	YESNO("groupCommit", group_commit),
	LONG("fsync.warningthresholdms", fsync_warning_threshold_ms, 0, LMAX, SP),
	INT("globalOutstandingLimit", global_outstanding_limit, 1, IMAX, SP),
	SPECIAL("maxCnxns", set_max_cnxns, SP),
	BOOL("extendedTypesEnabled", extended_types_enabled, SP),
	BOOL("emulate353TTLNodes", emulate353_ttl_nodes, SP),
	YESNO("skipACL", skip_acl),
	BOOL("enforceQuota", enforce_quota, SP),
	BOOL("digest.enabled", digest_enabled, SP),
	BOOL("closeSessionTxn.enabled", close_session_txn_enabled, SP),
	SPECIAL("snapshot.compression.method", set_compression, SP),
	BOOL("snapshot.trust.empty", snapshot_trust_empty, SP),
	INT("commitLogCount", commit_log_count, 500, IMAX, SP | F_CLAMP),
	SPECIAL("snapshotSizeFactor", set_size_factor, SP),
	YESNO("leaderServes", leader_serves),
	INT("cnxTimeout", cnx_timeout, 1, IMAX, SP),
	INT("quorumCnxnTimeoutMs", quorum_cnxn_timeout_ms, -1, IMAX, SP),
	INT("fastleader.minNotificationInterval", fle_min_notification_interval, 1, IMAX, SP),
	INT("fastleader.maxNotificationInterval", fle_max_notification_interval, 1, IMAX, SP),
	STR("serverCnxnFactory", server_cnxn_factory, SP),
	INT("nio.sessionlessCnxnTimeout", nio_sessionless_cnxn_timeout, 1, IMAX, SP),
	BOOL("admin.enableServer", admin_enable_server, SP),
	STR("admin.serverAddress", admin_server_address, SP),
	INT("admin.serverPort", admin_server_port, 0, 65535, SP),
	STR("admin.commandURL", admin_command_url, SP),
	INT("admin.idleTimeout", admin_idle_timeout, 1, IMAX, SP),
	STR("DigestAuthenticationProvider.superDigest", super_digest, SP),
	BOOL("DigestAuthenticationProvider.enabled", digest_auth_enabled, SP),
	INT("jute.maxbuffer", jute_maxbuffer, 1, IMAX, SP),
	INT("jute.maxbuffer.extrasize", jute_maxbuffer_extrasize, 0, IMAX, SP),
	BOOL("readonlymode.enabled", readonlymode_enabled, SP),
	LONG("znode.container.checkIntervalMs", container_check_interval_ms, 1, LMAX, SP),
	INT("znode.container.maxPerMinute", container_max_per_minute, 1, IMAX, SP),
	LONG("znode.container.maxNeverUsedIntervalMs", container_max_never_used_interval_ms, 0, LMAX,
	     SP),
	/* accepted, no effect in zabd (yet) */
	ACCEPT("admin.portUnification", SP), ACCEPT("admin.forceHttps", SP),
	ACCEPT("admin.needClientAuth", SP), ACCEPT("admin.rateLimiterIntervalInMS", SP),
	ACCEPT("admin.snapshot.enabled", SP), ACCEPT("admin.restore.enabled", SP),
	ACCEPT("flushDelay", SP), ACCEPT("maxWriteQueuePollTime", SP), ACCEPT("maxBatchSize", SP),
	ACCEPT("requestThrottleLimit", SP), ACCEPT("requestThrottleStallTime", SP),
	ACCEPT("requestThrottleDropStale", SP), ACCEPT("request_stale_latency_check", SP),
	ACCEPT("request_stale_connection_check", SP), ACCEPT("largeRequestMaxBytes", SP),
	ACCEPT("largeRequestThreshold", SP), ACCEPT("learner.asyncSending", SP),
	ACCEPT("learner.closeSocketAsync", SP), ACCEPT("leader.closeSocketAsync", SP),
	ACCEPT("leader.ackLoggingFrequency", SP), ACCEPT("leaderConnectDelayDuringRetryMs", SP),
	ACCEPT("commitProcessor.numWorkerThreads", SP), ACCEPT("commitProcessor.shutdownTimeout", SP),
	ACCEPT("commitProcessor.maxReadBatchSize", SP), ACCEPT("commitProcessor.maxCommitBatchSize", SP),
	ACCEPT("nio.numSelectorThreads", SP), ACCEPT("nio.numWorkerThreads", SP),
	ACCEPT("nio.directBufferBytes", SP), ACCEPT("nio.shutdownTimeout", SP),
	ACCEPT("netty.server.outstandingHandshake.limit", SP), ACCEPT("watchManagerName", SP),
	ACCEPT("watcherCleanThreshold", SP), ACCEPT("watcherCleanIntervalInSeconds", SP),
	ACCEPT("watcherCleanThreadsNum", SP), ACCEPT("maxInProcessingDeadWatchers", SP),
	ACCEPT("superUser", SP), ACCEPT("X509AuthenticationProvider.superUser", SP),
	ACCEPT("sessionRequireClientSASLAuth", SP), ACCEPT("enforce.auth.enabled", SP),
	ACCEPT("enforce.auth.schemes", SP), ACCEPT("allowSaslFailedClients", SP),
	ACCEPT("kerberos.removeHostFromPrincipal", SP), ACCEPT("kerberos.removeRealmFromPrincipal", SP),
	ACCEPT("audit.enable", SP), ACCEPT("audit.impl.class", SP), ACCEPT("fips-mode", SP),
	ACCEPT("tcpKeepAlive", SP), ACCEPT("clientTcpKeepAlive", SP), ACCEPT("electionPortBindRetry", SP),
	ACCEPT("observer.reconnectDelayMs", SP), ACCEPT("observer.election.DelayMs", SP),
	ACCEPT("connection_throttle_tokens", SP), ACCEPT("connection_throttle_fill_time", SP),
	ACCEPT("connection_throttle_fill_count", SP), ACCEPT("connection_throttle_freeze_time", SP),
	ACCEPT("connection_throttle_drop_increase", SP), ACCEPT("connection_throttle_drop_decrease", SP),
	ACCEPT("connection_throttle_decrease_ratio", SP), ACCEPT("connection_throttle_weight_enabled", SP),
	ACCEPT("connection_throttle_global_session_weight", SP),
	ACCEPT("connection_throttle_local_session_weight", SP),
	ACCEPT("connection_throttle_renew_session_weight", SP),
};

#undef SP

/* Families matched by prefix. */
static const char *const accepted_prefixes[] = {"ssl.", "zookeeper.ssl.", "authProvider."};

static const struct key_def *find_key(const char *key)
{
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(keys[i].name, key) == 0)
			return &keys[i];
	if (strncmp(key, SYSPROP_PREFIX, strlen(SYSPROP_PREFIX)) == 0) {
		const char *rest = key + strlen(SYSPROP_PREFIX);
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
			if ((keys[i].flags & F_SYSPROP) && strcmp(keys[i].name, rest) == 0)
				return &keys[i];
	}
	return NULL;
}

/* The name a key is deduplicated under: aliases collapse to one. */
static const char *canonical_key(const char *key)
{
	const struct key_def *d = find_key(key);
	return d ? d->name : key;
}

/* ------------------------------------------------------------------ */
/* special keys */

static int set_peer_type(struct zcx *x, const char *key, const char *value, int line)
{
	if (strcasecmp(value, "observer") == 0)
		x->c->peer_type = ZOOCFG_OBSERVER;
	else if (strcasecmp(value, "participant") == 0)
		x->c->peer_type = ZOOCFG_PARTICIPANT;
	else
		return zcx_fail(x, line, key, "'%.64s' is not participant or observer", value);
	x->c->peer_type_set = true;
	return 0;
}

static const char *const known_4lw[] = {"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk",
					"ruok", "stmk", "srvr", "srst", "stat", "wchc", "wchp",
					"wchs", "mntr", "isro", "hash"};

static bool is_known_4lw(const char *w)
{
	for (size_t i = 0; i < sizeof known_4lw / sizeof known_4lw[0]; i++)
		if (strcmp(known_4lw[i], w) == 0)
			return true;
	return false;
}

static void clear_whitelist(struct zoocfg *c)
{
	for (size_t i = 0; i < c->nfour_lw_words; i++)
		zfree(c->four_lw_words[i]);
	zfree(c->four_lw_words);
	zfree(c->four_lw_whitelist);
	c->four_lw_words = NULL;
	c->nfour_lw_words = 0;
	c->four_lw_whitelist = NULL;
	c->four_lw_all = false;
}

static void set_whitelist_text(struct zcx *x, const char *key, const char *value, int line)
{
	struct zoocfg *c = x->c;
	clear_whitelist(c);
	c->four_lw_whitelist = zstrndup(value, strlen(value));
	const char *p = value;
	while (*p) {
		while (*p == ',' || (unsigned char)*p <= 0x20) {
			if (!*p)
				return;
			p++;
		}
		const char *b = p;
		while (*p && *p != ',' && (unsigned char)*p > 0x20)
			p++;
		if (p == b)
			continue;
		if (p - b == 1 && *b == '*') {
			c->four_lw_all = true;
			continue;
		}
		char *w = zstrndup(b, (size_t)(p - b));
		if (!is_known_4lw(w))
			zcx_warn(x, line, key, "'%.32s' is not a four-letter word ZooKeeper knows", w);
		c->four_lw_words = zrealloc(c->four_lw_words, (c->nfour_lw_words + 1) * sizeof(char *));
		c->four_lw_words[c->nfour_lw_words++] = w;
	}
}

static int set_whitelist(struct zcx *x, const char *key, const char *value, int line)
{
	set_whitelist_text(x, key, value, line);
	return 0;
}

static int set_compression(struct zcx *x, const char *key, const char *value, int line)
{
	if (value[0] == '\0')
		x->c->snapshot_compression = ZOOCFG_COMPRESS_NONE;
	else if (strcasecmp(value, "gz") == 0)
		x->c->snapshot_compression = ZOOCFG_COMPRESS_GZ;
	else if (strcasecmp(value, "snappy") == 0)
		x->c->snapshot_compression = ZOOCFG_COMPRESS_SNAPPY;
	else
		return zcx_fail(x, line, key, "'%.64s' is not gz, snappy or empty", value);
	return 0;
}

static int set_size_factor(struct zcx *x, const char *key, const char *value, int line)
{
	char *end;
	errno = 0;
	double d = strtod(value, &end);
	if (value[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(d))
		return zcx_fail(x, line, key, "'%.64s' is not a number", value);
	x->c->snapshot_size_factor = d;
	return 0;
}

/* zookeeper.observer.syncEnabled, when set, overrides syncEnabled
 * [QuorumPeer.getSyncEnabled], whatever the order of the lines. */
static int set_sync_enabled(struct zcx *x, const char *key, const char *value, int line)
{
	bool b;
	if (parse_bool(value, &b) < 0)
		return zcx_fail(x, line, key, "'%.64s' is not true or false", value);
	bool observer = strcmp(canonical_key(key), "observer.syncEnabled") == 0;
	if (observer || !x->observer_sync_set)
		x->c->sync_enabled = b;
	if (observer)
		x->observer_sync_set = true;
	return 0;
}

static int set_max_cnxns(struct zcx *x, const char *key, const char *value, int line)
{
	int64_t v;
	if (!zoocfg_parse_long(value, &v) || v < INT32_MIN || v > INT32_MAX)
		return zcx_fail(x, line, key, "'%.64s' is not an integer", value);
	if (v < 0) {
		zcx_warn(x, line, key, "negative value taken as 0 (unlimited), as ZooKeeper does");
		v = 0;
	}
	x->c->max_cnxns = (int)v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* applying one key */

static int apply_number(struct zcx *x, const struct key_def *d, const char *key, const char *value,
			int line)
{
	int64_t v;
	if (!zoocfg_parse_long(value, &v) ||
	    (d->kind == K_INT && (v < INT32_MIN || v > INT32_MAX)))
		return zcx_fail(x, line, key, "'%.64s' is not an integer", value);
	if (v < d->min && (d->flags & F_CLAMP)) {
		zcx_warn(x, line, key, "%lld is below the minimum, %lld is used (as ZooKeeper does)",
			 (long long)v, (long long)d->min);
		v = d->min;
	}
	if (v < d->min || v > d->max)
		return zcx_fail(x, line, key, "%lld is out of range (%lld..%lld)", (long long)v,
				(long long)d->min, (long long)d->max);
	char *field = (char *)x->c + d->off;
	if (d->kind == K_INT) {
		int iv = (int)v;
		memcpy(field, &iv, sizeof iv);
	} else {
		memcpy(field, &v, sizeof v);
	}
	return 0;
}

static int apply_def(struct zcx *x, const struct key_def *d, const char *key, const char *value,
		     int line)
{
	char *field = (char *)x->c + d->off;
	bool b;
	switch (d->kind) {
	case K_INT:
	case K_LONG:
		return apply_number(x, d, key, value, line);
	case K_BOOL:
		if (parse_bool(value, &b) < 0)
			return zcx_fail(x, line, key, "'%.64s' is not true or false", value);
		memcpy(field, &b, sizeof b);
		return 0;
	case K_YESNO:
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
			return zcx_fail(x, line, key, "'%.64s' is not yes or no", value);
		b = strcmp(value, "yes") == 0;
		memcpy(field, &b, sizeof b);
		return 0;
	case K_STR: {
		char **s = (char **)(void *)field;
		zfree(*s);
		*s = zstrndup(value, strlen(value));
		return 0;
	}
	case K_SPECIAL:
		return d->special(x, key, value, line);
	case K_ACCEPT:
		return 0;
	}
	return 0;
}

static void add_kv(struct zoocfg_kv **v, size_t *n, const char *key, const char *value, int line)
{
	*v = zrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[*n] = (struct zoocfg_kv){.key = zstrndup(key, strlen(key)),
				      .value = zstrndup(value, strlen(value)),
				      .line = line};
	(*n)++;
}

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static int apply_family(struct zcx *x, const char *key, const char *value, int line, bool *done)
{
	*done = true;
	if (has_prefix(key, "server."))
		return zoocfg_server_line(x, key, value, line);
	if (has_prefix(key, "group."))
		return zoocfg_group_line(x, key, value, line);
	if (has_prefix(key, "weight."))
		return zoocfg_weight_line(x, key, value, line);
	if (has_prefix(key, "metricsProvider.")) {
		add_kv(&x->c->metrics_props, &x->c->nmetrics_props, key + strlen("metricsProvider."),
		       value, line);
		return 0;
	}
	if (has_prefix(key, "authProvider.")) {
		add_kv(&x->c->auth_providers, &x->c->nauth_providers, key + strlen("authProvider."),
		       value, line);
		return 0;
	}
	for (size_t i = 0; i < sizeof accepted_prefixes / sizeof accepted_prefixes[0]; i++)
		if (has_prefix(key, accepted_prefixes[i]))
			return 0;
	*done = false;
	return 0;
}

static int apply_entry(struct zcx *x, const char *key, const char *value, int line)
{
	const struct key_def *d = find_key(key);
	if (d)
		return apply_def(x, d, key, value, line);
	bool done;
	int rc = apply_family(x, key, value, line, &done);
	if (done)
		return rc;
	if (has_prefix(key, SYSPROP_PREFIX) && find_key(key + strlen(SYSPROP_PREFIX)))
		zcx_warn(x, line, key, "unknown key, ignored (ZooKeeper reads it without the "
				       "zookeeper. prefix)");
	else
		zcx_warn(x, line, key, "unknown key, ignored");
	return 0;
}

/* ------------------------------------------------------------------ */
/* defaults and lifetime */

static char *dupz(const char *s)
{
	return zstrndup(s, strlen(s));
}

void zoocfg_defaults(struct zoocfg *c)
{
	memset(c, 0, sizeof *c);
	c->tick_time = 3000;
	c->client_port_listen_backlog = -1;
	c->max_client_cnxns = 60;
	c->min_session_timeout = -1;
	c->max_session_timeout = -1;
	c->autopurge_snap_retain_count = 3;
	c->election_alg = 3;
	c->peer_type = ZOOCFG_PARTICIPANT;
	c->standalone_enabled = true;
	c->sync_enabled = true;
	c->quorum_cnxn_threads_size = 20;
	c->cnx_timeout = 5000;
	c->quorum_cnxn_timeout_ms = -1;
	c->fle_min_notification_interval = 200;
	c->fle_max_notification_interval = 60000;
	c->leader_serves = true;
	c->snap_count = 100000;
	c->snap_size_limit_kb = 4194304;
	c->txn_log_size_limit_kb = -1;
	c->pre_alloc_size_kb = 65536;
	c->force_sync = true;
	c->group_commit = true;
	c->fsync_warning_threshold_ms = 1000;
	c->commit_log_count = 500;
	c->snapshot_size_factor = 0.33;
	c->digest_enabled = true;
	c->global_outstanding_limit = 1000;
	c->jute_maxbuffer = 0xfffff;
	c->jute_maxbuffer_extrasize = -1;
	c->nio_sessionless_cnxn_timeout = 10000;
	c->close_session_txn_enabled = true;
	c->container_check_interval_ms = 60000;
	c->container_max_per_minute = 10000;
	c->digest_auth_enabled = true;
	c->admin_enable_server = true;
	c->admin_server_address = dupz("0.0.0.0");
	c->admin_server_port = 8080;
	c->admin_command_url = dupz("/commands");
	c->admin_idle_timeout = 30000;
}

void zoocfg_standalone_default(struct zoocfg *c)
{
	zoocfg_defaults(c);
	c->source = dupz("(built-in defaults)");
	c->tick_time = 2000;
	c->data_dir = dupz("./data");
	c->data_log_dir = dupz("./data");
	c->client_port = 2181;
	c->client_port_address = dupz("127.0.0.1");
	c->four_lw_whitelist = dupz("*");
	c->four_lw_all = true;
	zfree(c->admin_server_address);
	c->admin_server_address = dupz("127.0.0.1");
}

static void free_kvs(struct zoocfg_kv *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		zfree(v[i].key);
		zfree(v[i].value);
	}
	zfree(v);
}

static void free_members(struct zoocfg *c)
{
	for (size_t i = 0; i < c->nservers; i++) {
		zfree(c->servers[i].host);
		zfree(c->servers[i].client_host);
	}
	zfree(c->servers);
	for (size_t i = 0; i < c->ngroups; i++)
		zfree(c->groups[i].sids);
	zfree(c->groups);
	zfree(c->weights);
	c->servers = NULL;
	c->groups = NULL;
	c->weights = NULL;
	c->nservers = c->ngroups = c->nweights = 0;
}

void zoocfg_free(struct zoocfg *c)
{
	char **strs[] = {&c->source, &c->data_dir, &c->data_log_dir, &c->client_port_address,
			 &c->secure_client_port_address, &c->metrics_provider_class,
			 &c->dynamic_config_file, &c->server_cnxn_factory, &c->super_digest,
			 &c->admin_server_address, &c->admin_command_url};
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		zfree(*strs[i]);
	clear_whitelist(c);
	free_members(c);
	free_kvs(c->metrics_props, c->nmetrics_props);
	free_kvs(c->auth_providers, c->nauth_providers);
	free_kvs(c->entries, c->nentries);
	for (size_t i = 0; i < c->nwarnings; i++)
		zfree(c->warnings[i]);
	zfree(c->warnings);
	memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------------ */
/* parsing a whole file */

static int entry_line(const struct zoocfg *c, const char *key)
{
	for (size_t i = c->nentries; i-- > 0;)
		if (strcmp(canonical_key(c->entries[i].key), key) == 0)
			return c->entries[i].line;
	return 0;
}

static int check_pair(struct zcx *x, const char *addr_key, const char *addr, int port,
		      const char *port_key)
{
	if (addr && port == 0)
		return zcx_fail(x, entry_line(x->c, addr_key), addr_key, "is set but %s is not",
				port_key);
	return 0;
}

/* With extendedTypesEnabled an ephemeralOwner whose top byte is 0xff marks
 * a TTL node, so no session id (sid in the top byte) may start with 0xff. */
static int check_sids(struct zcx *x)
{
	struct zoocfg *c = x->c;
	for (size_t i = 0; i < c->nservers; i++) {
		const struct zoocfg_server *s = &c->servers[i];
		if (c->extended_types_enabled && s->sid > 254)
			return zcx_fail(x, s->line, "server", "id %lld is over 254, the limit with "
					"extendedTypesEnabled=true", (long long)s->sid);
	}
	return 0;
}

static int check_members(struct zcx *x)
{
	struct zoocfg *c = x->c;
	if (check_sids(x) < 0)
		return -1;
	if (c->dynamic_config_file && (c->nservers || c->ngroups || c->nweights)) {
		int line = c->nservers ? c->servers[0].line
			 : c->ngroups  ? c->groups[0].line : c->weights[0].line;
		return zcx_fail(x, line, "dynamicConfigFile", "is set, so server., group. and weight. "
				"lines must be in %.200s", c->dynamic_config_file);
	}
	return 0;
}

/* Cross-key rules of QuorumPeerConfig.parseProperties (§7.1). */
static int validate(struct zcx *x)
{
	struct zoocfg *c = x->c;
	if (!c->data_dir || !c->data_dir[0])
		return zcx_fail(x, entry_line(c, "dataDir"), "dataDir", "is not set");
	if (!c->data_log_dir || !c->data_log_dir[0]) {
		zfree(c->data_log_dir);
		c->data_log_dir = dupz(c->data_dir);
	}
	if (check_pair(x, "clientPortAddress", c->client_port_address, c->client_port,
		       "clientPort") < 0 ||
	    check_pair(x, "secureClientPortAddress", c->secure_client_port_address,
		       c->secure_client_port, "secureClientPort") < 0)
		return -1;
	int mn = zoocfg_min_session_timeout(c), mx = zoocfg_max_session_timeout(c);
	if (mn > mx)
		return zcx_fail(x, entry_line(c, "minSessionTimeout"), "minSessionTimeout",
				"%d is larger than maxSessionTimeout %d", mn, mx);
	if ((c->quorum_server_require_sasl || c->quorum_learner_require_sasl) &&
	    !c->quorum_sasl_enabled)
		return zcx_fail(x, entry_line(c, c->quorum_server_require_sasl
						       ? "quorum.auth.serverRequireSasl"
						       : "quorum.auth.learnerRequireSasl"),
				"quorum.auth.enableSasl",
				"must be true when quorum SASL is required");
	if (c->fle_min_notification_interval > c->fle_max_notification_interval)
		return zcx_fail(x, entry_line(c, "fastleader.minNotificationInterval"),
				"fastleader.minNotificationInterval", "is larger than the maximum");
	return check_members(x);
}

static void keep_entry(struct zoocfg *c, const struct props_entry *e)
{
	add_kv(&c->entries, &c->nentries, e->key, e->value, e->line);
}

/* Apply the entries of p; a key given twice keeps its last value, as with
 * Java's Properties, and the earlier lines get a warning. */
static int apply_props(struct zcx *x, const struct props *p)
{
	struct strmap last;
	strmap_init(&last);
	for (size_t i = 0; i < p->n; i++) {
		const char *k = canonical_key(p->v[i].key);
		strmap_put(&last, k, strlen(k), (void *)&p->v[i]);
	}
	int rc = 0;
	for (size_t i = 0; i < p->n && rc == 0; i++) {
		const struct props_entry *e = &p->v[i];
		const char *k = canonical_key(e->key);
		const struct props_entry *w = strmap_get(&last, k, strlen(k));
		if (w != e) {
			zcx_warn(x, e->line, e->key, "repeated on line %d, which wins", w->line);
			continue;
		}
		keep_entry(x->c, e);
		rc = apply_entry(x, e->key, e->value, e->line);
	}
	strmap_free(&last);
	return rc;
}

static int parse_props(struct zcx *x, struct props *p, const char *text, size_t len)
{
	int line = 0;
	const char *err = NULL;
	if (props_parse(p, text, len, &line, &err) < 0) {
		buf_printf(x->err, "%s:%d: %s", x->name, line, err);
		return -1;
	}
	return 0;
}

int zoocfg_parse_text(struct zoocfg *c, const char *name, const char *text, size_t len,
		      struct buf *errmsg)
{
	struct zcx x = {.c = c, .name = name, .err = errmsg};
	zfree(c->source);
	c->source = dupz(name);
	struct props p;
	props_init(&p);
	int rc = parse_props(&x, &p, text, len);
	if (rc == 0)
		rc = apply_props(&x, &p);
	props_free(&p);
	if (rc == 0)
		rc = validate(&x);
	return rc;
}

int zoocfg_parse_dynamic(struct zoocfg *c, const char *name, const char *text, size_t len,
			 struct buf *errmsg)
{
	struct zcx x = {.c = c, .name = name, .err = errmsg};
	struct props p;
	props_init(&p);
	int rc = parse_props(&x, &p, text, len);
	for (size_t i = 0; i < p.n && rc == 0; i++) {
		const struct props_entry *e = &p.v[i];
		if (strcmp(e->key, "version") == 0)
			rc = zcx_fail(&x, e->line, e->key, "a dynamic config file must not hold "
					"a version (it comes from the file name)");
		else if (!has_prefix(e->key, "server.") && !has_prefix(e->key, "group.") &&
			 !has_prefix(e->key, "weight."))
			rc = zcx_fail(&x, e->line, e->key, "only server., group. and weight. lines "
					"may be in a dynamic config file");
	}
	if (rc == 0)
		rc = apply_props(&x, &p);
	props_free(&p);
	return rc == 0 ? check_sids(&x) : rc;
}

/* Read a whole file, refusing anything over MAX_FILE_BYTES. */
static int read_file(const char *path, struct buf *out, struct buf *errmsg)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		buf_printf(errmsg, "%s: %s", path, strerror(errno));
		return -1;
	}
	char tmp[8192];
	size_t n;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
		if (out->len + n > MAX_FILE_BYTES) {
			fclose(f);
			buf_printf(errmsg, "%s: larger than %u bytes", path, MAX_FILE_BYTES);
			return -1;
		}
		buf_put(out, tmp, n);
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		buf_printf(errmsg, "%s: read error", path);
		return -1;
	}
	return 0;
}

/* Java's getVersionFromFilename: the hex text after the last '.', if it
 * is a valid hex long; otherwise there is no version (0). */
static int64_t version_from_filename(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (!dot || !dot[1] || strlen(dot + 1) > 16)
		return 0;
	uint64_t v = 0;
	for (const char *p = dot + 1; *p; p++) {
		const char *hex = "0123456789abcdef";
		const char *h = strchr(hex, *p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
		if (!h || !*p)
			return 0;
		v = v * 16 + (uint64_t)(h - hex);
	}
	return v > (uint64_t)INT64_MAX ? 0 : (int64_t)v;
}

static int load_one(struct zoocfg *c, const char *path, bool dynamic, struct buf *errmsg)
{
	struct buf text;
	buf_init(&text);
	int rc = read_file(path, &text, errmsg);
	if (rc == 0 && dynamic)
		rc = zoocfg_parse_dynamic(c, path, (const char *)text.data, text.len, errmsg);
	else if (rc == 0)
		rc = zoocfg_parse_text(c, path, (const char *)text.data, text.len, errmsg);
	buf_free(&text);
	return rc;
}

int zoocfg_load(struct zoocfg *c, const char *path, struct buf *errmsg)
{
	zoocfg_defaults(c);
	if (load_one(c, path, false, errmsg) < 0)
		return -1;
	if (!c->dynamic_config_file)
		return 0;
	c->config_version = version_from_filename(c->dynamic_config_file);
	return load_one(c, c->dynamic_config_file, true, errmsg);
}

/* ------------------------------------------------------------------ */
/* accessors */

int zoocfg_min_session_timeout(const struct zoocfg *c)
{
	if (c->min_session_timeout != -1)
		return c->min_session_timeout;
	return c->tick_time > INT32_MAX / 2 ? INT32_MAX : c->tick_time * 2;
}

int zoocfg_max_session_timeout(const struct zoocfg *c)
{
	if (c->max_session_timeout != -1)
		return c->max_session_timeout;
	return c->tick_time > INT32_MAX / 20 ? INT32_MAX : c->tick_time * 20;
}

int zoocfg_jute_extrasize(const struct zoocfg *c)
{
	return c->jute_maxbuffer_extrasize < 0 ? c->jute_maxbuffer : c->jute_maxbuffer_extrasize;
}

bool zoocfg_4lw_allowed(const struct zoocfg *c, const char *word)
{
	if (strcmp(word, "srvr") == 0)
		return true;
	if (strcmp(word, "isro") == 0 && c->readonlymode_enabled)
		return true;
	if (!c->four_lw_whitelist)
		return false;
	if (c->four_lw_all)
		return true;
	for (size_t i = 0; i < c->nfour_lw_words; i++)
		if (strcmp(c->four_lw_words[i], word) == 0)
			return true;
	return false;
}

const char *zoocfg_get(const struct zoocfg *c, const char *key)
{
	for (size_t i = 0; i < c->nentries; i++)
		if (strcmp(c->entries[i].key, key) == 0)
			return c->entries[i].value;
	return NULL;
}
