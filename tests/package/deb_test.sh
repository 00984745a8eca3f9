#!/usr/bin/env bash
# package.deb: builds the .deb with packaging/linux/build, installs it on this machine with
# dpkg, checks what the maintainer scripts made (user alur, /var/lib/alur 0700, /etc/alur),
# prepares the server as the postinst message tells IT to, runs exactly the command line of
# the installed systemd unit (ExecStart with its EnvironmentFile, as User=alur with its
# UMask; systemd itself is not running here), enrols a client and syncs against it, then
# purges the package. Needs root (dpkg -i): run as another user it fails with that reason;
# leave it out with `ctest -LE package`. It never touches an alur-server installed by
# someone else: it refuses to run then.
#   tests/package/deb_test.sh PRESET     (the CMake preset whose build tree it packages)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PRESET="${1:-default}"
DATA=/var/lib/alur
MARK="$DATA/.dibuat-oleh-package-test"
UNIT=/usr/lib/systemd/system/alur-server.service

fail() { echo "package.deb: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "must run as root (it installs the .deb with dpkg); as another user leave it out: ctest -LE package"

installed() { dpkg-query -W -f='${Status}' alur-server 2>/dev/null | grep -q "ok installed\|config-files"; }
# Leftovers of an earlier run of this test (and only those) are cleared first.
if [ -e "$DATA" ] && [ ! -e "$MARK" ]; then fail "$DATA exists and is not this test's: refusing to touch it"; fi
if installed && [ ! -e "$MARK" ]; then fail "alur-server is installed on this machine: refusing to touch it"; fi
user_existed=no; getent passwd alur >/dev/null && [ ! -e "$MARK" ] && user_existed=yes

WORK=$(mktemp -d /tmp/alur-deb-test.XXXXXX)
chmod 0755 "$WORK"
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  if [ -e "$MARK" ] || installed; then
    dpkg --purge alur-server >"$WORK/purge.log" 2>&1 || true
    [ -e "$MARK" ] && rm -rf "$DATA"
    if [ "$user_existed" = no ]; then userdel alur 2>/dev/null || true; groupdel alur 2>/dev/null || true; fi
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
if installed; then dpkg --purge alur-server >/dev/null; fi
rm -rf "$DATA"

echo "== build"
DEB=$(ALUR_SKIP_SETUP=1 "$ROOT/packaging/linux/build" "$PRESET" 2>"$WORK/build.log" | tail -1) \
  || { cat "$WORK/build.log"; fail "packaging/linux/build failed"; }
[ -f "$DEB" ] || fail "packaging/linux/build's last line is not a file: $DEB"
echo "$DEB ($(stat -c %s "$DEB") bytes)"
dpkg-deb -c "$DEB" > "$WORK/contents"
for f in ./usr/bin/alur-server ./usr/bin/alur ./usr/lib/systemd/system/alur-server.service \
         ./etc/alur/alur-server.conf ./usr/share/doc/alur-server/README.md; do
  grep -q " $f\$" "$WORK/contents" || fail "the package lacks $f"
done
depends=$(dpkg-deb -f "$DEB" Depends)
for d in libssl3 libsqlite3-0 passwd; do
  echo "$depends" | grep -q "$d" || fail "Depends lacks $d: $depends"
done
dpkg-deb -e "$DEB" "$WORK/control"
grep -qx /etc/alur/alur-server.conf "$WORK/control/conffiles" || fail "the config is not a conffile"

echo "== install"
dpkg -i "$DEB" > "$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; fail "dpkg -i failed"; }
touch "$MARK"
cat "$WORK/install.log"
grep -q "sudo -u alur alur-server init --data /var/lib/alur" "$WORK/install.log" \
  || fail "postinst did not tell IT how to prepare the data folder"
getent passwd alur | grep -q ":$DATA:/usr/sbin/nologin\$" || fail "user alur missing or wrong: $(getent passwd alur)"
[ "$(stat -c '%U %a' "$DATA")" = "alur 700" ] || fail "$DATA is $(stat -c '%U %a' "$DATA")"
[ "$(stat -c '%U:%G %a' /etc/alur/alur-server.conf)" = "root:alur 640" ] || fail "config permissions"
[ -L /etc/systemd/system/multi-user.target.wants/alur-server.service ] || fail "the unit was not enabled"
systemd-analyze verify "$UNIT" > "$WORK/verify.log" 2>&1 || { cat "$WORK/verify.log"; fail "systemd-analyze verify"; }
for opt in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
           ReadWritePaths=/var/lib/alur User=alur ConditionPathExists=/var/lib/alur/alur-server.db; do
  grep -qx "$opt" "$UNIT" || fail "the unit lacks $opt"
done

echo "== prepare as IT does (postinst's message)"
cp "$ROOT/scripts/demo/org.json" "$WORK/org.json" && chmod 0644 "$WORK/org.json"
# As the unit runs it: user and group alur (setpriv execs, so a PID is the program's own).
as_alur() { setpriv --reuid alur --regid alur --init-groups -- "$@"; }
as_alur /usr/bin/alur-server init --data "$DATA" --names localhost >/dev/null
as_alur /usr/bin/alur-server org import --data "$DATA" "$WORK/org.json"
FP=$(as_alur /usr/bin/alur-server fingerprint --data "$DATA")
[ "$(stat -c '%U %a' "$DATA/tls/server.key")" = "alur 600" ] || fail "server.key is $(stat -c '%U %a' "$DATA/tls/server.key")"

echo "== the unit's command line"
# Loopback and a free port for the test, changed where IT changes it.
sed -i 's/^ALUR_LISTEN=.*/ALUR_LISTEN=127.0.0.1:0/' /etc/alur/alur-server.conf
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
umask_unit=$(sed -n 's/^UMask=//p' "$UNIT")
env_file=$(sed -n 's/^EnvironmentFile=//p' "$UNIT")
# systemd expands ${VAR} from EnvironmentFile; so does this, for exactly those variables.
cmdline=$(set -a; . "$env_file"; set +a; eval "printf '%s\n' \"$exec_start\"")
echo "$cmdline"
( umask "$umask_unit"; cd /; exec setpriv --reuid alur --regid alur --init-groups -- $cmdline ) \
  > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q "wss://" "$WORK/serve.out" && break; sleep 0.2; done
URL=$(grep -o 'wss://[^ ]*' "$WORK/serve.out" | head -1) || { cat "$WORK/serve.err"; fail "the server did not start"; }
[ "$(ps -o user= -p "$SERVER_PID" | tr -d ' ')" = alur ] || fail "the server does not run as alur"

echo "== a client syncs against it ($URL)"
PC="$WORK/pc-sekretaris"
echo "sekre-rahasia-1" | /usr/bin/alur --home "$PC" enroll --server "$URL" --username sekretaris \
  --password-stdin --trust-fingerprint "$FP"
/usr/bin/alur --home "$PC" --json case open --sop LAKIP --period 2026-Q3 > "$WORK/open.json"
/usr/bin/alur --home "$PC" --json sync > "$WORK/sync.json"
python3 - "$WORK/sync.json" <<'PY' || fail "the case was not accepted: $(cat "$WORK/sync.json")"
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r["accepted"] == 1 and r["rejected"] == 0 else 1)
PY
PC2="$WORK/pc-kabid"
echo "kabid-rahasia-1" | /usr/bin/alur --home "$PC2" enroll --server "$URL" --username kabid_koperasi \
  --password-stdin --trust-fingerprint "$FP" >/dev/null
/usr/bin/alur --home "$PC2" --json case list | grep -q 2026-Q3 || fail "another PC does not see the case"
as_alur /usr/bin/alur-server verify --data "$DATA" >/dev/null || fail "verify of the installed server"

echo "== purge"
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
dpkg --purge alur-server > "$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; fail "dpkg --purge"; }
cat "$WORK/purge.log"
[ ! -e /usr/bin/alur-server ] && [ ! -e /etc/alur/alur-server.conf ] && [ ! -e "$UNIT" ] \
  || fail "files left after purge"
[ -f "$DATA/alur-server.db" ] || fail "purge deleted the office's data"
rm -rf "$DATA"
[ "$user_existed" = no ] && { userdel alur; groupdel alur 2>/dev/null || true; }
echo "package.deb: ok"
