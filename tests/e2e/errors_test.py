"""Errors a person meets: one clear line on stderr, a non-zero exit, and with --json a
{"error": {"code", "message"}} document on stdout."""
import base64
import os
import random
import socket
import ssl
import struct
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alurtest import ALUR, ALUR_SERVER, E2ETest, Official, Server, password, run  # noqa: E402


class ErrorsTest(E2ETest):

    def assertError(self, r, code):
        """r failed with `code`: non-zero exit, JSON error on stdout, one stderr line."""
        self.assertNotEqual(r.code, 0, "expected failure: %r" % r)
        self.assertIsInstance(r.json, dict, "no JSON on stdout: %r" % r)
        self.assertIn("error", r.json, r)
        self.assertEqual(r.json["error"].get("code"), code, r)
        self.assertTrue(r.json["error"].get("message"), "empty message: %r" % r)
        lines = [x for x in r.err.splitlines() if x.strip()]
        self.assertEqual(len(lines), 1, "stderr must be exactly one line: %r" % r)
        self.assertNotIn("terminate called", r.err)
        self.assertLess(r.code, 128, "killed by a signal? %r" % r)

    def test_sync_with_server_down_fails_with_connect(self):
        srv = self.server()
        o = self.official(srv, "sekretaris")
        srv.kill9()
        r = o.run("sync")
        self.assertError(r, "connect")
        self.assertIn(str(srv.port), r.json["error"]["message"], "message should name the server")
        # Without --json: still one line on stderr, nothing pretending to be a report.
        r = o.run("sync", json_flag=False)
        self.assertNotEqual(r.code, 0)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r)

    def test_enroll_with_wrong_password_is_bad_credentials(self):
        srv = self.server()
        o = Official(self.workdir, "kasubag")
        r = o.enroll(srv, password_="salah-sekali")
        self.assertError(r, "bad_credentials")
        self.assertError(o.run("inbox"), "not_enrolled")
        unknown = Official(self.workdir, "siapa", device="siapa")
        self.assertError(unknown.enroll(srv, password_="apa-saja-123", username="siapa"), "bad_credentials")
        # The right password afterwards works in the same home.
        self.assertEqual(o.enroll(srv).code, 0)
        self.assertEqual(o.run("inbox").code, 0)

    def test_enroll_reads_the_password_from_alur_password(self):
        """For roll-out scripts: ALUR_PASSWORD instead of a prompt or stdin (on Windows it is
        read through the wide API, so a password outside the ANSI code page arrives intact)."""
        srv = self.server()
        o = Official(self.workdir, "kasubag")
        cmd = [ALUR, "--home", o.home, "--json", "enroll", "--server", srv.url, "--username", "kasubag",
               "--trust-fingerprint", srv.fingerprint, "--passphrase-file", o.passphrase_file()]
        env = dict(os.environ, ALUR_PASSWORD="salah-sekali")
        self.assertError(run(cmd, stdin="", env=env), "bad_credentials")
        self.assertError(o.run("inbox"), "not_enrolled")
        env["ALUR_PASSWORD"] = password("kasubag")
        r = run(cmd, stdin="", env=env)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.json["username"], "kasubag")
        self.assertEqual(o.run("inbox").code, 0)

    def test_enroll_with_wrong_fingerprint_stores_nothing(self):
        srv = self.server()
        o = Official(self.workdir, "kasubag")
        wrong = "sha256:" + "ab" * 32
        self.assertNotEqual(wrong, srv.fingerprint)
        r = o.enroll(srv, fingerprint=wrong)
        self.assertError(r, "fingerprint_mismatch")
        self.assertError(o.run("inbox"), "not_enrolled")
        self.assertError(o.run("status"), "not_enrolled")
        # Nothing was stored: a correct enrolment into the same home works.
        r = o.enroll(srv)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.json["username"], "kasubag")
        self.assertEqual(o.run("inbox").code, 0)
        self.assertEqual(o.run("sync").code, 0)

    def test_sync_to_an_impostor_server_on_the_same_port_is_refused(self):
        srv = self.server()
        o = self.official(srv, "sekretaris")
        o.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q3")
        srv.kill9()
        impostor = Server(self.workdir, "impostor")
        self.servers.append(impostor)
        impostor.init()
        impostor.port = srv.port
        impostor.start()
        r = o.run("sync")
        self.assertError(r, "fingerprint_mismatch")
        self.assertEqual(o.status()["tentative"], 1, "the pending change must stay pending")
        self.assertNotIn("sekretaris", impostor.log(), "the client talked to the impostor")
        impostor.kill9()
        srv.start()
        self.assertEqual(o.sync()["accepted"], 1)

    def test_a_server_offering_only_weak_tls_ciphers_is_refused(self):
        """The client keeps to the server's TLS 1.2 suites (forward-secret AEAD only): a
        server offering only a CBC / SHA-1 suite (here `openssl s_server` with the real
        server's certificate) is refused at the TLS handshake, before any byte of the
        protocol; the same server offering a GCM suite gets past the handshake and the pin
        (and then fails as the web server it is, not a sync server)."""
        srv = Server(self.workdir, "tls")
        self.servers.append(srv)
        srv.init()
        tls = os.path.join(srv.data, "tls")

        def enroll_against(cipher):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            proc = subprocess.Popen(
                ["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-www", "-tls1_2",
                 "-cipher", cipher, "-cert", os.path.join(tls, "server.crt"),
                 "-key", os.path.join(tls, "server.key")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    with socket.socket() as c:
                        if c.connect_ex(("127.0.0.1", port)) == 0:
                            break
                    time.sleep(0.05)
                o = Official(self.workdir, "kasubag", device="tls-" + cipher)
                return o.run("enroll", "--server", "wss://127.0.0.1:%d" % port, "--username",
                             "kasubag", "--password-stdin", "--trust-fingerprint",
                             srv.fingerprint, stdin="sandi-apa-saja\n")
            finally:
                proc.kill()
                proc.wait()

        weak = enroll_against("ECDHE-ECDSA-AES128-SHA")
        self.assertError(weak, "network")
        self.assertIn("Jabat tangan TLS", weak.json["error"]["message"])
        strong = enroll_against("ECDHE-ECDSA-AES128-GCM-SHA256")
        self.assertNotEqual(strong.code, 0)
        self.assertNotIn("Jabat tangan TLS", strong.json["error"]["message"], strong)
        self.assertNotEqual(strong.json["error"]["code"], "fingerprint_mismatch", strong)

    def test_enroll_twice_into_the_same_home_is_refused(self):
        srv = self.server()
        o = self.official(srv, "sekretaris")
        r = o.enroll(srv, username="kasubag", password_="kasubag-pw")
        self.assertError(r, "already_enrolled")
        self.assertEqual(o.status()["username"], "sekretaris")

    def test_inbox_before_enrolling_is_not_enrolled(self):
        o = Official(self.workdir, "kadis")
        for args in (["inbox"], ["status"], ["sync"], ["case", "open", "--sop", "LAKIP", "--period", "2026-Q3"]):
            self.assertError(o.run(*args), "not_enrolled")

    def test_act_on_unknown_task_is_a_clear_error(self):
        srv = self.server()
        sek = self.official(srv, "sekretaris")
        case = sek.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q3")["case"]
        st0 = sek.status()["tentative"]
        r = sek.run("act", "%s.99" % case, "--text", "x")
        self.assertError(r, "unknown_task")
        self.assertIn("99", r.json["error"]["message"])
        r = sek.run("act", "0000000000000000.1", "--text", "x")
        self.assertError(r, "unknown_case")
        r = sek.run("act", "bukan-tugas", "--text", "x")
        self.assertNotEqual(r.code, 0, r)
        self.assertIsNotNone(r.error_code, r)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r)
        self.assertEqual(sek.status()["tentative"], st0, "a failed act wrote something")

    def test_json_flag_before_and_after_the_subcommand(self):
        srv = self.server()
        sek = self.official(srv, "sekretaris")
        case = sek.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q3")["case"]
        before = run([ALUR, "--home", sek.home, "--json", "case", "show", case])
        after = run([ALUR, "--home", sek.home, "case", "show", case, "--json"])
        middle = run([ALUR, "--home", sek.home, "case", "--json", "show", case])
        home_after = run([ALUR, "case", "show", case, "--home", sek.home, "--json"])
        for r in (before, after, middle, home_after):
            self.assertEqual(r.code, 0, r)
            self.assertIsInstance(r.json, dict, r)
            self.assertEqual(r.json["case"], case)
        self.assertEqual(before.json, after.json)
        for args in (["--json", "inbox"], ["inbox", "--json"], ["--json", "status"], ["status", "--json"],
                     ["--json", "sync"], ["sync", "--json"]):
            r = run([ALUR, "--home", sek.home] + args)
            self.assertEqual(r.code, 0, r)
            self.assertIsNotNone(r.json, "not JSON: %r" % r)
        # Errors too, on either side.
        for args in (["--json", "act", "%s.99" % case], ["act", "%s.99" % case, "--json"]):
            r = run([ALUR, "--home", sek.home] + args)
            self.assertError(r, "unknown_task")

    def test_serve_on_uninitialised_data_dir_fails_clearly(self):
        data = os.path.join(self.workdir, "tidak-ada")
        for d in (data, self.workdir):  # missing, and existing but never initialised
            proc = subprocess.Popen([ALUR_SERVER, "serve", "--data", d, "--listen", "127.0.0.1:0"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.procs.append(proc)
            try:
                out, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                self.fail("serve on an uninitialised data dir %s kept running; stdout %r stderr %r"
                          % (d, out, err))
            self.assertNotEqual(proc.returncode, 0, "serve on %s: stdout %r stderr %r" % (d, out, err))
            self.assertGreater(proc.returncode, 0, "killed by a signal? %r" % err)
            self.assertNotIn("wss://", out)
            self.assertTrue(err.strip(), "no message on stderr")
            self.assertLessEqual(len(err.strip().splitlines()), 2, "not a clear message: %r" % err)
            self.assertIn("init", err, "message should say to run `alur-server init`: %r" % err)

    def test_server_commands_on_uninitialised_data_dir_fail_clearly(self):
        data = os.path.join(self.workdir, "kosong")
        for args in (["fingerprint", "--data", data], ["org", "import", "--data", data, "/nonexistent.json"]):
            r = run([ALUR_SERVER] + args)
            self.assertNotEqual(r.code, 0, r)
            self.assertGreater(r.code, 0, r)
            self.assertTrue(r.err.strip(), r)


    def test_hostile_bytes_do_not_crash_the_server(self):
        srv = self.server()
        o = self.official(srv, "sekretaris")
        o.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q3")
        rng = random.Random(7)
        # Not TLS at all.
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
            s.sendall(bytes(rng.randrange(256) for _ in range(5000)))
            drain(s)
        # TLS, but plain HTTP instead of a WebSocket upgrade.
        s = tls(srv.port)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"400", drain(s)[:40])
        s.close()
        # WebSocket, then: random bytes, an empty message, a text frame, absurd lengths.
        payloads = [(2, bytes(rng.randrange(256) for _ in range(300)), None), (2, b"", None),
                    (1, b'{"hello": 1}', None), (2, b"", 2 ** 62), (2, b"a" * 10, 50 * 1024 * 1024)]
        for opcode, payload, length in payloads:
            s = websocket(srv.port)
            try:
                s.sendall(ws_frame(payload, opcode, length))
            except (OSError, ssl.SSLError):
                pass
            drain(s)
            s.close()
            self.assertTrue(srv.running, "server died on frame %r: %s" % ((opcode, payload[:20], length), srv.log()))
        # Idle connections that never finish the TLS handshake do not block a real sync.
        idle = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(30)]
        try:
            r = o.run("sync", timeout=30)
            self.assertEqual(r.code, 0, r)
            self.assertEqual(r.json["accepted"], 1, r)
        finally:
            for c in idle:
                c.close()
        self.assertTrue(srv.running, srv.log())
        self.assertNoSanitizerReport(srv)

    def test_revoked_device_is_refused_and_watch_stops(self):
        srv = self.server()
        o = self.official(srv, "sekretaris")
        other = self.official(srv, "kasubag")
        r = run([ALUR_SERVER, "device", "list", "--data", srv.data, "--json"])
        self.assertEqual(r.code, 0, r)
        rid = [d["replica"] for d in r.json if d["username"] == "sekretaris"]
        self.assertEqual(len(rid), 1, r.json)
        watch = self.spawn([ALUR, "--home", o.home, "sync", "--watch"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(0.5)
        # Revoke while the server runs (the admin command shares the data dir).
        r = run([ALUR_SERVER, "device", "revoke", "--data", srv.data, rid[0]])
        self.assertEqual(r.code, 0, r)
        o.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q3")
        try:
            code = watch.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.fail("watch kept running on a revoked device")
        self.assertNotEqual(code, 0)
        self.assertIn("device_revoked", watch.stdout.read())
        self.assertError(o.run("sync"), "device_revoked")
        self.assertEqual(o.status()["tentative"], 1, "the pending change must be kept")
        self.assertEqual(other.sync()["pulled"], 0, "a revoked device's change was committed")


def tls(port):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5),
                           server_hostname="127.0.0.1")


def websocket(port):
    s = tls(port)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(4096)
        if not d:
            break
        head += d
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def ws_frame(payload, opcode=2, length=None):
    mask = os.urandom(4)
    n = len(payload) if length is None else length
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack(">H", n)
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack(">Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def drain(s, timeout=1):
    s.settimeout(timeout)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except (OSError, ssl.SSLError):
        pass
    return out


if __name__ == "__main__":
    unittest.main()
