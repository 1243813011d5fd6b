#include "watch/watch.h"

#include <string.h>

#include "base/zalloc.h"
#include "tree/path.h"

/* Per connection: the paths it has an entry on, with a bit per table. The
 * record owns a copy of the path (the key of its map). */
struct conn_path {
	uint8_t tables;  /* bit 0 data, bit 1 child */
	uint32_t len;
	char path[];
};

struct conn_watches {
	struct strmap paths;  /* path -> conn_path */
};

void watch_init(struct watch_mgr *w)
{
	strmap_init(&w->tables[0]);
	strmap_init(&w->tables[1]);
	u64map_init(&w->by_conn);
	w->n_recursive = 0;
}

void watch_free(struct watch_mgr *w)
{
	for (int t = 0; t < 2; t++) {
		size_t pos = 0;
		struct strmap_slot *s;
		while ((s = strmap_next(&w->tables[t], &pos))) {
			struct watch_path *wp = s->value;
			zfree(wp->items);
			zfree(wp);
		}
		strmap_free(&w->tables[t]);
	}
	size_t pos = 0;
	struct u64map_slot *c;
	while ((c = u64map_next(&w->by_conn, &pos))) {
		struct conn_watches *cw = c->value;
		size_t p2 = 0;
		struct strmap_slot *s;
		while ((s = strmap_next(&cw->paths, &p2)))
			zfree(s->value);
		strmap_free(&cw->paths);
		zfree(cw);
	}
	u64map_free(&w->by_conn);
}

static void conn_mark(struct watch_mgr *w, uint64_t conn, const char *path, size_t len, int t, bool on)
{
	struct conn_watches *cw = u64map_get(&w->by_conn, conn);
	if (!cw) {
		if (!on)
			return;
		cw = zcalloc(1, sizeof(*cw));
		strmap_init(&cw->paths);
		u64map_put(&w->by_conn, conn, cw);
	}
	struct conn_path *cp = strmap_get(&cw->paths, path, len);
	if (!cp) {
		if (!on)
			return;
		cp = zcalloc(1, sizeof(*cp) + len + 1);
		cp->len = (uint32_t)len;
		memcpy(cp->path, path, len);
		strmap_put(&cw->paths, cp->path, len, cp);
	}
	if (on)
		cp->tables |= (uint8_t)(1u << t);
	else
		cp->tables &= (uint8_t)~(1u << t);
	if (!cp->tables) {
		strmap_del(&cw->paths, path, len);
		zfree(cp);
		if (cw->paths.count == 0) {
			strmap_free(&cw->paths);
			u64map_del(&w->by_conn, conn);
			zfree(cw);
		}
	}
}

static int find_watcher(const struct watch_path *wp, uint64_t conn)
{
	for (uint32_t i = 0; i < wp->count; i++)
		if (wp->items[i].conn == conn)
			return (int)i;
	return -1;
}

void watch_add(struct watch_mgr *w, enum watch_table t, const char *path, size_t len, uint64_t conn,
	       enum watch_mode mode)
{
	struct watch_path *wp = strmap_get(&w->tables[t], path, len);
	if (!wp) {
		wp = zcalloc(1, sizeof(*wp) + len + 1);
		wp->path_len = (uint32_t)len;
		memcpy(wp->path, path, len);
		strmap_put(&w->tables[t], wp->path, len, wp);
	}
	int i = find_watcher(wp, conn);
	if (i >= 0) {
		/* one entry per (conn, path, table): the latest mode wins, as in
		 * ZooKeeper's WatcherModeManager */
		if (wp->items[i].mode == WATCH_RECURSIVE)
			w->n_recursive--;
		wp->items[i].mode = (uint8_t)mode;
	} else {
		if (wp->count == wp->cap) {
			wp->cap = wp->cap ? wp->cap * 2 : 2;
			wp->items = zrealloc(wp->items, wp->cap * sizeof(*wp->items));
		}
		wp->items[wp->count++] = (struct watcher){conn, (uint8_t)mode};
		conn_mark(w, conn, path, len, t, true);
	}
	if (mode == WATCH_RECURSIVE)
		w->n_recursive++;
}

static void drop_at(struct watch_mgr *w, enum watch_table t, struct watch_path *wp, uint32_t i)
{
	if (wp->items[i].mode == WATCH_RECURSIVE)
		w->n_recursive--;
	wp->items[i] = wp->items[--wp->count];
	if (wp->count == 0) {
		strmap_del(&w->tables[t], wp->path, wp->path_len);
		zfree(wp->items);
		zfree(wp);
	}
}

bool watch_remove(struct watch_mgr *w, enum watch_table t, const char *path, size_t len, uint64_t conn)
{
	struct watch_path *wp = strmap_get(&w->tables[t], path, len);
	if (!wp)
		return false;
	int i = find_watcher(wp, conn);
	if (i < 0)
		return false;
	drop_at(w, t, wp, (uint32_t)i);
	conn_mark(w, conn, path, len, t, false);
	return true;
}

bool watch_has(const struct watch_mgr *w, enum watch_table t, const char *path, size_t len, uint64_t conn)
{
	struct watch_path *wp = strmap_get(&w->tables[t], path, len);
	return wp && find_watcher(wp, conn) >= 0;
}

void watch_remove_conn(struct watch_mgr *w, uint64_t conn)
{
	struct conn_watches *cw = u64map_get(&w->by_conn, conn);
	if (!cw)
		return;
	size_t pos = 0;
	struct strmap_slot *s;
	while ((s = strmap_next(&cw->paths, &pos))) {
		struct conn_path *cp = s->value;
		for (int t = 0; t < 2; t++) {
			if (!(cp->tables & (1u << t)))
				continue;
			struct watch_path *wp = strmap_get(&w->tables[t], cp->path, cp->len);
			int i = wp ? find_watcher(wp, conn) : -1;
			if (i >= 0)
				drop_at(w, (enum watch_table)t, wp, (uint32_t)i);
		}
		zfree(cp);
	}
	strmap_free(&cw->paths);
	u64map_del(&w->by_conn, conn);
	zfree(cw);
}

bool watch_hits_contains(const struct watch_hits *h, uint64_t conn)
{
	if (!h)
		return false;
	for (size_t i = 0; i < h->count; i++)
		if (h->conns[i] == conn)
			return true;
	return false;
}

static void hits_add(struct watch_hits *h, uint64_t conn)
{
	if (h->count == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 8;
		h->conns = zrealloc(h->conns, h->cap * sizeof(*h->conns));
	}
	h->conns[h->count++] = conn;
}

void watch_hits_reset(struct watch_hits *h)
{
	h->count = 0;
}

void watch_hits_free(struct watch_hits *h)
{
	zfree(h->conns);
	h->conns = NULL;
	h->count = h->cap = 0;
}

/* Fire the watchers on one path: `self` is true at the changed path itself,
 * false at an ancestor (where only recursive watchers count). */
static void fire_path(struct watch_mgr *w, enum watch_table t, const char *path, size_t len, bool self,
		      bool children_changed, struct watch_hits *hits, const struct watch_hits *exclude)
{
	struct watch_path *wp = strmap_get(&w->tables[t], path, len);
	if (!wp)
		return;
	for (uint32_t i = 0; i < wp->count;) {
		struct watcher x = wp->items[i];
		bool fires = x.mode == WATCH_RECURSIVE ? !children_changed : self;
		if (!fires) {
			i++;
			continue;
		}
		/* an excluded connection is not notified, but its standard watch
		 * is still consumed (WatchManager.triggerWatch removes it before
		 * applying `supress`) */
		if (!watch_hits_contains(exclude, x.conn) && !watch_hits_contains(hits, x.conn))
			hits_add(hits, x.conn);
		if (x.mode == WATCH_STANDARD) {
			uint32_t before = wp->count;
			conn_mark(w, x.conn, path, len, t, false);
			drop_at(w, t, wp, i);
			if (before == 1)
				return; /* wp was freed */
			continue;   /* slot i now holds another watcher */
		}
		i++;
	}
}

void watch_trigger(struct watch_mgr *w, enum watch_table t, const char *path, size_t len,
		   bool children_changed, struct watch_hits *hits, const struct watch_hits *exclude)
{
	fire_path(w, t, path, len, true, children_changed, hits, exclude);
	if (w->n_recursive == 0 || children_changed)
		return;
	size_t n = len;
	while (n > 1) {
		n = path_parent_len(path, n);
		fire_path(w, t, path, n, false, children_changed, hits, exclude);
	}
}

size_t watch_table_entries(const struct watch_mgr *w, enum watch_table t)
{
	size_t total = 0, pos = 0;
	struct strmap_slot *s;
	while ((s = strmap_next(&w->tables[t], &pos)))
		total += ((struct watch_path *)s->value)->count;
	return total;
}

size_t watch_count(const struct watch_mgr *w)
{
	return watch_table_entries(w, WATCH_DATA) + watch_table_entries(w, WATCH_CHILD);
}

size_t watch_table_paths(const struct watch_mgr *w, enum watch_table t)
{
	return w->tables[t].count;
}

size_t watch_conns_with(const struct watch_mgr *w, enum watch_table t)
{
	size_t n = 0, pos = 0;
	struct u64map_slot *c;
	while ((c = u64map_next(&w->by_conn, &pos))) {
		struct conn_watches *cw = c->value;
		size_t p2 = 0;
		struct strmap_slot *s;
		while ((s = strmap_next(&cw->paths, &p2))) {
			if (((struct conn_path *)s->value)->tables & (1u << t)) {
				n++;
				break;
			}
		}
	}
	return n;
}

const char *watch_conn_next(const struct watch_mgr *w, uint64_t conn, enum watch_table t, size_t *pos,
			    size_t *len)
{
	struct conn_watches *cw = u64map_get(&w->by_conn, conn);
	if (!cw)
		return NULL;
	struct strmap_slot *s;
	while ((s = strmap_next(&cw->paths, pos))) {
		struct conn_path *cp = s->value;
		if (cp->tables & (1u << t)) {
			*len = cp->len;
			return cp->path;
		}
	}
	return NULL;
}
