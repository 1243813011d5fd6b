#!/usr/bin/python3
"""Command line for the differential test.

  /usr/bin/python3 tests/it/differential/run.py --seed N --ops M [--a java --b zabd] [-v]

Starts both servers, runs M seeded operations in lockstep, stops at the
first difference (exit 1, with a report and a replay command) or prints a
summary (exit 0). `--a java --b java` checks the client and the
normalisation themselves: two Java servers must always agree.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diffengine import Difference, Runner  # noqa: E402
from diffwire import ERR_NAMES  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seed", type=int, action="append",
                    help="seed (repeatable; default 1)")
    ap.add_argument("--seeds", type=int, help="run seeds 1..N")
    ap.add_argument("--ops", type=int, default=2000)
    kinds = ("java", "zabd", "java-follower", "zabd-follower")  # *-follower: through a 3-node ensemble
    ap.add_argument("--a", default="java", choices=kinds)
    ap.add_argument("--b", default="zabd", choices=kinds)
    ap.add_argument("--max-diffs", type=int, default=1,
                    help="triage: report up to N differences before stopping")
    ap.add_argument("--skip", default="",
                    help="triage only: comma list of null-path, unreadable-acl to leave out\n"
                         "(a known difference) so a run gets past it")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every op and reply")
    args = ap.parse_args(argv)
    seeds = args.seed or (list(range(1, args.seeds + 1)) if args.seeds else [1])
    failed = 0
    for seed in seeds:
        t = time.time()
        try:
            stats = Runner(seed, args.ops, (args.a, args.b), verbose=args.verbose,
                           max_diffs=args.max_diffs,
                           skip=[x for x in args.skip.split(",") if x]).run()
        except Difference as d:
            print(d, flush=True)
            failed += 1
            continue
        errs = ", ".join(f"{ERR_NAMES.get(k, k)}:{v}" for k, v in
                         sorted(stats["errors"].items(), key=lambda kv: -kv[1]))
        print(f"seed {seed}: {stats['ops']} ops agree ({args.a} vs {args.b}), "
              f"{stats['events']} events, {time.time() - t:.1f}s; errors {errs}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
