#!/usr/bin/python3
"""Smoke test: zabbench counts every op and every error exactly.

Runs zabbench with --max-ops against zabstub (which answers without work
and counts what it answered) and checks the two tallies agree: ops, errors
by name (the stub fails every K-th request when asked), watch events,
session churn. Never asserts speed. Usage: smoke_test.py ZABBENCH ZABSTUB
"""
import os
import signal
import subprocess
import sys
import tempfile
import time


def parse_kv(line):
    return dict(tok.split("=", 1) for tok in line.split()[1:] if "=" in tok)


class Stub:
    def __init__(self, exe, *args):
        self.dir = tempfile.mkdtemp(prefix="zabstub-")
        pf = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen([exe, "--port-file", pf, *args], stdout=subprocess.PIPE, text=True)
        for _ in range(200):
            if os.path.exists(pf) and open(pf).read().strip():
                break
            time.sleep(0.01)
        self.port = int(open(pf).read())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=10)
        return parse_kv(out.strip().splitlines()[-1])


def bench(exe, port, *args, expect_rc=0):
    cmd = [exe, "--port", str(port), "--quiet", *args]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == expect_rc, f"{cmd}: rc {p.returncode}\n{p.stdout}{p.stderr}"
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("zabbench ")]
    assert len(lines) == 1, p.stdout
    return parse_kv(lines[0])


def check(cond, msg):
    if not cond:
        print("FAIL:", msg)
        sys.exit(1)
    print("ok:", msg)


def main():
    zb, stub_exe = sys.argv[1], sys.argv[2]

    # exact op count; the setup session creates /zb and closes (1 create, 1 close)
    s = Stub(stub_exe)
    r = bench(zb, s.port, "--op", "get", "--keys", "100", "--max-ops", "5000",
              "--sessions", "4", "--window", "8", "--threads", "2")
    c = s.stop()
    check(r["ops"] == "5000" and r["errors"] == "0", f"get: zabbench ops={r['ops']} errors={r['errors']}")
    check(c["get"] == "5000", f"get: stub answered {c['get']}")
    check(c["connects"] == "5" and c["close"] == "5", "get: 4 sessions + setup connected and closed")
    check(r["connected"] == "4", "get: 4 sessions connected")
    check(0 < float(r["p50_us"]) <= float(r["p99_us"]) <= float(r["max_us"]), "get: quantiles ordered")

    # errors are counted by name, none hidden: the stub fails every 7th request
    s = Stub(stub_exe, "--fail-every", "7")
    r = bench(zb, s.port, "--op", "set", "--keys", "10", "--max-ops", "7000",
              "--sessions", "1", "--window", "4", "--threads", "1", expect_rc=3)
    c = s.stop()
    check(int(r["ops"]) + int(r["errors"]) == 7000, f"set: ops+errors = {r['ops']}+{r['errors']}")
    check(r["errors"] == c["failed"] and int(c["failed"]) == 1000, f"set: errors {r['errors']} = stub {c['failed']}")
    check(r["errs"] == f"NoNode:{c['failed']}", f"set: errs by name {r['errs']}")

    # populate and mixed: every populate create and every op answered
    s = Stub(stub_exe)
    r = bench(zb, s.port, "--op", "mixed", "--read-share", "0.5", "--populate", "300",
              "--max-ops", "2000", "--sessions", "3", "--window", "5")
    c = s.stop()
    check(r["populated"] == "300" and r["pop_errors"] == "0", f"populate: {r['populated']}")
    check(int(c["get"]) + int(c["set"]) == 2000 and r["ops"] == "2000", "mixed: 2000 gets+sets")
    check(0 < int(c["get"]) < 2000, f"mixed: both kinds sent (get={c['get']})")
    check(c["create"] == "301", "populate: 300 creates + the root")

    # watch: one op = one event delivered
    s = Stub(stub_exe)
    r = bench(zb, s.port, "--op", "watch", "--keys", "10", "--max-ops", "300", "--sessions", "2")
    c = s.stop()
    check(r["ops"] == "300" and c["events"] == "300", f"watch: ops={r['ops']} events={c['events']}")

    # churn: one op = create ephemeral + close + a new session
    s = Stub(stub_exe)
    r = bench(zb, s.port, "--op", "churn", "--max-ops", "50", "--sessions", "2")
    c = s.stop()
    check(r["ops"] == "50", f"churn: ops={r['ops']}")
    check(c["connects"] == str(1 + 2 + 50), f"churn: stub saw {c['connects']} connects")

    # the official C client mode counts the same way
    s = Stub(stub_exe)
    r = bench(zb, s.port, "--zk-client", "--op", "get", "--keys", "10", "--max-ops", "1000",
              "--sessions", "2", "--window", "4")
    c = s.stop()
    check(r["client"] == "zk" and r["ops"] == "1000" and c["get"] == "1000", f"zk-client: ops={r['ops']} stub={c['get']}")
    servers_and_reconnect(zb, stub_exe)
    print("smoke: all ok")


def servers_and_reconnect(zb, stub_exe):
    # --servers: session i goes to the (i mod n)-th server; the setup session to the first
    a, b = Stub(stub_exe), Stub(stub_exe)
    r = bench(zb, a.port, "--servers", f"127.0.0.1:{a.port},127.0.0.1:{b.port}", "--op", "get",
              "--keys", "10", "--max-ops", "4000", "--sessions", "4", "--window", "4")
    ca, cb = a.stop(), b.stop()
    check(r["ops"] == "4000" and int(ca["get"]) + int(cb["get"]) == 4000, "servers: 4000 gets over two stubs")
    check(ca["connects"] == "3" and cb["connects"] == "2", f"servers: sessions split {ca['connects']}/{cb['connects']}")

    # --reconnect: sessions lost with their server reopen on the next one; SIGTERM ends the window
    a, b = Stub(stub_exe), Stub(stub_exe)
    cmd = [zb, "--quiet", "--servers", f"127.0.0.1:{a.port},127.0.0.1:{b.port}", "--op", "get",
           "--keys", "10", "--sessions", "4", "--window", "4", "--threads", "2", "--warmup", "0.2",
           "--duration", "30", "--reconnect", "5"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    a.stop()
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    cb = b.stop()
    check(p.returncode in (0, 3), f"reconnect: rc {p.returncode} {err[-500:]}")
    r = parse_kv([ln for ln in out.splitlines() if ln.startswith("zabbench ")][0])
    check(float(r["duration_s"]) < 10, f"reconnect: SIGTERM ended the window ({r['duration_s']} s)")
    check(r["reconnects"] == "2" and cb["connects"] == "4", f"reconnect: 2 sessions moved "
          f"({r['reconnects']} reconnects, stub b saw {cb['connects']} connects)")
    check(r["errs"] in ("-", f"closed:{r['errors']}"), f"reconnect: only in-flight ops lost ({r['errs']})")
    check(r["outage_ms"] != "na" and int(r["ops"]) > 0, f"reconnect: outage {r['outage_ms']} ms, ops {r['ops']}")


if __name__ == "__main__":
    main()
