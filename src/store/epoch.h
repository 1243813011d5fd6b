/* epoch: the acceptedEpoch and currentEpoch files of a quorum member
 * (zookeeper-protocol.md §5.6), in <dataDir>/version-2: the decimal text of
 * a long with no newline. Writes are atomic as Java's AtomicFileWritingIdiom
 * (<name>.tmp, fsync, rename) and, beyond Java, fsync the directory so the
 * rename itself survives a power cut. Reads accept what Java's
 * Long.parseLong(readLine()) accepts: an optional sign and digits, up to the
 * first line break, nothing else. The startup rules that use these values
 * belong to the peer, not here. */
#ifndef ZABD_STORE_EPOCH_H
#define ZABD_STORE_EPOCH_H
#include <stdint.h>

#include "store/store.h"
#include "store/vfs.h"

#define EPOCH_ACCEPTED "acceptedEpoch"
#define EPOCH_CURRENT "currentEpoch"

/* 1 and *out set if the file exists and parses; 0 if it does not exist;
 * STORE_ECORRUPT if it does not parse; STORE_EIO. name may be
 * "currentEpoch.tmp" too (Java's startup fallback reads it). */
int epoch_read(struct vfs *vfs, const char *snap_dir, const char *name, int64_t *out,
	       struct store_error *e);
int epoch_write(struct vfs *vfs, const char *snap_dir, const char *name, int64_t value,
		struct store_error *e);

#endif
