/* props: a reader for the Java Properties text format, as
 * java.util.Properties.load reads a zoo.cfg (zookeeper-protocol.md §7.1):
 * `#` and `!` comment lines, `=`, `:` or whitespace between key and value,
 * backslash escapes (`\t \n \r \f \uXXXX`, any other `\x` is `x`), a line
 * ending in an odd number of backslashes continues on the next line (whose
 * leading blanks are dropped). Keys and values are then trimmed of bytes
 * <= 0x20, as ZooKeeper trims them.
 *
 * Java reads the file as ISO-8859-1; we keep the bytes as they are (so a
 * UTF-8 path stays UTF-8) and encode `\uXXXX` as UTF-8.
 *
 * A props list owns its entries. Entries keep file order, duplicates
 * included; the caller decides that the last one wins, as in Java. */
#ifndef ZABD_CONFIG_PROPS_H
#define ZABD_CONFIG_PROPS_H
#include <stddef.h>

struct props_entry {
	char *key;    /* NUL-terminated, may be empty */
	char *value;  /* NUL-terminated, may be empty */
	int line;     /* 1-based line where the logical line starts */
};

struct props {
	struct props_entry *v;
	size_t n;
	size_t cap;
};

void props_init(struct props *p);
void props_free(struct props *p);
/* Parse `len` bytes. Returns 0, or -1 with *err_line and *err set (a
 * static string) for a malformed \uXXXX escape (Java's one syntax error) or
 * a NUL byte (which a C string cannot carry, so we refuse it rather than
 * cut a value short). Entries parsed before the error stay in p. */
int props_parse(struct props *p, const char *text, size_t len, int *err_line, const char **err);

#endif
