"""Sessions: connect handshake, timeout negotiation, ping, closeSession,
reattach with the session password, expiry."""
import socket
import struct
import time

import pytest
from kazoo.client import KazooClient

import zkwire as w


def java_random_bytes(seed, n):
    """java.util.Random(seed).nextBytes(n), bit-exact."""
    mask = (1 << 48) - 1
    s = (seed ^ 0x5DEECE66D) & mask
    out = bytearray()
    while len(out) < n:
        s = (s * 0x5DEECE66D + 0xB) & mask
        r = s >> 16
        for _ in range(min(4, n - len(out))):
            out.append(r & 0xFF)
            r >>= 8
    return bytes(out)


def session_password(sid):
    return java_random_bytes((sid ^ 0xB3415C00) & ((1 << 64) - 1), 16)


def test_password_function_matches_known_java_values():
    # the doc's live values (protocol §2.2.4) pin the helper used below
    assert session_password(0x0100008C04F60000).hex() == "08a885fff5ecd48426ce696bc632ed5f"
    assert session_password(0x0100008D4A900000).hex() == "428dede5a7a27b94f016bbb8c8ac2699"


def test_handshake_new_session(server):
    c = w.RawClient(server.port)
    c.send_frame(w.p_int(0) + w.p_long(0) + w.p_int(30000) + w.p_long(0) + w.p_buffer(b"\0" * 16) + b"\0")
    frame = c.recv_frame()
    assert len(frame) == 37, "ConnectResponse payload is 37 bytes (the C client relies on it)"
    r = w.Reader(frame)
    proto, to, sid, pw, ro = r.int(), r.int(), r.long(), r.buffer(), r.bool()
    assert proto == 0
    assert to == 30000
    assert sid != 0
    assert (sid >> 56) == 1, "standalone session ids carry server id 1 in the top byte"
    assert pw == session_password(sid), "password must be java.util.Random(sid ^ 0xB3415C00)"
    assert ro == 0
    # the session is usable
    assert c.exists("/zookeeper") is not None
    c.close_socket()


def test_two_sessions_have_distinct_ids(raw_factory):
    a, b = raw_factory(), raw_factory()
    assert a.session.session_id != b.session.session_id
    assert a.session.passwd != b.session.passwd


def test_old_client_without_readonly_byte(raw_factory):
    c = raw_factory(connect=False)
    c.send_frame(w.p_int(0) + w.p_long(0) + w.p_int(10000) + w.p_long(0) + w.p_buffer(b"\0" * 16))
    frame = c.recv_frame()
    assert len(frame) == 36, "a 44-byte ConnectRequest gets a ConnectResponse without the readOnly byte"
    assert w.Reader(frame).int() == 0
    assert c.exists("/") is not None


def test_readonly_client_accepted_by_readwrite_server(raw_factory):
    c = raw_factory(read_only=True)
    assert c.session.read_only == 0, "a read-write server says readOnly=false"
    c.create("/rw", b"x")
    assert c.get_data("/rw")[0] == b"x"


@pytest.mark.parametrize("requested,expected", [(1000, 4000), (100, 4000), (4000, 4000), (15000, 15000),
                                                (40000, 40000), (100000, 40000)])
def test_timeout_clamped_to_default_bounds(raw_factory, requested, expected):
    # tickTime 2000: min 2x = 4000, max 20x = 40000
    c = raw_factory(timeout_ms=requested)
    assert c.session.timeout == expected


def test_timeout_clamped_to_configured_bounds(server_factory, raw_factory):
    srv = server_factory({"tickTime": "500", "minSessionTimeout": "3000", "maxSessionTimeout": "6000"})
    got = {req: raw_factory(srv, timeout_ms=req).session.timeout for req in (500, 1000, 3000, 4500, 6000, 60000)}
    assert got == {500: 3000, 1000: 3000, 3000: 3000, 4500: 4500, 6000: 6000, 60000: 6000}


def test_timeout_defaults_follow_ticktime(server_factory, raw_factory):
    srv = server_factory({"tickTime": "300"})
    assert raw_factory(srv, timeout_ms=1).session.timeout == 600
    assert raw_factory(srv, timeout_ms=10**6).session.timeout == 6000


def test_ping_reply_xid_and_zxid(raw):
    zxid = raw.call(w.CREATE, w.p_string("/p") + w.p_buffer(b"") + w.p_acls(w.OPEN_ACL) + w.p_int(0)).zxid
    rep = raw.ping()
    assert (rep.xid, rep.zxid, rep.err, rep.body) == (-2, zxid, 0, b"")
    # the reply xid is -2 whatever the ping carried
    raw.send_request(w.PING, xid=7)
    kind, rep = raw.read_one()
    assert kind == "reply" and rep.xid == -2 and rep.err == 0 and rep.zxid == zxid


def test_ping_keeps_session_alive(server_factory, raw_factory):
    srv = server_factory({"tickTime": "200"})
    a = raw_factory(srv, timeout_ms=400)
    a.create("/keep", b"", flags=w.EPHEMERAL)
    end = time.monotonic() + 1.5
    while time.monotonic() < end:       # ~4 session timeouts of pings every 100 ms
        assert a.ping().err == 0
        time.sleep(0.1)
    assert a.exists("/keep") is not None


def test_close_session(raw_factory):
    a = raw_factory()
    a.create("/eph", b"", flags=w.EPHEMERAL)
    sid, pw = a.session.session_id, a.session.passwd
    before = a.exists("/eph").czxid
    rep = a.close_session()
    assert rep.err == 0 and rep.body == b""
    assert rep.zxid > before, "closeSession is a transaction"
    assert a.closed_by_server(5.0), "server closes the socket after the closeSession reply"
    b = raw_factory()
    assert b.exists("/eph") is None, "closing the session deletes its ephemerals"
    # the closed session cannot be resumed
    c = raw_factory(connect=False)
    resp = c.connect(session_id=sid, passwd=pw, expect_ok=False)
    assert (resp.timeout, resp.session_id) == (0, 0)
    assert resp.passwd == b"\0" * 16
    assert c.closed_by_server(5.0)


def test_reattach_session_from_another_connection(raw_factory):
    a = raw_factory(timeout_ms=20000)
    a.create("/mine", b"", flags=w.EPHEMERAL)
    sid, pw = a.session.session_id, a.session.passwd
    b = raw_factory(connect=False)
    resp = b.connect(session_id=sid, passwd=pw, timeout_ms=12000, last_zxid=a.last_zxid)
    assert resp.session_id == sid
    assert resp.passwd == pw
    assert resp.timeout == 12000, "a reconnect negotiates from this ConnectRequest's timeout"
    assert a.closed_by_server(5.0), "the old connection of the session is closed"
    st = b.exists("/mine")
    assert st is not None and st.ephemeralOwner == sid
    b.create("/mine2", b"", flags=w.EPHEMERAL)
    assert b.exists("/mine2").ephemeralOwner == sid


def test_reattach_after_disconnect_keeps_ephemerals(raw_factory):
    a = raw_factory(timeout_ms=20000)
    a.create("/stay", b"", flags=w.EPHEMERAL)
    sid, pw = a.session.session_id, a.session.passwd
    a.close_socket()      # connection lost, session lives on
    b = raw_factory(session_id=sid, passwd=pw, timeout_ms=20000)
    assert b.session.session_id == sid
    assert b.exists("/stay").ephemeralOwner == sid


def test_reattach_with_wrong_password_refused(raw_factory):
    a = raw_factory()
    a.create("/e", b"", flags=w.EPHEMERAL)
    sid, pw = a.session.session_id, a.session.passwd
    bad = bytes([pw[0] ^ 1]) + pw[1:]
    b = raw_factory(connect=False)
    resp = b.connect(session_id=sid, passwd=bad, expect_ok=False)
    assert resp.timeout == 0 and resp.session_id == 0 and resp.passwd == b"\0" * 16
    assert b.closed_by_server(5.0)
    # the session itself survives (Java closes the owner's connection on any
    # reattach attempt, before checking the password, so reattach properly)
    c = raw_factory(session_id=sid, passwd=pw)
    assert c.session.session_id == sid
    assert c.exists("/e").ephemeralOwner == sid


def test_reattach_unknown_session_refused(raw_factory):
    a = raw_factory()
    sid = a.session.session_id + 1000
    b = raw_factory(connect=False)
    resp = b.connect(session_id=sid, passwd=session_password(sid), expect_ok=False)
    assert resp.timeout == 0 and resp.session_id == 0
    assert b.closed_by_server(5.0)


def test_last_zxid_ahead_of_server_refused(raw_factory):
    a = raw_factory()
    a.create("/z", b"")
    c = raw_factory(connect=False)
    c.send_frame(w.p_int(0) + w.p_long(a.last_zxid + 1000) + w.p_int(10000) + w.p_long(0) +
                 w.p_buffer(b"\0" * 16) + b"\0")
    assert c.closed_by_server(5.0)
    assert not [x for x in c.log if x[0] == "reply"]
    assert a.exists("/z") is not None


def test_kazoo_reattach_with_client_id(zk, server):
    zk.create("/kz", b"v", ephemeral=True)
    sid, pw = zk.client_id
    other = KazooClient(hosts=server.hosts, client_id=(sid, pw), timeout=10)
    try:
        other.start(timeout=15)
        assert other.client_id[0] == sid
        assert other.get("/kz")[1].ephemeralOwner == sid
    finally:
        other.stop()
        other.close()


def test_session_expiry_deletes_ephemerals_and_notifies(server_factory, raw_factory):
    srv = server_factory({"tickTime": "200"})
    watcher = raw_factory(srv, timeout_ms=30000)
    watcher.create("/parent", b"")
    doomed = raw_factory(srv, timeout_ms=400)
    assert doomed.session.timeout == 400
    doomed.create("/parent/e", b"", flags=w.EPHEMERAL)
    doomed.create("/top", b"", flags=w.EPHEMERAL)
    sid, pw = doomed.session.session_id, doomed.session.passwd
    assert watcher.exists("/parent/e", watch=True) is not None
    assert watcher.get_children("/parent", watch=True) == ["e"]
    assert watcher.get_data("/top", watch=True)[1].ephemeralOwner == sid
    # stop talking: the session expires between 400 and 600 ms after the last request
    t0 = time.monotonic()
    evs = {(e.type, e.path) for e in (watcher.wait_event(10), watcher.wait_event(10), watcher.wait_event(10))}
    assert evs == {(w.NODE_DELETED, "/parent/e"), (w.NODE_CHILDREN_CHANGED, "/parent"),
                   (w.NODE_DELETED, "/top")}
    assert time.monotonic() - t0 < 8
    assert watcher.exists("/parent/e") is None and watcher.exists("/top") is None
    # the expired session's connection is closed and cannot be resumed
    assert doomed.closed_by_server(5.0)
    c = raw_factory(srv, connect=False)
    resp = c.connect(session_id=sid, passwd=pw, timeout_ms=400, expect_ok=False)
    assert resp.timeout == 0


def test_requests_before_session_established_are_not_served(raw_factory):
    # a getData frame as the very first frame is read as a (bad) ConnectRequest
    c = raw_factory(connect=False)
    c.send_frame(w.p_int(1) + w.p_int(w.GET_DATA) + w.p_string("/zookeeper") + w.p_bool(False))
    try:
        frame = c.recv_frame(timeout=5)
    except (w.Closed, socket.timeout, ConnectionResetError):
        frame = None
    if frame is not None:
        # a refusal-shaped ConnectResponse is acceptable, never data
        r = w.Reader(frame)
        assert r.int() == 0 and r.int() == 0, frame
    ok = raw_factory()
    assert ok.exists("/zookeeper") is not None


def test_session_id_in_zxid_ordering_of_replies(raw):
    # replies come back in request order, each zxid >= the previous one
    xids = [raw.send_request(w.CREATE, w.p_string(f"/o{i}") + w.p_buffer(b"") + w.p_acls(w.OPEN_ACL) + w.p_int(0))
            for i in range(20)]
    xids.append(raw.send_request(w.EXISTS, w.p_string("/o19") + w.p_bool(False)))
    got = [raw.read_one()[1] for _ in xids]
    assert [r.xid for r in got] == xids
    zx = [r.zxid for r in got]
    assert zx[:20] == list(range(zx[0], zx[0] + 20)), "each create is one zxid"
    assert zx[20] == zx[19], "a read reports the last processed zxid"
    assert struct.unpack(">q", got[20].body[:8])[0] == zx[19]


def test_session_never_expires_early(server_factory, raw_factory):
    srv = server_factory({"tickTime": "200"})
    watcher = raw_factory(srv)
    doomed = raw_factory(srv, timeout_ms=1000)
    doomed.create("/eph", b"", flags=w.EPHEMERAL)
    t_sent = time.monotonic()          # the server touches the session after this
    assert doomed.ping().err == 0
    gone = w.poll(lambda: watcher.exists("/eph") is None, timeout=15, delay=0.02)
    t_seen = time.monotonic()
    assert gone, "the silent session did not expire"
    assert t_seen - t_sent >= 1.0, f"expired {t_seen - t_sent:.3f}s after the last touch, timeout is 1s"


def test_max_client_cnxns_per_ip(server_factory, raw_factory):
    srv = server_factory({"maxClientCnxns": "3"})

    def try_connect():
        c = None
        try:
            c = w.RawClient(srv.port)
            c.connect()
            return c
        except (w.Closed, ConnectionResetError, BrokenPipeError):
            if c is not None:
                c.close_socket()
            return None
    # the server may still count the closing 4lw probes of its start-up for a moment
    held = [w.poll(try_connect, timeout=10) for _ in range(3)]
    assert all(held)
    assert try_connect() is None, "a 4th connection from the same address is closed"
    held[0].close_socket()
    again = w.poll(try_connect, timeout=10)
    assert again, "a freed slot can be used again"
    for c in held[1:] + [again]:
        c.close_socket()


def test_watches_belong_to_the_connection_not_the_session(raw_factory):
    a = raw_factory()
    other = raw_factory()
    a.create("/wc", b"")
    a.get_data("/wc", watch=True)
    sid, pw = a.session.session_id, a.session.passwd
    a.close_socket()
    b = raw_factory(session_id=sid, passwd=pw, last_zxid=a.last_zxid)
    other.set_data("/wc", b"x")
    b.sync("/")
    assert b.no_event(0.3), "without setWatches a new connection has no watches"


def test_auth_belongs_to_the_connection(raw_factory):
    a = raw_factory()
    a.add_auth("digest", "u:p")
    a.create("/au", b"", acl=[(w.PERM_ALL, "digest", w.digest("u", "p"))])
    assert a.get_data("/au")[0] == b""
    sid, pw = a.session.session_id, a.session.passwd
    a.close_socket()
    b = raw_factory(session_id=sid, passwd=pw)
    assert b.call(w.GET_DATA, w.p_string("/au") + w.p_bool(False)).err == w.NO_AUTH, \
        "credentials are re-sent by clients after each reconnect; the server does not keep them"
    b.add_auth("digest", "u:p")
    assert b.get_data("/au")[0] == b""


def test_reattach_timeout_governs_expiry(server_factory, raw_factory):
    srv = server_factory({"tickTime": "200"})
    watcher = raw_factory(srv)
    a = raw_factory(srv, timeout_ms=4000)
    a.create("/short", b"", flags=w.EPHEMERAL)
    sid, pw = a.session.session_id, a.session.passwd
    a.close_socket()
    b = raw_factory(srv, timeout_ms=400, session_id=sid, passwd=pw)
    assert b.session.timeout == 400
    t0 = time.monotonic()
    assert w.poll(lambda: watcher.exists("/short") is None, timeout=10)
    assert time.monotonic() - t0 < 3.5, "the session expires on the reconnect's 400 ms, not the original 4 s"


def test_consecutive_session_ids(raw_factory):
    ids = [raw_factory().session.session_id for _ in range(4)]
    assert [b - a for a, b in zip(ids, ids[1:])] == [1, 1, 1]
