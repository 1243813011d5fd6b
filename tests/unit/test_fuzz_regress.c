/* Regression tests for the core bugs the libFuzzer targets found
 * (tests/fuzz/fuzz_apply.c, tests/fuzz/fuzz_node.c). Each test replays the
 * essence of one crashing input and checks the behaviour the fix gives;
 * several only fail without the fix under the ASan/UBSan build
 * (`make asan`), which is where the fuzzers saw them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jute/proto.h"
#include "node/node.h"
#include "request/apply.h"
#include "request/prep.h"
#include "zreq.h"

#define T0 1700000000000LL
#define SID 0x0100018bcfe56800LL

/* ---- apply_txn on txns no prep would write (a corrupt log) ---- */

struct afx {
	struct zconfig cfg;
	struct zstate s;
	struct buf txn, reply;
	struct apply_result res;
};

static int afx_setup(void **state)
{
	struct afx *f = calloc(1, sizeof *f);
	f->cfg = (struct zconfig){.tick_ms = 2000, .min_session_timeout_ms = 4000,
				  .max_session_timeout_ms = 40000, .max_buffer = 1048575,
				  .max_buffer_extra = 1024, .ttl_enabled = true, .digest_auth_enabled = true,
				  .container_check_ms = 60000, .container_max_per_minute = 10000,
				  .server_id = 1};
	zstate_init(&f->s, &f->cfg, T0);
	buf_init(&f->txn);
	buf_init(&f->reply);
	*state = f;
	return 0;
}

static int afx_teardown(void **state)
{
	struct afx *f = *state;
	zstate_free(&f->s);
	buf_free(&f->txn);
	buf_free(&f->reply);
	free(f);
	return 0;
}

static int apply(struct afx *f)
{
	f->reply.len = 0;
	int rc = apply_txn(&f->s, f->txn.data, f->txn.len, T0, &f->reply, &f->res);
	f->txn.len = 0;
	return rc;
}

/* A CreateTxn whose ACL entry has a null scheme and a null id: interning
 * it copied from NULL (UB). The node is created, the null strings kept as
 * empty ones. */
static void test_apply_create_acl_null_strings(void **state)
{
	struct afx *f = *state;
	txn_put_header(&f->txn, SID, 1, 1, T0, ZOP_CREATE);
	jute_put_cstr(&f->txn, "/n");
	jute_put_cstr(&f->txn, "d");
	jute_put_int(&f->txn, 1);
	jute_put_int(&f->txn, ZPERM_ALL);
	jute_put_int(&f->txn, -1);  /* scheme: null */
	jute_put_int(&f->txn, -1);  /* id: null */
	jute_put_bool(&f->txn, false);
	jute_put_int(&f->txn, -1);
	assert_int_equal(apply(f), 0);
	assert_int_equal(f->res.err, 0);
	struct znode *z = tree_get(&f->s.tree, "/n", 2);
	assert_non_null(z);
	const struct acl_list *l = acl_cache_get(&f->s.tree.acls, z->acl_ref);
	assert_non_null(l);
	assert_int_equal(l->count, 1);
	assert_string_equal(l->items[0].scheme, "");
	assert_string_equal(l->items[0].id, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_apply_create_acl_null_strings, afx_setup, afx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
