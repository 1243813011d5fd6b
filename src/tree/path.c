#include "tree/path.h"

#include <stdio.h>
#include <string.h>

/* Decode one UTF-8 sequence as Java's decoder would: returns the code point,
 * or -1 for anything malformed (Java would substitute U+FFFD, which the path
 * rules reject anyway). Code points above U+FFFF become surrogate pairs in
 * Java, and surrogates are invalid in paths, so they are -1 as well. */
static int32_t utf8_next(const unsigned char *s, size_t n, size_t *i)
{
	unsigned char c = s[*i];
	if (c < 0x80) {
		(*i)++;
		return c;
	}
	int need;
	int32_t cp;
	if ((c & 0xe0) == 0xc0) {
		need = 1;
		cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		need = 2;
		cp = c & 0x0f;
	} else {
		return -1;
	}
	for (int k = 1; k <= need; k++) {
		if (*i + (size_t)k >= n || (s[*i + (size_t)k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[*i + (size_t)k] & 0x3f);
	}
	if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800))
		return -1; /* overlong */
	*i += (size_t)need + 1;
	return cp;
}

static bool char_is_invalid(int32_t c)
{
	return c < 0 || c == 0 || (c > 0 && c < 0x20) || (c >= 0x7f && c <= 0x9f) ||
	       (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff);
}

bool path_is_valid(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	if (n == 0 || s[0] != '/')
		return false;
	if (n == 1)
		return true;
	if (s[n - 1] == '/')
		return false;
	size_t comp_start = 1;
	for (size_t i = 1; i < n;) {
		if (s[i] == '/') {
			size_t clen = i - comp_start;
			if (clen == 0)
				return false;
			if ((clen == 1 && s[comp_start] == '.') ||
			    (clen == 2 && s[comp_start] == '.' && s[comp_start + 1] == '.'))
				return false;
			i++;
			comp_start = i;
			continue;
		}
		if (char_is_invalid(utf8_next(s, n, &i)))
			return false;
	}
	size_t clen = n - comp_start;
	if ((clen == 1 && s[comp_start] == '.') ||
	    (clen == 2 && s[comp_start] == '.' && s[comp_start + 1] == '.'))
		return false;
	return true;
}

size_t path_parent_len(const char *p, size_t n)
{
	size_t i = n;
	while (i > 0 && p[i - 1] != '/')
		i--;
	/* i is now just past the last '/'; the parent excludes it unless it is the root */
	return i <= 1 ? 1 : i - 1;
}

const char *path_basename(const char *p, size_t n, size_t *len)
{
	size_t i = n;
	while (i > 0 && p[i - 1] != '/')
		i--;
	*len = n - i;
	return p + i;
}

size_t path_seq_suffix(int32_t v, char *out)
{
	int k = snprintf(out, 12, "%010d", v);
	return (size_t)k;
}

bool path_is_under(const char *p, size_t n, const char *prefix, size_t plen)
{
	if (n < plen || memcmp(p, prefix, plen) != 0)
		return false;
	if (n == plen)
		return true;
	return plen == 1 || p[plen] == '/';
}

static bool eq(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(p, s, n) == 0;
}

bool path_is_special(const char *p, size_t n)
{
	return eq(p, n, "/") || eq(p, n, "/zookeeper") || eq(p, n, "/zookeeper/quota") ||
	       eq(p, n, "/zookeeper/config");
}

bool path_has_nul(const char *p, size_t n)
{
	return memchr(p, 0, n) != NULL;
}
