#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>

static log_sink_fn sink;
static void *sink_arg;
static enum log_level min_level = LOG_INFO;

void log_set_sink(log_sink_fn fn, void *arg)
{
	sink = fn;
	sink_arg = arg;
}

void log_set_level(enum log_level min)
{
	min_level = min;
}

void zlog(enum log_level level, const char *fmt, ...)
{
	if (level < min_level || !sink)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	sink(level, line, sink_arg);
}
