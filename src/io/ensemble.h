/* ensemble: the libuv shell of a server that is a member of a ZooKeeper
 * ensemble (zoo.cfg with server.N lines and a myid file). It owns the
 * replication core (struct peer: FLE + ZAB), its network (io/qnet: the
 * election and quorum ports, byte-compatible with ZooKeeper 3.8) and its
 * store (the data directory through store/zstore, fsynced off the loop),
 * and ties them to the server's node:
 *
 *   core commits a txn        → node_commit (apply, answer the client)
 *   core sends a SNAP / reloads → node_snapshot_stream / node_restore_stream
 *   learner forwards a REQUEST → node_forwarded on the leader
 *   node prepared txns (leader) → peer_submit, same zxid
 *   node forwards (learner)    → peer_forward / peer_sync
 *   peer role                  → node_set_role (LOOKING closes clients)
 *
 * The standalone path (io/durable) is not used in an ensemble. */
#ifndef ZABD_IO_ENSEMBLE_H
#define ZABD_IO_ENSEMBLE_H
#include <uv.h>

#include "base/buf.h"
#include "config/zoocfg.h"
#include "node/node.h"

struct ensemble;

/* Read myid, open the data dir, load, listen on the quorum and election
 * ports and start looking. `flush` is the server's output step, called
 * after every event that may have produced client output. NULL + errmsg. */
struct ensemble *ensemble_open(uv_loop_t *loop, const struct zoocfg *cfg, struct node *node,
			       void (*flush)(void *arg), void *arg, struct buf *errmsg);
/* After the node handled client input: propose / forward what it made. */
void ensemble_step(struct ensemble *e);
/* Close every handle (the loop then runs dry), then ensemble_free. */
void ensemble_close(struct ensemble *e);
void ensemble_free(struct ensemble *e);
int64_t ensemble_my_id(const struct ensemble *e);

#endif
