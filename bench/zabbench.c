/* zabbench: a ZooKeeper client-protocol load generator. It steps the
 * workers through the phases (connect, populate, warmup, measure, drain),
 * reads the server's CPU time from /proc/<pid>/stat and its own from
 * getrusage around the measured window, and prints one line of key=value
 * pairs. See bench/README.md for the options and the output keys. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "jute/proto.h"

static const char *const op_names[] = {
	[ZB_NONE] = "none", [ZB_CREATE] = "create", [ZB_SET] = "set",
	[ZB_GET] = "get", [ZB_EXISTS] = "exists", [ZB_CHILDREN] = "children",
	[ZB_MIXED] = "mixed", [ZB_CHURN] = "churn", [ZB_WATCH] = "watch",
};

static void usage(void)
{
	fprintf(stderr,
		"usage: zabbench [options]\n"
		"  --host H --port P         server (default 127.0.0.1:2181)\n"
		"  --servers H:P,H:P,...     several servers: session i starts on the (i mod n)-th\n"
		"  --reconnect MS            a session lost while loading reopens on the next\n"
		"                            server after MS ms (default: never; nothing retried)\n"
		"  --op OP                   none|create|set|get|exists|children|mixed|churn|watch\n"
		"  --threads N               worker threads (default: cores)\n"
		"  --sessions N --window W   sessions in total, requests in flight per session\n"
		"  --read-share F            reads among mixed ops (default 0.9)\n"
		"  --value-size B            bytes per value (default 100)\n"
		"  --keys N                  keys random ops pick from (default: --populate)\n"
		"  --populate N              first create ROOT/k%%08d for i < N\n"
		"  --root PATH               (default /zb)\n"
		"  --duration S --warmup S   measured seconds (default 5), warmup (1)\n"
		"  --max-ops N               issue exactly N ops instead of a timed window\n"
		"  --rate R                  open loop: R ops/s in total (latency from due time)\n"
		"  --server-pid PID          report the server's CPU seconds in the window\n"
		"  --session-timeout MS      (default 30000)\n"
		"  --zk-client               drive libzookeeper_mt instead of our codec\n");
	exit(2);
}

static enum zb_op parse_op(const char *s)
{
	for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
		if (strcmp(s, op_names[i]) == 0)
			return (enum zb_op)i;
	fprintf(stderr, "zabbench: unknown op %s\n", s);
	usage();
	return ZB_NONE;
}

/* "h:p,h:p,...": fills c->servers; exits with usage on a bad list. */
static void parse_servers(char *list, struct zb_config *c)
{
	c->nservers = 0;
	for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strrchr(tok, ':');
		if (!colon || colon == tok || c->nservers == ZB_MAX_SERVERS) {
			fprintf(stderr, "zabbench: --servers wants host:port,... (at most %d)\n", ZB_MAX_SERVERS);
			exit(2);
		}
		*colon = 0;
		c->servers[c->nservers++] = (struct zb_server){tok, atoi(colon + 1)};
	}
}

static void parse_args(int argc, char **argv, struct zb_config *c)
{
	static const struct option opts[] = {
		{"host", 1, 0, 'h'}, {"port", 1, 0, 'p'}, {"op", 1, 0, 'o'},
		{"threads", 1, 0, 't'}, {"sessions", 1, 0, 's'}, {"window", 1, 0, 'w'},
		{"read-share", 1, 0, 'r'}, {"value-size", 1, 0, 'v'}, {"keys", 1, 0, 'k'},
		{"populate", 1, 0, 'P'}, {"root", 1, 0, 'R'}, {"duration", 1, 0, 'd'},
		{"warmup", 1, 0, 'W'}, {"max-ops", 1, 0, 'm'}, {"rate", 1, 0, 'a'},
		{"server-pid", 1, 0, 'S'}, {"session-timeout", 1, 0, 'T'},
		{"servers", 1, 0, 'L'}, {"reconnect", 1, 0, 'c'}, {"zk-client", 0, 0, 'z'}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, '?'}, {0, 0, 0, 0}};
	*c = (struct zb_config){.host = "127.0.0.1", .port = 2181, .sessions = 8, .window = 16,
				.op = ZB_GET, .read_share = 0.9, .value_size = 100, .keys = -1,
				.root = "/zb", .duration = 5, .warmup = 1, .session_timeout_ms = 30000};
	c->threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	int ch;
	bool list = false;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'h': c->host = optarg; break;
		case 'p': c->port = atoi(optarg); break;
		case 'o': c->op = parse_op(optarg); break;
		case 't': c->threads = atoi(optarg); break;
		case 's': c->sessions = atoi(optarg); break;
		case 'w': c->window = atoi(optarg); break;
		case 'r': c->read_share = atof(optarg); break;
		case 'v': c->value_size = atoi(optarg); break;
		case 'k': c->keys = atol(optarg); break;
		case 'P': c->populate = atol(optarg); break;
		case 'R': c->root = optarg; break;
		case 'd': c->duration = atof(optarg); break;
		case 'W': c->warmup = atof(optarg); break;
		case 'm': c->max_ops = atol(optarg); break;
		case 'a': c->rate = atof(optarg); break;
		case 'S': c->server_pid = (pid_t)atoi(optarg); break;
		case 'T': c->session_timeout_ms = atoi(optarg); break;
		case 'L': parse_servers(optarg, c); list = true; break;
		case 'c': c->reconnect_ms = atoi(optarg); break;
		case 'z': c->zk_client = true; break;
		case 'q': c->quiet = true; break;
		default: usage();
		}
	}
	if (!list || c->nservers == 0) {
		c->servers[0] = (struct zb_server){c->host, c->port};
		c->nservers = 1;
	}
	c->host = c->servers[0].host;
	c->port = c->servers[0].port;
	if (optind != argc || c->sessions < 1 || c->window < 1 || c->threads < 1 ||
	    c->value_size < 0 || c->value_size > 1000000)
		usage();
	if (c->keys < 0)
		c->keys = c->populate;
	if (c->threads > c->sessions)
		c->threads = c->sessions;
	bool needs_keys = c->op == ZB_GET || c->op == ZB_SET || c->op == ZB_EXISTS ||
			  c->op == ZB_MIXED || c->op == ZB_WATCH;
	if (needs_keys && c->keys < 1) {
		fprintf(stderr, "zabbench: --op %s needs keys (--populate N or --keys N)\n",
			op_names[c->op]);
		exit(2);
	}
	if (c->zk_client && (c->rate > 0 || c->op == ZB_CHURN || c->op == ZB_WATCH ||
			     c->nservers > 1 || c->reconnect_ms > 0)) {
		fprintf(stderr, "zabbench: --zk-client supports closed-loop create/set/get/exists/"
				"children/mixed on one server only\n");
		exit(2);
	}
}

/* utime + stime of a process in seconds, or -1. */
static double proc_cpu_s(pid_t pid)
{
	char path[64], line[4096];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(line, 1, sizeof line - 1, f);
	fclose(f);
	line[n] = 0;
	char *p = strrchr(line, ')'); /* comm may hold spaces */
	if (!p)
		return -1;
	unsigned long long ut = 0, st = 0;
	/* after ")": state(3) ... utime is field 14, stime 15 */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static struct zb_shared *g_sh;

static void on_stop_signal(int sig)
{
	(void)sig;
	if (g_sh)
		atomic_store(&g_sh->stop, 1);
}

static void sleep_s(double s)
{
	if (s <= 0)
		return;
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	nanosleep(&ts, NULL);
}

/* Wait until *counter reaches want, bounded; false on timeout. */
static bool wait_count(atomic_int *counter, int want, double timeout_s)
{
	uint64_t end = zb_now_ns() + (uint64_t)(timeout_s * 1e9);
	while (atomic_load(counter) < want) {
		if (zb_now_ns() > end)
			return false;
		sleep_s(0.002);
	}
	return true;
}

/* The measured window: `secs`, or until SIGTERM/SIGINT asks to stop. */
static void sleep_measured(struct zb_shared *sh, double secs)
{
	uint64_t end = zb_now_ns() + (uint64_t)(secs * 1e9);
	while (!atomic_load(&sh->stop) && zb_now_ns() < end)
		sleep_s(0.005);
}

struct window_result {
	double secs, server_cpu, client_cpu, populate_secs;
	int connected;
};

static void print_errs(const struct zb_stats *st)
{
	printf(" errs=");
	bool any = false;
	for (int i = 0; i < ZB_ERR_SLOTS; i++) {
		if (!st->errs_by_code[i])
			continue;
		printf("%s%s:%llu", any ? "," : "", zb_err_name(-i), (unsigned long long)st->errs_by_code[i]);
		any = true;
	}
	if (!any)
		printf("-");
}

static void print_line(const struct zb_config *c, const struct zb_stats *st, const struct window_result *w)
{
	double secs = w->secs > 0 ? w->secs : 1e-9;
	double done = (double)(st->ops + st->errors);
	printf("zabbench client=%s op=%s ops=%llu errors=%llu", c->zk_client ? "zk" : "native",
	       op_names[c->op], (unsigned long long)st->ops, (unsigned long long)st->errors);
	print_errs(st);
	printf(" duration_s=%.3f ops_per_s=%.1f", w->secs, (double)st->ops / secs);
	const double q[] = {0.5, 0.9, 0.99, 0.999};
	const char *qn[] = {"p50_us", "p90_us", "p99_us", "p999_us"};
	for (int i = 0; i < 4; i++)
		printf(" %s=%.1f", qn[i], (double)zb_hist_quantile(&st->hist, q[i]) / 1000.0);
	printf(" max_us=%.1f", (double)st->hist.max_ns / 1000.0);
	if (w->server_cpu >= 0)
		printf(" server_cpu_s=%.3f server_cpu_us_per_op=%.3f", w->server_cpu,
		       done > 0 ? w->server_cpu * 1e6 / done : 0.0);
	else
		printf(" server_cpu_s=na server_cpu_us_per_op=na");
	printf(" client_cpu_s=%.3f client_cpu_us_per_op=%.3f", w->client_cpu,
	       done > 0 ? w->client_cpu * 1e6 / done : 0.0);
	printf(" sessions=%d connected=%d window=%d threads=%d value_size=%d keys=%ld read_share=%.3f"
	       " rate=%.0f populated=%llu pop_errors=%llu populate_s=%.3f outside=%llu",
	       c->sessions, w->connected, c->window, c->zk_client ? 0 : c->threads, c->value_size,
	       c->keys, c->read_share, c->rate, (unsigned long long)st->populated,
	       (unsigned long long)st->pop_errors, w->populate_secs, (unsigned long long)st->outside);
	printf(" servers=%d reconnects=%llu", c->nservers, (unsigned long long)st->reconnects);
	if (st->first_loss_ns && st->first_ok_after_ns > st->first_loss_ns)
		printf(" outage_ms=%.1f", (double)(st->first_ok_after_ns - st->first_loss_ns) / 1e6);
	else
		printf(" outage_ms=na");
	printf("\n");
	fflush(stdout);
}

static int run_phases(struct zb_shared *sh, int nworkers, struct window_result *w)
{
	const struct zb_config *c = sh->cfg;
	uint64_t end = zb_now_ns() + 30000000000ull;
	while (atomic_load(&sh->connected) + atomic_load(&sh->failed) < c->sessions && zb_now_ns() < end)
		sleep_s(0.002);
	w->connected = atomic_load(&sh->connected);
	if (w->connected == 0) {
		fprintf(stderr, "zabbench: no session connected to %s:%d\n", c->host, c->port);
		return -1;
	}
	if (c->populate > 0) {
		uint64_t t = zb_now_ns();
		atomic_store(&sh->phase, ZB_PH_POPULATE);
		wait_count(&sh->populated_thr, nworkers, 7200);
		w->populate_secs = (double)(zb_now_ns() - t) / 1e9;
	}
	if (c->max_ops <= 0 && c->warmup > 0) {
		atomic_store(&sh->phase, ZB_PH_WARMUP);
		sleep_s(c->warmup);
	}
	double s0 = c->server_pid ? proc_cpu_s(c->server_pid) : -1, u0 = self_cpu_s();
	uint64_t t0 = zb_now_ns();
	atomic_store(&sh->phase, c->op == ZB_NONE ? ZB_PH_DRAIN : ZB_PH_MEASURE);
	if (c->op != ZB_NONE) {
		if (c->max_ops > 0)
			wait_count(&sh->idle_thr, nworkers, c->duration > 0 ? 600 : 600);
		else
			sleep_measured(sh, c->duration);
	}
	uint64_t t1 = zb_now_ns();
	double s1 = c->server_pid ? proc_cpu_s(c->server_pid) : -1, u1 = self_cpu_s();
	atomic_store(&sh->phase, ZB_PH_DRAIN);
	w->secs = c->op == ZB_NONE ? 0 : (double)(t1 - t0) / 1e9;
	w->server_cpu = s0 >= 0 && s1 >= 0 ? s1 - s0 : -1;
	w->client_cpu = u1 - u0;
	wait_count(&sh->drained_thr, nworkers, 10);
	return 0;
}

int main(int argc, char **argv)
{
	struct zb_config cfg;
	parse_args(argc, argv, &cfg);
	if (zb_ensure_path(cfg.host, cfg.port, cfg.root) != 0)
		return 1;
	static struct zb_shared sh;
	sh.cfg = &cfg;
	g_sh = &sh;
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	atomic_store(&sh.phase, ZB_PH_CONNECT);
	atomic_store(&sh.budget, cfg.max_ops);
	int nworkers = cfg.zk_client ? 1 : cfg.threads;
	if ((cfg.zk_client ? zb_zk_start(&sh) : zb_native_start(&sh)) != 0) {
		fprintf(stderr, "zabbench: cannot start workers\n");
		return 1;
	}
	struct window_result w = {0};
	int rc = run_phases(&sh, nworkers, &w);
	atomic_store(&sh.phase, ZB_PH_DRAIN);
	wait_count(&sh.drained_thr, nworkers, 10);
	atomic_store(&sh.phase, ZB_PH_EXIT);
	static struct zb_stats total;
	if (cfg.zk_client)
		zb_zk_finish(&total);
	else
		zb_native_finish(&total);
	if (rc != 0)
		return 1;
	print_line(&cfg, &total, &w);
	return total.errors || total.pop_errors ? 3 : 0;
}
