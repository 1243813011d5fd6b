"""multi (opcode 14) transactions and multiRead (22): atomicity, per-op
results, encoding details."""
from kazoo.exceptions import BadVersionError, NoNodeError, NodeExistsError, RolledBackError, RuntimeInconsistency

import zkwire as w

A = w.OPEN_ACL


def test_kazoo_transaction_commits_all(zk):
    zk.create("/t", b"0")
    zk.create("/t/gone", b"")
    t = zk.transaction()
    t.create("/t/new", b"n")
    t.set_data("/t", b"1")
    t.delete("/t/gone")
    t.check("/t", 1)
    res = t.commit()
    assert res[0] == "/t/new"
    assert res[1].version == 1
    assert res[2] is True and res[3] is True
    assert zk.get("/t")[0] == b"1"
    assert zk.exists("/t/gone") is None and zk.exists("/t/new") is not None


def test_kazoo_transaction_failure_is_atomic(zk):
    zk.create("/u", b"orig")
    t = zk.transaction()
    t.create("/u/a", b"")
    t.set_data("/u", b"changed")
    t.check("/u", 7)              # fails: version is 0 (before this multi)
    t.create("/u/b", b"")
    res = t.commit()
    assert isinstance(res[0], RolledBackError)
    assert isinstance(res[1], RolledBackError)
    assert isinstance(res[2], BadVersionError)
    assert isinstance(res[3], RuntimeInconsistency)
    assert zk.get("/u")[0] == b"orig"
    assert zk.get_children("/u") == []


def test_kazoo_transaction_errors(zk):
    zk.create("/v", b"")
    t = zk.transaction()
    t.create("/v", b"")
    res = t.commit()
    assert isinstance(res[0], NodeExistsError)
    t = zk.transaction()
    t.delete("/v/none")
    assert isinstance(t.commit()[0], NoNodeError)


def test_multi_exact_reply_bytes(raw):
    # protocol doc §3.6 worked example: create ok, delete fails, setData not tried
    raw.create("/demo", b"")
    rep, res = raw.multi([("create", "/demo/m", b"", A, 0), ("delete", "/nope", -1), ("setData", "/demo", b"z", -1)])
    assert rep.err == 0, "a failed multi still has err 0 in the header"
    want = (w.p_int(-1) + b"\0" + w.p_int(0) + w.p_int(0) +
            w.p_int(-1) + b"\0" + w.p_int(-101) + w.p_int(-101) +
            w.p_int(-1) + b"\0" + w.p_int(-2) + w.p_int(-2) +
            w.p_int(-1) + b"\x01" + w.p_int(-1))
    assert rep.body == want
    assert raw.exists("/demo/m") is None
    assert raw.exists("/demo").version == 0


def test_multi_success_result_types(raw):
    raw.create("/r", b"")
    raw.create("/r/del", b"")
    rep, res = raw.multi([("create", "/r/c", b"x", A, 0), ("setData", "/r", b"y", 0), ("delete", "/r/del", 0),
                          ("check", "/r", 1), ("create", "/r/s-", b"", A, w.PERSISTENT_SEQUENTIAL)])
    assert rep.err == 0
    assert [(t, e) for t, e, _ in res] == [(1, 0), (5, 0), (2, 0), (13, 0), (1, 0)]
    assert res[0][2] == "/r/c"
    assert res[1][2].version == 1 and res[1][2].mzxid == rep.zxid
    assert res[4][2] == "/r/s-0000000002"


def test_multi_ops_share_one_zxid_and_see_earlier_ops(raw):
    z0 = raw.call(w.SYNC, w.p_string("/")).zxid
    rep, res = raw.multi([("create", "/chain", b"", A, 0), ("create", "/chain/a", b"", A, 0),
                          ("create", "/chain/a/b", b"", A, 0), ("setData", "/chain/a", b"d", 0),
                          ("delete", "/chain/a/b", 0)])
    assert rep.err == 0 and all(e == 0 for _, e, _ in res)
    assert rep.zxid == z0 + 1, "one multi is one transaction"
    a = raw.exists("/chain/a")
    assert a.czxid == a.mzxid == rep.zxid and a.version == 1 and a.numChildren == 0
    assert raw.exists("/chain").czxid == rep.zxid
    assert raw.exists("/chain/a/b") is None


def test_failed_multi_consumes_a_zxid(raw):
    z0 = raw.call(w.SYNC, w.p_string("/")).zxid
    rep, res = raw.multi([("delete", "/none", -1)])
    assert [e for _, e, _ in res] == [w.NO_NODE]
    assert rep.zxid == z0 + 1


def test_multi_failure_on_later_op_rolls_back_earlier(raw):
    raw.create("/x", b"keep")
    rep, res = raw.multi([("setData", "/x", b"new", -1), ("create", "/x/a", b"", A, 0),
                          ("create", "/x/a", b"", A, 0)])
    assert [e for _, e, _ in res] == [0, 0, w.NODE_EXISTS]
    assert raw.get_data("/x")[0] == b"keep" and raw.get_children("/x") == []
    assert raw.exists("/x").version == 0


def test_multi_check_failures(raw):
    raw.create("/c", b"")
    _, res = raw.multi([("check", "/c", 3)])
    assert [e for _, e, _ in res] == [w.BAD_VERSION]
    _, res = raw.multi([("check", "/nope", -1)])
    assert [e for _, e, _ in res] == [w.NO_NODE]
    _, res = raw.multi([("check", "/c", -1), ("check", "/c", 0)])
    assert [(t, e) for t, e, _ in res] == [(13, 0), (13, 0)]


def test_empty_multi(raw):
    z0 = raw.call(w.SYNC, w.p_string("/")).zxid
    rep = raw.call(w.MULTI, w.MULTI_END)
    assert rep.err == 0 and rep.body == w.MULTI_END
    assert rep.zxid == z0 + 1, "an empty multi is still a transaction"


def test_multi_container_and_ttl_sub_ops(raw):
    rep, res = raw.multi([("createContainer", "/mc", b"", A, w.CONTAINER),
                          ("createTTL", "/mt", b"", A, w.PERSISTENT_WITH_TTL, 60000)])
    assert rep.err == 0
    assert [(t, e) for t, e, _ in res] == [(15, 0), (15, 0)], "container/TTL results carry a Stat"
    assert res[0][2][0] == "/mc" and res[1][2][0] == "/mt"
    assert res[0][2][1].czxid == rep.zxid and res[0][2][1].ephemeralOwner == 0
    assert raw.exists("/mc") is not None and raw.exists("/mt") is not None


def test_multi_ephemeral_and_errors_in_sub_creates(raw):
    sid = raw.session.session_id
    rep, res = raw.multi([("create", "/me", b"", A, w.EPHEMERAL), ("create", "/me/c", b"", A, 0)])
    assert [e for _, e, _ in res] == [0, w.NO_CHILDREN_FOR_EPHEMERALS]
    assert raw.exists("/me") is None
    rep, res = raw.multi([("create", "/me", b"", A, w.EPHEMERAL)])
    assert res[0][1] == 0 and raw.exists("/me").ephemeralOwner == sid
    _, res = raw.multi([("create", "/bad/", b"", A, 0)])
    assert res[0][1] == w.NO_NODE
    _, res = raw.multi([("create", "/me2", b"", [], 0)])
    assert res[0][1] == w.INVALID_ACL


def test_multi_fires_watches_before_reply(raw_factory):
    a = raw_factory()
    a.create("/mw", b"")
    a.get_data("/mw", watch=True)
    a.get_children("/mw", watch=True)
    a.log.clear()
    rep, res = a.multi([("setData", "/mw", b"1", -1), ("create", "/mw/k", b"", A, 0)])
    assert rep.err == 0
    kinds = [k for k, _ in a.log]
    assert kinds == ["event", "event", "reply"]
    evs = [v for k, v in a.log if k == "event"]
    assert [(e.type, e.path) for e in evs] == [(w.NODE_DATA_CHANGED, "/mw"), (w.NODE_CHILDREN_CHANGED, "/mw")], \
        "events fire in sub-op order"


def test_failed_multi_fires_no_watches(raw):
    raw.create("/fw", b"")
    raw.get_data("/fw", watch=True)
    raw.multi([("setData", "/fw", b"1", -1), ("delete", "/none", -1)])
    raw.sync("/")
    assert raw.no_event(0.3)
    raw.set_data("/fw", b"2")
    assert raw.wait_event().type == w.NODE_DATA_CHANGED, "the watch is still armed"


def test_multi_read(raw):
    raw.create("/mr", b"data")
    raw.create("/mr/k1", b"")
    z = raw.call(w.SYNC, w.p_string("/")).zxid
    rep, res = raw.multi_read([("getData", "/mr"), ("getChildren", "/mr"), ("getData", "/none"),
                               ("getChildren", "/none")])
    assert rep.err == 0 and rep.zxid == z, "multiRead consumes no zxid"
    assert res[0][0] == w.GET_DATA and res[0][2][0] == b"data" and res[0][2][1] == raw.exists("/mr")
    assert res[1][0] == w.GET_CHILDREN and res[1][2] == ["k1"]
    assert res[2][:2] == (-1, w.NO_NODE), "an error in one read op does not affect the others"
    assert res[3][:2] == (-1, w.NO_NODE)
    assert raw.call(w.SYNC, w.p_string("/")).zxid == z


def test_multi_read_sets_no_watches(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/nw", b"")
    body = (w.p_int(w.GET_DATA) + b"\0" + w.p_int(-1) + w.p_string("/nw") + b"\x01" + w.MULTI_END)
    assert a.call(w.MULTI_READ, body).err == 0
    b.set_data("/nw", b"x")
    a.sync("/")
    assert a.no_event(0.3)


def test_multi_read_no_auth_per_op(raw_factory):
    a = raw_factory()
    a.create("/sec", b"s", acl=[(w.PERM_ALL, "digest", w.digest("u", "p"))])
    a.create("/pub", b"p")
    rep, res = a.multi_read([("getData", "/sec"), ("getData", "/pub")])
    assert rep.err == 0
    assert res[0][:2] == (-1, w.NO_AUTH)
    assert res[1][2][0] == b"p"


def test_read_op_in_write_multi_is_marshalling_error(raw):
    z0 = raw.call(w.SYNC, w.p_string("/")).zxid
    rep = raw.call(w.MULTI, w.encode_multi([("create", "/rw", b"", A, 0), ("getData", "/")]))
    assert rep.err == w.MARSHALLING_ERROR and rep.body == b""
    assert raw.exists("/rw") is None
    assert rep.zxid == z0 + 1


def test_unknown_sub_op_type_is_marshalling_error(raw):
    body = w.p_int(77) + b"\0" + w.p_int(-1) + w.p_string("/x") + w.MULTI_END
    rep = raw.call(w.MULTI, body)
    assert rep.err == w.MARSHALLING_ERROR
    assert raw.ping().err == 0, "the connection stays usable"


def test_multi_sub_op_kind_follows_flags(raw):
    # inside a multi the create flags decide the node kind (3.8.0: the header
    # type is ignored; protocol doc §2.5.2)
    sid = raw.session.session_id
    rep, res = raw.multi([("createTTL", "/k-ttl-plain", b"", A, w.PERSISTENT, 100),
                          ("create", "/k-cont", b"", A, w.CONTAINER),
                          ("createContainer", "/k-plain", b"", A, w.PERSISTENT),
                          ("create", "/k-eph", b"", A, w.EPHEMERAL)])
    assert rep.err == 0
    assert [(t, e) for t, e, _ in res] == [(1, 0), (15, 0), (1, 0), (1, 0)]
    assert raw.exists("/k-ttl-plain").ephemeralOwner == 0
    assert raw.exists("/k-eph").ephemeralOwner == sid
