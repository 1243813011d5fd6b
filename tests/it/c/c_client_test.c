/*
 * c_client_test: drives a server with the official ZooKeeper C client
 * (libzookeeper_mt, synchronous API) and checks every result.
 *
 * Usage: c_client_test host:port
 * Exit status 0 when every check held, 1 otherwise (each failed check is
 * printed on stderr), 2 on usage or connection errors.
 *
 * What it covers: the C client's handshake (it reads exactly a 41-byte
 * ConnectResponse), create/create2 in persistent, sequential, ephemeral,
 * container and TTL modes, get/set/exists/children with Stat, error codes,
 * data/child/exist watches delivered to a watcher, removeWatches, multi
 * (success and an atomic failure), digest auth with CREATOR_ALL_ACL, and
 * reattaching the session of a client that died, by its client id.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zookeeper/zookeeper.h>

static int failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			failures++;                                          \
		}                                                            \
	} while (0)

#define CHECK_RC(rc, want, what)                                              \
	do {                                                                  \
		int rc_ = (rc);                                               \
		CHECK(rc_ == (want), "%s: got %d (%s), want %d", what, rc_, \
		      zerror(rc_), (want));                                   \
	} while (0)

#define MAX_EVENTS 64

struct event {
	int type;
	char path[256];
};

/* Shared between the client's event thread and the test thread. */
struct watch_ctx {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int connected;
	int expired;
	int n;
	struct event ev[MAX_EVENTS];
};

static void ctx_init(struct watch_ctx *c)
{
	memset(c, 0, sizeof *c);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
}

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *arg)
{
	struct watch_ctx *c = arg;
	(void)zh;
	pthread_mutex_lock(&c->mu);
	if (type == ZOO_SESSION_EVENT) {
		if (state == ZOO_CONNECTED_STATE)
			c->connected = 1;
		else if (state == ZOO_EXPIRED_SESSION_STATE)
			c->expired = 1;
	} else if (type != ZOO_NOTWATCHING_EVENT && c->n < MAX_EVENTS) {
		c->ev[c->n].type = type;
		snprintf(c->ev[c->n].path, sizeof c->ev[c->n].path, "%s", path ? path : "");
		c->n++;
	}
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static struct timespec deadline_in(int ms)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static int wait_connected(struct watch_ctx *c, int ms)
{
	struct timespec t = deadline_in(ms);
	int rc = 0;
	pthread_mutex_lock(&c->mu);
	while (!c->connected && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&c->cv, &c->mu, &t);
	int ok = c->connected;
	pthread_mutex_unlock(&c->mu);
	return ok;
}

/* Wait for the next recorded event; 1 and fills *out, or 0 on timeout. */
static int next_event(struct watch_ctx *c, int *consumed, struct event *out, int ms)
{
	struct timespec t = deadline_in(ms);
	int rc = 0;
	pthread_mutex_lock(&c->mu);
	while (c->n <= *consumed && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&c->cv, &c->mu, &t);
	int ok = c->n > *consumed;
	if (ok)
		*out = c->ev[(*consumed)++];
	pthread_mutex_unlock(&c->mu);
	return ok;
}

static zhandle_t *open_handle(const char *hosts, struct watch_ctx *c, const clientid_t *cid)
{
	zhandle_t *zh = zookeeper_init(hosts, watcher, 10000, cid, c, 0);
	if (!zh || !wait_connected(c, 15000)) {
		fprintf(stderr, "cannot connect to %s\n", hosts);
		exit(2);
	}
	return zh;
}

static void expect_event(struct watch_ctx *c, int *consumed, int type, const char *path)
{
	struct event e;
	int got = next_event(c, consumed, &e, 10000);
	CHECK(got, "no event (wanted type %d on %s)", type, path);
	if (got)
		CHECK(e.type == type && strcmp(e.path, path) == 0, "event type %d on %s, wanted %d on %s", e.type,
		      e.path, type, path);
}

static void t_crud(zhandle_t *zh)
{
	char path[256], buf[64];
	int len = sizeof buf;
	struct Stat st, st2;
	CHECK_RC(zoo_create(zh, "/ct", "hello", 5, &ZOO_OPEN_ACL_UNSAFE, 0, path, sizeof path), ZOK, "create /ct");
	CHECK(strcmp(path, "/ct") == 0, "create returned %s", path);
	CHECK_RC(zoo_create(zh, "/ct", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0), ZNODEEXISTS, "create again");
	CHECK_RC(zoo_create(zh, "/none/x", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0), ZNONODE, "create orphan");
	CHECK_RC(zoo_get(zh, "/ct", 0, buf, &len, &st), ZOK, "get /ct");
	CHECK(len == 5 && memcmp(buf, "hello", 5) == 0, "get data len %d", len);
	CHECK(st.version == 0 && st.dataLength == 5 && st.czxid == st.mzxid, "stat after create");
	CHECK_RC(zoo_set(zh, "/ct", "bye", 3, 0), ZOK, "set v0");
	CHECK_RC(zoo_set(zh, "/ct", "bye", 3, 0), ZBADVERSION, "set stale v0");
	CHECK_RC(zoo_set2(zh, "/ct", "bye!", 4, -1, &st2), ZOK, "set2");
	CHECK(st2.version == 2 && st2.dataLength == 4 && st2.mzxid > st.mzxid, "stat after set2");
	CHECK_RC(zoo_create2(zh, "/ct/a", NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, path, sizeof path, &st), ZOK,
		 "create2 /ct/a");
	CHECK(st.czxid == st.mzxid && st.czxid == st.pzxid && st.dataLength == 0, "create2 stat");
	CHECK_RC(zoo_create(zh, "/ct/s-", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL, path, sizeof path),
		 ZOK, "create sequential");
	CHECK(strcmp(path, "/ct/s-0000000001") == 0, "sequential path %s", path);
	struct String_vector kids;
	CHECK_RC(zoo_get_children2(zh, "/ct", 0, &kids, &st), ZOK, "children2");
	CHECK(kids.count == 2 && st.numChildren == 2 && st.cversion == 2, "children count %d", kids.count);
	deallocate_String_vector(&kids);
	CHECK_RC(zoo_delete(zh, "/ct", -1), ZNOTEMPTY, "delete non-empty");
	CHECK_RC(zoo_delete(zh, "/ct/a", 5), ZBADVERSION, "delete bad version");
	CHECK_RC(zoo_delete(zh, "/ct/a", 0), ZOK, "delete /ct/a");
	CHECK_RC(zoo_delete(zh, "/ct/a", -1), ZNONODE, "delete again");
	CHECK_RC(zoo_exists(zh, "/ct/a", 0, &st), ZNONODE, "exists deleted");
	CHECK_RC(zoo_exists(zh, "/ct", 0, &st), ZOK, "exists /ct");
	CHECK(st.numChildren == 1 && st.cversion == 3, "parent cversion %d", st.cversion);
}

static void t_modes(zhandle_t *zh)
{
	char path[256];
	struct Stat st;
	const clientid_t *me = zoo_client_id(zh);
	CHECK_RC(zoo_create2(zh, "/ct/e", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, path, sizeof path, &st), ZOK,
		 "create ephemeral");
	CHECK(st.ephemeralOwner == me->client_id, "ephemeralOwner %llx", (unsigned long long)st.ephemeralOwner);
	CHECK_RC(zoo_create(zh, "/ct/e/x", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0), ZNOCHILDRENFOREPHEMERALS,
		 "child of ephemeral");
	CHECK_RC(zoo_create(zh, "/ct/es-", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL_SEQUENTIAL, path, sizeof path),
		 ZOK, "ephemeral sequential");
	CHECK(strcmp(path, "/ct/es-0000000003") == 0, "ephemeral sequential path %s", path);
	CHECK_RC(zoo_create2(zh, "/cont", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_CONTAINER, path, sizeof path, &st), ZOK,
		 "create container");
	CHECK(st.ephemeralOwner == 0, "container ephemeralOwner");
	CHECK_RC(zoo_create2_ttl(zh, "/ttl", "t", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_WITH_TTL, 600000, path,
				 sizeof path, &st),
		 ZOK, "create TTL");
	CHECK(st.ephemeralOwner == 0 && st.dataLength == 1, "TTL stat");
	CHECK_RC(zoo_create_ttl(zh, "/ttl0", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_WITH_TTL, 0, NULL, 0),
		 ZBADARGUMENTS, "TTL 0");
}

static void t_watches(zhandle_t *zh, struct watch_ctx *c, zhandle_t *other)
{
	char buf[16];
	int len = sizeof buf, seen = c->n;
	struct Stat st;
	struct String_vector kids;
	CHECK_RC(zoo_wget(zh, "/ct", watcher, c, buf, &len, &st), ZOK, "wget");
	CHECK_RC(zoo_set(other, "/ct", "w", 1, -1), ZOK, "set from other");
	expect_event(c, &seen, ZOO_CHANGED_EVENT, "/ct");
	CHECK_RC(zoo_wget_children(zh, "/ct", watcher, c, &kids), ZOK, "wget_children");
	deallocate_String_vector(&kids);
	CHECK_RC(zoo_create(other, "/ct/b", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0), ZOK, "create from other");
	expect_event(c, &seen, ZOO_CHILD_EVENT, "/ct");
	CHECK_RC(zoo_wexists(zh, "/later", watcher, c, &st), ZNONODE, "wexists missing");
	CHECK_RC(zoo_create(other, "/later", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0), ZOK, "create /later");
	expect_event(c, &seen, ZOO_CREATED_EVENT, "/later");
	CHECK_RC(zoo_wexists(zh, "/later", watcher, c, &st), ZOK, "wexists present");
	CHECK_RC(zoo_delete(other, "/later", -1), ZOK, "delete /later");
	expect_event(c, &seen, ZOO_DELETED_EVENT, "/later");
	/* removeWatches: the server forgets the watch, a later change is silent */
	len = sizeof buf;
	CHECK_RC(zoo_wget(zh, "/ct", watcher, c, buf, &len, &st), ZOK, "wget again");
	CHECK_RC(zoo_remove_watches(zh, "/ct", ZWATCHTYPE_DATA, watcher, c, 0), ZOK, "remove_watches");
	CHECK_RC(zoo_set(other, "/ct", "x", 1, -1), ZOK, "set after remove");
	CHECK_RC(zoo_create(other, "/ct/marker", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0), ZOK, "marker");
	CHECK_RC(zoo_exists(zh, "/ct/marker", 0, &st), ZOK, "round trip after the change");
	struct event e;
	CHECK(!next_event(c, &seen, &e, 300), "event %d on %s after removeWatches", e.type, e.path);
}

static void t_multi(zhandle_t *zh)
{
	char p0[64], p1[64];
	zoo_op_t ops[5];
	zoo_op_result_t res[5];
	struct Stat st;
	zoo_create_op_init(&ops[0], "/m", "0", 1, &ZOO_OPEN_ACL_UNSAFE, 0, p0, sizeof p0);
	zoo_create_op_init(&ops[1], "/m/x", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, p1, sizeof p1);
	zoo_set_op_init(&ops[2], "/m", "1", 1, 0, &st);
	zoo_check_op_init(&ops[3], "/m", 1);
	zoo_delete_op_init(&ops[4], "/m/x", 0);
	CHECK_RC(zoo_multi(zh, 5, ops, res), ZOK, "multi");
	for (int i = 0; i < 5; i++)
		CHECK_RC(res[i].err, ZOK, "multi op result");
	CHECK(strcmp(p0, "/m") == 0 && strcmp(p1, "/m/x") == 0, "multi created %s %s", p0, p1);
	CHECK(st.version == 1, "multi setData stat version %d", st.version);
	CHECK_RC(zoo_exists(zh, "/m/x", 0, &st), ZNONODE, "deleted in the multi");

	zoo_create_op_init(&ops[0], "/m2", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, p0, sizeof p0);
	zoo_delete_op_init(&ops[1], "/nope", -1);
	zoo_set_op_init(&ops[2], "/m", "2", 1, -1, &st);
	CHECK_RC(zoo_multi(zh, 3, ops, res), ZNONODE, "failing multi");
	CHECK_RC(res[0].err, ZOK, "rolled-back op");
	CHECK_RC(res[1].err, ZNONODE, "failing op");
	CHECK_RC(res[2].err, ZRUNTIMEINCONSISTENCY, "op after the failure");
	CHECK_RC(zoo_exists(zh, "/m2", 0, &st), ZNONODE, "atomic: /m2 absent");
	CHECK_RC(zoo_exists(zh, "/m", 0, &st), ZOK, "/m");
	CHECK(st.version == 1, "atomic: /m unchanged (version %d)", st.version);
}

static void auth_done(int rc, const void *data)
{
	*(int *)data = rc == ZOK ? 1 : -1;
}

static void t_acl(zhandle_t *zh, const char *hosts)
{
	struct watch_ctx c2;
	volatile int done = 0;
	char buf[16];
	int len = sizeof buf;
	struct Stat st;
	struct ACL_vector acl;
	CHECK_RC(zoo_add_auth(zh, "digest", "cuser:cpw", 9, auth_done, (const void *)&done), ZOK, "add_auth");
	CHECK_RC(zoo_create(zh, "/secret", "s", 1, &ZOO_CREATOR_ALL_ACL, 0, NULL, 0), ZOK, "create CREATOR_ALL");
	for (int i = 0; i < 100 && !done; i++)
		CHECK_RC(zoo_exists(zh, "/secret", 0, &st), ZOK, "exists while auth completes");
	CHECK(done == 1, "auth completion %d", done);
	CHECK_RC(zoo_get_acl(zh, "/secret", &acl, &st), ZOK, "get_acl");
	CHECK(acl.count == 1 && acl.data[0].perms == ZOO_PERM_ALL && strcmp(acl.data[0].id.scheme, "digest") == 0 &&
		      strncmp(acl.data[0].id.id, "cuser:", 6) == 0,
	      "acl of /secret");
	deallocate_ACL_vector(&acl);
	CHECK_RC(zoo_get(zh, "/secret", 0, buf, &len, &st), ZOK, "owner reads");
	ctx_init(&c2);
	zhandle_t *anon = open_handle(hosts, &c2, NULL);
	len = sizeof buf;
	CHECK_RC(zoo_get(anon, "/secret", 0, buf, &len, &st), ZNOAUTH, "anonymous read");
	CHECK_RC(zoo_set(anon, "/secret", "x", 1, -1), ZNOAUTH, "anonymous write");
	CHECK_RC(zoo_create(anon, "/bad", "", 0, &ZOO_CREATOR_ALL_ACL, 0, NULL, 0), ZINVALIDACL, "auth ACL unauthed");
	zookeeper_close(anon);
}

/*
 * A session whose client is gone without closing it (as after a crash): a
 * child process connects, creates an ephemeral and exits without
 * zookeeper_close, handing its client id to us through a pipe.  Done before
 * this process starts any client threads.
 */
static int orphan_session(const char *hosts, clientid_t *id)
{
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct watch_ctx c;
		ctx_init(&c);
		zhandle_t *zh = open_handle(hosts, &c, NULL);
		int rc = zoo_create(zh, "/sess-eph", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, NULL, 0);
		clientid_t cid = *zoo_client_id(zh);
		if (rc != ZOK || write(fds[1], &cid, sizeof cid) != (ssize_t)sizeof cid)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	ssize_t n = read(fds[0], id, sizeof *id);
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	return n == (ssize_t)sizeof *id && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void t_session(zhandle_t *zh, const char *hosts, const clientid_t *id)
{
	struct watch_ctx cb;
	struct Stat st;
	CHECK_RC(zoo_exists(zh, "/sess-eph", 0, &st), ZOK, "orphaned ephemeral");
	ctx_init(&cb);
	zhandle_t *b = open_handle(hosts, &cb, id);
	CHECK(zoo_client_id(b)->client_id == id->client_id, "reattached session id");
	CHECK(memcmp(zoo_client_id(b)->passwd, id->passwd, sizeof id->passwd) == 0, "same password");
	CHECK_RC(zoo_exists(b, "/sess-eph", 0, &st), ZOK, "ephemeral after reattach");
	CHECK(st.ephemeralOwner == id->client_id, "owner after reattach");
	CHECK_RC(zoo_create(b, "/sess-eph2", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, NULL, 0), ZOK, "ephemeral 2");
	zookeeper_close(b); /* sends closeSession; returns once it is sent, not applied */
	int rc = ZOK;
	for (int i = 0; i < 200 && rc == ZOK; i++) {
		rc = zoo_exists(zh, "/sess-eph2", 0, &st);
		if (rc == ZOK)
			nanosleep(&(struct timespec){.tv_nsec = 50000000L}, NULL);
	}
	CHECK_RC(rc, ZNONODE, "ephemeral gone after close");
	CHECK_RC(zoo_exists(zh, "/sess-eph", 0, &st), ZNONODE, "first ephemeral gone too");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s host:port\n", argv[0]);
		return 2;
	}
	zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
	clientid_t orphan;
	if (orphan_session(argv[1], &orphan) != 0) {
		fprintf(stderr, "could not set up an orphaned session on %s\n", argv[1]);
		return 2;
	}
	struct watch_ctx c, c2;
	ctx_init(&c);
	ctx_init(&c2);
	zhandle_t *zh = open_handle(argv[1], &c, NULL);
	zhandle_t *other = open_handle(argv[1], &c2, NULL);
	CHECK(zoo_recv_timeout(zh) == 10000, "negotiated timeout %d", zoo_recv_timeout(zh));
	t_crud(zh);
	t_modes(zh);
	t_watches(zh, &c, other);
	t_multi(zh);
	t_acl(zh, argv[1]);
	t_session(zh, argv[1], &orphan);
	zookeeper_close(other);
	zookeeper_close(zh);
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("c_client_test: all checks passed\n");
	return 0;
}
