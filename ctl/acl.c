/* zabctl ACL and authentication commands: getacl, setacl, addauth, and
 * the zkCli ACL syntax "scheme:id:perms[,scheme:id:perms...]". The id is
 * everything between the first and the last ':' (digest ids hold a colon
 * themselves: digest:user:hash:perms); perms are letters from crwda. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

static int perm_bit(char ch)
{
	switch (ch) {
	case 'c': return ZOO_PERM_CREATE;
	case 'r': return ZOO_PERM_READ;
	case 'w': return ZOO_PERM_WRITE;
	case 'd': return ZOO_PERM_DELETE;
	case 'a': return ZOO_PERM_ADMIN;
	default: return 0;
	}
}

void ctl_acl_free(struct ACL_vector *v)
{
	/* scheme and id point into one allocation per entry, held by scheme */
	for (int i = 0; i < v->count; i++)
		free(v->data[i].id.scheme);
	free(v->data);
	v->data = NULL;
	v->count = 0;
}

/* One "scheme:id:perms" of length len into *acl; the strings are copied. */
static int parse_entry(const char *s, size_t len, struct ACL *acl, const char **why)
{
	const char *first = memchr(s, ':', len), *last = NULL;
	for (size_t i = len; i-- > 0;)
		if (s[i] == ':') {
			last = s + i;
			break;
		}
	if (!first || first == last) {
		*why = "each entry must look like scheme:id:perms";
		return -1;
	}
	if (first == s) {
		*why = "empty scheme";
		return -1;
	}
	int perms = 0;
	for (const char *p = last + 1; p < s + len; p++) {
		int bit = perm_bit(*p);
		if (!bit) {
			*why = "perms are letters from crwda";
			return -1;
		}
		perms |= bit;
	}
	char *copy = malloc(len + 1);
	if (!copy) {
		*why = "out of memory";
		return -1;
	}
	memcpy(copy, s, len);
	copy[first - s] = '\0';
	copy[last - s] = '\0';
	acl->perms = perms;
	acl->id.scheme = copy;
	acl->id.id = copy + (first - s) + 1;
	return 0;
}

int ctl_acl_parse(const char *text, struct ACL_vector *out, const char **why)
{
	int n = 1;
	for (const char *p = text; *p; p++)
		n += *p == ',';
	out->count = 0;
	out->data = calloc((size_t)n, sizeof *out->data);
	if (!out->data) {
		*why = "out of memory";
		return -1;
	}
	const char *s = text;
	for (int i = 0; i < n; i++) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		if (parse_entry(s, len, &out->data[i], why) != 0) {
			ctl_acl_free(out);
			return -1;
		}
		out->count++;
		s += len + 1;
	}
	return 0;
}

/* zkCli's getAcl format: 'scheme,'id then ": " and the perms as cdrwa */
static void print_acl(const struct ACL *acl)
{
	static const char order[] = "cdrwa";
	printf("'%s,'%s\n: ", acl->id.scheme, acl->id.id);
	for (const char *p = order; *p; p++)
		if (acl->perms & perm_bit(*p))
			putchar(*p);
	putchar('\n');
}

int cmd_getacl(struct ctl *c, int argc, char **argv)
{
	struct ctl_args a;
	int rc = ctl_parse_args(argv[0], argc, argv, "s", "", 1, 1, &a);
	if (rc == CTL_OK)
		rc = ctl_session(c, argv[0]);
	if (rc)
		return rc;
	struct ACL_vector acl = {0, NULL};
	struct Stat st;
	int zrc = zoo_get_acl(c->zh, a.pos[0], &acl, &st);
	if (zrc != ZOK)
		return ctl_zfail(c, argv[0], a.pos[0], zrc);
	ctl_out_lock(c);
	for (int i = 0; i < acl.count; i++)
		print_acl(&acl.data[i]);
	if (a.on['s'])
		ctl_print_stat(&st);
	ctl_out_unlock(c);
	deallocate_ACL_vector(&acl);
	return CTL_OK;
}

int cmd_setacl(struct ctl *c, int argc, char **argv)
{
	struct ctl_args a;
	int rc = ctl_parse_args(argv[0], argc, argv, "s", "v", 2, 3, &a);
	if (rc)
		return rc;
	const char *v = a.val['v'];
	if (a.npos > 2 && v)
		return ctl_fail(c, CTL_USAGE, argv[0], "version given twice");
	v = a.npos > 2 ? a.pos[2] : v;
	int64_t version = -1;
	if (v && !ctl_parse_i64(v, -1, INT32_MAX, &version))
		return ctl_fail(c, CTL_USAGE, argv[0], "bad version '%s'", v);
	struct ACL_vector acl;
	const char *why;
	if (ctl_acl_parse(a.pos[1], &acl, &why) != 0)
		return ctl_fail(c, CTL_USAGE, argv[0], "bad acl '%s': %s", a.pos[1], why);
	rc = ctl_session(c, argv[0]);
	if (rc == CTL_OK) {
		int zrc = zoo_set_acl(c->zh, a.pos[0], (int)version, &acl);
		struct Stat st;
		if (zrc == ZOK && a.on['s'])
			zrc = zoo_exists(c->zh, a.pos[0], 0, &st);
		if (zrc != ZOK)
			rc = ctl_zfail(c, argv[0], a.pos[0], zrc);
		else if (a.on['s']) {
			ctl_out_lock(c);
			ctl_print_stat(&st);
			ctl_out_unlock(c);
		}
	}
	ctl_acl_free(&acl);
	return rc;
}

/* Auth completions run in the library's thread, in the order the
 * credentials were added; counting them tells which are answered. The
 * counters live in ctl, not on the stack, because the wait below is bounded
 * and a late answer must find valid memory. */
static void auth_done(int rc, const void *data)
{
	struct ctl *c = (struct ctl *)data;
	pthread_mutex_lock(&c->lock);
	c->auth_answered++;
	c->auth_rc = rc;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

int ctl_add_auth(struct ctl *c, const char *cmd, const char *scheme, const char *cred)
{
	size_t len = strlen(cred);
	if (len > (1u << 20))
		return ctl_fail(c, CTL_USAGE, cmd, "credential too long");
	pthread_mutex_lock(&c->lock);
	unsigned mine = ++c->auth_sent;
	pthread_mutex_unlock(&c->lock);
	int zrc = zoo_add_auth(c->zh, scheme, cred, (int)len, auth_done, c);
	if (zrc != ZOK) {
		pthread_mutex_lock(&c->lock);
		c->auth_answered++;   /* never queued: no completion will count it */
		pthread_mutex_unlock(&c->lock);
		return ctl_zfail(c, cmd, scheme, zrc);
	}
	struct timespec until;
	ctl_deadline_after(&until, c->timeout_ms);
	pthread_mutex_lock(&c->lock);
	int trc = 0;
	while (c->auth_answered < mine && c->state != ZOO_AUTH_FAILED_STATE &&
	       c->state != ZOO_EXPIRED_SESSION_STATE && trc == 0)
		trc = pthread_cond_timedwait(&c->cond, &c->lock, &until);
	if (c->auth_answered >= mine)
		zrc = c->auth_rc;
	else if (c->state == ZOO_AUTH_FAILED_STATE)
		zrc = ZAUTHFAILED;
	else if (c->state == ZOO_EXPIRED_SESSION_STATE)
		zrc = ZSESSIONEXPIRED;
	else
		zrc = ZOPERATIONTIMEOUT;
	pthread_mutex_unlock(&c->lock);
	return zrc == ZOK ? CTL_OK : ctl_zfail(c, cmd, scheme, zrc);
}

int cmd_addauth(struct ctl *c, int argc, char **argv)
{
	struct ctl_args a;
	int rc = ctl_parse_args(argv[0], argc, argv, "", "", 2, 2, &a);
	if (rc == CTL_OK)
		rc = ctl_session(c, argv[0]);
	return rc ? rc : ctl_add_auth(c, argv[0], a.pos[0], a.pos[1]);
}
