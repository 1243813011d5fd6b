"""Watches: one-shot data/exist/child watches, notification order,
setWatches(2) on reconnect, persistent and recursive watches (addWatch),
removeWatches and checkWatches."""
import threading

import zkwire as w

A = w.OPEN_ACL


def ev(e):
    return (e.type, e.path)


def test_notification_frame_bytes(raw):
    raw.create("/demo", b"")
    raw.get_data("/demo", watch=True)
    raw.send_request(w.SET_DATA, w.p_string("/demo") + w.p_buffer(b"z") + w.p_int(-1))
    frame = raw.recv_frame()
    assert frame == (w.p_int(-1) + w.p_long(-1) + w.p_int(0) + w.p_int(3) + w.p_int(3) + w.p_string("/demo"))


def test_data_watch_one_shot(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/d", b"")
    a.get_data("/d", watch=True)
    b.set_data("/d", b"1")
    e = a.wait_event()
    assert ev(e) == (w.NODE_DATA_CHANGED, "/d") and e.state == w.SYNC_CONNECTED
    b.set_data("/d", b"2")
    a.sync("/")
    assert a.no_event(0.3), "a standard watch fires once"


def test_data_watch_fires_on_delete(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/dd", b"")
    a.get_data("/dd", watch=True)
    b.delete("/dd")
    assert ev(a.wait_event()) == (w.NODE_DELETED, "/dd")


def test_exists_watch_on_missing_node_fires_created(raw_factory):
    a, b = raw_factory(), raw_factory()
    assert a.exists("/later", watch=True) is None
    b.create("/later", b"")
    assert ev(a.wait_event()) == (w.NODE_CREATED, "/later")


def test_exists_watch_on_existing_node(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/ex", b"")
    a.exists("/ex", watch=True)
    b.set_data("/ex", b"1")
    assert ev(a.wait_event()) == (w.NODE_DATA_CHANGED, "/ex")
    a.exists("/ex", watch=True)
    b.delete("/ex")
    assert ev(a.wait_event()) == (w.NODE_DELETED, "/ex")


def test_get_data_on_missing_node_sets_no_watch(raw_factory):
    a, b = raw_factory(), raw_factory()
    assert a.call(w.GET_DATA, w.p_string("/m") + w.p_bool(True)).err == w.NO_NODE
    assert a.call(w.GET_CHILDREN, w.p_string("/m") + w.p_bool(True)).err == w.NO_NODE
    b.create("/m", b"")
    b.create("/m/c", b"")
    a.sync("/")
    assert a.no_event(0.3)


def test_child_watch(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/p", b"")
    a.get_children("/p", watch=True)
    b.create("/p/c", b"")
    assert ev(a.wait_event()) == (w.NODE_CHILDREN_CHANGED, "/p")
    a.get_children2("/p", watch=True)
    b.delete("/p/c")
    assert ev(a.wait_event()) == (w.NODE_CHILDREN_CHANGED, "/p")
    a.get_children("/p", watch=True)
    b.set_data("/p", b"data changes do not fire child watches")
    a.sync("/")
    assert a.no_event(0.3)
    b.delete("/p")
    assert ev(a.wait_event()) == (w.NODE_DELETED, "/p"), "deleting the watched node fires NodeDeleted"


def test_child_watch_on_root_for_top_level_node(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.get_children("/", watch=True)
    b.create("/top", b"")
    assert ev(a.wait_event()) == (w.NODE_CHILDREN_CHANGED, "/")


def test_one_event_per_trigger_per_connection(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/one", b"")
    a.exists("/one", watch=True)
    a.get_data("/one", watch=True)
    a.get_data("/one", watch=True)
    b.set_data("/one", b"x")
    assert ev(a.wait_event()) == (w.NODE_DATA_CHANGED, "/one")
    a.sync("/")
    assert a.no_event(0.3)


def test_delete_fires_data_and_child_watchers_once(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/both", b"")
    a.get_data("/both", watch=True)
    a.get_children("/both", watch=True)
    a.get_children("/", watch=True)
    b.delete("/both")
    got = [ev(a.wait_event()), ev(a.wait_event())]
    assert got == [(w.NODE_DELETED, "/both"), (w.NODE_CHILDREN_CHANGED, "/")]
    a.sync("/")
    assert a.no_event(0.3)


def test_event_before_reply_on_same_connection(raw):
    raw.create("/same", b"")
    raw.get_data("/same", watch=True)
    raw.get_children("/same", watch=True)
    raw.log.clear()
    raw.set_data("/same", b"1")
    assert [k for k, _ in raw.log] == ["event", "reply"]
    raw.log.clear()
    raw.create("/same/c", b"")
    assert [k for k, _ in raw.log] == ["event", "reply"]
    assert ev(raw.log[0][1]) == (w.NODE_CHILDREN_CHANGED, "/same")


def test_event_before_later_read_reply(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/ord", b"old")
    a.get_data("/ord", watch=True)
    b.set_data("/ord", b"new")
    a.log.clear()
    data, _ = a.get_data("/ord")
    assert data == b"new"
    assert [k for k, _ in a.log] == ["event", "reply"], "the event precedes a read showing the change"


def test_watches_are_per_connection(raw_factory):
    a, b, c = raw_factory(), raw_factory(), raw_factory()
    a.create("/pc", b"")
    a.get_data("/pc", watch=True)
    b.get_data("/pc", watch=True)
    c.set_data("/pc", b"1")
    assert ev(a.wait_event()) == (w.NODE_DATA_CHANGED, "/pc")
    assert ev(b.wait_event()) == (w.NODE_DATA_CHANGED, "/pc")
    c.sync("/")
    assert c.no_event(0.2)


def test_ephemeral_close_fires_watches(raw_factory):
    a, b = raw_factory(), raw_factory()
    b.create("/host", b"")
    b.create("/host/e", b"", flags=w.EPHEMERAL)
    a.exists("/host/e", watch=True)
    a.get_children("/host", watch=True)
    b.close_session()
    got = {ev(a.wait_event()), ev(a.wait_event())}
    assert got == {(w.NODE_DELETED, "/host/e"), (w.NODE_CHILDREN_CHANGED, "/host")}


def test_kazoo_watch_callbacks(zk, kazoo_factory):
    other = kazoo_factory()
    zk.create("/kw", b"")
    got = []
    done = threading.Event()

    def cb(event):
        got.append((event.type, event.path))
        done.set()
    zk.get("/kw", watch=cb)
    other.set("/kw", b"1")
    assert done.wait(10)
    assert got == [("CHANGED", "/kw")]
    done.clear()
    zk.get_children("/kw", watch=cb)
    other.create("/kw/c", b"")
    assert done.wait(10)
    assert got[-1] == ("CHILD", "/kw")
    done.clear()
    zk.exists("/kw2", watch=cb)
    other.create("/kw2", b"")
    assert done.wait(10)
    assert got[-1] == ("CREATED", "/kw2")


# ---- setWatches on reconnect ---------------------------------------------------

def _prepare_away_changes(raw_factory):
    """Session A watches several nodes, disconnects; B changes things while
    A is away.  Returns (a's sid, pw, lastZxid seen, B)."""
    a, b = raw_factory(timeout_ms=30000), raw_factory()
    for p in ("/changed", "/deleted", "/same", "/kids", "/kids-same"):
        a.create(p, b"")
    a.create("/kids/old", b"")
    rel = a.sync("/") and a.last_zxid
    sid, pw = a.session.session_id, a.session.passwd
    a.close_socket()
    b.set_data("/changed", b"x")
    b.delete("/deleted")
    b.create("/born", b"")
    b.create("/kids/new", b"")
    b.set_data("/kids-same", b"data change does not touch pzxid")
    return sid, pw, rel, b


def test_set_watches_on_reconnect(raw_factory):
    sid, pw, rel, b = _prepare_away_changes(raw_factory)
    a2 = raw_factory(session_id=sid, passwd=pw, last_zxid=rel)
    rep = a2.set_watches(rel, data=["/changed", "/deleted", "/same"], exist=["/born", "/unborn"],
                         child=["/kids", "/kids-same", "/deleted"])
    assert rep.xid == -8 and rep.err == 0 and rep.body == b""
    assert rep.zxid >= rel
    synth = [v for k, v in a2.log if k == "event"]
    assert [k for k, _ in a2.log][-1] == "reply", "synthesized events precede the reply"
    assert sorted(ev(e) for e in synth) == sorted([(w.NODE_DATA_CHANGED, "/changed"), (w.NODE_DELETED, "/deleted"),
                                                  (w.NODE_CREATED, "/born"),
                                                  (w.NODE_CHILDREN_CHANGED, "/kids"), (w.NODE_DELETED, "/deleted")])
    a2.events.clear()
    # the unchanged ones were re-registered as real watches
    b.set_data("/same", b"now")
    assert ev(a2.wait_event()) == (w.NODE_DATA_CHANGED, "/same")
    b.create("/unborn", b"")
    assert ev(a2.wait_event()) == (w.NODE_CREATED, "/unborn")
    b.create("/kids-same/k", b"")
    assert ev(a2.wait_event()) == (w.NODE_CHILDREN_CHANGED, "/kids-same")
    # and they are one-shot
    b.set_data("/same", b"again")
    a2.sync("/")
    assert a2.no_event(0.3)


def test_set_watches_relative_zxid_zero(raw_factory):
    a = raw_factory()
    a.create("/z0", b"")
    rep = a.set_watches(0, data=["/z0"])
    assert rep.err == 0
    assert [ev(v) for k, v in a.log if k == "event"] == [(w.NODE_DATA_CHANGED, "/z0")]


def test_set_watches2_persistent_lists(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/sw2", b"")
    rel = a.last_zxid
    rep = a.set_watches2(rel, persistent=["/sw2"], recursive=["/tree"])
    assert rep.xid == -8 and rep.err == 0
    assert not [1 for k, _ in a.log if k == "event"]
    b.set_data("/sw2", b"1")
    assert ev(a.wait_event()) == (w.NODE_DATA_CHANGED, "/sw2")
    b.set_data("/sw2", b"2")
    assert ev(a.wait_event()) == (w.NODE_DATA_CHANGED, "/sw2"), "persistent: fires again"
    b.create("/tree", b"")
    assert ev(a.wait_event()) == (w.NODE_CREATED, "/tree")
    b.create("/tree/x", b"")
    assert ev(a.wait_event()) == (w.NODE_CREATED, "/tree/x")


# ---- persistent and recursive watches (addWatch) --------------------------------

def test_add_watch_persistent(raw_factory):
    a, b = raw_factory(), raw_factory()
    assert a.add_watch("/pw", w.AW_PERSISTENT) == 0
    b.create("/pw", b"")
    assert ev(a.wait_event()) == (w.NODE_CREATED, "/pw"), "allowed on a missing path"
    b.set_data("/pw", b"1")
    b.set_data("/pw", b"2")
    assert [ev(a.wait_event()), ev(a.wait_event())] == [(w.NODE_DATA_CHANGED, "/pw")] * 2
    b.create("/pw/c", b"")
    assert ev(a.wait_event()) == (w.NODE_CHILDREN_CHANGED, "/pw")
    b.create("/pw/c/grand", b"")
    b.set_data("/pw/c", b"x")
    a.sync("/")
    assert a.no_event(0.3), "a plain persistent watch ignores deeper nodes"
    b.delete("/pw/c/grand")
    b.delete("/pw/c")
    assert ev(a.wait_event()) == (w.NODE_CHILDREN_CHANGED, "/pw")
    b.delete("/pw")
    assert ev(a.wait_event()) == (w.NODE_DELETED, "/pw")
    b.create("/pw", b"")
    assert ev(a.wait_event()) == (w.NODE_CREATED, "/pw"), "survives deletion of its path"


def test_add_watch_recursive(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/rw", b"")
    assert a.add_watch("/rw", w.AW_PERSISTENT_RECURSIVE) == 0
    b.create("/rw/a", b"")
    b.create("/rw/a/b", b"")
    b.set_data("/rw/a/b", b"x")
    b.set_data("/rw", b"x")
    b.delete("/rw/a/b")
    b.create("/rwsibling", b"")          # a sibling with a common string prefix
    got = [ev(a.wait_event()) for _ in range(5)]
    assert got == [(w.NODE_CREATED, "/rw/a"), (w.NODE_CREATED, "/rw/a/b"), (w.NODE_DATA_CHANGED, "/rw/a/b"),
                   (w.NODE_DATA_CHANGED, "/rw"), (w.NODE_DELETED, "/rw/a/b")], \
        "recursive watches never get NodeChildrenChanged"
    a.sync("/")
    assert a.no_event(0.3)


def test_add_watch_bad_mode(raw):
    assert raw.call(w.ADD_WATCH, w.p_string("/x") + w.p_int(2)).err == w.MARSHALLING_ERROR
    assert raw.call(w.ADD_WATCH, w.p_string("/x") + w.p_int(-1)).err == w.MARSHALLING_ERROR


def test_add_watch_reply_bytes_and_no_zxid(raw):
    z = raw.sync("/") and raw.last_zxid
    rep = raw.call(w.ADD_WATCH, w.p_string("/nx") + w.p_int(0))
    assert rep.err == 0 and rep.body == w.p_int(0)
    assert rep.zxid == z


def test_standard_and_persistent_watch_same_connection_one_event(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/mix", b"")
    a.add_watch("/mix", w.AW_PERSISTENT_RECURSIVE)
    a.add_watch("/mix", w.AW_PERSISTENT_RECURSIVE)
    b.set_data("/mix", b"1")
    assert ev(a.wait_event()) == (w.NODE_DATA_CHANGED, "/mix")
    a.sync("/")
    assert a.no_event(0.3)


# ---- removeWatches / checkWatches -----------------------------------------------

def test_remove_watches_data(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/rm", b"")
    a.get_data("/rm", watch=True)
    a.get_children("/rm", watch=True)
    assert a.check_watches("/rm", w.WT_DATA) == 0
    assert a.remove_watches("/rm", w.WT_DATA) == 0
    assert a.remove_watches("/rm", w.WT_DATA) == w.NO_WATCHER
    assert a.check_watches("/rm", w.WT_CHILDREN) == 0, "the child watch is still there"
    b.set_data("/rm", b"x")
    b.create("/rm/c", b"")
    assert ev(a.wait_event()) == (w.NODE_CHILDREN_CHANGED, "/rm"), "only the child watch fired"
    a.sync("/")
    assert a.no_event(0.3)


def test_remove_watches_any(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/ra", b"")
    a.get_data("/ra", watch=True)
    a.get_children("/ra", watch=True)
    assert a.remove_watches("/ra", w.WT_ANY) == 0
    assert a.check_watches("/ra", w.WT_ANY) == w.NO_WATCHER
    b.set_data("/ra", b"x")
    b.create("/ra/c", b"")
    a.sync("/")
    assert a.no_event(0.3)


def test_remove_watches_children_only(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/rc", b"")
    a.get_children("/rc", watch=True)
    assert a.remove_watches("/rc", w.WT_DATA) == w.NO_WATCHER
    assert a.remove_watches("/rc", w.WT_CHILDREN) == 0
    b.create("/rc/c", b"")
    a.sync("/")
    assert a.no_event(0.3)


def test_remove_watches_of_persistent(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/rp", b"")
    a.add_watch("/rp", w.AW_PERSISTENT)
    assert a.check_watches("/rp", w.WT_DATA) == 0 and a.check_watches("/rp", w.WT_CHILDREN) == 0
    assert a.remove_watches("/rp", w.WT_ANY) == 0
    b.set_data("/rp", b"x")
    b.create("/rp/c", b"")
    a.sync("/")
    assert a.no_event(0.3)


def test_remove_watches_is_per_connection(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/own", b"")
    b.get_data("/own", watch=True)
    assert a.remove_watches("/own", w.WT_DATA) == w.NO_WATCHER
    a.set_data("/own", b"x")
    assert ev(b.wait_event()) == (w.NODE_DATA_CHANGED, "/own")


def test_check_watches(raw):
    raw.create("/cw", b"")
    assert raw.check_watches("/cw", w.WT_DATA) == w.NO_WATCHER
    assert raw.check_watches("/cw", w.WT_ANY) == w.NO_WATCHER
    raw.exists("/cw", watch=True)
    assert raw.check_watches("/cw", w.WT_DATA) == 0
    assert raw.check_watches("/cw", w.WT_ANY) == 0
    assert raw.check_watches("/cw", w.WT_CHILDREN) == w.NO_WATCHER
    assert raw.check_watches("/cw", w.WT_DATA) == 0, "checkWatches removes nothing"
    raw.set_data("/cw", b"x")
    assert ev(raw.wait_event()) == (w.NODE_DATA_CHANGED, "/cw")
    assert raw.check_watches("/cw", w.WT_DATA) == w.NO_WATCHER, "fired watches are gone"


def test_watch_type_validation(raw):
    raw.create("/wt", b"")
    raw.get_data("/wt", watch=True)
    for bad in (0, 4, -1):
        assert raw.call(w.CHECK_WATCHES, w.p_string("/wt") + w.p_int(bad)).err == w.MARSHALLING_ERROR
        assert raw.call(w.REMOVE_WATCHES, w.p_string("/wt") + w.p_int(bad)).err == w.MARSHALLING_ERROR
    assert raw.check_watches("/wt", w.WT_DATA) == 0


def test_watch_ops_consume_no_zxid(raw):
    raw.create("/wz", b"")
    raw.get_data("/wz", watch=True)
    z = raw.last_zxid
    assert raw.call(w.CHECK_WATCHES, w.p_string("/wz") + w.p_int(w.WT_DATA)).zxid == z
    assert raw.call(w.REMOVE_WATCHES, w.p_string("/wz") + w.p_int(w.WT_DATA)).zxid == z
    assert raw.call(w.REMOVE_WATCHES, w.p_string("/wz") + w.p_int(w.WT_DATA)).zxid == z


def test_set_watches_deleted_and_recreated_node(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/again", b"1")
    rel = a.last_zxid
    b.delete("/again")
    b.create("/again", b"2")
    rep = a.set_watches(rel, data=["/again"], exist=["/again"])
    assert rep.err == 0
    evs = [ev(v) for k, v in a.log if k == "event"]
    assert (w.NODE_DATA_CHANGED, "/again") in evs and (w.NODE_DELETED, "/again") not in evs
