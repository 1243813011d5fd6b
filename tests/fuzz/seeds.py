#!/usr/bin/python3
"""Write the seed corpora of fuzz_node and fuzz_apply.

    /usr/bin/python3 tests/fuzz/seeds.py [OUT_DIR]   (default tests/fuzz/corpus)

fuzz_node seeds are scripts (format at the top of fuzz_node.c) that get
past the handshake and then send valid requests of every opcode, so the
fuzzer starts from deep states; fuzz_apply seeds are txns of every type as
prep would log them (format at the top of fuzz_apply.c). Request bodies
come from tests/it/zkwire.py, the raw client the integration tests use.
The corpora are then grown by fuzzing and minimised with -merge=1; this
script only gives them a start."""
import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "it"))
import zkwire as z  # noqa: E402
from zkwire import p_int, p_long, p_bool, p_buffer, p_string, p_vector, p_acls  # noqa: E402

T0 = 1700000000000
S1 = 0x0100018bcfe56800  # fuzz_apply's sessions
S2 = 0x0100018bcfe56801


# ---- fuzz_node scripts ---------------------------------------------------

def first_session_id(k=0):
    """The k-th session id the node hands out (§2.9.2, now = T0)."""
    return ((((T0 << 24) & (2 ** 64 - 1)) >> 8) | (1 << 56)) + k


def password(sid):
    """java.util.Random(sid ^ 0xB3415C00).nextBytes(16)."""
    mask = (1 << 48) - 1
    seed = ((sid ^ 0xB3415C00) ^ 0x5DEECE66D) & mask
    out = b""
    while len(out) < 16:
        seed = (seed * 0x5DEECE66D + 0xB) & mask
        r = (seed >> 16) & 0xffffffff
        out += bytes((r >> (8 * k)) & 0xff for k in range(4))
    return out


def digest_id(user, pw):
    import base64
    return user + ":" + base64.b64encode(hashlib.sha1(f"{user}:{pw}".encode()).digest()).decode()


class Script:
    def __init__(self, slots=1):
        self.b = bytearray([slots - 1])
        self.xid = 0

    def frame(self, slot, payload):
        assert len(payload) < 65536
        self.b += bytes([slot]) + struct.pack(">H", len(payload)) + payload
        return self

    def connect(self, slot, timeout=30000, sid=0, pw=b"\0" * 16, last_zxid=0):
        return self.frame(slot, p_int(0) + p_long(last_zxid) + p_int(timeout) + p_long(sid) +
                          p_buffer(pw) + p_bool(False))

    def req(self, slot, op, body=b"", xid=None):
        if xid is None:
            self.xid += 1
            xid = self.xid
        return self.frame(slot, p_int(xid) + p_int(op) + body)

    def persist(self):
        self.b.append(4 << 5)
        return self

    def persist_part(self, k):
        self.b.append(5 << 5 | k)
        return self

    def tick(self, arg):
        self.b.append(6 << 5 | arg)
        return self

    def close(self, slot):
        self.b.append(7 << 5 | 4 | slot)
        return self

    def reopen(self, slot):
        self.b.append(7 << 5 | 8 | slot)
        return self

    def shell_closes(self):
        self.b.append(7 << 5)
        return self

    def bytes(self):
        return bytes(self.b)


def pw_(path, watch=False):
    return p_string(path) + p_bool(watch)


def create_body(path, data=b"", acl=z.OPEN_ACL, flags=0, ttl=None):
    b = p_string(path) + p_buffer(data) + p_acls(acl) + p_int(flags)
    return b + (p_long(ttl) if ttl is not None else b"")


def node_seeds():
    seeds = {}
    digest_acl = [(z.PERM_ALL, "digest", digest_id("u", "p")), (z.PERM_READ, "world", "anyone")]

    # every opcode on one connection, each write made durable before the next
    s = Script(1).connect(0).persist()
    w = lambda op, body: s.req(0, op, body).persist()  # noqa: E731
    w(z.CREATE, create_body("/a", b"hello"))
    w(z.CREATE2, create_body("/a/b", b"x" * 40, digest_acl))
    w(z.CREATE, create_body("/e", b"", z.OPEN_ACL, z.EPHEMERAL))
    w(z.CREATE, create_body("/a/s-", b"", z.OPEN_ACL, z.PERSISTENT_SEQUENTIAL))
    w(z.CREATE_CONTAINER, create_body("/c", b"", z.OPEN_ACL, z.CONTAINER))
    w(z.CREATE, create_body("/c/kid", b"k"))
    w(z.CREATE_TTL, create_body("/t", b"", z.OPEN_ACL, z.PERSISTENT_WITH_TTL, 5000))
    s.req(0, z.GET_DATA, pw_("/a", True))
    s.req(0, z.EXISTS, pw_("/nope", True))
    s.req(0, z.GET_CHILDREN, pw_("/a", True))
    s.req(0, z.GET_CHILDREN2, pw_("/", True))
    s.req(0, z.GET_ACL, p_string("/a/b"))
    w(z.SET_DATA, p_string("/a") + p_buffer(b"v2") + p_int(-1))
    w(z.SET_ACL, p_string("/a") + p_acls(digest_acl) + p_int(0))
    s.req(0, z.AUTH, p_int(0) + p_string("digest") + p_buffer(b"u:p"), xid=-4)
    s.req(0, z.SYNC, p_string("/a"))
    w(z.MULTI, z.encode_multi([("create", "/m", b"1", z.OPEN_ACL, 0), ("setData", "/m", b"2", -1),
                               ("check", "/m", 1), ("create2", "/m/n", b"", z.OPEN_ACL, 0),
                               ("delete", "/m/n", -1)]))
    w(z.MULTI, z.encode_multi([("create", "/m", b"", z.OPEN_ACL, 0), ("delete", "/zz", -1)]))
    s.req(0, z.MULTI_READ, z.encode_multi([("getData", "/m"), ("getChildren", "/"),
                                           ("getData", "/missing")]))
    s.req(0, z.ADD_WATCH, p_string("/a") + p_int(z.AW_PERSISTENT))
    s.req(0, z.ADD_WATCH, p_string("/") + p_int(z.AW_PERSISTENT_RECURSIVE))
    s.req(0, z.CHECK_WATCHES, p_string("/a") + p_int(z.WT_DATA))
    s.req(0, z.REMOVE_WATCHES, p_string("/a") + p_int(z.WT_ANY))
    s.req(0, z.SET_WATCHES, p_long(0) + p_vector(["/a"], p_string) + p_vector(["/q"], p_string) +
          p_vector(["/"], p_string), xid=-8)
    s.req(0, z.SET_WATCHES2, p_long(0) + b"".join(p_vector(v, p_string) for v in
                                                   (["/a"], ["/q"], ["/"], ["/m"], ["/c"])), xid=-8)
    s.req(0, z.GET_EPHEMERALS, p_string("/"))
    s.req(0, z.GET_ALL_CHILDREN_NUMBER, p_string("/a"))
    s.req(0, z.WHO_AM_I)
    s.req(0, z.PING, xid=-2)
    w(z.DELETE, p_string("/a/b") + p_int(-1))
    w(z.SET_DATA, p_string("/zookeeper/config") + p_buffer(b"") + p_int(-1))
    w(z.CLOSE_SESSION, b"")
    s.shell_closes()
    seeds["all_opcodes"] = s.bytes()

    # pipelined writes and reads, made durable a little at a time
    s = Script(1).connect(0).persist()
    for i in range(6):
        s.req(0, z.CREATE, create_body(f"/p{i}", b"d"))
        s.req(0, z.GET_DATA, pw_(f"/p{i}", True))
    s.req(0, z.DELETE, p_string("/p0") + p_int(-1))
    s.req(0, z.GET_CHILDREN2, pw_("/"))
    s.persist_part(1).persist_part(0).persist_part(2).persist()
    seeds["pipelined"] = s.bytes()

    # two connections: watches fire across them; auth, ACL denials
    s = Script(2).connect(0).connect(1).persist()
    s.req(0, z.CREATE, create_body("/w", b"")).persist()
    s.req(0, z.GET_DATA, pw_("/w", True)).req(0, z.GET_CHILDREN, pw_("/w", True))
    s.req(0, z.ADD_WATCH, p_string("/w") + p_int(z.AW_PERSISTENT_RECURSIVE))
    s.req(1, z.CREATE, create_body("/w/x", b"", digest_acl, z.EPHEMERAL))
    s.req(1, z.SET_DATA, p_string("/w") + p_buffer(b"changed") + p_int(-1))
    s.persist()
    s.req(0, z.GET_DATA, pw_("/w/x"))
    s.req(1, z.AUTH, p_int(0) + p_string("digest") + p_buffer(b"super:test"), xid=-4)
    s.req(1, z.DELETE, p_string("/w/x") + p_int(-1)).persist()
    s.req(1, z.AUTH, p_int(0) + p_string("nosuch") + p_buffer(b"x"), xid=-4)
    s.shell_closes().req(1, z.PING, xid=-2)
    seeds["two_conns"] = s.bytes()

    # a second connection takes over the first one's session
    sid = first_session_id()
    s = Script(2).connect(0, 10000).persist()
    s.req(0, z.CREATE, create_body("/eph", b"", z.OPEN_ACL, z.EPHEMERAL)).persist()
    s.req(0, z.EXISTS, pw_("/eph", True))
    s.connect(1, 10000, sid, password(sid), last_zxid=2)
    s.req(1, z.GET_DATA, pw_("/eph", True)).shell_closes()
    s.connect(0, 10000, sid, b"\1" * 16)
    s.req(1, z.CLOSE_SESSION, b"").persist()
    seeds["reattach"] = s.bytes()

    # requests behind the handshake (auth, setWatches), then expiry by the clock
    s = Script(3).connect(0, 4000)
    s.req(0, z.AUTH, p_int(0) + p_string("digest") + p_buffer(b"u:p"), xid=-4)
    s.req(0, z.SET_WATCHES, p_long(0) + p_vector(["/x"], p_string) + p_vector([], p_string) +
          p_vector([], p_string), xid=-8)
    s.req(0, z.CREATE, create_body("/x", b"", digest_acl, z.EPHEMERAL_SEQUENTIAL))
    s.connect(1, 40000).connect(2, 6000).persist()
    s.req(2, z.CREATE, create_body("/x2", b"", z.OPEN_ACL, z.EPHEMERAL)).persist()
    s.tick(4).tick(4).tick(4).tick(6).persist().tick(8).persist().shell_closes()
    s.req(1, z.GET_EPHEMERALS, p_string("/"))
    seeds["handshake_expiry"] = s.bytes()

    # containers and TTL nodes reaped by the clock
    s = Script(1).connect(0, 40000).persist()
    s.req(0, z.CREATE_CONTAINER, create_body("/k", b"", z.OPEN_ACL, z.CONTAINER))
    s.req(0, z.CREATE, create_body("/k/c", b""))
    s.req(0, z.CREATE_TTL, create_body("/ttl", b"", z.OPEN_ACL, z.PERSISTENT_SEQUENTIAL_WITH_TTL, 100))
    s.req(0, z.DELETE, p_string("/k/c") + p_int(-1)).persist()
    for _ in range(3):
        s.req(0, z.PING, xid=-2).tick(15).persist()
    s.req(0, z.GET_CHILDREN, pw_("/"))
    seeds["reaper"] = s.bytes()

    # protocol abuse: short frames, unknown opcodes, closes in flight
    s = Script(3).connect(0).connect(1).frame(2, b"\0\0\0").persist()
    s.frame(0, b"\0\0\0\1")
    s.req(1, z.CREATE, create_body("/q", b"")).req(1, 999, b"").req(1, z.GET_DATA, pw_("/q"))
    s.close(1).persist().reopen(1).connect(1).persist().shell_closes()
    s.req(1, 102, b"").req(1, 16, p_string("") + p_string("") + p_string("") + p_long(-1))
    s.persist()
    seeds["abuse"] = s.bytes()
    return seeds


# ---- fuzz_apply txns -----------------------------------------------------

def hdr(client, cxid, zxid, typ, time=T0 + 5000):
    return p_long(client) + p_int(cxid) + p_long(zxid) + p_long(time) + p_int(typ)


def ctxn(path, data=b"", acl=z.OPEN_ACL, eph=False, pcv=-1):
    return p_string(path) + p_buffer(data) + p_acls(acl) + p_bool(eph) + p_int(pcv)


def sub(typ, body):
    return p_int(typ) + p_buffer(body)


def apply_seeds():
    txns = {
        "create": hdr(S1, 3, 10, z.CREATE) + ctxn("/n", b"data"),
        "create_eph": hdr(S1, 3, 10, z.CREATE) + ctxn("/a/b/e", b"", eph=True, pcv=5),
        "create_v0": hdr(S2, 1, 10, z.CREATE) + p_string("/old") + p_buffer(b"") + p_acls(z.OPEN_ACL) +
        p_bool(False),
        "create2": hdr(S1, 3, 10, z.CREATE2) + ctxn("/new", b"", [(1, "ip", "10.0.0.0/8")]),
        "container": hdr(S1, 3, 10, z.CREATE_CONTAINER) + p_string("/c/k") + p_buffer(b"") +
        p_acls(z.OPEN_ACL) + p_int(-1),
        "ttl": hdr(S1, 3, 10, z.CREATE_TTL) + p_string("/tt") + p_buffer(b"") + p_acls(z.OPEN_ACL) +
        p_int(-1) + p_long(60000),
        "delete": hdr(S1, 4, 11, z.DELETE) + p_string("/a/e1"),
        "delete_container": hdr(0, 0, 11, 20) + p_string("/c"),
        "set_data": hdr(S2, 5, 12, z.SET_DATA) + p_string("/a") + p_buffer(b"new") + p_int(1),
        "set_acl": hdr(S2, 5, 12, z.SET_ACL) + p_string("/a/b") + p_acls(z.OPEN_ACL) + p_int(1),
        "reconfig": hdr(S2, 5, 12, 16) + p_string("/zookeeper/config") + p_buffer(b"server.1=x") + p_int(1),
        "error": hdr(S2, 6, 13, -1) + p_int(-101),
        "create_session": hdr(0x0100018bcfe56900, 0, 14, -10) + p_int(6000),
        "close_session": hdr(S1, 0, 15, -11) + p_vector(["/a/e1"], p_string),
        "close_session_old": hdr(S2, 0, 15, -11),
        "check": hdr(S1, 7, 16, z.CHECK) + p_string("/a") + p_int(0),
        "multi_ok": hdr(S1, 8, 17, z.MULTI) + p_vector([
            sub(z.CREATE, ctxn("/a/m", b"1")),
            sub(z.SET_DATA, p_string("/a/m") + p_buffer(b"2") + p_int(1)),
            sub(z.CHECK, p_string("/a") + p_int(0)),
            sub(z.CREATE2, ctxn("/a/m2")),
            sub(19, p_string("/a/m3") + p_buffer(b"") + p_acls(z.OPEN_ACL) + p_int(-1)),
            sub(z.DELETE, p_string("/a/m2"))], lambda x: x),
        "multi_failed": hdr(S1, 9, 18, z.MULTI) + p_vector([sub(-1, p_int(0)), sub(-1, p_int(-101)),
                                                            sub(-1, p_int(-2))], lambda x: x),
        "with_digest": hdr(S1, 3, 10, z.CREATE) + ctxn("/d") + p_int(2) + p_long(0x1234567890),
    }
    seeds = {}
    for name, t in txns.items():
        seeds[name] = b"\0" + struct.pack(">H", len(t)) + t
    seq = [txns[k] for k in ("create", "create2", "set_data", "delete", "close_session", "multi_ok",
                             "set_acl", "close_session_old")]
    seeds["sequence"] = b"\0" + b"".join(struct.pack(">H", len(t)) + t for t in seq)
    seeds["sequence_nottl"] = b"\3" + seeds["sequence"][1:]
    return seeds


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "corpus")
    for target, seeds in (("fuzz_node", node_seeds()), ("fuzz_apply", apply_seeds())):
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, "seed_" + name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
