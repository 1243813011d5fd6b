"""Shared bits for the integration tests: which server kind is under test
and markers that depend on it."""
import os

import pytest

TARGET = os.environ.get("ZABD_IT_TARGET", "zabd")
IS_JAVA = TARGET in ("java", "javazk", "zookeeper")

# zabd-specific behaviour (config validation etc.) that the Java server does not have
zabd_only = pytest.mark.skipif(IS_JAVA, reason="zabd-specific behaviour; Java ZooKeeper differs by design")
