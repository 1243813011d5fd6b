#include "base/zassert.h"

#include <stdio.h>
#include <stdlib.h>

void zassert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "zabd: assertion failed: %s (%s:%d)\n", expr, file, line);
	abort();
}
