#include "request/pending.h"

#include <string.h>

#include "base/zalloc.h"
#include "tree/tree.h"

void pending_init(struct pending *p)
{
	strmap_init(&p->changes);
	p->fifo = NULL;
	p->fifo_head = p->fifo_count = p->fifo_cap = 0;
	p->undo = NULL;
	p->n_undo = p->cap_undo = 0;
	p->recording = false;
}

static void change_free(struct tree *t, struct pchange *c)
{
	if (!c)
		return;
	if (c->v.acl_ref != ACL_REF_OPEN)
		acl_cache_release(&t->acls, c->v.acl_ref);
	zfree(c);
}

void pending_free(struct pending *p, struct tree *t)
{
	size_t pos = 0;
	struct strmap_slot *s;
	while ((s = strmap_next(&p->changes, &pos)))
		change_free(t, s->value);
	strmap_free(&p->changes);
	for (size_t i = 0; i < p->fifo_count; i++)
		zfree(p->fifo[(p->fifo_head + i) % p->fifo_cap].path);
	zfree(p->fifo);
	p->fifo = NULL;
	p->fifo_count = p->fifo_cap = p->fifo_head = 0;
	pending_commit_undo(p, t);
	zfree(p->undo);
}

struct pview pending_get(const struct pending *p, const struct tree *t, const char *path, size_t len)
{
	if (len == 0) {
		path = "/";
		len = 1;
	}
	struct pchange *c = strmap_get(&p->changes, path, len);
	if (c)
		return c->v;
	struct pview v = {.exists = false, .acl_ref = ACL_REF_OPEN};
	struct znode *n = tree_get(t, path, len);
	if (n) {
		v.exists = true;
		v.version = n->version;
		v.cversion = n->cversion;
		v.aversion = n->aversion;
		v.num_children = (int32_t)n->n_children;
		v.owner = n->ephemeral_owner;
		v.acl_ref = n->acl_ref;
	}
	return v;
}

static struct pchange *change_new(struct tree *t, const char *path, size_t len, int64_t zxid,
				  const struct pview *v)
{
	struct pchange *c = zmalloc(sizeof(*c) + len + 1);
	c->zxid = zxid;
	c->v = *v;
	if (c->v.acl_ref != ACL_REF_OPEN)
		acl_cache_addref(&t->acls, c->v.acl_ref);
	c->len = (uint32_t)len;
	memcpy(c->path, path, len);
	c->path[len] = '\0';
	return c;
}

static void fifo_push(struct pending *p, int64_t zxid, const char *path, size_t len)
{
	if (p->fifo_count == p->fifo_cap) {
		size_t cap = p->fifo_cap ? p->fifo_cap * 2 : 64;
		struct pwrite *n = zmalloc(cap * sizeof(*n));
		for (size_t i = 0; i < p->fifo_count; i++)
			n[i] = p->fifo[(p->fifo_head + i) % p->fifo_cap];
		zfree(p->fifo);
		p->fifo = n;
		p->fifo_cap = cap;
		p->fifo_head = 0;
	}
	struct pwrite *w = &p->fifo[(p->fifo_head + p->fifo_count) % p->fifo_cap];
	w->zxid = zxid;
	w->path = zstrndup(path, len);
	w->len = (uint32_t)len;
	p->fifo_count++;
}

void pending_set(struct pending *p, struct tree *t, const char *path, size_t len, int64_t zxid,
		 const struct pview *v)
{
	if (len == 0) {
		path = "/";
		len = 1;
	}
	struct pchange *old = strmap_get(&p->changes, path, len);
	if (p->recording) {
		if (p->n_undo == p->cap_undo) {
			p->cap_undo = p->cap_undo ? p->cap_undo * 2 : 8;
			p->undo = zrealloc(p->undo, p->cap_undo * sizeof(*p->undo));
		}
		struct pundo *u = &p->undo[p->n_undo++];
		u->saved = old ? change_new(t, old->path, old->len, old->zxid, &old->v) : NULL;
		u->len = (uint32_t)len;
		u->path = zstrndup(path, len);
	}
	struct pchange *c = change_new(t, path, len, zxid, v);
	fifo_push(p, zxid, path, len);
	if (old) {
		strmap_del(&p->changes, path, len);
		change_free(t, old);
	}
	strmap_put(&p->changes, c->path, c->len, c);
}

/* Txns are applied in zxid order, and every entry was recorded in the
 * fifo when it was set, so the entries txn `zxid` may retire are those of
 * the fifo records up to it. An entry that a later txn overwrote carries
 * that later zxid and stays; one a multi rolled back is gone already. */
void pending_applied(struct pending *p, struct tree *t, int64_t zxid)
{
	while (p->fifo_count && p->fifo[p->fifo_head].zxid <= zxid) {
		struct pwrite *w = &p->fifo[p->fifo_head];
		struct pchange *c = strmap_get(&p->changes, w->path, w->len);
		if (c && c->zxid <= zxid) {
			strmap_del(&p->changes, c->path, c->len);
			change_free(t, c);
		}
		zfree(w->path);
		p->fifo_head = (p->fifo_head + 1) % p->fifo_cap;
		p->fifo_count--;
	}
}

const struct pchange *pending_next(const struct pending *p, size_t *pos)
{
	struct strmap_slot *s = strmap_next(&p->changes, pos);
	return s ? s->value : NULL;
}

void pending_begin_undo(struct pending *p)
{
	p->recording = true;
	p->n_undo = 0;
}

static void undo_clear(struct pending *p, struct tree *t)
{
	for (size_t i = 0; i < p->n_undo; i++) {
		change_free(t, p->undo[i].saved);
		zfree(p->undo[i].path);
	}
	p->n_undo = 0;
}

void pending_commit_undo(struct pending *p, struct tree *t)
{
	undo_clear(p, t);
	p->recording = false;
}

void pending_rollback(struct pending *p, struct tree *t)
{
	p->recording = false;
	for (size_t i = p->n_undo; i-- > 0;) {
		struct pundo *u = &p->undo[i];
		struct pchange *cur = strmap_get(&p->changes, u->path, u->len);
		if (cur) {
			strmap_del(&p->changes, u->path, u->len);
			change_free(t, cur);
		}
		if (u->saved) {
			strmap_put(&p->changes, u->saved->path, u->saved->len, u->saved);
			u->saved = NULL;
		}
	}
	undo_clear(p, t);
}
