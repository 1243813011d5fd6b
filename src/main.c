/* zabd: `zabd` serves a standalone ZooKeeper-compatible server on
 * 127.0.0.1:2181 with data in ./data; `zabd path/to/zoo.cfg` reads a
 * ZooKeeper-style configuration. SIGTERM/SIGINT stop it cleanly. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <uv.h>

#include "base/log.h"
#include "config/zoocfg.h"
#include "io/server.h"

static struct server *the_server;
static uv_signal_t sigterm_h, sigint_h;

static void log_to_stderr(enum log_level level, const char *line, void *arg)
{
	static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
	(void)arg;
	fprintf(stderr, "zabd %s %s\n", names[level], line);
}

static void on_signal(uv_signal_t *h, int signum)
{
	log_info("signal %d: shutting down", signum);
	(void)h;
	if (the_server && !uv_is_closing((uv_handle_t *)&sigterm_h)) {
		server_stop(the_server);
		uv_close((uv_handle_t *)&sigterm_h, NULL);
		uv_close((uv_handle_t *)&sigint_h, NULL);
	}
}

static int load_config(int argc, char **argv, struct zoocfg *cfg)
{
	struct buf err;
	buf_init(&err);
	int rc = 0;
	if (argc > 1) {
		rc = zoocfg_load(cfg, argv[1], &err);
	} else {
		zoocfg_standalone_default(cfg);
	}
	if (rc != 0)
		fprintf(stderr, "zabd: %.*s\n", (int)err.len, (const char *)err.data);
	for (size_t i = 0; rc == 0 && i < cfg->nwarnings; i++)
		log_warn("%s", cfg->warnings[i]);
	buf_free(&err);
	return rc;
}

int main(int argc, char **argv)
{
	log_set_sink(log_to_stderr, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct zoocfg cfg;
	if (load_config(argc, argv, &cfg) != 0) {
		zoocfg_free(&cfg);
		return 2;
	}
	mkdir(cfg.data_dir, 0755);
	uv_loop_t *loop = uv_default_loop();
	struct buf err;
	buf_init(&err);
	the_server = server_start(loop, &cfg, &err);
	if (!the_server) {
		fprintf(stderr, "zabd: %.*s\n", (int)err.len, (const char *)err.data);
		buf_free(&err);
		zoocfg_free(&cfg);
		return 1;
	}
	log_info("serving on %s:%d (%s, dataDir %s)",
		 cfg.client_port_address ? cfg.client_port_address : "0.0.0.0", cfg.client_port,
		 zoocfg_is_distributed(&cfg) ? "ensemble member" : "standalone", cfg.data_dir);
	uv_signal_init(loop, &sigterm_h);
	uv_signal_init(loop, &sigint_h);
	uv_signal_start(&sigterm_h, on_signal, SIGTERM);
	uv_signal_start(&sigint_h, on_signal, SIGINT);
	uv_run(loop, UV_RUN_DEFAULT);
	server_free(the_server);
	uv_loop_close(loop);
	zoocfg_free(&cfg);
	buf_free(&err);
	return 0;
}
