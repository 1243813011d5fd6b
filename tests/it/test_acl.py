"""ACLs and authentication: getACL/setACL with aversion, addAuth digest,
enforcement for the world, auth, digest and ip schemes, the super user,
whoAmI."""
import pytest
from kazoo.exceptions import BadVersionError, InvalidACLError, NoAuthError
from kazoo.security import ACL, Id, make_digest_acl

import zkwire as w
from itutil import zabd_only

SUPER_PW = "s3cret"


def test_default_acl_and_stat(zk):
    zk.create("/a", b"")
    acls, st = zk.get_acls("/a")
    assert acls == [ACL(31, Id("world", "anyone"))]
    assert st.aversion == 0


def test_special_node_acls(raw):
    acl, st = raw.get_acl("/zookeeper/config")
    assert acl == [(w.PERM_READ, "world", "anyone")] and st.aversion == -1
    assert raw.get_acl("/")[0] == [(31, "world", "anyone")]
    assert raw.get_acl("/zookeeper")[0] == [(31, "world", "anyone")]
    assert raw.get_acl("/zookeeper/quota")[0] == [(31, "world", "anyone")]


def test_set_acl_aversion(zk):
    zk.create("/v", b"")
    ro = [ACL(17, Id("world", "anyone"))]     # keeps ADMIN for the next setACL
    with pytest.raises(BadVersionError):
        zk.set_acls("/v", ro, version=1)
    st = zk.set_acls("/v", ro, version=0)
    assert st.aversion == 1 and st.version == 0
    st = zk.set_acls("/v", [ACL(31, Id("world", "anyone"))], version=-1)
    assert st.aversion == 2
    acls, st = zk.get_acls("/v")
    assert acls == [ACL(31, Id("world", "anyone"))] and st.aversion == 2


def test_set_acl_errors(raw):
    assert raw.call(w.SET_ACL, w.p_string("/nope") + w.p_acls(w.OPEN_ACL) + w.p_int(-1)).err == w.NO_NODE
    assert raw.call(w.SET_ACL, w.p_string("/bad/") + w.p_acls(w.OPEN_ACL) + w.p_int(-1)).err == w.BAD_ARGUMENTS
    raw.create("/n", b"")
    assert raw.call(w.SET_ACL, w.p_string("/n") + w.p_acls([]) + w.p_int(-1)).err == w.INVALID_ACL
    assert raw.call(w.GET_ACL, w.p_string("/nope")).err == w.NO_NODE


@pytest.mark.parametrize("acl", [
    [],
    [(31, "world", "bob")],
    [(31, "digest", "nocolon")],
    [(31, "digest", "u:")],
    [(31, "digest", "u:h:x")],
    [(31, "ip", "999.1.1.1")],
    [(31, "ip", "10.0.0.0/33")],
    [(31, "ip", "not-an-ip")],
    [(31, "nosuchscheme", "x")],
    [(31, "auth", "")],            # no authenticated id on this connection
])
def test_invalid_acls(raw, acl):
    rep = raw.call(w.CREATE, w.p_string("/i") + w.p_buffer(b"") + w.p_acls(acl) + w.p_int(0))
    assert rep.err == w.INVALID_ACL
    assert raw.exists("/i") is None


def test_valid_unusual_acls(raw):
    # perms are not validated; digest ids only need two ':' parts; duplicates collapse
    cases = {"/p0": [(0, "world", "anyone")], "/p255": [(255, "world", "anyone")],
             "/dg": [(31, "digest", "u:h"), (31, "digest", ":h")],
             "/dup": [(31, "world", "anyone"), (31, "world", "anyone")],
             "/ipm": [(31, "ip", "10.1.0.0/16"), (1, "ip", "127.0.0.1")]}
    for path, acl in cases.items():
        raw.create(path, b"", acl=acl)
    assert raw.get_acl("/dup")[0] == [(31, "world", "anyone")]
    assert raw.get_acl("/ipm")[0] == [(31, "ip", "10.1.0.0/16"), (1, "ip", "127.0.0.1")]


def test_world_read_only(zk):
    zk.create("/ro", b"x", acl=[ACL(1, Id("world", "anyone"))])
    assert zk.get("/ro")[0] == b"x"
    assert zk.get_children("/ro") == []
    with pytest.raises(NoAuthError):
        zk.set("/ro", b"y")
    with pytest.raises(NoAuthError):
        zk.create("/ro/child", b"")
    with pytest.raises(NoAuthError):
        zk.set_acls("/ro", [ACL(31, Id("world", "anyone"))])
    # getACL needs READ or ADMIN: READ is enough
    assert zk.get_acls("/ro")[0] == [ACL(1, Id("world", "anyone"))]
    # delete needs DELETE on the parent (root is open), not on the node
    zk.delete("/ro")


def test_permission_bits_one_by_one(raw_factory):
    own = raw_factory()
    own.add_auth("digest", "owner:pw")
    other = raw_factory()
    oid = w.digest("owner", "pw")
    perms = {"r": w.PERM_READ, "w": w.PERM_WRITE, "c": w.PERM_CREATE, "d": w.PERM_DELETE, "a": w.PERM_ADMIN}
    for name, bit in perms.items():
        own.create("/" + name, b"", acl=[(bit, "world", "anyone"), (31, "digest", oid)])
        own.create("/" + name + "/kid", b"", acl=w.OPEN_ACL)

    def err(op, body):
        return other.call(op, body).err
    for name, bit in perms.items():
        p = "/" + name
        got = {
            "read": err(w.GET_DATA, w.p_string(p) + w.p_bool(False)),
            "children": err(w.GET_CHILDREN, w.p_string(p) + w.p_bool(False)),
            "write": err(w.SET_DATA, w.p_string(p) + w.p_buffer(b"x") + w.p_int(-1)),
            "create": err(w.CREATE, w.p_string(p + "/new") + w.p_buffer(b"") + w.p_acls(w.OPEN_ACL) + w.p_int(0)),
            "admin": err(w.SET_ACL, w.p_string(p) + w.p_acls([(bit, "world", "anyone"), (31, "digest", oid)]) +
                         w.p_int(-1)),
            "getacl": err(w.GET_ACL, w.p_string(p)),
        }
        want = {"read": bit & 1, "children": bit & 1, "write": bit & 2, "create": bit & 4,
                "admin": bit & 16, "getacl": bit & 17}
        for k, allowed in want.items():
            assert got[k] == (0 if allowed else w.NO_AUTH), (name, k, got[k])
        # DELETE is checked on the parent, before the child's existence
        assert err(w.DELETE, w.p_string(p + "/none") + w.p_int(-1)) == (w.NO_NODE if bit & 8 else w.NO_AUTH)
        assert err(w.DELETE, w.p_string(p + "/kid") + w.p_int(-1)) == (0 if bit & 8 else w.NO_AUTH)
        # check inside a multi needs READ
        _, res = other.multi([("check", p, -1)])
        assert res[0][1] == (0 if bit & 1 else w.NO_AUTH), (name, "check")


def test_digest_auth(kazoo_factory):
    owner = kazoo_factory(auth_data=[("digest", "alice:pw")])
    owner.create("/d", b"secret", acl=[make_digest_acl("alice", "pw", all=True)])
    assert owner.get("/d")[0] == b"secret"
    anon = kazoo_factory()
    with pytest.raises(NoAuthError):
        anon.get("/d")
    wrong = kazoo_factory(auth_data=[("digest", "alice:nope")])
    with pytest.raises(NoAuthError):
        wrong.get("/d")
    right = kazoo_factory(auth_data=[("digest", "alice:pw")])
    assert right.get("/d")[0] == b"secret"
    # a second credential added later on a live connection works too
    anon.add_auth("digest", "alice:pw")
    assert anon.get("/d")[0] == b"secret"


def test_digest_id_is_sha1_base64(raw):
    raw.add_auth("digest", "user:password")
    raw.create("/h", b"", acl=[(31, "auth", "")])
    acl, _ = raw.get_acl("/h")
    assert acl == [(31, "digest", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=")]
    assert w.digest("user", "password") == "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY="


def test_auth_scheme_expands_to_all_authenticated_ids(raw_factory):
    a = raw_factory()
    a.add_auth("digest", "u1:p1")
    a.add_auth("digest", "u2:p2")
    a.create("/two", b"", acl=[(w.PERM_READ | w.PERM_ADMIN, "auth", "ignored")])
    acl = sorted(a.get_acl("/two")[0])
    assert acl == sorted([(17, "digest", w.digest("u1", "p1")), (17, "digest", w.digest("u2", "p2"))])
    b = raw_factory()
    assert b.call(w.GET_DATA, w.p_string("/two") + w.p_bool(False)).err == w.NO_AUTH
    b.add_auth("digest", "u2:p2")
    assert b.get_data("/two")[0] == b""


def test_add_auth_reply(raw):
    rep = raw.add_auth("digest", "user:password")
    assert (rep.xid, rep.zxid, rep.err, rep.body) == (-4, 0, 0, b"")


def test_add_auth_unknown_scheme_fails_and_closes(raw_factory):
    c = raw_factory()
    c.create("/keep", b"")
    rep = c.add_auth("nosuch", "x")
    assert rep.xid == -4 and rep.err == w.AUTH_FAILED
    assert c.closed_by_server(5.0)
    assert raw_factory().exists("/keep") is not None


def test_ip_acl(zk):
    zk.create("/ip-ok", b"1", acl=[ACL(31, Id("ip", "127.0.0.1"))])
    zk.create("/ip-net", b"2", acl=[ACL(31, Id("ip", "127.0.0.0/8"))])
    zk.create("/ip-no", b"3", acl=[ACL(31, Id("ip", "10.0.0.0/8"))])
    zk.create("/ip-host", b"4", acl=[ACL(31, Id("ip", "10.1.2.3"))])
    assert zk.get("/ip-ok")[0] == b"1"
    assert zk.get("/ip-net")[0] == b"2"
    with pytest.raises(NoAuthError):
        zk.get("/ip-no")
    with pytest.raises(NoAuthError):
        zk.get("/ip-host")


def test_who_am_i(raw):
    assert raw.who_am_i() == [("ip", "127.0.0.1")]
    raw.add_auth("digest", "user:password")
    raw.add_auth("digest", "user:password")          # duplicates collapse
    assert sorted(raw.who_am_i()) == [("digest", "user"), ("ip", "127.0.0.1")]


def test_get_acl_masks_digest_without_admin(raw_factory):
    a = raw_factory()
    a.create("/m", b"", acl=[(w.PERM_READ, "world", "anyone"), (31, "digest", w.digest("u", "p"))])
    acl, _ = a.get_acl("/m")
    assert acl == [(1, "world", "anyone"), (31, "digest", "u:x")]
    a.add_auth("digest", "u:p")
    assert a.get_acl("/m")[0] == [(1, "world", "anyone"), (31, "digest", w.digest("u", "p"))]


def test_acl_change_applies_to_later_requests(zk, kazoo_factory):
    zk.create("/chg", b"")
    other = kazoo_factory()
    other.set("/chg", b"1")
    zk.set_acls("/chg", [ACL(1, Id("world", "anyone"))])
    with pytest.raises(NoAuthError):
        other.set("/chg", b"2")
    assert other.get("/chg")[0] == b"1"


def test_invalid_acl_from_kazoo(zk):
    with pytest.raises(InvalidACLError):
        zk.create("/bad", b"", acl=[ACL(31, Id("world", "someone"))])


@pytest.fixture
def super_server(server_factory):
    return server_factory({"DigestAuthenticationProvider.superDigest": w.digest("super", SUPER_PW)})


def test_super_user_bypasses_acls(super_server, kazoo_factory):
    owner = kazoo_factory(super_server, auth_data=[("digest", "alice:pw")])
    owner.create("/locked", b"x", acl=[make_digest_acl("alice", "pw", all=True)])
    owner.create("/locked/kid", b"k", acl=[make_digest_acl("alice", "pw", all=True)])
    anon = kazoo_factory(super_server)
    with pytest.raises(NoAuthError):
        anon.get("/locked")
    su = kazoo_factory(super_server, auth_data=[("digest", "super:" + SUPER_PW)])
    assert su.get("/locked")[0] == b"x"
    su.set("/locked", b"y")
    assert su.get_acls("/locked")[0] == [make_digest_acl("alice", "pw", all=True)], "super sees unmasked ids"
    su.create("/locked/new", b"")
    su.delete("/locked/kid")
    su.set_acls("/locked", [ACL(1, Id("world", "anyone"))])
    assert anon.get("/locked")[0] == b"y"


def test_wrong_super_password_is_just_a_digest(super_server, kazoo_factory):
    owner = kazoo_factory(super_server, auth_data=[("digest", "alice:pw")])
    owner.create("/l2", b"x", acl=[make_digest_acl("alice", "pw", all=True)])
    notsu = kazoo_factory(super_server, auth_data=[("digest", "super:wrong")])
    with pytest.raises(NoAuthError):
        notsu.get("/l2")


@zabd_only
def test_auth_reply_in_request_order(raw):
    # Java answers AuthPacket out of band (doc §2.3); in-order replies are what kazoo needs
    xids = [raw.send_request(w.CREATE, w.p_string(f"/o{i}") + w.p_buffer(b"") + w.p_acls(w.OPEN_ACL) + w.p_int(0))
            for i in range(100)]
    raw.send_request(w.AUTH, w.p_int(0) + w.p_string("digest") + w.p_buffer(b"u:p"), xid=w.AUTH_XID)
    after = raw.send_request(w.EXISTS, w.p_string("/o0") + w.p_bool(False))
    got = [raw.read_one()[1] for _ in range(102)]
    assert [r.xid for r in got] == xids + [w.AUTH_XID, after]
    assert all(r.err == 0 for r in got)


@zabd_only
def test_kazoo_add_auth_with_requests_in_flight(zk):
    zk.create("/busy", b"")
    pending = [zk.create_async(f"/busy/n{i}", b"") for i in range(100)]
    auth = zk.add_auth_async("digest", "u:p")
    more = [zk.exists_async("/busy") for _ in range(10)]
    assert [p.get(timeout=10) for p in pending] == [f"/busy/n{i}" for i in range(100)]
    assert auth.get(timeout=10) is True
    assert all(m.get(timeout=10) is not None for m in more)
    zk.create("/busy/mine", b"", acl=[make_digest_acl("u", "p", all=True)])
    assert zk.get("/busy/mine")[0] == b""


def test_exists_needs_no_read_permission(raw_factory):
    # 3.8.0 (Debian's oracle) answers exists without an ACL check (3.8.4 adds one)
    a, b = raw_factory(), raw_factory()
    a.create("/hidden", b"x", acl=[(w.PERM_ALL, "digest", w.digest("u", "p"))])
    assert b.exists("/hidden") is not None
    assert b.call(w.GET_DATA, w.p_string("/hidden") + w.p_bool(False)).err == w.NO_AUTH


def test_watch_events_filtered_by_read_permission(raw_factory):
    # CVE-2024-23944 (ZOOKEEPER-4799), in Debian's 3.8.0-11+deb12u2: no events
    # about nodes the watching connection cannot read
    owner, spy, friend = raw_factory(), raw_factory(), raw_factory()
    owner.add_auth("digest", "u:p")
    friend.add_auth("digest", "u:p")
    owner.create("/priv", b"", acl=[(w.PERM_ALL, "digest", w.digest("u", "p"))])
    assert spy.exists("/priv", watch=True) is not None
    assert spy.add_watch("/priv", w.AW_PERSISTENT_RECURSIVE) == 0
    assert friend.exists("/priv", watch=True) is not None
    owner.set_data("/priv", b"secret")
    assert friend.wait_event().type == w.NODE_DATA_CHANGED
    spy.sync("/")
    assert spy.no_event(0.3), "an unreadable node's changes are not announced"
