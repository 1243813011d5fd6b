"""Crash test: a real zabd under a write load from several clients is killed
with SIGKILL at random (seeded) moments and restarted on the same dataDir.

The server runs with a small snapCount and preAllocSize, so snapshots (by a
forked child) and log rolls happen all through the run and the kills land
before, during and after them. Each client thread owns a set of paths
(/w<i>/k<j>) and its own sequential nodes under the shared /seq, sends one
request at a time (create2, setData and delete with versions, sequential
creates, multi - some meant to fail) and keeps a model of every write whose
reply it received. After each restart, before the load resumes:

- every acknowledged write is there with the data and the whole Stat the
  reply carried; an acknowledged delete is absent; an acknowledged failure
  (bad version, failed multi) changed nothing;
- the one request per client that was in flight at the kill is either not
  there at all or there whole (data, version; a multi all or nothing; a
  sequential create exactly once with its full data);
- each parent's cversion, pzxid and numChildren agree with the acknowledged
  child creates and deletes and the children listed; /seq's cversion is
  above every acknowledged sequence number, and no acknowledged number is
  ever handed out again;
- the tree the server serves is, node by node, the one zabdump recovers
  offline from the same files.

ZABD_CRASH_ROUNDS sets the number of kills (default 20: ~30 s, also under
ASan), ZABD_CRASH_SEED the seed (the failure message names both)."""
import os
import random
import shutil
import signal
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import JavaZkServer, ZabdServer  # noqa: E402
import zkwire as w  # noqa: E402

ROUNDS = int(os.environ.get("ZABD_CRASH_ROUNDS", "20"))
SEED = int(os.environ.get("ZABD_CRASH_SEED", "5"))
JAVA_EVERY = 5     # every 5th restart, and at the end, the Java server reads a copy too
WORKERS = 4
KEYS = 12          # /w<i>/k0 .. k11
MAX_SEQ = 8        # a client deletes its own sequential nodes beyond this
CFG = {"snapCount": "60", "preAllocSize": "16"}


def create_body(path, data, flags=0):
    return w.p_string(path) + w.p_buffer(data) + w.p_acls(w.OPEN_ACL) + w.p_int(flags)


class Node:
    """What a client knows of one of its nodes: data and Stat as last
    acknowledged (stat None: known only from an in-doubt reply, data and
    version then)."""

    __slots__ = ("data", "version", "stat")

    def __init__(self, data, version, stat):
        self.data, self.version, self.stat = data, version, stat

    def __repr__(self):
        return f"Node({self.data[:24]!r}..., v{self.version}, {self.stat})"


class Worker:
    """One client: its paths, its model and its load loop."""

    def __init__(self, idx, seed):
        self.idx = idx
        self.rng = random.Random(seed)
        self.base = f"/w{idx}"
        self.keys = [f"{self.base}/k{j}" for j in range(KEYS)]
        self.nodes = {}       # path -> Node, acknowledged present (own k and seq nodes)
        self.parent = None    # (cversion, pzxid) of /w<i> as acknowledged
        self.seq_numbers = set()
        self.last_seq = -1
        self.doubt = None     # the request in flight when the connection died
        self.acks = 0
        self.counter = 0
        self.failures = []

    # -- payloads: unique, self-describing, of varied size, so a torn or
    # mixed-up record shows as wrong data

    def payload(self):
        self.counter += 1
        tok = f"w{self.idx}:{self.counter}:"
        n = self.rng.choice((0, 1, 10, 100, 1000, 3000))
        return (tok + ("%08x" % self.rng.getrandbits(32)) * (n // 8 + 1))[:max(n, len(tok))].encode()

    def fail(self, msg):
        self.failures.append(msg)

    # -- the load loop; returns when the connection dies or stop is set

    def run(self, port, stop):
        try:
            c = w.session(port, timeout_ms=8000)
        except Exception:
            return
        try:
            while not stop.is_set():
                self.step(c)
        except (w.Closed, OSError):
            pass  # the kill; self.doubt says whether a request was in flight
        except Exception as e:  # a bad reply: reported by the main thread
            self.fail(f"client {self.idx}: {e!r}")
        finally:
            c.close_socket()

    def present(self):
        return [p for p in self.keys if p in self.nodes]

    def absent(self):
        return [p for p in self.keys if p not in self.nodes]

    def my_seqs(self):
        return [p for p in self.nodes if p.startswith("/seq/")]

    def step(self, c):
        r = self.rng.random()
        if r < 0.22 and self.absent():
            self.op_create(c, self.rng.choice(self.absent()))
        elif r < 0.50 and self.present():
            self.op_set(c, self.rng.choice(self.present()), bad=self.rng.random() < 0.1)
        elif r < 0.60 and self.present():
            self.op_delete(c, self.rng.choice(self.present()))
        elif r < 0.80:
            if len(self.my_seqs()) >= MAX_SEQ:
                self.op_delete(c, self.rng.choice(self.my_seqs()))
            else:
                self.op_seq(c)
        elif self.absent() and len(self.present()) >= 2:
            self.op_multi(c, bad=self.rng.random() < 0.2)
        elif self.absent():
            self.op_create(c, self.rng.choice(self.absent()))

    def send(self, c, opcode, body, doubt):
        """One request; if the connection dies before the reply the request
        is in doubt and the exception propagates."""
        self.doubt = doubt
        rep = c.call(opcode, body, timeout=20.0)
        self.doubt = None
        self.acks += 1
        return rep

    def child_changed(self, zxid, n=1):
        cv, _ = self.parent
        self.parent = (cv + n, zxid)

    def op_create(self, c, path):
        data = self.payload()
        rep = self.send(c, w.CREATE2, create_body(path, data),
                        {"kind": "paths", "post": {path: (data, 0)}, "children": 1})
        if rep.err != 0:
            return self.fail(f"create2 {path}: error {rep.err} on a path the model says is absent")
        r = w.Reader(rep.body)
        got, st = r.string(), r.stat()
        if got != path or st.version != 0 or st.dataLength != len(data) or st.czxid != rep.zxid:
            return self.fail(f"create2 {path}: reply {got} {st} zxid {rep.zxid:#x}")
        self.nodes[path] = Node(data, 0, st)
        self.child_changed(st.czxid)

    def op_set(self, c, path, bad):
        n = self.nodes[path]
        data = self.payload()
        version = n.version + 7 if bad else n.version
        post = {} if bad else {path: (data, n.version + 1)}
        rep = self.send(c, w.SET_DATA, w.p_string(path) + w.p_buffer(data) + w.p_int(version),
                        {"kind": "paths", "post": post, "children": 0})
        if bad:
            if rep.err != w.BAD_VERSION:
                self.fail(f"setData {path} version {version} (is {n.version}): error {rep.err}")
            return
        if rep.err != 0:
            return self.fail(f"setData {path} version {version}: error {rep.err}")
        st = w.Reader(rep.body).stat()
        if st.version != n.version + 1 or st.mzxid != rep.zxid or (n.stat and st.czxid != n.stat.czxid):
            return self.fail(f"setData {path}: reply stat {st} after {n.stat}")
        self.nodes[path] = Node(data, st.version, st)

    def op_delete(self, c, path):
        n = self.nodes[path]
        seq = path.startswith("/seq/")
        rep = self.send(c, w.DELETE, w.p_string(path) + w.p_int(n.version),
                        {"kind": "paths", "post": {path: None}, "children": 0 if seq else 1})
        if rep.err != 0:
            return self.fail(f"delete {path} version {n.version}: error {rep.err}")
        del self.nodes[path]
        if not seq:
            self.child_changed(rep.zxid)

    def op_seq(self, c):
        data = self.payload()
        rep = self.send(c, w.CREATE2, create_body("/seq/s-", data, w.PERSISTENT_SEQUENTIAL),
                        {"kind": "seq", "data": data})
        if rep.err != 0:
            return self.fail(f"sequential create: error {rep.err}")
        r = w.Reader(rep.body)
        path, st = r.string(), r.stat()
        num = int(path[len("/seq/s-"):])
        if num <= self.last_seq:
            self.fail(f"sequential {path} after this client's {self.last_seq} (not increasing)")
        self.last_seq = num
        self.seq_numbers.add(num)
        self.nodes[path] = Node(data, 0, st)

    def op_multi(self, c, bad):
        new = self.rng.choice(self.absent())
        a, b = self.rng.sample(self.present(), 2)
        d_new, d_a = self.payload(), self.payload()
        va = self.nodes[a].version + (3 if bad else 0)
        ops = [("create2", new, d_new, w.OPEN_ACL, 0), ("setData", a, d_a, va),
               ("delete", b, self.nodes[b].version)]
        post = {} if bad else {new: (d_new, 0), a: (d_a, self.nodes[a].version + 1), b: None}
        rep = self.send(c, w.MULTI, w.encode_multi(ops),
                        {"kind": "paths", "post": post, "children": 0 if bad else 2})
        if bad:
            # a failed multi answers err 0 with the per-op errors in the body
            errs = [e for _, e, _ in w.decode_multi(rep.body)] if rep.err == 0 else rep.err
            if errs != [0, w.BAD_VERSION, w.RUNTIME_INCONSISTENCY]:
                self.fail(f"multi with a bad version on {a}: errors {errs}")
            return
        if rep.err != 0:
            return self.fail(f"multi {ops[0][1]}, {a}, {b}: error {rep.err}")
        res = w.decode_multi(rep.body)
        # a create2 inside a multi answers with a plain create result (the
        # path only), in ZooKeeper 3.8 too
        (_, _, p), (_, _, st_a) = res[0], res[1]
        if p != new or st_a.mzxid != rep.zxid or [t for t, _, _ in res] != [w.CREATE, w.SET_DATA, w.DELETE]:
            return self.fail(f"multi reply {res} zxid {rep.zxid:#x}")
        self.nodes[new] = Node(d_new, 0, None)
        self.nodes[a] = Node(d_a, st_a.version, st_a)
        del self.nodes[b]
        self.child_changed(rep.zxid, 2)


# ---- checks after a restart -------------------------------------------------

def read_node(c, path):
    """(data, Stat) or None."""
    rep = c.call(w.GET_DATA, w.p_string(path) + w.p_bool(False))
    if rep.err == w.NO_NODE:
        return None
    assert rep.err == 0, f"getData {path}: error {rep.err}"
    r = w.Reader(rep.body)
    return r.buffer(), r.stat()


def matches_acked(actual, node):
    if node is None:
        return actual is None
    return actual is not None and actual[0] == node.data and actual[1].version == node.version and \
        (node.stat is None or actual[1] == node.stat)


def matches_post(actual, post):
    if post is None:
        return actual is None
    return actual is not None and actual[0] == post[0] and actual[1].version == post[1]


def check_worker(c, wk, unknown_seq, where):
    """Compare one client's model with the server; resolve its in-doubt
    request (adopting what the server has) and return the paths it owns."""
    paths = set(wk.keys) | set(wk.my_seqs())
    actual = {p: read_node(c, p) for p in paths}
    doubt, wk.doubt = wk.doubt, None
    took = False
    if doubt and doubt["kind"] == "paths":
        post = doubt["post"]
        pre_ok = all(matches_acked(actual[p], wk.nodes.get(p)) for p in post)
        post_ok = all(matches_post(actual[p], post[p]) for p in post)
        assert pre_ok or post_ok, (
            f"{where}: client {wk.idx}'s unacknowledged request is neither absent nor whole:\n"
            f"  before: { {p: wk.nodes.get(p) for p in post} }\n  sent: {post}\n"
            f"  server: { {p: actual[p] for p in post} }")
        took = post_ok and not pre_ok
        if took:
            for p, v in post.items():
                if v is None:
                    wk.nodes.pop(p, None)
                else:
                    wk.nodes[p] = Node(actual[p][0], actual[p][1].version, actual[p][1])
    elif doubt and doubt["kind"] == "seq":
        hits = [p for p, (data, _) in unknown_seq.items() if data == doubt["data"]]
        assert len(hits) <= 1, f"{where}: client {wk.idx}'s in-doubt sequential create is there twice: {hits}"
        if hits:
            p = hits[0]
            data, st = unknown_seq.pop(p)
            wk.nodes[p] = Node(data, st.version, st)
            wk.seq_numbers.add(int(p[len("/seq/s-"):]))
            wk.last_seq = max(wk.last_seq, int(p[len("/seq/s-"):]))
            paths.add(p)
            actual[p] = (data, st)
    for p in sorted(paths):
        n = wk.nodes.get(p)
        if n is None:
            assert actual[p] is None, f"{where}: {p} was deleted (acknowledged) or never created, but is {actual[p]}"
            continue
        assert actual[p] is not None, f"{where}: acknowledged {p} ({n}) is missing"
        data, st = actual[p]
        assert data == n.data, f"{where}: {p} has data {data[:40]!r}..., acknowledged {n.data[:40]!r}..."
        assert st.version == n.version, f"{where}: {p} version {st.version}, acknowledged {n.version}"
        if n.stat is not None:
            assert st == n.stat, f"{where}: {p} stat {st}, acknowledged {n.stat}"
        n.stat = st
    # the parent: acknowledged child creates/deletes (+ the in-doubt one if it took)
    (_, pst) = read_node(c, wk.base)
    cv, pz = wk.parent
    if took and doubt["children"]:
        assert pst.cversion == cv + doubt["children"] and pst.pzxid > pz, \
            f"{where}: {wk.base} cversion {pst.cversion} pzxid {pst.pzxid:#x}, expected {cv}+{doubt['children']}"
        wk.parent = (pst.cversion, pst.pzxid)
    else:
        assert (pst.cversion, pst.pzxid) == (cv, pz), \
            f"{where}: {wk.base} (cversion, pzxid) = {(pst.cversion, pst.pzxid)}, acknowledged {(cv, pz)}"
    assert pst.numChildren == len(wk.present()), f"{where}: {wk.base} numChildren {pst.numChildren}"
    return paths


def walk(c, path="/"):
    """{path: (data, Stat, children)} of the whole tree."""
    rep = c.call(w.GET_CHILDREN2, w.p_string(path) + w.p_bool(False))
    assert rep.err == 0, f"getChildren2 {path}: {rep.err}"
    r = w.Reader(rep.body)
    kids, st = r.vector(r.string), r.stat()
    data, st2 = read_node(c, path)
    assert st2 == st, f"{path}: getData stat {st2} != getChildren2 stat {st}"
    out = {path: (data, st, sorted(kids))}
    for k in kids:
        out.update(walk(c, path.rstrip("/") + "/" + k))
    return out


def java_tree(data_dir, tmp):
    """The tree the Java ZooKeeper 3.8 serves from a copy of data_dir."""
    copy = os.path.join(tmp, "java-copy")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(data_dir, copy)
    srv = JavaZkServer({}, data_dir=copy)
    try:
        srv.start(timeout=60)
        c = w.session(srv.port)
        try:
            return walk(c)
        finally:
            c.close_socket()
    finally:
        srv.cleanup()
        shutil.rmtree(copy, ignore_errors=True)


def check_tree(c, workers, where):
    tree = walk(c)
    for p, (data, st, kids) in tree.items():
        assert st.numChildren == len(kids), f"{where}: {p} numChildren {st.numChildren}, lists {len(kids)}"
        assert st.dataLength == len(data or b""), f"{where}: {p} dataLength {st.dataLength}"
        assert st.czxid <= st.mzxid and st.czxid <= st.pzxid or p == "/", f"{where}: {p} stat {st}"
    seq_nums = [int(k[len("s-"):]) for k in tree["/seq"][2]]
    acked = set().union(*(wk.seq_numbers for wk in workers))
    assert len(acked) == sum(len(wk.seq_numbers) for wk in workers), \
        f"{where}: one sequence number acknowledged to two clients"
    assert tree["/seq"][1].cversion > max(acked | set(seq_nums), default=-1), \
        f"{where}: /seq cversion {tree['/seq'][1].cversion} not above its sequence numbers"
    return tree


def check_all(port, workers, data_dir, where, java_tmp=None):
    c = w.session(port)
    try:
        seq_kids = c.get_children("/seq")
        known = set().union(*(set(wk.my_seqs()) for wk in workers))
        unknown = {}
        for k in seq_kids:
            p = "/seq/" + k
            if p not in known:
                unknown[p] = read_node(c, p)
        for wk in workers:
            check_worker(c, wk, unknown, where)
        assert not unknown, f"{where}: sequential nodes no client sent: {unknown}"
        tree = check_tree(c, workers, where)
        if java_tmp:
            # the oracle reads the same files the same way (the server is
            # idle: at most a closeSession of an expired session is written)
            jt = java_tree(data_dir, java_tmp)
            assert set(jt) == set(tree), f"{where}: Java serves {sorted(set(jt) ^ set(tree))} differently"
            for p in tree:
                assert jt[p] == tree[p], f"{where}: {p}: zabd serves {tree[p]}, Java {jt[p]}"
    finally:
        c.close_socket()


def sanitizer_report(srv):
    """The server log, whole (a report from any earlier incarnation counts)."""
    with open(srv.log_path, "rb") as f:
        log = f.read().decode(errors="replace")
    for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        if mark in log:
            i = log.index(mark)
            return log[max(0, i - 200):i + 3000]
    return None


def setup_tree(port, workers):
    c = w.session(port)
    try:
        for p in ["/seq"] + [wk.base for wk in workers]:
            name, st = c.create2(p, b"")
            assert name == p
        for wk in workers:
            _, st = c.get_data(wk.base)
            wk.parent = (st.cversion, st.pzxid)
    finally:
        c.close_socket()


def test_sigkill_under_load_loses_no_acknowledged_write(tmp_path):
    rng = random.Random(SEED)
    data_dir = str(tmp_path / "data")
    srv = ZabdServer(CFG, data_dir=data_dir)
    workers = [Worker(i, rng.getrandbits(64)) for i in range(WORKERS)]
    total_acks, doubts = 0, 0
    deadline = time.monotonic() + 7.5 * ROUNDS + 60  # bounded; far above the usual ~1.5 s a round
    try:
        srv.start()
        setup_tree(srv.port, workers)
        for rnd in range(ROUNDS):
            assert time.monotonic() < deadline, f"ran out of time after {rnd} rounds"
            where = f"seed {SEED} round {rnd}"
            stop = threading.Event()
            threads = [threading.Thread(target=wk.run, args=(srv.port, stop), daemon=True) for wk in workers]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.05, 1.2))
            srv.kill(signal.SIGKILL)
            for t in threads:
                t.join(timeout=30)
                assert not t.is_alive(), f"{where}: a client did not notice the kill"
            for wk in workers:
                assert not wk.failures, f"{where}: {wk.failures}"
            rep = sanitizer_report(srv)
            assert rep is None, f"{where}: zabd sanitizer report:\n{rep}"
            doubts += sum(1 for wk in workers if wk.doubt)
            srv.start()
            java = str(tmp_path) if rnd % JAVA_EVERY == JAVA_EVERY - 1 else None
            check_all(srv.port, workers, data_dir, f"{where} (after SIGKILL)", java)
        # and a clean stop keeps everything too
        srv.stop()
        srv.start()
        check_all(srv.port, workers, data_dir, f"seed {SEED} after SIGTERM", str(tmp_path))
        total_acks = sum(wk.acks for wk in workers)
        vdir = os.path.join(data_dir, "version-2")
        names = os.listdir(vdir)
    finally:
        srv.cleanup()
    # the run exercised what it is meant to: writes, snapshots, rolls, kills
    # with requests in flight
    assert total_acks >= 20 * ROUNDS, total_acks
    assert sum(n.startswith("snapshot.") for n in names) >= 3, names
    assert sum(n.startswith("log.") for n in names) >= 3, names
    assert doubts >= ROUNDS // 2, doubts


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def fd_targets(pid):
    out = []
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                pass
    except OSError:
        pass
    return out


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs /proc")
def test_snapshot_child_holds_no_connection(tmp_path):
    """The forked snapshot writer must not keep the listening socket or the
    client connections open: with them, a client of a killed server sees no
    end of stream until the child has finished, and the server restarted
    meanwhile cannot bind its port. A tree of ~60 MB makes the child live
    long enough to be looked at."""
    srv = ZabdServer({"snapCount": "20", "preAllocSize": "16384"}, data_dir=str(tmp_path / "data"))
    try:
        srv.start()
        c = w.session(srv.port)
        blob = b"z" * 900_000
        for i in range(64):
            c.send_request(w.CREATE, create_body(f"/big{i}", blob))
        for i in range(64):
            assert c.read_one(timeout=60)[1].err == 0
        seen = None
        for i in range(400):
            c.create(f"/small{i}", b"")
            kids = children_of(srv.proc.pid)
            if kids:
                time.sleep(0.02)  # past the child's first steps after fork
                seen = (kids[0], fd_targets(kids[0]))
                if seen[1]:
                    break
        assert seen and seen[1], "no snapshot child caught alive (or its fds unreadable)"
        pid, fds = seen
        assert not [f for f in fds if f.startswith("socket:")], f"snapshot child {pid} holds sockets: {fds}"
        assert not [f for f in fds if "/log." in f], f"snapshot child {pid} holds the txn log: {fds}"
        # and so a SIGKILL ends the client's connection and frees the port
        # (whether or not the child is still writing)
        srv.kill(signal.SIGKILL)
        with pytest.raises(w.Closed):
            c.read_one(timeout=30)
        srv.start()
        c = w.session(srv.port)
        assert c.exists("/big63") is not None
        c.close_socket()
    finally:
        srv.cleanup()
