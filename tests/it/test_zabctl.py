"""zabctl, the command-line client (ctl/), against the server under test:
create/list/get/set/delete/deleteall, watches (one-shot `watch` and -w in
batch mode), ACLs and digest auth, four-letter words, and the exit status
and ZooKeeper error name of each failure. kazoo is the independent check of
what zabctl did. Run with ZABD_IT_TARGET=java to check the tests on Java."""
import base64
import hashlib
import os
import queue
import subprocess
import threading
import time

import pytest

from servers import ROOT, free_port

BUILD = os.environ.get("ZABD_BUILD", os.path.join(ROOT, "build"))
ZABCTL = os.path.join(BUILD, "ctl", "zabctl")


@pytest.fixture(autouse=True)
def _binary():
    assert os.access(ZABCTL, os.X_OK), f"{ZABCTL} not built (is `ctl` in the top CMakeLists.txt?)"


def ctl(server, *args, input=None, timeout=30, hosts=None):
    """Runs one zabctl; returns (exit status, stdout, stderr)."""
    cmd = [ZABCTL, "-s", hosts or server.hosts, "-t", "10000", *args]
    p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def ok(server, *args, **kw):
    rc, out, err = ctl(server, *args, **kw)
    assert rc == 0, f"zabctl {args}: rc={rc} stderr={err!r}"
    return out


def stat_fields(text):
    """The `name = value` lines of a printed Stat, as a dict."""
    fields = {}
    for line in text.splitlines():
        name, sep, value = line.partition(" = ")
        if sep:
            fields[name] = value
    return fields


class Interactive:
    """A zabctl reading commands from a pipe, with its output lines
    collected by threads so the test can wait for one (bounded)."""

    def __init__(self, server, *args):
        self.p = subprocess.Popen([ZABCTL, "-s", server.hosts, "-t", "10000", *args],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, bufsize=1)
        self.out, self.err = queue.Queue(), queue.Queue()
        self.threads = [threading.Thread(target=self._pump, args=(s, q), daemon=True)
                        for s, q in ((self.p.stdout, self.out), (self.p.stderr, self.err))]
        for t in self.threads:
            t.start()

    @staticmethod
    def _pump(stream, q):
        for line in stream:
            q.put(line)

    def send(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def wait_for(self, q, pred, timeout=15.0):
        seen = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                line = q.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            seen.append(line)
            if pred(line):
                return line
        raise AssertionError(f"no matching line within {timeout}s; saw {seen!r}")

    def close(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.close()
                self.p.wait(timeout=15)
            except (subprocess.TimeoutExpired, BrokenPipeError):
                self.p.kill()
                self.p.wait(timeout=10)
        for t in self.threads:
            t.join(timeout=5)
        return self.p.returncode


@pytest.fixture
def interactive(server):
    started = []

    def start(*args):
        s = Interactive(server, *args)
        started.append(s)
        return s

    yield start
    for s in started:
        s.close()


# ---- create / get / set / ls --------------------------------------------------

def test_create_get_set_ls(server, zk):
    assert ok(server, "create", "/a", "hello") == "Created /a\n"
    assert zk.get("/a")[0] == b"hello"
    out = ok(server, "get", "/a")
    assert out.splitlines()[0] == "hello"
    st = stat_fields(out)
    assert st["dataVersion"] == "0" and st["dataLength"] == "5" and st["numChildren"] == "0"
    zst = zk.exists("/a")
    assert st["cZxid"] == hex(zst.czxid) and st["mZxid"] == hex(zst.mzxid)
    assert st["ephemeralOwner"] == "0x0"

    assert ok(server, "set", "/a", "world") == ""
    data, zst = zk.get("/a")
    assert data == b"world" and zst.version == 1
    assert ok(server, "set", "/a", "again", "1") == ""   # matching version
    assert zk.get("/a")[0] == b"again"

    ok(server, "create", "/a/c2")
    ok(server, "create", "/a/c1", "x")
    assert ok(server, "ls", "/a") == "[c1, c2]\n"          # sorted, zkCli's format
    assert "a" in ok(server, "ls", "/")[1:-2].split(", ")
    out = ok(server, "ls2", "/a")
    assert out.splitlines()[0] == "[c1, c2]" and stat_fields(out)["numChildren"] == "2"
    assert stat_fields(ok(server, "stat", "/a"))["cversion"] == "2"
    # created without data: a null value, printed as zkCli does
    assert ok(server, "get", "/a/c2").splitlines()[0] == "null"


def test_create_modes(server, zk):
    zk.create("/p")
    assert ok(server, "create", "-s", "/p/seq-", "d") == "Created /p/seq-0000000000\n"
    assert ok(server, "create", "-s", "/p/seq-") == "Created /p/seq-0000000001\n"
    assert sorted(zk.get_children("/p")) == ["seq-0000000000", "seq-0000000001"]
    # an ephemeral node lives as long as zabctl's session: gone after exit
    assert ok(server, "create", "-e", "/p/eph") == "Created /p/eph\n"
    assert zk.exists("/p/eph") is None
    out = ok(server, input="create -e /p/eph2\nstat /p/eph2\n")
    assert out.startswith("Created /p/eph2\n")
    assert stat_fields(out)["ephemeralOwner"] != "0x0"
    assert ok(server, "create", "-c", "/p/cont") == "Created /p/cont\n"
    assert ok(server, "create", "-t", "60000", "/p/ttl", "v") == "Created /p/ttl\n"
    assert zk.get("/p/ttl")[0] == b"v" and zk.exists("/p/cont") is not None
    # zkCli's rules on combining the flags are checked before any request
    for bad in (["-e", "-c"], ["-t", "100", "-e"], ["-t", "0"], ["-t", "x"]):
        rc, _, err = ctl(server, "create", *bad, "/p/bad")
        assert rc == 2, (bad, err)
    assert zk.exists("/p/bad") is None


def test_get_large_value(server, zk):
    value = bytes(ord("a") + i % 26 for i in range(300000))   # past the first read buffer
    zk.create("/big", value)
    out = ok(server, "get", "/big")
    assert out.splitlines()[0].encode() == value
    assert stat_fields(out)["dataLength"] == str(len(value))


# ---- errors: exit status and ZooKeeper's error name --------------------------

def test_errors(server, zk):
    zk.create("/e", b"v")
    zk.create("/e/child")
    cases = [
        (["get", "/missing"], "ZNONODE", "no node"),
        (["stat", "/missing"], "ZNONODE", "no node"),
        (["exists", "/missing"], "ZNONODE", "no node"),
        (["ls", "/missing"], "ZNONODE", "no node"),
        (["create", "/missing/x"], "ZNONODE", "no node"),
        (["create", "/e"], "ZNODEEXISTS", "node exists"),
        (["set", "/e", "new", "7"], "ZBADVERSION", "bad version"),
        (["set", "-v", "7", "/e", "new"], "ZBADVERSION", "bad version"),
        (["delete", "/e/child", "3"], "ZBADVERSION", "bad version"),
        (["delete", "/e"], "ZNOTEMPTY", "not empty"),
        (["delete", "/missing"], "ZNONODE", "no node"),
        (["deleteall", "/missing"], "ZNONODE", "no node"),
    ]
    for args, name, text in cases:
        rc, out, err = ctl(server, *args)
        assert rc == 1 and out == "", (args, rc, out, err)
        path = next(a for a in args if a.startswith("/"))
        assert f"zabctl: {args[0]} {path}: {text} ({name})" in err, (args, err)
    # nothing changed
    assert zk.get("/e")[0] == b"v" and zk.get_children("/e") == ["child"]


def test_usage_errors(server):
    for args in (["bogus"], ["get"], ["get", "/a", "/b"], ["set", "/a"], ["set", "/a", "x", "v1"],
                 ["ls", "-q", "/"], ["setacl", "/", "world:anyone"], ["setacl", "/", "world:anyone:rz"],
                 ["4lw", "toolong"]):
        rc, out, err = ctl(server, *args)
        assert rc == 2 and out == "" and err, (args, rc, err)
    rc, _, err = ctl(server, "-t", "soon", "ls", "/")
    assert rc == 2


def test_connect_failure_is_bounded():
    port = free_port()   # nothing listens there
    start = time.time()
    p = subprocess.run([ZABCTL, "-s", f"127.0.0.1:{port}", "-t", "1000", "ls", "/"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "ZCONNECTIONLOSS" in p.stderr
    assert time.time() - start < 25
    p = subprocess.run([ZABCTL, "-s", f"127.0.0.1:{port}", "-t", "1000", "ruok"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "ZCONNECTIONLOSS" in p.stderr


# ---- delete / deleteall ---------------------------------------------------------

def test_delete_and_deleteall(server, zk):
    zk.create("/d", b"")
    assert ok(server, "delete", "/d", "0") == ""
    assert zk.exists("/d") is None
    zk.create("/d", b"")
    zk.set("/d", b"x")
    assert ok(server, "delete", "-v", "1", "/d") == ""
    assert zk.exists("/d") is None

    for p in ("/t/a/x/y", "/t/a/z", "/t/b", "/t/c/d/e/f"):
        zk.ensure_path(p)
    zk.create("/keep")
    assert ok(server, "deleteall", "/t") == ""
    assert zk.exists("/t") is None and zk.exists("/keep") is not None


# ---- watches -----------------------------------------------------------------

def start_watch(server, path, *extra):
    p = subprocess.Popen([ZABCTL, "-s", server.hosts, "-t", "10000", "watch", path, *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # zabctl says on stderr when the watch is set, so the change cannot race it
    line = p.stderr.readline()
    assert line.startswith("zabctl: watching " + path), line
    return p


def finish(p, timeout=20):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate(timeout=10)
        raise
    return p.returncode, out, err


@pytest.mark.parametrize("change,event", [
    (lambda zk: zk.set("/w", b"2"), "NodeDataChanged"),
    (lambda zk: zk.create("/w/kid"), "NodeChildrenChanged"),
    (lambda zk: zk.delete("/w"), "NodeDeleted"),
])
def test_watch_existing_node(server, zk, change, event):
    zk.create("/w", b"1")
    p = start_watch(server, "/w", "-T", "20000")
    change(zk)
    rc, out, err = finish(p)
    assert rc == 0, err
    assert out == f"WatchedEvent state:SyncConnected type:{event} path:/w\n"


def test_watch_missing_node_and_timeout(server, zk):
    p = start_watch(server, "/later")
    zk.create("/later")
    rc, out, err = finish(p)
    assert rc == 0 and out == "WatchedEvent state:SyncConnected type:NodeCreated path:/later\n", err
    start = time.time()
    rc, out, err = ctl(server, "watch", "/later", "-T", "300")
    assert rc == 1 and out == "" and "no event within 300 ms" in err
    assert time.time() - start < 25


def test_batch_mode_watches(server, zk, interactive):
    zk.create("/b", b"1")
    s = interactive()
    s.send("get -w /b")
    s.wait_for(s.out, lambda l: l.startswith("numChildren = "))
    s.send("ls -w /b")
    s.wait_for(s.out, lambda l: l == "[]\n")
    zk.set("/b", b"2")
    s.wait_for(s.out, lambda l: l == "WATCHER:: WatchedEvent state:SyncConnected type:NodeDataChanged path:/b\n")
    zk.create("/b/kid")
    s.wait_for(s.out, lambda l: "type:NodeChildrenChanged path:/b" in l)
    # one-shot: a second change is not reported (the next command's output comes first)
    zk.set("/b", b"3")
    s.send("get /b")
    assert s.wait_for(s.out, lambda l: True) == "3\n"
    assert s.close() == 0


def test_batch_mode_status_and_quoting(server, zk):
    script = "\n".join([
        "# a comment, then a blank line",
        "",
        'create /q "two words"',
        "create /q/'single quoted' 'it''s'",
        'set /q "say \\"hi\\""',
        "get /missing",
        "ls /q",
    ]) + "\n"
    rc, out, err = ctl(server, input=script)
    assert rc == 1 and "ZNONODE" in err    # one failure makes the whole batch fail...
    assert out.splitlines()[-1] == "[single quoted]"   # ...but later commands still run
    assert zk.get("/q")[0] == b'say "hi"'
    assert zk.get("/q/single quoted")[0] == b"its"
    rc, out, err = ctl(server, input="create /r\nquit\ncreate /never\n")
    assert rc == 0 and zk.exists("/r") is not None and zk.exists("/never") is None


# ---- ACLs and auth ------------------------------------------------------------

def digest_id(user, password):
    h = base64.b64encode(hashlib.sha1(f"{user}:{password}".encode()).digest()).decode()
    return f"{user}:{h}"


def test_acl_and_auth(server, zk):
    assert ok(server, "getacl", "/") == "'world,'anyone\n: cdrwa\n"
    out = ok(server, input="addauth digest alice:secret\ncreate /sec x auth::crwda\ngetacl /sec\n")
    assert out == f"Created /sec\n'digest,'{digest_id('alice', 'secret')}\n: cdrwa\n"
    rc, _, err = ctl(server, "get", "/sec")
    assert rc == 1 and "ZNOAUTH" in err
    assert ok(server, "-a", "alice:secret", "get", "/sec").splitlines()[0] == "x"
    rc, _, err = ctl(server, "-a", "alice:wrong", "get", "/sec")
    assert rc == 1 and "ZNOAUTH" in err

    zk.create("/open", b"o")
    assert ok(server, "setacl", "/open", "world:anyone:r,ip:127.0.0.1:cdrwa") == ""
    acl = {(a.id.scheme, a.id.id): a.perms for a in zk.get_acls("/open")[0]}
    assert acl == {("world", "anyone"): 1, ("ip", "127.0.0.1"): 31}
    rc, _, err = ctl(server, "setacl", "/open", "world:anyone:r", "5")
    assert rc == 1 and "ZBADVERSION" in err
    ok(server, "setacl", "-v", "1", "/open", f"digest:{digest_id('bob', 'pw')}:rw")
    # without ADMIN the server hides the digest hash (alice's cdrwa above showed it)
    assert ok(server, "-a", "bob:pw", "getacl", "/open") == "'digest,'bob:x\n: rw\n"
    rc, _, err = ctl(server, "getacl", "/open")   # getACL needs READ or ADMIN
    assert rc == 1 and "ZNOAUTH" in err
    rc, _, err = ctl(server, "set", "/open", "nope")
    assert rc == 1 and "ZNOAUTH" in err
    ok(server, "-a", "bob:pw", "set", "/open", "yes")
    assert ok(server, "-a", "bob:pw", "get", "/open").splitlines()[0] == "yes"


def test_addauth_unknown_scheme_fails(server):
    rc, _, err = ctl(server, "addauth", "nosuchscheme", "x")
    assert rc == 1 and "ZAUTHFAILED" in err


# ---- sync and four-letter words ---------------------------------------------------

def test_sync(server, zk):
    zk.create("/s")
    assert ok(server, "sync", "/s") == ""


def test_four_letter_words(server):
    assert ok(server, "ruok") == "imok\n"
    assert ok(server, "4lw", "ruok") == "imok\n"
    out = ok(server, "srvr")
    assert "Mode: standalone" in out and "Zxid: 0x" in out
    assert "zk_znode_count" in ok(server, "mntr")
    # the -s chroot suffix and server list do not confuse the plain socket
    assert ok(server, "ruok", hosts=server.hosts + ",127.0.0.1:1/some/chroot") == "imok\n"
