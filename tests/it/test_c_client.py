"""The official ZooKeeper C client (libzookeeper_mt) against the server:
tests/it/c/c_client_test.c does the operations and checks; this starts
the server and runs it.  The binary comes from the CMake build
(ZABD_BUILD, default <repo>/build)."""
import os
import subprocess

import pytest

from servers import ROOT

BUILD = os.environ.get("ZABD_BUILD", os.path.join(ROOT, "build"))
BIN = os.path.join(BUILD, "tests", "it", "c", "c_client_test")


@pytest.fixture
def c_client():
    if not os.path.exists(BIN):
        pytest.skip(f"{BIN} not built (needs libzookeeper-mt-dev; run make build)")
    return BIN


def test_c_client(server, c_client):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")   # the C library's own allocations are not ours
    p = subprocess.run([c_client, server.hosts], capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, f"c_client_test failed ({p.returncode}):\n{p.stderr[-6000:]}\n{p.stdout[-2000:]}"
    assert "all checks passed" in p.stdout
