/* recover.c: data directory recovery (see recover.h). */
#include "store/recover.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"

#define MAX_SNAP_CANDIDATES 100

static int make_dirs(const struct recover_opts *o, struct recover_result *res,
		     struct store_error *e)
{
	const char *logbase = o->data_log_dir ? o->data_log_dir : o->data_dir;
	snprintf(res->snap_dir, sizeof(res->snap_dir), "%s/version-2", o->data_dir);
	snprintf(res->log_dir, sizeof(res->log_dir), "%s/version-2", logbase);
	int rc = vfs_mkdirs(o->vfs, res->snap_dir);
	if (rc == 0)
		rc = vfs_mkdirs(o->vfs, res->log_dir);
	if (rc < 0)
		return store_fail(e, STORE_EIO, -rc, res->snap_dir, -1,
				  "cannot create data directory");
	return 0;
}

/* Java refuses mixed directories when dataLogDir != dataDir. */
static int check_separation(const struct recover_opts *o, struct recover_result *res,
			    struct store_error *e)
{
	if (strcmp(res->snap_dir, res->log_dir) == 0)
		return 0;
	struct store_files f;
	int rc = store_list(o->vfs, res->log_dir, STORE_SNAP_PREFIX, false, &f, e);
	if (rc)
		return rc;
	size_t bad = f.n;
	store_files_free(&f);
	if (bad)
		return store_fail(e, STORE_EINVAL, 0, res->log_dir, -1,
				  "snapshot files found in the txn log directory");
	rc = store_list(o->vfs, res->snap_dir, STORE_LOG_PREFIX, false, &f, e);
	if (rc)
		return rc;
	bad = f.n;
	store_files_free(&f);
	if (bad)
		return store_fail(e, STORE_EINVAL, 0, res->snap_dir, -1,
				  "txn log files found in the snapshot directory");
	return 0;
}

static void take_initialize(const struct recover_opts *o, struct recover_result *res)
{
	char path[STORE_PATH_MAX];
	snprintf(path, sizeof(path), "%s/initialize",
		 o->data_log_dir ? o->data_log_dir : o->data_dir);
	res->initialize_found = vfs_unlink(o->vfs, path) == 0;
}

/* snapshot.<zxid>.tmp is a snapshot still being written: its rename is the
 * commit point, so it is never a candidate, whole or not. Its writer (a
 * forked child) can outlive a killed server and rename it away in the
 * middle of the next start's recovery, which then failed to open it. */
static bool unfinished(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && strcmp(name + n - 4, ".tmp") == 0;
}

/* Newest first: quick check, then a verifying read and the loading read,
 * or (with on_snapshot_reset) one read that loads and is undone if bad. */
static int load_snapshot(const struct recover_opts *o, const struct recover_callbacks *cb,
			 void *arg, struct recover_result *res, struct store_error *e)
{
	struct store_files f;
	int rc = store_list(o->vfs, res->snap_dir, STORE_SNAP_PREFIX, false, &f, e);
	if (rc)
		return rc;
	unsigned tried = 0;
	rc = 0;
	for (size_t i = f.n; i-- > 0 && tried < MAX_SNAP_CANDIDATES;) {
		if (unfinished(f.v[i].name))
			continue;
		char path[STORE_PATH_MAX];
		store_path(path, sizeof(path), res->snap_dir, f.v[i].name);
		struct store_error se;
		store_error_clear(&se);
		int ok = snapshot_quick_check(o->vfs, path, &se);
		if (ok == 1 && cb->on_snapshot_reset) {
			tried++;
			snprintf(res->snapshot, sizeof(res->snapshot), "%s", path);
			res->snap_zxid = f.v[i].zxid;
			rc = snapshot_read(o->vfs, path, &cb->snap, arg, &res->snap, &se);
			if (rc == STORE_ECALLBACK) {
				/* The loader refused what it read; if the file fails its
				 * seals the refusal was the corruption talking (it is met
				 * before the seal at the end): skip it like any bad
				 * snapshot. A whole file the loader refuses is final. */
				struct store_error ve;
				store_error_clear(&ve);
				struct snapshot_info vi;
				if (snapshot_read(o->vfs, path, NULL, NULL, &vi, &ve) != 0)
					rc = -1;
			}
			if (rc == 0 || rc == STORE_ECALLBACK) {
				if (rc && e)
					*e = se;
				break;  /* loaded, or refused by the loader: final */
			}
			rc = 0;
			res->snapshot[0] = '\0';
			res->snap_zxid = -1;
			if (cb->on_snapshot_reset(arg)) {
				rc = store_fail(e, STORE_ECALLBACK, 0, path, -1, "cannot undo a bad snapshot");
				break;
			}
			ok = 0;
		} else if (ok == 1) {
			tried++;
			ok = snapshot_read(o->vfs, path, NULL, NULL, &res->snap, &se) == 0;
		}
		if (ok != 1) {
			log_warn("skipping snapshot %s: %s", path,
				 se.msg[0] ? se.msg : "fails the validity check");
			res->snapshots_skipped++;
			continue;
		}
		/* set before loading, so callbacks can see which snapshot it is */
		snprintf(res->snapshot, sizeof(res->snapshot), "%s", path);
		res->snap_zxid = f.v[i].zxid;
		rc = snapshot_read(o->vfs, path, &cb->snap, arg, &res->snap, e);
		break;
	}
	store_files_free(&f);
	return rc;
}

static int replay(const struct recover_opts *o, const struct recover_callbacks *cb, void *arg,
		  int64_t from, struct recover_result *res, struct store_error *e)
{
	struct txnlog_read_opts ro;
	txnlog_read_opts_default(&ro);
	ro.repair = !o->no_repair;
	if (o->max_body_len > 0)
		ro.max_body_len = o->max_body_len;
	struct txnlog_iter *it;
	int rc = txnlog_iter_open(&it, o->vfs, res->log_dir, from, &ro, e);
	if (rc)
		return rc;
	struct txnlog_entry en;
	while ((rc = txnlog_iter_next(it, &en, e)) == 1) {
		struct txn_parts p;
		int s = txn_split(en.body, en.len, &p);
		if (s == -2) {
			rc = store_fail(e, STORE_ECORRUPT, 0, en.path, (int64_t)en.offset,
					"unsupported txn type %d", (int)p.hdr.type);
			break;
		}
		if (s < 0) {
			rc = store_fail(e, STORE_ECORRUPT, 0, en.path, (int64_t)en.offset,
					"txn record of type %d does not parse", (int)p.hdr.type);
			break;
		}
		if (cb->on_txn && cb->on_txn(arg, &p, &en)) {
			rc = store_fail(e, STORE_ECALLBACK, 0, en.path, (int64_t)en.offset,
					"txn 0x%llx refused", (unsigned long long)en.zxid);
			break;
		}
		res->txns++;
		res->last_zxid = en.zxid;
	}
	res->log = *txnlog_iter_report(it);
	txnlog_iter_close(it);
	return rc < 0 ? rc : 0;
}

static int have_logs(const struct recover_opts *o, struct recover_result *res, bool *any,
		     struct store_error *e)
{
	struct store_files f;
	int rc = store_list(o->vfs, res->log_dir, STORE_LOG_PREFIX, false, &f, e);
	*any = f.n > 0;
	store_files_free(&f);
	return rc;
}

int recover_open(const struct recover_opts *o, const struct recover_callbacks *cb, void *arg,
		 struct recover_result *res, struct store_error *e)
{
	memset(res, 0, sizeof(*res));
	res->snap_zxid = -1;
	res->last_zxid = -1;
	store_error_clear(e);
	int rc = make_dirs(o, res, e);
	if (rc == 0)
		rc = check_separation(o, res, e);
	if (rc)
		return rc;
	take_initialize(o, res);
	rc = load_snapshot(o, cb, arg, res, e);
	if (rc)
		return rc;
	if (res->snap_zxid < 0) {
		bool logs;
		rc = have_logs(o, res, &logs, e);
		if (rc)
			return rc;
		if (logs && !o->trust_empty_snapshot)
			return store_fail(e, STORE_ENOSNAP, 0, res->snap_dir, -1,
					  "no valid snapshot found, but there are txn logs "
					  "(set snapshot.trust.empty=true to replay them alone)");
		res->fresh = !logs;
		res->last_zxid = 0;
		if (!logs)
			return 0;
	} else {
		res->last_zxid = res->snap_zxid;
	}
	return replay(o, cb, arg, res->snap_zxid + 1, res, e);
}
