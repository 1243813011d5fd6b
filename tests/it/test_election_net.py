"""The ensemble over TCP: io/qnet's election port (and the quorum port
behind it) against Java ZooKeeper 3.8 and against itself.

tests/it/c/qnet_probe is one ensemble member made of the real peer (FLE +
ZAB) over qnet with an in-memory disk; it prints one JSON line per change
of role. Java members are real QuorumPeerMain processes on loopback ports.
Every process is started here and stopped by its pid."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from servers import JAVA_CP, ROOT, four_letter, free_port

BUILD = os.environ.get("ZABD_BUILD", os.path.join(ROOT, "build"))
PROBE = os.path.join(BUILD, "tests", "it", "c", "qnet_probe")
SLF4J_SIMPLE = "/usr/share/java/slf4j-simple.jar"  # Java's log lines, for failures

pytestmark = pytest.mark.skipif(not os.path.exists(PROBE), reason=f"{PROBE} not built")


class Member:
    """One server.N of an ensemble: a qnet_probe or a Java QuorumPeerMain."""

    def __init__(self, ens, sid, kind):
        self.observer = kind.endswith(":observer")
        kind = kind.split(":")[0]
        self.ens, self.sid, self.kind = ens, sid, kind
        self.dir = os.path.join(ens.tmp, f"s{sid}")
        self.data = os.path.join(self.dir, "data")
        os.makedirs(self.data, exist_ok=True)
        with open(os.path.join(self.data, "myid"), "w") as f:
            f.write(f"{sid}\n")
        self.client_port = free_port()
        self.quorum_port = free_port()
        self.election_port = free_port()
        self.proc = None
        self.args = []  # extra probe arguments
        self.out = os.path.join(self.dir, "stdout")
        self.err = os.path.join(self.dir, "stderr")

    def write_cfg(self):
        path = os.path.join(self.dir, "zoo.cfg")
        lines = [f"tickTime={self.ens.tick}", "initLimit=10", "syncLimit=5",
                 f"dataDir={self.data}", f"clientPort={self.client_port}",
                 "clientPortAddress=127.0.0.1", "4lw.commands.whitelist=*",
                 "admin.enableServer=false"]
        for m in self.ens.members:
            lines.append(f"server.{m.sid}=127.0.0.1:{m.quorum_port}:{m.election_port}" +
                         (":observer" if m.observer else ""))
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start(self):
        cfg = self.write_cfg()
        if self.kind == "probe":
            cmd = [PROBE, cfg, "--run-ms", "90000"] + self.args
        else:
            cp = JAVA_CP + (":" + SLF4J_SIMPLE if os.path.exists(SLF4J_SIMPLE) else "")
            cmd = ["java", "-Xmx256m", "-Dzookeeper.log.dir=" + self.dir, "-cp", cp,
                   "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg]
        env = dict(os.environ)
        # the probe frees everything on SIGTERM: leak checks stay on
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.proc = subprocess.Popen(cmd, stdout=open(self.out, "ab"), stderr=open(self.err, "ab"),
                                     cwd=self.dir, env=env)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def events(self):
        """The probe's JSON lines so far."""
        try:
            with open(self.out) as f:
                return [json.loads(l) for l in f if l.startswith("{")]
        except OSError:
            return []

    def serving(self):
        """probe: its last 'serving' event if that is its current state;
        Java: the srvr Mode line."""
        if self.kind == "probe":
            ev = self.events()
            return ev[-1] if ev and ev[-1]["event"] == "serving" else None
        try:
            out = four_letter(self.client_port, "srvr", timeout=1.0)
        except OSError:
            return None
        for line in out.splitlines():
            if line.startswith("Mode:"):
                return {"mode": line.split()[1], "zxid": next(
                    (l.split()[1] for l in out.splitlines() if l.startswith("Zxid:")), None)}
        return None

    def mntr(self):
        out = four_letter(self.client_port, "mntr", timeout=2.0)
        return dict(l.split("\t", 1) for l in out.splitlines() if "\t" in l)

    def logs(self):
        text = ""
        for p in (self.out, self.err):
            try:
                with open(p, "rb") as f:
                    text += f.read()[-4000:].decode(errors="replace")
            except OSError:
                pass
        return f"--- {self.kind} {self.sid} ---\n{text}"


class Ensemble:
    def __init__(self, kinds, tick=500):
        self.tmp = tempfile.mkdtemp(prefix="zabd-it-qnet-")
        self.tick = tick
        self.members = []
        for sid, kind in kinds:
            self.members.append(Member(self, sid, kind))

    def __getitem__(self, sid):
        return next(m for m in self.members if m.sid == sid)

    def wait_serving(self, sids, timeout=45.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            st = {s: self[s].serving() for s in sids}
            if all(st.values()):
                return st
            time.sleep(0.2)
        raise AssertionError("not all serving: " + repr({s: self[s].serving() for s in sids}) +
                             "\n" + "\n".join(m.logs() for m in self.members))

    def cleanup(self):
        for m in self.members:
            m.stop()
        reports = []
        for m in self.members:
            if m.kind == "probe":
                err = open(m.err, errors="replace").read()
                if "ERROR: AddressSanitizer" in err or "ERROR: LeakSanitizer" in err or \
                        "runtime error:" in err:
                    reports.append(m.logs())
        shutil.rmtree(self.tmp, ignore_errors=True)
        assert not reports, "sanitizer report from a probe:\n" + "\n".join(reports)


@pytest.fixture
def ensemble():
    made = []

    def make(kinds, **kw):
        e = Ensemble(kinds, **kw)
        made.append(e)
        return e

    yield make
    for e in made:
        e.cleanup()


def role(st):
    """'leader'/'follower' from a probe event or a Java srvr answer."""
    if "mode" in st:
        return st["mode"]
    return {"LEADING": "leader", "FOLLOWING": "follower",
            "OBSERVING": "observer"}.get(st["state"], st["state"])


def test_three_probes_elect_one_leader_and_reelect(ensemble):
    e = ensemble([(1, "probe"), (2, "probe"), (3, "probe")])
    for m in e.members:
        m.start()
    st = e.wait_serving([1, 2, 3])
    # equal (zxid, epoch): the largest sid wins, everyone agrees on it
    assert [role(st[s]) for s in (1, 2, 3)] == ["follower", "follower", "leader"], st
    assert {st[s]["leader"] for s in (1, 2, 3)} == {3}
    assert {st[s]["epoch"] for s in (1, 2, 3)} == {1}
    # the leader goes away: the other two find each other again (their kept
    # election connection 2 -> 1 survives; 3's are gone) and 2 leads epoch 2
    e[3].stop()
    deadline = time.time() + 30
    while time.time() < deadline:
        s1, s2 = e[1].serving(), e[2].serving()
        if s1 and s2 and s1["leader"] == 2 and s2["leader"] == 2:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("no re-election:\n" + e[1].logs() + e[2].logs())
    assert role(s2) == "leader" and role(s1) == "follower"
    assert s1["epoch"] == s2["epoch"] == 2


@pytest.mark.slow
def test_probe_sid3_leads_two_java_followers(ensemble):
    """All three start empty: the probe (largest sid) must win, and the two
    Java servers must follow it through the quorum port (DIFF sync)."""
    e = ensemble([(1, "java"), (2, "java"), (3, "probe")])
    for m in e.members:
        m.start()
    st = e.wait_serving([1, 2, 3])
    assert role(st[3]) == "leader" and st[3]["leader"] == 3, st
    assert role(st[1]) == "follower" and role(st[2]) == "follower", st
    # the Java followers took the probe's epoch (DIFF leaves their zxid at 0)
    for s in (1, 2):
        with open(os.path.join(e[s].data, "version-2", "currentEpoch")) as f:
            assert f.read() == str(st[3]["epoch"])


@pytest.mark.slow
def test_java_followers_load_the_probes_snap(ensemble):
    """The probe starts with epoch 5 and a snapshot at 0x500000000 (its
    minimal tree): it wins, and the empty Java servers are behind its
    window, so they get SNAP — the stream from the probe's app, with the
    BenWasHere signature that qnet adds — and must load it."""
    e = ensemble([(1, "java"), (2, "java"), (3, "probe")])
    e[3].args = ["--epoch", "5"]
    for m in e.members:
        m.start()
    st = e.wait_serving([1, 2, 3])
    assert role(st[3]) == "leader" and st[3]["epoch"] == 6, st
    for s in (1, 2):
        assert role(st[s]) == "follower", st
        assert st[s]["zxid"] == "0x500000000", st  # SNAP sets the learner's zxid
        with open(os.path.join(e[s].data, "version-2", "currentEpoch")) as f:
            assert f.read() == "6"
    err = open(e[3].err).read()
    assert "sync 1 SNAP" in err and "sync 2 SNAP" in err, err[-3000:]


@pytest.mark.slow
def test_probe_joins_running_java_ensemble_by_snap(ensemble):
    """Java 1 and 2 form a quorum and take writes; the probe (sid 3) joins
    late: it must learn the leader from their FOLLOWING/LEADING votes, and
    sync from the Java leader by SNAP (a real snapshot stream)."""
    e = ensemble([(1, "java"), (2, "java"), (3, "probe")])
    e[1].start()
    e[2].start()
    st = e.wait_serving([1, 2])
    leader = 2 if role(st[2]) == "leader" else 1
    from kazoo.client import KazooClient
    from kazoo.security import make_digest_acl
    zk = KazooClient(hosts=f"127.0.0.1:{e[1].client_port},127.0.0.1:{e[2].client_port}")
    zk.start(timeout=15)
    try:
        zk.create("/a", b"x" * 5000)
        zk.create("/a/eph", b"", ephemeral=True)
        zk.create("/c", b"secret", acl=[make_digest_acl("u", "p", all=True)])
        zk.create("/a/seq-", b"", sequence=True)
        e[3].start()
        st = e.wait_serving([1, 2, 3])
        java_zxid = e[leader].serving()["zxid"]
    finally:
        zk.stop()
        zk.close()
    assert role(st[3]) == "follower" and st[3]["leader"] == leader, st
    assert st[3]["zxid"] == java_zxid, (st, java_zxid)
    assert e[leader].mntr().get("zk_synced_followers") == "2"
    err = open(e[3].err).read()
    assert "synced by SNAP" in err, err[-3000:]


@pytest.mark.slow
def test_probe_sid1_follows_java_sid3(ensemble):
    """The other direction of the sid rule: the probe has the smallest sid,
    so Java keeps the connections it opens to the probe."""
    e = ensemble([(1, "probe"), (2, "java"), (3, "java")])
    for m in e.members:
        m.start()
    st = e.wait_serving([1, 2, 3])
    # 3 wins if it is up in time; 2 and the probe may also settle before it
    # starts (a quorum of two). Either way all three agree.
    leaders = [s for s in (2, 3) if role(st[s]) == "leader"]
    assert len(leaders) == 1, st
    leader = leaders[0]
    assert role(st[5 - leader]) == "follower", st
    assert role(st[1]) == "follower" and st[1]["leader"] == leader, st
    assert e[leader].mntr().get("zk_synced_followers") == "2"


def _send_and_close(port, data, wait=0.3):
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        try:
            s.sendall(data)
            s.settimeout(wait)
            s.recv(4096)  # the probe closes on bad input; a read may also just time out
        except OSError:
            pass


def test_garbage_on_both_ports_closes_only_that_connection(ensemble):
    import struct
    e = ensemble([(1, "probe"), (2, "probe"), (3, "probe")])
    for m in e.members:
        m.start()
    e.wait_serving([1, 2, 3])
    before = {s: len(e[s].events()) for s in (1, 2, 3)}
    v1 = struct.pack(">qq", -65536, 9)
    garbage = [
        b"\xff" * 64,                                          # unknown protocol version
        struct.pack(">q", -65536) + struct.pack(">q", 2) + struct.pack(">i", 0),   # address length 0
        struct.pack(">q", -65536) + struct.pack(">q", 2) + struct.pack(">i", 4096),  # too long
        v1 + struct.pack(">i", 9) + b"127.0.0.1",               # sid 9 is not in the config
        struct.pack(">q", -65536) + struct.pack(">q", 1) + struct.pack(">i", 3) + b"a:1",  # smaller sid
        b"\x00",                                               # a short read
    ]
    quorum_garbage = [
        struct.pack(">iqi", 11, 0, 0x7FFFFFFF),                # FOLLOWERINFO with a 2 GiB buffer
        struct.pack(">iqi", 1, -1, -7),                        # negative length
        struct.pack(">iqii", 5, 0, 0, -9),                     # bad authinfo count
        struct.pack(">iqi", 11, 0, 4) + b"\0\0\0\0" + struct.pack(">i", 1 << 30),  # absurd authinfo
        bytes(range(256)) * 8,
    ]
    for m in e.members:
        for g in garbage:
            _send_and_close(m.election_port, g)
        for g in quorum_garbage:
            _send_and_close(m.quorum_port, g)
    time.sleep(1.0)
    # nobody crashed, and nobody's role changed: the ensemble's own
    # connections were not the ones closed
    for m in e.members:
        assert m.proc.poll() is None, m.logs()
    st = e.wait_serving([1, 2, 3], timeout=5)
    assert {st[s]["leader"] for s in (1, 2, 3)} == {3}
    assert {s: len(e[s].events()) for s in (1, 2, 3)} == before


@pytest.mark.slow
def test_probe_observer_of_java_voters(ensemble):
    """A non-voter: Java answers its LOOKING votes with the current vote
    (§5.3.4) and it observes the Java leader (OBSERVERINFO, sync, INFORMs)."""
    e = ensemble([(1, "java"), (2, "java"), (3, "probe:observer")])
    for m in e.members:
        m.start()
    st = e.wait_serving([1, 2, 3])
    leader = 2 if role(st[2]) == "leader" else 1
    assert role(st[3 - leader]) == "follower", st
    assert role(st[3]) == "observer" and st[3]["leader"] == leader, st
    m = e[leader].mntr()
    assert m.get("zk_synced_observers") == "1", m
