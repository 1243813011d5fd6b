/* pending: ZooKeeper's "outstanding changes" — the state of each path as
 * the prepared but not yet applied txns will leave it. Prep checks every
 * rule against this overlay first and the committed tree second, so
 * pipelined writes (from any session) behave as if applied one by one,
 * while reads keep seeing only the committed tree. An entry is dropped when
 * the txn that last changed it is applied. Multi prep records an undo log
 * so a failing multi leaves the overlay as it was. */
#ifndef ZABD_REQUEST_PENDING_H
#define ZABD_REQUEST_PENDING_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hashmap.h"

struct tree;

/* The facts prep needs about a path. */
struct pview {
	bool exists;
	int32_t version;
	int32_t cversion;      /* persisted */
	int32_t aversion;
	int32_t num_children;
	int64_t owner;         /* ephemeralOwner as persisted */
	int64_t acl_ref;       /* a reference is held while in the overlay */
};

struct pchange {
	int64_t zxid;
	struct pview v;
	uint32_t len;
	char path[];
};

struct pundo {
	struct pchange *saved;  /* NULL = there was no entry */
	uint32_t len;
	char *path;             /* owned copy */
};

/* Every pending_set, in zxid order, so applying a txn finds the entries it
 * may retire without scanning the overlay. */
struct pwrite {
	int64_t zxid;
	char *path;   /* owned */
	uint32_t len;
};

struct pending {
	struct strmap changes;
	struct pwrite *fifo;      /* ring buffer */
	size_t fifo_head, fifo_count, fifo_cap;
	struct pundo *undo;
	size_t n_undo, cap_undo;
	bool recording;
};

void pending_init(struct pending *p);
void pending_free(struct pending *p, struct tree *t);
/* The view of a path: overlay if present, else the tree. */
struct pview pending_get(const struct pending *p, const struct tree *t, const char *path, size_t len);
/* Record the state a txn (zxid) leaves a path in. */
void pending_set(struct pending *p, struct tree *t, const char *path, size_t len, int64_t zxid,
		 const struct pview *v);
/* Drop entries last written by zxid (after that txn is applied). */
void pending_applied(struct pending *p, struct tree *t, int64_t zxid);
/* Iterate entries: *pos = 0 to start. */
const struct pchange *pending_next(const struct pending *p, size_t *pos);

void pending_begin_undo(struct pending *p);
void pending_commit_undo(struct pending *p, struct tree *t);
void pending_rollback(struct pending *p, struct tree *t);

#endif
