"""Basic node operations: create/create2 in every mode, delete, exists,
getData, setData, getChildren(2), sync; their error codes and the Stat
fields each one maintains."""
import time

import pytest
from kazoo.exceptions import (BadVersionError, NoChildrenForEphemeralsError, NodeExistsError,
                              NoNodeError, NotEmptyError)

import zkwire as w


def now_ms():
    return int(time.time() * 1000)


def create_req(path, data=b"", flags=0, acl=w.OPEN_ACL):
    return w.p_string(path) + w.p_buffer(data) + w.p_acls(acl) + w.p_int(flags)


# ---- kazoo: the everyday surface -------------------------------------------

def test_kazoo_create_get_set_delete(zk):
    assert zk.create("/a", b"hello") == "/a"
    data, st = zk.get("/a")
    assert data == b"hello"
    assert st.version == 0 and st.dataLength == 5 and st.numChildren == 0
    st2 = zk.set("/a", b"bye")
    assert st2.version == 1 and st2.dataLength == 3
    assert zk.get("/a")[0] == b"bye"
    zk.delete("/a")
    assert zk.exists("/a") is None
    with pytest.raises(NoNodeError):
        zk.get("/a")


def test_kazoo_errors(zk):
    zk.create("/e", b"")
    with pytest.raises(NodeExistsError):
        zk.create("/e", b"")
    with pytest.raises(NoNodeError):
        zk.create("/missing/child", b"")
    zk.create("/e/c", b"")
    with pytest.raises(NotEmptyError):
        zk.delete("/e")
    with pytest.raises(BadVersionError):
        zk.set("/e/c", b"x", version=5)
    with pytest.raises(BadVersionError):
        zk.delete("/e/c", version=3)
    zk.delete("/e/c", version=0)
    with pytest.raises(NoNodeError):
        zk.delete("/e/c")
    with pytest.raises(NoNodeError):
        zk.set("/e/c", b"")
    zk.create("/eph", b"", ephemeral=True)
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create("/eph/child", b"")


def test_kazoo_create_modes(zk):
    sid = zk.client_id[0]
    zk.create("/m", b"")
    p1 = zk.create("/m/s-", b"", sequence=True)
    p2 = zk.create("/m/e-", b"", sequence=True, ephemeral=True)
    assert p1 == "/m/s-0000000000"
    assert p2 == "/m/e-0000000001"
    assert zk.exists(p1).ephemeralOwner == 0
    assert zk.exists(p2).ephemeralOwner == sid
    path, st = zk.create("/m/e", b"abc", ephemeral=True, include_data=True)
    assert path == "/m/e" and st.ephemeralOwner == sid and st.dataLength == 3
    assert sorted(zk.get_children("/m")) == ["e", "e-0000000001", "s-0000000000"]


def test_kazoo_get_children_with_stat(zk):
    zk.create("/gc", b"")
    for n in ("x", "y", "z"):
        zk.create("/gc/" + n, b"")
    kids, st = zk.get_children("/gc", include_data=True)
    assert sorted(kids) == ["x", "y", "z"]
    assert st.numChildren == 3 and st.cversion == 3
    with pytest.raises(NoNodeError):
        zk.get_children("/nope")


def test_kazoo_sync(zk):
    zk.create("/s", b"")
    assert zk.sync("/s") == "/s"


# ---- raw: every create mode, through create2 -------------------------------

def test_create_every_mode_with_create2(raw):
    sid = raw.session.session_id
    raw.create("/modes", b"")
    cases = [
        (w.CREATE2, w.PERSISTENT, None, "/modes/p", 0),
        (w.CREATE2, w.EPHEMERAL, None, "/modes/e", sid),
        (w.CREATE2, w.PERSISTENT_SEQUENTIAL, None, "/modes/ps", 0),
        (w.CREATE2, w.EPHEMERAL_SEQUENTIAL, None, "/modes/es", sid),
        (w.CREATE_CONTAINER, w.CONTAINER, None, "/modes/c", 0),
        (w.CREATE_TTL, w.PERSISTENT_WITH_TTL, 60000, "/modes/t", 0),
        (w.CREATE_TTL, w.PERSISTENT_SEQUENTIAL_WITH_TTL, 60000, "/modes/ts", 0),
    ]
    for i, (op, flags, ttl, path, owner) in enumerate(cases):
        got, st = raw.create(path, b"d%d" % i, flags=flags, opcode=op, ttl=ttl)
        want = path + ("%010d" % i if flags in (2, 3, 6) else "")
        assert got == want, (flags, got)
        assert st.ephemeralOwner == owner, f"flags {flags}: container/TTL show ephemeralOwner 0"
        assert st.czxid == st.mzxid == st.pzxid and st.version == 0 and st.dataLength == 2
        assert raw.exists(got) == st
    assert raw.get_children2("/modes")[1].numChildren == len(cases)


def test_create_reply_formats(raw):
    # opcode 1 answers the path only, create2 path + Stat
    rep = raw.call(w.CREATE, create_req("/r1", b"x"))
    assert rep.err == 0 and rep.body == w.p_string("/r1")
    rep = raw.call(w.CREATE2, create_req("/r2", b"x"))
    r = w.Reader(rep.body)
    assert r.string() == "/r2"
    st = r.stat()
    assert r.remaining() == 0
    assert st.czxid == rep.zxid


def test_sequence_suffix_counts_all_child_creations(raw):
    raw.create("/q", b"")
    raw.create("/q/plain", b"")          # plain creates count too
    assert raw.create("/q/s", flags=w.PERSISTENT_SEQUENTIAL) == "/q/s0000000001"
    raw.delete("/q/plain")
    raw.delete("/q/s0000000001")         # deletes never make a number reusable
    assert raw.create("/q/s", flags=w.PERSISTENT_SEQUENTIAL) == "/q/s0000000002"
    assert raw.create("/q/", flags=w.PERSISTENT_SEQUENTIAL) == "/q/0000000003"
    assert raw.create("/q/e", flags=w.EPHEMERAL_SEQUENTIAL) == "/q/e0000000004"
    # each parent has its own counter
    raw.create("/q2", b"")
    assert raw.create("/q2/x", flags=w.PERSISTENT_SEQUENTIAL) == "/q2/x0000000000"
    # a failed create does not advance it
    assert raw.call(w.CREATE, create_req("/q2/x0000000000")).err == w.NODE_EXISTS
    assert raw.create("/q2/x", flags=w.PERSISTENT_SEQUENTIAL) == "/q2/x0000000001"


def test_sequential_under_root(raw):
    base = raw.get_children2("/")[1]
    got = raw.create("/rootseq-", flags=w.PERSISTENT_SEQUENTIAL)
    assert got.startswith("/rootseq-") and len(got) == len("/rootseq-") + 10
    assert int(got[-10:]) >= 0
    assert raw.get_children2("/")[1].numChildren == base.numChildren + 1


def test_null_and_empty_data(raw):
    raw.create("/null", None)
    rep = raw.call(w.GET_DATA, w.p_string("/null") + w.p_bool(False))
    r = w.Reader(rep.body)
    assert r.int() == -1, "data created as null comes back as a null buffer"
    assert r.stat().dataLength == 0
    raw.create("/empty", b"")
    assert raw.get_data("/empty") == (b"", raw.exists("/empty"))


def test_create_errors(raw):
    raw.create("/x", b"")
    raw.create("/x/eph", b"", flags=w.EPHEMERAL)
    cases = [
        ("/x", 0, w.NODE_EXISTS),
        ("/none/child", 0, w.NO_NODE),
        ("/x/eph/c", 0, w.NO_CHILDREN_FOR_EPHEMERALS),
        ("/x/bad", 7, w.BAD_ARGUMENTS),        # no such CreateMode
        ("/x/bad", -1, w.BAD_ARGUMENTS),
        ("x", 0, w.BAD_ARGUMENTS),
        ("/x/", 0, w.BAD_ARGUMENTS),
        ("/x/.", 0, w.BAD_ARGUMENTS),
        ("/x/..", 0, w.BAD_ARGUMENTS),
        ("/x/a\0b", 0, w.BAD_ARGUMENTS),
        ("/x/\x01", 0, w.BAD_ARGUMENTS),
        ("/x/\u007f", 0, w.BAD_ARGUMENTS),
        ("/x/\ufff5", 0, w.BAD_ARGUMENTS),
        ("/none/", 0, w.NO_NODE),              # parent looked up before the full path check
    ]
    for path, flags, err in cases:
        rep = raw.call(w.CREATE, create_req(path, flags=flags))
        assert rep.err == err, (path, flags, rep.err)
        assert rep.body == b"", "error replies are the header alone"
    assert raw.get_children("/x") == ["eph"]


def test_create_invalid_utf8_rejected(raw):
    rep = raw.call(w.CREATE, w.p_buffer(b"/\xff") + w.p_buffer(b"") + w.p_acls(w.OPEN_ACL) + w.p_int(0))
    assert rep.err == w.BAD_ARGUMENTS


def test_ttl_argument_checks(raw):
    def ttl_create(path, flags, ttl):
        return raw.call(w.CREATE_TTL, create_req(path, flags=flags) + w.p_long(ttl)).err
    assert ttl_create("/t0", w.PERSISTENT_WITH_TTL, 0) == w.BAD_ARGUMENTS
    assert ttl_create("/t1", w.PERSISTENT_WITH_TTL, -5) == w.BAD_ARGUMENTS
    assert ttl_create("/t2", w.PERSISTENT_WITH_TTL, 1 << 40) == w.BAD_ARGUMENTS
    assert ttl_create("/t3", w.PERSISTENT_WITH_TTL, (1 << 40) - 1) == 0
    assert ttl_create("/t4", w.PERSISTENT, 100) == w.BAD_ARGUMENTS
    assert ttl_create("/t5", w.PERSISTENT_SEQUENTIAL_WITH_TTL, 1) == 0
    assert sorted(raw.get_children("/")) == sorted(["zookeeper", "t3", "t50000000001"])


def test_ttl_needs_extended_types(server_factory, raw_factory):
    srv = server_factory({"extendedTypesEnabled": "false"})
    c = raw_factory(srv)
    rep = c.call(w.CREATE_TTL, create_req("/t", flags=w.PERSISTENT_WITH_TTL) + w.p_long(1000))
    assert rep.err == w.UNIMPLEMENTED
    assert c.exists("/t") is None
    assert c.create("/fine", b"") == "/fine"


def test_delete_errors_and_version(raw):
    raw.create("/d", b"")
    raw.create("/d/c", b"")
    assert raw.call(w.DELETE, w.p_string("/d") + w.p_int(-1)).err == w.NOT_EMPTY
    assert raw.call(w.DELETE, w.p_string("/d/nope") + w.p_int(-1)).err == w.NO_NODE
    assert raw.call(w.DELETE, w.p_string("/nope/c") + w.p_int(-1)).err == w.NO_NODE
    raw.set_data("/d/c", b"1")
    assert raw.call(w.DELETE, w.p_string("/d/c") + w.p_int(0)).err == w.BAD_VERSION
    assert raw.call(w.DELETE, w.p_string("d") + w.p_int(-1)).err == w.BAD_ARGUMENTS
    raw.delete("/d/c", 1)
    raw.delete("/d", 0)
    assert raw.exists("/d") is None


def test_exists(raw):
    rep = raw.call(w.EXISTS, w.p_string("/nope") + w.p_bool(False))
    assert rep.err == w.NO_NODE and rep.body == b""
    raw.create("/ex", b"12345")
    st = raw.exists("/ex")
    assert st.dataLength == 5
    assert raw.call(w.EXISTS, w.p_string("/a\0b") + w.p_bool(False)).err == w.BAD_ARGUMENTS


def test_reads_on_malformed_paths_answer_no_node(raw):
    raw.create("/n", b"")
    for p in ("/n/", "/n//x", "/nope/", "/n/.", "noslash"):
        for op in (w.GET_DATA, w.GET_CHILDREN, w.GET_CHILDREN2, w.EXISTS):
            rep = raw.call(op, w.p_string(p) + w.p_bool(False))
            assert rep.err == w.NO_NODE, (p, op, rep.err)
        assert raw.call(w.GET_ACL, w.p_string(p)).err == w.NO_NODE


def test_empty_path_reads_as_root(raw):
    raw.create("/only", b"")
    assert sorted(raw.get_children("")) == ["only", "zookeeper"]
    assert raw.exists("") == raw.exists("/")
    kids, st = raw.get_children2("")
    assert st == raw.exists("/")


def test_set_data_errors(raw):
    assert raw.call(w.SET_DATA, w.p_string("/nope") + w.p_buffer(b"") + w.p_int(-1)).err == w.NO_NODE
    assert raw.call(w.SET_DATA, w.p_string("/bad/") + w.p_buffer(b"") + w.p_int(-1)).err == w.BAD_ARGUMENTS
    raw.create("/sd", b"")
    assert raw.call(w.SET_DATA, w.p_string("/sd") + w.p_buffer(b"") + w.p_int(1)).err == w.BAD_VERSION
    assert raw.set_data("/sd", b"a", 0).version == 1
    assert raw.set_data("/sd", b"b", 1).version == 2
    assert raw.set_data("/sd", b"c", -1).version == 3


def test_get_children(raw):
    raw.create("/k", b"")
    assert raw.get_children("/k") == []
    names = ["b", "a", "c-1", "\u00e9t\u00e9"]
    for n in names:
        raw.create("/k/" + n, b"")
    raw.create("/k/a/deep", b"")
    assert sorted(raw.get_children("/k")) == sorted(names), "names only, direct children only"
    kids, st = raw.get_children2("/k")
    assert sorted(kids) == sorted(names) and st == raw.exists("/k")


# ---- Stat maintenance --------------------------------------------------------

def test_stat_after_create(raw):
    t0 = now_ms()
    rep = raw.call(w.CREATE2, create_req("/st", b"abc"))
    r = w.Reader(rep.body)
    r.string()
    st = r.stat()
    z = rep.zxid
    assert st.czxid == st.mzxid == st.pzxid == z
    assert st.ctime == st.mtime and t0 - 5000 <= st.ctime <= now_ms() + 5000
    assert (st.version, st.cversion, st.aversion, st.ephemeralOwner, st.dataLength, st.numChildren) == \
        (0, 0, 0, 0, 3, 0)


def test_stat_parent_on_child_create_and_delete(raw):
    raw.create("/par", b"p")
    p0 = raw.exists("/par")
    c1 = raw.create2("/par/c1", b"")[1]
    p1 = raw.exists("/par")
    assert p1.numChildren == 1 and p1.cversion == 1 and p1.pzxid == c1.czxid
    assert (p1.mzxid, p1.mtime, p1.version, p1.czxid, p1.ctime) == (p0.mzxid, p0.mtime, p0.version, p0.czxid,
                                                                      p0.ctime), "a child create leaves mzxid"
    c2 = raw.create2("/par/c2", b"")[1]
    rep = raw.call(w.DELETE, w.p_string("/par/c1") + w.p_int(-1))
    assert rep.err == 0
    p2 = raw.exists("/par")
    assert p2.numChildren == 1
    assert p2.cversion == 3, "visible cversion counts creations and deletions"
    assert p2.pzxid == rep.zxid and rep.zxid > c2.czxid
    assert p2.mzxid == p0.mzxid
    # setData on a child does not touch the parent
    raw.set_data("/par/c2", b"zz")
    assert raw.exists("/par") == p2


def test_stat_set_data(raw):
    raw.create("/sv", b"")
    s0 = raw.exists("/sv")
    time.sleep(0.01)
    rep = raw.call(w.SET_DATA, w.p_string("/sv") + w.p_buffer(b"12345678") + w.p_int(-1))
    s1 = w.Reader(rep.body).stat()
    assert s1.mzxid == rep.zxid > s0.mzxid
    assert s1.czxid == s0.czxid and s1.ctime == s0.ctime and s1.pzxid == s0.pzxid
    assert s1.mtime >= s0.mtime
    assert s1.version == 1 and s1.dataLength == 8 and s1.cversion == 0 and s1.aversion == 0
    assert raw.exists("/sv") == s1


def test_stat_set_acl_leaves_mzxid(raw):
    raw.create("/sa", b"")
    s0 = raw.exists("/sa")
    s1 = raw.set_acl("/sa", [(w.PERM_ALL, "world", "anyone")], 0)
    assert s1.aversion == 1
    assert (s1.mzxid, s1.mtime, s1.version) == (s0.mzxid, s0.mtime, s0.version)
    assert raw.exists("/sa") == s1


def test_ephemeral_owner(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/own", b"", flags=w.EPHEMERAL)
    assert b.exists("/own").ephemeralOwner == a.session.session_id


def test_failed_writes_consume_a_zxid_reads_do_not(raw):
    z1 = raw.call(w.CREATE, create_req("/fz")).zxid
    rep = raw.call(w.DELETE, w.p_string("/nope") + w.p_int(-1))
    assert rep.err == w.NO_NODE and rep.zxid == z1 + 1
    rep = raw.call(w.GET_DATA, w.p_string("/nope") + w.p_bool(False))
    assert rep.err == w.NO_NODE and rep.zxid == z1 + 1
    raw.call(w.EXISTS, w.p_string("/fz") + w.p_bool(False))
    raw.sync("/fz")
    z3 = raw.call(w.CREATE, create_req("/fz2")).zxid
    assert z3 == z1 + 2


def test_sync(raw):
    assert raw.sync("/") == "/"
    assert raw.sync("/not/there") == "/not/there"


def test_large_data_below_limit(raw):
    blob = bytes(range(256)) * 4000     # ~1 MB, below jute.maxbuffer with headers
    raw.create("/big", blob)
    data, st = raw.get_data("/big")
    assert data == blob and st.dataLength == len(blob)


def test_many_children(zk):
    zk.create("/many", b"")
    t = zk.transaction()
    for i in range(500):
        t.create("/many/n%03d" % i, b"")
    assert all(r == "/many/n%03d" % i for i, r in enumerate(t.commit()))
    kids = zk.get_children("/many")
    assert len(kids) == 500 and set(kids) == {"n%03d" % i for i in range(500)}

