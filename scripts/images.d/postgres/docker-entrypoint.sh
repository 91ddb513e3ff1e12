#!/usr/bin/env bash
# Entrypoint with the official postgres image's contract:
#   POSTGRES_PASSWORD[_FILE]  superuser password (required unless POSTGRES_HOST_AUTH_METHOD=trust)
#   POSTGRES_USER[_FILE]      superuser name (default postgres)
#   POSTGRES_DB[_FILE]        database created at init (default $POSTGRES_USER)
#   POSTGRES_INITDB_ARGS[_FILE], POSTGRES_INITDB_WALDIR
#   POSTGRES_HOST_AUTH_METHOD auth for TCP connections from any host (default scram-sha-256)
#   PGDATA                    data folder (default /var/lib/postgresql/data)
#   /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz|*.sql.xz|*.sql.zst run once, on an empty PGDATA
# Started as root it prepares the folders and drops to the postgres user (uid 999);
# started as uid 999 (`--user 999:999`, read-only root fs) it runs as it is.
set -Eeo pipefail

# file_env VAR [DEFAULT]: VAR from $VAR or from the file named by $VAR_FILE.
file_env() {
  local var=$1 file_var="${1}_FILE" def=${2:-} val
  if [[ -n ${!var:-} && -n ${!file_var:-} ]]; then
    echo >&2 "error: both $var and $file_var are set (but are exclusive)"
    exit 1
  fi
  val=$def
  if [[ -n ${!var:-} ]]; then
    val=${!var}
  elif [[ -n ${!file_var:-} ]]; then
    [[ -r ${!file_var} ]] || { echo >&2 "error: $file_var=${!file_var} is not a readable file"; exit 1; }
    val=$(<"${!file_var}")
  fi
  export "$var"="$val"
  unset "$file_var"
}

want_help() {
  local arg
  for arg; do case $arg in -'?'|--help|--describe-config|-V|--version) return 0 ;; esac; done
  return 1
}

setup_env() {
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
  export PGDATA=${PGDATA:-/var/lib/postgresql/data}
}

create_dirs() {
  local uid; uid=$(id -u)
  mkdir -p "$PGDATA"
  chmod 00700 "$PGDATA" 2>/dev/null || :
  mkdir -p /var/run/postgresql 2>/dev/null || :
  chmod 03775 /var/run/postgresql 2>/dev/null || :
  if [[ -n ${POSTGRES_INITDB_WALDIR:-} ]]; then
    mkdir -p "$POSTGRES_INITDB_WALDIR"
    [[ $uid != 0 ]] || find "$POSTGRES_INITDB_WALDIR" \! -user postgres -exec chown postgres '{}' +
    chmod 700 "$POSTGRES_INITDB_WALDIR"
  fi
  if [[ $uid == 0 ]]; then
    find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
    find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
  fi
}

init_database_dir() {
  if [[ -z $POSTGRES_PASSWORD && $POSTGRES_HOST_AUTH_METHOD != trust ]]; then
    cat >&2 <<'EOM'
error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) to a non-empty value
       for the superuser, or POSTGRES_HOST_AUTH_METHOD=trust to allow all connections
       without a password (not recommended).
EOM
    exit 1
  fi
  [[ $POSTGRES_HOST_AUTH_METHOD != trust ]] ||
    echo >&2 'WARNING: POSTGRES_HOST_AUTH_METHOD=trust: every host may connect without a password.'
  if [[ -n ${POSTGRES_INITDB_WALDIR:-} ]]; then
    POSTGRES_INITDB_ARGS="--waldir $POSTGRES_INITDB_WALDIR $POSTGRES_INITDB_ARGS"
  fi
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of arguments, as upstream
  eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"
  printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
}

psql_init() { # psql on the temporary server, as the superuser
  PGHOST='' PGHOSTADDR='' psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

temp_server_start() {
  export PGPASSWORD=${PGPASSWORD:-$POSTGRES_PASSWORD}
  PGUSER=${PGUSER:-$POSTGRES_USER} pg_ctl -D "$PGDATA" \
    -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
}
temp_server_stop() { PGUSER=${PGUSER:-postgres} pg_ctl -D "$PGDATA" -m fast -w stop; }

setup_db() {
  local exists
  exists=$(psql_init --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<<"SELECT 1 FROM pg_database WHERE datname = :'db';")
  if [[ -z ${exists// /} ]]; then
    psql_init --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
}

# shellcheck disable=SC1090 # sourced init scripts are the user's
process_init_files() {
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    [[ -e $f ]] || continue
    case $f in
      *.sh)
        if [[ -x $f ]]; then echo "$0: running $f"; "$f"
        else echo "$0: sourcing $f"; . "$f"; fi ;;
      *.sql) echo "$0: running $f"; psql_init --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) echo "$0: running $f"; gunzip -c "$f" | psql_init --dbname "$POSTGRES_DB" ;;
      *.sql.xz) echo "$0: running $f"; xzcat "$f" | psql_init --dbname "$POSTGRES_DB" ;;
      *.sql.zst) echo "$0: running $f"; zstd -dc "$f" | psql_init --dbname "$POSTGRES_DB" ;;
      *) echo "$0: ignoring $f" ;;
    esac
    echo
  done
}

main() {
  if [[ ${1:0:1} == - ]]; then set -- postgres "$@"; fi
  if [[ $1 == postgres ]] && ! want_help "$@"; then
    setup_env
    create_dirs
    if [[ $(id -u) == 0 ]]; then
      exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
    fi
    if [[ ! -s $PGDATA/PG_VERSION ]]; then
      init_database_dir
      temp_server_start
      setup_db
      process_init_files
      temp_server_stop
      unset PGPASSWORD
      echo
      echo 'PostgreSQL init process complete; ready for start up.'
      echo
    else
      echo
      echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
      echo
    fi
  fi
  exec "$@"
}

main "$@"
