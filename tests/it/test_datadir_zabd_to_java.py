"""zabd's data directory opened by the Java ZooKeeper 3.8, and Java's opened
by zabd.

A real zabd (snapCount=300, preAllocSize=64 KiB) takes ~2500 txns of many
kinds - sessions, ephemerals of a session that is still open when the
server stops, sequentials, digest/ip/world/auth ACLs, setACL, multi (one
failing), failed deletes, a container, a closeSession with ephemerals,
pipelined setData - so the run spans several snapshots and log files. It is
stopped with SIGTERM (one case) or SIGKILL (the other); then a Java server
started on that data dir must serve the tree node by node as zabd served it
(data, children, ACLs, every Stat field). ZooKeeper's own TxnLogToolkit and
SnapshotFormatter, and zabdump, read every file zabd wrote without error
and agree on what is in them.

The other way round: the same load on a Java server, killed, and zabd
started on Java's data dir serves Java's tree; zabd then writes on, and a
Java server started on the result serves zabd's tree (a round trip).
(tests/it/test_datadir_java.py covers Java's files only through zabdump,
not through the server.)"""
import os
import shutil
import signal
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import JavaZkServer, ZabdServer  # noqa: E402
import zkwire as w  # noqa: E402
from test_datadir_java import ZABDUMP, compare_log, compare_snapshot, zabdump  # noqa: E402

from kazoo.client import KazooClient  # noqa: E402
from kazoo.exceptions import NoNodeError, NotEmptyError  # noqa: E402
from kazoo.security import ACL, Id, OPEN_ACL_UNSAFE, make_digest_acl  # noqa: E402

# slow: two zabd and three Java servers plus ~20 JVM tool runs (~1.5 min)
pytestmark = [pytest.mark.skipif(not os.path.exists(ZABDUMP), reason="zabdump not built"),
              pytest.mark.slow]

CFG = {"snapCount": "300", "preAllocSize": "64"}
SETS = 2400


def kazoo(hosts, auth=True):
    zk = KazooClient(hosts=hosts, timeout=30.0,
                     connection_retry={"max_tries": 1, "delay": 0.1, "max_delay": 0.2})
    zk.start(timeout=30)
    if auth:
        zk.add_auth("digest", "alice:secret")
    return zk


def walk(zk, path="/"):
    """Every node: {path: (data, Stat tuple, sorted children, ACLs)}."""
    data, st = zk.get(path)
    acl, _ = zk.get_acls(path)
    kids = sorted(zk.get_children(path))
    out = {path: (data, (st.czxid, st.mzxid, st.ctime, st.mtime, st.version, st.cversion, st.aversion,
                         st.ephemeralOwner, st.dataLength, st.numChildren, st.pzxid),
                  kids, sorted((a.perms, a.id.scheme, a.id.id) for a in acl))}
    for k in kids:
        out.update(walk(zk, path.rstrip("/") + "/" + k))
    return out


def served_tree(srv):
    zk = kazoo(srv.hosts)
    try:
        return walk(zk)
    finally:
        zk.stop()
        zk.close()


def load(srv, sets=SETS):
    """The workload; returns (tree as served, the still-open raw session)."""
    zk = kazoo(srv.hosts)
    zk.create("/app", b"root of the app")
    zk.create("/app/cfg", b"\x00\x01binary\xff", include_data=True)  # create2
    for i in range(30):
        zk.create("/app/seq-", str(i).encode(), sequence=True)
    zk.create("/app/deep/a/b/c", b"made", makepath=True)
    zk.create("/secret", b"s", acl=[make_digest_acl("alice", "secret", all=True)])
    zk.create("/byip", b"ip", acl=[ACL(31, Id("ip", "127.0.0.1")), ACL(1, Id("ip", "10.0.0.0/8"))])
    zk.create("/mine", b"auth", acl=[ACL(31, Id("auth", ""))])  # expands to alice's digest
    zk.create("/shared", b"", acl=OPEN_ACL_UNSAFE)
    zk.set_acls("/shared", [make_digest_acl("bob", "pw", read=True, write=True)] + list(OPEN_ACL_UNSAFE))
    raw = w.session(srv.port)  # kazoo 2.8 has no containers
    raw.create_container("/box")
    raw.create("/box/item", b"keeps the container")
    raw.close_session()
    raw.close_socket()
    for r in [zk.set_async("/app", b"v%d" % i) for i in range(sets)]:
        r.get(timeout=30)
    t = zk.transaction()
    t.create("/app/m1", b"multi")
    t.check("/app", sets)
    t.set_data("/app/cfg", b"in multi")
    assert all(not isinstance(x, Exception) for x in t.commit())
    t = zk.transaction()  # a failed multi still takes a zxid
    t.create("/app/m2", b"x")
    t.delete("/nope")
    t.commit()
    with pytest.raises(NoNodeError):
        zk.delete("/nope")
    with pytest.raises(NotEmptyError):
        zk.delete("/app/deep")
    zk.delete("/app/deep/a/b/c")
    other = kazoo(srv.hosts)
    other.create("/app/eph-closed", b"bye", ephemeral=True)
    other.stop()
    other.close()
    # a session still open when the server stops, with ephemerals
    live = w.session(srv.port, timeout_ms=40000)
    live.create("/app/eph-live", b"still here", flags=w.EPHEMERAL)
    live.create("/app/eph-seq-", b"", flags=w.EPHEMERAL_SEQUENTIAL)
    zk.set("/app", b"last")
    tree = walk(zk)
    zk.stop()
    zk.close()
    return tree, live


def files(vdir, prefix):
    return sorted((n for n in os.listdir(vdir) if n.startswith(prefix) and not n.endswith(".tmp")),
                  key=lambda n: int(n.split(".")[1], 16))


@pytest.fixture(scope="module", params=["sigterm", "sigkill"])
def zabddir(request, tmp_path_factory):
    base = tmp_path_factory.mktemp("zabddir-" + request.param)
    data = str(base / "data")
    srv = ZabdServer(CFG, data_dir=data)
    live = None
    try:
        srv.start()
        tree, live = load(srv)
        assert served_tree(srv) == tree  # nothing changed since (the session is alive)
        if request.param == "sigkill":
            srv.kill(signal.SIGKILL)
        else:
            assert srv.stop() == 0, srv.read_log()
    finally:
        srv.cleanup()
        if live is not None:
            live.close_socket()
    vdir = os.path.join(data, "version-2")
    return {"how": request.param, "data": data, "vdir": vdir, "tree": tree,
            "session": live.session.session_id,
            "logs": files(vdir, "log."), "snaps": files(vdir, "snapshot.")}


def test_run_spans_several_files(zabddir):
    assert len(zabddir["logs"]) >= 3, zabddir["logs"]
    assert len(zabddir["snaps"]) >= 3, zabddir["snaps"]


def test_java_serves_the_tree_zabd_served(zabddir, tmp_path):
    # a copy: Java writes its own snapshot on start and the other tests read ours
    copy = str(tmp_path / "data")
    shutil.copytree(zabddir["data"], copy)
    srv = JavaZkServer({}, data_dir=copy)
    try:
        srv.start(timeout=60)
        tree = served_tree(srv)
    finally:
        srv.cleanup()
    mine = zabddir["tree"]
    assert set(tree) == set(mine), sorted(set(tree) ^ set(mine))
    for p in mine:
        assert tree[p] == mine[p], f"{p}: Java serves {tree[p]}, zabd served {mine[p]}"
    # the open session's ephemerals are there with their owner
    assert tree["/app/eph-live"][1][7] == zabddir["session"]


def test_txnlogtoolkit_reads_zabd_logs(zabddir):
    seen = set()
    # one JVM per file: the first two (sessions, ACLs, containers) and the
    # last three (multi, errors, deletes, closeSession) of the SIGKILL run
    logs = zabddir["logs"][:2] + zabddir["logs"][-3:] if zabddir["how"] == "sigkill" else zabddir["logs"][-2:]
    for name in logs:
        # TxnLogToolkit's transactions agree with zabdump's, entry by entry
        for t in compare_log(os.path.join(zabddir["vdir"], name)):
            seen.add(t["type"])
    if zabddir["how"] == "sigkill":
        assert {"createSession", "closeSession", "create", "create2", "setData", "setACL", "multi",
                "delete", "error", "createContainer"} <= seen, seen


def test_snapshotformatter_reads_zabd_snapshots(zabddir):
    snaps = zabddir["snaps"] if zabddir["how"] == "sigkill" else zabddir["snaps"][-2:]
    for name in snaps:
        # every node's Stat and every session agree with zabdump
        compare_snapshot(os.path.join(zabddir["vdir"], name))


def test_zabdump_reads_every_file(zabddir):
    for name in zabddir["logs"] + zabddir["snaps"]:
        zabdump(os.path.join(zabddir["vdir"], name))
    p = zabdump("--datadir", zabddir["data"])
    assert "last zxid" in p.stderr


# ---- the other way round ------------------------------------------------------

def test_zabd_serves_java_tree_and_back(tmp_path):
    data = str(tmp_path / "data")
    java = JavaZkServer(dict(CFG), data_dir=data)
    live = None
    try:
        java.start(timeout=60)
        tree, live = load(java, sets=800)
        java.kill(signal.SIGKILL)
    finally:
        java.cleanup()
        if live is not None:
            live.close_socket()
    srv = ZabdServer(CFG, data_dir=data)
    try:
        srv.start()
        got = served_tree(srv)
        assert set(got) == set(tree), sorted(set(got) ^ set(tree))
        for p in tree:
            assert got[p] == tree[p], f"{p}: zabd serves {got[p]}, Java served {tree[p]}"
        # zabd writes on top of Java's files; Java reads the result
        zk = kazoo(srv.hosts)
        for i in range(400):
            zk.create("/after/n", b"%d" % i, sequence=True, makepath=True)
        zk.set("/app", b"zabd was here")
        zk.delete("/app/cfg")
        zk.stop()
        zk.close()
        tree2 = served_tree(srv)
        srv.kill(signal.SIGKILL)
    finally:
        srv.cleanup()
    java = JavaZkServer({}, data_dir=data)
    try:
        java.start(timeout=60)
        got2 = served_tree(java)
    finally:
        java.cleanup()
    # (the live session's timeout, 40 s, restarts at each load: its
    # ephemerals are still there)
    assert set(got2) == set(tree2), sorted(set(got2) ^ set(tree2))
    for p in tree2:
        assert got2[p] == tree2[p], f"{p}: Java serves {got2[p]}, zabd served {tree2[p]}"
