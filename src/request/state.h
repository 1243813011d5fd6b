/* state: everything one server replicates or derives from the txn stream —
 * the tree, the session table, the watch tables, the overlay of prepared but
 * not yet applied changes — plus the settings that change what a request
 * means. The request stages (prep.c, multi.c, apply.c, reads.c) operate on
 * it; node/ owns it and the connections around it. */
#ifndef ZABD_REQUEST_STATE_H
#define ZABD_REQUEST_STATE_H
#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "request/pending.h"
#include "session/session.h"
#include "tree/tree.h"
#include "watch/watch.h"

struct zconfig {
	int64_t tick_ms;
	int32_t min_session_timeout_ms;
	int32_t max_session_timeout_ms;
	int32_t max_buffer;           /* jute.maxbuffer: largest frame accepted */
	int32_t max_buffer_extra;     /* jute.maxbuffer.extrasize: slack for lengths inside a body */
	bool ttl_enabled;             /* extendedTypesEnabled */
	bool skip_acl;
	bool digest_auth_enabled;     /* DigestAuthenticationProvider.enabled */
	char super_digest[256];       /* DigestAuthenticationProvider.superDigest ("" = none) */
	int64_t container_check_ms;   /* znode.container.checkIntervalMs */
	int32_t container_max_per_minute;
	int64_t container_max_never_used_ms;
	int64_t server_id;            /* session id prefix (1 in standalone) */
	int64_t sessionless_timeout_ms; /* close connections that never send a ConnectRequest */
};

/* Who sent a request: what prep and reads check permissions against. */
struct caller {
	int64_t session_id;
	uint64_t conn;                /* 0 for server-internal requests */
	const struct auth_id *ids;
	size_t n_ids;
	bool *null_watch;             /* the connection's "has a null-path addWatch" (Java quirk) */
};

/* Callback through which apply and reads deliver watch notifications. */
/* `acl_ref` is the ACL a receiver needs READ on to be sent the event (the
 * node's, or the parent's for NodeChildrenChanged) — ZOOKEEPER-4799, which
 * Debian's 3.8.0 carries; NOTIFY_UNFILTERED for events SetWatches makes up. */
#define NOTIFY_UNFILTERED INT64_MIN
typedef void (*notify_fn)(void *arg, uint64_t conn, int32_t type, const char *path, size_t len,
			  int64_t acl_ref);

struct zstate {
	const struct zconfig *cfg;
	struct tree tree;
	struct session_table sessions;
	struct watch_mgr watches;
	struct pending pending;
	int64_t last_applied_zxid;
	int64_t last_prepared_zxid;
	notify_fn notify;
	void *notify_arg;
	struct watch_hits hits;       /* scratch for triggers */
	struct watch_hits hits2;
	struct arena scratch;         /* reset after each request */
};

void zstate_init(struct zstate *s, const struct zconfig *cfg, int64_t now_ms);
void zstate_free(struct zstate *s);

#endif
