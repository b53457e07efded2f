#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the central store tests
# (docs/scale-out.md). Usage: scripts/pg-cluster.sh start|stop|env
#
# start: initdb into a temporary directory and start the server there,
#        listening on a Unix socket in that directory only
#        (listen_addresses=''), with fsync off: data is disposable. As root
#        it runs as the 'postgres' system user, created when missing (the
#        server refuses to run as root).
# stop:  stop the server and remove the directory.
# env:   print 'export EAUDIT_TEST_PG=postgresql://...' for eval.
#
# The directory is EAUDIT_PG_DIR, by default one per checkout under
# ${TMPDIR:-/tmp}, so that several checkouts on one machine do not meet.
set -euo pipefail
cd "$(dirname "$0")/.."

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "pg-cluster: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin" \
       "(Debian: apt-get install postgresql)" >&2
  exit 1
fi
tag=$(pwd | cksum | cut -d' ' -f1)
dir=${EAUDIT_PG_DIR:-${TMPDIR:-/tmp}/eaudit-pg-$tag}
user=postgres
dbuser=eaudit

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

uri() { echo "postgresql://$dbuser@/postgres?host=$dir"; }

case "${1:-}" in
  start)
    if [ -f "$dir/data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      echo "pg-cluster: already running in $dir" >&2
      exit 0
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    chmod 0755 "$dir"
    if [ "$(id -u)" = 0 ]; then
      if ! id "$user" >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent \
          --shell /usr/sbin/nologin "$user"
      fi
      chown "$user" "$dir"
    fi
    as_owner "$bindir/initdb" -D "$dir/data" -U "$dbuser" --auth=trust \
      -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
    cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$dir'
unix_socket_permissions = 0777
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 60
EOF
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null || {
      cat "$dir/server.log" >&2
      exit 1
    }
    echo "pg-cluster: running in $dir ($($bindir/postgres --version))" >&2
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  env)
    echo "export EAUDIT_TEST_PG='$(uri)'"
    ;;
  *)
    echo "usage: scripts/pg-cluster.sh start|stop|env" >&2
    exit 2
    ;;
esac
