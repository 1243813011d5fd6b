/* zabbench: the shared parts of the load generator — the run configuration,
 * the phases the main thread steps the workers through, latency histograms
 * and per-worker counters. Two engines drive the load: bench_native.c speaks
 * the client protocol itself with our jute codec over epoll (one thread per
 * core, many sessions per thread, a window of outstanding requests per
 * session); bench_zk.c drives the official C client (libzookeeper_mt async
 * API) so a reader can check the figures do not depend on our own client.
 *
 * Counting rule: an operation counts (in ops or in errors, never neither)
 * when its reply arrives while the phase is MEASURE. Every non-zero result
 * code is an error and is reported by name; nothing is retried or hidden. */
#ifndef ZABD_BENCH_BENCH_H
#define ZABD_BENCH_BENCH_H
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum zb_op {
	ZB_NONE,      /* populate only */
	ZB_CREATE,    /* persistent create of fresh paths */
	ZB_SET,       /* setData on random populated keys */
	ZB_GET,       /* getData on random populated keys */
	ZB_EXISTS,    /* exists on random populated keys */
	ZB_CHILDREN,  /* getChildren of the root (as wide as --populate) */
	ZB_MIXED,     /* get with probability --read-share, else set */
	ZB_CHURN,     /* connect, create ephemeral, closeSession: one op */
	ZB_WATCH,     /* getData+watch then setData: op ends when the event fires */
};

enum zb_phase {
	ZB_PH_CONNECT,
	ZB_PH_POPULATE,
	ZB_PH_WARMUP,
	ZB_PH_MEASURE,
	ZB_PH_DRAIN,  /* stop issuing, collect what is in flight, close sessions */
	ZB_PH_EXIT,
};

/* Servers the sessions go to: session i starts on servers[i % nservers]
 * (--servers h:p,h:p,... or the single --host/--port). */
#define ZB_MAX_SERVERS 16
struct zb_server {
	const char *host;
	int port;
};

struct zb_config {
	const char *host;     /* servers[0], for the setup session */
	int port;
	struct zb_server servers[ZB_MAX_SERVERS];
	int nservers;
	int threads;
	int sessions;         /* total, spread over the threads */
	int window;           /* outstanding requests per session */
	enum zb_op op;
	double read_share;
	int value_size;
	long keys;            /* keys the random ops pick from */
	long populate;        /* create root/k%08ld for 0 <= i < populate first */
	const char *root;
	double duration;      /* seconds measured */
	double warmup;        /* seconds before measuring */
	long max_ops;         /* if > 0: issue exactly this many ops, then stop */
	double rate;          /* if > 0: open loop at this many ops/s in total */
	pid_t server_pid;
	bool zk_client;       /* drive libzookeeper_mt instead of our codec */
	int session_timeout_ms;
	int reconnect_ms;     /* if > 0: a session lost while loading opens a new
			       * one on the next server after this many ms */
	bool quiet;
};

/* Log-linear latency histogram in nanoseconds: exact below 128 ns, then 64
 * sub-buckets per power of two (relative error < 1.6%). */
#define ZB_HIST_SUB 64
#define ZB_HIST_BUCKETS (128 + 40 * ZB_HIST_SUB)
struct zb_hist {
	uint64_t counts[ZB_HIST_BUCKETS];
	uint64_t n;
	uint64_t max_ns;
};
void zb_hist_add(struct zb_hist *h, uint64_t ns);
void zb_hist_merge(struct zb_hist *into, const struct zb_hist *from);
uint64_t zb_hist_quantile(const struct zb_hist *h, double q); /* ns */

/* Result codes counted by name; ZooKeeper codes are small negatives, and
 * the bench's own failures (connect, decode, lost replies) get codes below. */
#define ZB_ERR_SLOTS 160
enum {
	ZB_E_CONNECT = -150,  /* TCP connect or handshake failed */
	ZB_E_EXPIRED = -151,  /* handshake answered with timeout 0 */
	ZB_E_DECODE = -152,   /* reply did not decode as the expected record */
	ZB_E_XID = -153,      /* reply xid out of order */
	ZB_E_CLOSED = -154,   /* connection closed with requests in flight */
	ZB_E_NOEVENT = -155,  /* watch op whose event never arrived */
};
struct zb_stats {
	uint64_t ops;         /* successful, counted in MEASURE */
	uint64_t errors;      /* failed, counted in MEASURE */
	uint64_t errs_by_code[ZB_ERR_SLOTS]; /* index -code */
	uint64_t populated;   /* creates done by populate (incl. NodeExists) */
	uint64_t pop_errors;
	uint64_t outside;     /* replies outside MEASURE (warmup, drain) */
	uint64_t reconnects;  /* sessions reopened after a loss (--reconnect) */
	uint64_t first_ok_after_ns; /* --reconnect: the first OK reply after the first
				     * loss, as zb_now_ns(); 0 if none */
	uint64_t first_loss_ns;     /* the first lost connection while loading */
	struct zb_hist hist;
};
void zb_stats_error(struct zb_stats *s, int code);
void zb_stats_merge(struct zb_stats *into, const struct zb_stats *from);
const char *zb_err_name(int code);

/* State the main thread and the workers share. */
struct zb_shared {
	const struct zb_config *cfg;
	_Atomic int phase;
	atomic_long pop_next;     /* next key index to populate */
	atomic_long budget;       /* ops left to issue when max_ops > 0 */
	atomic_int connected;     /* sessions that finished the handshake */
	atomic_int failed;        /* sessions that could not connect */
	atomic_int populated_thr; /* workers done with populate */
	atomic_int idle_thr;      /* workers idle with max_ops spent */
	atomic_int drained_thr;   /* workers done draining */
	_Atomic int stop;         /* SIGTERM/SIGINT: end the measured window now */
};

uint64_t zb_now_ns(void);
/* Take one op from the shared budget; false when max_ops is spent. */
bool zb_take_budget(struct zb_shared *sh);
static inline uint64_t zb_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}
/* Pick the op a MIXED session sends next. */
enum zb_op zb_pick_op(const struct zb_config *cfg, uint64_t *rng);
int zb_key_path(char *out, size_t n, const char *root, long key);

/* Engines: run the phases until EXIT; stats are filled per worker. */
int zb_native_start(struct zb_shared *sh);
void zb_native_finish(struct zb_stats *total); /* after phase EXIT */
int zb_zk_start(struct zb_shared *sh);
void zb_zk_finish(struct zb_stats *total);

/* Blocking one-session helper used for setup: create each component of
 * `path` (NodeExists is fine). Returns 0 or -1 with a message on stderr. */
int zb_ensure_path(const char *host, int port, const char *path);

#endif
