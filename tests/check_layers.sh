#!/usr/bin/env bash
# Dependencies point one way: client/, server/ -> sync/ -> shared/. sync/ is pure logic
# (no sockets, no SQLite). Fails naming the offending include.
set -u
cd "$(dirname "$0")/.."
fail=0
check() {  # dir, forbidden-regex, why
  local hits
  hits=$(grep -rnE "#include [<\"]($2)" "$1" --include='*.h' --include='*.cpp' 2>/dev/null)
  if [ -n "$hits" ]; then echo "layering: $1 must not include $2 ($3):"; echo "$hits"; fail=1; fi
}
check sync "alur/(server|client|net)/|sqlite3|alur/shared/sqlite.h|boost/(asio|beast)" "sync/ is pure logic"
check shared/include/alur/shared "alur/(sync|server|client)/" "shared/ is the bottom layer"
check shared/src "alur/(sync|server|client)/" "shared/ is the bottom layer"
check server "alur/client/" "server and client are independent"
check client "alur/server/" "server and client are independent"
[ $fail -eq 0 ] && echo "layering: ok"
exit $fail
