#!/usr/bin/env bash
# tests/sim/run.sh: the simulator campaign behind `make sim`.
#   SEEDS=N   swarm over seeds 1..N (default 10000)
#   SEED=N    replay one seed with a full trace
#   ZABD_BUILD=<build dir> (default build)
#   FAULTS=BITS  run the faulty build with these test-only faults
#   STATS=1   also print the fault and sync mix (on stderr)
# The swarm ends with exactly one summary line:
#   sim: seeds=N faults=N committed=N elections=N violations=N
set -u
cd "$(dirname "$0")/../.."
build="${ZABD_BUILD:-build}"
bin="$build/tests/sim/zabsim"
args=()
if [ -n "${FAULTS:-}" ]; then
  bin="$build/tests/sim/zabsim_faulty"
  args+=("--faults=$FAULTS")
fi
if [ ! -x "$bin" ]; then
  echo "run.sh: $bin not built (run make build)" >&2
  exit 2
fi
if [ -n "${STATS:-}" ]; then
  args+=("--stats")
fi
if [ -n "${SEED:-}" ]; then
  exec "$bin" seed "$SEED" --trace "${args[@]}"
fi
exec "$bin" swarm 1 "${SEEDS:-10000}" "${args[@]}"
