#!/usr/bin/env bash
# tidy: mechanical checks of the architecture (run by `make test`).
#  - the pure core (base jute tree session watch request node election zab
#    peer store) includes no I/O header and calls no clock, socket or file
#    function; the one exception is store/vfs_posix.c, the real file seam;
#  - no source file over 1,500 lines;
#  - no function over 80 lines (a brace-counting approximation).
set -u
cd "$(dirname "$0")/.."
fail=0
core="src/base src/jute src/tree src/session src/watch src/request src/node src/election src/zab src/peer src/store"
for d in $core; do
  [ -d "$d" ] || continue
  for f in "$d"/*.[ch]; do
    [ -e "$f" ] || continue
    case "$f" in */vfs_posix.c) continue;; esac
    if grep -nE '#include *[<"](uv|pthread|sys/socket|netinet/[a-z]+|unistd|fcntl|sys/time|time)\.h[>"]' "$f"; then
      echo "tidy: $f: the pure core must not include I/O or clock headers"; fail=1
    fi
    if grep -nE '(^|[^_a-z])(time|gettimeofday|clock_gettime|socket|fopen|open|read|write|fsync|sleep|usleep)\(' "$f" | grep -vE '^\s*[0-9]+:\s*(/?\*|//)' ; then
      echo "tidy: $f: banned call in the pure core"; fail=1
    fi
  done
done
for f in $(find src tools bench tests ctl -name '*.[ch]' 2>/dev/null); do
  n=$(wc -l <"$f")
  if [ "$n" -gt 1500 ]; then echo "tidy: $f has $n lines (split it by concept)"; fail=1; fi
  awk -v F="$f" '
    /^[a-zA-Z].*\)\s*$/ { cand=FNR; name=$0 }
    /^\{/ { if (cand == FNR-1) { start=FNR; fn=name } }
    /^\}/ { if (start) { len=FNR-start; if (len > 80) { printf "tidy: %s:%d: function of %d lines: %s\n", F, start, len, fn; bad=1 } start=0 } }
    END { exit bad }' "$f" || fail=1
done
[ $fail -eq 0 ] && echo "tidy: ok"
exit $fail
