/* path: ZooKeeper's znode path rules (zookeeper-protocol.md §3.1) and the
 * small string operations on paths the tree and the request stage need.
 * Paths are byte strings (UTF-8 on the wire); validation decodes them the
 * way Java does, so malformed UTF-8 and supplementary characters are
 * rejected just as ZooKeeper rejects them. Nothing here allocates. */
#ifndef ZABD_TREE_PATH_H
#define ZABD_TREE_PATH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Full validation (PathUtils.validatePath). */
bool path_is_valid(const char *p, size_t n);
/* Length of the parent path of a valid non-root path ("/a" -> 1 for "/"). */
size_t path_parent_len(const char *p, size_t n);
/* The last component (after the final '/'). */
const char *path_basename(const char *p, size_t n, size_t *len);
/* Formats a sequential suffix as Java's String.format("%010d", v): 10
 * characters, zero-padded, sign included. Returns the number of bytes
 * written (10 or 11); `out` needs 12 bytes. */
size_t path_seq_suffix(int32_t v, char *out);
/* True if `p` equals `prefix` or lies below it. */
bool path_is_under(const char *p, size_t n, const char *prefix, size_t plen);
/* True for "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config". */
bool path_is_special(const char *p, size_t n);
/* True if the bytes contain a NUL. */
bool path_has_nul(const char *p, size_t n);

#endif
