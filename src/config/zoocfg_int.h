/* zoocfg_int: what the zoocfg source files share and nobody else needs:
 * the parse context (source name, error buffer) and the value parsers. */
#ifndef ZABD_CONFIG_ZOOCFG_INT_H
#define ZABD_CONFIG_ZOOCFG_INT_H
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "config/zoocfg.h"

struct zcx {
	struct zoocfg *c;
	const char *name;
	struct buf *err;
	bool observer_sync_set;
};

/* Append "<name>:<line>: <key>: <message>" to the error buffer; returns -1. */
int zcx_fail(struct zcx *x, int line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void zcx_warn(struct zcx *x, int line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Java Long.parseLong: optional sign, decimal digits, int64 range. */
bool zoocfg_parse_long(const char *s, int64_t *out);

int zoocfg_server_line(struct zcx *x, const char *key, const char *value, int line);
int zoocfg_group_line(struct zcx *x, const char *key, const char *value, int line);
int zoocfg_weight_line(struct zcx *x, const char *key, const char *value, int line);

#endif
