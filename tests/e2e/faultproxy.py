"""A TCP fault proxy for the end-to-end tests: listens on 127.0.0.1, forwards every
connection to the server, and injects network faults on command, while running.

Faults (a Rule), for every connection (set()) or for one (Connection.set()):
  pass                      forward as is
  cut       DIR AFTER       close both sides abruptly (RST) after AFTER more bytes in DIR:
                            lands mid-TLS-record and mid-WebSocket-frame
  blackhole DIR AFTER       after AFTER more bytes in DIR, stop forwarding in both
                            directions but keep both sockets open: a stall without a FIN
  delay     SECONDS         hold each chunk SECONDS before forwarding it
  throttle  BYTES_PER_S     forward at most that many bytes a second in each direction
DIR is "c2s" (client to server), "s2c" or "any". `times` limits a rule to that many
connections (then they pass), so a cut hits one sync and the retry goes through.

The proxy's sockets have small buffers, so a throttled or stalled link pushes back on the
sender the way a slow network does instead of swallowing megabytes. Everything injected is
counted in stats(). Run standalone for manual experiments:
  python3 faultproxy.py --target 127.0.0.1:8443 [--listen 0]
then type rules on stdin ("cut c2s 5000", "blackhole any 0", "throttle 20000", "pass",
"stats").
"""
import socket
import threading
import time

C2S, S2C = "c2s", "s2c"
BUFFER = 64 * 1024  # SO_RCVBUF / SO_SNDBUF of the proxy's sockets
CHUNK = 16 * 1024
TICK = 0.02         # how often a blocked pump looks at its rule again


class Rule:
    def __init__(self, kind="pass", direction="any", after=0, seconds=0.0, rate=0, times=None):
        assert kind in ("pass", "cut", "blackhole", "delay", "throttle"), kind
        assert direction in (C2S, S2C, "any"), direction
        self.kind, self.direction, self.after = kind, direction, after
        self.seconds, self.rate, self.times = seconds, rate, times
        self.used = 0  # connections this rule has applied to (for `times`)
        self.lock = threading.Lock()

    def claim(self):
        """True if one more connection may get this rule (counts it)."""
        with self.lock:
            if self.times is not None and self.used >= self.times:
                return False
            self.used += 1
            return True

    def matches(self, direction):
        return self.direction in ("any", direction)

    def __repr__(self):
        return "Rule(%s %s after=%s s=%s rate=%s times=%s)" % (
            self.kind, self.direction, self.after, self.seconds, self.rate, self.times)


PASS = Rule()


class Connection:
    """One proxied client connection: two pumps (c2s, s2c) and the rule they follow."""

    def __init__(self, proxy, client, server, number):
        self.proxy, self.client, self.server, self.number = proxy, client, server, number
        self.override = None      # a Rule for this connection only
        self.rule = None          # the rule in force, once claimed
        self.declined = None      # a global rule whose `times` were used up elsewhere
        self.counted = {C2S: 0, S2C: 0}   # bytes forwarded since `rule` began
        self.total = {C2S: 0, S2C: 0}
        self.stalled = False
        self.closed = False
        self.lock = threading.Lock()

    def set(self, kind="pass", **kw):
        with self.lock:
            self.override = Rule(kind, **kw)

    def _current(self):
        """The rule in force; a new one starts its byte counts from zero."""
        wanted = self.override or self.proxy.rule
        with self.lock:
            if wanted is not self.rule and wanted is not self.declined:
                if wanted is self.override or wanted.claim():
                    self.rule = wanted
                    self.counted = {C2S: 0, S2C: 0}
                    if wanted.kind in ("delay", "throttle"):
                        self.proxy.count(wanted.kind + "_connections")
                else:  # used up on other connections: this one passes
                    self.rule, self.declined = None, wanted
            return self.rule if self.rule is not None else PASS

    def close(self, reset=False):
        with self.lock:
            if self.closed:
                return
            self.closed = True
        for s in (self.client, self.server):
            try:
                if reset:  # RST, not FIN: the peer sees a torn connection
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.close()
            except OSError:
                pass

    def pump(self, direction):
        src, dst = (self.client, self.server) if direction == C2S else (self.server, self.client)
        try:
            src.settimeout(TICK)
        except OSError:  # closed (Connection.close) before this pump started
            return
        budget_start = time.monotonic()
        sent_in_window = 0
        try:
            while not self.closed and not self.proxy.stopping:
                if self.stalled:  # a black hole stays one; it takes no new rule
                    time.sleep(TICK)
                    continue
                rule = self._current()
                limit = CHUNK
                if rule.kind in ("cut", "blackhole") and rule.matches(direction):
                    limit = max(0, rule.after - self.counted[direction])
                    if limit == 0:
                        self._trip(rule)
                        continue
                    limit = min(limit, CHUNK)
                if rule.kind == "throttle" and rule.rate > 0:
                    now = time.monotonic()
                    if now - budget_start >= 1.0:
                        budget_start, sent_in_window = now, 0
                    allowed = int(rule.rate * (now - budget_start + TICK)) - sent_in_window
                    if allowed <= 0:
                        time.sleep(TICK)
                        continue
                    limit = min(limit, allowed)
                try:
                    data = src.recv(limit)
                except socket.timeout:
                    continue
                if not data:
                    break
                if rule.kind == "delay" and rule.seconds > 0:
                    self.proxy.count("delayed_chunks")
                    time.sleep(rule.seconds)
                if rule.kind == "throttle":
                    sent_in_window += len(data)
                    self.proxy.count("throttled_bytes", len(data))
                dst.sendall(data)
                with self.lock:
                    self.counted[direction] += len(data)
                    self.total[direction] += len(data)
        except OSError:
            pass
        if not self.stalled:
            # One side finished or failed: pass the end on (FIN/RST) to the other.
            self.close()

    def _trip(self, rule):
        if rule.kind == "cut":
            self.proxy.count("cuts")
            self.close(reset=True)
        else:
            with self.lock:
                if self.stalled:
                    return
                self.stalled = True
            self.proxy.count("blackholes")


class FaultProxy:
    """127.0.0.1:port -> target_host:target_port. start() returns self; stop() closes all.
    fallback_ports: where a new connection goes, in order, when the target refuses it (a
    TCP front with backup servers, as in front of several alur-server nodes)."""

    def __init__(self, target_port, target_host="127.0.0.1", listen_port=0, fallback_ports=()):
        self.target = (target_host, target_port)
        self.fallbacks = [(target_host, p) for p in fallback_ports]
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._small_buffers(self.listener)  # inherited by accepted sockets
        self.listener.bind(("127.0.0.1", listen_port))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.url = "wss://127.0.0.1:%d" % self.port
        self.rule = PASS
        self.connections = []
        self.stopping = False
        self._stats = {}
        self._lock = threading.Lock()
        self._thread = None

    @staticmethod
    def _small_buffers(s):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, BUFFER)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, BUFFER)

    def start(self):
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.stopping = True
        try:
            self.listener.close()
        except OSError:
            pass
        for c in list(self.connections):
            c.close()
        if self._thread:
            self._thread.join(timeout=5)

    # rules -----------------------------------------------------------------------
    def set(self, kind="pass", **kw):
        """The rule for every connection without its own (existing and new ones)."""
        self.rule = Rule(kind, **kw)
        return self.rule

    def live(self):
        return [c for c in self.connections if not c.closed]

    # figures ---------------------------------------------------------------------
    def count(self, what, n=1):
        with self._lock:
            self._stats[what] = self._stats.get(what, 0) + n

    def stats(self):
        with self._lock:
            out = dict(self._stats)
        out["connections"] = len(self.connections)
        return out

    def injected(self):
        """Faults injected: cuts + black holes + connections delayed or throttled."""
        s = self.stats()
        return sum(s.get(k, 0) for k in ("cuts", "blackholes", "delay_connections",
                                         "throttle_connections"))

    # plumbing --------------------------------------------------------------------
    def _connect(self):
        """A socket connected to the target, or to the first fallback that accepts."""
        for i, target in enumerate([self.target] + self.fallbacks):
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._small_buffers(server)
            try:
                server.connect(target)
            except OSError:
                server.close()
                continue
            if i:
                self.count("failovers")
            return server
        return None

    def _accept_loop(self):
        while not self.stopping:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = self._connect()
            if server is None:
                client.close()  # the server is down: the client sees the refusal as a close
                self.count("refused")
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(self, client, server, len(self.connections))
            self.connections.append(conn)
            for d in (C2S, S2C):
                threading.Thread(target=conn.pump, args=(d,), daemon=True).start()


def _main():
    import argparse
    import sys
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", required=True, help="HOST:PORT of the server")
    ap.add_argument("--listen", type=int, default=0)
    a = ap.parse_args()
    host, port = a.target.rsplit(":", 1)
    p = FaultProxy(int(port), host, a.listen).start()
    print("faultproxy %s -> %s" % (p.url, a.target), flush=True)
    for line in sys.stdin:
        w = line.split()
        if not w:
            continue
        if w[0] == "stats":
            print(p.stats(), flush=True)
        elif w[0] in ("cut", "blackhole"):
            p.set(w[0], direction=w[1], after=int(w[2]))
        elif w[0] == "delay":
            p.set("delay", seconds=float(w[1]))
        elif w[0] == "throttle":
            p.set("throttle", rate=int(w[1]))
        else:
            p.set("pass")
    p.stop()


if __name__ == "__main__":
    _main()
