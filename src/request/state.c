#include "request/state.h"

#include "base/zalloc.h"

void zstate_init(struct zstate *s, const struct zconfig *cfg, int64_t now_ms)
{
	s->cfg = cfg;
	tree_init(&s->tree, cfg->ttl_enabled);
	session_table_init(&s->sessions, cfg->tick_ms, cfg->server_id, now_ms);
	watch_init(&s->watches);
	pending_init(&s->pending);
	s->last_applied_zxid = 0;
	s->last_prepared_zxid = 0;
	s->notify = NULL;
	s->notify_arg = NULL;
	s->hits = (struct watch_hits){0};
	s->hits2 = (struct watch_hits){0};
	arena_init(&s->scratch);
}

void zstate_free(struct zstate *s)
{
	pending_free(&s->pending, &s->tree);
	watch_free(&s->watches);
	session_table_free(&s->sessions);
	tree_free(&s->tree);
	watch_hits_free(&s->hits);
	watch_hits_free(&s->hits2);
	arena_free(&s->scratch);
}
