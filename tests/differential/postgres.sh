# Sourced by run.sh: starts a throwaway PostgreSQL server in a temporary folder, on a free port
# of 127.0.0.1 (password authentication) and a Unix socket (trusted), and stops it when the
# calling script exits (also on failure). Exports PGHOST (the socket's folder), PGPORT and
# PGUSER for clients, and TENURE_PG_PASSWORD, the password of user postgres over TCP.
# Installs Debian's server if it is not there.
start_postgres() {
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$pg_bin" ]; then
    echo "installing PostgreSQL (Debian package postgresql)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  pg_dir=$(mktemp -d)
  pg_as=()
  if [ "$(id -u)" = 0 ]; then
    # The server refuses to run as root.
    chown postgres: "$pg_dir"
    pg_as=(runuser -u postgres --)
  fi
  PGPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${pg_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 >/dev/null
  "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
    -o "-p $PGPORT -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  export PGHOST=$pg_dir PGPORT PGUSER=postgres
  export TENURE_PG_PASSWORD="pw-$RANDOM$RANDOM"
  psql -q -d postgres -c "ALTER USER postgres PASSWORD '$TENURE_PG_PASSWORD'" >/dev/null
  stop_postgres() {
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  }
}
