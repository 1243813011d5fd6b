/* zoocfg tests: Java Properties syntax as ZooKeeper reads zoo.cfg, every
 * key's typing and default (zookeeper-protocol.md §7), line-numbered
 * errors, warnings, server lines (§5.1.1), myid, the 4lw whitelist, and
 * the `conf` and membership texts compared with a live ZooKeeper 3.8.0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/zoocfg.h"

struct fx {
	struct zoocfg c;
	struct buf err;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	zoocfg_defaults(&f->c);
	buf_init(&f->err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	zoocfg_free(&f->c);
	buf_free(&f->err);
	free(f);
	return 0;
}

static int parse(struct fx *f, const char *text)
{
	zoocfg_free(&f->c);
	zoocfg_defaults(&f->c);
	f->err.len = 0;
	return zoocfg_parse_text(&f->c, "zoo.cfg", text, strlen(text), &f->err);
}

static const char *errstr(struct fx *f)
{
	buf_put_u8(&f->err, 0);
	f->err.len--;
	return (const char *)f->err.data;
}

/* Parsing fails with exactly this message. */
static void expect_error(struct fx *f, const char *text, const char *msg)
{
	assert_int_equal(parse(f, text), -1);
	assert_string_equal(errstr(f), msg);
}

static bool has_warning(const struct zoocfg *c, const char *w)
{
	for (size_t i = 0; i < c->nwarnings; i++)
		if (strcmp(c->warnings[i], w) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */

static void test_defaults(void **state)
{
	struct fx *f = *state;
	assert_int_equal(parse(f, "dataDir=/var/zk\n"), 0);
	const struct zoocfg *c = &f->c;
	assert_int_equal(c->tick_time, 3000);
	assert_string_equal(c->data_dir, "/var/zk");
	assert_string_equal(c->data_log_dir, "/var/zk");
	assert_int_equal(c->client_port, 0);
	assert_null(c->client_port_address);
	assert_int_equal(c->max_client_cnxns, 60);
	assert_int_equal(c->min_session_timeout, -1);
	assert_int_equal(zoocfg_min_session_timeout(c), 6000);
	assert_int_equal(zoocfg_max_session_timeout(c), 60000);
	assert_int_equal(c->client_port_listen_backlog, -1);
	assert_int_equal(c->global_outstanding_limit, 1000);
	assert_int_equal(c->pre_alloc_size_kb, 65536);
	assert_int_equal(c->snap_count, 100000);
	assert_int_equal(c->snap_size_limit_kb, 4194304);
	assert_int_equal(c->txn_log_size_limit_kb, -1);
	assert_true(c->force_sync);
	assert_int_equal(c->autopurge_snap_retain_count, 3);
	assert_int_equal(c->autopurge_purge_interval, 0);
	assert_true(c->admin_enable_server);
	assert_int_equal(c->admin_server_port, 8080);
	assert_string_equal(c->admin_server_address, "0.0.0.0");
	assert_string_equal(c->admin_command_url, "/commands");
	assert_true(c->sync_enabled);
	assert_true(c->standalone_enabled);
	assert_false(c->reconfig_enabled);
	assert_int_equal(c->election_alg, 3);
	assert_int_equal(c->peer_type, ZOOCFG_PARTICIPANT);
	assert_int_equal(c->cnx_timeout, 5000);
	assert_false(c->quorum_listen_on_all_ips);
	assert_false(c->local_sessions_enabled);
	assert_false(c->readonlymode_enabled);
	assert_false(c->extended_types_enabled);
	assert_int_equal(c->container_check_interval_ms, 60000);
	assert_int_equal(c->container_max_per_minute, 10000);
	assert_int_equal(c->container_max_never_used_interval_ms, 0);
	assert_int_equal(c->jute_maxbuffer, 1048575);
	assert_int_equal(zoocfg_jute_extrasize(c), 1048575);
	assert_false(c->skip_acl);
	assert_true(c->digest_enabled);
	assert_true(c->close_session_txn_enabled);
	assert_false(c->enforce_quota);
	assert_int_equal(c->snapshot_compression, ZOOCFG_COMPRESS_NONE);
	assert_int_equal(c->nio_sessionless_cnxn_timeout, 10000);
	assert_int_equal(c->max_cnxns, 0);
	assert_null(c->super_digest);
	assert_true(c->digest_auth_enabled);
	assert_int_equal(c->commit_log_count, 500);
	assert_true(c->leader_serves);
	assert_int_equal(c->nservers, 0);
	assert_int_equal(c->nwarnings, 0);
	/* ZooKeeper 3.8's default whitelist is srvr alone */
	assert_true(zoocfg_4lw_allowed(c, "srvr"));
	assert_false(zoocfg_4lw_allowed(c, "ruok"));
	assert_false(zoocfg_4lw_allowed(c, "isro"));
	assert_false(zoocfg_is_distributed(c));
}

static void test_standalone_keys(void **state)
{
	struct fx *f = *state;
	const char *text = "tickTime=2000\n"
			   "dataDir=/d\n"
			   "dataLogDir=/l\n"
			   "clientPort=2181\n"
			   "clientPortAddress=127.0.0.1\n"
			   "secureClientPort=2281\n"
			   "secureClientPortAddress=::1\n"
			   "clientPortListenBacklog=50\n"
			   "maxClientCnxns=0\n"
			   "minSessionTimeout=1000\n"
			   "maxSessionTimeout=90000\n"
			   "globalOutstandingLimit=77\n"
			   "preAllocSize=1024\n"
			   "snapCount=5000\n"
			   "snapSizeLimitInKb=-1\n"
			   "txnLogSizeLimitInKb=10240\n"
			   "forceSync=no\n"
			   "fsync.warningthresholdms=50\n"
			   "autopurge.snapRetainCount=5\n"
			   "autopurge.purgeInterval=24\n"
			   "admin.enableServer=false\n"
			   "admin.serverAddress=127.0.0.1\n"
			   "admin.serverPort=9090\n"
			   "admin.commandURL=/cmd\n"
			   "admin.idleTimeout=100\n"
			   "metricsProvider.className=org.x.Prom\n"
			   "metricsProvider.httpPort=7001\n"
			   "localSessionsEnabled=TRUE\n"
			   "localSessionsUpgradingEnabled=true\n"
			   "readonlymode.enabled=true\n";
	assert_int_equal(parse(f, text), 0);
	const struct zoocfg *c = &f->c;
	assert_int_equal(c->tick_time, 2000);
	assert_string_equal(c->data_log_dir, "/l");
	assert_int_equal(c->client_port, 2181);
	assert_string_equal(c->client_port_address, "127.0.0.1");
	assert_int_equal(c->secure_client_port, 2281);
	assert_string_equal(c->secure_client_port_address, "::1");
	assert_int_equal(c->client_port_listen_backlog, 50);
	assert_int_equal(c->max_client_cnxns, 0);
	assert_int_equal(zoocfg_min_session_timeout(c), 1000);
	assert_int_equal(zoocfg_max_session_timeout(c), 90000);
	assert_int_equal(c->global_outstanding_limit, 77);
	assert_int_equal(c->pre_alloc_size_kb, 1024);
	assert_int_equal(c->snap_count, 5000);
	assert_int_equal(c->snap_size_limit_kb, -1);
	assert_int_equal(c->txn_log_size_limit_kb, 10240);
	assert_false(c->force_sync);
	assert_int_equal(c->fsync_warning_threshold_ms, 50);
	assert_int_equal(c->autopurge_snap_retain_count, 5);
	assert_int_equal(c->autopurge_purge_interval, 24);
	assert_false(c->admin_enable_server);
	assert_string_equal(c->admin_server_address, "127.0.0.1");
	assert_int_equal(c->admin_server_port, 9090);
	assert_string_equal(c->admin_command_url, "/cmd");
	assert_int_equal(c->admin_idle_timeout, 100);
	assert_string_equal(c->metrics_provider_class, "org.x.Prom");
	assert_int_equal(c->nmetrics_props, 1);
	assert_string_equal(c->metrics_props[0].key, "httpPort");
	assert_string_equal(c->metrics_props[0].value, "7001");
	assert_true(c->local_sessions_enabled);
	assert_true(c->local_sessions_upgrading_enabled);
	assert_true(c->readonlymode_enabled);
	assert_true(zoocfg_4lw_allowed(c, "isro"));
	assert_int_equal(c->nwarnings, 0);
	assert_string_equal(zoocfg_get(c, "metricsProvider.httpPort"), "7001");
	assert_null(zoocfg_get(c, "nope"));
}

static void test_sysprop_keys(void **state)
{
	struct fx *f = *state;
	const char *text = "dataDir=/d\n"
			   "extendedTypesEnabled=true\n"
			   "emulate353TTLNodes=true\n"
			   "znode.container.checkIntervalMs=1000\n"
			   "znode.container.maxPerMinute=5\n"
			   "znode.container.maxNeverUsedIntervalMs=7\n"
			   "DigestAuthenticationProvider.superDigest=super:abc=\n"
			   "DigestAuthenticationProvider.enabled=false\n"
			   "jute.maxbuffer=4194304\n"
			   "jute.maxbuffer.extrasize=1024\n"
			   "skipACL=yes\n"
			   "digest.enabled=false\n"
			   "closeSessionTxn.enabled=false\n"
			   "enforceQuota=true\n"
			   "snapshot.compression.method=gz\n"
			   "snapshot.trust.empty=true\n"
			   "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n"
			   "nio.sessionlessCnxnTimeout=3000\n"
			   "maxCnxns=100\n"
			   "commitLogCount=1000\n"
			   "snapshotSizeFactor=0.5\n"
			   "leaderServes=no\n"
			   "authProvider.1=org.x.Auth\n"
			   "ssl.keyStore.location=/k\n"
			   "requestThrottleLimit=10\n";
	assert_int_equal(parse(f, text), 0);
	const struct zoocfg *c = &f->c;
	assert_true(c->extended_types_enabled);
	assert_true(c->emulate353_ttl_nodes);
	assert_int_equal(c->container_check_interval_ms, 1000);
	assert_int_equal(c->container_max_per_minute, 5);
	assert_int_equal(c->container_max_never_used_interval_ms, 7);
	/* the value keeps its '=': only the first separator splits */
	assert_string_equal(c->super_digest, "super:abc=");
	assert_false(c->digest_auth_enabled);
	assert_int_equal(c->jute_maxbuffer, 4194304);
	assert_int_equal(zoocfg_jute_extrasize(c), 1024);
	assert_true(c->skip_acl);
	assert_false(c->digest_enabled);
	assert_false(c->close_session_txn_enabled);
	assert_true(c->enforce_quota);
	assert_int_equal(c->snapshot_compression, ZOOCFG_COMPRESS_GZ);
	assert_true(c->snapshot_trust_empty);
	assert_string_equal(c->server_cnxn_factory,
			    "org.apache.zookeeper.server.NettyServerCnxnFactory");
	assert_int_equal(c->nio_sessionless_cnxn_timeout, 3000);
	assert_int_equal(c->max_cnxns, 100);
	assert_int_equal(c->commit_log_count, 1000);
	assert_true(c->snapshot_size_factor > 0.49 && c->snapshot_size_factor < 0.51);
	assert_false(c->leader_serves);
	assert_int_equal(c->nauth_providers, 1);
	assert_string_equal(c->auth_providers[0].key, "1");
	assert_int_equal(c->nwarnings, 0);
}

static void test_quorum_keys(void **state)
{
	struct fx *f = *state;
	const char *text = "dataDir=/d\n"
			   "initLimit=10\n"
			   "syncLimit=5\n"
			   "connectToLearnerMasterLimit=7\n"
			   "electionAlg=1\n"
			   "peerType=Observer\n"
			   "observerMasterPort=2191\n"
			   "quorumListenOnAllIPs=true\n"
			   "standaloneEnabled=false\n"
			   "reconfigEnabled=true\n"
			   "syncEnabled=false\n"
			   "cnxTimeout=1234\n"
			   "quorumCnxnTimeoutMs=99\n"
			   "fastleader.minNotificationInterval=100\n"
			   "fastleader.maxNotificationInterval=1000\n"
			   "quorum.cnxn.threads.size=30\n"
			   "multiAddress.enabled=true\n"
			   "sslQuorum=true\n"
			   "portUnification=true\n"
			   "quorum.auth.enableSasl=true\n"
			   "quorum.auth.serverRequireSasl=true\n"
			   "quorum.auth.learnerRequireSasl=true\n";
	assert_int_equal(parse(f, text), 0);
	const struct zoocfg *c = &f->c;
	assert_int_equal(c->init_limit, 10);
	assert_int_equal(c->sync_limit, 5);
	assert_int_equal(c->connect_to_learner_master_limit, 7);
	/* electionAlg other than 3 is refused by the ensemble code, not here */
	assert_int_equal(c->election_alg, 1);
	assert_int_equal(c->peer_type, ZOOCFG_OBSERVER);
	assert_true(c->peer_type_set);
	assert_int_equal(c->observer_master_port, 2191);
	assert_true(c->quorum_listen_on_all_ips);
	assert_false(c->standalone_enabled);
	assert_true(c->reconfig_enabled);
	assert_false(c->sync_enabled);
	assert_int_equal(c->cnx_timeout, 1234);
	assert_int_equal(c->quorum_cnxn_timeout_ms, 99);
	assert_int_equal(c->fle_min_notification_interval, 100);
	assert_int_equal(c->fle_max_notification_interval, 1000);
	assert_int_equal(c->quorum_cnxn_threads_size, 30);
	assert_true(c->multi_address_enabled);
	assert_true(c->ssl_quorum);
	assert_true(c->port_unification);
	assert_true(c->quorum_sasl_enabled);
	assert_int_equal(c->nwarnings, 0);
}

static void test_observer_sync_enabled_overrides(void **state)
{
	struct fx *f = *state;
	assert_int_equal(parse(f, "dataDir=/d\nobserver.syncEnabled=true\nsyncEnabled=false\n"), 0);
	assert_true(f->c.sync_enabled);
	assert_int_equal(parse(f, "dataDir=/d\nzookeeper.observer.syncEnabled=false\n"
				  "syncEnabled=true\n"), 0);
	assert_false(f->c.sync_enabled);
}

static void test_prefix_alias(void **state)
{
	struct fx *f = *state;
	assert_int_equal(parse(f, "dataDir=/d\nzookeeper.snapCount=50\n"
				  "zookeeper.jute.maxbuffer=2000000\njute.maxbuffer.extrasize=5\n"
				  "zookeeper.4lw.commands.whitelist=ruok\n"
				  "zookeeper.extendedTypesEnabled=true\n"
				  "zookeeper.znode.container.maxPerMinute=3\n"
				  "zookeeper.DigestAuthenticationProvider.superDigest=a:b\n"),
			 0);
	assert_int_equal(f->c.snap_count, 50);
	assert_int_equal(f->c.jute_maxbuffer, 2000000);
	assert_int_equal(f->c.jute_maxbuffer_extrasize, 5);
	assert_true(zoocfg_4lw_allowed(&f->c, "ruok"));
	assert_true(f->c.extended_types_enabled);
	assert_int_equal(f->c.container_max_per_minute, 3);
	assert_string_equal(f->c.super_digest, "a:b");
	assert_int_equal(f->c.nwarnings, 0);

	/* both spellings are one key: the last line wins, the other is warned */
	assert_int_equal(parse(f, "dataDir=/d\nsnapCount=10\nzookeeper.snapCount=20\n"), 0);
	assert_int_equal(f->c.snap_count, 20);
	assert_true(has_warning(&f->c, "zoo.cfg:2: snapCount: repeated on line 3, which wins"));

	/* keys parsed directly have no prefixed spelling (Java ignores it) */
	assert_int_equal(parse(f, "dataDir=/d\nzookeeper.tickTime=10\n"), 0);
	assert_int_equal(f->c.tick_time, 3000);
	assert_int_equal(f->c.nwarnings, 1);
	assert_string_equal(f->c.warnings[0],
			    "zoo.cfg:2: zookeeper.tickTime: unknown key, ignored (ZooKeeper reads "
			    "it without the zookeeper. prefix)");
}

static void test_properties_syntax(void **state)
{
	struct fx *f = *state;
	const char *text = "# comment\n"
			   "! also a comment\n"
			   "   \t\n"
			   "  tickTime   =   2500   \n"
			   "clientPort:2182\n"
			   "maxClientCnxns 9\n"
			   "dataDir = C:\\zk\\data\n"
			   "dataLogDir=/a/\\\n"
			   "     b\n"
			   "DigestAuthenticationProvider.superDigest=\\u0041\\:\\=\\t\\x\n"
			   "clientPortAddress = \\\n"
			   "# not a comment: a continuation\n";
	assert_int_equal(parse(f, text), 0);
	assert_int_equal(f->c.tick_time, 2500);
	assert_int_equal(f->c.client_port, 2182);
	assert_int_equal(f->c.max_client_cnxns, 9);
	/* backslash escapes: a Windows path loses its backslashes, as in Java */
	assert_string_equal(f->c.data_dir, "C:zkdata");
	assert_string_equal(f->c.data_log_dir, "/a/b");
	assert_string_equal(f->c.super_digest, "A:=\tx");
	assert_string_equal(f->c.client_port_address, "# not a comment: a continuation");
}

static void test_line_numbers_crlf(void **state)
{
	struct fx *f = *state;
	expect_error(f, "dataDir=/d\r\n\r\n# x\r\nfoo=\\\r\n  bar\r\ntickTime=x\r\n",
		     "zoo.cfg:6: tickTime: 'x' is not an integer");
	assert_true(has_warning(&f->c, "zoo.cfg:4: foo: unknown key, ignored"));
	expect_error(f, "dataDir=/d\rtickTime=1\rclientPort=-5\r",
		     "zoo.cfg:3: clientPort: -5 is out of range (0..65535)");
}

static void test_bad_values(void **state)
{
	struct fx *f = *state;
	expect_error(f, "dataDir=/d\ntickTime=2000x\n", "zoo.cfg:2: tickTime: '2000x' is not an integer");
	expect_error(f, "dataDir=/d\ntickTime=\n", "zoo.cfg:2: tickTime: '' is not an integer");
	expect_error(f, "dataDir=/d\ntickTime=0\n",
		     "zoo.cfg:2: tickTime: 0 is out of range (1..2147483647)");
	expect_error(f, "dataDir=/d\nmaxClientCnxns=2147483648\n",
		     "zoo.cfg:2: maxClientCnxns: '2147483648' is not an integer");
	expect_error(f, "dataDir=/d\nclientPort=65536\n",
		     "zoo.cfg:2: clientPort: 65536 is out of range (0..65535)");
	expect_error(f, "dataDir=/d\nforceSync=true\n",
		     "zoo.cfg:2: forceSync: 'true' is not yes or no");
	expect_error(f, "dataDir=/d\nzookeeper.skipACL=Yes\n",
		     "zoo.cfg:2: zookeeper.skipACL: 'Yes' is not yes or no");
	expect_error(f, "dataDir=/d\nstandaloneEnabled=yes\n",
		     "zoo.cfg:2: standaloneEnabled: 'yes' is not true or false");
	expect_error(f, "dataDir=/d\nextendedTypesEnabled=1\n",
		     "zoo.cfg:2: extendedTypesEnabled: '1' is not true or false");
	expect_error(f, "dataDir=/d\npeerType=leader\n",
		     "zoo.cfg:2: peerType: 'leader' is not participant or observer");
	expect_error(f, "dataDir=/d\nsnapshot.compression.method=lz4\n",
		     "zoo.cfg:2: snapshot.compression.method: 'lz4' is not gz, snappy or empty");
	expect_error(f, "dataDir=/d\nsnapshotSizeFactor=abc\n",
		     "zoo.cfg:2: snapshotSizeFactor: 'abc' is not a number");
	expect_error(f, "dataDir=/d\npreAllocSize=0\n",
		     "zoo.cfg:2: preAllocSize: 0 is out of range (1..9007199254740991)");
	expect_error(f, "dataDir=/d\njute.maxbuffer=0x100000\n",
		     "zoo.cfg:2: jute.maxbuffer: '0x100000' is not an integer");
	expect_error(f, "dataDir=/d\nminSessionTimeout=-2\n",
		     "zoo.cfg:2: minSessionTimeout: -2 is out of range (-1..2147483647)");
	expect_error(f, "dataDir=/d\nx=\\u00zz\n", "zoo.cfg:2: malformed \\uXXXX escape");
	static const char nul[] = "dataDir=/d\nx=a\0b\n";
	zoocfg_free(&f->c);
	zoocfg_defaults(&f->c);
	f->err.len = 0;
	assert_int_equal(zoocfg_parse_text(&f->c, "zoo.cfg", nul, sizeof nul - 1, &f->err), -1);
	assert_string_equal(errstr(f), "zoo.cfg:2: NUL byte in the file");
}

static void test_cross_key_rules(void **state)
{
	struct fx *f = *state;
	expect_error(f, "tickTime=2000\n", "zoo.cfg: dataDir: is not set");
	expect_error(f, "dataDir=\n", "zoo.cfg:1: dataDir: is not set");
	expect_error(f, "dataDir=/d\nclientPortAddress=127.0.0.1\n",
		     "zoo.cfg:2: clientPortAddress: is set but clientPort is not");
	expect_error(f, "dataDir=/d\nsecureClientPortAddress=::1\nclientPort=1\n",
		     "zoo.cfg:2: secureClientPortAddress: is set but secureClientPort is not");
	/* min 2000 (explicit) against max 20 x 50 = 1000 (derived) */
	expect_error(f, "dataDir=/d\ntickTime=50\nminSessionTimeout=2000\n",
		     "zoo.cfg:3: minSessionTimeout: 2000 is larger than maxSessionTimeout 1000");
	expect_error(f, "dataDir=/d\nquorum.auth.learnerRequireSasl=true\n",
		     "zoo.cfg:2: quorum.auth.enableSasl: must be true when quorum SASL is required");
}

static void test_unknown_keys_warn(void **state)
{
	struct fx *f = *state;
	assert_int_equal(parse(f, "dataDir=/d\nticktime=5\n\nfoo.bar = 1\n"), 0);
	assert_int_equal(f->c.tick_time, 3000);
	assert_int_equal(f->c.nwarnings, 2);
	assert_string_equal(f->c.warnings[0], "zoo.cfg:2: ticktime: unknown key, ignored");
	assert_string_equal(f->c.warnings[1], "zoo.cfg:4: foo.bar: unknown key, ignored");
	assert_string_equal(zoocfg_get(&f->c, "foo.bar"), "1");
}

static void test_clamped_values(void **state)
{
	struct fx *f = *state;
	assert_int_equal(parse(f, "dataDir=/d\nsnapCount=1\nautopurge.snapRetainCount=1\n"
				  "commitLogCount=10\nmaxCnxns=-4\n"),
			 0);
	assert_int_equal(f->c.snap_count, 2);
	assert_int_equal(f->c.autopurge_snap_retain_count, 3);
	assert_int_equal(f->c.commit_log_count, 500);
	assert_int_equal(f->c.max_cnxns, 0);
	assert_int_equal(f->c.nwarnings, 4);
	assert_string_equal(f->c.warnings[0],
			    "zoo.cfg:2: snapCount: 1 is below the minimum, 2 is used (as ZooKeeper does)");
}

static void test_duplicate_key_last_wins(void **state)
{
	struct fx *f = *state;
	/* Java's Properties keeps the last value, so a bad earlier one is moot */
	assert_int_equal(parse(f, "dataDir=/d\ntickTime=oops\ntickTime=1500\n"), 0);
	assert_int_equal(f->c.tick_time, 1500);
	assert_true(has_warning(&f->c, "zoo.cfg:2: tickTime: repeated on line 3, which wins"));
}

static void test_whitelist(void **state)
{
	struct fx *f = *state;
	assert_int_equal(parse(f, "dataDir=/d\n4lw.commands.whitelist=*\n"), 0);
	assert_true(zoocfg_4lw_allowed(&f->c, "ruok"));
	assert_true(zoocfg_4lw_allowed(&f->c, "mntr"));
	assert_true(zoocfg_4lw_allowed(&f->c, "conf"));

	assert_int_equal(parse(f, "dataDir=/d\n4lw.commands.whitelist=stat, ruok,conf  mntr,\n"), 0);
	assert_true(zoocfg_4lw_allowed(&f->c, "stat"));
	assert_true(zoocfg_4lw_allowed(&f->c, "ruok"));
	assert_true(zoocfg_4lw_allowed(&f->c, "conf"));
	assert_true(zoocfg_4lw_allowed(&f->c, "mntr"));
	assert_true(zoocfg_4lw_allowed(&f->c, "srvr"));
	assert_false(zoocfg_4lw_allowed(&f->c, "dump"));
	assert_false(zoocfg_4lw_allowed(&f->c, "Ruok"));
	assert_int_equal(f->c.nfour_lw_words, 4);
	assert_int_equal(f->c.nwarnings, 0);

	/* `*` anywhere enables everything */
	assert_int_equal(parse(f, "dataDir=/d\n4lw.commands.whitelist=ruok, *\n"), 0);
	assert_true(zoocfg_4lw_allowed(&f->c, "wchp"));

	/* an empty list leaves srvr */
	assert_int_equal(parse(f, "dataDir=/d\n4lw.commands.whitelist=\n"), 0);
	assert_true(zoocfg_4lw_allowed(&f->c, "srvr"));
	assert_false(zoocfg_4lw_allowed(&f->c, "ruok"));

	assert_int_equal(parse(f, "dataDir=/d\n4lw.commands.whitelist=ruok,rouk\n"), 0);
	assert_int_equal(f->c.nwarnings, 1);
	assert_string_equal(f->c.warnings[0], "zoo.cfg:2: 4lw.commands.whitelist: 'rouk' is not a "
					      "four-letter word ZooKeeper knows");
}

/* ------------------------------------------------------------------ */
/* server lines */

static void test_server_lines(void **state)
{
	struct fx *f = *state;
	const char *text = "dataDir=/d\ninitLimit=5\nsyncLimit=2\n"
			   "server.1=zk1.example:2888:3888\n"
			   "server.2=10.0.0.2:2889:3889:participant;2181\n"
			   "server.3=[::1]:2890:3890:OBSERVER;[::1]:2182\n"
			   "server.4=h4:1:2;0.0.0.0:2183\n"
			   "server.5=h5:1:2:\n";
	assert_int_equal(parse(f, text), 0);
	const struct zoocfg *c = &f->c;
	assert_int_equal(c->nservers, 5);
	const struct zoocfg_server *s = &c->servers[0];
	assert_int_equal(s->sid, 1);
	assert_string_equal(s->host, "zk1.example");
	assert_int_equal(s->quorum_port, 2888);
	assert_int_equal(s->election_port, 3888);
	assert_int_equal(s->type, ZOOCFG_PARTICIPANT);
	assert_null(s->client_host);
	assert_int_equal(s->client_port, -1);
	assert_int_equal(s->line, 4);
	s = zoocfg_find_server(c, 2);
	assert_non_null(s);
	assert_string_equal(s->client_host, "0.0.0.0");
	assert_int_equal(s->client_port, 2181);
	s = zoocfg_find_server(c, 3);
	assert_string_equal(s->host, "::1");
	assert_int_equal(s->type, ZOOCFG_OBSERVER);
	assert_string_equal(s->client_host, "::1");
	assert_int_equal(s->client_port, 2182);
	assert_int_equal(zoocfg_find_server(c, 5)->election_port, 2);
	assert_null(zoocfg_find_server(c, 6));
	assert_true(zoocfg_is_distributed(c));
	assert_int_equal(c->nwarnings, 0);
}

static void test_bad_server_lines(void **state)
{
	struct fx *f = *state;
	const char *form = "expected host:quorumPort:electionPort[:participant|:observer]"
			   "[;[clientHost:]clientPort]";
	char want[256];
	snprintf(want, sizeof want, "zoo.cfg:2: server.1: %s", form);
	expect_error(f, "dataDir=/d\nserver.1=h:2888\n", want);
	expect_error(f, "dataDir=/d\nserver.1=h:1:2:observer:x\n", want);
	/* more parts than the splitter keeps (found by fuzz_zoocfg) */
	expect_error(f, "dataDir=/d\nserver.1=[::1]:1:2:3:4:5:6:7:8:9\n", want);
	expect_error(f, "dataDir=/d\nserver.1=h:1:2:3:4:5:6:7:8:9:10\n", want);
	expect_error(f, "dataDir=/d\nserver.1=h:2888:x\n",
		     "zoo.cfg:2: server.1: port 'x' is not a number");
	expect_error(f, "dataDir=/d\nserver.1=h:2888:70000\n",
		     "zoo.cfg:2: server.1: port 70000 is out of range (1..65535)");
	expect_error(f, "dataDir=/d\nserver.1=h:2888:2888\n",
		     "zoo.cfg:2: server.1: quorum and election port must differ (both 2888)");
	expect_error(f, "dataDir=/d\nserver.1=h:1:2:leader\n",
		     "zoo.cfg:2: server.1: 'leader' is not participant or observer");
	expect_error(f, "dataDir=/d\nserver.a=h:1:2\n", "zoo.cfg:2: server.a: 'a' is not a server id");
	expect_error(f, "dataDir=/d\nserver.256=h:1:2\n",
		     "zoo.cfg:2: server.256: server id 256 is out of range (0..255: it is the top "
		     "byte of session ids)");
	expect_error(f, "dataDir=/d\nserver.1=h:1:2\nserver.01=g:1:2\n",
		     "zoo.cfg:3: server.01: server id 1 is already given on line 2");
	expect_error(f, "dataDir=/d\nserver.1=h:1:2|g:1:2\n",
		     "zoo.cfg:2: server.1: several addresses per server (|) are not supported");
	expect_error(f, "dataDir=/d\nserver.1=h:1:2;a:b:3\n",
		     "zoo.cfg:2: server.1: client address 'a:b:3': expected host:quorumPort:"
		     "electionPort[:participant|:observer][;[clientHost:]clientPort]");
	expect_error(f, "dataDir=/d\nserver.1=h:1:2;x\n",
		     "zoo.cfg:2: server.1: port 'x' is not a number");
	expect_error(f, "dataDir=/d\nserver.1=h:1:2;1;2\n",
		     "zoo.cfg:2: server.1: 'h:1:2;1;2': expected host:quorumPort:electionPort"
		     "[:participant|:observer][;[clientHost:]clientPort]");
	expect_error(f, "dataDir=/d\nserver.1=[::1:1:2\n",
		     "zoo.cfg:2: server.1: '[::1:1:2' starts with '[' but has no ']'");
	expect_error(f, "dataDir=/d\nserver.1=:1:2\n", "zoo.cfg:2: server.1: empty host");
	expect_error(f, "dataDir=/d\nextendedTypesEnabled=true\nserver.255=h:1:2\n",
		     "zoo.cfg:3: server: id 255 is over 254, the limit with extendedTypesEnabled=true");
	expect_error(f, "dataDir=/d\ndynamicConfigFile=/dyn\nserver.1=h:1:2\n",
		     "zoo.cfg:3: dynamicConfigFile: is set, so server., group. and weight. lines "
		     "must be in /dyn");
}

static void test_groups_and_weights(void **state)
{
	struct fx *f = *state;
	assert_int_equal(parse(f, "dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n"
				  "group.1=1:2\ngroup.2=3\nweight.1=1\nweight.2=0\nweight.3=1\n"),
			 0);
	assert_int_equal(f->c.ngroups, 2);
	assert_int_equal(f->c.groups[0].nsids, 2);
	assert_int_equal(f->c.groups[0].sids[1], 2);
	assert_int_equal(f->c.groups[1].gid, 2);
	assert_int_equal(f->c.nweights, 3);
	assert_int_equal(f->c.weights[1].weight, 0);
	expect_error(f, "dataDir=/d\ngroup.1=1:x\n",
		     "zoo.cfg:2: group.1: '1:x' is not a list of server ids separated by ':'");
	expect_error(f, "dataDir=/d\ngroup.1=1:2\ngroup.2=2\n",
		     "zoo.cfg:3: group.2: server 2 is in more than one group");
	expect_error(f, "dataDir=/d\nweight.1=-1\n",
		     "zoo.cfg:2: weight.1: '-1' is not a weight (an integer >= 0)");
}

static void test_is_distributed(void **state)
{
	struct fx *f = *state;
	assert_int_equal(parse(f, "dataDir=/d\nserver.1=a:1:2\n"), 0);
	assert_false(zoocfg_is_distributed(&f->c));
	assert_int_equal(parse(f, "dataDir=/d\nserver.1=a:1:2\nstandaloneEnabled=false\n"), 0);
	assert_true(zoocfg_is_distributed(&f->c));
	assert_int_equal(parse(f, "dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2:observer\n"), 0);
	assert_false(zoocfg_is_distributed(&f->c));
}

/* ------------------------------------------------------------------ */
/* files: myid, load, dynamic config */

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", tmpdir, name);
	FILE *fp = fopen(p, "wb");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int make_tmpdir(void **state)
{
	strcpy(tmpdir, "/tmp/test_zoocfg.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	return setup(state);
}

static int remove_tmpdir(void **state)
{
	const char *names[] = {"myid", "zoo.cfg", "zoo.cfg.dynamic.100000000", "dyn"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char p[256];
		snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
		unlink(p);
	}
	rmdir(tmpdir);
	return teardown(state);
}

static void test_myid(void **state)
{
	struct fx *f = *state;
	char text[128];
	snprintf(text, sizeof text, "dataDir=%s\n", tmpdir);
	assert_int_equal(parse(f, text), 0);
	int64_t id = 0;
	char want[256];
	snprintf(want, sizeof want, "%s/myid: No such file or directory (a server of an ensemble "
				    "needs its id there)", tmpdir);
	assert_int_equal(zoocfg_read_myid(&f->c, &id, &f->err), -1);
	assert_string_equal(errstr(f), want);

	write_file("myid", "3\n");
	assert_int_equal(zoocfg_read_myid(&f->c, &id, &f->err), 0);
	assert_int_equal(id, 3);
	write_file("myid", "17");
	assert_int_equal(zoocfg_read_myid(&f->c, &id, &f->err), 0);
	assert_int_equal(id, 17);
	write_file("myid", "2\r\nsomething else\n");
	assert_int_equal(zoocfg_read_myid(&f->c, &id, &f->err), 0);
	assert_int_equal(id, 2);

	/* Java parses the first line without trimming it */
	write_file("myid", "4 \n");
	f->err.len = 0;
	assert_int_equal(zoocfg_read_myid(&f->c, &id, &f->err), -1);
	snprintf(want, sizeof want, "%s/myid: '4 ' is not a server id (one decimal number on the "
				    "first line, no blanks)", tmpdir);
	assert_string_equal(errstr(f), want);
	write_file("myid", "");
	assert_int_equal(zoocfg_read_myid(&f->c, &id, &f->err), -1);
}

static void test_load_and_dynamic_file(void **state)
{
	struct fx *f = *state;
	char p[256], text[512];
	snprintf(p, sizeof p, "%s/zoo.cfg", tmpdir);
	snprintf(text, sizeof text, "dataDir=%s\nclientPort=2181\ninitLimit=5\nsyncLimit=2\n"
				    "dynamicConfigFile=%s/zoo.cfg.dynamic.100000000\n", tmpdir, tmpdir);
	write_file("zoo.cfg", text);
	write_file("zoo.cfg.dynamic.100000000",
		   "server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n"
		   "server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182\n");
	zoocfg_free(&f->c);
	f->err.len = 0;
	assert_int_equal(zoocfg_load(&f->c, p, &f->err), 0);
	assert_int_equal(f->c.client_port, 2181);
	assert_int_equal(f->c.nservers, 2);
	assert_int_equal(f->c.config_version, 0x100000000LL);
	assert_string_equal(f->c.source, p);

	/* no hex suffix: no version */
	snprintf(text, sizeof text, "dataDir=%s\ndynamicConfigFile=%s/dyn\n", tmpdir, tmpdir);
	write_file("zoo.cfg", text);
	write_file("dyn", "server.1=a:1:2\nversion=100000000\n");
	zoocfg_free(&f->c);
	assert_int_equal(zoocfg_load(&f->c, p, &f->err), -1);
	snprintf(text, sizeof text, "%s/dyn:2: version: a dynamic config file must not hold a "
				    "version (it comes from the file name)", tmpdir);
	assert_string_equal(errstr(f), text);
	write_file("dyn", "server.1=a:1:2\ntickTime=5\n");
	zoocfg_free(&f->c);
	f->err.len = 0;
	assert_int_equal(zoocfg_load(&f->c, p, &f->err), -1);
	snprintf(text, sizeof text, "%s/dyn:2: tickTime: only server., group. and weight. lines "
				    "may be in a dynamic config file", tmpdir);
	assert_string_equal(errstr(f), text);

	zoocfg_free(&f->c);
	f->err.len = 0;
	snprintf(p, sizeof p, "%s/missing.cfg", tmpdir);
	assert_int_equal(zoocfg_load(&f->c, p, &f->err), -1);
	snprintf(text, sizeof text, "%s: No such file or directory", p);
	assert_string_equal(errstr(f), text);
}

/* ------------------------------------------------------------------ */
/* texts compared with a live ZooKeeper 3.8.0 */

static void test_conf_matches_java(void **state)
{
	struct fx *f = *state;
	/* zoo.cfg of the live run: tickTime=2000, dataDir, clientPort,
	 * clientPortAddress=127.0.0.1, 4lw.commands.whitelist=* */
	assert_int_equal(parse(f, "tickTime=2000\ndataDir=/tmp/zkconf/data\nclientPort=57371\n"
				  "clientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\n"),
			 0);
	struct zoocfg_conf_info info = {.client_port = 57371, .secure_client_port = -1,
					.txnlog_dir_bytes = 457, .snap_dir_bytes = 457};
	struct buf out;
	buf_init(&out);
	zoocfg_dump(&f->c, &info, &out);
	buf_put_u8(&out, 0);
	assert_string_equal((char *)out.data,
			    "clientPort=57371\nsecureClientPort=-1\n"
			    "dataDir=/tmp/zkconf/data/version-2\ndataDirSize=457\n"
			    "dataLogDir=/tmp/zkconf/data/version-2\ndataLogSize=457\n"
			    "tickTime=2000\nmaxClientCnxns=60\nminSessionTimeout=4000\n"
			    "maxSessionTimeout=40000\nclientPortListenBacklog=-1\nserverId=0\n");
	buf_free(&out);
}

static void test_conf_relative_dirs_and_swap(void **state)
{
	struct fx *f = *state;
	assert_int_equal(parse(f, "dataDir=data/\ndataLogDir=/logs//x/\n"), 0);
	struct zoocfg_conf_info info = {.client_port = -1, .secure_client_port = -1,
					.txnlog_dir_bytes = 10, .snap_dir_bytes = 20};
	struct buf out;
	buf_init(&out);
	zoocfg_dump(&f->c, &info, &out);
	buf_put_u8(&out, 0);
	char cwd[1024], want[2048];
	assert_non_null(getcwd(cwd, sizeof cwd));
	/* labels swapped as in Java: dataDirSize is the txn-log directory */
	snprintf(want, sizeof want, "clientPort=-1\nsecureClientPort=-1\n"
				    "dataDir=%s/data/version-2\ndataDirSize=10\n"
				    "dataLogDir=/logs/x/version-2\ndataLogSize=20\n",
		 strcmp(cwd, "/") ? cwd : "");
	assert_memory_equal(out.data, want, strlen(want));
	buf_free(&out);
}

static void test_membership_matches_java(void **state)
{
	struct fx *f = *state;
	assert_int_equal(parse(f, "dataDir=/d\ninitLimit=5\nsyncLimit=2\n"
				  "server.3=127.0.0.1:32890:33890\n"
				  "server.1=127.0.0.1:32888:33888\n"
				  "server.2=127.0.0.1:32889:33889\n"),
			 0);
	struct buf out;
	buf_init(&out);
	zoocfg_membership(&f->c, 0, &out);
	buf_put_u8(&out, 0);
	/* §5.1.2 [live], 138 bytes */
	assert_string_equal((char *)out.data, "server.1=127.0.0.1:32888:33888:participant\n"
					      "server.2=127.0.0.1:32889:33889:participant\n"
					      "server.3=127.0.0.1:32890:33890:participant\n"
					      "version=0");
	assert_int_equal(out.len - 1, 138);

	/* conf on member 2 ends with the quorum keys and the membership */
	out.len = 0;
	struct zoocfg_conf_info info = {.client_port = 2181, .secure_client_port = -1,
					.server_id = 2, .quorum = true};
	zoocfg_dump(&f->c, &info, &out);
	buf_put_u8(&out, 0);
	const char *tail = strstr((char *)out.data, "serverId=2\n");
	assert_non_null(tail);
	assert_string_equal(tail, "serverId=2\ninitLimit=5\nsyncLimit=2\nelectionAlg=3\n"
				  "electionPort=33889\nquorumPort=32889\npeerType=0\nmembership: \n"
				  "server.1=127.0.0.1:32888:33888:participant\n"
				  "server.2=127.0.0.1:32889:33889:participant\n"
				  "server.3=127.0.0.1:32890:33890:participant\nversion=0");
	buf_free(&out);
}

static void test_membership_client_and_hashmap_order(void **state)
{
	struct fx *f = *state;
	/* HashMap<Long> with 16 buckets: 17 lands in bucket 1, before 2 */
	assert_int_equal(parse(f, "dataDir=/d\nserver.2=b:1:2:observer\nserver.17=[fe80::1]:1:2;5\n"
				  "server.1=a:1:2;[::1]:7\n"),
			 0);
	struct buf out;
	buf_init(&out);
	zoocfg_membership(&f->c, 0x1a, &out);
	buf_put_u8(&out, 0);
	assert_string_equal((char *)out.data, "server.1=a:1:2:participant;[::1]:7\n"
					      "server.17=[fe80::1]:1:2:participant;0.0.0.0:5\n"
					      "server.2=b:1:2:observer\n"
					      "version=1a");
	buf_free(&out);
}

static void test_standalone_default(void **state)
{
	struct fx *f = *state;
	zoocfg_free(&f->c);
	zoocfg_standalone_default(&f->c);
	const struct zoocfg *c = &f->c;
	assert_int_equal(c->client_port, 2181);
	assert_string_equal(c->client_port_address, "127.0.0.1");
	assert_string_equal(c->data_dir, "./data");
	assert_string_equal(c->data_log_dir, "./data");
	assert_int_equal(c->tick_time, 2000);
	assert_int_equal(zoocfg_min_session_timeout(c), 4000);
	assert_int_equal(zoocfg_max_session_timeout(c), 40000);
	assert_true(zoocfg_4lw_allowed(c, "ruok"));
	assert_true(zoocfg_4lw_allowed(c, "stat"));
	assert_true(zoocfg_4lw_allowed(c, "mntr"));
	assert_string_equal(c->admin_server_address, "127.0.0.1");
	assert_false(zoocfg_is_distributed(c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standalone_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sysprop_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quorum_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_observer_sync_enabled_overrides, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_alias, setup, teardown),
		cmocka_unit_test_setup_teardown(test_properties_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_numbers_crlf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cross_key_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_keys_warn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clamped_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_key_last_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whitelist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_server_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups_and_weights, setup, teardown),
		cmocka_unit_test_setup_teardown(test_is_distributed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_myid, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_load_and_dynamic_file, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_conf_matches_java, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf_relative_dirs_and_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_membership_matches_java, setup, teardown),
		cmocka_unit_test_setup_teardown(test_membership_client_and_hashmap_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_standalone_default, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
