"""A small raw-socket ZooKeeper client for the integration tests.

Kazoo 2.8 cannot send several requests the server must support (addWatch,
setWatches, removeWatches, checkWatches, multiRead, getEphemerals,
getAllChildrenNumber, whoAmI, containers, TTL nodes) and hides the exact
bytes and ordering of replies and notifications.  This module speaks the
client protocol directly: jute encoding, frames, the connect handshake and
one method per opcode.  It is written from the protocol description in
/work/shared/docs/zookeeper-protocol.md §1-§2 and keeps every reply and
notification it reads so tests can check their order.
"""
import collections
import socket
import struct
import time

# opcodes
CREATE, DELETE, EXISTS, GET_DATA, SET_DATA, GET_ACL, SET_ACL, GET_CHILDREN = 1, 2, 3, 4, 5, 6, 7, 8
SYNC, PING, GET_CHILDREN2, CHECK, MULTI, CREATE2 = 9, 11, 12, 13, 14, 15
CHECK_WATCHES, REMOVE_WATCHES, CREATE_CONTAINER, CREATE_TTL, MULTI_READ = 17, 18, 19, 21, 22
AUTH, SET_WATCHES, GET_EPHEMERALS, GET_ALL_CHILDREN_NUMBER = 100, 101, 103, 104
SET_WATCHES2, ADD_WATCH, WHO_AM_I, CLOSE_SESSION = 105, 106, 107, -11

# error codes
OK, RUNTIME_INCONSISTENCY, MARSHALLING_ERROR, UNIMPLEMENTED, BAD_ARGUMENTS = 0, -2, -5, -6, -8
NO_NODE, NO_AUTH, BAD_VERSION, NO_CHILDREN_FOR_EPHEMERALS = -101, -102, -103, -108
NODE_EXISTS, NOT_EMPTY, SESSION_EXPIRED, INVALID_ACL, AUTH_FAILED = -110, -111, -112, -114, -115
NO_WATCHER = -121

# event types
NODE_CREATED, NODE_DELETED, NODE_DATA_CHANGED, NODE_CHILDREN_CHANGED = 1, 2, 3, 4
SYNC_CONNECTED = 3

# create flags
PERSISTENT, EPHEMERAL, PERSISTENT_SEQUENTIAL, EPHEMERAL_SEQUENTIAL = 0, 1, 2, 3
CONTAINER, PERSISTENT_WITH_TTL, PERSISTENT_SEQUENTIAL_WITH_TTL = 4, 5, 6

# watcher types (check/removeWatches) and addWatch modes
WT_CHILDREN, WT_DATA, WT_ANY = 1, 2, 3
AW_PERSISTENT, AW_PERSISTENT_RECURSIVE = 0, 1

PERM_READ, PERM_WRITE, PERM_CREATE, PERM_DELETE, PERM_ADMIN, PERM_ALL = 1, 2, 4, 8, 16, 31
OPEN_ACL = [(PERM_ALL, "world", "anyone")]

NOTIFICATION_XID, PING_XID, AUTH_XID, SET_WATCHES_XID = -1, -2, -4, -8

Stat = collections.namedtuple(
    "Stat", "czxid mzxid ctime mtime version cversion aversion ephemeralOwner dataLength numChildren pzxid")
ConnectResponse = collections.namedtuple("ConnectResponse", "protocol timeout session_id passwd read_only")
Reply = collections.namedtuple("Reply", "xid zxid err body")
Event = collections.namedtuple("Event", "type state path")


class ZkError(Exception):
    def __init__(self, code, what=""):
        super().__init__(f"{what}: ZooKeeper error {code}")
        self.code = code


class Closed(Exception):
    """The server closed the connection."""


# ---- jute encoding -------------------------------------------------------

def p_int(v):
    return struct.pack(">i", v)


def p_long(v):
    return struct.pack(">q", v)


def p_bool(v):
    return b"\x01" if v else b"\x00"


def p_buffer(b):
    if b is None:
        return p_int(-1)
    return p_int(len(b)) + b


def p_string(s):
    if s is None:
        return p_int(-1)
    return p_buffer(s.encode() if isinstance(s, str) else s)


def p_vector(items, enc):
    if items is None:
        return p_int(-1)
    return p_int(len(items)) + b"".join(enc(i) for i in items)


def p_acl(a):
    perms, scheme, ident = a
    return p_int(perms) + p_string(scheme) + p_string(ident)


def p_acls(acls):
    return p_vector(acls, p_acl)


class Reader:
    """Bounds-checked jute reader over one payload."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError(f"short record: need {n} at {self.pos} of {len(self.data)}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def int(self):
        return struct.unpack(">i", self.take(4))[0]

    def long(self):
        return struct.unpack(">q", self.take(8))[0]

    def bool(self):
        return self.take(1)[0]

    def buffer(self):
        n = self.int()
        return None if n < 0 else self.take(n)

    def string(self):
        b = self.buffer()
        return None if b is None else b.decode()

    def vector(self, dec):
        n = self.int()
        return None if n < 0 else [dec() for _ in range(n)]

    def stat(self):
        return Stat(self.long(), self.long(), self.long(), self.long(), self.int(), self.int(),
                    self.int(), self.long(), self.int(), self.int(), self.long())

    def acl(self):
        return (self.int(), self.string(), self.string())

    def remaining(self):
        return len(self.data) - self.pos


# ---- multi ---------------------------------------------------------------

def encode_multi_op(op):
    """op is a tuple: (kind, path, ...) with kind one of create, create2,
    createContainer, createTTL, delete, setData, check, getData, getChildren."""
    kind = op[0]
    if kind in ("create", "create2", "createContainer"):
        _, path, data, acl, flags = op
        t = {"create": CREATE, "create2": CREATE2, "createContainer": CREATE_CONTAINER}[kind]
        body = p_string(path) + p_buffer(data) + p_acls(acl) + p_int(flags)
    elif kind == "createTTL":
        _, path, data, acl, flags, ttl = op
        t, body = CREATE_TTL, p_string(path) + p_buffer(data) + p_acls(acl) + p_int(flags) + p_long(ttl)
    elif kind == "delete":
        t, body = DELETE, p_string(op[1]) + p_int(op[2])
    elif kind == "setData":
        t, body = SET_DATA, p_string(op[1]) + p_buffer(op[2]) + p_int(op[3])
    elif kind == "check":
        t, body = CHECK, p_string(op[1]) + p_int(op[2])
    elif kind == "getData":
        t, body = GET_DATA, p_string(op[1]) + p_bool(False)
    elif kind == "getChildren":
        t, body = GET_CHILDREN, p_string(op[1]) + p_bool(False)
    else:
        raise ValueError(kind)
    return p_int(t) + p_bool(False) + p_int(-1) + body


MULTI_END = p_int(-1) + p_bool(True) + p_int(-1)


def encode_multi(ops):
    return b"".join(encode_multi_op(o) for o in ops) + MULTI_END


def decode_multi(body):
    """Return a list of (type, err, value) up to the end marker; value is
    the decoded result record (path, (path, stat), stat, (data, stat),
    children) or None."""
    r = Reader(body)
    out = []
    while True:
        t, done, err = r.int(), r.bool(), r.int()
        if done:
            assert (t, done, err) == (-1, 1, -1), f"bad multi end marker {(t, done, err)}"
            break
        assert done == 0, f"multi done byte {done}"
        if t == -1:
            code = r.int()
            assert code == err, f"ErrorResponse {code} != header err {err}"
            out.append((t, err, None))
            continue
        assert err == 0, f"successful result type {t} with header err {err}"
        if t == CREATE:
            v = r.string()
        elif t in (CREATE2, CREATE_CONTAINER, CREATE_TTL):
            v = (r.string(), r.stat())
        elif t == SET_DATA:
            v = r.stat()
        elif t in (DELETE, CHECK):
            v = None
        elif t == GET_DATA:
            v = (r.buffer(), r.stat())
        elif t == GET_CHILDREN:
            v = r.vector(r.string)
        else:
            raise AssertionError(f"unknown multi result type {t}")
        out.append((t, err, v))
    assert r.remaining() == 0, "bytes after multi end marker"
    return out


# ---- the client ----------------------------------------------------------

class RawClient:
    """One TCP connection.  `call` sends a request and reads frames until
    the reply with the request's xid arrives; notifications read on the way
    are kept in `events` and, together with replies, in `log` (the order
    frames arrived in: ('event', Event) or ('reply', Reply))."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.rbuf = b""
        self.xid = 0
        self.events = collections.deque()
        self.log = []
        self.session = None
        self.last_zxid = 0

    # -- framing

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_frame(self, payload):
        self.sock.sendall(p_int(len(payload)) + payload)

    def _fill(self, n, deadline):
        while len(self.rbuf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out waiting for the server")
            self.sock.settimeout(left)
            try:
                b = self.sock.recv(65536)
            except ConnectionResetError:
                b = b""
            if not b:
                raise Closed("server closed the connection")
            self.rbuf += b

    def recv_frame(self, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self._fill(4, deadline)
        n = struct.unpack(">i", self.rbuf[:4])[0]
        assert 0 <= n < 64 << 20, f"server sent frame length {n}"
        self._fill(4 + n, deadline)
        frame, self.rbuf = self.rbuf[4:4 + n], self.rbuf[4 + n:]
        return frame

    def closed_by_server(self, timeout=5.0):
        """True if the server closes the connection within timeout (any
        frames still arriving first are read and logged)."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.read_one(timeout=max(0.01, deadline - time.monotonic()))
        except Closed:
            return True
        except socket.timeout:
            return False
        return False

    def read_one(self, timeout=None):
        frame = self.recv_frame(timeout)
        r = Reader(frame)
        xid, zxid, err = r.int(), r.long(), r.int()
        body = frame[16:]
        if xid == NOTIFICATION_XID:
            assert zxid == -1 and err == 0, f"notification header {(xid, zxid, err)}"
            ev = Event(r.int(), r.int(), r.string())
            self.events.append(ev)
            self.log.append(("event", ev))
            return ("event", ev)
        rep = Reply(xid, zxid, err, body)
        self.log.append(("reply", rep))
        if zxid > 0 and xid not in (PING_XID, AUTH_XID):
            self.last_zxid = max(self.last_zxid, zxid)
        return ("reply", rep)

    def next_xid(self):
        self.xid += 1
        return self.xid

    def send_request(self, opcode, body=b"", xid=None):
        xid = self.next_xid() if xid is None else xid
        self.send_frame(p_int(xid) + p_int(opcode) + body)
        return xid

    def wait_reply(self, xid, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            kind, v = self.read_one(timeout=max(0.01, deadline - time.monotonic()))
            if kind == "reply":
                assert v.xid == xid, f"reply xid {v.xid} while waiting for {xid} (out of order)"
                return v

    def call(self, opcode, body=b"", xid=None, timeout=None):
        return self.wait_reply(self.send_request(opcode, body, xid), timeout)

    def wait_event(self, timeout=5.0):
        """Next notification (already read or arriving within timeout)."""
        deadline = time.monotonic() + timeout
        while not self.events:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no watch event")
            kind, v = self.read_one(timeout=left)
            assert kind == "event", f"unexpected reply {v} while waiting for an event"
        return self.events.popleft()

    def no_event(self, timeout=0.3):
        """True if no notification arrives within timeout (a bounded
        negative check; use after a round trip that would have carried it)."""
        if self.events:
            return False
        try:
            self.read_one(timeout=timeout)
        except socket.timeout:
            return True
        return not self.events

    def close_socket(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- handshake

    def connect(self, timeout_ms=30000, session_id=0, passwd=b"\0" * 16, read_only=False,
                last_zxid=0, old_client=False, expect_ok=True):
        body = p_int(0) + p_long(last_zxid) + p_int(timeout_ms) + p_long(session_id) + p_buffer(passwd)
        if not old_client:
            body += p_bool(read_only)
        self.send_frame(body)
        frame = self.recv_frame()
        r = Reader(frame)
        proto, to, sid, pw = r.int(), r.int(), r.long(), r.buffer()
        ro = r.bool() if r.remaining() else None
        resp = ConnectResponse(proto, to, sid, pw, ro)
        if expect_ok:
            assert to > 0, f"session refused: {resp}"
        self.session = resp
        return resp

    # -- operations; each raises ZkError on a non-zero err

    def _ok(self, rep, what):
        if rep.err != 0:
            raise ZkError(rep.err, what)
        return Reader(rep.body)

    def ping(self):
        return self.call(PING, xid=PING_XID)

    def close_session(self):
        return self.call(CLOSE_SESSION)

    def create(self, path, data=b"", acl=OPEN_ACL, flags=0, opcode=CREATE, ttl=None):
        body = p_string(path) + p_buffer(data) + p_acls(acl) + p_int(flags)
        if opcode == CREATE_TTL:
            body += p_long(ttl)
        r = self._ok(self.call(opcode, body), f"create {path}")
        if opcode == CREATE:
            return r.string()
        return r.string(), r.stat()

    def create2(self, path, data=b"", acl=OPEN_ACL, flags=0):
        return self.create(path, data, acl, flags, opcode=CREATE2)

    def create_container(self, path, data=b"", acl=OPEN_ACL):
        return self.create(path, data, acl, CONTAINER, opcode=CREATE_CONTAINER)

    def create_ttl(self, path, ttl, data=b"", acl=OPEN_ACL, flags=PERSISTENT_WITH_TTL):
        return self.create(path, data, acl, flags, opcode=CREATE_TTL, ttl=ttl)

    def delete(self, path, version=-1):
        self._ok(self.call(DELETE, p_string(path) + p_int(version)), f"delete {path}")

    def exists(self, path, watch=False):
        rep = self.call(EXISTS, p_string(path) + p_bool(watch))
        if rep.err == NO_NODE:
            return None
        return self._ok(rep, f"exists {path}").stat()

    def get_data(self, path, watch=False):
        r = self._ok(self.call(GET_DATA, p_string(path) + p_bool(watch)), f"getData {path}")
        return r.buffer(), r.stat()

    def set_data(self, path, data, version=-1):
        r = self._ok(self.call(SET_DATA, p_string(path) + p_buffer(data) + p_int(version)), f"setData {path}")
        return r.stat()

    def get_children(self, path, watch=False):
        r = self._ok(self.call(GET_CHILDREN, p_string(path) + p_bool(watch)), f"getChildren {path}")
        return r.vector(r.string)

    def get_children2(self, path, watch=False):
        r = self._ok(self.call(GET_CHILDREN2, p_string(path) + p_bool(watch)), f"getChildren2 {path}")
        return r.vector(r.string), r.stat()

    def get_acl(self, path):
        r = self._ok(self.call(GET_ACL, p_string(path)), f"getACL {path}")
        return r.vector(r.acl), r.stat()

    def set_acl(self, path, acl, version=-1):
        r = self._ok(self.call(SET_ACL, p_string(path) + p_acls(acl) + p_int(version)), f"setACL {path}")
        return r.stat()

    def sync(self, path):
        return self._ok(self.call(SYNC, p_string(path)), f"sync {path}").string()

    def multi(self, ops):
        rep = self.call(MULTI, encode_multi(ops))
        return rep, (decode_multi(rep.body) if rep.err == 0 else None)

    def multi_read(self, ops):
        rep = self.call(MULTI_READ, encode_multi(ops))
        return rep, (decode_multi(rep.body) if rep.err == 0 else None)

    def add_auth(self, scheme, cred):
        cred = cred.encode() if isinstance(cred, str) else cred
        return self.call(AUTH, p_int(0) + p_string(scheme) + p_buffer(cred), xid=AUTH_XID)

    def set_watches(self, rel_zxid, data=(), exist=(), child=()):
        body = p_long(rel_zxid) + p_vector(list(data), p_string) + p_vector(list(exist), p_string) + \
            p_vector(list(child), p_string)
        return self.call(SET_WATCHES, body, xid=SET_WATCHES_XID)

    def set_watches2(self, rel_zxid, data=(), exist=(), child=(), persistent=(), recursive=()):
        body = p_long(rel_zxid) + b"".join(p_vector(list(v), p_string)
                                           for v in (data, exist, child, persistent, recursive))
        return self.call(SET_WATCHES2, body, xid=SET_WATCHES_XID)

    def add_watch(self, path, mode):
        r = self._ok(self.call(ADD_WATCH, p_string(path) + p_int(mode)), f"addWatch {path}")
        return r.int()

    def check_watches(self, path, wtype):
        return self.call(CHECK_WATCHES, p_string(path) + p_int(wtype)).err

    def remove_watches(self, path, wtype):
        return self.call(REMOVE_WATCHES, p_string(path) + p_int(wtype)).err

    def get_ephemerals(self, prefix):
        r = self._ok(self.call(GET_EPHEMERALS, p_string(prefix)), f"getEphemerals {prefix}")
        return r.vector(r.string)

    def get_all_children_number(self, path):
        return self._ok(self.call(GET_ALL_CHILDREN_NUMBER, p_string(path)), f"getAllChildrenNumber {path}").int()

    def who_am_i(self):
        r = self._ok(self.call(WHO_AM_I), "whoAmI")
        return r.vector(lambda: (r.string(), r.string()))


def session(port, timeout_ms=30000, **kw):
    """A connected RawClient with a new session."""
    c = RawClient(port)
    c.connect(timeout_ms=timeout_ms, **kw)
    return c


def digest(user, password):
    """The ACL id of a digest credential: user:base64(sha1(user:password))."""
    import base64
    import hashlib
    h = hashlib.sha1(f"{user}:{password}".encode()).digest()
    return f"{user}:{base64.b64encode(h).decode()}"


def poll(pred, timeout=10.0, delay=0.05):
    """Bounded poll: pred() until truthy or timeout; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(delay)
