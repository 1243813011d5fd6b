/* zabctl: a command-line ZooKeeper client on the official C library
 * (libzookeeper_mt). This header is what the pieces share: the client state
 * (one lazily opened session, the lock that keeps watcher output from
 * interleaving with command output), the per-command argument parser, the
 * error reporting convention and the command entry points.
 *
 * Every command returns CTL_OK, CTL_FAIL (the server or the connection said
 * no; the ZooKeeper error was printed) or CTL_USAGE (the command line was
 * wrong). The process exit status is that number. */
#ifndef ZABCTL_CTL_H
#define ZABCTL_CTL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <zookeeper/zookeeper.h>

enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

struct ctl {
	const char *hosts;      /* -s: "host:port[,host:port...][/chroot]" */
	int timeout_ms;         /* -t: session timeout, also the connect and 4lw bound */
	const char *auth;       /* -a: user:password, added as a digest credential */
	bool auth_added;        /* -a was sent on the first successful connect */
	zhandle_t *zh;          /* NULL until the first command that needs a session */
	pthread_mutex_t lock;   /* stdout/stderr and `state` */
	pthread_cond_t cond;    /* signalled on every session state change */
	int state;              /* last session state the global watcher saw */
	unsigned auth_sent, auth_answered;  /* zoo_add_auth calls and their completions */
	int auth_rc;                /* result of the last answered one */
	struct ctl_watch *watches;  /* `watch` contexts; the library may call them until close */
};

/* One `watch` command's watcher context. Kept until zookeeper_close because
 * the second of its watches (data and child) can fire after the command
 * returned. Guarded by ctl.lock. */
struct ctl_watch {
	struct ctl_watch *next;
	struct ctl *c;
	bool fired, dead;
	int type, state;
	char *path;
};

/* Command arguments after flag parsing. A flag is a token in the command's
 * flag set ("-w"); valued flags take the next token ("-v 3"). `--` ends
 * flags; other tokens that start with '-' and a letter are rejected so a
 * mistyped flag is not taken for a path or data. */
#define CTL_MAX_POS 8
struct ctl_args {
	const char *pos[CTL_MAX_POS];
	int npos;
	bool on[128];           /* on['w'] after "-w" */
	const char *val[128];   /* val['v'] after "-v 3" */
};

int ctl_parse_args(const char *cmd, int argc, char **argv, const char *flags, const char *valued,
		   int min_pos, int max_pos, struct ctl_args *out);
/* strict decimal parse into [lo, hi]; false on anything else */
bool ctl_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out);

/* "zabctl: <cmd> <what>: <zerror text> (<ZNAME>)" on stderr; returns CTL_FAIL */
int ctl_zfail(struct ctl *c, const char *cmd, const char *what, int rc);
/* "zabctl: <cmd>: <message>" on stderr; returns `code` */
int ctl_fail(struct ctl *c, int code, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
const char *ctl_zname(int rc);
const char *ctl_state_name(int state);
const char *ctl_event_name(int type);

void ctl_out_lock(struct ctl *c);
void ctl_out_unlock(struct ctl *c);   /* flushes stdout */

/* now + ms on CLOCK_REALTIME, for pthread_cond_timedwait */
struct timespec;
void ctl_deadline_after(struct timespec *ts, int ms);

/* Opens the session if it is not open yet; CTL_OK once connected. */
int ctl_session(struct ctl *c, const char *cmd);

/* commands (cmds.c, acl.c, fourlw.c) */
int cmd_ls(struct ctl *c, int argc, char **argv);
int cmd_ls2(struct ctl *c, int argc, char **argv);
int cmd_stat(struct ctl *c, int argc, char **argv);
int cmd_get(struct ctl *c, int argc, char **argv);
int cmd_set(struct ctl *c, int argc, char **argv);
int cmd_create(struct ctl *c, int argc, char **argv);
int cmd_delete(struct ctl *c, int argc, char **argv);
int cmd_deleteall(struct ctl *c, int argc, char **argv);
int cmd_sync(struct ctl *c, int argc, char **argv);
int cmd_watch(struct ctl *c, int argc, char **argv);
int cmd_getacl(struct ctl *c, int argc, char **argv);
int cmd_setacl(struct ctl *c, int argc, char **argv);
int cmd_addauth(struct ctl *c, int argc, char **argv);
int cmd_4lw(struct ctl *c, int argc, char **argv);

/* Adds a credential and waits for the server's verdict (acl.c). */
int ctl_add_auth(struct ctl *c, const char *cmd, const char *scheme, const char *cred);
/* Parses "scheme:id:perms[,scheme:id:perms...]"; the vector owns one
 * allocation per entry string plus the array; free with ctl_acl_free. */
int ctl_acl_parse(const char *text, struct ACL_vector *out, const char **why);
void ctl_acl_free(struct ACL_vector *v);
/* Sends a four-letter word and copies the answer to stdout (fourlw.c). */
int ctl_fourlw(struct ctl *c, const char *word);

void ctl_print_stat(const struct Stat *st);

#endif
