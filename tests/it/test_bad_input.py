"""Bad input on the client port, over raw sockets.

The server must answer as ZooKeeper does (an error reply or a closed
connection), never crash, keep serving other clients, and keep the data
written before intact.  Protocol facts: zookeeper-protocol.md §2.1, §2.4,
§3.1, §3.11.
"""
import os
import random
import socket
import struct

import pytest

import zkwire as w
from itutil import zabd_only
from servers import four_letter

CANARY = {"/canary": b"alive", "/canary/child": b"\x00\x01\xff" * 100}


@pytest.fixture
def srv(server):
    c = w.session(server.port)
    for p, d in CANARY.items():
        c.create(p, d)
    c.create("/canary-eph", b"e", flags=w.EPHEMERAL)
    server._canary_client = c          # keeps the ephemeral's session open
    yield server
    c.close_socket()


def healthy(server, bystander=None):
    """The server process is up, answers 4lw and new sessions, and the
    canary data is intact; an already-connected bystander still works."""
    assert server.alive(), "server died:\n" + server.read_log()
    assert four_letter(server.port, "ruok") == "imok"
    c = w.session(server.port)
    try:
        for p, d in CANARY.items():
            assert c.get_data(p)[0] == d
        assert c.exists("/canary-eph") is not None
    finally:
        c.close_socket()
    if bystander is not None:
        assert bystander.ping().err == 0
        assert bystander.get_data("/canary")[0] == CANARY["/canary"]
    return True


def connected(server):
    return w.session(server.port)


def closes(c, timeout=5.0):
    return c.closed_by_server(timeout)


# ---- framing -------------------------------------------------------------------

def test_negative_length_before_handshake(srv):
    by = connected(srv)
    c = w.RawClient(srv.port)
    c.send_raw(struct.pack(">i", -1))
    assert closes(c)
    assert healthy(srv, by)


def test_negative_length_after_handshake(srv):
    by = connected(srv)
    c = connected(srv)
    c.send_raw(struct.pack(">i", -5) + b"junk")
    assert closes(c)
    assert healthy(srv, by)


@pytest.mark.parametrize("length", [1048576 + 16, 0x7FFFFFFF, 0x10000000])
def test_oversized_length(srv, length):
    by = connected(srv)
    c = connected(srv)
    c.send_raw(struct.pack(">i", length) + b"\0" * 64)
    assert closes(c), "a frame above jute.maxbuffer closes the connection"
    assert healthy(srv, by)


def test_oversized_length_before_handshake(srv):
    c = w.RawClient(srv.port)
    c.send_raw(struct.pack(">i", 50 << 20))
    assert closes(c)
    assert healthy(srv)


@pytest.mark.parametrize("payload", [b"", b"\0", b"\0\0\0\x01\0\0\0"])
def test_frame_too_short_for_request_header(srv, payload):
    c = connected(srv)
    c.send_frame(payload)
    assert closes(c), "an undecodable RequestHeader closes the connection"
    assert healthy(srv)


def test_truncated_frame_then_disconnect(srv):
    by = connected(srv)
    c = connected(srv)
    c.send_raw(struct.pack(">i", 100) + b"\0\0\0\x01\0\0\0\x04")   # 8 of 100 bytes
    c.close_socket()
    c2 = w.RawClient(srv.port)
    c2.send_raw(struct.pack(">i", 45) + b"\0" * 10)                  # half a ConnectRequest
    c2.close_socket()
    assert healthy(srv, by)


def test_frame_split_byte_by_byte_is_fine(srv):
    c = w.RawClient(srv.port)
    req = w.p_int(0) + w.p_long(0) + w.p_int(10000) + w.p_long(0) + w.p_buffer(b"\0" * 16) + b"\0"
    for b in w.p_int(len(req)) + req:
        c.send_raw(bytes([b]))
    c.recv_frame()
    body = w.p_int(1) + w.p_int(w.GET_DATA) + w.p_string("/canary") + w.p_bool(False)
    for b in w.p_int(len(body)) + body:
        c.send_raw(bytes([b]))
    kind, rep = c.read_one()
    assert rep.err == 0 and rep.body[:9] == w.p_buffer(b"alive")


def test_many_frames_in_one_segment(srv):
    c = connected(srv)
    blob = b""
    for i in range(1, 201):
        body = w.p_int(i) + w.p_int(w.EXISTS) + w.p_string("/canary") + w.p_bool(False)
        blob += w.p_int(len(body)) + body
    c.send_raw(blob)
    got = [c.read_one()[1] for _ in range(200)]
    assert [r.xid for r in got] == list(range(1, 201)) and all(r.err == 0 for r in got)


# ---- handshake -------------------------------------------------------------------

@pytest.mark.parametrize("req", [
    b"",                                                           # empty frame
    b"\0" * 10,                                                    # truncated ConnectRequest
    w.p_int(0) + w.p_long(0) + w.p_int(10000) + w.p_long(0) + w.p_int(-7),      # negative passwd length
    w.p_int(0) + w.p_long(0) + w.p_int(10000) + w.p_long(0) + w.p_int(1 << 30),  # huge passwd length
    w.p_int(0) + w.p_long(0) + w.p_int(10000) + w.p_long(0) + w.p_int(100) + b"\0" * 8,  # passwd past the end
])
def test_malformed_connect_request(srv, req):
    by = connected(srv)
    c = w.RawClient(srv.port)
    c.send_frame(req)
    assert closes(c) and c.log == [] and c.rbuf == b"", "closed without a reply"
    assert healthy(srv, by)


def test_request_before_handshake(srv):
    # a getData frame as the first frame is parsed as a ConnectRequest
    c = w.RawClient(srv.port)
    c.send_frame(w.p_int(1) + w.p_int(w.GET_DATA) + w.p_string("/canary") + w.p_bool(False))
    assert closes(c) and c.log == [] and c.rbuf == b"", "closed without a reply"
    assert healthy(srv)


def test_two_connect_requests(srv):
    c = connected(srv)
    req = w.p_int(0) + w.p_long(0) + w.p_int(10000) + w.p_long(0) + w.p_buffer(b"\0" * 16) + b"\0"
    c.send_frame(req)        # read as RequestHeader{xid 0, type 0}: an unknown opcode
    kind, rep = c.read_one(timeout=5)
    assert (kind, rep.xid, rep.err) == ("reply", 0, w.UNIMPLEMENTED)
    assert closes(c)
    assert healthy(srv)


# ---- requests ------------------------------------------------------------------

def test_unknown_opcode(srv):
    by = connected(srv)
    c = connected(srv)
    rep = c.call(99, b"whatever", xid=42)
    assert (rep.xid, rep.zxid, rep.err) == (42, -1, w.UNIMPLEMENTED)
    assert closes(c), "the connection is closed after Unimplemented"
    assert healthy(srv, by)


@zabd_only
def test_unknown_opcode_after_pipelined_writes_keeps_their_replies(srv):
    # Java loses replies here (protocol doc §2.4); a compatible server answers all
    c = connected(srv)
    c.create("/pipe", b"")
    xids = [c.send_request(w.CREATE, w.p_string(f"/pipe/n{i}") + w.p_buffer(b"") + w.p_acls(w.OPEN_ACL) +
                           w.p_int(0)) for i in range(50)]
    bad = c.send_request(99)
    got = []
    try:
        while True:
            got.append(c.read_one()[1])
    except w.Closed:
        pass
    assert [r.xid for r in got] == xids + [bad]
    assert all(r.err == 0 for r in got[:-1]) and got[-1].err == w.UNIMPLEMENTED
    assert len(w.session(srv.port).get_children("/pipe")) == 50


@zabd_only
@pytest.mark.parametrize("opcode,body", [(-10, w.p_int(30000)), (20, b"/canary"),
                                         (13, w.p_string("/canary") + w.p_int(-1))])
def test_internal_opcodes_from_clients_unimplemented(srv, opcode, body):
    # Java misbehaves on these (doc §2.4); zabd must answer Unimplemented
    c = connected(srv)
    sid, pw = c.session.session_id, c.session.passwd
    z = c.ping().zxid
    rep = c.call(opcode, body)
    assert rep.err == w.UNIMPLEMENTED
    assert closes(c)
    c2 = w.session(srv.port, session_id=sid, passwd=pw)     # a reattach creates no txn
    assert c2.ping().zxid == z, "no transaction was created"
    assert healthy(srv, c2)


@zabd_only
def test_create_ttl_opcode_with_plain_flags_rejected(srv):
    # Java 3.8 crashes and cannot restart on this one (doc §3.2)
    c = connected(srv)
    rep = c.call(w.CREATE_TTL, w.p_string("/ttl-bad") + w.p_buffer(b"") + w.p_acls(w.OPEN_ACL) + w.p_int(0) +
                 w.p_long(-1))
    assert rep.err == w.BAD_ARGUMENTS
    assert c.exists("/ttl-bad") is None
    assert healthy(srv, c)


def test_truncated_read_body(srv):
    c = connected(srv)
    rep = c.call(w.GET_DATA, w.p_int(50) + b"/can")        # ustring claims 50 bytes, 4 present
    assert rep.err == w.MARSHALLING_ERROR and rep.body == b""
    assert c.ping().err == 0, "the connection stays open after -5"
    assert c.get_data("/canary")[0] == b"alive"


def test_truncated_write_body_consumes_a_zxid(srv):
    c = connected(srv)
    z = c.ping().zxid
    rep = c.call(w.CREATE, w.p_string("/trunc") + w.p_int(10) + b"abc")
    assert rep.err == w.MARSHALLING_ERROR
    assert rep.zxid == z + 1
    assert c.exists("/trunc") is None
    assert healthy(srv, c)


def test_empty_body_for_every_opcode(srv):
    c = connected(srv)
    for op in (w.CREATE, w.DELETE, w.EXISTS, w.GET_DATA, w.SET_DATA, w.GET_ACL, w.SET_ACL, w.GET_CHILDREN,
               w.SYNC, w.GET_CHILDREN2, w.MULTI, w.CREATE2, w.CHECK_WATCHES, w.REMOVE_WATCHES,
               w.CREATE_CONTAINER, w.CREATE_TTL, w.MULTI_READ, w.GET_EPHEMERALS, w.GET_ALL_CHILDREN_NUMBER,
               w.ADD_WATCH):
        rep = c.call(op, b"")
        assert rep.err == w.MARSHALLING_ERROR, (op, rep.err)
    assert healthy(srv, c)


def test_huge_string_length_inside_body(srv):
    c = connected(srv)
    for n in (0x7FFFFFFF, 1 << 30, 5 << 20):
        assert c.call(w.GET_DATA, w.p_int(n) + b"/x" + w.p_bool(False)).err == w.MARSHALLING_ERROR
        assert c.call(w.SET_DATA, w.p_string("/canary") + w.p_int(n) + b"x" + w.p_int(-1)).err == \
            w.MARSHALLING_ERROR
    assert healthy(srv, c)


def test_null_path(srv):
    c = connected(srv)
    assert c.call(w.GET_DATA, w.p_int(-1) + w.p_bool(False)).err == w.MARSHALLING_ERROR
    z = c.ping().zxid
    rep = c.call(w.CREATE, w.p_int(-1) + w.p_buffer(b"") + w.p_acls(w.OPEN_ACL) + w.p_int(0))
    assert rep.err == w.MARSHALLING_ERROR and rep.zxid == z + 1
    assert healthy(srv, c)


def test_bad_acl_vectors(srv):
    c = connected(srv)
    pre = w.p_string("/acl-bad") + w.p_buffer(b"")
    for acls, err in ((w.p_int(1 << 30), w.MARSHALLING_ERROR),
                      (w.p_int(3) + w.p_acl((31, "world", "anyone")), w.MARSHALLING_ERROR),
                      (w.p_int(-1), w.INVALID_ACL)):              # a null vector is an empty ACL
        rep = c.call(w.CREATE, pre + acls + w.p_int(0))
        assert rep.err == err, rep.err
    assert c.exists("/acl-bad") is None
    assert healthy(srv, c)


def test_bad_multi_bodies(srv):
    c = connected(srv)
    create = w.p_int(w.CREATE) + b"\0" + w.p_int(-1) + w.p_string("/mb") + w.p_buffer(b"") + \
        w.p_acls(w.OPEN_ACL) + w.p_int(0)
    for body in (create,                                     # no end marker
                 create[:20],                                # truncated sub-op
                 w.p_int(w.DELETE) + b"\0",                   # truncated header
                 create * 3 + w.p_int(1)):                  # garbage tail instead of the end marker
        rep = c.call(w.MULTI, body)
        assert rep.err == w.MARSHALLING_ERROR, rep
    rep = c.call(w.MULTI_READ, w.p_int(w.GET_DATA) + b"\0" + w.p_int(-1) + w.p_int(99))
    assert rep.err == w.MARSHALLING_ERROR
    assert c.exists("/mb") is None
    assert healthy(srv, c)


# path -> error of a create (the parent is looked up before the full check)
INVALID_PATHS = [("noslash", w.BAD_ARGUMENTS), ("/canary/", w.BAD_ARGUMENTS), ("//x", w.BAD_ARGUMENTS),
                 ("/canary/./x", w.NO_NODE), ("/canary/../x", w.NO_NODE), ("/canary/a\0b", w.BAD_ARGUMENTS),
                 ("/canary/\x1f", w.BAD_ARGUMENTS), ("/canary/\ud800".encode("utf-8", "surrogatepass"), w.BAD_ARGUMENTS),
                 (b"/canary/\xc3", w.BAD_ARGUMENTS), (b"/canary/\xed\xa0\x80", w.BAD_ARGUMENTS)]


@pytest.mark.parametrize("path,create_err", INVALID_PATHS)
def test_invalid_paths_for_writes(srv, path, create_err):
    c = connected(srv)
    enc = w.p_buffer(path if isinstance(path, bytes) else path.encode())
    assert c.call(w.SET_DATA, enc + w.p_buffer(b"x") + w.p_int(-1)).err == w.BAD_ARGUMENTS
    assert c.call(w.SET_ACL, enc + w.p_acls(w.OPEN_ACL) + w.p_int(-1)).err == w.BAD_ARGUMENTS
    assert c.call(w.CREATE, enc + w.p_buffer(b"") + w.p_acls(w.OPEN_ACL) + w.p_int(0)).err == create_err
    rep = c.call(w.MULTI, w.p_int(w.CHECK) + b"\0" + w.p_int(-1) + enc + w.p_int(-1) + w.MULTI_END)
    assert rep.err == 0 and w.decode_multi(rep.body) == [(-1, w.BAD_ARGUMENTS, None)]
    assert healthy(srv, c)


def test_2mib_set_data_closes_connection(srv):
    by = connected(srv)
    c = connected(srv)
    rep = c.call(w.SET_DATA, w.p_string("/canary") + w.p_buffer(b"\xab" * 1024) + w.p_int(-1))
    assert rep.err == 0
    big = os.urandom(2 << 20)
    try:
        c.send_request(w.SET_DATA, w.p_string("/canary") + w.p_buffer(big) + w.p_int(-1))
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        while True:
            kind, rep = c.read_one(timeout=10)
            assert kind == "event" or rep.err != 0, "a 2 MiB setData must not succeed"
    except (w.Closed, ConnectionResetError):
        pass
    d = w.session(srv.port)
    assert d.get_data("/canary")[0] == b"\xab" * 1024, "the oversized write was not applied"
    d.set_data("/canary", CANARY["/canary"])
    assert healthy(srv, by)


def test_just_over_maxbuffer_create(srv):
    c = connected(srv)
    data = b"x" * (1048575 - 10)
    try:
        rep = c.call(w.CREATE, w.p_string("/toobig") + w.p_buffer(data) + w.p_acls(w.OPEN_ACL) + w.p_int(0))
        assert rep.err != 0
    except (w.Closed, ConnectionResetError, BrokenPipeError):
        pass
    assert w.session(srv.port).exists("/toobig") is None
    assert healthy(srv)


def test_random_garbage_after_handshake(srv):
    rng = random.Random(1234)
    by = connected(srv)
    for i in range(30):
        c = connected(srv)
        n = rng.randrange(8, 200)
        payload = bytes(rng.randrange(256) for _ in range(n))
        # keep the frame length sane so the server reads the whole thing
        c.send_raw(struct.pack(">i", n) + payload)
        try:
            while True:
                c.read_one(timeout=2)
        except (w.Closed, socket.timeout, ConnectionResetError, AssertionError):
            pass
        c.close_socket()
    assert healthy(srv, by)


def test_random_garbage_before_handshake(srv):
    rng = random.Random(99)
    for i in range(30):
        c = w.RawClient(srv.port)
        c.send_raw(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))))
        c.close_socket()
    assert healthy(srv)


def test_auth_packet_garbage(srv):
    c = connected(srv)
    try:
        rep = c.call(w.AUTH, w.p_int(0) + w.p_int(1 << 30), xid=w.AUTH_XID)
        assert rep.err != 0
    except w.Closed:
        pass            # Java closes the connection without a reply
    assert healthy(srv)


def test_set_watches_garbage(srv):
    c = connected(srv)
    rep = c.call(w.SET_WATCHES, w.p_long(0) + w.p_int(1 << 30), xid=w.SET_WATCHES_XID)
    assert rep.err == w.MARSHALLING_ERROR
    assert healthy(srv, c)


def test_many_idle_connections_then_normal_use(srv):
    socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(40)]
    try:
        assert healthy(srv)
    finally:
        for s in socks:
            s.close()
    assert healthy(srv)
