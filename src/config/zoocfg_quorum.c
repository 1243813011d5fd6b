/* zoocfg_quorum: the ensemble half of the configuration: server.N, group.N
 * and weight.N lines (zookeeper-protocol.md §5.1.1), the myid file, the
 * membership text (§5.1.2) and the `conf` four-letter word (§4.1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/zalloc.h"
#include "config/zoocfg.h"
#include "config/zoocfg_int.h"

#define MAX_PARTS 8

/* Java String.split(sep): trailing empty parts are dropped. Returns the
 * number of parts, or MAX_PARTS + 1 when there are more than `max`. */
static int jsplit(char *s, char sep, char **parts, int max)
{
	int n = 0;
	for (char *p = s;; n++) {
		if (n == max)
			return MAX_PARTS + 1;
		parts[n] = p;
		char *q = strchr(p, sep);
		if (!q) {
			n++;
			break;
		}
		*q = '\0';
		p = q + 1;
	}
	while (n > 0 && parts[n - 1][0] == '\0')
		n--;
	return n;
}

/* ConfigUtils.getHostAndPort: "[v6]:a:b" or "host:a:b". */
static int host_and_ports(struct zcx *x, const char *key, int line, char *s, char **parts)
{
	if (s[0] != '[')
		return jsplit(s, ':', parts, MAX_PARTS);
	char *close = strchr(s, ']');
	if (!close)
		return zcx_fail(x, line, key, "'%.64s' starts with '[' but has no ']'", s);
	if (close[1] != ':' || close[2] == '\0')
		return zcx_fail(x, line, key, "'%.64s' has no port after ']:'", s);
	*close = '\0';
	int n = jsplit(close + 2, ':', parts + 1, MAX_PARTS - 1);
	if (n > MAX_PARTS - 1)
		return MAX_PARTS + 1;
	parts[0] = s + 1;
	return n + 1;
}

static int parse_port(struct zcx *x, const char *key, int line, const char *s, int *port)
{
	int64_t v;
	if (!zoocfg_parse_long(s, &v))
		return zcx_fail(x, line, key, "port '%.32s' is not a number", s);
	if (v < 1 || v > 65535)
		return zcx_fail(x, line, key, "port %lld is out of range (1..65535)", (long long)v);
	*port = (int)v;
	return 0;
}

static int parse_id(struct zcx *x, const char *key, int line, const char *what, int64_t *id)
{
	const char *dot = strchr(key, '.');
	if (!zoocfg_parse_long(dot + 1, id))
		return zcx_fail(x, line, key, "'%.32s' is not a %s id", dot + 1, what);
	return 0;
}

static const char wrong_form[] =
	"expected host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]";

/* The ";[host:]port" part. */
static int client_part(struct zcx *x, const char *key, int line, char *s,
		       struct zoocfg_server *srv)
{
	char *parts[MAX_PARTS];
	char shown[72];
	snprintf(shown, sizeof shown, "%.64s", s);  /* splitting cuts s up */
	int n = host_and_ports(x, key, line, s, parts);
	if (n < 0)
		return -1;
	if (n < 1 || n > 2)
		return zcx_fail(x, line, key, "client address '%s': %s", shown, wrong_form);
	if (parse_port(x, key, line, parts[n - 1], &srv->client_port) < 0)
		return -1;
	const char *h = n == 2 ? parts[0] : "0.0.0.0";
	if (!h[0])
		return zcx_fail(x, line, key, "empty client host");
	srv->client_host = zstrndup(h, strlen(h));
	return 0;
}

static int server_part(struct zcx *x, const char *key, int line, char *s,
		       struct zoocfg_server *srv)
{
	if (strchr(s, '|'))
		return zcx_fail(x, line, key, "several addresses per server (|) are not supported");
	char *parts[MAX_PARTS];
	int n = host_and_ports(x, key, line, s, parts);
	if (n < 0)
		return -1;
	if (n < 3 || n > 4)
		return zcx_fail(x, line, key, "%s", wrong_form);
	if (!parts[0][0])
		return zcx_fail(x, line, key, "empty host");
	if (parse_port(x, key, line, parts[1], &srv->quorum_port) < 0 ||
	    parse_port(x, key, line, parts[2], &srv->election_port) < 0)
		return -1;
	if (srv->quorum_port == srv->election_port)
		return zcx_fail(x, line, key, "quorum and election port must differ (both %d)",
				srv->quorum_port);
	if (n == 4) {
		if (strcasecmp(parts[3], "observer") == 0)
			srv->type = ZOOCFG_OBSERVER;
		else if (strcasecmp(parts[3], "participant") != 0)
			return zcx_fail(x, line, key, "'%.32s' is not participant or observer",
					parts[3]);
	}
	srv->host = zstrndup(parts[0], strlen(parts[0]));
	return 0;
}

static int parse_server(struct zcx *x, const char *key, const char *value, int line,
			struct zoocfg_server *srv)
{
	if (parse_id(x, key, line, "server", &srv->sid) < 0)
		return -1;
	if (srv->sid < 0 || srv->sid > 255)
		return zcx_fail(x, line, key, "server id %lld is out of range (0..255: it is the top "
				"byte of session ids)", (long long)srv->sid);
	char *copy = zstrndup(value, strlen(value));
	char *halves[MAX_PARTS];
	int n = jsplit(copy, ';', halves, MAX_PARTS);
	int rc;
	if (n < 1 || n > 2)
		rc = zcx_fail(x, line, key, "'%.64s': %s", value, wrong_form);
	else
		rc = server_part(x, key, line, halves[0], srv);
	if (rc == 0 && n == 2)
		rc = client_part(x, key, line, halves[1], srv);
	zfree(copy);
	return rc;
}

int zoocfg_server_line(struct zcx *x, const char *key, const char *value, int line)
{
	struct zoocfg *c = x->c;
	struct zoocfg_server srv = {.client_port = -1, .line = line};
	if (parse_server(x, key, value, line, &srv) < 0) {
		zfree(srv.host);
		zfree(srv.client_host);
		return -1;
	}
	const struct zoocfg_server *old = zoocfg_find_server(c, srv.sid);
	if (old) {
		zfree(srv.host);
		zfree(srv.client_host);
		return zcx_fail(x, line, key, "server id %lld is already given on line %d",
				(long long)srv.sid, old->line);
	}
	c->servers = zrealloc(c->servers, (c->nservers + 1) * sizeof *c->servers);
	c->servers[c->nservers++] = srv;
	return 0;
}

static bool in_a_group(const struct zoocfg *c, int64_t sid)
{
	for (size_t i = 0; i < c->ngroups; i++)
		for (size_t j = 0; j < c->groups[i].nsids; j++)
			if (c->groups[i].sids[j] == sid)
				return true;
	return false;
}

int zoocfg_group_line(struct zcx *x, const char *key, const char *value, int line)
{
	struct zoocfg *c = x->c;
	struct zoocfg_group g = {.line = line};
	if (parse_id(x, key, line, "group", &g.gid) < 0)
		return -1;
	const char *p = value;
	for (;;) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char *one = zstrndup(p, n);
		int64_t sid;
		bool ok = zoocfg_parse_long(one, &sid);
		zfree(one);
		if (!ok || in_a_group(c, sid)) {
			zfree(g.sids);
			if (!ok)
				return zcx_fail(x, line, key, "'%.64s' is not a list of server ids "
						"separated by ':'", value);
			return zcx_fail(x, line, key, "server %lld is in more than one group",
					(long long)sid);
		}
		g.sids = zrealloc(g.sids, (g.nsids + 1) * sizeof *g.sids);
		g.sids[g.nsids++] = sid;
		if (!e)
			break;
		p = e + 1;
	}
	c->groups = zrealloc(c->groups, (c->ngroups + 1) * sizeof *c->groups);
	c->groups[c->ngroups++] = g;
	return 0;
}

int zoocfg_weight_line(struct zcx *x, const char *key, const char *value, int line)
{
	struct zoocfg *c = x->c;
	struct zoocfg_weight w = {.line = line};
	if (parse_id(x, key, line, "server", &w.sid) < 0)
		return -1;
	if (!zoocfg_parse_long(value, &w.weight) || w.weight < 0)
		return zcx_fail(x, line, key, "'%.64s' is not a weight (an integer >= 0)", value);
	c->weights = zrealloc(c->weights, (c->nweights + 1) * sizeof *c->weights);
	c->weights[c->nweights++] = w;
	return 0;
}

/* ------------------------------------------------------------------ */

int zoocfg_read_myid(const struct zoocfg *c, int64_t *myid, struct buf *errmsg)
{
	struct buf path;
	buf_init(&path);
	buf_printf(&path, "%s/myid", c->data_dir ? c->data_dir : ".");
	const char *p = (const char *)path.data;
	FILE *f = fopen(p, "rb");
	if (!f) {
		buf_printf(errmsg, "%s: %s (a server of an ensemble needs its id there)", p,
			   strerror(errno));
		buf_free(&path);
		return -1;
	}
	char line[64];
	size_t n = fread(line, 1, sizeof line - 1, f);
	fclose(f);
	line[n] = '\0';
	/* BufferedReader.readLine: the line ends at \n or \r */
	line[strcspn(line, "\r\n")] = '\0';
	int rc = 0;
	if (!zoocfg_parse_long(line, myid)) {
		buf_printf(errmsg, "%s: '%.32s' is not a server id (one decimal number on the first "
			   "line, no blanks)", p, line);
		rc = -1;
	}
	buf_free(&path);
	return rc;
}

const struct zoocfg_server *zoocfg_find_server(const struct zoocfg *c, int64_t sid)
{
	for (size_t i = 0; i < c->nservers; i++)
		if (c->servers[i].sid == sid)
			return &c->servers[i];
	return NULL;
}

bool zoocfg_is_distributed(const struct zoocfg *c)
{
	size_t voters = 0;
	for (size_t i = 0; i < c->nservers; i++)
		voters += c->servers[i].type == ZOOCFG_PARTICIPANT;
	return c->nservers > 0 && (voters > 1 || !c->standalone_enabled);
}

/* ------------------------------------------------------------------ */
/* membership text */

static void put_host(struct buf *out, const char *h)
{
	if (strchr(h, ':'))
		buf_printf(out, "[%s]", h);
	else
		buf_printf(out, "%s", h);
}

/* Java HashMap<Long,...> iteration order for small non-negative keys:
 * by bucket (key & (capacity - 1)), then by insertion; the table doubles
 * from 16 whenever it is more than 3/4 full. Ties are broken by key, which
 * is the file order in practice. */
static size_t hashmap_cap(size_t n)
{
	size_t cap = 16;
	while (n > cap / 4 * 3)
		cap *= 2;
	return cap;
}

static int cmp_bucket(int64_t a, int64_t b, size_t cap)
{
	uint64_t ba = (uint64_t)a & (cap - 1), bb = (uint64_t)b & (cap - 1);
	if (ba != bb)
		return ba < bb ? -1 : 1;
	return a < b ? -1 : a > b;
}

static void order_servers(const struct zoocfg *c, size_t *idx)
{
	size_t cap = hashmap_cap(c->nservers);
	for (size_t i = 0; i < c->nservers; i++)
		idx[i] = i;
	for (size_t i = 1; i < c->nservers; i++)
		for (size_t j = i; j > 0 && cmp_bucket(c->servers[idx[j - 1]].sid,
						       c->servers[idx[j]].sid, cap) > 0; j--) {
			size_t t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
}

void zoocfg_membership(const struct zoocfg *c, int64_t version, struct buf *out)
{
	size_t *idx = zcalloc(c->nservers ? c->nservers : 1, sizeof *idx);
	order_servers(c, idx);
	for (size_t i = 0; i < c->nservers; i++) {
		const struct zoocfg_server *s = &c->servers[idx[i]];
		buf_printf(out, "server.%lld=", (long long)s->sid);
		put_host(out, s->host);
		buf_printf(out, ":%d:%d:%s", s->quorum_port, s->election_port,
			   s->type == ZOOCFG_OBSERVER ? "observer" : "participant");
		if (s->client_host) {
			buf_printf(out, ";");
			put_host(out, s->client_host);
			buf_printf(out, ":%d", s->client_port);
		}
		buf_printf(out, "\n");
	}
	zfree(idx);
	for (size_t i = 0; i < c->ngroups; i++) {
		buf_printf(out, "group.%lld=", (long long)c->groups[i].gid);
		for (size_t j = 0; j < c->groups[i].nsids; j++)
			buf_printf(out, "%s%lld", j ? ":" : "", (long long)c->groups[i].sids[j]);
		buf_printf(out, "\n");
	}
	for (size_t i = 0; i < c->nweights; i++)
		buf_printf(out, "weight.%lld=%lld\n", (long long)c->weights[i].sid,
			   (long long)c->weights[i].weight);
	buf_printf(out, "version=%llx", (unsigned long long)version);
}

/* ------------------------------------------------------------------ */
/* conf */

/* Java's new File(dir, "version-2").getAbsolutePath(): relative paths are
 * resolved against the working directory; repeated and trailing slashes
 * are dropped; "." and ".." stay. */
static void put_version_dir(struct buf *out, const char *dir)
{
	struct buf raw;
	buf_init(&raw);
	if (dir[0] != '/') {
		char cwd[4096];
		buf_printf(&raw, "%s/", getcwd(cwd, sizeof cwd) ? cwd : ".");
	}
	buf_printf(&raw, "%s/version-2", dir);
	const char *s = (const char *)raw.data;
	for (size_t i = 0; i < raw.len; i++)
		if (!(s[i] == '/' && i + 1 < raw.len && s[i + 1] == '/'))
			buf_put_u8(out, (uint8_t)s[i]);
	buf_free(&raw);
}

void zoocfg_dump(const struct zoocfg *c, const struct zoocfg_conf_info *info, struct buf *out)
{
	buf_printf(out, "clientPort=%d\n", info->client_port);
	buf_printf(out, "secureClientPort=%d\n", info->secure_client_port);
	buf_printf(out, "dataDir=");
	put_version_dir(out, c->data_dir);
	buf_printf(out, "\ndataDirSize=%llu\n", (unsigned long long)info->txnlog_dir_bytes);
	buf_printf(out, "dataLogDir=");
	put_version_dir(out, c->data_log_dir ? c->data_log_dir : c->data_dir);
	buf_printf(out, "\ndataLogSize=%llu\n", (unsigned long long)info->snap_dir_bytes);
	buf_printf(out, "tickTime=%d\n", c->tick_time);
	buf_printf(out, "maxClientCnxns=%d\n", c->max_client_cnxns);
	buf_printf(out, "minSessionTimeout=%d\n", zoocfg_min_session_timeout(c));
	buf_printf(out, "maxSessionTimeout=%d\n", zoocfg_max_session_timeout(c));
	buf_printf(out, "clientPortListenBacklog=%d\n", c->client_port_listen_backlog);
	buf_printf(out, "serverId=%lld\n", (long long)info->server_id);
	if (!info->quorum)
		return;
	const struct zoocfg_server *me = zoocfg_find_server(c, info->server_id);
	buf_printf(out, "initLimit=%d\n", c->init_limit);
	buf_printf(out, "syncLimit=%d\n", c->sync_limit);
	buf_printf(out, "electionAlg=%d\n", c->election_alg);
	buf_printf(out, "electionPort=%d\n", me ? me->election_port : -1);
	buf_printf(out, "quorumPort=%d\n", me ? me->quorum_port : -1);
	buf_printf(out, "peerType=%d\n", (int)(me ? me->type : c->peer_type));
	buf_printf(out, "membership: \n");
	zoocfg_membership(c, info->config_version, out);
}
