/* zabbench common parts: histogram, counters, clocks, the frame encoders
 * both the native engine and the setup helper use, and the blocking setup
 * session that creates the root path. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench_wire.h"
#include "jute/proto.h"

uint64_t zb_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int hist_index(uint64_t v)
{
	if (v < 128)
		return (int)v;
	int e = 63 - __builtin_clzll(v); /* >= 7 */
	uint64_t mant = v >> (e - 6);    /* 64..127 */
	int idx = 128 + (e - 7) * ZB_HIST_SUB + (int)(mant - 64);
	return idx < ZB_HIST_BUCKETS ? idx : ZB_HIST_BUCKETS - 1;
}

static uint64_t hist_value(int idx)
{
	if (idx < 128)
		return (uint64_t)idx;
	int e = (idx - 128) / ZB_HIST_SUB + 7;
	uint64_t mant = (uint64_t)((idx - 128) % ZB_HIST_SUB) + 64;
	uint64_t lo = mant << (e - 6), width = 1ull << (e - 6);
	return lo + width / 2; /* middle of the bucket */
}

void zb_hist_add(struct zb_hist *h, uint64_t ns)
{
	h->counts[hist_index(ns)]++;
	h->n++;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

void zb_hist_merge(struct zb_hist *into, const struct zb_hist *from)
{
	for (int i = 0; i < ZB_HIST_BUCKETS; i++)
		into->counts[i] += from->counts[i];
	into->n += from->n;
	if (from->max_ns > into->max_ns)
		into->max_ns = from->max_ns;
}

uint64_t zb_hist_quantile(const struct zb_hist *h, double q)
{
	if (h->n == 0)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)h->n);
	if (rank >= h->n)
		rank = h->n - 1;
	uint64_t seen = 0;
	for (int i = 0; i < ZB_HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen > rank) {
			uint64_t v = hist_value(i);
			return v > h->max_ns ? h->max_ns : v;
		}
	}
	return h->max_ns;
}

void zb_stats_error(struct zb_stats *s, int code)
{
	s->errors++;
	int slot = -code;
	if (slot <= 0 || slot >= ZB_ERR_SLOTS)
		slot = 0; /* unexpected positive or huge code: slot 0 = "other" */
	s->errs_by_code[slot]++;
}

void zb_stats_merge(struct zb_stats *into, const struct zb_stats *from)
{
	into->ops += from->ops;
	into->errors += from->errors;
	for (int i = 0; i < ZB_ERR_SLOTS; i++)
		into->errs_by_code[i] += from->errs_by_code[i];
	into->populated += from->populated;
	into->pop_errors += from->pop_errors;
	into->outside += from->outside;
	into->reconnects += from->reconnects;
	if (from->first_loss_ns && (!into->first_loss_ns || from->first_loss_ns < into->first_loss_ns))
		into->first_loss_ns = from->first_loss_ns;
	if (from->first_ok_after_ns &&
	    (!into->first_ok_after_ns || from->first_ok_after_ns < into->first_ok_after_ns))
		into->first_ok_after_ns = from->first_ok_after_ns;
	zb_hist_merge(&into->hist, &from->hist);
}

const char *zb_err_name(int code)
{
	switch (code) {
	case ZB_E_CONNECT: return "connect";
	case ZB_E_EXPIRED: return "expired";
	case ZB_E_DECODE: return "decode";
	case ZB_E_XID: return "xid";
	case ZB_E_CLOSED: return "closed";
	case ZB_E_NOEVENT: return "noevent";
	case 0: return "other";
	default: return zk_err_name(code);
	}
}

bool zb_take_budget(struct zb_shared *sh)
{
	if (sh->cfg->max_ops <= 0)
		return true;
	return atomic_fetch_sub(&sh->budget, 1) > 0;
}

enum zb_op zb_pick_op(const struct zb_config *cfg, uint64_t *rng)
{
	if (cfg->op != ZB_MIXED)
		return cfg->op;
	double u = (double)(zb_rand(rng) >> 11) * (1.0 / 9007199254740992.0);
	return u < cfg->read_share ? ZB_GET : ZB_SET;
}

int zb_key_path(char *out, size_t n, const char *root, long key)
{
	return snprintf(out, n, "%s/k%08ld", root, key);
}

/* --- frames ---------------------------------------------------------- */

size_t zbw_begin(struct buf *b, int32_t xid, int32_t type)
{
	size_t off = b->len;
	buf_put_be32(b, 0);
	jr_request_header_encode(b, &(struct jr_request_header){.xid = xid, .type = type});
	return off;
}

void zbw_end(struct buf *b, size_t off)
{
	buf_set_be32(b, off, (uint32_t)(b->len - off - 4));
}

void zbw_connect(struct buf *b, int timeout_ms, int64_t session_id)
{
	static const uint8_t zero[16];
	size_t off = b->len;
	buf_put_be32(b, 0);
	struct jr_connect_request req = {
		.protocol_version = 0,
		.last_zxid_seen = 0,
		.time_out = timeout_ms,
		.session_id = session_id,
		.passwd = {zero, 16},
	};
	jr_connect_request_encode(b, &req);
	jute_put_bool(b, false); /* readOnly, outside the record */
	zbw_end(b, off);
}

void zbw_create(struct buf *b, int32_t xid, const char *path, struct jute_bytes data, int flags)
{
	struct jr_acl open_acl = {
		.perms = ZPERM_ALL,
		.id = {.scheme = JUTE_STR("world"), .id = JUTE_STR("anyone")},
	};
	size_t off = zbw_begin(b, xid, ZOP_CREATE);
	struct jr_create_request req = {
		.path = JUTE_STR(path),
		.data = data,
		.acl = {1, &open_acl},
		.flags = flags,
	};
	jr_create_request_encode(b, &req);
	zbw_end(b, off);
}

void zbw_path_op(struct buf *b, int32_t xid, int32_t type, const char *path, bool watch)
{
	size_t off = zbw_begin(b, xid, type);
	/* getData, exists and getChildren share the {path, watch} layout */
	struct jr_get_data_request req = {.path = JUTE_STR(path), .watch = watch};
	jr_get_data_request_encode(b, &req);
	zbw_end(b, off);
}

void zbw_set(struct buf *b, int32_t xid, const char *path, struct jute_bytes data)
{
	size_t off = zbw_begin(b, xid, ZOP_SET_DATA);
	struct jr_set_data_request req = {.path = JUTE_STR(path), .data = data, .version = -1};
	jr_set_data_request_encode(b, &req);
	zbw_end(b, off);
}

void zbw_bare(struct buf *b, int32_t xid, int32_t type)
{
	zbw_end(b, zbw_begin(b, xid, type));
}

/* --- blocking setup session ------------------------------------------ */

int zb_connect_tcp(const char *host, int port, bool blocking)
{
	char portstr[16];
	snprintf(portstr, sizeof portstr, "%d", port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
	if (getaddrinfo(host, portstr, &hints, &ai) != 0)
		return -1;
	int fd = socket(ai->ai_family, SOCK_STREAM | (blocking ? 0 : SOCK_NONBLOCK), 0);
	if (fd >= 0) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	return fd;
}

static int write_all(int fd, const struct buf *b)
{
	for (size_t off = 0; off < b->len;) {
		ssize_t n = write(fd, b->data + off, b->len - off);
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* Read one frame into `frame` (reused); returns its length or -1. */
static ssize_t read_frame(int fd, struct buf *frame)
{
	uint8_t hdr[4];
	for (size_t got = 0; got < 4;) {
		ssize_t n = read(fd, hdr + got, 4 - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	uint32_t len = be32_get(hdr);
	if (len > (64u << 20))
		return -1;
	frame->len = 0;
	buf_reserve(frame, len);
	for (size_t got = 0; got < len;) {
		ssize_t n = read(fd, frame->data + got, len - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	frame->len = len;
	return (ssize_t)len;
}

static int setup_create_components(int fd, const char *path, struct buf *out, struct buf *in)
{
	char prefix[1024];
	size_t plen = strlen(path);
	if (plen >= sizeof prefix)
		return -1;
	for (size_t i = 1; i <= plen; i++) {
		if (i != plen && path[i] != '/')
			continue;
		memcpy(prefix, path, i);
		prefix[i] = 0;
		out->len = 0;
		zbw_create(out, (int32_t)i, prefix, JUTE_NULL, ZCF_PERSISTENT);
		if (write_all(fd, out) != 0 || read_frame(fd, in) < 16)
			return -1;
		int32_t err = (int32_t)be32_get(in->data + 12);
		if (err != ZOK && err != ZNODEEXISTS) {
			fprintf(stderr, "zabbench: create %s: %s\n", prefix, zk_err_name(err));
			return -1;
		}
	}
	return 0;
}

int zb_ensure_path(const char *host, int port, const char *path)
{
	int fd = zb_connect_tcp(host, port, true);
	if (fd < 0) {
		fprintf(stderr, "zabbench: cannot connect to %s:%d: %s\n", host, port, strerror(errno));
		return -1;
	}
	struct buf out, in;
	buf_init(&out);
	buf_init(&in);
	zbw_connect(&out, 10000, 0);
	int rc = -1;
	if (write_all(fd, &out) == 0 && read_frame(fd, &in) >= 20 && be32_get(in.data + 4) > 0) {
		rc = path[0] && strcmp(path, "/") ? setup_create_components(fd, path, &out, &in) : 0;
		out.len = 0;
		zbw_bare(&out, 1 << 20, ZOP_CLOSE_SESSION);
		if (write_all(fd, &out) == 0)
			(void)read_frame(fd, &in);
	} else {
		fprintf(stderr, "zabbench: handshake with %s:%d failed\n", host, port);
	}
	buf_free(&out);
	buf_free(&in);
	close(fd);
	return rc;
}
