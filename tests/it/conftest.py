"""pytest fixtures for integration tests.

`server` is the server under test: zabd by default; set ZABD_IT_TARGET=java
to run the same tests against the Java ZooKeeper 3.8 (that is how the tests
themselves are checked: they must pass on the oracle too). `javazk` is always
the Java server, for differential tests.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import make_server  # noqa: E402

TARGET = os.environ.get("ZABD_IT_TARGET", "zabd")

DEFAULT_CFG = {
    "extendedTypesEnabled": "true",
    "znode.container.checkIntervalMs": "500",
}


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long or Java-heavy; skipped in the sanitizer pass")


@pytest.fixture
def server_factory():
    """Start extra servers of the target kind with their own config."""
    started = []

    def start(cfg=None, kind=None, data_dir=None):
        c = dict(DEFAULT_CFG)
        c.update(cfg or {})
        s = make_server(kind or TARGET, c, data_dir)
        started.append(s)
        return s.start()

    yield start
    for s in started:
        s.cleanup()


@pytest.fixture
def server(server_factory):
    return server_factory()


@pytest.fixture
def javazk(server_factory):
    return server_factory(kind="java")
