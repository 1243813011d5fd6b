/* zabctl znode commands: ls/ls2/stat/exists, get, set, create, delete,
 * deleteall, sync and watch. Each parses its own arguments, opens the
 * session on first use, makes synchronous libzookeeper_mt calls and prints
 * in zkCli's formats (children as "[a, b]", the Stat as "name = value"
 * lines) so that scripts written against zkCli read our output too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

/* Data above this is refused rather than allocated: ZooKeeper's default
 * jute.maxbuffer is 1 MiB, and a Stat claiming more than this is bogus. */
#define CTL_MAX_DATA (256 << 20)

static void print_time(const char *name, int64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char text[64];
	/* Java's Date.toString(), which zkCli prints */
	if (localtime_r(&secs, &tm) && strftime(text, sizeof text, "%a %b %d %H:%M:%S %Z %Y", &tm))
		printf("%s = %s\n", name, text);
	else
		printf("%s = %lld\n", name, (long long)ms);
}

void ctl_print_stat(const struct Stat *st)
{
	printf("cZxid = 0x%llx\n", (unsigned long long)st->czxid);
	print_time("ctime", st->ctime);
	printf("mZxid = 0x%llx\n", (unsigned long long)st->mzxid);
	print_time("mtime", st->mtime);
	printf("pZxid = 0x%llx\n", (unsigned long long)st->pzxid);
	printf("cversion = %d\n", st->cversion);
	printf("dataVersion = %d\n", st->version);
	printf("aclVersion = %d\n", st->aversion);
	printf("ephemeralOwner = 0x%llx\n", (unsigned long long)st->ephemeralOwner);
	printf("dataLength = %d\n", st->dataLength);
	printf("numChildren = %d\n", st->numChildren);
}

/* The version argument: -v N or a trailing positional, -1 (any) if absent. */
static int parse_version(struct ctl *c, const char *cmd, const struct ctl_args *a, int pos_index,
			 int *version)
{
	const char *v = a->val['v'];
	if (a->npos > pos_index) {
		if (v)
			return ctl_fail(c, CTL_USAGE, cmd, "version given twice");
		v = a->pos[pos_index];
	}
	int64_t n = -1;
	if (v && !ctl_parse_i64(v, -1, INT32_MAX, &n))
		return ctl_fail(c, CTL_USAGE, cmd, "bad version '%s'", v);
	*version = (int)n;
	return CTL_OK;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_children(struct ctl *c, const char *cmd, const char *path, bool watch, bool with_stat)
{
	struct String_vector kids = {0, NULL};
	struct Stat st;
	int zrc = zoo_get_children2(c->zh, path, watch, &kids, &st);
	if (zrc != ZOK)
		return ctl_zfail(c, cmd, path, zrc);
	qsort(kids.data, (size_t)kids.count, sizeof kids.data[0], cmp_names);
	ctl_out_lock(c);
	putchar('[');
	for (int i = 0; i < kids.count; i++)
		printf("%s%s", i ? ", " : "", kids.data[i]);
	printf("]\n");
	if (with_stat)
		ctl_print_stat(&st);
	ctl_out_unlock(c);
	deallocate_String_vector(&kids);
	return CTL_OK;
}

int cmd_ls(struct ctl *c, int argc, char **argv)
{
	struct ctl_args a;
	int rc = ctl_parse_args(argv[0], argc, argv, "sw", "", 1, 1, &a);
	if (rc == CTL_OK)
		rc = ctl_session(c, argv[0]);
	return rc ? rc : list_children(c, argv[0], a.pos[0], a.on['w'], a.on['s']);
}

int cmd_ls2(struct ctl *c, int argc, char **argv)
{
	struct ctl_args a;
	int rc = ctl_parse_args(argv[0], argc, argv, "w", "", 1, 1, &a);
	if (rc == CTL_OK)
		rc = ctl_session(c, argv[0]);
	return rc ? rc : list_children(c, argv[0], a.pos[0], a.on['w'], true);
}

/* stat and exists: the Stat, or ZNONODE (exit 1); with -w the watch is set
 * either way, on the node's data or on its creation. */
int cmd_stat(struct ctl *c, int argc, char **argv)
{
	struct ctl_args a;
	int rc = ctl_parse_args(argv[0], argc, argv, "w", "", 1, 1, &a);
	if (rc == CTL_OK)
		rc = ctl_session(c, argv[0]);
	if (rc)
		return rc;
	struct Stat st;
	int zrc = zoo_exists(c->zh, a.pos[0], a.on['w'], &st);
	if (zrc != ZOK)
		return ctl_zfail(c, argv[0], a.pos[0], zrc);
	ctl_out_lock(c);
	ctl_print_stat(&st);
	ctl_out_unlock(c);
	return CTL_OK;
}

/* Reads the whole value: the first try uses a small buffer and a second one
 * the size the Stat reported, a few times over if the node keeps growing. */
static int read_data(struct ctl *c, const char *path, bool watch, char **out, int *len,
		     struct Stat *st)
{
	int cap = 4096;
	char *buf = NULL;
	for (int tries = 0; tries < 5; tries++) {
		char *nbuf = realloc(buf, (size_t)cap);
		if (!nbuf)
			break;
		buf = nbuf;
		*len = cap;
		int zrc = zoo_get(c->zh, path, watch, buf, len, st);
		if (zrc != ZOK) {
			free(buf);
			return zrc;
		}
		if (*len < cap || st->dataLength <= cap) {
			*out = buf;
			return ZOK;
		}
		if (st->dataLength > CTL_MAX_DATA)
			break;
		cap = st->dataLength;
	}
	free(buf);
	return ZMARSHALLINGERROR;
}

int cmd_get(struct ctl *c, int argc, char **argv)
{
	struct ctl_args a;
	/* -s is accepted for zkCli habits; the Stat is always printed */
	int rc = ctl_parse_args(argv[0], argc, argv, "ws", "", 1, 1, &a);
	if (rc == CTL_OK)
		rc = ctl_session(c, argv[0]);
	if (rc)
		return rc;
	char *data;
	int len;
	struct Stat st;
	int zrc = read_data(c, a.pos[0], a.on['w'], &data, &len, &st);
	if (zrc != ZOK)
		return ctl_zfail(c, argv[0], a.pos[0], zrc);
	ctl_out_lock(c);
	if (len < 0)
		printf("null\n");   /* created without data; zkCli prints the same */
	else {
		fwrite(data, 1, (size_t)len, stdout);
		putchar('\n');
	}
	ctl_print_stat(&st);
	ctl_out_unlock(c);
	free(data);
	return CTL_OK;
}

int cmd_set(struct ctl *c, int argc, char **argv)
{
	struct ctl_args a;
	int version;
	int rc = ctl_parse_args(argv[0], argc, argv, "s", "v", 2, 3, &a);
	if (rc == CTL_OK)
		rc = parse_version(c, argv[0], &a, 2, &version);
	if (rc == CTL_OK)
		rc = ctl_session(c, argv[0]);
	if (rc)
		return rc;
	size_t len = strlen(a.pos[1]);
	if (len > CTL_MAX_DATA)
		return ctl_fail(c, CTL_USAGE, argv[0], "data too long");
	struct Stat st;
	int zrc = zoo_set2(c->zh, a.pos[0], a.pos[1], (int)len, version, &st);
	if (zrc != ZOK)
		return ctl_zfail(c, argv[0], a.pos[0], zrc);
	if (a.on['s']) {
		ctl_out_lock(c);
		ctl_print_stat(&st);
		ctl_out_unlock(c);
	}
	return CTL_OK;
}

/* The create mode from -e/-s/-c/-t, with zkCli's rules on combining them. */
static int create_mode(struct ctl *c, const struct ctl_args *a, int *mode, int64_t *ttl)
{
	bool e = a->on['e'], s = a->on['s'], cont = a->on['c'], t = a->val['t'] != NULL;
	*ttl = -1;   /* what the C API wants for modes without a TTL */
	if (cont && (e || s))
		return ctl_fail(c, CTL_USAGE, "create", "-c cannot be combined with -s or -e");
	if (t && (e || cont))
		return ctl_fail(c, CTL_USAGE, "create", "-t cannot be combined with -e or -c");
	if (t && !ctl_parse_i64(a->val['t'], 1, INT64_MAX, ttl))
		return ctl_fail(c, CTL_USAGE, "create", "bad ttl '%s' (milliseconds, > 0)", a->val['t']);
	if (t)
		*mode = s ? ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL : ZOO_PERSISTENT_WITH_TTL;
	else if (cont)
		*mode = ZOO_CONTAINER;
	else if (e)
		*mode = s ? ZOO_EPHEMERAL_SEQUENTIAL : ZOO_EPHEMERAL;
	else
		*mode = s ? ZOO_PERSISTENT_SEQUENTIAL : ZOO_PERSISTENT;
	return CTL_OK;
}

int cmd_create(struct ctl *c, int argc, char **argv)
{
	struct ctl_args a;
	int mode = 0;
	int64_t ttl;
	int rc = ctl_parse_args(argv[0], argc, argv, "esc", "t", 1, 3, &a);
	if (rc == CTL_OK)
		rc = create_mode(c, &a, &mode, &ttl);
	if (rc)
		return rc;
	struct ACL_vector acl = {0, NULL};
	const char *why;
	if (a.npos > 2 && ctl_acl_parse(a.pos[2], &acl, &why) != 0)
		return ctl_fail(c, CTL_USAGE, argv[0], "bad acl '%s': %s", a.pos[2], why);
	const char *data = a.npos > 1 ? a.pos[1] : NULL;   /* no data: a null value, as zkCli */
	size_t dlen = data ? strlen(data) : 0;
	size_t plen = strlen(a.pos[0]) + 16;   /* room for the 10-digit sequence suffix */
	char *created = malloc(plen);
	rc = dlen > CTL_MAX_DATA || !created ? ctl_fail(c, CTL_USAGE, argv[0], "data too long")
					     : ctl_session(c, argv[0]);
	if (rc == CTL_OK) {
		int zrc = zoo_create2_ttl(c->zh, a.pos[0], data, data ? (int)dlen : -1,
					  acl.count ? &acl : &ZOO_OPEN_ACL_UNSAFE, mode, ttl, created,
					  (int)plen, NULL);
		if (zrc != ZOK)
			rc = ctl_zfail(c, argv[0], a.pos[0], zrc);
		else {
			ctl_out_lock(c);
			printf("Created %s\n", created);
			ctl_out_unlock(c);
		}
	}
	free(created);
	ctl_acl_free(&acl);
	return rc;
}

int cmd_delete(struct ctl *c, int argc, char **argv)
{
	struct ctl_args a;
	int version;
	int rc = ctl_parse_args(argv[0], argc, argv, "", "v", 1, 2, &a);
	if (rc == CTL_OK)
		rc = parse_version(c, argv[0], &a, 1, &version);
	if (rc == CTL_OK)
		rc = ctl_session(c, argv[0]);
	if (rc)
		return rc;
	int zrc = zoo_delete(c->zh, a.pos[0], version);
	return zrc == ZOK ? CTL_OK : ctl_zfail(c, argv[0], a.pos[0], zrc);
}

/* --- deleteall -------------------------------------------------------------- */

struct path_list {
	char **v;
	size_t n, cap;
};

static int path_push(struct path_list *l, const char *parent, const char *child)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		char **nv = realloc(l->v, ncap * sizeof *nv);
		if (!nv)
			return -1;
		l->v = nv;
		l->cap = ncap;
	}
	size_t len = strlen(parent) + (child ? strlen(child) + 2 : 1);
	char *p = malloc(len);
	if (!p)
		return -1;
	if (!child)
		snprintf(p, len, "%s", parent);
	else
		snprintf(p, len, "%s%s%s", parent, strcmp(parent, "/") == 0 ? "" : "/", child);
	l->v[l->n++] = p;
	return 0;
}

/* Lists the subtree breadth-first (no recursion, so no depth limit). A
 * node that vanished meanwhile is skipped; only the root must exist. */
static int list_subtree(struct ctl *c, const char *root, struct path_list *l)
{
	if (path_push(l, root, NULL) != 0)
		return ZSYSTEMERROR;
	for (size_t i = 0; i < l->n; i++) {
		struct String_vector kids = {0, NULL};
		int zrc = zoo_get_children(c->zh, l->v[i], 0, &kids);
		if (zrc == ZNONODE && i > 0)
			continue;
		if (zrc != ZOK)
			return zrc;
		for (int k = 0; k < kids.count && zrc == ZOK; k++)
			if (path_push(l, l->v[i], kids.data[k]) != 0)
				zrc = ZSYSTEMERROR;
		deallocate_String_vector(&kids);
		if (zrc != ZOK)
			return zrc;
	}
	return ZOK;
}

int cmd_deleteall(struct ctl *c, int argc, char **argv)
{
	struct ctl_args a;
	int rc = ctl_parse_args(argv[0], argc, argv, "", "", 1, 1, &a);
	if (rc == CTL_OK)
		rc = ctl_session(c, argv[0]);
	if (rc)
		return rc;
	struct path_list l = {NULL, 0, 0};
	int zrc = list_subtree(c, a.pos[0], &l);
	const char *failed = a.pos[0];
	/* deepest first: a breadth-first list reversed has children before parents */
	for (size_t i = l.n; zrc == ZOK && i-- > 0;) {
		zrc = zoo_delete(c->zh, l.v[i], -1);
		if (zrc == ZNONODE)
			zrc = ZOK;   /* someone else deleted it: the goal holds */
		if (zrc != ZOK)
			failed = l.v[i];
	}
	rc = zrc == ZOK ? CTL_OK : ctl_zfail(c, argv[0], failed, zrc);
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	return rc;
}

/* --- sync and watch ----------------------------------------------------------- */

struct sync_wait {
	struct ctl *c;
	bool done;
	int rc;
};

static void sync_done(int rc, const char *value, const void *data)
{
	struct sync_wait *w = (struct sync_wait *)data;
	pthread_mutex_lock(&w->c->lock);
	w->rc = rc;
	w->done = true;
	pthread_cond_broadcast(&w->c->cond);
	pthread_mutex_unlock(&w->c->lock);
}

int cmd_sync(struct ctl *c, int argc, char **argv)
{
	struct ctl_args a;
	int rc = ctl_parse_args(argv[0], argc, argv, "", "", 1, 1, &a);
	if (rc == CTL_OK)
		rc = ctl_session(c, argv[0]);
	if (rc)
		return rc;
	struct sync_wait w = {c, false, ZOK};
	int zrc = zoo_async(c->zh, a.pos[0], sync_done, &w);
	if (zrc == ZOK) {
		/* the library always completes a queued request, with ZCONNECTIONLOSS
		 * or ZCLOSING at worst, so this wait ends */
		pthread_mutex_lock(&c->lock);
		while (!w.done)
			pthread_cond_wait(&c->cond, &c->lock);
		zrc = w.rc;
		pthread_mutex_unlock(&c->lock);
	}
	return zrc == ZOK ? CTL_OK : ctl_zfail(c, argv[0], a.pos[0], zrc);
}

static void watch_fired(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	struct ctl_watch *w = ctx;
	pthread_mutex_lock(&w->c->lock);
	if (type == ZOO_SESSION_EVENT) {
		/* the library tells every watcher about the session; only its end matters */
		if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE)
			w->dead = true;
	} else if (!w->fired) {
		w->fired = true;
		w->type = type;
		w->state = state;
	}
	pthread_cond_broadcast(&w->c->cond);
	pthread_mutex_unlock(&w->c->lock);
}

/* Sets a data (or creation) watch and, if the node exists, a child watch,
 * all with one context, so whichever fires first is the answer. */
static int arm_watch(struct ctl *c, struct ctl_watch *w)
{
	struct Stat st;
	int zrc = zoo_wexists(c->zh, w->path, watch_fired, w, &st);
	if (zrc == ZNONODE)
		return ZOK;
	if (zrc != ZOK)
		return zrc;
	struct String_vector kids = {0, NULL};
	zrc = zoo_wget_children(c->zh, w->path, watch_fired, w, &kids);
	deallocate_String_vector(&kids);
	return zrc == ZNONODE ? ZOK : zrc;   /* deleted meanwhile: the data watch saw it */
}

static int wait_watch(struct ctl *c, struct ctl_watch *w, int wait_ms)
{
	struct timespec until;
	ctl_deadline_after(&until, wait_ms);
	pthread_mutex_lock(&c->lock);
	int trc = 0;
	while (!w->fired && !w->dead && trc == 0)
		trc = pthread_cond_timedwait(&c->cond, &c->lock, &until);
	bool fired = w->fired, dead = w->dead;
	int type = w->type, state = w->state;
	pthread_mutex_unlock(&c->lock);
	if (fired) {
		ctl_out_lock(c);
		printf("WatchedEvent state:%s type:%s path:%s\n", ctl_state_name(state),
		       ctl_event_name(type), w->path);
		ctl_out_unlock(c);
		return CTL_OK;
	}
	if (dead)
		return ctl_zfail(c, "watch", w->path, ZSESSIONEXPIRED);
	return ctl_fail(c, CTL_FAIL, "watch", "%s: no event within %d ms", w->path, wait_ms);
}

int cmd_watch(struct ctl *c, int argc, char **argv)
{
	struct ctl_args a;
	int64_t wait_ms = 60000;
	int rc = ctl_parse_args(argv[0], argc, argv, "", "T", 1, 1, &a);
	if (rc == CTL_OK && a.val['T'] && !ctl_parse_i64(a.val['T'], 0, 86400000, &wait_ms))
		rc = ctl_fail(c, CTL_USAGE, argv[0], "bad -T '%s' (milliseconds)", a.val['T']);
	if (rc == CTL_OK)
		rc = ctl_session(c, argv[0]);
	if (rc)
		return rc;
	struct ctl_watch *w = calloc(1, sizeof *w);
	char *path = strdup(a.pos[0]);
	if (!w || !path) {
		free(w);
		free(path);
		return ctl_fail(c, CTL_FAIL, argv[0], "out of memory");
	}
	w->c = c;
	w->path = path;
	pthread_mutex_lock(&c->lock);
	w->next = c->watches;   /* owned by ctl from here on: freed after close */
	c->watches = w;
	pthread_mutex_unlock(&c->lock);
	int zrc = arm_watch(c, w);
	if (zrc != ZOK)
		return ctl_zfail(c, argv[0], w->path, zrc);
	/* on stderr so that stdout holds only the event: a script (or a test)
	 * can wait for this line before it changes the node */
	ctl_out_lock(c);
	fprintf(stderr, "zabctl: watching %s\n", w->path);
	ctl_out_unlock(c);
	return wait_watch(c, w, (int)wait_ms);
}
