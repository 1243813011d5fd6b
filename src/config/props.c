/* props: Java Properties reader (see props.h). The structure follows the
 * two stages of Properties.load: first gather a logical line (joining
 * continuations), then split it into key and value and undo the escapes. */
#include "config/props.h"

#include <string.h>

#include "base/buf.h"
#include "base/zalloc.h"

void props_init(struct props *p)
{
	memset(p, 0, sizeof *p);
}

void props_free(struct props *p)
{
	for (size_t i = 0; i < p->n; i++) {
		zfree(p->v[i].key);
		zfree(p->v[i].value);
	}
	zfree(p->v);
	memset(p, 0, sizeof *p);
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\f';
}

static int is_eol(char c)
{
	return c == '\n' || c == '\r';
}

struct cursor {
	const char *s;
	size_t len;
	size_t pos;
	int line;
};

/* Step over one line terminator (\n, \r or \r\n) if there is one. */
static void eat_eol(struct cursor *c)
{
	if (c->pos >= c->len)
		return;
	if (c->s[c->pos] == '\r' && c->pos + 1 < c->len && c->s[c->pos + 1] == '\n')
		c->pos++;
	c->pos++;
	c->line++;
}

static void skip_blanks(struct cursor *c)
{
	while (c->pos < c->len && is_blank(c->s[c->pos]))
		c->pos++;
}

/* Append the logical line that starts at c->pos to raw, still escaped,
 * without continuation backslashes. */
static void gather_line(struct cursor *c, struct buf *raw)
{
	for (;;) {
		size_t seg = raw->len;
		while (c->pos < c->len && !is_eol(c->s[c->pos]))
			buf_put_u8(raw, (uint8_t)c->s[c->pos++]);
		size_t bs = 0;
		while (raw->len - bs > seg && raw->data[raw->len - 1 - bs] == '\\')
			bs++;
		if (bs % 2 == 0) {
			eat_eol(c);
			return;
		}
		raw->len--;  /* the continuation backslash */
		if (c->pos >= c->len)
			return;
		eat_eol(c);
		skip_blanks(c);
	}
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static void put_utf8(struct buf *out, unsigned cp)
{
	if (cp < 0x80) {
		buf_put_u8(out, (uint8_t)cp);
	} else if (cp < 0x800) {
		buf_put_u8(out, (uint8_t)(0xc0 | (cp >> 6)));
		buf_put_u8(out, (uint8_t)(0x80 | (cp & 0x3f)));
	} else {
		buf_put_u8(out, (uint8_t)(0xe0 | (cp >> 12)));
		buf_put_u8(out, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
		buf_put_u8(out, (uint8_t)(0x80 | (cp & 0x3f)));
	}
}

/* Undo escapes in s[0..n) and trim; returns a new string or NULL on a
 * malformed \u escape. */
static char *unescape_trim(const char *s, size_t n)
{
	struct buf out;
	buf_init(&out);
	size_t i = 0;
	while (i < n) {
		char ch = s[i++];
		if (ch != '\\' || i >= n) {
			buf_put_u8(&out, (uint8_t)ch);
			continue;
		}
		ch = s[i++];
		if (ch == 'u') {
			unsigned cp = 0;
			for (int k = 0; k < 4; k++) {
				int h = i < n ? hexval(s[i]) : -1;
				if (h < 0) {
					buf_free(&out);
					return NULL;
				}
				cp = cp * 16 + (unsigned)h;
				i++;
			}
			put_utf8(&out, cp);
			continue;
		}
		switch (ch) {
		case 't': ch = '\t'; break;
		case 'n': ch = '\n'; break;
		case 'r': ch = '\r'; break;
		case 'f': ch = '\f'; break;
		default: break;
		}
		buf_put_u8(&out, (uint8_t)ch);
	}
	size_t b = 0, e = out.len;
	while (b < e && out.data[b] <= 0x20)
		b++;
	while (e > b && out.data[e - 1] <= 0x20)
		e--;
	char *r = zstrndup(out.len ? (const char *)out.data + b : "", e - b);
	buf_free(&out);
	return r;
}

/* Split a logical line into key and value the way Properties.load0 does:
 * the key ends at the first unescaped `=`, `:` or blank; blanks and at
 * most one `=`/`:` separate it from the value. */
static int split_entry(struct props *p, const char *s, size_t n, int line)
{
	size_t klen = 0, vstart = n;
	int sep = 0, esc = 0;
	for (; klen < n; klen++) {
		char ch = s[klen];
		if (!esc && (ch == '=' || ch == ':')) {
			vstart = klen + 1;
			sep = 1;
			break;
		}
		if (!esc && is_blank(ch)) {
			vstart = klen + 1;
			break;
		}
		esc = ch == '\\' ? !esc : 0;
	}
	for (; vstart < n; vstart++) {
		char ch = s[vstart];
		if (is_blank(ch))
			continue;
		if (!sep && (ch == '=' || ch == ':')) {
			sep = 1;
			continue;
		}
		break;
	}
	char *key = unescape_trim(s, klen);
	char *value = unescape_trim(s + vstart, n - vstart);
	if (!key || !value) {
		zfree(key);
		zfree(value);
		return -1;
	}
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->v = zrealloc(p->v, p->cap * sizeof *p->v);
	}
	p->v[p->n++] = (struct props_entry){.key = key, .value = value, .line = line};
	return 0;
}

int props_parse(struct props *p, const char *text, size_t len, int *err_line, const char **err)
{
	if (memchr(text, '\0', len)) {
		struct cursor c = {.s = text, .len = len, .line = 1};
		const char *z = memchr(text, '\0', len);
		for (const char *q = text; q < z; q++)
			if (*q == '\n' || (*q == '\r' && (q + 1 == z || q[1] != '\n')))
				c.line++;
		*err_line = c.line;
		*err = "NUL byte in the file";
		return -1;
	}
	struct cursor c = {.s = text, .len = len, .line = 1};
	struct buf raw;
	buf_init(&raw);
	int rc = 0;
	while (c.pos < c.len) {
		skip_blanks(&c);
		if (c.pos >= c.len)
			break;
		if (is_eol(c.s[c.pos])) {
			eat_eol(&c);
			continue;
		}
		int line = c.line;
		if (c.s[c.pos] == '#' || c.s[c.pos] == '!') {
			while (c.pos < c.len && !is_eol(c.s[c.pos]))
				c.pos++;
			eat_eol(&c);
			continue;
		}
		raw.len = 0;
		gather_line(&c, &raw);
		if (split_entry(p, (const char *)raw.data, raw.len, line) < 0) {
			*err_line = line;
			*err = "malformed \\uXXXX escape";
			rc = -1;
			break;
		}
	}
	buf_free(&raw);
	return rc;
}
