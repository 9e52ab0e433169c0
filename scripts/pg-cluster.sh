#!/bin/sh
# A private PostgreSQL cluster for the shared-ledger tests (docs/STORAGE.md, "Tests").
#
#   scripts/pg-cluster.sh start DIR   initdb into DIR/data, socket in DIR, no TCP; prints the URL
#   scripts/pg-cluster.sh stop DIR    stops it and removes DIR
#   scripts/pg-cluster.sh pause DIR   stops the server, keeps DIR (a fault test's outage)
#   scripts/pg-cluster.sh resume DIR  starts it again on the same data
#   scripts/pg-cluster.sh crash DIR   stops it with -m immediate (no checkpoint, as a crash)
#   scripts/pg-cluster.sh run CMD…    a cluster in a fresh temporary DIR for CMD, with
#                                     WARDEN_TEST_POSTGRES set to its URL; stopped when CMD
#                                     ends, fails or is interrupted (trap)
#
# Debian's `postgresql` is installed with apt-get when initdb is missing. initdb refuses to run
# as root (CI runs as root), so as root the cluster belongs to the `postgres` system user the
# Debian package creates; otherwise to the caller. Trust authentication on the socket only:
# DIR is private to this run, and nothing listens on the network.
set -eu

find_bin() {
    for candidate in "$(command -v "$1" 2>/dev/null || true)" /usr/lib/postgresql/*/bin/"$1"; do
        [ -n "$candidate" ] && [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
    return 1
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The server must not inherit our stdout or stderr: a caller reading them to the end (a
# test's pipe, $(…)) would wait for the server to exit. fsync off: a test cluster, thrown away at the end; the ledger's own durability is
# PostgreSQL's business in production (docs/STORAGE.md). PG_CLUSTER_OPTIONS adds server options
# (scripts/bench-pg.py loads pg_stat_statements to count round trips).
server_start() {
    # Descriptors above 2 are closed too (python3's closerange): a parent that leaked a pipe
    # into us (Foundation's Process does) would otherwise wait on it for the server's life.
    as_owner python3 -c 'import os, sys; os.closerange(3, 65536); os.execv(sys.argv[1], sys.argv[1:])' "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -c listen_addresses= -c fsync=off -c max_connections=200 ${PG_CLUSTER_OPTIONS:-}" start </dev/null >/dev/null 2>&1 \
        || { cat "$dir/server.log" >&2; exit 1; }
}

command=${1:-}; dir=${2:-}
[ -n "$command" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR, or $0 run CMD..." >&2; exit 2; }

if [ "$command" = run ]; then
    shift
    dir=$(mktemp -d "${TMPDIR:-/tmp}/warden-pg.XXXXXX")
    trap '"$0" stop "$dir"' EXIT
    trap 'exit 130' INT TERM
    WARDEN_TEST_POSTGRES=$("$0" start "$dir")
    export WARDEN_TEST_POSTGRES
    echo "pg-cluster: $WARDEN_TEST_POSTGRES" >&2
    "$@"
    exit $?
fi

case "$command" in
start)
    if ! find_bin initdb >/dev/null; then
        echo "pg-cluster: installing postgresql" >&2
        sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
    fi
    initdb=$(find_bin initdb) || { echo "pg-cluster: initdb not found after installing postgresql" >&2; exit 1; }
    pg_ctl=$(find_bin pg_ctl)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_owner "$initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    server_start
    echo "postgres://postgres@/postgres?host=$dir"
    ;;
pause)
    as_owner "$(find_bin pg_ctl)" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
resume)
    pg_ctl=$(find_bin pg_ctl)
    server_start
    ;;
crash)
    # As a power cut or an OOM kill would leave it: no shutdown checkpoint, clients cut off
    # mid-transaction; `resume` then runs crash recovery (scripts/chaos-pg.py).
    as_owner "$(find_bin pg_ctl)" -D "$dir/data" -m immediate -w stop >/dev/null
    ;;
stop)
    [ -d "$dir/data" ] || exit 0
    pg_ctl=$(find_bin pg_ctl) || exit 0
    as_owner "$pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop|pause|resume|crash DIR" >&2; exit 2
    ;;
esac
