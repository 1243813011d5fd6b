/* watch: the server's watch tables (zookeeper-protocol.md §2.7): a data
 * table and a child table, each mapping a path to the connections watching
 * it with a mode (standard one-shot, persistent, persistent-recursive), and
 * per connection the paths it watches so a closed connection is cleaned up
 * without scanning. A connection holds at most one entry per (path, table).
 *
 * watch_trigger() implements ZooKeeper's matching rules and returns the
 * connections to notify; it sends nothing (the node writes the frames).
 * Connections are plain 64-bit ids. */
#ifndef ZABD_WATCH_WATCH_H
#define ZABD_WATCH_WATCH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hashmap.h"

enum watch_mode { WATCH_STANDARD = 0, WATCH_PERSISTENT = 1, WATCH_RECURSIVE = 2 };
enum watch_table { WATCH_DATA = 0, WATCH_CHILD = 1 };

struct watcher {
	uint64_t conn;
	uint8_t mode;
};

struct watch_path {
	struct watcher *items;
	uint32_t count;
	uint32_t cap;
	uint32_t path_len;
	char path[];
};

struct watch_mgr {
	struct strmap tables[2];   /* path -> watch_path */
	struct u64map by_conn;     /* conn -> conn_watches */
	uint32_t n_recursive;      /* recursive entries anywhere; 0 skips ancestor walks */
};

/* A set of connection ids built during one trigger (dedup). */
struct watch_hits {
	uint64_t *conns;
	size_t count;
	size_t cap;
};

void watch_init(struct watch_mgr *w);
void watch_free(struct watch_mgr *w);
void watch_add(struct watch_mgr *w, enum watch_table t, const char *path, size_t len, uint64_t conn,
	       enum watch_mode mode);
/* Remove conn's entry on path in table t; true if there was one. */
bool watch_remove(struct watch_mgr *w, enum watch_table t, const char *path, size_t len, uint64_t conn);
bool watch_has(const struct watch_mgr *w, enum watch_table t, const char *path, size_t len, uint64_t conn);
void watch_remove_conn(struct watch_mgr *w, uint64_t conn);

/* Fire (path, event) on table t: appends to `hits` each connection to
 * notify that is not already in `hits` or in `exclude`; standard watchers
 * that fire are removed, excluded ones included. `children_changed` events
 * never reach recursive watchers. */
void watch_trigger(struct watch_mgr *w, enum watch_table t, const char *path, size_t len,
		   bool children_changed, struct watch_hits *hits, const struct watch_hits *exclude);

void watch_hits_reset(struct watch_hits *h);
void watch_hits_free(struct watch_hits *h);
bool watch_hits_contains(const struct watch_hits *h, uint64_t conn);

/* Counts for four-letter words. */
size_t watch_count(const struct watch_mgr *w);               /* entries in both tables */
size_t watch_table_entries(const struct watch_mgr *w, enum watch_table t);
size_t watch_table_paths(const struct watch_mgr *w, enum watch_table t);
size_t watch_conns_with(const struct watch_mgr *w, enum watch_table t);
/* Iterate conn's watched paths in table t: *pos starts at 0; NULL at end. */
const char *watch_conn_next(const struct watch_mgr *w, uint64_t conn, enum watch_table t, size_t *pos,
			    size_t *len);

#endif
