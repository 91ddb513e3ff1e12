#!/usr/bin/env bash
# Entrypoint with the official rabbitmq:3 image's contract:
#   RABBITMQ_DEFAULT_USER, RABBITMQ_DEFAULT_PASS, RABBITMQ_DEFAULT_VHOST, RABBITMQ_ERLANG_COOKIE
#     are read by rabbitmq-server itself (RabbitMQ >= 3.9.4) and seed a new node only
#   started as root: /var/lib/rabbitmq is handed to rabbitmq (uid 999), then it drops to it
# Beyond the official image (which refuses to start when they are set):
#   RABBITMQ_DEFAULT_USER_FILE, RABBITMQ_DEFAULT_PASS_FILE  read into the variables above
set -euo pipefail

if [[ $1 == rabbitmq* && $(id -u) == 0 ]]; then
  if [[ $1 == rabbitmq-server ]]; then
    find /var/lib/rabbitmq \! -user rabbitmq -exec chown rabbitmq '{}' +
  fi
  exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "${BASH_SOURCE[0]}" "$@"
fi

for var in RABBITMQ_DEFAULT_USER RABBITMQ_DEFAULT_PASS; do
  file_var=${var}_FILE
  [[ -n ${!file_var:-} ]] || continue
  if [[ -n ${!var:-} ]]; then
    echo >&2 "error: both $var and $file_var are set (but are exclusive)"; exit 1
  fi
  [[ -r ${!file_var} ]] || { echo >&2 "error: $file_var=${!file_var} is not a readable file"; exit 1; }
  export "$var"="$(<"${!file_var}")"
  unset "$file_var"
done

# if long and short hostnames differ, use long node names (as the official image)
if [[ -z ${RABBITMQ_USE_LONGNAME:-} && $(hostname) != "$(hostname -s)" ]]; then
  export RABBITMQ_USE_LONGNAME=true
fi

exec "$@"
