/* store: what the storage modules share: the error report, the file names
 * of ZooKeeper's data directory (log.<hex>, snapshot.<hex>) and the limits.
 *
 * Errors: every storage function returns 0 (or a documented positive value)
 * on success and a negative STORE_E* code on failure, and fills a
 * struct store_error with a sentence for the operator that names the file
 * and, for corruption, the byte offset. The server stops with that sentence
 * on STORE_ECORRUPT; it never guesses past corrupt data. */
#ifndef ZABD_STORE_STORE_H
#define ZABD_STORE_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/vfs.h"

#define STORE_PATH_MAX 640

enum store_err {
	STORE_OK = 0,
	STORE_EIO = -1,       /* the vfs failed (code in store_error.sys_errno) */
	STORE_ECORRUPT = -2,  /* bad magic, checksum, length or record: file + offset */
	STORE_ENOSNAP = -3,   /* no snapshot loads but txn logs exist */
	STORE_EINVAL = -4,    /* an argument or a state the caller got wrong */
	STORE_ECALLBACK = -5, /* a caller callback returned non-zero */
};

struct store_error {
	int code;             /* the STORE_E* value also returned */
	int sys_errno;        /* positive errno for STORE_EIO, else 0 */
	char path[STORE_PATH_MAX]; /* file concerned, "" if none */
	int64_t offset;       /* byte offset in path, -1 if none */
	char msg[768];        /* full sentence, e.g. "log.1: checksum mismatch at offset 112" */
};

/* Fill *e (if not NULL) and return code. fmt describes the problem; path and
 * offset are appended to the sentence by the helper. */
int store_fail(struct store_error *e, int code, int sys_errno, const char *path, int64_t offset,
	       const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void store_error_clear(struct store_error *e);

/* jute.maxbuffer + extrasize: the largest txn body or snapshot string Java
 * accepts by default (zookeeper-protocol.md §6.2.2). */
#define STORE_MAX_RECORD 2097150

#define STORE_LOG_PREFIX "log"
#define STORE_SNAP_PREFIX "snapshot"

/* Parse the zxid out of "<prefix>.<hex>[.anything]" as Java's
 * Util.getZxidFromName does (Long.parseLong(part, 16): optional sign, hex
 * digits of either case, must fit a long). Returns -1 if the name does not
 * have the prefix or the number does not parse. */
int64_t store_zxid_from_name(const char *name, const char *prefix);

/* "<prefix>.<lower-case hex without leading zeros>" into out. */
void store_name(char *out, size_t cap, const char *prefix, int64_t zxid);

/* The files of one kind in a directory, sorted by zxid ascending (ties by
 * name). Names that do not parse are included with zxid -1 when
 * include_bad is set (purge deletes them), else left out. */
struct store_file {
	char name[256];
	int64_t zxid;
};
struct store_files {
	struct store_file *v;
	size_t n;
};
int store_list(struct vfs *vfs, const char *dir, const char *prefix, bool include_bad,
	       struct store_files *out, struct store_error *e);
void store_files_free(struct store_files *f);

/* dir + "/" + name into out (aborts if it does not fit: paths are ours). */
void store_path(char *out, size_t cap, const char *dir, const char *name);

/* Adler-32 as java.util.zip.Adler32 computes it (zlib's adler32). */
uint32_t store_adler32(uint32_t adler, const void *p, size_t n);
#define STORE_ADLER_INIT 1u

#endif
