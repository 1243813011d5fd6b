"""Start and stop the servers under test: zabd (ZABD_BIN) and the Java
ZooKeeper 3.8 from Debian's `zookeeper` package, the oracle.

Each server gets its own free loopback port and a temporary dataDir, is
polled with `ruok` (bounded), and is stopped by the pid we started.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ZABD_BIN = os.environ.get("ZABD_BIN", os.path.join(ROOT, "build", "zabd"))
JAVA_CP = "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def four_letter(port, cmd, timeout=5.0, host="127.0.0.1"):
    """Send a four-letter word and return the whole answer as text."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(cmd.encode())
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks).decode(errors="replace")


def wait_until(pred, tries=100, delay=0.1):
    for _ in range(tries):
        try:
            if pred():
                return True
        except OSError:
            pass
        time.sleep(delay)
    return False


class Server:
    """Common part: config file, process, readiness, stop."""

    kind = "?"

    def __init__(self, cfg=None, data_dir=None):
        self.port = free_port()
        self.tmp = tempfile.mkdtemp(prefix=f"zabd-it-{self.kind}-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.cfg = {
            "tickTime": "2000",
            "dataDir": self.data_dir,
            "clientPort": str(self.port),
            "clientPortAddress": "127.0.0.1",
            "4lw.commands.whitelist": "*",
            "admin.enableServer": "false",
        }
        self.cfg.update(cfg or {})
        self.proc = None
        self.log_path = os.path.join(self.tmp, "server.log")

    @property
    def hosts(self):
        return f"127.0.0.1:{self.port}"

    def write_cfg(self):
        path = os.path.join(self.tmp, "zoo.cfg")
        with open(path, "w") as f:
            for k, v in self.cfg.items():
                if v is not None:  # None drops a default key
                    f.write(f"{k}={v}\n")
        return path

    def command(self, cfg_path):
        raise NotImplementedError

    def start(self, timeout=30.0):
        cfg_path = self.write_cfg()
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(cfg_path), stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=self.tmp, env=self.env())
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}:\n{self.read_log()}")
            try:
                # Java answers imok before it serves; srvr says when it does
                # (and srvr is the one word no whitelist can disable)
                if "Mode:" in four_letter(self.port, "srvr", timeout=1.0):
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.kind} did not answer ruok within {timeout}s:\n{self.read_log()}")

    def env(self):
        return dict(os.environ)

    def run_expecting_exit(self, timeout=20.0, raw_cfg=None):
        """Start with this config (or the literal zoo.cfg text raw_cfg) and
        expect the process to exit by itself; returns (returncode, output).
        If it is still running after timeout it is stopped and returncode
        is None."""
        cfg_path = self.write_cfg()
        if raw_cfg is not None:
            with open(cfg_path, "w") as f:
                f.write(raw_cfg)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(cfg_path), stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=self.tmp, env=self.env())
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            rc = None
        self.log.close()
        self.log = None
        return rc, self.read_log()

    def cfg_path(self):
        return os.path.join(self.tmp, "zoo.cfg")

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-8000:].decode(errors="replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        if self.alive():
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if getattr(self, "log", None):
            self.log.close()
            self.log = None
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


class ZabdServer(Server):
    kind = "zabd"

    def command(self, cfg_path):
        return [ZABD_BIN, cfg_path]

    def env(self):
        env = dict(os.environ)
        # leak checking on a server killed by SIGTERM mid-flight is noise here
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
        return env

    def stop(self):
        rc = super().stop()
        # a sanitizer report means the server misbehaved even if tests passed
        log = self.read_log()
        if "ERROR: AddressSanitizer" in log or "runtime error:" in log:
            raise AssertionError(f"zabd sanitizer report:\n{log}")
        return rc


class JavaZkServer(Server):
    kind = "javazk"

    # zoo.cfg keys that Java reads only as system properties
    SYSPROPS = ("extendedTypesEnabled", "znode.container.checkIntervalMs",
                "znode.container.maxPerMinute", "znode.container.maxNeverUsedIntervalMs",
                "DigestAuthenticationProvider.superDigest", "jute.maxbuffer")
    # read by Java without the "zookeeper." prefix (ZooKeeperServerMain, BinaryInputArchive)
    UNPREFIXED = ("jute.maxbuffer", "znode.container.checkIntervalMs", "znode.container.maxPerMinute",
                  "znode.container.maxNeverUsedIntervalMs")

    def command(self, cfg_path):
        props = ["-Xmx512m", "-Dzookeeper.log.dir=" + self.tmp, "-Dzookeeper.root.logger=INFO,CONSOLE"]
        for k in self.SYSPROPS:
            if k in self.cfg:
                name = k if k in self.UNPREFIXED else "zookeeper." + k
                props.append(f"-D{name}={self.cfg[k]}")
        return ["java"] + props + ["-cp", JAVA_CP, "org.apache.zookeeper.server.ZooKeeperServerMain",
                                   cfg_path]

    def write_cfg(self):
        # Java refuses nothing here, but keep system-property keys out of its file
        saved = dict(self.cfg)
        self.cfg = {k: v for k, v in saved.items() if k not in self.SYSPROPS}
        try:
            return super().write_cfg()
        finally:
            self.cfg = saved


def make_server(kind, cfg=None, data_dir=None):
    if kind == "zabd":
        return ZabdServer(cfg, data_dir)
    if kind in ("java", "javazk", "zookeeper"):
        return JavaZkServer(cfg, data_dir)
    if kind in ("zabd-follower", "java-follower"):
        return FollowerTarget(cfg, data_dir, kind.split("-")[0])
    raise ValueError(kind)


class JavaQuorumPeer(JavaZkServer):
    """A Java ensemble member (QuorumPeerMain instead of the standalone main)."""

    def command(self, cfg_path):
        cmd = super().command(cfg_path)
        cmd[-2] = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
        return cmd


class Ensemble:
    """An ensemble on loopback: one member per entry of `kinds` ("zabd" or
    "java"), sids 1..n, each with its own client, quorum and election port
    and dataDir (myid written there). start() launches every member and
    waits (bounded) for one leader and n-1 followers."""

    def __init__(self, kinds=("zabd", "zabd", "zabd"), cfg=None, observers=0):
        self.members = []
        ports = [(free_port(), free_port()) for _ in kinds]
        n_voters = len(kinds) - observers
        lines = {f"server.{i + 1}": f"127.0.0.1:{q}:{e}" + (":observer" if i >= n_voters else "")
                 for i, (q, e) in enumerate(ports)}
        for i, kind in enumerate(kinds):
            base = {"initLimit": "10", "syncLimit": "5", "tickTime": "500"}
            base.update(lines)
            if i >= n_voters:
                base["peerType"] = "observer"
            base.update(cfg or {})
            m = ZabdServer(base) if kind == "zabd" else JavaQuorumPeer(base)
            m.sid = i + 1
            with open(os.path.join(m.data_dir, "myid"), "w") as f:
                f.write(f"{m.sid}\n")
            self.members.append(m)

    def launch(self, m):
        cfg_path = m.write_cfg()
        m.log = open(m.log_path, "ab")
        m.proc = subprocess.Popen(m.command(cfg_path), stdout=m.log, stderr=subprocess.STDOUT,
                                  cwd=m.tmp, env=m.env())

    def mode(self, m):
        """leader / follower / observer, or None while it does not serve."""
        try:
            out = four_letter(m.port, "srvr", timeout=1.0)
        except OSError:
            return None
        for line in out.splitlines():
            if line.startswith("Mode: "):
                return line[6:].strip()
        return None

    def wait_serving(self, members=None, timeout=60.0):
        """Wait until the given (default: all live) members serve, one as
        leader; returns the leader."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            live = [m for m in (members or self.members) if m.alive()]
            if not live:
                break
            modes = {m.sid: self.mode(m) for m in live}
            if live and all(modes.values()) and list(modes.values()).count("leader") == 1:
                return next(m for m in live if modes[m.sid] == "leader")
            time.sleep(0.1)
        logs = "\n".join(f"--- member {m.sid} ({m.kind}):\n{m.read_log()[-3000:]}" for m in self.members)
        raise RuntimeError(f"no leader within {timeout}s: {modes}\n{logs}")

    def start(self, timeout=60.0):
        for m in self.members:
            self.launch(m)
        self.wait_serving(timeout=timeout)
        return self

    def leader(self):
        return next((m for m in self.members if m.alive() and self.mode(m) == "leader"), None)

    def followers(self):
        return [m for m in self.members if m.alive() and self.mode(m) == "follower"]

    @property
    def hosts(self):
        return ",".join(m.hosts for m in self.members)

    def cleanup(self):
        errors = []
        for m in self.members:
            try:
                m.cleanup()
            except AssertionError as e:
                errors.append(str(e))
        if errors:
            raise AssertionError("\n".join(errors))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


class FollowerTarget:
    """ZABD_IT_TARGET=zabd-follower (or java-follower): the server under test
    is a follower of a 3-node ensemble of that kind started with the test's
    config (every request goes through the forwarding path). Only
    start/stop/cleanup of the whole."""

    def __init__(self, cfg=None, data_dir=None, kind="zabd"):
        self.kind = kind
        c = {"tickTime": "2000"}  # the standalone tests' default, not the ensemble tests' 500
        c.update(cfg or {})
        self.ens = Ensemble([kind] * 3, cfg=c)
        self.member = self.ens.members[0]

    def start(self, timeout=60.0):
        self.ens.start(timeout=timeout)
        self.member = self.ens.followers()[0]
        return self

    def __getattr__(self, name):
        return getattr(self.member, name)

    def stop(self):
        for m in self.ens.members:
            m.stop()

    def cleanup(self):
        self.ens.cleanup()
