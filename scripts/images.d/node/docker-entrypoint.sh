#!/bin/sh
# As in the official node image: `docker run IMAGE -e '...'` or `IMAGE app.js` run node.
set -e
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
