#!/usr/bin/env bash
# Entrypoint with the official redis image's contract:
#   IMAGE [--option value ...] | IMAGE /path/redis.conf [...]  -> redis-server with those arguments
#   started as root: /data is handed to redis (uid 999) and the server drops to it
#   protected mode is off unless the config file or the arguments set it (Docker networking)
set -eo pipefail

if [[ ${1#-} != "$1" || ${1%.conf} != "$1" ]]; then
  set -- redis-server "$@"
fi

if [[ $1 == redis-server && $(id -u) == 0 ]]; then
  find . \! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "${BASH_SOURCE[0]}" "$@"
fi

# Files the server writes are private to it, unless the caller chose a umask.
if [[ $(umask) == 0022 ]]; then umask 0077; fi

if [[ $1 == redis-server ]]; then
  protected=1 config=
  if [[ -f ${2:-} ]]; then
    config=$2
    grep -q '^protected-mode' "$config" && protected=
  fi
  for arg in "$@"; do [[ $arg == --protected-mode* ]] && protected=; done
  if [[ -n $protected ]]; then
    shift
    [[ -z $config ]] || shift
    set -- redis-server ${config:+"$config"} --protected-mode no "$@"
  fi
fi

exec "$@"
