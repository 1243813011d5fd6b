/* purge.c: autopurge (see purge.h). */
#include "store/purge.h"

#include <stdbool.h>
#include <string.h>

#include "base/log.h"
#include "store/snapshot.h"

/* The zxid of the oldest of the newest `retain` valid snapshots, or -1. */
static int oldest_kept(struct vfs *vfs, const char *snap_dir, const struct store_files *snaps,
		       int retain, int64_t *out, struct store_error *e)
{
	int kept = 0;
	*out = -1;
	for (size_t i = snaps->n; i-- > 0 && kept < retain;) {
		if (snaps->v[i].zxid < 0)
			continue;
		char path[STORE_PATH_MAX];
		store_path(path, sizeof(path), snap_dir, snaps->v[i].name);
		int ok = snapshot_quick_check(vfs, path, e);
		if (ok < 0)
			return ok;
		if (ok) {
			kept++;
			*out = snaps->v[i].zxid;
		}
	}
	return 0;
}

static int remove_below(struct vfs *vfs, const char *dir, const struct store_files *f,
			int64_t below, int64_t keep_from, unsigned *count, struct store_error *e)
{
	bool any = false;
	for (size_t i = 0; i < f->n; i++) {
		int64_t z = f->v[i].zxid;
		if (z >= below || (keep_from >= 0 && z >= keep_from))
			continue;
		char path[STORE_PATH_MAX];
		store_path(path, sizeof(path), dir, f->v[i].name);
		int rc = vfs_unlink(vfs, path);
		if (rc < 0)
			return store_fail(e, STORE_EIO, -rc, path, -1, "cannot remove");
		log_info("purge: removed %s", path);
		(*count)++;
		any = true;
	}
	if (any) {
		int rc = vfs_sync_dir(vfs, dir);
		if (rc < 0)
			return store_fail(e, STORE_EIO, -rc, dir, -1, "cannot fsync directory");
	}
	return 0;
}

int purge_run(struct vfs *vfs, const char *snap_dir, const char *log_dir, int retain,
	      struct purge_result *res, struct store_error *e)
{
	memset(res, 0, sizeof(*res));
	res->oldest_kept = -1;
	if (retain < PURGE_MIN_RETAIN) {
		log_warn("autopurge.snapRetainCount %d is below %d; using %d", retain,
			 PURGE_MIN_RETAIN, PURGE_MIN_RETAIN);
		retain = PURGE_MIN_RETAIN;
	}
	struct store_files snaps, logs;
	int rc = store_list(vfs, snap_dir, STORE_SNAP_PREFIX, true, &snaps, e);
	if (rc)
		return rc;
	rc = store_list(vfs, log_dir, STORE_LOG_PREFIX, true, &logs, e);
	if (rc) {
		store_files_free(&snaps);
		return rc;
	}
	int64_t z;
	rc = oldest_kept(vfs, snap_dir, &snaps, retain, &z, e);
	if (rc == 0 && z >= 0) {
		res->oldest_kept = z;
		/* the log that holds the txns right after snapshot z starts at or
		 * below z: keep the newest such and everything after it */
		int64_t log_from = -1;
		for (size_t i = 0; i < logs.n; i++)
			if (logs.v[i].zxid >= 0 && logs.v[i].zxid <= z)
				log_from = logs.v[i].zxid;
		rc = remove_below(vfs, log_dir, &logs, z, log_from, &res->logs_removed, e);
		if (rc == 0)
			rc = remove_below(vfs, snap_dir, &snaps, z, -1, &res->snaps_removed, e);
	}
	store_files_free(&snaps);
	store_files_free(&logs);
	return rc;
}
