"""Torn and corrupt files through the real server.

A zabd writes a few hundred txns (snapCount high, so they stay in the logs
after snapshot.0) and is killed. Then, on copies of that data dir:

- the last log cut at several byte positions inside its last entry (in the
  header, the body, before the end byte), with and without the zeros
  preallocation leaves after it: zabd starts, serves the state as of the
  previous entry, hands out the lost entry's zxid again, and after another
  kill and restart still has everything it acknowledged since;
- a byte flipped in an entry in the middle of a log: zabd refuses to start
  (non-zero exit) and says which file and which offset;
- a byte flipped in the newest snapshot: zabd falls back to the previous
  one and replays the logs to the same state (as ZooKeeper does);
- each torn case is checked against the Java server on the same files once:
  it ends at the same zxid.
"""
import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import ROOT, JavaZkServer, ZabdServer, four_letter  # noqa: E402
import zkwire as w  # noqa: E402

BUILD = os.environ.get("ZABD_BUILD", os.path.join(ROOT, "build"))
ZABDUMP = os.path.join(BUILD, "zabdump")
pytestmark = pytest.mark.skipif(not os.path.exists(ZABDUMP), reason="zabdump not built")

N = 300


def entries(path):
    """[(zxid, offset, type, path)] of a log file, as zabdump reads it."""
    p = subprocess.run([ZABDUMP, "--json", path], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return [(t["zxid"], t["offset"], t["type"], t.get("path")) for t in map(json.loads, p.stdout.splitlines())]


def by_zxid(name):
    return int(name.split(".")[1], 16)


def srvr_zxid(port):
    out = four_letter(port, "srvr")
    return int(out.split("Zxid: ")[1].split()[0], 16)


def write_nodes(port, prefix, n):
    c = w.session(port)
    try:
        for i in range(n):
            c.create(f"{prefix}{i}", b"x%d" % i * (i % 50))
    finally:
        c.close_socket()


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    base = tmp_path_factory.mktemp("torn")
    data = str(base / "data")
    srv = ZabdServer({"preAllocSize": "64"}, data_dir=data)
    try:
        srv.start()
        write_nodes(srv.port, "/n", N)
        srv.kill(signal.SIGKILL)
    finally:
        srv.cleanup()
    vdir = os.path.join(data, "version-2")
    logs = sorted((n for n in os.listdir(vdir) if n.startswith("log.")), key=by_zxid)
    last = os.path.join(vdir, logs[-1])
    ents = entries(last)
    with open(last, "rb") as f:
        img = f.read()
    zxid, off, typ, path = ents[-1]
    assert typ in ("create", "create2") and path == f"/n{N - 1}", ents[-1]
    blen = int.from_bytes(img[off + 8:off + 12], "big")
    end = off + 12 + blen + 1
    assert img[end - 1] == 0x42 and not img[end:].strip(b"\0")
    return {"data": data, "log": logs[-1], "img": img, "last": ents[-1], "prev": ents[-2], "end": end}


def copy_dir(written, dst):
    shutil.copytree(written["data"], dst)
    return os.path.join(dst, "version-2", written["log"])


def cuts(written):
    off, end = written["last"][1], written["end"]
    # in the crc, at the length, just after the header, in the body, before 'B'
    return sorted({off + 1, off + 8, off + 12, off + 30, (off + end) // 2, end - 1})


@pytest.mark.parametrize("zeros", [False, True], ids=["cut", "cut+zeros"])
def test_torn_last_entry_restarts_at_previous_entry(written, tmp_path, zeros):
    prev_zxid, last_zxid = written["prev"][0], written["last"][0]
    img = written["img"]
    for i, cut in enumerate(cuts(written)):
        d = str(tmp_path / f"d{i}")
        log = copy_dir(written, d)
        with open(log, "wb") as f:
            f.write(img[:cut] + (b"\0" * (len(img) - cut) if zeros else b""))
        srv = ZabdServer({"preAllocSize": "64"}, data_dir=d)
        try:
            srv.start()
            assert srvr_zxid(srv.port) == prev_zxid, (cut, srv.read_log())
            c = w.session(srv.port)
            assert c.exists(f"/n{N - 2}") is not None, cut
            assert c.exists(f"/n{N - 1}") is None, cut
            # the lost entry's zxid is handed out again, to a new txn
            # (the createSession above took it)
            _, st = c.create2("/after", b"new")
            assert st.czxid == last_zxid + 1, (cut, st)
            c.close_socket()
            srv.kill(signal.SIGKILL)
            srv.start()
            c = w.session(srv.port)
            data, st2 = c.get_data("/after")
            assert (data, st2) == (b"new", st), cut
            assert c.exists(f"/n{N - 1}") is None and c.exists(f"/n{N - 2}") is not None, cut
            c.close_socket()
        finally:
            srv.cleanup()


def test_java_ends_torn_log_at_the_same_entry(written, tmp_path):
    # the oracle, once: Java on the same torn files ends at the previous entry
    d = str(tmp_path / "j")
    log = copy_dir(written, d)
    cut = cuts(written)[3]
    img = written["img"]
    with open(log, "wb") as f:
        f.write(img[:cut] + b"\0" * (len(img) - cut))
    srv = JavaZkServer({}, data_dir=d)
    try:
        srv.start(timeout=60)
        assert srvr_zxid(srv.port) == written["prev"][0]
    finally:
        srv.cleanup()


def test_flipped_byte_mid_log_refuses_to_start(written, tmp_path):
    d = str(tmp_path / "d")
    log = copy_dir(written, d)
    ents = entries(log)
    zxid, off, _, _ = ents[len(ents) // 2]
    with open(log, "r+b") as f:
        f.seek(off + 40)  # inside the body
        b = f.read(1)
        f.seek(off + 40)
        f.write(bytes([b[0] ^ 0x01]))
    srv = ZabdServer({}, data_dir=d)
    try:
        rc, out = srv.run_expecting_exit(timeout=30)
    finally:
        srv.cleanup()
    assert rc is not None and rc != 0, out
    assert written["log"] in out and f"offset {off}" in out, out
    # nothing was cut: the damaged file is as it was, for a human to look at
    assert os.path.getsize(log) == len(written["img"])


def test_flipped_byte_in_newest_snapshot_falls_back(tmp_path):
    """A flipped byte anywhere in the newest snapshot: zabd falls back to an
    older one (and the logs) and serves the same tree. Several positions,
    because where the byte lands decides whether the seal or the loader
    (a length, an ACL ref, a path) notices first."""
    data = str(tmp_path / "data")
    srv = ZabdServer({"snapCount": "40", "preAllocSize": "64"}, data_dir=data)
    try:
        srv.start()
        write_nodes(srv.port, "/s", 150)
        c = w.session(srv.port)
        want = {k: c.get_data("/" + k) for k in c.get_children("/")}
        zxid = srvr_zxid(srv.port)
        c.close_socket()
        srv.kill(signal.SIGKILL)
    finally:
        srv.cleanup()
    vdir = os.path.join(data, "version-2")
    snaps = sorted((n for n in os.listdir(vdir) if n.startswith("snapshot.") and "." not in n[9:]),
                   key=by_zxid)
    assert len(snaps) >= 3, snaps
    size = os.path.getsize(os.path.join(vdir, snaps[-1]))
    with open(os.path.join(vdir, snaps[-1]), "rb") as f:
        img = f.read()
    # one flip inside a node's ACL ref: the loader meets an unknown ref
    # before the seal, and must still treat the file as corrupt
    rec = b"\x00\x00\x00\x04/s10"
    at = img.index(rec) + len(rec)
    dlen = int.from_bytes(img[at:at + 4], "big")
    acl_at = at + 4 + max(dlen, 0) + 7
    positions = {size // 5, size // 3, size // 2, 2 * size // 3, 4 * size // 5, size - 30, acl_at}
    for k, pos in enumerate(sorted(positions)):
        d = str(tmp_path / f"d{k}")
        shutil.copytree(data, d)
        newest = os.path.join(d, "version-2", snaps[-1])
        with open(newest, "r+b") as f:
            f.seek(pos)
            b = f.read(1)
            f.seek(pos)
            f.write(bytes([b[0] ^ 0x10]))
        srv = ZabdServer({}, data_dir=d)
        try:
            srv.start()
            assert snaps[-1] in srv.read_log(), srv.read_log()  # it says which one it skipped
            assert srvr_zxid(srv.port) >= zxid  # (+ the createSession of the checking client)
            c = w.session(srv.port)
            got = {k2: c.get_data("/" + k2) for k2 in c.get_children("/")}
            c.close_socket()
            assert got == want, f"flip at {pos} of {size}"
        finally:
            srv.cleanup()


def test_unfinished_snapshot_tmp_is_never_loaded(written, tmp_path):
    """snapshot.<zxid>.tmp is a snapshot whose writer has not renamed it
    yet (its child can outlive a killed server and rename it while the
    next start recovers). Here a whole, valid snapshot file under a .tmp
    name newer than every txn: loading it would skip the logs' txns."""
    d = str(tmp_path / "d")
    copy_dir(written, d)
    vdir = os.path.join(d, "version-2")
    shutil.copy(os.path.join(vdir, "snapshot.0"), os.path.join(vdir, "snapshot.ffffff.tmp"))
    srv = ZabdServer({}, data_dir=d)
    try:
        srv.start()
        assert srvr_zxid(srv.port) == written["last"][0]
        c = w.session(srv.port)
        assert c.exists(f"/n{N - 1}") is not None
        c.close_socket()
    finally:
        srv.cleanup()


def test_torn_entry_in_an_older_log_refuses_to_start(tmp_path):
    """Logs are synced before the next one starts, so a torn entry with a
    newer log after it is lost history, not a crash: Java skips the txns
    silently; zabd stops and names the file, and cuts nothing."""
    data = str(tmp_path / "data")
    srv = ZabdServer({"snapCount": "40", "preAllocSize": "64"}, data_dir=data)
    try:
        srv.start()
        write_nodes(srv.port, "/o", 120)
        srv.stop()
    finally:
        srv.cleanup()  # the data dir is ours, outside the server's tmp
    vdir = os.path.join(data, "version-2")
    logs = sorted((n for n in os.listdir(vdir) if n.startswith("log.")), key=by_zxid)
    assert len(logs) >= 2, logs
    # only snapshot.0 left, so recovery must replay every log from the first
    for n in os.listdir(vdir):
        if n.startswith("snapshot.") and n != "snapshot.0":
            os.unlink(os.path.join(vdir, n))
    older = os.path.join(vdir, logs[0])
    ents = entries(older)
    zxid, off, _, _ = ents[-1]
    size_before = off + 20
    with open(older, "r+b") as f:
        f.truncate(size_before)  # a partial last entry in the older file
    srv = ZabdServer({}, data_dir=data)
    try:
        rc, out = srv.run_expecting_exit(timeout=30)
    finally:
        srv.cleanup()
    assert rc is not None and rc != 0, out
    assert logs[0] in out and "not the newest" in out, out
    assert os.path.getsize(older) == size_before
