"""Special nodes, container and TTL nodes, getEphemerals,
getAllChildrenNumber."""
import time

import pytest

import zkwire as w

A = w.OPEN_ACL


def test_zookeeper_nodes_present(raw):
    assert sorted(raw.get_children("/")) == ["zookeeper"]
    assert sorted(raw.get_children("/zookeeper")) == ["config", "quota"]
    assert raw.get_children("/zookeeper/quota") == []
    data, st = raw.get_data("/zookeeper/config")
    assert data == b"", "standalone: no dynamic config"
    assert st.aversion == -1 and st.czxid == 0
    assert raw.exists("/zookeeper").numChildren == 2


@pytest.mark.parametrize("path", ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"])
def test_special_nodes_undeletable(raw, path):
    rep = raw.call(w.DELETE, w.p_string(path) + w.p_int(-1))
    assert rep.err == w.BAD_ARGUMENTS
    assert raw.exists(path) is not None


def test_special_nodes_undeletable_in_multi(raw):
    rep, res = raw.multi([("delete", "/zookeeper/config", -1)])
    assert res[0][1] == w.BAD_ARGUMENTS
    assert raw.exists("/zookeeper/config") is not None


def test_config_node_is_read_only_for_world(raw):
    rep = raw.call(w.SET_DATA, w.p_string("/zookeeper/config") + w.p_buffer(b"x") + w.p_int(-1))
    assert rep.err == w.NO_AUTH


def test_get_all_children_number(raw):
    assert raw.get_all_children_number("/zookeeper") == 2
    assert raw.get_all_children_number("/") == 3
    raw.create("/a", b"")
    raw.create("/a/b", b"")
    raw.create("/a/b/c", b"")
    raw.create("/a/d", b"")
    assert raw.get_all_children_number("/a") == 3, "all descendants, not direct children"
    assert raw.get_all_children_number("/a/b/c") == 0
    assert raw.get_all_children_number("/") == 7
    assert raw.call(w.GET_ALL_CHILDREN_NUMBER, w.p_string("/none")).err == w.NO_NODE


def test_get_all_children_number_needs_read(raw_factory):
    a = raw_factory()
    a.create("/sec", b"", acl=[(w.PERM_ALL, "digest", w.digest("u", "p"))])
    assert a.call(w.GET_ALL_CHILDREN_NUMBER, w.p_string("/sec")).err == w.NO_AUTH


def test_get_ephemerals(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/a", b"")
    a.create("/ab", b"")
    for p in ("/a/e1", "/a/e2", "/ab/x", "/top"):
        a.create(p, b"", flags=w.EPHEMERAL)
    b.create("/a/other", b"", flags=w.EPHEMERAL)
    assert sorted(a.get_ephemerals("/")) == ["/a/e1", "/a/e2", "/ab/x", "/top"]
    assert sorted(a.get_ephemerals("")) == ["/a/e1", "/a/e2", "/ab/x", "/top"]
    assert sorted(a.get_ephemerals("/a")) == ["/a/e1", "/a/e2", "/ab/x"], "a plain string-prefix match"
    assert sorted(a.get_ephemerals("/a/")) == ["/a/e1", "/a/e2"]
    assert a.get_ephemerals("/nothing") == []
    assert b.get_ephemerals("/") == ["/a/other"]
    c = raw_factory()
    assert c.get_ephemerals("/") == []


def test_get_ephemerals_no_zxid(raw):
    raw.create("/e", b"", flags=w.EPHEMERAL)
    z = raw.last_zxid
    assert raw.call(w.GET_EPHEMERALS, w.p_string("/")).zxid == z


# ---- containers ---------------------------------------------------------------

def test_container_deleted_when_emptied(raw):
    raw.create_container("/c")
    raw.create("/c/child", b"")
    raw.create_container("/never")        # never had a child: stays
    raw.create_container("/busy")
    raw.create("/busy/child", b"")
    raw.delete("/c/child")
    assert w.poll(lambda: raw.exists("/c") is None, timeout=10), "emptied container not removed"
    # the sweeper has run at least once since; the others survive it
    assert raw.exists("/never") is not None
    assert raw.exists("/busy") is not None


def test_container_delete_fires_watches(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create_container("/cw")
    a.create("/cw/k", b"")
    b.exists("/cw", watch=True)
    b.get_children("/", watch=True)
    a.delete("/cw/k")
    got = {(e.type, e.path) for e in (b.wait_event(10), b.wait_event(10))}
    assert got == {(w.NODE_DELETED, "/cw"), (w.NODE_CHILDREN_CHANGED, "/")}


def test_container_of_containers_cascades(raw):
    raw.create_container("/outer")
    raw.create_container("/outer/inner")
    raw.create("/outer/inner/leaf", b"")
    raw.delete("/outer/inner/leaf")
    assert w.poll(lambda: raw.exists("/outer") is None, timeout=15), "parent container should follow"


def test_container_with_ephemeral_child(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create_container("/ce")
    b.create("/ce/eph", b"", flags=w.EPHEMERAL)
    b.close_session()
    assert w.poll(lambda: a.exists("/ce") is None, timeout=10)


def test_container_stat(raw):
    path, st = raw.create_container("/cs", b"data")
    assert path == "/cs" and st.ephemeralOwner == 0 and st.dataLength == 4
    raw.create("/cs/k", b"")
    assert raw.exists("/cs").numChildren == 1


# ---- TTL nodes ------------------------------------------------------------------

def test_ttl_node_expires(raw):
    raw.create_ttl("/short", 300)
    raw.create_ttl("/long", 3600 * 1000)
    seq, _ = raw.create_ttl("/seq-", 300, flags=w.PERSISTENT_SEQUENTIAL_WITH_TTL)
    assert seq == "/seq-0000000002"
    assert w.poll(lambda: raw.exists("/short") is None and raw.exists(seq) is None, timeout=10)
    assert raw.exists("/long") is not None


def test_ttl_node_with_children_stays_until_empty(raw):
    raw.create_ttl("/tp", 300)
    raw.create("/tp/kid", b"")
    raw.create_ttl("/marker", 300)
    assert w.poll(lambda: raw.exists("/marker") is None, timeout=10)
    assert raw.exists("/tp") is not None, "a TTL node with children is kept"
    raw.delete("/tp/kid")
    assert w.poll(lambda: raw.exists("/tp") is None, timeout=10)


def test_ttl_refreshed_by_set_data(raw):
    raw.create_ttl("/fresh", 1500)
    end = time.monotonic() + 2.5
    while time.monotonic() < end:          # keep touching it for longer than its TTL
        raw.set_data("/fresh", b"x")
        time.sleep(0.25)
    assert raw.exists("/fresh") is not None
    assert w.poll(lambda: raw.exists("/fresh") is None, timeout=10)
