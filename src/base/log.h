/* log: leveled log lines to a sink. The core never writes to a file or
 * terminal itself: the shell installs a sink that writes to stderr, the
 * simulator one that records a trace. */
#ifndef ZABD_BASE_LOG_H
#define ZABD_BASE_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

typedef void (*log_sink_fn)(enum log_level level, const char *line, void *arg);

void log_set_sink(log_sink_fn fn, void *arg);
void log_set_level(enum log_level min);
void zlog(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) zlog(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) zlog(LOG_INFO, __VA_ARGS__)
#define log_warn(...) zlog(LOG_WARN, __VA_ARGS__)
#define log_error(...) zlog(LOG_ERROR, __VA_ARGS__)

#endif
