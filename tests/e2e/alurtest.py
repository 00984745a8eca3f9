"""Helpers for alur end-to-end tests: real alur-server and alur processes, real TLS
sockets, real SQLite files, each in its own temporary folder.

Binaries come from $ALUR_BIN / $ALUR_SERVER_BIN (set by CTest), falling back to
build/default/client/alur and build/default/server/alur-server under the repo root.
Every server started here is killed at tearDown and, as a last resort, at exit.
"""
import atexit
import glob
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("ALUR_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))


def _binary(env, rel):
    path = os.environ.get(env) or os.path.join(ROOT, rel)
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise RuntimeError("%s not found at %s: build it with "
                           "`cmake --build build/default --target alur alur-server -j2` or set %s"
                           % (os.path.basename(rel), path, env))
    return path


ALUR = _binary("ALUR_BIN", "build/default/client/alur")
ALUR_SERVER = _binary("ALUR_SERVER_BIN", "build/default/server/alur-server")

TIMEOUT = 60  # seconds for any single CLI command

# Every process started in the background (servers, sync --watch) is listed here so
# that nothing outlives the test run, even when a test fails or the runner is killed.
_live = set()


def _reap_all():
    for proc in list(_live):
        if proc.poll() is None:
            try:
                proc.kill()
                proc.wait(timeout=10)
            except Exception:
                pass
        _live.discard(proc)


atexit.register(_reap_all)
for _sig in (signal.SIGTERM, signal.SIGHUP):
    try:
        signal.signal(_sig, lambda s, f: (_reap_all(), os._exit(128 + s)))
    except (ValueError, OSError):
        pass


def _die_with_parent():
    """preexec_fn: on Linux, the child gets SIGKILL when this test process dies, even if
    the runner itself is killed -9 (CTest timeout): no server outlives its test."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def track(proc):
    _live.add(proc)
    return proc


def untrack(proc):
    _live.discard(proc)


# --- the organisation -----------------------------------------------------------------

BIDANG = [("koperasi", "Bidang Koperasi"), ("usaha_mikro", "Bidang Usaha Mikro"),
          ("ukm", "Bidang Usaha Kecil dan Menengah")]

# username -> (display name, password, roles)
USERS = {
    "kadis": ("H. Yulipri", "kadis-pw-1", [{"role": "kadis"}]),
    "sekretaris": ("Dra. Sri Wahyuni", "sekre-pw-1", [{"role": "sekretaris"}]),
    "kabid_koperasi": ("Asep Saepudin", "kabid-pw-1", [{"role": "kabid", "bidang": "koperasi"}]),
    "kabid_mikro": ("Euis Komariah", "kabid-pw-2", [{"role": "kabid", "bidang": "usaha_mikro"}]),
    "kabid_ukm": ("Dadang Hermawan", "kabid-pw-3", [{"role": "kabid", "bidang": "ukm"}]),
    "kasubag": ("Rina Marlina", "kasubag-pw", [{"role": "kasubag_kpe"}]),
    "pelaksana": ("Budi Santoso", "pelaksana-pw", [{"role": "pelaksana_kpe"}]),
}

# Who must have completed each task of the LAKIP template (task suffix -> username).
STEP_ACTOR = {
    "1": "sekretaris", "2.koperasi": "kabid_koperasi", "2.usaha_mikro": "kabid_mikro",
    "2.ukm": "kabid_ukm", "3": "kasubag", "4": "sekretaris", "5": "kasubag", "6": "pelaksana",
    "7": "kasubag", "8": "sekretaris", "9": "kasubag", "10": "pelaksana", "11": "kasubag",
    "12": "sekretaris", "13": "kadis",
}


def org_document():
    return {
        "unit": "Dinas Koperasi, Usaha Kecil dan Menengah Kabupaten Sukabumi",
        "bidang": [{"code": c, "name": n} for c, n in BIDANG],
        "users": [{"username": u, "name": n, "password": p, "roles": r}
                  for u, (n, p, r) in USERS.items()],
    }


def password(user):
    return USERS[user][1]


def passphrase(user):
    """The passphrase of a test official's signing key (chosen at enrolment)."""
    return "frasa sandi %s" % user


# --- processes ------------------------------------------------------------------------

class Result:
    """One finished CLI run: exit code, stdout, stderr and (with --json) parsed stdout."""

    def __init__(self, args, code, out, err):
        self.args, self.code, self.out, self.err = args, code, out, err
        self.json = None
        text = out.strip()
        if text:
            try:
                self.json = json.loads(text)
            except ValueError:
                # Some commands may print progress lines before the JSON document.
                last = text.splitlines()[-1]
                try:
                    self.json = json.loads(last)
                except ValueError:
                    self.json = None

    @property
    def ok(self):
        return self.code == 0

    @property
    def error_code(self):
        if isinstance(self.json, dict) and isinstance(self.json.get("error"), dict):
            return self.json["error"].get("code")
        return None

    def __repr__(self):
        return "<%s -> exit %s\nstdout: %s\nstderr: %s>" % (
            " ".join(self.args), self.code, self.out.strip()[:2000], self.err.strip()[:2000])


# What AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer print when they find
# something (CI runs some of these tests against the sanitized build, where a UB report does
# not end the process and so would pass unseen).
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", ": runtime error: ")


def sanitizer_report(text):
    """The first line of a sanitizer report in text, or None."""
    for line in text.splitlines():
        if any(mark in line for mark in SANITIZER_MARKS):
            return line
    return None


def run(args, stdin=None, timeout=TIMEOUT, env=None):
    proc = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=timeout,
                          env=env)
    found = sanitizer_report(proc.stderr)
    if found:
        raise AssertionError("sanitizer report from %s: %s\n%s" % (
            " ".join(args), found, proc.stderr[-4000:]))
    return Result(args, proc.returncode, proc.stdout, proc.stderr)


class Server:
    """One alur-server with its own data dir. start() picks a free port the first time
    (port 0) and keeps it for restarts, so clients enrolled once keep working."""

    def __init__(self, workdir, name="server"):
        self.workdir = workdir
        self.data = os.path.join(workdir, name)
        self.log_path = os.path.join(workdir, name + ".log")
        self.proc = None
        self.port = 0
        self.url = None
        self.fingerprint = None
        self.serve_args = []  # extra `serve` options, e.g. ["--heartbeat", "2"]
        self.store_args = []  # ["--store", "postgresql://…"]: its records elsewhere than DATA

    # setup ------------------------------------------------------------------
    def init(self, org=None):
        r = run([ALUR_SERVER, "init", "--data", self.data] + self.store_args)
        if not r.ok:
            raise AssertionError("alur-server init failed: %r" % r)
        org_path = os.path.join(self.workdir, "org.json")
        with open(org_path, "w") as f:
            json.dump(org or org_document(), f, indent=1)
        r = run([ALUR_SERVER, "org", "import", "--data", self.data, org_path] + self.store_args)
        if not r.ok:
            raise AssertionError("alur-server org import failed: %r" % r)
        r = run([ALUR_SERVER, "fingerprint", "--data", self.data])
        if not r.ok:
            raise AssertionError("alur-server fingerprint failed: %r" % r)
        self.fingerprint = r.out.strip().splitlines()[-1].strip()
        return self

    # lifecycle --------------------------------------------------------------
    def start(self, timeout=15):
        assert self.proc is None or self.proc.poll() is not None, "server already running"
        deadline = time.monotonic() + timeout
        while True:
            proc = self._spawn()
            line = self._await_listening(proc, deadline)
            if line is not None:
                break
            # The old port may linger a moment after kill -9: try again until the deadline.
            if time.monotonic() > deadline:
                raise AssertionError("alur-server did not start listening on port %s; log:\n%s"
                                     % (self.port, self.log()))
            time.sleep(0.2)
        m = re.search(r"wss://([^\s:]+):(\d+)", line)
        assert m, "unexpected listening line: %r" % line
        self.port = int(m.group(2))
        self.url = "wss://%s:%d" % (m.group(1), self.port)
        return self

    def _spawn(self):
        log = open(self.log_path, "a")
        log.write("---- serve (port %s) at %s\n" % (self.port, time.strftime("%H:%M:%S")))
        log.flush()
        proc = track(subprocess.Popen(
            [ALUR_SERVER, "serve", "--data", self.data, "--listen", "127.0.0.1:%d" % self.port]
            + self.store_args + self.serve_args,
            stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True, bufsize=1,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None))
        log.close()
        self.proc = proc
        return proc

    def _await_listening(self, proc, deadline):
        """Wait for the "... wss://HOST:PORT" line; None if the process exits first. A
        thread keeps draining stdout afterwards so the server never blocks on the pipe."""
        import queue
        lines = queue.Queue()

        def reader():
            try:
                for line in proc.stdout:
                    lines.put(line)
            except (OSError, ValueError):
                pass
            finally:
                lines.put(None)
                try:
                    proc.stdout.close()
                except OSError:
                    pass

        threading.Thread(target=reader, daemon=True).start()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                line = lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if line is None:  # EOF: the process exited (e.g. the port is still taken)
                proc.wait(timeout=5)
                untrack(proc)
                self.proc = None
                return None
            if "wss://" in line:
                return line.strip()
        proc.kill()
        proc.wait()
        untrack(proc)
        self.proc = None
        return None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
            untrack(self.proc)
            self.proc = None

    def restart(self):
        """kill -9, then serve again on the same port with the same data dir."""
        self.kill9()
        return self.start()

    def stop(self):
        """Graceful stop (SIGTERM, then SIGKILL if it does not exit). Returns the exit code."""
        if self.proc is None:
            return None
        code = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = self.proc.wait(timeout=10)
        else:
            code = self.proc.returncode
        untrack(self.proc)
        self.proc = None
        return code

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()[-8000:]
        except OSError:
            return ""


class Official:
    """One official's device: a home folder with the replica, driven through `alur`."""

    def __init__(self, workdir, user, device=None):
        self.user = user
        self.name = device or user
        self.home = os.path.join(workdir, "home-" + self.name)
        self.workdir = workdir
        self._files = 0

    def passphrase_file(self, text=None):
        """A file holding this official's passphrase (or `text`), for --passphrase-file."""
        path = os.path.join(self.workdir, "pass-%s-%d" % (self.name, abs(hash(text)) % 10**8))
        with open(path, "w") as f:
            f.write((passphrase(self.user) if text is None else text) + "\n")
        return path

    def run(self, *args, json_flag=True, stdin=None, timeout=TIMEOUT):
        """Run `alur --home H [--json] ARGS`. Returns Result (code, json, out, err).
        `act` and `enroll` get the official's passphrase file unless ARGS name one."""
        cmd = [ALUR, "--home", self.home]
        if json_flag:
            cmd.append("--json")
        cmd.extend(str(a) for a in args)
        if args and args[0] in ("act", "enroll") and "--passphrase-file" not in args:
            cmd.extend(["--passphrase-file", self.passphrase_file()])
        return run(cmd, stdin=stdin, timeout=timeout)

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        if not r.ok:
            raise AssertionError("%s: command failed: %r" % (self.name, r))
        return r.json

    def enroll(self, server, password_=None, fingerprint=None, username=None):
        return self.run("enroll", "--server", server.url, "--username", username or self.user,
                        "--password-stdin", "--trust-fingerprint",
                        fingerprint or server.fingerprint,
                        stdin=(password_ if password_ is not None else password(self.user)) + "\n")

    def file(self, text, name=None):
        self._files += 1
        path = os.path.join(self.workdir, "%s-%s" % (self.name, name or "f%d.txt" % self._files))
        with open(path, "w") as f:
            f.write(text)
        return path

    # frequent commands ------------------------------------------------------
    def sync(self, *args):
        return self.ok("sync", *args)

    def status(self):
        return self.ok("status")

    def show(self, case):
        return self.ok("case", "show", case)

    def inbox(self):
        return self.ok("inbox")

    def act(self, task, *args):
        return self.ok("act", task, *args)

    def draft_show(self, case, name):
        return self.ok("draft", "show", case, name)


def smash_log_page(home):
    """Overwrites the root page of the replica's log table (its process must have exited, so
    that the WAL is checkpointed): the damage `alur repair` exists for."""
    db = os.path.join(home, "replica.db")
    con = sqlite3.connect(db)
    root = con.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'log'").fetchone()[0]
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    with open(db, "r+b") as f:
        f.seek((root - 1) * size)
        f.write(b"\xa5" * size)
    return db


# Counted up to the viewer's today: they differ between PCs (and across WIB midnight).
_TODAY_RELATIVE = ("remaining_days", "overdue")


def strip_tentative(doc):
    """A deep copy of doc without any "tentative" keys (device-local overlay marks) and
    without what is counted up to the viewer's today (a task's remaining_days, overdue,
    and working_days while it is not done)."""
    if isinstance(doc, dict):
        drop = {"tentative"}
        if "task" in doc and "state" in doc:
            drop.update(_TODAY_RELATIVE)
            if doc.get("state") != "done":
                drop.add("working_days")
        return {k: strip_tentative(v) for k, v in doc.items() if k not in drop}
    if isinstance(doc, list):
        return [strip_tentative(v) for v in doc]
    return doc


def task_of(show, task_id):
    for step in show["steps"]:
        for t in step["tasks"]:
            if t["task"] == task_id:
                return t
    raise KeyError("task %s not in case show: %s" % (task_id, json.dumps(show)[:2000]))


class E2ETest(unittest.TestCase):
    """Base: a fresh temp folder per test; every server and background process is
    stopped in tearDown, even when the test fails."""

    keep_workdir = bool(os.environ.get("ALUR_E2E_KEEP"))

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="alur-e2e-")
        self.servers = []
        self.procs = []
        self.addCleanup(self._cleanup)

    def tearDown(self):
        # No server logs a secret: the test people's passwords and signing passphrases, and
        # the device tokens the replicas of this test hold.
        secrets = [(user + "'s password", password(user)) for user in USERS]
        secrets += [(user + "'s passphrase", passphrase(user)) for user in USERS]
        secrets += self._device_tokens()
        for s in self.servers:
            try:
                with open(s.log_path) as f:
                    log = f.read()
            except OSError:
                continue
            for what, secret in secrets:
                self.assertNotIn(secret, log, "%s in the log of %s" % (what, s.data))
            found = sanitizer_report(log)
            self.assertIsNone(found, "a sanitizer report in the log of %s" % s.data)

    def _device_tokens(self):
        """(label, token) of every replica under this test's folder that enrolled."""
        out = []
        for db in sorted(glob.glob(os.path.join(self.workdir, "**", "replica.db"), recursive=True)):
            try:
                con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
                try:
                    row = con.execute("SELECT value FROM meta WHERE key = 'token'").fetchone()
                finally:
                    con.close()
            except sqlite3.Error:
                continue  # a replica a test damaged on purpose
            if row and row[0]:
                out.append(("the device token of " + os.path.relpath(db, self.workdir), row[0]))
        return out

    def _cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
            for stream in (p.stdin, p.stdout, p.stderr):
                if stream is not None:
                    try:
                        stream.close()
                    except OSError:
                        pass
            untrack(p)
        failed = self._failed()
        for s in self.servers:
            if failed and s.log():
                sys.stderr.write("\n---- %s log (tail) ----\n%s\n" % (s.data, s.log()[-3000:]))
            s.kill9()
        if self.keep_workdir or failed and os.environ.get("ALUR_E2E_KEEP_FAILED"):
            sys.stderr.write("work dir kept: %s\n" % self.workdir)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _failed(self):
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        result = getattr(outcome, "result", None)
        errors = list(getattr(outcome, "errors", []) or [])
        if result is not None:
            errors += [(t, e) for t, e in result.errors + result.failures if t is self]
        return any(e for _, e in errors)

    def server(self, start=True, store=None):
        s = Server(self.workdir, "server%d" % len(self.servers) if self.servers else "server")
        if store:
            s.store_args = ["--store", store]
        self.servers.append(s)
        s.init()
        if start:
            s.start()
        return s

    def official(self, server, user, device=None, enroll=True):
        o = Official(self.workdir, user, device)
        if enroll:
            r = o.enroll(server)
            self.assertEqual(r.code, 0, "enrol %s failed: %r" % (o.name, r))
        return o

    def spawn(self, args, **kw):
        """A background process (e.g. `alur sync --watch`), killed at tearDown."""
        if sys.platform.startswith("linux") and threading.current_thread() is threading.main_thread():
            kw.setdefault("preexec_fn", _die_with_parent)
        p = track(subprocess.Popen(args, **kw))
        self.procs.append(p)
        return p

    def assertNoSanitizerReport(self, server):
        log = server.log()
        self.assertNotRegex(log, r"Sanitizer|runtime error", "server log reports a memory error")


# --- driving the LAKIP SOP ------------------------------------------------------------

STEP_ORDER = ["1", "2.koperasi", "2.usaha_mikro", "2.ukm", "3", "4", "5", "6", "7", "8", "9",
              "10", "11", "12", "13"]


def step_args(official, suffix, tag=""):
    """The arguments `alur act` needs for a task of the LAKIP template, by step kind."""
    step = suffix.split(".")[0]
    text = "Langkah %s %s oleh %s" % (suffix, tag, official.user)
    if step in ("1", "2", "5", "7", "8", "9"):          # disposition, review, correct, meeting
        return ["--text", text]
    if step == "3":                                       # prepare
        return ["--file", official.file("Capaian kinerja triwulan\nIKU 1: 82%%\n%s\n" % tag),
                "--text", text]
    if step == "4":                                       # meeting with its draft
        return ["--text", text,
                "--file", official.file("Draft capaian kinerja\nIKU 1: 82%\nIKU 2: 74%\n")]
    if step in ("6", "10"):                               # draft
        return ["--file", official.file("LAKIP DKUKM %s\nBab I\nBab II\nBab III\n%s\n"
                                        % (suffix, tag))]
    return []                                             # initial, sign


class Office:
    """The seven officials of org_document(), each with an enrolled device."""

    def __init__(self, test, server, users=None):
        self.test = test
        self.server = server
        self.people = {u: test.official(server, u) for u in (users or USERS)}

    def __getitem__(self, user):
        return self.people[user]

    def open_case(self, period, opener="sekretaris"):
        o = self.people[opener]
        r = o.run("case", "open", "--sop", "LAKIP", "--period", period)
        self.test.assertEqual(r.code, 0, "case open failed: %r" % r)
        return r.json["case"]

    def do(self, case, suffix, online=True, extra=None):
        """The right official completes task CASE.SUFFIX (pull, act, push when online)."""
        o = self.people[STEP_ACTOR[suffix]]
        if online:
            o.sync()
        r = o.run("act", "%s.%s" % (case, suffix), *(extra if extra is not None else step_args(o, suffix)))
        self.test.assertEqual(r.code, 0, "act %s.%s by %s failed: %r" % (case, suffix, o.user, r))
        if online:
            rep = o.sync()
            self.test.assertEqual(rep["rejected"], 0, "act %s.%s rejected: %r" % (case, suffix, rep))
        return r.json

    def advance(self, case, through):
        """Complete every task from the first not yet done up to and including `through`."""
        for suffix in STEP_ORDER:
            self.do(case, suffix)
            if suffix == through:
                return

    def sync_all(self):
        for o in self.people.values():
            o.sync()
