"""Data directories written by the real Java ZooKeeper 3.8, read by zabdump
(our txn log and snapshot readers) and compared with ZooKeeper's own tools
(TxnLogToolkit, SnapshotFormatter); and the other way round: a data
directory rewritten by our writers (zabdump --copy) is read by those tools
and served by a Java ZooKeeper with the same tree.

The fixture runs one Java server with snapCount=600 and preAllocSize=64 KiB,
writes ~1500 txns of many kinds (sessions, ephemerals, sequentials, ACLs,
create2, setACL, multi, failed ops, deletes, a closeSession with
ephemerals), records the tree through kazoo, and kills the server with one
session still open (so the snapshot and the log hold a live session and its
ephemeral)."""
import functools
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import JAVA_CP, ROOT, JavaZkServer, four_letter  # noqa: E402

from kazoo.client import KazooClient  # noqa: E402
from kazoo.exceptions import NoNodeError, NotEmptyError  # noqa: E402
from kazoo.security import make_digest_acl, OPEN_ACL_UNSAFE  # noqa: E402

BUILD = os.environ.get("ZABD_BUILD", os.path.join(ROOT, "build"))
ZABDUMP = os.path.join(BUILD, "zabdump")

# slow: one Java server and a dozen JVM tool runs (~1 min); the sanitizer
# pass skips it
pytestmark = [pytest.mark.skipif(not os.path.exists(ZABDUMP), reason="zabdump not built"),
              pytest.mark.slow]


def zabdump(*args, check=True):
    p = subprocess.run([ZABDUMP, *args], capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"zabdump {args} exited {p.returncode}: {p.stderr}")
    return p


def zabdump_json(path):
    return [json.loads(l) for l in zabdump("--json", path).stdout.splitlines()]


def java_tool(cls, *args):
    p = subprocess.run(["java", "-cp", JAVA_CP, cls, *args], capture_output=True,
                       text=True, errors="replace", timeout=60)
    return p.returncode, p.stdout


def walk(zk, path="/"):
    """Every node under path: {path: (data, stat tuple, acl list)}."""
    out = {}
    data, st = zk.get(path)
    acl, _ = zk.get_acls(path)
    out[path] = (data, (st.czxid, st.mzxid, st.pzxid, st.version, st.cversion, st.aversion,
                        st.ephemeralOwner, st.dataLength, st.numChildren, st.ctime, st.mtime),
                 sorted((a.perms, a.id.scheme, a.id.id) for a in acl))
    for c in zk.get_children(path):
        out.update(walk(zk, (path.rstrip("/") + "/" + c)))
    return out


def kazoo(hosts, timeout=30.0, auth=True, **kw):
    zk = KazooClient(hosts=hosts, timeout=timeout, **kw)
    zk.start(timeout=30)
    if auth:
        zk.add_auth("digest", "alice:secret")
    return zk


@pytest.fixture(scope="module")
def javadir(tmp_path_factory):
    base = tmp_path_factory.mktemp("javadir")
    data = str(base / "data")
    srv = JavaZkServer({"snapCount": "600", "preAllocSize": "64"}, data_dir=data)
    srv.start()
    lingering = None
    try:
        zk = kazoo(srv.hosts)
        zk.create("/app", b"root of the app")
        zk.create("/app/cfg", b"\x00\x01binary\xff", include_data=True)  # create2
        for i in range(20):
            zk.create("/app/seq-", str(i).encode(), sequence=True)
        zk.create("/app/deep/a/b/c", b"made", makepath=True)
        digest = make_digest_acl("alice", "secret", all=True)
        zk.create("/secret", b"s", acl=[digest])
        zk.create("/shared", b"", acl=OPEN_ACL_UNSAFE)
        zk.set_acls("/shared", [make_digest_acl("bob", "pw", read=True, write=True)] +
                    list(OPEN_ACL_UNSAFE))
        for i in range(1400):
            zk.set("/app", b"v%d" % i)
        t = zk.transaction()
        t.create("/app/m1", b"multi")
        t.check("/app", 1400)
        t.set_data("/app/cfg", b"in multi")
        t.commit()
        t = zk.transaction()  # a failed multi still takes a zxid
        t.create("/app/m2", b"x")
        t.delete("/nope")
        t.commit()
        with pytest.raises(NoNodeError):
            zk.delete("/nope")  # a failed delete is an error txn
        with pytest.raises(NotEmptyError):
            zk.delete("/app/deep")
        zk.delete("/app/deep/a/b/c")
        # a session that closes with ephemerals: closeSession with paths
        other = kazoo(srv.hosts)
        other.create("/app/eph-closed", b"bye", ephemeral=True)
        other.stop()
        other.close()
        # a session that stays open across the kill
        lingering = kazoo(srv.hosts, timeout=40.0,
                          connection_retry={"max_tries": 1, "delay": 0.1, "max_delay": 0.2})
        lingering.create("/app/eph-live", b"still here", ephemeral=True)
        lingering.create("/app/eph-seq-", b"", ephemeral=True, sequence=True)
        zk.set("/app", b"last")
        tree = walk(zk)
        zk.stop()
        zk.close()
        srv.kill()  # SIGKILL: no clean shutdown, the live session stays in the files
    finally:
        srv.cleanup()  # removes the server's config/log dir; the data dir is ours
        if lingering is not None:
            lingering.stop()
            lingering.close()
    vdir = os.path.join(data, "version-2")
    by_zxid = lambda n: int(n.split(".")[1], 16)  # noqa: E731
    return {"base": str(base), "data": data, "vdir": vdir, "tree": tree,
            "logs": sorted((f for f in os.listdir(vdir) if f.startswith("log.")), key=by_zxid),
            "snaps": sorted((f for f in os.listdir(vdir) if f.startswith("snapshot.")),
                            key=by_zxid)}


TXN_RE = re.compile(r"session 0x([0-9a-f]+) cxid 0x([0-9a-f]+) zxid 0x([0-9a-f]+) (\w+)(?: (.*))?")


@functools.lru_cache(maxsize=None)
def java_txns(path):
    rc, out = java_tool("org.apache.zookeeper.server.persistence.TxnLogToolkit", path)
    assert rc == 0, out
    txns = [m.groups() for m in TXN_RE.finditer(out)]
    m = re.search(r"EOF reached after (\d+) txns", out)
    assert m, out
    assert int(m.group(1)) == len(txns)
    return [(int(s, 16), int(c, 16), int(z, 16), t, rest or "") for s, c, z, t, rest in txns]


def compare_log(path):
    ours = zabdump_json(path)
    theirs = java_txns(path)
    assert len(ours) == len(theirs) > 0
    for o, (sess, cxid, zxid, typ, rest) in zip(ours, theirs):
        assert (o["session"] & (2**64 - 1), o["cxid"], o["zxid"], o["type"]) == \
            (sess, cxid, zxid, typ)
        if typ in ("create", "create2", "setData", "delete", "setACL"):
            assert rest.split(",")[0].lstrip("'") == o["path"]
        if typ == "createSession":
            assert int(rest) == o["timeOut"]
        if typ == "error":
            assert int(rest) == o["err"]
    return ours


def test_fixture_spans_several_files(javadir):
    # ~1450 txns with a snapshot every 301..600 txns: at least two rolls
    assert len(javadir["logs"]) >= 3
    assert len(javadir["snaps"]) >= 3


def test_logs_agree_with_txnlogtoolkit(javadir):
    seen = set()
    for name in javadir["logs"]:
        for t in compare_log(os.path.join(javadir["vdir"], name)):
            seen.add(t["type"])
    assert {"createSession", "closeSession", "create", "create2", "setData", "setACL", "multi",
            "delete", "error"} <= seen


def test_multi_and_close_session_records(javadir):
    txns = []
    for name in javadir["logs"]:
        txns += zabdump_json(os.path.join(javadir["vdir"], name))
    multis = [t for t in txns if t["type"] == "multi"]
    assert [op["type"] for op in multis[0]["ops"]] == ["create", "check", "setData"]
    assert multis[0]["ops"][0]["path"] == "/app/m1"
    assert multis[0]["ops"][1]["version"] == 1401  # current version + 1 (§6.3)
    # the failed multi: type stays 14, ops become error txns
    # the failed multi keeps type 14; ops before the failing one keep their
    # type, the failing one becomes an error txn (§6.3)
    assert [op["type"] for op in multis[1]["ops"]] == ["create", "error"]
    assert multis[1]["ops"][1]["err"] == -101
    closes = [t for t in txns if t["type"] == "closeSession" and t["paths2Delete"]]
    assert closes and closes[0]["paths2Delete"] == ["/app/eph-closed"]


SNAP_NODE_RE = re.compile(r"^(/.*)\n((?:  \w+ = .*\n)+)", re.M)


@functools.lru_cache(maxsize=None)
def java_snapshot(path):
    rc, out = java_tool("org.apache.zookeeper.server.SnapshotFormatter", path)
    assert rc == 0, out
    nodes = {}
    for m in SNAP_NODE_RE.finditer(out):
        fields = dict(l.strip().split(" = ", 1) for l in m.group(2).splitlines())
        nodes[m.group(1)] = fields
    sess = out.split("Session Details (sid, timeout, ephemeralCount):\n", 1)[1].split("----")[0]
    sessions = {int(l.split(",")[0], 16): int(l.split(",")[1]) for l in sess.split("\n") if l}
    return nodes, sessions


def compare_snapshot(path):
    ours = zabdump_json(path)
    nodes, sessions = java_snapshot(path)
    mine = {n["path"]: n for n in ours if n["kind"] == "node"}
    assert set(mine) == set(nodes)
    for p, f in nodes.items():
        n = mine[p]
        assert int(f["cZxid"], 16) == n["czxid"], p
        assert int(f["mZxid"], 16) == n["mzxid"], p
        assert int(f["pZxid"], 16) == n["pzxid"], p
        assert int(f["cversion"]) == n["cversion"], p
        assert int(f["dataVersion"]) == n["version"], p
        assert int(f["aclVersion"]) == n["aversion"], p
        assert int(f["ephemeralOwner"], 16) == n["ephemeralOwner"] & (2**64 - 1), p
        assert int(f["dataLength"]) == n["dataLength"], p
    assert {s["id"] & (2**64 - 1): s["timeout"] for s in ours if s["kind"] == "session"} == sessions
    return ours


def test_snapshots_agree_with_snapshotformatter(javadir):
    for name in javadir["snaps"]:
        compare_snapshot(os.path.join(javadir["vdir"], name))


def test_recovery_reaches_java_last_zxid(javadir):
    last_log = os.path.join(javadir["vdir"], javadir["logs"][-1])
    java_last = java_txns(last_log)[-1][2]
    p = zabdump("--json", "--datadir", javadir["data"])
    m = re.search(r"snapshot (\S+), (\d+) txns replayed, last zxid 0x([0-9a-f]+)", p.stderr)
    assert m, p.stderr
    assert int(m.group(3), 16) == java_last
    newest = max(javadir["snaps"], key=lambda n: int(n.split(".")[1], 16))
    assert m.group(1).endswith(newest)


def test_copy_is_read_by_java_tools_and_served_by_java(javadir, tmp_path):
    dst = str(tmp_path / "copy")
    zabdump("--copy", javadir["data"], dst)
    vdir = os.path.join(dst, "version-2")
    names = os.listdir(vdir)
    snaps = [n for n in names if n.startswith("snapshot.")]
    logs = sorted(n for n in names if n.startswith("log."))
    assert len(snaps) == 1 and logs
    # Java's tools read our files and see what they saw in Java's
    ours_nodes = {n["path"]: n for n in compare_snapshot(os.path.join(vdir, snaps[0]))
                  if n["kind"] == "node"}
    theirs = {n["path"]: n for n in zabdump_json(os.path.join(javadir["vdir"], snaps[0]))
              if n["kind"] == "node"}
    assert ours_nodes == theirs
    src_txns = {}
    for name in javadir["logs"]:
        for t in java_txns(os.path.join(javadir["vdir"], name)):
            src_txns[t[2]] = t
    for name in logs:
        for t in java_txns(os.path.join(vdir, name)):
            assert src_txns[t[2]] == t
    # and a Java server started on our data directory serves the same tree
    srv = JavaZkServer({}, data_dir=dst)
    srv.start()
    try:
        zk = kazoo(srv.hosts)
        tree = walk(zk)
        zk.stop()
        zk.close()
    finally:
        srv.cleanup()
    assert tree == javadir["tree"]


def entry_offsets(path):
    return [(t["zxid"], t["offset"]) for t in zabdump_json(path)]


def test_flipped_byte_mid_log_names_file_and_offset(javadir, tmp_path):
    # the newest log is in the replay range of the newest snapshot
    name = javadir["logs"][-1]
    src = os.path.join(javadir["vdir"], name)
    offs = entry_offsets(src)
    assert len(offs) > 10
    zxid, off = offs[len(offs) // 2]
    bad = str(tmp_path / name)
    shutil.copy(src, bad)
    with open(bad, "r+b") as f:
        f.seek(off + 36)  # in the TxnHeader.time of that entry
        b = f.read(1)
        f.seek(off + 36)
        f.write(bytes([b[0] ^ 0x5a]))
    p = zabdump(bad, check=False)
    assert p.returncode == 2
    assert f"{bad}: " in p.stderr and f"at offset {off}" in p.stderr
    assert "checksum mismatch" in p.stderr
    # ZooKeeper's own tool finds the same entry broken
    rc, out = java_tool("org.apache.zookeeper.server.persistence.TxnLogToolkit", bad)
    assert "CRC ERROR" in out and f"zxid 0x{zxid:x}" in out.split("CRC ERROR")[1]
    # and recovery of a data dir with that log stops there
    d = tmp_path / "dd" / "version-2"
    d.mkdir(parents=True)
    for n in javadir["snaps"] + javadir["logs"]:
        shutil.copy(os.path.join(javadir["vdir"], n), d / n)
    shutil.copy(bad, d / name)
    p = zabdump("--datadir", str(tmp_path / "dd"), check=False)
    assert p.returncode == 2, p.stderr
    assert f"{name}: " in p.stderr and f"at offset {off}" in p.stderr


def test_torn_last_entry_at_every_byte(javadir, tmp_path):
    src = os.path.join(javadir["vdir"], javadir["logs"][-1])
    offs = entry_offsets(src)
    assert len(offs) >= 2
    last_zxid, last_off = offs[-1]
    prev_zxid = offs[-2][0]
    with open(src, "rb") as f:
        img = f.read()
    end = img.index(b"\x42", last_off + 12 + int.from_bytes(img[last_off + 8:last_off + 12], "big")) + 1
    torn = str(tmp_path / javadir["logs"][-1])
    cuts = list(range(last_off, end))
    for cut in cuts:
        with open(torn, "wb") as f:
            f.write(img[:cut])
        got = entry_offsets(torn)
        assert got[-1][0] == prev_zxid and len(got) == len(offs) - 1, cut
    # ZooKeeper's tool reads the same prefix when the cut falls in the entry
    # header and the rest is zero, as preallocation leaves it (TxnLogToolkit
    # parses a body before checking its end byte, so it is no oracle for
    # cuts inside a body; the server below is)
    with open(torn, "wb") as f:
        f.write(img[:last_off + 5] + b"\x00" * 4096)
    assert entry_offsets(torn)[-1][0] == prev_zxid
    assert java_txns(torn)[-1][2] == prev_zxid
    # a data dir whose last log is torn in the middle of the last body, with
    # preallocated zeros after it: our recovery and a Java server both end
    # at the previous entry
    d = tmp_path / "dd" / "version-2"
    d.mkdir(parents=True)
    for n in javadir["snaps"] + javadir["logs"]:
        shutil.copy(os.path.join(javadir["vdir"], n), d / n)
    mid = cuts[len(cuts) // 2]
    with open(d / javadir["logs"][-1], "r+b") as f:
        f.seek(mid)
        f.write(b"\x00" * (end - mid))
    p = zabdump("--datadir", str(tmp_path / "dd"))
    assert f"last zxid 0x{prev_zxid:x}" in p.stderr
    assert "torn tail" in p.stderr
    assert last_zxid > prev_zxid
    srv = JavaZkServer({}, data_dir=str(tmp_path / "dd"))
    srv.start()
    try:
        srvr = four_letter(srv.port, "srvr")
    finally:
        srv.cleanup()
    assert f"Zxid: 0x{prev_zxid:x}" in srvr, srvr


def test_gzip_snapshots_from_java(tmp_path):
    """snapshot.compression.method=gz: Java writes snapshot.<hex>.gz; we read
    them as SnapshotFormatter does and recover from the newest."""
    data = str(tmp_path / "gz")
    srv = JavaZkServer({"snapCount": "20", "snapshot.compression.method": "gz"}, data_dir=data)
    srv.start()
    try:
        zk = kazoo(srv.hosts, auth=False)
        for i in range(60):
            zk.create("/n%d" % i, b"x" * i)
        zk.stop()
        zk.close()
    finally:
        srv.cleanup()
    vdir = os.path.join(data, "version-2")
    gz = sorted((n for n in os.listdir(vdir) if n.endswith(".gz")),
                key=lambda n: int(n.split(".")[1], 16))
    assert len(gz) >= 3
    for name in (gz[0], gz[-1]):
        compare_snapshot(os.path.join(vdir, name))
    p = zabdump("--datadir", data)
    assert f"snapshot {os.path.join(vdir, gz[-1])}," in p.stderr
    last = max(java_txns(os.path.join(vdir, n))[-1][2]
               for n in os.listdir(vdir) if n.startswith("log."))
    assert f"last zxid 0x{last:x}" in p.stderr
