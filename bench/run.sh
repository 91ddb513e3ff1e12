#!/usr/bin/env bash
# npm run bench: raise the open-file limit for the idle-socket scenario (10k client sockets in
# the generator, 5k per server process), then run the coordinator (BENCH_MAIN: another one, e.g.
# npm run bench:cost's bench/cost.ts, whose 10k-member rooms need the same).
set -euo pipefail
cd "$(dirname "$0")/.."
want=65536
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
  ulimit -Hn "$want" 2>/dev/null || want=$hard
fi
ulimit -Sn "$want" 2>/dev/null || echo "bench: could not raise ulimit -n to $want (now $(ulimit -n)); the idle scenario may fail" >&2
exec node --import tsx "${BENCH_MAIN:-bench/run.ts}" "$@"
