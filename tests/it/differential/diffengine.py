"""Lockstep differential runner: the same request bytes go to two servers
(normally Java ZooKeeper 3.8 and zabd), every frame that comes back is
decoded, normalised and compared, and the run stops at the first difference.

Per operation, for each server: send the request(s) on the op's session,
read frames up to the reply (notifications that precede it are part of the
result, in order), then send a ping on every open session and read up to its
reply. A server queues a notification before answering any later request
on that connection (zookeeper-protocol.md §2.7.2, §3.7), so the ping is a
barrier: everything the op triggered on any connection is in hand, in
order, before the next op starts.

Normalisation (what is compared exactly, and what is not):
  * zxids (reply headers, czxid/mzxid/pzxid, multi): exactly. Both servers
    start empty and see the same requests, and every write, failed or not,
    consumes one zxid (§3.3), so equal zxids are what compatibility means.
  * ctime/mtime: not comparable across processes. Each server's times must
    be consistent per zxid (every Stat naming zxid Z shows the same time for
    it) and lie within the wall-clock window of the request that got zxid Z
    (±TIME_SLACK_MS); then the value is replaced by the token "T(Z)". Nodes
    with zxid 0 (/, /zookeeper...) are compared raw.
  * session ids (ConnectResponse, ephemeralOwner): replaced by "S<n>", n
    the order in which sessions were opened. The password must be the one
    §2.2.4 derives from the session id, then it is replaced by "ok".
  * getChildren / getEphemerals / whoAmI lists: sorted (hash order, §3.10).
  * the notifications caused by a closeSession (several ephemerals deleted
    in HashSet order, §3.5): sorted among themselves, per connection.
Everything else (error codes, data, ACLs, versions, counts, event types,
paths, states, header xids, trailing bytes) is compared as is.
"""
import json
import os
import re
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import diffgen  # noqa: E402
from servers import ZABD_BIN, make_server  # noqa: E402
from diffwire import PING, PING_XID, AUTH_XID, Conn, expected_passwd  # noqa: E402

SESSION_TIMEOUT_MS = 30000
TIME_SLACK_MS = 10
# containers and TTL nodes must not be reaped mid-run: reaping is driven by
# each server's own clock, so it cannot happen at the same zxid on both
SERVER_CFG = {
    "extendedTypesEnabled": "true",
    "znode.container.checkIntervalMs": "3600000",
}


class Difference(AssertionError):
    pass


class Side:
    """One server and the client state kept for it."""

    def __init__(self, label, server):
        self.label = label
        self.server = server
        self.conns = [None] * diffgen.NSLOTS
        self.session_index = {}  # session id -> n
        self.windows = {}        # zxid -> (t0 ms, t1 ms) of the request that got it
        self.times = {}          # zxid -> time seen in a Stat
        self.problems = []

    # ---------------------------------------------------- normalisation
    def norm_time(self, zxid, t, field):
        if zxid == 0:
            # an ensemble member's /zookeeper/config: written locally at
            # each member's own start (mzxid = config version 0, mtime = now)
            return "T(local)" if t else t
        seen = self.times.setdefault(zxid, t)
        if seen != t:
            self.problems.append(f"{field}={t} for zxid {zxid:#x}, but earlier Stats said {seen}")
        w = self.windows.get(zxid)
        if w and not (w[0] - TIME_SLACK_MS <= t <= w[1] + TIME_SLACK_MS):
            self.problems.append(f"{field}={t} for zxid {zxid:#x} outside its request's "
                                 f"wall-clock window [{w[0]}, {w[1]}] ms")
        return f"T({zxid:#x})"

    def norm_session(self, sid):
        if sid in self.session_index:
            return f"S{self.session_index[sid]}"
        return sid

    def norm_stat(self, st):
        st = dict(st)
        st["ctime"] = self.norm_time(st["czxid"], st["ctime"], "ctime")
        st["mtime"] = self.norm_time(st["mzxid"], st["mtime"], "mtime")
        st["ephemeralOwner"] = self.norm_session(st["ephemeralOwner"])
        return st

    def norm_body(self, body):
        out = {}
        for k, v in body.items():
            if k == "stat":
                v = self.norm_stat(v)
            elif k == "names" and v is not None:
                v = sorted(v)
            elif k == "ids" and v is not None:
                v = sorted(v)
            elif k == "results":
                v = [self.norm_body(x) for x in v]
            elif k == "data" and v is not None:
                # an ensemble's membership text names each ensemble's own ports
                if v.startswith(b"server.") and b"version=" in v:
                    v = re.sub(rb":\d+:\d+:", b":Q:E:", v)
                v = v.hex()
            out[k] = v
        return out

    def norm_frame(self, f):
        f = dict(f)
        if f.get("kind") == "reply" and f.get("err") and "raw" in f:
            # Java sends a stray body with some -5 replies (an empty or
            # partial MultiResponse); no client reads it and §2.3 says a
            # server should send the header alone, so zabd must not
            body = f.pop("raw")
            if self.server.kind == "zabd":
                self.problems.append(f"error reply {f.get('err')} to {f.get('op')} carries a "
                                     f"{len(body) // 2}-byte body (§2.3: header only)")
        if "body" in f:
            f["body"] = self.norm_body(f["body"])
        return f

    def norm_connect(self, resp):
        resp = dict(resp)
        if "sessionId" in resp:
            sid = resp["sessionId"]
            if sid != 0 and resp.get("passwd") == expected_passwd(sid):
                resp["passwd"] = "ok"
            elif resp.get("passwd") is not None:
                resp["passwd"] = resp["passwd"].hex()
            resp["sessionId"] = self.norm_session(sid)
        return resp


def start_servers(kinds):
    """Start the servers concurrently (each JVM takes a second or two)."""
    if "zabd" in kinds and not os.access(ZABD_BIN, os.X_OK):
        raise RuntimeError(f"zabd binary {ZABD_BIN} not found: build it or set ZABD_BIN "
                           "(ZABD_DIFF_B=java / --b java compares Java with Java)")
    servers = [make_server(k, dict(SERVER_CFG)) for k in kinds]
    errors = []

    def run(s):
        try:
            s.start()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for s in servers:
            s.cleanup()
        raise errors[0]
    return servers


def now_ms():
    return time.time() * 1000.0


class Runner:
    def __init__(self, seed, nops, kinds=("java", "zabd"), verbose=False, out=sys.stdout,
                 inject_at=None, max_diffs=1, skip=()):
        self.seed, self.nops, self.kinds = seed, nops, kinds
        # self-test of the checker: before op inject_at, the second server
        # alone gets one extra create; the run must then fail
        self.inject_at = inject_at
        self.max_diffs, self.differences = max_diffs, 0
        self.verbose, self.out = verbose, out
        self.gen = diffgen.Generator(seed, skip)
        self.skip = skip
        self.xids = [0] * diffgen.NSLOTS
        self.next_session = 0
        self.history = []  # (index, op, normalised frames of side A)
        self.stats = {"ops": 0, "errors": {}, "events": 0}

    # ---------------------------------------------------- plumbing
    def xid(self, slot):
        self.xids[slot] += 1
        return self.xids[slot]

    def open_slot(self, slot):
        """Open a new session in `slot` on both servers; returns per-side results."""
        n = self.next_session
        self.next_session += 1
        self.xids[slot] = 0
        res = []
        for side in self.sides:
            c = Conn("127.0.0.1", side.server.port)
            resp = c.open(SESSION_TIMEOUT_MS)
            if "sessionId" in resp:
                side.session_index[resp["sessionId"]] = n
            side.conns[slot] = c
            res.append({slot: [side.norm_connect(resp)]})
        return res

    def requests(self, op):
        """[(slot, xid, opcode, body)] for op, identical for both servers."""
        slot = op["s"]
        if op["op"] == "burst":
            subs = op["ops"]
        elif op["op"] == "reopen":
            subs = [{"op": "closeSession"}]
        else:
            subs = [op]
        reqs = []
        for o in subs:
            opcode, body = diffgen.encode_sub(o)
            if opcode == PING:
                xid = PING_XID
            elif o["op"] == "addAuth":
                xid = AUTH_XID
            else:
                xid = self.xid(slot)
            reqs.append((slot, xid, opcode, body))
        return reqs

    def execute(self, op):
        """Run op on every side; returns per side {slot: [frames]} (raw)."""
        reqs = self.requests(op)
        slot = op["s"]
        results = [dict() for _ in self.sides]
        for side in self.sides:
            side.t0 = now_ms()
            for s, xid, opcode, body in reqs:
                side.conns[s].send(xid, opcode, body)
        for side, res in zip(self.sides, results):
            frames = []
            for _ in reqs:
                frames += side.conns[slot].read_until_reply()
                if side.conns[slot].closed and frames[-1]["kind"] != "reply":
                    break
            if op["op"] == "reopen":
                # like the Java client: close after the reply; whether and
                # when the server closes its end is not observable to clients
                side.conns[slot].close()
            t1 = now_ms()
            for f in frames:
                if f["kind"] == "reply" and f["zxid"] > 0 and f["zxid"] not in side.windows:
                    side.windows[f["zxid"]] = (side.t0, t1)
            res[slot] = frames
        if not diffgen.is_read_only(op):
            # a read cannot fire a watch; anything spurious still shows up
            # at the next barrier
            self.barrier(results, skip=slot if op["op"] == "reopen" else None)
        return results

    def barrier(self, results, skip=None):
        for side in self.sides:
            for s, c in enumerate(side.conns):
                if s != skip and not c.closed:
                    c.send(PING_XID, PING, b"")
        for side, res in zip(self.sides, results):
            for s, c in enumerate(side.conns):
                if s != skip and c.pending:
                    res.setdefault(s, []).extend(c.read_until_reply())

    # ---------------------------------------------------- comparison
    def normalise(self, op, results):
        out = []
        for side, res in zip(self.sides, results):
            norm = {}
            for s, frames in res.items():
                nf = [side.norm_frame(f) for f in frames]
                if op["op"] == "reopen":
                    nf = sort_event_runs(nf)
                norm[s] = nf
            out.append(norm)
        return out

    def check(self, i, op, norm):
        a, b = norm
        problems = [(side.label, p) for side in self.sides for p in side.problems]
        for side in self.sides:
            side.problems = []
        if a == b and not problems:
            return
        report = self.report(i, op, a, b, problems)
        self.differences += 1
        if self.differences >= self.max_diffs:
            raise Difference(report)
        # triage mode (--max-diffs): note it and go on; later differences
        # may be consequences of this one
        print(report + "\n(continuing)\n", file=self.out, flush=True)

    def report(self, i, op, a, b, problems):
        la, lb = (s.label for s in self.sides)
        lines = [f"differential test failed: seed {self.seed}, op #{i} of {self.nops}",
                 f"op: {json.dumps(op)}"]
        for label, p in problems:
            lines.append(f"{label}: {p}")
        if a != b:
            lines.append(f"--- {la}:")
            lines.append(dump(a))
            lines.append(f"--- {lb}:")
            lines.append(dump(b))
            lines.append("first difference: " + first_diff(a, b))
        lines.append("last ops before it (reply from " + la + "):")
        for j, hop, hres in self.history[-8:]:
            lines.append(f"  #{j} {json.dumps(hop)}")
            lines.append(f"      -> {json.dumps(hres, default=str)}")
        skip = f" --skip {','.join(sorted(self.skip))}" if self.skip else ""
        lines.append("replay: /usr/bin/python3 tests/it/differential/run.py "
                     f"--seed {self.seed} --ops {i + 1} --a {self.kinds[0]} --b {self.kinds[1]}"
                     f"{skip} -v")
        return "\n".join(lines)

    # ---------------------------------------------------- main loop
    def run(self):
        servers = start_servers(self.kinds)
        labels = [f"{k}#{n}" if self.kinds[0] == self.kinds[1] else k
                  for n, k in enumerate(self.kinds)]
        self.sides = [Side(label, s) for label, s in zip(labels, servers)]
        try:
            for slot in range(diffgen.NSLOTS):
                norm = self.open_slot(slot)
                self.check(-1, {"op": "connect", "s": slot}, norm)
            for i in range(self.nops):
                self.step(i)
            return self.stats
        finally:
            for side in self.sides:
                for c in side.conns:
                    if c is not None:
                        c.close()
            for s in servers:
                s.cleanup()

    def step(self, i):
        op = self.gen.next()
        if i == self.inject_at:
            self.inject(self.sides[1])
        results = self.execute(op)
        norm = self.normalise(op, results)
        if op["op"] == "reopen":
            for res, extra in zip(norm, self.open_slot(op["s"])):
                res[op["s"]].extend(extra[op["s"]])
        if self.verbose:
            print(f"#{i} {json.dumps(op)}\n    -> {json.dumps(norm[0], default=str)}",
                  file=self.out)
        self.check(i, op, norm)
        self.history.append((i, op, norm[0]))
        for slot, c in enumerate(self.sides[0].conns):
            if c.closed and op["op"] != "reopen":
                # both servers closed it (else check() failed): carry on with
                # a new session so later ops on this slot are not vacuous
                self.check(i, {"op": "connect", "s": slot}, self.open_slot(slot))
        self.gen.observe(op, results[0].get(op["s"], []))
        self.count(norm[0])

    def inject(self, side):
        c = side.conns[0]
        c.send(self.xid(0), diffgen.CREATE, diffgen.create_body(
            "/injected", b"", diffgen.ACLS["open"], 0))
        self.xids[0] -= 1  # the other server never saw this xid
        c.read_until_reply()

    def count(self, res):
        self.stats["ops"] += 1
        for frames in res.values():
            for f in frames:
                if f.get("kind") == "event":
                    self.stats["events"] += 1
                elif f.get("kind") == "reply" and f.get("op") != "ping":
                    codes = [f.get("err")]
                    for r in (f.get("body") or {}).get("results", ()):
                        codes.append(r.get("err"))
                    for e in codes:
                        if e:
                            self.stats["errors"][e] = self.stats["errors"].get(e, 0) + 1


def sort_event_runs(frames):
    """Sort each maximal run of consecutive notifications (order among the
    events of one closeSession is HashSet order in Java)."""
    out, run = [], []
    for f in frames:
        if f.get("kind") == "event":
            run.append(f)
            continue
        out += sorted(run, key=lambda e: json.dumps(e, sort_keys=True))
        run = []
        out.append(f)
    return out + sorted(run, key=lambda e: json.dumps(e, sort_keys=True))


def dump(res):
    lines = []
    for s in sorted(res):
        lines.append(f"  session slot {s}:")
        for f in res[s]:
            lines.append("    " + json.dumps(f, default=str))
    return "\n".join(lines)


def first_diff(a, b, where="$"):
    if type(a) is not type(b):
        return f"{where}: {a!r} != {b!r}"
    if isinstance(a, dict):
        if set(a) != set(b):
            return f"{where}: {json.dumps(a, default=str)} != {json.dumps(b, default=str)}"
        for k in sorted(a, key=str):
            if a[k] != b[k]:
                return first_diff(a[k], b[k], f"{where}.{k}")
    if isinstance(a, list):
        for n, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_diff(x, y, f"{where}[{n}]")
        if len(a) != len(b):
            return f"{where}: {len(a)} items != {len(b)} items"
    return f"{where}: {a!r} != {b!r}"
