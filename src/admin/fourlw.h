/* fourlw: the four-letter words on the client port (zookeeper-protocol.md
 * §4.1) — ruok, srvr, stat, cons, conf, dump, envi, mntr, wchs, wchc, wchp,
 * isro, crst, srst, dirs, gtmk, stmk, hash — rendered from the node's state
 * in ZooKeeper 3.8's text formats, behind 4lw.commands.whitelist. */
#ifndef ZABD_ADMIN_FOURLW_H
#define ZABD_ADMIN_FOURLW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "config/zoocfg.h"
#include "node/node.h"

#define ZABD_VERSION "3.8.0-zabd"
#define ZABD_BUILT "built on 2026-12-01 00:00 UTC"

/* True if the 4 bytes are one of the known words. */
bool fourlw_is_word(const char *w);
/* Append the answer to `out` (self = the asking connection, listed too). */
void fourlw_run(struct node *n, const struct zoocfg *cfg, const char word[4], uint64_t self,
		struct buf *out);
/* Connections from one address (for maxClientCnxns). */
size_t fourlw_conns_from(struct node *n, const char *ip);

#endif
