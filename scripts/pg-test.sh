#!/usr/bin/env bash
# The server test suite against PostgreSQL: a throwaway cluster in a temp dir on a free localhost
# port, one database per test (tests/server/conftest.py, EXAMAUDIT_TEST_DB_URL), removed afterwards
# whatever happens. Arguments go to pytest (default: tests/server, not slow, not e2e).
#   scripts/pg-test.sh                      # make test-postgres
#   scripts/pg-test.sh tests/server/test_fuzz_api.py -m slow -s
# PostgreSQL refuses to run as root: as root, the cluster runs as the `postgres` user (PG_USER).
# PGBIN: the server binaries; PG_TEST_LOG=1: on a failure, the end of the server log.
# Auth is trust on 127.0.0.1 only, for as long as the script runs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
# the full set (pg_dump for `examaudit backup` too) rather than a bare initdb on PATH
PGBIN=${PGBIN:-$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | tail -1 || command -v initdb)")}
[ -x "$PGBIN/initdb" ] || { echo "pg-test: no initdb found (set PGBIN)" >&2; exit 2; }
PG_USER=${PG_USER:-postgres}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi; }

TMP=$(mktemp -d -t examaudit-pg.XXXXXX)
cleanup() {
    as_pg "$PGBIN/pg_ctl" -D "$TMP/cluster" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # through the EXIT trap: stopped and removed however it ends
[ "$(id -u)" = 0 ] && chown "$PG_USER" "$TMP"

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# trust on localhost only: the cluster lives as long as this script, in a private temp dir
as_pg "$PGBIN/initdb" -D "$TMP/cluster" -U examaudit --auth=trust -E UTF8 --locale=C.UTF-8 >"$TMP/initdb.log" 2>&1 \
    || { cat "$TMP/initdb.log" >&2; exit 2; }
as_pg "$PGBIN/pg_ctl" -D "$TMP/cluster" -l "$TMP/postgres.log" -w start \
    -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$TMP -c max_connections=200 -c fsync=off" \
    >/dev/null || { cat "$TMP/postgres.log" >&2; exit 2; }

# the admin connection: conftest creates (and drops) one database per test from it
export EXAMAUDIT_TEST_DB_URL="postgresql+psycopg://examaudit@127.0.0.1:$PORT/postgres"
export PATH="$PGBIN:$PATH"
echo "pg-test: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT ($TMP)"
[ $# -gt 0 ] || set -- tests/server -m "not slow and not e2e"
rc=0
"$PY" -m pytest -o addopts="" -q -p no:cacheprovider "$@" || rc=$?
if [ $rc -ne 0 ] && [ -n "${PG_TEST_LOG:-}" ]; then tail -50 "$TMP/postgres.log" >&2; fi
exit $rc
