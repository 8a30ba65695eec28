#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests (issue 24), used by .ci/run and by hand:
#   eval "$(tools/postgres.sh start)"   # prints: export CLINICSIM_TEST_POSTGRES=... CLINICSIM_PG_DIR=...
#   tools/postgres.sh stop              # stops the cluster in $CLINICSIM_PG_DIR and removes it
# The server binaries come from the distribution (Debian: apt-get install -y postgresql).
# The cluster lives in a temporary folder, listens on 127.0.0.1 at a free port (and on a
# socket in its folder), and asks for a password (scram-sha-256), so that a failed login
# can be tested. As root, initdb and the server run as the postgres user.
set -euo pipefail

bindir() {
    local dir
    for dir in "$(pg_config --bindir 2>/dev/null || true)" /usr/lib/postgresql/*/bin; do
        if [[ -n "$dir" && -x "$dir/initdb" ]]; then echo "$dir"; return; fi
    done
    echo "tools/postgres.sh: no PostgreSQL server binary (initdb) installed" >&2
    exit 3
}

as_owner() {  # run a command as the cluster's owner
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
    bin=$(bindir)
    dir=$(mktemp -d /tmp/clinicsim-pg.XXXXXX)
    password=clinicsim-test-$RANDOM$RANDOM
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf '%s\n' "$password" > "$dir/pwfile"
    [[ $(id -u) -eq 0 ]] && chown -R postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
        --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "export CLINICSIM_TEST_POSTGRES=postgresql://postgres:$password@127.0.0.1:$port/postgres"
    echo "export CLINICSIM_PG_DIR=$dir"
    ;;
stop)
    dir=${CLINICSIM_PG_DIR:?tools/postgres.sh stop: CLINICSIM_PG_DIR is not set}
    [[ -d "$dir/data" ]] && as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: tools/postgres.sh start|stop" >&2
    exit 2
    ;;
esac
