#!/usr/bin/env bash
# The Linux `alur` needs only the C library of the system at run time (see the top-level
# CMakeLists.txt, ALUR_STATIC_CLIENT). That its TLS and SQLite work from the copies linked
# in is what every e2e test shows: they all run this binary. Usage:
#   check_static_client.sh PATH/TO/alur
set -euo pipefail
alur="$1"
needed=$(readelf -d "$alur" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
echo "NEEDED: $needed"
for lib in $needed; do
  case "$lib" in
    libc.so.* | libm.so.* | ld-linux*) ;;
    *) echo "alur loads $lib at run time: it should be linked in statically" >&2; exit 1 ;;
  esac
done
"$alur" --version | grep -q '^alur '
