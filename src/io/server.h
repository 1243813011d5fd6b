/* server: the libuv shell around one node — the client listener, per
 * connection read buffers and framing, four-letter-word detection, writes,
 * the timer that drives session expiry and the reaper, and the persistence
 * step that hands prepared txns to the log and reports them durable.
 * This is the only place (with main.c) that knows about sockets. */
#ifndef ZABD_IO_SERVER_H
#define ZABD_IO_SERVER_H
#include <uv.h>

#include "config/zoocfg.h"
#include "node/node.h"

struct server;

/* Build the node from the config and listen; returns NULL with a message. */
struct server *server_start(uv_loop_t *loop, const struct zoocfg *cfg, struct buf *errmsg);
/* Close the listener and every connection; the loop then runs dry. */
void server_stop(struct server *s);
void server_free(struct server *s);
struct node *server_node(struct server *s);

#endif
