/* fsync_probe: the disk's raw durable-append rate, the ceiling for any
 * server that syncs its log before acknowledging a write. It appends
 * `--bytes` (default 100) to a file in DIR and calls fdatasync (what Java's
 * FileChannel.force(false) does) in a loop for `--seconds`, then prints one
 * line: fsync_probe dir=... bytes=... syncs=N seconds=S syncs_per_s=R
 * p50_us=.. p99_us=.. The file is preallocated first so the loop measures
 * the sync itself, as a log with preallocation would see it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	double seconds = argc > 2 ? atof(argv[2]) : 2.0;
	size_t bytes = argc > 3 ? (size_t)atol(argv[3]) : 100;
	char path[4096];
	snprintf(path, sizeof path, "%s/fsync_probe.%d", dir, (int)getpid());
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	if (posix_fallocate(fd, 0, 64 << 20) == 0)
		fsync(fd);
	char buf[65536];
	memset(buf, 'x', sizeof buf);
	if (bytes > sizeof buf)
		bytes = sizeof buf;
	static double lat[1 << 20];
	size_t n = 0;
	off_t off = 0;
	double t0 = now_s(), end = t0 + seconds;
	while (n < sizeof lat / sizeof lat[0]) {
		double a = now_s();
		if (a >= end)
			break;
		if (pwrite(fd, buf, bytes, off) != (ssize_t)bytes || fdatasync(fd) != 0) {
			perror("write/fdatasync");
			return 1;
		}
		off = (off + (off_t)bytes) % (64 << 20);
		lat[n++] = now_s() - a;
	}
	double secs = now_s() - t0;
	close(fd);
	unlink(path);
	qsort(lat, n, sizeof lat[0], cmp_double);
	printf("fsync_probe dir=%s bytes=%zu syncs=%zu seconds=%.3f syncs_per_s=%.1f p50_us=%.1f p99_us=%.1f\n",
	       dir, bytes, n, secs, (double)n / secs, n ? lat[n / 2] * 1e6 : 0.0,
	       n ? lat[(size_t)((double)n * 0.99)] * 1e6 : 0.0);
	return 0;
}
