/* zabbench built without libzookeeper-mt-dev: --zk-client is unavailable. */
#include <stdio.h>

#include "bench.h"

int zb_zk_start(struct zb_shared *sh)
{
	fprintf(stderr, "zabbench: built without libzookeeper_mt; --zk-client unavailable\n");
	return -1;
}

void zb_zk_finish(struct zb_stats *total)
{
}
