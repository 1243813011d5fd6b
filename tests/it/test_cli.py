"""Stock command-line clients against the server: the Java zkCli.sh
(Debian's zookeeper package) fed commands on stdin, and the C client's
cli_mt when installed (Debian ships it in zookeeper-bin, which this
project does not depend on, so that test skips without it; ZABD_CLI_MT
may point at an unpacked copy)."""
import os
import shutil
import subprocess

import pytest

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"


def zkcli(server, commands, timeout=90):
    if not os.path.exists(ZKCLI):
        pytest.skip("zkCli.sh not installed")
    p = subprocess.run([ZKCLI, "-server", server.hosts], input="\n".join(commands + ["quit"]) + "\n",
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


@pytest.mark.slow
def test_zkcli_create_ls_get_set_delete(server, zk):
    rc, out, err = zkcli(server, [
        "create /cli hello",
        "create /cli/kid k",
        "create -e /cli/eph e",
        "create -s /cli/seq- s",
        "ls /cli",
        "get /cli",
        "set /cli world",
        "get /cli",
        "stat /cli",
        "delete /cli/kid",
        "ls /",
        "delete /nope",
        "getAcl /cli",
    ])
    assert rc == 0, err
    assert "Created /cli\n" in err and "Created /cli/seq-0000000002" in err
    assert any(ln.startswith("[") and set(ln.strip("[]").split(", ")) == {"eph", "kid", "seq-0000000002"}
               for ln in out.splitlines()), out
    assert "\nhello\n" in out and "\nworld\n" in out
    assert "dataVersion = 1" in out and "numChildren = 3" in out
    assert "Node does not exist: /nope" in err
    assert "'world,'anyone\n: cdrwa" in out
    # what zkCli did is visible to another client; its ephemeral went with its session
    assert zk.get("/cli")[0] == b"world"
    assert sorted(zk.get_children("/cli")) == ["seq-0000000002"]


@pytest.mark.slow
def test_zkcli_watch_container_ttl_and_auth(server, zk):
    zk.create("/w", b"0")
    rc, out, err = zkcli(server, [
        "get -w /w",
        "set /w 1",
        "create -c /cont",
        "create -t 600000 /ttl t",
        "addauth digest u:p",
        "create /sec x auth::cdrwa",
        "getAcl /sec",
        "ls -s /",
    ])
    assert rc == 0, err
    assert "type:NodeDataChanged path:/w" in out
    assert "Created /cont" in err and "Created /ttl" in err
    assert "'digest,'u:" in out
    assert "numChildren = " in out
    assert zk.exists("/cont") is not None and zk.exists("/ttl") is not None
    assert zk.get("/w")[0] == b"1"


def find_cli_mt():
    for p in (os.environ.get("ZABD_CLI_MT"), shutil.which("cli_mt"), "/usr/lib/zookeeper/bin/cli_mt"):
        if p and os.path.exists(p):
            return p
    return None


def test_cli_mt(server, zk):
    """cli_mt in batch mode (-c), one command per run (each is its own session)."""
    cli = find_cli_mt()
    if not cli:
        pytest.skip("cli_mt not installed (Debian package zookeeper-bin; or set ZABD_CLI_MT)")

    def run(cmd):
        p = subprocess.run([cli, "-h", server.hosts, "-c", cmd], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        return p.stdout + p.stderr
    assert "name = /cmt\n" in run("create /cmt")
    assert "/cmt: rc = 0" in run("set /cmt world")
    out = run("get /cmt")
    assert "/cmt: rc = 0" in out and "value_len = 5\nworld\n" in out and "version=1" in out
    assert "name = /cmt/s-0000000000" in run("create +s /cmt/s-")
    out = run("ls /")
    assert "/: rc = 0" in out and "\tcmt\n" in out and "\tzookeeper\n" in out
    assert "\ts-0000000000\n" in run("ls2 /cmt")
    assert "/cmt: rc = -111" in run("delete /cmt")
    assert "rc = 0" in run("delete /cmt/s-0000000000")
    assert "/cmt: rc = 0" in run("delete /cmt")
    assert zk.exists("/cmt") is None
