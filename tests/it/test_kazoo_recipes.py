"""Kazoo's recipes, unchanged, on the server: they combine sequential
ephemerals, versioned writes, watches and transactions the way real
applications do (Patroni and friends use exactly these)."""
import threading

from kazoo.recipe.barrier import Barrier
from kazoo.recipe.counter import Counter
from kazoo.recipe.election import Election
from kazoo.recipe.lock import Lock, Semaphore
from kazoo.recipe.party import Party
from kazoo.recipe.queue import LockingQueue, Queue
from kazoo.recipe.watchers import ChildrenWatch, DataWatch


def test_lock_is_exclusive_and_handed_over(zk, kazoo_factory):
    other = kazoo_factory()
    a, b = Lock(zk, "/locks/x", "a"), Lock(other, "/locks/x", "b")
    assert a.acquire(timeout=10)
    assert not b.acquire(blocking=False), "the lock is held"
    got = threading.Event()

    def take():
        if b.acquire(timeout=20):
            got.set()
    t = threading.Thread(target=take)
    t.start()
    assert w_contenders(a) == ["a", "b"]
    a.release()
    assert got.wait(20), "the waiter was woken by the watch on its predecessor"
    t.join(20)
    b.release()


def w_contenders(lock):
    import time
    for _ in range(100):
        c = lock.contenders()
        if len(c) == 2:
            return c
        time.sleep(0.05)
    return lock.contenders()


def test_lock_released_when_holder_session_closes(zk, kazoo_factory):
    holder = kazoo_factory()
    assert Lock(holder, "/locks/y").acquire(timeout=10)
    waiter = Lock(zk, "/locks/y")
    assert not waiter.acquire(blocking=False)
    holder.stop()
    assert waiter.acquire(timeout=20)
    waiter.release()


def test_semaphore(zk, kazoo_factory):
    other = kazoo_factory()
    s1, s2, s3 = Semaphore(zk, "/sem", max_leases=2), Semaphore(other, "/sem", max_leases=2), \
        Semaphore(zk, "/sem", max_leases=2)
    assert s1.acquire(timeout=10) and s2.acquire(timeout=10)
    assert not s3.acquire(blocking=False)
    s1.release()
    assert s3.acquire(timeout=10)
    assert len(s3.lease_holders()) == 2
    s2.release()
    s3.release()


def test_election(zk, kazoo_factory):
    other = kazoo_factory()
    won = threading.Event()
    e1, e2 = Election(zk, "/election", "one"), Election(other, "/election", "two")
    leading = threading.Event()
    release = threading.Event()

    def lead1():
        leading.set()
        release.wait(20)
    t1 = threading.Thread(target=e1.run, args=(lead1,))
    t1.start()
    assert leading.wait(10)
    t2 = threading.Thread(target=e2.run, args=(won.set,))
    t2.start()
    assert w_contenders(e1.lock) == ["one", "two"]
    assert not won.is_set()
    release.set()
    assert won.wait(20), "the second candidate takes over"
    t1.join(20)
    t2.join(20)


def test_counter_concurrent(zk, kazoo_factory):
    clients = [zk, kazoo_factory(), kazoo_factory()]

    def bump(c):
        cnt = Counter(c, "/counter")
        for _ in range(30):
            cnt += 1
    ts = [threading.Thread(target=bump, args=(c,)) for c in clients]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert Counter(zk, "/counter").value == 90, "versioned setData retries make increments atomic"


def test_queues(zk, kazoo_factory):
    q = Queue(zk, "/q")
    for i in range(5):
        q.put(b"item%d" % i, priority=100 - i)
    assert len(q) == 5
    assert [q.get() for _ in range(5)] == [b"item4", b"item3", b"item2", b"item1", b"item0"]
    assert q.get() is None
    lq = LockingQueue(kazoo_factory(), "/lq")
    lq.put_all([b"a", b"b"])
    assert lq.get(timeout=10) == b"a"
    assert lq.consume()
    assert lq.get(timeout=10) == b"b"
    assert lq.consume()
    assert len(lq) == 0


def test_party_and_barrier(zk, kazoo_factory):
    other = kazoo_factory()
    p1, p2 = Party(zk, "/party", "p1"), Party(other, "/party", "p2")
    p1.join()
    p2.join()
    assert sorted(p1) == ["p1", "p2"]
    p2.leave()
    assert list(p1) == ["p1"]
    b = Barrier(zk, "/barrier")
    b.create()
    passed = threading.Event()
    t = threading.Thread(target=lambda: Barrier(other, "/barrier").wait(20) and passed.set())
    t.start()
    assert not passed.wait(0.3)
    b.remove()
    assert passed.wait(20)
    t.join(20)


def test_data_and_children_watch_recipes(zk, kazoo_factory):
    other = kazoo_factory()
    zk.create("/dw", b"0")
    datas, kids = [], []
    seen_data, seen_kids = threading.Event(), threading.Event()

    @DataWatch(zk, "/dw")
    def on_data(data, stat):
        datas.append(data)
        if data == b"3":
            seen_data.set()

    @ChildrenWatch(zk, "/dw")
    def on_kids(children):
        kids.append(sorted(children))
        if len(children) == 2:
            seen_kids.set()
    for v in (b"1", b"2", b"3"):
        other.set("/dw", v)
    other.create("/dw/a", b"")
    other.create("/dw/b", b"")
    assert seen_data.wait(10) and seen_kids.wait(10)
    assert datas[0] == b"0" and datas[-1] == b"3"
    assert kids[0] == [] and kids[-1] == ["a", "b"]


def test_ensure_path_and_recursive_delete(zk):
    zk.ensure_path("/deep/er/and/deeper")
    zk.create("/deep/er/leaf", b"")
    assert zk.exists("/deep/er/and/deeper") is not None
    zk.delete("/deep", recursive=True)
    assert zk.exists("/deep") is None
