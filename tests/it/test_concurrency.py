"""Several clients at once and pipelined requests: per-session FIFO order,
unique sequence numbers, many watches firing from one transaction."""
import threading

import zkwire as w


def test_pipelined_reads_see_earlier_writes(raw):
    raw.create("/f", b"0")
    xids = []
    for i in range(1, 51):
        xids.append(raw.send_request(w.SET_DATA, w.p_string("/f") + w.p_buffer(b"%d" % i) + w.p_int(-1)))
        xids.append(raw.send_request(w.GET_DATA, w.p_string("/f") + w.p_bool(False)))
    got = [raw.read_one()[1] for _ in xids]
    assert [r.xid for r in got] == xids, "replies in request order"
    for i in range(1, 51):
        rd = w.Reader(got[2 * i - 1].body)
        assert rd.buffer() == b"%d" % i, "a read after a write on the same session sees it"
        assert rd.stat().version == i


def test_concurrent_sequential_creates_get_unique_numbers(zk, kazoo_factory):
    zk.create("/seq", b"")
    clients = [zk] + [kazoo_factory() for _ in range(4)]
    results = [[] for _ in clients]

    def work(i, c):
        pend = [c.create_async("/seq/n-", b"", sequence=True) for _ in range(100)]
        results[i] = [p.get(timeout=30) for p in pend]
    ts = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    names = [p for r in results for p in r]
    assert len(names) == 500
    assert sorted(int(p[-10:]) for p in names) == list(range(500))
    for r in results:
        nums = [int(p[-10:]) for p in r]
        assert nums == sorted(nums), "one session's creates are applied in its order"
    assert len(zk.get_children("/seq")) == 500


def test_one_multi_fires_many_watches(raw_factory):
    a, b = raw_factory(), raw_factory()
    a.create("/many", b"")
    ops = [("create", "/many/n%d" % i, b"", w.OPEN_ACL, 0) for i in range(200)]
    assert a.multi(ops)[0].err == 0
    for i in range(200):
        b.get_data("/many/n%d" % i, watch=True)
    b.get_children("/many", watch=True)
    rep, res = a.multi([("delete", "/many/n%d" % i, -1) for i in range(200)])
    assert rep.err == 0
    evs = [b.wait_event(10) for _ in range(201)]
    assert sorted((e.type, e.path) for e in evs) == sorted(
        [(w.NODE_DELETED, "/many/n%d" % i) for i in range(200)] + [(w.NODE_CHILDREN_CHANGED, "/many")])
    b.sync("/")
    assert b.no_event(0.2)


def test_writers_and_watchers_in_parallel(zk, kazoo_factory):
    zk.create("/hot", b"0")
    writers = [kazoo_factory() for _ in range(3)]
    stop = threading.Event()
    changes = []

    def watch_loop():
        got = threading.Event()
        while not stop.is_set():
            got.clear()
            data, _ = zk.get("/hot", watch=lambda e: (changes.append(e.type), got.set()))
            got.wait(2)

    wt = threading.Thread(target=watch_loop)
    wt.start()

    def write(c, k):
        for i in range(50):
            c.set("/hot", b"%d-%d" % (k, i))
    ts = [threading.Thread(target=write, args=(c, k)) for k, c in enumerate(writers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    stop.set()
    wt.join(10)
    assert zk.exists("/hot").version == 150
    assert changes and set(changes) == {"CHANGED"}
