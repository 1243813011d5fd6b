"""Four-letter words on the client port and the whitelist."""
import re

import pytest
from kazoo.client import KazooClient

import zkwire as w
from servers import four_letter

VERSION_LINE = re.compile(r"^Zookeeper version: 3\.8\.\d+-\S*, built on .+$")


def lines(text):
    assert text.endswith("\n"), repr(text[-40:])
    return text[:-1].split("\n")


def kv(text, sep):
    out = {}
    for ln in lines(text):
        if ln:
            k, _, v = ln.partition(sep)
            out[k] = v
    return out


def tab_blocks(text):
    """Parse 'head' lines each followed by tab-indented items."""
    out, cur = {}, None
    for ln in text.rstrip("\n").split("\n"):
        if ln.startswith("\t"):
            out[cur].append(ln[1:])
        elif ln:
            cur = ln
            out[cur] = []
    return {k: sorted(v) for k, v in out.items()}


@pytest.fixture
def busy(server, raw_factory):
    """A server with one session holding an ephemeral, a data watch and a
    child watch on /x."""
    c = raw_factory()
    c.create("/x", b"1")
    c.create("/x/e", b"", flags=w.EPHEMERAL)
    c.get_data("/x", watch=True)
    c.get_children("/x", watch=True)
    return c


def test_ruok(server):
    assert four_letter(server.port, "ruok") == "imok"


def test_isro(server):
    assert four_letter(server.port, "isro") == "rw"


def test_srvr(server, busy):
    out = four_letter(server.port, "srvr")
    ls = lines(out)
    assert VERSION_LINE.match(ls[0]), ls[0]
    keys = [ln.split(":")[0] for ln in ls[1:]]
    assert keys == ["Latency min/avg/max", "Received", "Sent", "Connections", "Outstanding", "Zxid", "Mode",
                    "Node count"]
    d = kv(out, ": ")
    assert re.fullmatch(r"\d+/\d+(\.\d+)?(E-?\d+)?/\d+", d["Latency min/avg/max"])
    assert d["Mode"] == "standalone"
    assert d["Node count"] == "7", "4 nodes + /x + /x/e, the root counted twice"
    assert d["Zxid"] == hex(busy.last_zxid)
    assert int(d["Connections"]) >= 2, "our session plus this probe"
    assert int(d["Outstanding"]) == 0
    assert int(d["Received"]) >= 4 and int(d["Sent"]) >= 4


def test_srvr_fresh_server(server):
    d = kv(four_letter(server.port, "srvr"), ": ")
    assert d["Node count"] == "5" and d["Zxid"] == "0x0" and d["Mode"] == "standalone"


def test_stat(server, busy):
    ls = lines(four_letter(server.port, "stat"))
    assert VERSION_LINE.match(ls[0])
    assert ls[1] == "Clients:"
    blank = ls.index("")
    clients = ls[2:blank]
    assert len(clients) >= 2
    for c in clients:
        assert re.fullmatch(r" /127\.0\.0\.1:\d+\[[0-9a-f]+\]\(queued=\d+,recved=\d+,sent=\d+\)", c), c
    port = busy.sock.getsockname()[1]
    assert any(c.startswith(f" /127.0.0.1:{port}[") for c in clients)
    rest = [ln.split(":")[0] for ln in ls[blank + 1:]]
    assert rest == ["Latency min/avg/max", "Received", "Sent", "Connections", "Outstanding", "Zxid", "Mode",
                    "Node count"]


def test_envi(server):
    ls = lines(four_letter(server.port, "envi"))
    assert ls[0] == "Environment:"
    assert re.match(r"^zookeeper\.version=3\.8\.\d+-", ls[1]), ls[1]
    for ln in ls[1:]:
        assert "=" in ln, ln
    keys = [ln.split("=")[0] for ln in ls[1:]]
    for k in ("host.name", "os.name", "os.arch", "os.version", "user.name", "user.dir"):
        assert k in keys


def test_kazoo_server_version(zk):
    v = zk.server_version()
    assert v[:2] == (3, 8)


def test_mntr(server, busy):
    out = four_letter(server.port, "mntr")
    ls = lines(out)
    pairs = [ln.split("\t") for ln in ls]
    assert all(len(p) == 2 for p in pairs), [p for p in pairs if len(p) != 2][:3]
    assert pairs[0][0] == "zk_version" and re.match(r"3\.8\.\d+-", pairs[0][1])
    assert pairs[1] == ["zk_server_state", "standalone"]
    d = dict(pairs)
    for k in ("zk_avg_latency", "zk_max_latency", "zk_min_latency", "zk_packets_received", "zk_packets_sent",
              "zk_num_alive_connections", "zk_outstanding_requests", "zk_znode_count", "zk_watch_count",
              "zk_ephemerals_count", "zk_approximate_data_size", "zk_open_file_descriptor_count",
              "zk_max_file_descriptor_count", "zk_global_sessions", "zk_uptime"):
        assert k in d, k
    assert d["zk_znode_count"] == "7"
    assert d["zk_ephemerals_count"] == "1"
    assert d["zk_watch_count"] == "2", "data and child watch tables both count"
    assert d["zk_global_sessions"] == "1"
    assert d["zk_outstanding_requests"] == "0"
    assert int(d["zk_num_alive_connections"]) >= 2
    float(d["zk_avg_latency"])


def test_conf(server_factory):
    srv = server_factory({"tickTime": "500", "maxSessionTimeout": "7000"})
    d = kv(four_letter(srv.port, "conf"), "=")
    assert d["clientPort"] == str(srv.port)
    assert d["dataDir"] == srv.data_dir + "/version-2"
    assert d["dataLogDir"] == srv.data_dir + "/version-2"
    assert d["tickTime"] == "500"
    assert d["minSessionTimeout"] == "1000" and d["maxSessionTimeout"] == "7000"
    assert d["maxClientCnxns"] == "60"
    assert d["serverId"] == "0"
    assert d["secureClientPort"] == "-1"
    for k in ("dataDirSize", "dataLogSize", "clientPortListenBacklog"):
        int(d[k])


def test_cons(server, busy):
    ls = lines(four_letter(server.port, "cons"))
    assert ls[-1] == ""
    sid = busy.session.session_id
    mine = [ln for ln in ls if f"sid=0x{sid:x}," in ln]
    assert len(mine) == 1, ls
    m = re.fullmatch(r" /127\.0\.0\.1:\d+\[[0-9a-f]+\]\((.*)\)", mine[0])
    assert m, mine[0]
    fields = dict(f.split("=") for f in m.group(1).split(","))
    assert list(fields) == ["queued", "recved", "sent", "sid", "lop", "est", "to", "lcxid", "lzxid", "lresp",
                            "llat", "minlat", "avglat", "maxlat"]
    assert fields["to"] == "30000"
    assert fields["lop"] == "GETC"
    assert fields["lzxid"] == f"0x{busy.last_zxid:x}"
    assert fields["lcxid"] == f"0x{busy.xid:x}"


def test_watch_words(server, busy, raw_factory):
    other = raw_factory()
    other.exists("/y", watch=True)       # exist watch: data table
    other.get_data("/x", watch=True)
    sid_a, sid_b = busy.session.session_id, other.session.session_id
    assert four_letter(server.port, "wchs") == "2 connections watching 2 paths\nTotal watches:3\n"
    wchc = four_letter(server.port, "wchc")
    assert wchc.endswith("\n\n")
    assert tab_blocks(wchc) == {f"0x{sid_a:x}": ["/x"], f"0x{sid_b:x}": ["/x", "/y"]}, wchc
    wchp = four_letter(server.port, "wchp")
    assert wchp.endswith("\n\n")
    assert tab_blocks(wchp) == {"/x": sorted([f"0x{sid_a:x}", f"0x{sid_b:x}"]), "/y": [f"0x{sid_b:x}"]}, wchp


def test_dump(server, busy):
    out = four_letter(server.port, "dump")
    sid = f"0x{busy.session.session_id:x}"
    ls = out.split("\n")
    assert ls[0] == "SessionTracker dump:"
    assert "ephemeral nodes dump:" in ls
    i = ls.index("ephemeral nodes dump:")
    assert ls[i + 1] == "Sessions with Ephemerals (1):"
    assert ls[i + 2] == sid + ":"
    assert ls[i + 3] == "\t/x/e"
    assert "\t" + sid in ls[1:i], "the session is listed in the tracker part"


def test_srst_and_crst(server, busy):
    for _ in range(5):
        busy.exists("/x")
    assert four_letter(server.port, "srst") == "Server stats reset.\n"
    d = kv(four_letter(server.port, "srvr"), ": ")
    assert int(d["Received"]) <= 2, "counters restart after srst"
    assert four_letter(server.port, "crst") == "Connection stats reset.\n"
    sid = busy.session.session_id
    line = [ln for ln in lines(four_letter(server.port, "cons")) if f"sid=0x{sid:x}," in ln][0]
    assert "recved=0," in line and "sent=0," in line and "lop=NA" in line


def test_whitelist_restricts(server_factory):
    srv = server_factory({"4lw.commands.whitelist": "ruok, conf"})
    assert four_letter(srv.port, "ruok") == "imok"
    assert "clientPort=" in four_letter(srv.port, "conf"), "entries are trimmed"
    assert "Mode: standalone" in four_letter(srv.port, "srvr"), "srvr is always allowed"
    for cmd in ("stat", "mntr", "envi", "dump", "wchs", "cons", "isro"):
        assert four_letter(srv.port, cmd) == f"{cmd} is not executed because it is not in the whitelist.\n"


def test_whitelist_default_is_srvr_only(server_factory):
    srv = server_factory({"4lw.commands.whitelist": None})
    assert "Mode: standalone" in four_letter(srv.port, "srvr")
    assert four_letter(srv.port, "ruok") == "ruok is not executed because it is not in the whitelist.\n"
    assert four_letter(srv.port, "mntr") == "mntr is not executed because it is not in the whitelist.\n"
    # kazoo still works and its server_version needs envi, which is refused
    zk = KazooClient(hosts=srv.hosts, timeout=10)
    try:
        zk.start(timeout=15)
        zk.create("/ok", b"")
    finally:
        zk.stop()
        zk.close()


def test_4lw_after_handshake_is_not_a_command(server, raw_factory):
    c = raw_factory()
    c.create("/s", b"")
    sid, pw = c.session.session_id, c.session.passwd
    c.log.clear()
    c.send_raw(b"ruok")      # read as a frame length of 0x72756f6b > jute.maxbuffer
    assert c.closed_by_server(5.0)
    assert c.log == [] and c.rbuf == b"", "no answer at all"
    # the session survives and can reconnect
    d = raw_factory(session_id=sid, passwd=pw)
    assert d.session.session_id == sid and d.exists("/s") is not None


def test_4lw_half_close(server):
    import socket
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"ruok")
        s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            b = s.recv(100)
            if not b:
                break
            got += b
    assert got == b"imok"


def test_4lw_with_trailing_newline(server):
    assert four_letter(server.port, "ruok\n") == "imok"
    assert "Mode: standalone" in four_letter(server.port, "srvr\n")


def test_cons_last_operation_names(server, raw_factory):
    c = raw_factory()
    sid = c.session.session_id
    steps = [("EXIS", lambda: c.exists("/")), ("CREA", lambda: c.create("/q")),
             ("SETD", lambda: c.set_data("/q", b"1")), ("PING", c.ping),
             ("MULT", lambda: c.multi([("check", "/q", -1)])), ("GETC", lambda: c.get_children2("/")),
             ("GETC", lambda: c.get_children("/")), ("HOMI", c.who_am_i), ("GETA", lambda: c.get_acl("/")),
             ("SYNC", lambda: c.sync("/")), ("ADDW", lambda: c.add_watch("/q", 0)),
             ("MLTR", lambda: c.multi_read([("getData", "/q")])), ("GETE", lambda: c.get_ephemerals("/")),
             ("GETACN", lambda: c.get_all_children_number("/")), ("CHKW", lambda: c.check_watches("/q", 3)),
             ("REMW", lambda: c.remove_watches("/q", 3)), ("GETD", lambda: c.get_data("/q")),
             ("SETA", lambda: c.set_acl("/q", w.OPEN_ACL)), ("DELE", lambda: c.delete("/q")),
             ("SETW", lambda: c.set_watches(0))]
    got = []
    for want, fn in steps:
        fn()
        line = [ln for ln in lines(four_letter(server.port, "cons")) if f"sid=0x{sid:x}," in ln][0]
        got.append((want, line.split("lop=")[1].split(",")[0]))
    assert [g for w_, g in got] == [w_ for w_, g in got], got
