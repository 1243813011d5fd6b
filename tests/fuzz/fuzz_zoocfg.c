/* fuzz_zoocfg: random text as a zoo.cfg and as a dynamic config file.
 * Parsing must never crash or leak; an error must come with a message;
 * a config that parses must dump (`conf`, membership) without trouble and
 * keep its invariants (dataDir set, effective session bounds ordered). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "config/zoocfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_loaded(const struct zoocfg *c)
{
	if (!c->data_dir || !c->data_log_dir)
		abort();
	if (zoocfg_min_session_timeout(c) > zoocfg_max_session_timeout(c))
		abort();
	if (!zoocfg_4lw_allowed(c, "srvr"))
		abort();
	struct buf out;
	buf_init(&out);
	struct zoocfg_conf_info info = {.client_port = c->client_port ? c->client_port : -1,
					.secure_client_port = -1,
					.server_id = c->nservers ? c->servers[0].sid : 0,
					.quorum = c->nservers > 0};
	zoocfg_dump(c, &info, &out);
	zoocfg_membership(c, c->config_version, &out);
	for (size_t i = 0; i < c->nentries; i++)
		if (zoocfg_get(c, c->entries[i].key) == NULL)
			abort();
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zoocfg c;
	struct buf err;
	buf_init(&err);
	zoocfg_defaults(&c);
	if (zoocfg_parse_text(&c, "fuzz.cfg", (const char *)data, size, &err) == 0)
		check_loaded(&c);
	else if (err.len == 0)
		abort();
	zoocfg_free(&c);

	err.len = 0;
	zoocfg_defaults(&c);
	if (zoocfg_parse_dynamic(&c, "fuzz.dynamic", (const char *)data, size, &err) != 0 &&
	    err.len == 0)
		abort();
	zoocfg_free(&c);
	buf_free(&err);
	return 0;
}
