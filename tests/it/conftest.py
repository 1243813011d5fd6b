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
from itutil import TARGET  # noqa: E402,F401
import zkwire  # noqa: E402

DEFAULT_CFG = {
    "extendedTypesEnabled": "true",
    "znode.container.checkIntervalMs": "500",
}


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long or Java-heavy; skipped in the sanitizer pass")
    # kazoo 2.8 on Python 3.11 (isSet etc.): not ours to fix
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:kazoo.*")


@pytest.fixture
def server_factory():
    """Start extra servers of the target kind with their own config."""
    started = []

    def start(cfg=None, kind=None, data_dir=None, run=True):
        # run=False: only build it (config written by the test, e.g. with
        # Server.run_expecting_exit); it is still cleaned up afterwards
        c = dict(DEFAULT_CFG)
        c.update(cfg or {})
        s = make_server(kind or TARGET, c, data_dir)
        started.append(s)
        return s.start() if run else s

    yield start
    for s in started:
        s.cleanup()


@pytest.fixture
def server(server_factory):
    return server_factory()


@pytest.fixture
def javazk(server_factory):
    return server_factory(kind="java")


@pytest.fixture
def kazoo_factory(server):
    """Started kazoo clients (against `server` unless told otherwise),
    stopped and closed at the end of the test."""
    from kazoo.client import KazooClient
    clients = []

    def make(srv=None, timeout=10.0, **kw):
        c = KazooClient(hosts=(srv or server).hosts, timeout=timeout, **kw)
        clients.append(c)
        c.start(timeout=15)
        return c

    yield make
    for c in clients:
        try:
            c.stop()
            c.close()
        except Exception:
            pass


@pytest.fixture
def zk(kazoo_factory):
    return kazoo_factory()


@pytest.fixture
def raw_factory(server):
    """Raw-socket clients (zkwire.RawClient), connected with a new session
    unless connect=False; sockets closed at the end of the test."""
    clients = []

    def make(srv=None, connect=True, **kw):
        c = zkwire.RawClient((srv or server).port)
        clients.append(c)
        if connect:
            c.connect(**kw)
        return c

    yield make
    for c in clients:
        c.close_socket()


@pytest.fixture
def raw(raw_factory):
    return raw_factory()
