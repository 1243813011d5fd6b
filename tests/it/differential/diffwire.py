"""A minimal raw-socket ZooKeeper client for differential testing.

It speaks the jute wire protocol directly (zookeeper-protocol.md §1, §2) so
the test sees every byte the server sends: error codes, whole Stat records,
multi results, notifications and the order they arrive in. It never
retries, reconnects or reorders anything; a request is encoded once into
bytes (`encode_request`) so the very same frame can be sent to two servers.

Stdlib only: this runs under Debian's /usr/bin/python3.
"""
import socket
import struct
import time

# Opcodes (§2.4)
CREATE, DELETE, EXISTS, GET_DATA, SET_DATA, GET_ACL, SET_ACL = 1, 2, 3, 4, 5, 6, 7
GET_CHILDREN, SYNC, PING, GET_CHILDREN2, CHECK, MULTI = 8, 9, 11, 12, 13, 14
CREATE2, REMOVE_WATCHES, CREATE_CONTAINER, CREATE_TTL, MULTI_READ = 15, 18, 19, 21, 22
AUTH, GET_EPHEMERALS, GET_ALL_CHILDREN_NUMBER, ADD_WATCH, WHO_AM_I = 100, 103, 104, 106, 107
CLOSE_SESSION = -11

OP_NAMES = {
    1: "create", 2: "delete", 3: "exists", 4: "getData", 5: "setData", 6: "getACL",
    7: "setACL", 8: "getChildren", 9: "sync", 11: "ping", 12: "getChildren2", 13: "check",
    14: "multi", 15: "create2", 18: "removeWatches", 19: "createContainer", 21: "createTTL",
    22: "multiRead", 100: "auth", 103: "getEphemerals", 104: "getAllChildrenNumber",
    106: "addWatch", 107: "whoAmI", -11: "closeSession",
}

ERR_NAMES = {
    0: "OK", -2: "RuntimeInconsistency", -5: "MarshallingError", -6: "Unimplemented",
    -8: "BadArguments", -101: "NoNode", -102: "NoAuth", -103: "BadVersion",
    -108: "NoChildrenForEphemerals", -110: "NodeExists", -111: "NotEmpty",
    -112: "SessionExpired", -114: "InvalidACL", -115: "AuthFailed", -121: "NoWatcher",
}

EVENT_NAMES = {1: "NodeCreated", 2: "NodeDeleted", 3: "NodeDataChanged", 4: "NodeChildrenChanged"}

PING_XID, AUTH_XID, NOTIFICATION_XID = -2, -4, -1

STAT_FIELDS = ("czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion",
               "ephemeralOwner", "dataLength", "numChildren", "pzxid")


# ---------------------------------------------------------------- encoding

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
    return p_buffer(None if s is None else s.encode("utf-8"))


def p_acl(acl):
    """acl: list of (perms, scheme, id) or None for a null vector."""
    if acl is None:
        return p_int(-1)
    out = [p_int(len(acl))]
    for perms, scheme, ident in acl:
        out.append(p_int(perms) + p_string(scheme) + p_string(ident))
    return b"".join(out)


def create_body(path, data, acl, flags, ttl=None):
    body = p_string(path) + p_buffer(data) + p_acl(acl) + p_int(flags)
    if ttl is not None:
        body += p_long(ttl)
    return body


def multi_body(subops):
    """subops: list of (type, body bytes); appends the end marker (§2.5.1)."""
    out = [p_int(t) + p_bool(False) + p_int(-1) + b for t, b in subops]
    out.append(p_int(-1) + p_bool(True) + p_int(-1))
    return b"".join(out)


def connect_body(timeout_ms, session_id=0, passwd=b"\0" * 16, last_zxid=0):
    return p_int(0) + p_long(last_zxid) + p_int(timeout_ms) + p_long(session_id) + \
        p_buffer(passwd) + p_bool(False)


def frame(payload):
    return p_int(len(payload)) + payload


# ---------------------------------------------------------------- decoding

class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError(f"short record: need {n} bytes at {self.pos} of {len(self.data)}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def int(self):
        return struct.unpack(">i", self.take(4))[0]

    def long(self):
        return struct.unpack(">q", self.take(8))[0]

    def bool(self):
        return self.take(1)[0]  # raw byte: the test checks it is exactly 0 or 1

    def buffer(self):
        n = self.int()
        return None if n == -1 else self.take(n)

    def string(self):
        b = self.buffer()
        return None if b is None else b.decode("utf-8", errors="replace")

    def vector(self, elem):
        n = self.int()
        if n == -1:
            return None
        if n < 0 or n > len(self.data):
            raise ValueError(f"bad vector count {n}")
        return [elem() for _ in range(n)]

    def stat(self):
        return {f: (self.int() if f in ("version", "cversion", "aversion", "dataLength",
                                        "numChildren") else self.long())
                for f in STAT_FIELDS}

    def acl_entry(self):
        return (self.int(), self.string(), self.string())

    def remaining(self):
        return len(self.data) - self.pos


def java_random_bytes(seed, n):
    """java.util.Random(seed).nextBytes(n) (§2.2.4)."""
    mask = (1 << 48) - 1
    s = (seed ^ 0x5DEECE66D) & mask
    out = bytearray()
    while len(out) < n:
        s = (s * 0x5DEECE66D + 0xB) & mask
        r = s >> 16
        for _ in range(4):
            if len(out) < n:
                out.append(r & 0xff)
            r >>= 8
    return bytes(out)


def expected_passwd(session_id):
    return java_random_bytes((session_id ^ 0xB3415C00) & 0xffffffffffffffff, 16)


def parse_body(opcode, r, subops=None):
    """Decode a successful reply body of `opcode` into plain Python values."""
    if opcode == CREATE:
        return {"path": r.string()}
    if opcode in (CREATE2, CREATE_CONTAINER, CREATE_TTL):
        return {"path": r.string(), "stat": r.stat()}
    if opcode in (DELETE, PING, CLOSE_SESSION, AUTH, REMOVE_WATCHES, CHECK):
        return {}
    if opcode in (EXISTS, SET_DATA, SET_ACL):
        return {"stat": r.stat()}
    if opcode == GET_DATA:
        return {"data": r.buffer(), "stat": r.stat()}
    if opcode == GET_ACL:
        return {"acl": r.vector(r.acl_entry), "stat": r.stat()}
    if opcode in (GET_CHILDREN, GET_EPHEMERALS):
        return {"names": r.vector(r.string)}
    if opcode == GET_CHILDREN2:
        return {"names": r.vector(r.string), "stat": r.stat()}
    if opcode == SYNC:
        return {"path": r.string()}
    if opcode == GET_ALL_CHILDREN_NUMBER:
        return {"number": r.int()}
    if opcode == ADD_WATCH:
        return {"err": r.int()}
    if opcode == WHO_AM_I:
        return {"ids": r.vector(lambda: (r.string(), r.string()))}
    if opcode in (MULTI, MULTI_READ):
        return {"results": parse_multi(r)}
    raise ValueError(f"no parser for opcode {opcode}")


def parse_multi(r):
    results = []
    for _ in range(10000):
        typ, done, err = r.int(), r.bool(), r.int()
        if done:
            results.append({"end": (typ, done, err)})
            return results
        res = {"type": typ, "done": done, "err": err}
        if typ == -1:
            res["errResponse"] = r.int()
        else:
            res.update(parse_body(typ, r))
        results.append(res)
    raise ValueError("multi response without end marker")


# ---------------------------------------------------------------- connection

class Conn:
    """One TCP connection = one session. Frames are read in arrival order;
    replies are matched against the queue of requests sent (FIFO)."""

    def __init__(self, host, port, io_timeout=10.0):
        self.host, self.port = host, port
        self.io_timeout = io_timeout
        self.sock = None
        self.buf = b""
        self.pending = []  # (xid, opcode)
        self.closed = False
        self.session_id = None

    def open(self, session_timeout_ms):
        self.sock = socket.create_connection((self.host, self.port), timeout=self.io_timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(frame(connect_body(session_timeout_ms)))
        payload = self.read_payload()
        if payload is None:
            return {"eof": True}
        r = Reader(payload)
        resp = {"protocolVersion": r.int(), "timeOut": r.int(), "sessionId": r.long(),
                "passwd": r.buffer()}
        resp["readOnly"] = r.bool() if r.remaining() else None
        resp["trailing"] = r.remaining()
        self.session_id = resp["sessionId"]
        return resp

    def send(self, xid, opcode, body):
        if self.closed:
            return
        self.pending.append((xid, opcode))
        try:
            self.sock.sendall(frame(p_int(xid) + p_int(opcode) + body))
        except OSError:
            self.closed = True

    def read_payload(self):
        """Next frame payload, or None on EOF/timeout/reset (recorded by caller)."""
        deadline = time.monotonic() + self.io_timeout
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">i", self.buf[:4])[0]
                if n < 0 or n > 64 << 20:
                    raise ValueError(f"bad frame length {n}")
                if len(self.buf) >= 4 + n:
                    payload = self.buf[4:4 + n]
                    self.buf = self.buf[4 + n:]
                    return payload
            left = deadline - time.monotonic()
            if left <= 0:
                self.timed_out = True
                return None
            self.sock.settimeout(left)
            try:
                b = self.sock.recv(1 << 16)
            except socket.timeout:
                self.timed_out = True
                return None
            except OSError:
                b = b""
            if not b:
                return None
            self.buf += b

    def read_frame(self):
        """Read one frame and decode it. Returns a dict; kind is 'reply',
        'event', 'eof' or 'timeout'."""
        self.timed_out = False
        payload = self.read_payload()
        if payload is None:
            self.closed = True
            return {"kind": "timeout" if self.timed_out else "eof"}
        r = Reader(payload)
        xid, zxid, err = r.int(), r.long(), r.int()
        if xid == NOTIFICATION_XID:
            ev = {"kind": "event", "zxid": zxid, "err": err, "type": r.int(), "state": r.int(),
                  "path": r.string(), "trailing": r.remaining()}
            return ev
        if not self.pending:
            return {"kind": "unexpected", "xid": xid, "zxid": zxid, "err": err,
                    "raw": payload[16:].hex()}
        want_xid, opcode = self.pending.pop(0)
        rep = {"kind": "reply", "op": OP_NAMES.get(opcode, opcode), "xid": xid,
               "zxid": zxid, "err": err}
        if want_xid != xid:
            rep["expected_xid"] = want_xid
        if err != 0:
            # error replies are the header alone (§2.3); keep any body verbatim
            if r.remaining():
                rep["raw"] = payload[16:].hex()
            return rep
        try:
            rep["body"] = parse_body(opcode, r)
        except ValueError as e:
            rep["undecodable"] = str(e)
            rep["raw"] = payload[16:].hex()
            return rep
        rep["trailing"] = r.remaining()
        return rep

    def read_until_reply(self):
        """Frames up to and including the reply to the oldest pending request
        (or EOF/timeout)."""
        frames = []
        for _ in range(100000):
            f = self.read_frame()
            frames.append(f)
            if f["kind"] != "event":
                return frames
        raise RuntimeError("unbounded notification stream")

    def close(self):
        self.closed = True
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
