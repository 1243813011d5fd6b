/* reaper.c: ZooKeeper's ContainerManager (zookeeper-protocol.md §3.5).
 * Every znode.container.checkIntervalMs it finds empty containers that
 * have had a child, never-used containers older than
 * znode.container.maxNeverUsedIntervalMs (if set), and TTL nodes without
 * children whose mtime is older than their TTL, and deletes each through
 * a deleteContainer txn (session 0, cxid 0) in the normal pipeline, at most
 * maxPerMinute per minute. */
#include "base/zalloc.h"
#include "node/internal.h"
#include "request/prep.h"

static bool is_candidate(const struct node *n, const struct znode *z, int64_t now_ms)
{
	if (z->n_children != 0)
		return false;
	if (tree_is_container(z)) {
		if (z->cversion > 0)
			return true;
		return n->cfg.container_max_never_used_ms > 0 &&
		       now_ms - z->mtime > n->cfg.container_max_never_used_ms;
	}
	int64_t ttl = tree_ttl_of(&n->st.tree, z);
	return ttl > 0 && now_ms - z->mtime > ttl;
}

void reaper_run(struct node *n, int64_t now_ms)
{
	int64_t budget = (int64_t)n->cfg.container_max_per_minute * n->cfg.container_check_ms / 60000;
	if (budget < 1)
		budget = 1;
	size_t cap = 16, count = 0;
	char **paths = zmalloc(cap * sizeof(*paths));
	size_t pos = 0;
	const struct znode *z;
	while ((z = tree_next(&n->st.tree, &pos)) && (int64_t)count < budget) {
		if (!is_candidate(n, z, now_ms))
			continue;
		if (count == cap) {
			cap *= 2;
			paths = zrealloc(paths, cap * sizeof(*paths));
		}
		paths[count++] = zstrndup(z->path, z->path_len);
	}
	for (size_t i = 0; i < count; i++) {
		struct buf txn;
		buf_init(&txn);
		size_t len = 0;
		while (paths[i][len])
			len++;
		int64_t zxid = prep_delete_container(&n->st, paths[i], len, now_ms, &txn);
		pipeline_submit(n, &txn, zxid, 0);
		zfree(paths[i]);
	}
	zfree(paths);
}
