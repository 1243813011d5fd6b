/* zoocfg: the server configuration, read from a ZooKeeper 3.8 zoo.cfg.
 *
 * It owns the parsed, typed settings and nothing else: no sockets, no
 * directories are created. The text is read with Java Properties syntax
 * (config/props.h) and the rules of QuorumPeerConfig (zookeeper-protocol.md
 * §7): keys are case-sensitive, a repeated key keeps its last value,
 * integers are decimal `int`/`long` (a leading `+`/`-` is allowed), direct
 * booleans are `true`/`false` in any case.
 *
 * Where zabd differs from Java, on purpose:
 *  - Settings that Java reads from system properties (§7.3: snapCount,
 *    4lw.commands.whitelist, jute.maxbuffer, znode.container.*, ...) are
 *    plain zoo.cfg keys here, spelt with or without the `zookeeper.` prefix
 *    (`zookeeper.snapCount` = `snapCount`). Java ignores some of them in
 *    zoo.cfg (jute.maxbuffer, readonlymode.enabled, znode.container.*); we
 *    honour them, because a -D option has no meaning for a C server.
 *  - Java silently turns a bad system-property value into its default, and
 *    takes any key it does not know. We refuse a bad value (the error names
 *    file, line and key) and warn about an unknown key (a warning list with
 *    line numbers; never fatal). yes/no keys (forceSync, skipACL,
 *    leaderServes) take exactly `yes` or `no`: Java treats every other
 *    spelling as one of the two, which is how `skipACL=true` fails to skip.
 *  - 4lw.commands.whitelist may be separated by commas and/or blanks (Java
 *    splits on commas only); unknown words are warned about.
 *  - Values that Java clamps with a warning (snapCount < 2,
 *    autopurge.snapRetainCount < 3, commitLogCount < 500, negative
 *    maxCnxns) are clamped with a warning, so Java configs keep working.
 *  - server.N ids must be 0..255 (the id is the top byte of session ids),
 *    and `host:port:port|host:port:port` multi-address lines are refused.
 *  - Keys of later features (server.N, initLimit, reconfigEnabled,
 *    admin.*, ssl*, quorum.auth.*, ...) are parsed and kept; using them is
 *    the business of those features.
 *
 * The default used when zabd runs without a file (zoocfg_standalone_default):
 * clientPort 2181 on 127.0.0.1, dataDir ./data, tickTime 2000 (the shipped
 * sample zoo.cfg), and 4lw.commands.whitelist=* — an operator trying
 * `make run` expects ruok/srvr/stat/mntr to answer, and the port is bound to
 * loopback only, so enabling every word exposes nothing. The AdminServer
 * stays on its Java defaults except that it binds to 127.0.0.1 as well.
 *
 * Ownership: a struct zoocfg owns every string and array in it;
 * zoocfg_free() releases them. Initialise with zoocfg_defaults() (or
 * zoocfg_standalone_default()) before parsing; after an error the struct is
 * still safe to free. Not thread-safe; read-only once loaded. */
#ifndef ZABD_CONFIG_ZOOCFG_H
#define ZABD_CONFIG_ZOOCFG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

enum zoocfg_learner_type { ZOOCFG_PARTICIPANT = 0, ZOOCFG_OBSERVER = 1 };  /* Java ordinals */

enum zoocfg_compression { ZOOCFG_COMPRESS_NONE, ZOOCFG_COMPRESS_GZ, ZOOCFG_COMPRESS_SNAPPY };

/* server.<sid>=<host>:<quorumPort>:<electionPort>[:participant|:observer][;[<clientHost>:]<clientPort>] */
struct zoocfg_server {
	int64_t sid;
	char *host;         /* IPv6 literal without brackets */
	int quorum_port;
	int election_port;
	enum zoocfg_learner_type type;
	char *client_host;  /* NULL without a `;client` part; "0.0.0.0" for `;port` (as Java) */
	int client_port;    /* -1 without a `;client` part */
	int line;
};

/* group.<gid>=<sid>:<sid>... */
struct zoocfg_group {
	int64_t gid;
	int64_t *sids;
	size_t nsids;
	int line;
};

/* weight.<sid>=<w> */
struct zoocfg_weight {
	int64_t sid;
	int64_t weight;
	int line;
};

/* A key=value pair kept as text: every line of the file (zoocfg_get), and
 * the open-ended families metricsProvider.* and authProvider.*. */
struct zoocfg_kv {
	char *key;
	char *value;
	int line;
};

struct zoocfg {
	char *source;  /* the name given to the parser (path), for messages */

	/* --- standalone server (§7.2) --- */
	int tick_time;                  /* ms; 3000 when absent */
	char *data_dir;                 /* required */
	char *data_log_dir;             /* = data_dir when absent */
	int client_port;                /* 0 = no plain listener (Java: 0 = unset) */
	char *client_port_address;      /* NULL = all interfaces */
	int secure_client_port;         /* 0 = none */
	char *secure_client_port_address;
	int client_port_listen_backlog; /* -1 = system default */
	int max_client_cnxns;           /* per client IP; 0 = unlimited */
	int min_session_timeout;        /* -1 = 2 x tickTime; see zoocfg_min_session_timeout */
	int max_session_timeout;        /* -1 = 20 x tickTime */
	int autopurge_snap_retain_count;/* >= 3 */
	int autopurge_purge_interval;   /* hours; 0 = off */
	bool local_sessions_enabled;
	bool local_sessions_upgrading_enabled;
	char *metrics_provider_class;   /* NULL = Java's DefaultMetricsProvider */
	struct zoocfg_kv *metrics_props;/* the other metricsProvider.* keys, key without prefix */
	size_t nmetrics_props;

	/* --- ensemble (§5.1, §7.2): parsed here, used by the quorum code --- */
	int init_limit;                 /* ticks; 0 = absent (required in a quorum) */
	int sync_limit;
	int connect_to_learner_master_limit;
	int election_alg;               /* only 3 will be accepted */
	enum zoocfg_learner_type peer_type;
	bool peer_type_set;
	int observer_master_port;       /* 0 = off */
	bool quorum_listen_on_all_ips;
	bool standalone_enabled;        /* true */
	bool reconfig_enabled;          /* false */
	bool sync_enabled;              /* true */
	char *dynamic_config_file;
	int64_t config_version;         /* hex suffix of the dynamic file name, else 0 */
	bool multi_address_enabled;
	bool ssl_quorum;
	bool port_unification;
	bool quorum_sasl_enabled;
	bool quorum_server_require_sasl;
	bool quorum_learner_require_sasl;
	int quorum_cnxn_threads_size;
	int cnx_timeout;                /* ms, 5000 */
	int quorum_cnxn_timeout_ms;     /* -1 = tickTime x syncLimit */
	int fle_min_notification_interval; /* 200 */
	int fle_max_notification_interval; /* 60000 */
	bool leader_serves;             /* yes */
	struct zoocfg_server *servers;  /* file order */
	size_t nservers;
	struct zoocfg_group *groups;
	size_t ngroups;
	struct zoocfg_weight *weights;
	size_t nweights;

	/* --- persistence (§7.3) --- */
	int snap_count;                 /* 100000, >= 2 */
	int64_t snap_size_limit_kb;     /* 4194304; <= 0 disables the size trigger */
	int64_t txn_log_size_limit_kb;  /* -1 = off */
	int64_t pre_alloc_size_kb;      /* 65536 */
	bool force_sync;                /* yes */
	bool group_commit;              /* zabd: yes = one fsync covers a batch; no = one per txn */
	int64_t fsync_warning_threshold_ms; /* 1000 */
	bool snapshot_trust_empty;
	enum zoocfg_compression snapshot_compression;
	int commit_log_count;           /* 500, >= 500 */
	double snapshot_size_factor;    /* 0.33 */
	bool digest_enabled;            /* true */

	/* --- request processing and limits (§7.3) --- */
	int global_outstanding_limit;   /* 1000 */
	int max_cnxns;                  /* 0 = unlimited */
	int jute_maxbuffer;             /* 0xfffff */
	int jute_maxbuffer_extrasize;   /* -1 = same as jute_maxbuffer */
	int nio_sessionless_cnxn_timeout; /* ms, 10000 */
	char *server_cnxn_factory;      /* accepted, ignored */
	bool extended_types_enabled;
	bool emulate353_ttl_nodes;
	bool skip_acl;                  /* no */
	bool enforce_quota;
	bool close_session_txn_enabled; /* true */
	bool readonlymode_enabled;
	int64_t container_check_interval_ms;          /* 60000 */
	int container_max_per_minute;                 /* 10000 */
	int64_t container_max_never_used_interval_ms; /* 0 */

	/* --- auth --- */
	char *super_digest;             /* DigestAuthenticationProvider.superDigest: user:base64sha1 */
	bool digest_auth_enabled;       /* DigestAuthenticationProvider.enabled, true */
	struct zoocfg_kv *auth_providers; /* authProvider.<n>, key = <n> */
	size_t nauth_providers;

	/* --- four-letter words and AdminServer (§4) --- */
	char *four_lw_whitelist;        /* the raw value; NULL = Java's default (srvr only) */
	bool four_lw_all;               /* `*` given */
	char **four_lw_words;           /* the listed words */
	size_t nfour_lw_words;
	bool admin_enable_server;       /* true */
	char *admin_server_address;     /* 0.0.0.0 */
	int admin_server_port;          /* 8080 */
	char *admin_command_url;        /* /commands */
	int admin_idle_timeout;         /* 30000 */

	/* --- every entry of the file, last value of each key, file order --- */
	struct zoocfg_kv *entries;
	size_t nentries;
	/* "zoo.cfg:12: ..." lines: unknown keys, clamped values, repeats */
	char **warnings;
	size_t nwarnings;
};

/* ZooKeeper's own defaults, as for an empty zoo.cfg (no dataDir). */
void zoocfg_defaults(struct zoocfg *c);
/* The configuration zabd runs with when given no file (see above). */
void zoocfg_standalone_default(struct zoocfg *c);
void zoocfg_free(struct zoocfg *c);

/* Parse text over c (initialised as above) and validate the result:
 * dataDir required, tickTime > 0, clientPortAddress needs clientPort,
 * effective min <= max session timeout, server lines well-formed, no
 * server lines beside dynamicConfigFile, ... `name` is used in messages.
 * Does not read the dynamic config file. Returns 0, or -1 with one line
 * in errmsg ("<name>:<line>: <key>: <problem>"). */
int zoocfg_parse_text(struct zoocfg *c, const char *name, const char *text, size_t len,
		      struct buf *errmsg);
/* zoocfg_defaults + read `path` + zoocfg_parse_text, then, if
 * dynamicConfigFile is set, read it (only server./group./weight. lines;
 * config_version from its `.hex` suffix). Errors as above, or
 * "<path>: <strerror>" when a file cannot be read. */
int zoocfg_load(struct zoocfg *c, const char *path, struct buf *errmsg);
/* Parse a dynamic config file's text into c's server/group/weight lists. */
int zoocfg_parse_dynamic(struct zoocfg *c, const char *name, const char *text, size_t len,
			 struct buf *errmsg);

/* Read <dataDir>/myid as Java does: the first line, a decimal long, no
 * blanks. Returns 0, or -1 with errmsg. */
int zoocfg_read_myid(const struct zoocfg *c, int64_t *myid, struct buf *errmsg);

/* Effective session-timeout bounds in ms (-1 resolved against tickTime). */
int zoocfg_min_session_timeout(const struct zoocfg *c);
int zoocfg_max_session_timeout(const struct zoocfg *c);
/* Effective jute.maxbuffer.extrasize. */
int zoocfg_jute_extrasize(const struct zoocfg *c);

/* Is the four-letter word (e.g. "ruok") allowed? `srvr` always is, `isro`
 * too with readonlymode.enabled; otherwise the whitelist decides. */
bool zoocfg_4lw_allowed(const struct zoocfg *c, const char *word);

/* The value of any key of the file, known or not, looked up by the key
 * exactly as written (no zookeeper. alias resolution); NULL if absent. */
const char *zoocfg_get(const struct zoocfg *c, const char *key);
const struct zoocfg_server *zoocfg_find_server(const struct zoocfg *c, int64_t sid);
/* Java's QuorumPeerConfig.isDistributed: servers are given and either more
 * than one participant or standaloneEnabled=false. */
bool zoocfg_is_distributed(const struct zoocfg *c);
/* The §5.1.2 membership text (server lines in Java HashMap order, then
 * group/weight lines, then version=<hex> without a final newline). */
void zoocfg_membership(const struct zoocfg *c, int64_t version, struct buf *out);

/* What `conf` prints that the configuration does not know. */
struct zoocfg_conf_info {
	int client_port;        /* the bound port; -1 = no plain listener */
	int secure_client_port; /* -1 = none */
	/* Java's labels are swapped (§4.1): `dataDirSize` is the size of the
	 * txn-log directory, `dataLogSize` that of the snapshot directory. */
	uint64_t txnlog_dir_bytes;  /* printed as dataDirSize */
	uint64_t snap_dir_bytes;    /* printed as dataLogSize */
	int64_t server_id;          /* 0 in standalone */
	bool quorum;                /* add the quorum keys and membership */
	int64_t config_version;     /* for the membership text */
};

/* Append the `conf` four-letter-word text (ZooKeeper 3.8 dumpConf): the
 * paths are absolute and end in /version-2. */
void zoocfg_dump(const struct zoocfg *c, const struct zoocfg_conf_info *info, struct buf *out);

#endif
