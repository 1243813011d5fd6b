"""Differential test (issue 3): a seeded random sequence of operations runs
in lockstep against the Java ZooKeeper 3.8 oracle and zabd; every reply and
every notification must agree after normalisation (see diffengine.py).

Environment:
  ZABD_DIFF_SEEDS  seeds to run: "1,2,3" (default), or a range "1-50"
  ZABD_DIFF_OPS    operations per seed (default 2000)
  ZABD_DIFF_B      server compared with Java: "zabd" (default) or "java";
                   ZABD_IT_TARGET=java also selects java (the test must pass
                   on the oracle itself)
  ZABD_DIFF_FOLLOWERS=1  also run seed 1 with each client on a follower of
                   a 3-node Java and a 3-node zabd ensemble
A failure prints the seed, the op index, the op, both replies and a replay
command for tests/it/differential/run.py.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diffengine import Difference, Runner, Side  # noqa: E402
from diffwire import expected_passwd  # noqa: E402


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-", 1)
            seeds += range(int(lo), int(hi) + 1)
        elif part:
            seeds.append(int(part))
    return seeds


SEEDS = parse_seeds(os.environ.get("ZABD_DIFF_SEEDS", "1,2,3"))
OPS = int(os.environ.get("ZABD_DIFF_OPS", "2000"))
B = os.environ.get("ZABD_DIFF_B") or ("java" if os.environ.get("ZABD_IT_TARGET") == "java"
                                      else "zabd")


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_differential(seed):
    try:
        stats = Runner(seed, OPS, ("java", B)).run()
    except Difference as d:
        pytest.fail(str(d), pytrace=False)
    assert stats["ops"] == OPS
    # the generator must actually provoke the interesting outcomes
    for code in (-101, -103, -110, -111, -108, -102, -114):
        assert stats["errors"].get(code, 0) > 0, f"seed {seed} never produced error {code}"
    assert stats["events"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1])
def test_differential_through_followers(seed):
    """The same, each client on a follower of a 3-node ensemble (Java's and
    zabd's): the forwarding path (REQUEST with the client's ids, the
    leader's checks, the commit answering the follower's client) must give
    Java's replies and events. The null-path multi is left out: a Java
    leader never answers it (the client hangs), zabd's answers
    MarshallingError. Opt-in (ZABD_DIFF_FOLLOWERS=1): now and then a Java
    follower leaves a read unanswered for over 10 s (2 of 6 runs of seed 1,
    and seed 4; each time the last read of a pipelined burst; never on
    zabd's side), which would make make test flaky. Seeds 1, 2, 3 and 5
    agree over 2000 ops."""
    if B == "java":
        pytest.skip("the oracle against itself runs in standalone")
    if not os.environ.get("ZABD_DIFF_FOLLOWERS"):
        pytest.skip("set ZABD_DIFF_FOLLOWERS=1 (Java followers stall a read now and then)")
    try:
        stats = Runner(seed, OPS, ("java-follower", "zabd-follower"), skip=["null-path"]).run()
    except Difference as d:
        pytest.fail(str(d), pytrace=False)
    assert stats["ops"] == OPS
    assert stats["errors"].get(-102, 0) > 0 and stats["events"] > 0  # NoAuth: ids were carried


@pytest.mark.slow
def test_checker_detects_divergence():
    """Two Java servers, one of which gets a single extra create before op
    30: the comparison must notice (zxids and tree differ from there on)."""
    with pytest.raises(Difference) as exc:
        Runner(1, 60, ("java", "java"), inject_at=30).run()
    assert "op #30 " in str(exc.value)
    assert "replay:" in str(exc.value)


def test_password_matches_protocol_doc():
    # [live] values from zookeeper-protocol.md §2.2.4
    assert expected_passwd(0x0100008c04f60000).hex() == "08a885fff5ecd48426ce696bc632ed5f"
    assert expected_passwd(0x0100008d4a900000).hex() == "428dede5a7a27b94f016bbb8c8ac2699"


def test_time_normalisation_flags_inconsistency():
    side = Side("x", None)
    side.windows[5] = (1000.0, 1003.0)
    assert side.norm_time(5, 1001, "ctime") == "T(0x5)"
    assert side.problems == []
    side.norm_time(5, 1002, "mtime")  # same zxid, different time
    side.norm_time(6, 5, "ctime")
    side.windows[7] = (1000.0, 1003.0)
    side.norm_time(7, 2000, "mtime")  # outside the request's window
    assert len(side.problems) == 2, side.problems
    assert side.norm_time(0, 0, "ctime") == 0
