/* session: the session table — ids, negotiated timeouts, expiry in tick
 * buckets (zookeeper-protocol.md §2.9.3), and the password function every
 * server of an ensemble must share (§2.2.4). The table never deletes
 * ephemerals or closes connections itself: session_next_expired() reports
 * sessions whose time is up and the node turns each into a closeSession txn
 * through the normal pipeline. Time comes in as arguments. */
#ifndef ZABD_SESSION_SESSION_H
#define ZABD_SESSION_SESSION_H
#include <stdbool.h>
#include <stdint.h>

#include "base/hashmap.h"

struct session {
	int64_t id;
	int32_t timeout_ms;
	bool closing;            /* a closeSession txn is in flight */
	uint64_t conn_id;        /* connection that owns it now, 0 = none */
	int64_t expire_at_ms;    /* bucket it sits in */
	struct session *bnext, *bprev;  /* bucket list */
};

struct session_bucket {
	int64_t expire_at_ms;
	struct session *head;
	uint32_t count;
};

struct session_table {
	struct u64map by_id;
	struct u64map buckets;   /* expire_at_ms -> session_bucket */
	int64_t tick_ms;
	int64_t next_id;
	int64_t next_expiry_ms;  /* the next bucket boundary to look at */
};

void session_table_init(struct session_table *t, int64_t tick_ms, int64_t server_id, int64_t now_ms);
void session_table_free(struct session_table *t);

/* The next id to hand out (§2.9.2); the caller puts it in a createSession txn. */
int64_t session_alloc_id(struct session_table *t);
/* Add a session (when its createSession txn is applied). */
struct session *session_add(struct session_table *t, int64_t id, int32_t timeout_ms, int64_t now_ms);
struct session *session_get(const struct session_table *t, int64_t id);
void session_remove(struct session_table *t, int64_t id);
/* Move to the bucket for now + timeout. */
void session_touch(struct session_table *t, struct session *s, int64_t now_ms);
/* One expired session (not already closing), or NULL. Call repeatedly. */
struct session *session_next_expired(struct session_table *t, int64_t now_ms);
/* When the next bucket falls due (for the shell's timer). */
int64_t session_next_deadline(const struct session_table *t);
uint32_t session_count(const struct session_table *t);

/* 16 bytes of java.util.Random(id ^ 0xB3415C00).nextBytes. */
void session_password(int64_t id, uint8_t out[16]);
bool session_password_ok(int64_t id, const uint8_t *pw, int32_t len);

#endif
