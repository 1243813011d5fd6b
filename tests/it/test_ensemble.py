"""A 3-node zabd ensemble on loopback, driven through stock kazoo clients:
writes through any member reach every member with the same Stat, follower
sessions and their ephemerals, watches fired on other members, the leader
killed and replaced with nothing committed lost, a restarted member
catching up, and a member that lost its quorum refusing service.

With ZABD_IT_TARGET=java the same tests run against a Java 3.8 ensemble
(the oracle)."""
import os
import signal
import time

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError

from servers import Ensemble, four_letter, wait_until

KIND = "java" if os.environ.get("ZABD_IT_TARGET") == "java" else "zabd"


@pytest.fixture
def ens():
    e = Ensemble([KIND] * 3)
    e.start(timeout=90)
    yield e
    e.cleanup()


def client(member_or_hosts, timeout=15.0, randomize=True):
    hosts = member_or_hosts if isinstance(member_or_hosts, str) else member_or_hosts.hosts
    zk = KazooClient(hosts=hosts, timeout=timeout, randomize_hosts=randomize)
    zk.start(timeout=timeout)
    return zk


def stat_tuple(s):
    return (s.czxid, s.mzxid, s.pzxid, s.ctime, s.mtime, s.version, s.cversion, s.aversion,
            s.ephemeralOwner, s.dataLength, s.numChildren)


def test_modes_one_leader_two_followers(ens):
    modes = sorted(ens.mode(m) for m in ens.members)
    assert modes == ["follower", "follower", "leader"]
    for m in ens.members:
        assert four_letter(m.port, "ruok") == "imok"
    # a fresh leader's highest zxid is its first epoch's, before any txn
    assert "Zxid: 0x100000000\n" in four_letter(ens.leader().port, "srvr")
    for m in ens.followers():
        assert "Zxid: 0x0\n" in four_letter(m.port, "srvr")


def test_write_anywhere_read_everywhere(ens):
    clients = [client(m) for m in ens.members]
    try:
        for i, zk in enumerate(clients):
            zk.create(f"/w{i}", f"from {i}".encode())
        for zk in clients:
            zk.sync("/")
            for i in range(3):
                data, _ = zk.get(f"/w{i}")
                assert data == f"from {i}".encode()
        stats = []
        for zk in clients:
            zk.sync("/")
            stats.append([stat_tuple(zk.exists(f"/w{i}")) for i in range(3)])
        assert stats[0] == stats[1] == stats[2]
        # zxids come from the leader, one per write, in order
        czxids = [s[0] for s in stats[0]]
        assert czxids == sorted(czxids) and len(set(czxids)) == 3
        # a failing write through a follower gets its error
        f = next(zk for zk, m in zip(clients, ens.members) if ens.mode(m) == "follower")
        with pytest.raises(Exception) as e:
            f.create("/w0", b"again")
        assert "NodeExists" in type(e.value).__name__
        # sequential names are the leader's, whichever member was asked
        # (the root's cversion: three creations before them)
        names = [zk.create("/seq-", b"", sequence=True) for zk in clients]
        assert sorted(names) == [f"/seq-{i:010d}" for i in range(3, 6)]
    finally:
        for zk in clients:
            zk.stop()
            zk.close()


def test_follower_session_ephemeral_and_watch(ens):
    fol = ens.followers()
    a, b = client(fol[0]), client(ens.leader())
    try:
        a.create("/eph", b"x", ephemeral=True)
        b.sync("/")
        st = b.exists("/eph")
        assert st is not None and st.ephemeralOwner == a.client_id[0]
        # the session id carries the id of the member that made it (§2.9.2)
        assert a.client_id[0] >> 56 == fol[0].sid
        fired = []
        b.exists("/eph", watch=lambda ev: fired.append(ev.type))
        a.stop()
        a.close()
        assert wait_until(lambda: fired == ["DELETED"], tries=100, delay=0.1), fired
        b.sync("/")
        assert b.exists("/eph") is None
    finally:
        b.stop()
        b.close()


def test_leader_killed_nothing_committed_lost(ens):
    zk = client(ens.hosts)
    try:
        for i in range(50):
            zk.create(f"/k{i}", str(i).encode())
        old = ens.leader()
        old.kill(signal.SIGKILL)
        rest = [m for m in ens.members if m is not old]
        new = ens.wait_serving(rest, timeout=60)
        assert new is not old
        zk2 = client(",".join(m.hosts for m in rest))
        try:
            zk2.sync("/")
            for i in range(50):
                assert zk2.get(f"/k{i}")[0] == str(i).encode()
            zk2.create("/after", b"new leader")
            # the old leader comes back as a follower and catches up
            ens.launch(old)
            ens.wait_serving(timeout=60)
            assert ens.mode(old) == "follower"
            zk3 = client(old)
            try:
                zk3.sync("/")
                assert zk3.get("/after")[0] == b"new leader"
                assert len(zk3.get_children("/")) == len(zk2.get_children("/"))
            finally:
                zk3.stop()
                zk3.close()
        finally:
            zk2.stop()
            zk2.close()
    finally:
        zk.stop()
        zk.close()


def test_session_moves_to_another_member(ens):
    fol = ens.followers()[0]
    others = [m for m in ens.members if m is not fol]
    # hosts in order: the session starts on the follower
    zk = client(",".join([fol.hosts] + [m.hosts for m in others]), randomize=False)
    try:
        zk.create("/moving", b"", ephemeral=True)
        sid = zk.client_id[0]
        assert sid >> 56 == fol.sid
        fol.kill(signal.SIGKILL)
        time.sleep(0.5)
        assert wait_until(lambda: zk.connected and zk.client_id[0] == sid, tries=200, delay=0.1)
        zk.sync("/")
        assert zk.exists("/moving").ephemeralOwner == sid
    finally:
        zk.stop()
        zk.close()


def test_no_quorum_no_service(ens):
    lone = ens.followers()[0]
    for m in ens.members:
        if m is not lone:
            m.kill(signal.SIGKILL)
    assert wait_until(lambda: "not currently serving" in four_letter(lone.port, "srvr"), tries=200, delay=0.1)
    assert four_letter(lone.port, "ruok") == "imok"
    zk = KazooClient(hosts=lone.hosts, timeout=4.0)
    with pytest.raises(Exception):
        zk.start(timeout=3.0)
    zk.stop()
    zk.close()


@pytest.mark.slow
@pytest.mark.parametrize("kinds", [("zabd", "java", "java"), ("java", "java", "zabd")],
                         ids=["zabd-follows-java", "zabd-leads-java"])
def test_mixed_with_java_members(kinds):
    """One zabd among two Java 3.8 members: sid 1 follows a Java leader
    (sid 3 wins FLE), sid 3 leads two Java followers. Writes through either
    kind reach the other with the same Stat; a session on the zabd member
    keeps its ephemeral alive past its timeout (touches reach the leader)
    and its close removes it everywhere."""
    if KIND == "java":
        pytest.skip("mixed by definition")
    e = Ensemble(kinds)
    e.start(timeout=90)
    try:
        zm = next(m for m in e.members if m.kind == "zabd")
        jm = next(m for m in e.members if m.kind != "zabd")
        assert e.mode(zm) == ("follower" if zm.sid == 1 else "leader")
        z, j = client(zm, timeout=6.0), client(jm, timeout=6.0)
        try:
            z.create("/z", b"from zabd")
            z.create("/eph", b"", ephemeral=True)
            seq = z.create("/s-", b"", sequence=True)
            j.sync("/")
            assert j.get("/z")[0] == b"from zabd"
            assert j.exists(seq) is not None
            j.create("/j", b"from java")
            z.sync("/")
            assert z.get("/j")[0] == b"from java"
            for p in ("/z", "/j", seq):
                assert stat_tuple(z.exists(p)) == stat_tuple(j.exists(p))
            time.sleep(8)  # past the 6 s session timeout
            j.sync("/")
            assert j.exists("/eph").ephemeralOwner == z.client_id[0]
            z.stop()
            z.close()
            assert wait_until(lambda: j.exists("/eph") is None, tries=50, delay=0.1)
        finally:
            for c in (z, j):
                c.stop()
                c.close()
    finally:
        e.cleanup()


def test_observer_serves_and_does_not_vote():
    """3 voters + 1 observer: the observer says so, serves reads, forwards
    writes; with two voters gone the rest (one voter + the observer) is no
    quorum."""
    e = Ensemble([KIND] * 4, observers=1)
    e.start(timeout=90)
    try:
        obs = e.members[3]
        assert e.mode(obs) == "observer"
        z = client(obs)
        try:
            z.create("/via-observer", b"o")
            l = client(e.leader())
            l.sync("/")
            assert l.get("/via-observer")[0] == b"o"
            l.stop()
            l.close()
        finally:
            z.stop()
            z.close()
        voters = [m for m in e.members[:3]]
        for m in voters[:2]:
            m.kill(signal.SIGKILL)
        assert wait_until(lambda: "not currently serving" in four_letter(voters[2].port, "srvr"),
                          tries=200, delay=0.1)
        assert wait_until(lambda: "not currently serving" in four_letter(obs.port, "srvr"),
                          tries=200, delay=0.1)
    finally:
        e.cleanup()


def test_lagging_member_catches_up_and_full_restart_keeps_data(ens):
    """A follower down while 700 txns commit (more than the 500 the leader
    keeps in memory) catches up from the leader's log or a snapshot when it
    comes back; then every member is stopped and started again and the
    tree is the same, read from each member's own data directory."""
    lag = ens.followers()[0]
    lag.kill(signal.SIGKILL)
    zk = client(",".join(m.hosts for m in ens.members if m is not lag))
    try:
        for i in range(350):
            zk.create(f"/n{i:04d}", b"v" * 20)
            zk.set(f"/n{i:04d}", b"w")
    finally:
        zk.stop()
        zk.close()
    ens.launch(lag)
    ens.wait_serving(timeout=60)
    z = client(lag)
    try:
        z.sync("/")
        kids = sorted(z.get_children("/"))
        assert len([k for k in kids if k.startswith("n")]) == 350
        assert z.get("/n0349") [0] == b"w" and z.exists("/n0349").version == 1
        before = {k: stat_tuple(z.exists("/" + k)) for k in kids if k.startswith("n")}
    finally:
        z.stop()
        z.close()
    for m in ens.members:
        m.stop()
    for m in ens.members:
        ens.launch(m)
    ens.wait_serving(timeout=60)
    for m in ens.members:
        c = client(m)
        try:
            c.sync("/")
            after = {k: stat_tuple(c.exists("/" + k)) for k in c.get_children("/") if k.startswith("n")}
            assert after == before, f"member {m.sid}"
        finally:
            c.stop()
            c.close()


@pytest.mark.slow
def test_session_moves_from_java_member_to_zabd():
    """A session made on a Java follower moves to a zabd follower when its
    server dies: zabd asks the Java leader (REVALIDATE), which makes zabd the
    session's owner, so the session's next writes through zabd succeed
    (without it Java answers SessionMoved) and its ephemeral stays."""
    if KIND == "java":
        pytest.skip("mixed by definition")
    e = Ensemble(("zabd", "java", "java"))
    e.start(timeout=90)
    try:
        zm = e.members[0]
        jf = next(m for m in e.members[1:] if e.mode(m) == "follower")
        zk = client(f"{jf.hosts},{zm.hosts}", timeout=6.0, randomize=False)
        try:
            zk.create("/moved", b"", ephemeral=True)
            sid = zk.client_id[0]
            assert sid >> 56 == jf.sid
            jf.kill(signal.SIGKILL)
            time.sleep(0.5)
            assert wait_until(lambda: zk.connected and zk.client_id[0] == sid, tries=200, delay=0.1)
            zk.create("/after-move", b"ok")
            zk.set("/moved", b"still mine")
            assert zk.exists("/moved").ephemeralOwner == sid
        finally:
            zk.stop()
            zk.close()
    finally:
        e.cleanup()


@pytest.mark.slow
@pytest.mark.parametrize("kinds", [("zabd", "java", "java"), ("java", "java", "zabd")],
                         ids=["zabd-catches-up-from-java", "java-catches-up-from-zabd"])
def test_mixed_member_catches_up(kinds):
    """A follower of the other kind is down while 700 txns commit (beyond
    the 500 kept in memory: the leader syncs it from its txn log or by
    SNAP), comes back, and serves the same tree with the same Stats."""
    if KIND == "java":
        pytest.skip("mixed by definition")
    e = Ensemble(kinds)
    e.start(timeout=90)
    try:
        leader = e.leader()
        lag = next(m for m in e.members if m is not leader and m.kind != leader.kind)
        lag.kill(signal.SIGKILL)
        zk = client(leader, timeout=10.0)
        try:
            for i in range(350):
                zk.create(f"/m{i:04d}", b"x" * 30)
                zk.set(f"/m{i:04d}", b"y")
            want = {k: stat_tuple(zk.exists("/" + k)) for k in zk.get_children("/") if k.startswith("m")}
        finally:
            zk.stop()
            zk.close()
        e.launch(lag)
        e.wait_serving(timeout=90)
        assert e.mode(lag) == "follower"
        c = client(lag, timeout=10.0)
        try:
            c.sync("/")
            got = {k: stat_tuple(c.exists("/" + k)) for k in c.get_children("/") if k.startswith("m")}
            assert got == want
            c.create("/after", b"")  # and it serves writes again
        finally:
            c.stop()
            c.close()
    finally:
        e.cleanup()


def test_mntr_quorum_keys(ens):
    """The keys monitoring tools read on an ensemble (Datadog, zk_exporter):
    the peer state third, the quorum size, and the leader's follower counts."""
    def mntr(m):
        out = four_letter(m.port, "mntr")
        pairs = [ln.split("\t", 1) for ln in out.splitlines()]
        return pairs, dict(pairs)

    leader = ens.leader()
    pairs, d = mntr(leader)
    assert pairs[1] == ["zk_server_state", "leader"]
    assert pairs[2] == ["zk_peer_state", "leading - broadcast"]
    assert d["zk_quorum_size"] == "3"
    assert d["zk_synced_followers"] == "2"
    assert d["zk_pending_syncs"] == "0"
    assert int(d["zk_learners"]) == 2
    for m in ens.followers():
        pairs, d = mntr(m)
        assert pairs[1] == ["zk_server_state", "follower"]
        assert pairs[2] == ["zk_peer_state", "following - broadcast"]
        assert "zk_synced_followers" not in d
        assert "Proposal sizes" not in four_letter(m.port, "srvr")
    # proposal sizes: none yet on a fresh leader, then the txns' sizes
    assert "Proposal sizes last/min/max: -1/-1/-1\n" in four_letter(leader.port, "srvr")
    zk = client(leader)
    try:
        zk.create("/small", b"")
        zk.create("/bigger", b"x" * 1000)
    finally:
        zk.stop()
        zk.close()
    _, d = mntr(leader)
    last, lo, hi = (int(d[f"zk_{k}_proposal_size"]) for k in ("last", "min", "max"))
    assert 0 < lo <= last <= hi and hi - lo >= 1000  # the last is the closeSession
