/* zabctl four-letter words (ruok, srvr, mntr, ...): a plain TCP socket to
 * the first server of -s, the word, and everything the server sends back
 * until it closes the connection. No ZooKeeper session is opened. Connect
 * and each read are bounded by the -t timeout. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl.h"

/* The first "host:port" of "h1:p1,h2:p2/chroot"; "[v6]:port" and a bare
 * host (port 2181) are accepted. */
static int first_server(const char *hosts, char *host, size_t hostcap, char *port, size_t portcap)
{
	size_t n = strcspn(hosts, ",/");
	const char *end = hosts + n, *colon = NULL;
	const char *h = hosts;
	size_t hlen;
	if (*h == '[') {
		const char *close = memchr(h, ']', n);
		if (!close)
			return -1;
		h++;
		hlen = (size_t)(close - h);
		colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memchr(h, ':', n);
		hlen = colon ? (size_t)(colon - h) : n;
	}
	size_t plen = colon ? (size_t)(end - colon - 1) : 4;
	if (hlen == 0 || hlen >= hostcap || plen == 0 || plen >= portcap)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memcpy(port, colon ? colon + 1 : "2181", plen);
	port[plen] = '\0';
	return 0;
}

/* Non-blocking connect bounded by timeout_ms; the socket or -1 (errno set). */
static int connect_bounded(const struct addrinfo *ai, int timeout_ms)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno == EINPROGRESS) {
		struct pollfd p = {fd, POLLOUT, 0};
		int err = 0;
		socklen_t len = sizeof err;
		int n = poll(&p, 1, timeout_ms);
		if (n == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
			return fd;
		errno = n == 0 ? ETIMEDOUT : (err ? err : errno);
	}
	int saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static int open_server(struct ctl *c, const char *word)
{
	char host[256], port[16];
	if (first_server(c->hosts, host, sizeof host, port, sizeof port) != 0)
		return ctl_fail(c, CTL_USAGE, word, "cannot read host:port from '%s'", c->hosts), -1;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	int grc = getaddrinfo(host, port, &hints, &res);
	if (grc != 0)
		return ctl_fail(c, CTL_FAIL, word, "%s: %s", host, gai_strerror(grc)), -1;
	int fd = -1;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = connect_bounded(ai, c->timeout_ms);
	int saved = errno;
	freeaddrinfo(res);
	if (fd < 0)
		ctl_fail(c, CTL_FAIL, word, "cannot connect to %s:%s: %s (ZCONNECTIONLOSS)", host, port,
			 strerror(saved));
	return fd;
}

/* Writes the word, then copies the answer to stdout until EOF. */
static int exchange(struct ctl *c, int fd, const char *word)
{
	size_t len = strlen(word), off = 0;
	char buf[8192], last = '\n';
	while (off < len) {
		struct pollfd p = {fd, POLLOUT, 0};
		if (poll(&p, 1, c->timeout_ms) != 1)
			return ctl_fail(c, CTL_FAIL, word, "send timed out");
		ssize_t n = send(fd, word + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return ctl_fail(c, CTL_FAIL, word, "send: %s", strerror(errno));
		off += n > 0 ? (size_t)n : 0;
	}
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int pr = poll(&p, 1, c->timeout_ms);
		if (pr == 0)
			return ctl_fail(c, CTL_FAIL, word, "no answer within %d ms", c->timeout_ms);
		ssize_t n = pr < 0 ? -1 : recv(fd, buf, sizeof buf, 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET)) {   /* some servers reset after answering */
			if (last != '\n') {   /* "imok" has no newline; a terminal wants one */
				ctl_out_lock(c);
				putchar('\n');
				ctl_out_unlock(c);
			}
			return CTL_OK;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return ctl_fail(c, CTL_FAIL, word, "recv: %s", strerror(errno));
		if (n > 0) {
			ctl_out_lock(c);
			fwrite(buf, 1, (size_t)n, stdout);
			last = buf[n - 1];
			ctl_out_unlock(c);
		}
	}
}

int ctl_fourlw(struct ctl *c, const char *word)
{
	if (strlen(word) != 4)
		return ctl_fail(c, CTL_USAGE, "4lw", "'%s' is not a four-letter word", word);
	int fd = open_server(c, word);
	if (fd < 0)
		return CTL_FAIL;
	int rc = exchange(c, fd, word);
	close(fd);
	return rc;
}

int cmd_4lw(struct ctl *c, int argc, char **argv)
{
	struct ctl_args a;
	int rc = ctl_parse_args(argv[0], argc, argv, "", "", 1, 1, &a);
	return rc ? rc : ctl_fourlw(c, a.pos[0]);
}
