/* zabctl: command-line client for ZooKeeper-compatible servers (zabd or
 * Apache ZooKeeper), built on libzookeeper_mt.
 *
 *   zabctl [-s host:port] [-t timeout_ms] [-a user:password] [-v] <command> [args]
 *   zabctl [options] < commands.txt        (one command a line, like cli_mt)
 *
 * This file owns the process: global options, the lazily opened session
 * and its global watcher (which prints `WATCHER::` lines for -w watches),
 * the command table, the batch loop and its tokenizer, and the shared
 * argument/error helpers declared in ctl.h. The commands themselves live
 * in cmds.c, acl.c and fourlw.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

struct ctl_cmd {
	const char *name;
	int (*run)(struct ctl *c, int argc, char **argv);
	const char *usage;
};

static const struct ctl_cmd commands[] = {
	{"ls", cmd_ls, "ls [-s] [-w] <path>"},
	{"ls2", cmd_ls2, "ls2 [-w] <path>            (children, then the Stat)"},
	{"stat", cmd_stat, "stat [-w] <path>"},
	{"exists", cmd_stat, "exists [-w] <path>          (the Stat; exit 1 if absent)"},
	{"get", cmd_get, "get [-w] <path>             (the data, then the Stat)"},
	{"set", cmd_set, "set [-s] [-v version] <path> <data> [version]"},
	{"create", cmd_create, "create [-e] [-s] [-c] [-t ttl] <path> [data] [acl]"},
	{"delete", cmd_delete, "delete [-v version] <path> [version]"},
	{"deleteall", cmd_deleteall, "deleteall <path>"},
	{"getacl", cmd_getacl, "getacl [-s] <path>"},
	{"setacl", cmd_setacl, "setacl [-s] [-v version] <path> <scheme:id:perms[,...]> [version]"},
	{"addauth", cmd_addauth, "addauth <scheme> <auth>"},
	{"sync", cmd_sync, "sync <path>"},
	{"watch", cmd_watch, "watch [-T ms] <path>        (wait for one data/child event)"},
	{"4lw", cmd_4lw, "4lw <word>                  (srvr, ruok, mntr, conf, cons, ... also as commands)"},
};

/* four-letter words that are also commands of their own; `stat` is not
 * one of them because it is the znode command (use `4lw stat`) */
static const char *const shortcut_words[] = {
	"ruok", "srvr", "mntr", "conf", "cons", "envi", "dump", "wchs", "wchc", "wchp",
	"crst", "srst", "isro", "dirs",
};

static void usage(FILE *f)
{
	fprintf(f, "usage: zabctl [-s host:port[,...][/chroot]] [-t timeout_ms] [-a user:password] [-v]\n"
		   "              <command> [args]\n"
		   "       zabctl [options] < file    (commands from stdin, one a line)\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, "  ruok srvr mntr conf cons envi dump wchs wchc wchp crst srst isro dirs\n"
		   "  help, quit (batch mode)\n"
		   "acl perms are letters from crwda; data and paths with spaces need quotes in batch mode\n");
}

/* --- output and errors --------------------------------------------------- */

void ctl_out_lock(struct ctl *c)
{
	pthread_mutex_lock(&c->lock);
}

void ctl_out_unlock(struct ctl *c)
{
	fflush(stdout);
	pthread_mutex_unlock(&c->lock);
}

const char *ctl_zname(int rc)
{
	static const struct { int rc; const char *name; } names[] = {
		{ZOK, "ZOK"}, {ZSYSTEMERROR, "ZSYSTEMERROR"},
		{ZRUNTIMEINCONSISTENCY, "ZRUNTIMEINCONSISTENCY"}, {ZDATAINCONSISTENCY, "ZDATAINCONSISTENCY"},
		{ZCONNECTIONLOSS, "ZCONNECTIONLOSS"}, {ZMARSHALLINGERROR, "ZMARSHALLINGERROR"},
		{ZUNIMPLEMENTED, "ZUNIMPLEMENTED"}, {ZOPERATIONTIMEOUT, "ZOPERATIONTIMEOUT"},
		{ZBADARGUMENTS, "ZBADARGUMENTS"}, {ZINVALIDSTATE, "ZINVALIDSTATE"},
		{ZNEWCONFIGNOQUORUM, "ZNEWCONFIGNOQUORUM"}, {ZRECONFIGINPROGRESS, "ZRECONFIGINPROGRESS"},
		{ZSSLCONNECTIONERROR, "ZSSLCONNECTIONERROR"}, {ZAPIERROR, "ZAPIERROR"},
		{ZNONODE, "ZNONODE"}, {ZNOAUTH, "ZNOAUTH"}, {ZBADVERSION, "ZBADVERSION"},
		{ZNOCHILDRENFOREPHEMERALS, "ZNOCHILDRENFOREPHEMERALS"}, {ZNODEEXISTS, "ZNODEEXISTS"},
		{ZNOTEMPTY, "ZNOTEMPTY"}, {ZSESSIONEXPIRED, "ZSESSIONEXPIRED"},
		{ZINVALIDCALLBACK, "ZINVALIDCALLBACK"}, {ZINVALIDACL, "ZINVALIDACL"},
		{ZAUTHFAILED, "ZAUTHFAILED"}, {ZCLOSING, "ZCLOSING"}, {ZNOTHING, "ZNOTHING"},
		{ZSESSIONMOVED, "ZSESSIONMOVED"}, {ZNOTREADONLY, "ZNOTREADONLY"},
		{ZEPHEMERALONLOCALSESSION, "ZEPHEMERALONLOCALSESSION"}, {ZNOWATCHER, "ZNOWATCHER"},
		{ZRECONFIGDISABLED, "ZRECONFIGDISABLED"},
		{ZSESSIONCLOSEDREQUIRESASLAUTH, "ZSESSIONCLOSEDREQUIRESASLAUTH"},
		{ZTHROTTLEDOP, "ZTHROTTLEDOP"},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].rc == rc)
			return names[i].name;
	return "ZUNKNOWN";
}

int ctl_zfail(struct ctl *c, const char *cmd, const char *what, int rc)
{
	ctl_out_lock(c);
	fprintf(stderr, "zabctl: %s%s%s: %s (%s)\n", cmd, what ? " " : "", what ? what : "",
		zerror(rc), ctl_zname(rc));
	ctl_out_unlock(c);
	return CTL_FAIL;
}

int ctl_fail(struct ctl *c, int code, const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ctl_out_lock(c);
	fprintf(stderr, "zabctl: %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	ctl_out_unlock(c);
	va_end(ap);
	return code;
}

/* Java's KeeperState / EventType names, so output reads like zkCli's */
const char *ctl_state_name(int state)
{
	if (state == ZOO_CONNECTED_STATE)
		return "SyncConnected";
	if (state == ZOO_READONLY_STATE)
		return "ConnectedReadOnly";
	if (state == ZOO_EXPIRED_SESSION_STATE)
		return "Expired";
	if (state == ZOO_AUTH_FAILED_STATE)
		return "AuthFailed";
	return "Disconnected";
}

const char *ctl_event_name(int type)
{
	if (type == ZOO_CREATED_EVENT)
		return "NodeCreated";
	if (type == ZOO_DELETED_EVENT)
		return "NodeDeleted";
	if (type == ZOO_CHANGED_EVENT)
		return "NodeDataChanged";
	if (type == ZOO_CHILD_EVENT)
		return "NodeChildrenChanged";
	if (type == ZOO_NOTWATCHING_EVENT)
		return "WatchRemoved";
	return "None";
}

/* --- arguments ----------------------------------------------------------- */

bool ctl_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool looks_like_flag(const char *t)
{
	return t[0] == '-' && ((t[1] >= 'a' && t[1] <= 'z') || (t[1] >= 'A' && t[1] <= 'Z'));
}

int ctl_parse_args(const char *cmd, int argc, char **argv, const char *flags, const char *valued,
		   int min_pos, int max_pos, struct ctl_args *out)
{
	memset(out, 0, sizeof *out);
	bool flags_done = false;
	for (int i = 1; i < argc; i++) {
		const char *t = argv[i];
		if (!flags_done && strcmp(t, "--") == 0) {
			flags_done = true;
			continue;
		}
		if (!flags_done && looks_like_flag(t)) {
			unsigned char f = (unsigned char)t[1];
			if (t[2] == '\0' && strchr(flags, f)) {
				out->on[f] = true;
				continue;
			}
			if (t[2] == '\0' && strchr(valued, f)) {
				if (i + 1 >= argc) {
					fprintf(stderr, "zabctl: %s: option -%c needs a value\n", cmd, f);
					return CTL_USAGE;
				}
				out->val[f] = argv[++i];
				continue;
			}
			fprintf(stderr, "zabctl: %s: unknown option %s (use -- before data that starts with '-')\n",
				cmd, t);
			return CTL_USAGE;
		}
		if (out->npos >= max_pos || out->npos >= CTL_MAX_POS) {
			fprintf(stderr, "zabctl: %s: too many arguments\n", cmd);
			return CTL_USAGE;
		}
		out->pos[out->npos++] = t;
	}
	if (out->npos < min_pos) {
		fprintf(stderr, "zabctl: %s: missing arguments\n", cmd);
		return CTL_USAGE;
	}
	return CTL_OK;
}

/* --- the session ---------------------------------------------------------- */

/* Session events update `state`; node events here come from -w watches,
 * which use the global watcher, and are printed as they arrive. */
static void global_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	struct ctl *c = ctx;
	ctl_out_lock(c);
	if (type == ZOO_SESSION_EVENT) {
		c->state = state;
		pthread_cond_broadcast(&c->cond);
		if (state == ZOO_EXPIRED_SESSION_STATE)
			fprintf(stderr, "zabctl: session expired\n");
	} else {
		printf("WATCHER:: WatchedEvent state:%s type:%s path:%s\n", ctl_state_name(state),
		       ctl_event_name(type), path ? path : "");
	}
	ctl_out_unlock(c);
}

void ctl_deadline_after(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Waits until connected, or the session is dead, or timeout_ms passed. */
static int wait_connected(struct ctl *c)
{
	struct timespec until;
	ctl_deadline_after(&until, c->timeout_ms);
	pthread_mutex_lock(&c->lock);
	int rc = 0;
	while (c->state != ZOO_CONNECTED_STATE && c->state != ZOO_EXPIRED_SESSION_STATE &&
	       c->state != ZOO_AUTH_FAILED_STATE && rc == 0)
		rc = pthread_cond_timedwait(&c->cond, &c->lock, &until);
	int state = c->state;
	pthread_mutex_unlock(&c->lock);
	if (state == ZOO_CONNECTED_STATE)
		return ZOK;
	if (state == ZOO_EXPIRED_SESSION_STATE)
		return ZSESSIONEXPIRED;
	if (state == ZOO_AUTH_FAILED_STATE)
		return ZAUTHFAILED;
	return ZCONNECTIONLOSS;
}

int ctl_session(struct ctl *c, const char *cmd)
{
	bool fresh = c->zh == NULL;
	if (fresh) {
		c->zh = zookeeper_init(c->hosts, global_watcher, c->timeout_ms, NULL, c, 0);
		if (!c->zh)
			return ctl_fail(c, CTL_FAIL, cmd, "cannot start a session with %s: %s", c->hosts,
					strerror(errno));
	}
	/* batch mode: a later command after a lost connection waits for the
	 * library's reconnect, bounded like the first connect */
	int rc = wait_connected(c);
	if (rc != ZOK) {
		ctl_out_lock(c);
		fprintf(stderr, "zabctl: %s: cannot connect to %s within %d ms: %s (%s)\n", cmd,
			c->hosts, c->timeout_ms, zerror(rc), ctl_zname(rc));
		ctl_out_unlock(c);
		return CTL_FAIL;
	}
	if (c->auth && !c->auth_added) {
		c->auth_added = true;   /* the library resends it on reconnects itself */
		int arc = ctl_add_auth(c, "-a", "digest", c->auth);
		if (arc != CTL_OK)
			return arc;
	}
	return CTL_OK;
}

/* --- dispatch and batch mode ------------------------------------------------ */

static bool is_shortcut_word(const char *name)
{
	for (size_t i = 0; i < sizeof shortcut_words / sizeof shortcut_words[0]; i++)
		if (strcmp(name, shortcut_words[i]) == 0)
			return true;
	return false;
}

static int run_command(struct ctl *c, int argc, char **argv)
{
	const char *name = argv[0];
	if (strcmp(name, "help") == 0) {
		usage(stdout);
		return CTL_OK;
	}
	if (is_shortcut_word(name)) {
		if (argc != 1)
			return ctl_fail(c, CTL_USAGE, name, "takes no arguments");
		return ctl_fourlw(c, name);
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(name, commands[i].name) == 0) {
			int rc = commands[i].run(c, argc, argv);
			if (rc == CTL_USAGE)
				fprintf(stderr, "usage: %s\n", commands[i].usage);
			return rc;
		}
	return ctl_fail(c, CTL_USAGE, name, "unknown command (try `zabctl help`)");
}

/* Splits a line into words in place: blanks separate, "double" and
 * 'single' quotes group (with \" and \\ escapes inside double quotes and
 * outside quotes), and '#' at the start of a word starts a comment.
 * Returns the word count, or -1 on an unterminated quote. */
static int split_line(char *line, char **words, int max_words)
{
	int n = 0;
	char *r = line, *w = line;
	for (;;) {
		while (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n')
			r++;
		if (*r == '\0' || *r == '#')
			return n;
		if (n == max_words)
			return -2;
		words[n++] = w;
		char quote = 0;
		while (*r != '\0' && (quote || (*r != ' ' && *r != '\t' && *r != '\r' && *r != '\n'))) {
			if (quote && *r == quote) {
				quote = 0;
				r++;
			} else if (!quote && (*r == '"' || *r == '\'')) {
				quote = *r++;
			} else if (*r == '\\' && quote != '\'' && r[1] != '\0') {
				*w++ = r[1];
				r += 2;
			} else {
				*w++ = *r++;
			}
		}
		if (quote)
			return -1;
		bool end = *r == '\0';
		*w++ = '\0';
		if (!end)
			r++;
		if (end)
			return n;
	}
}

static int run_batch(struct ctl *c)
{
	char *line = NULL;
	size_t cap = 0;
	int status = CTL_OK;
	bool tty = isatty(STDIN_FILENO);
	for (;;) {
		if (tty) {
			ctl_out_lock(c);
			printf("zabctl> ");
			ctl_out_unlock(c);
		}
		if (getline(&line, &cap, stdin) < 0)
			break;
		char *words[32];
		int n = split_line(line, words, 32);
		int rc = CTL_OK;
		if (n < 0)
			rc = ctl_fail(c, CTL_USAGE, "batch", n == -1 ? "unterminated quote" : "too many words");
		else if (n > 0 && (strcmp(words[0], "quit") == 0 || strcmp(words[0], "exit") == 0))
			break;
		else if (n > 0)
			rc = run_command(c, n, words);
		if (status == CTL_OK)
			status = rc;
	}
	free(line);
	return status;
}

int main(int argc, char **argv)
{
	struct ctl c = {.hosts = "127.0.0.1:2181", .timeout_ms = 30000};
	pthread_mutex_init(&c.lock, NULL);
	pthread_cond_init(&c.cond, NULL);
	c.state = ZOO_CONNECTING_STATE;
	int verbose = 0, opt;
	int64_t t;
	/* '+': stop at the command name, so its own flags (-s, -w, ...) stay its own */
	while ((opt = getopt(argc, argv, "+s:t:a:vh")) != -1) {
		switch (opt) {
		case 's': c.hosts = optarg; break;
		case 't':
			if (!ctl_parse_i64(optarg, 1, 3600000, &t)) {
				fprintf(stderr, "zabctl: -t wants milliseconds (1..3600000), not %s\n", optarg);
				return CTL_USAGE;
			}
			c.timeout_ms = (int)t;
			break;
		case 'a':
			if (!strchr(optarg, ':')) {
				fprintf(stderr, "zabctl: -a wants user:password\n");
				return CTL_USAGE;
			}
			c.auth = optarg;
			break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return CTL_OK;
		default: usage(stderr); return CTL_USAGE;
		}
	}
	/* the library logs connection retries at INFO/ERROR; quiet unless asked */
	zoo_set_debug_level(verbose ? (verbose > 1 ? ZOO_LOG_LEVEL_DEBUG : ZOO_LOG_LEVEL_INFO) : 0);
	int status = optind < argc ? run_command(&c, argc - optind, argv + optind) : run_batch(&c);
	if (c.zh)
		zookeeper_close(c.zh);   /* no watcher runs after this returns */
	while (c.watches) {
		struct ctl_watch *w = c.watches;
		c.watches = w->next;
		free(w->path);
		free(w);
	}
	pthread_cond_destroy(&c.cond);
	pthread_mutex_destroy(&c.lock);
	return status;
}
