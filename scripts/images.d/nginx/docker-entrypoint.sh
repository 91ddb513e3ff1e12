#!/bin/sh
# As the official nginx image: when the command is nginx, run the hooks in
# /docker-entrypoint.d first (*.envsh sourced, executable *.sh run), then nginx.
# NGINX_ENTRYPOINT_QUIET_LOGS=1 silences this script.
set -e

entrypoint_log() {
  if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then echo "$@"; fi
}

if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
  if find /docker-entrypoint.d/ -mindepth 1 -maxdepth 1 -type f -print -quit 2>/dev/null | read -r _; then
    entrypoint_log "$0: /docker-entrypoint.d/ is not empty, will attempt to perform configuration"
    for f in $(find /docker-entrypoint.d/ -mindepth 1 -maxdepth 1 -type f | sort -V); do
      case $f in
        *.envsh) # shellcheck disable=SC1090 # hooks are the user's
          if [ -x "$f" ]; then entrypoint_log "$0: Sourcing $f"; . "$f"
          else entrypoint_log "$0: Ignoring $f, not executable"; fi ;;
        *.sh)
          if [ -x "$f" ]; then entrypoint_log "$0: Launching $f"; "$f"
          else entrypoint_log "$0: Ignoring $f, not executable"; fi ;;
        *) entrypoint_log "$0: Ignoring $f" ;;
      esac
    done
    entrypoint_log "$0: Configuration complete; ready for start up"
  else
    entrypoint_log "$0: No files found in /docker-entrypoint.d/, skipping configuration"
  fi
fi

exec "$@"
