"""zoo.cfg handling: Java properties syntax, bad values refused at startup
(zabd: with the line number), unknown keys warned about (zabd only: Java
silently turns them into system properties)."""
import re

import pytest

import zkwire as w
from itutil import IS_JAVA, zabd_only
from servers import four_letter


def base_lines(srv):
    return [f"dataDir={srv.data_dir}", f"clientPort={srv.port}", "clientPortAddress=127.0.0.1",
            "4lw.commands.whitelist=*", "admin.enableServer=false"]


def run_with(server_factory, extra, before=()):
    """Write base config + extra lines (list of str); return (rc, output,
    line number of the first extra line)."""
    srv = server_factory(run=False)
    ls = list(before) + base_lines(srv)
    first = len(ls) + 1
    ls += list(extra)
    rc, out = srv.run_expecting_exit(timeout=20, raw_cfg="\n".join(ls) + "\n")
    return rc, out, first


def mentions_line(out, n):
    return re.search(rf"zoo\.cfg:{n}\b", out) or re.search(rf"\bline {n}\b", out)


def test_properties_syntax(server_factory):
    srv = server_factory(run=False)
    text = "\n".join([
        "# a comment",
        "! another comment style",
        f"dataDir = {srv.data_dir}",
        f"clientPort:{srv.port}",
        "clientPortAddress 127.0.0.1",
        "tickTime=1\\",
        "   500",                                   # continuation: tickTime=1500
        "4lw.commands.whitelist=*",
        "admin.enableServer=false",
        "maxSessionTimeout=9000",
        "maxSessionTimeout=8000",                   # the last duplicate wins
        "",
    ])
    with open(srv.cfg_path(), "w") as f:
        f.write(text)
    srv.write_cfg = lambda: srv.cfg_path()          # keep our hand-written file
    srv.start()
    conf = dict(ln.split("=", 1) for ln in four_letter(srv.port, "conf").splitlines() if "=" in ln)
    assert conf["tickTime"] == "1500"
    assert conf["maxSessionTimeout"] == "8000"
    c = w.session(srv.port, timeout_ms=100000)
    assert c.session.timeout == 8000
    c.close_socket()


@pytest.mark.parametrize("line", ["tickTime=abc", "tickTime=0", "clientPort=port", "maxClientCnxns=1.5",
                                  "minSessionTimeout=x"])
def test_bad_values_refused(server_factory, line):
    rc, out, n = run_with(server_factory, [line])
    assert rc not in (None, 0), f"server accepted {line!r}:\n{out}"
    if not IS_JAVA:
        key = line.split("=")[0]
        assert key in out and mentions_line(out, n), out


def test_min_above_max_session_timeout_refused(server_factory):
    rc, out, n = run_with(server_factory, ["minSessionTimeout=10000", "maxSessionTimeout=5000"])
    assert rc not in (None, 0), out


def test_missing_data_dir_refused(server_factory):
    srv = server_factory(run=False)
    rc, out = srv.run_expecting_exit(timeout=20, raw_cfg=f"clientPort={srv.port}\ntickTime=2000\n")
    assert rc not in (None, 0), out


@zabd_only
@pytest.mark.parametrize("line", ["extendedTypesEnabled=maybe", "standaloneEnabled=yes",
                                  "localSessionsEnabled=1", "reconfigEnabled=tru"])
def test_bad_booleans_refused_with_line(server_factory, line):
    rc, out, n = run_with(server_factory, ["tickTime=2000", line])
    assert rc not in (None, 0), f"zabd accepted {line!r}:\n{out}"
    assert line.split("=")[0] in out and mentions_line(out, n + 1), out


@zabd_only
def test_unknown_keys_warned(server_factory):
    srv = server_factory(run=False)
    ls = base_lines(srv) + ["tickTime=2000", "tickTme=3000", "fooBarBaz=1"]
    with open(srv.cfg_path(), "w") as f:
        f.write("\n".join(ls) + "\n")
    srv.write_cfg = lambda: srv.cfg_path()
    srv.start()
    c = w.session(srv.port)
    assert c.exists("/") is not None, "unknown keys are not fatal"
    c.close_socket()
    out = srv.read_log()
    n = len(base_lines(srv))
    for key, line_no in (("tickTme", n + 2), ("fooBarBaz", n + 3)):
        hits = [ln for ln in out.splitlines() if key in ln]
        assert hits, f"no warning about {key}:\n{out}"
        assert any(mentions_line(h, line_no) for h in hits), hits
    assert not [ln for ln in out.splitlines() if "tickTime" in ln and "tickTme" not in ln and "warn" in
                ln.lower()], "known keys are not warned about"


@zabd_only
def test_bad_line_number_counts_continuations(server_factory):
    rc, out, n = run_with(server_factory, ["tickTime=2000", "maxClientCnxns=\\", "  sixty"])
    assert rc not in (None, 0)
    assert "maxClientCnxns" in out and mentions_line(out, n + 1), out
