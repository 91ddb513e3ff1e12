#!/usr/bin/env bash
# Builds the app of another commit into a throwaway directory, for `npm run bench -- --baseline DIR`
# (both builds then run in the same benchmark, under the same machine load).
# Usage: bash bench/tools/build-baseline.sh <commit>   → prints the app directory to pass.
set -euo pipefail
commit=${1:?usage: build-baseline.sh <commit>}
root=$(git rev-parse --show-toplevel)
sha=$(git -C "$root" rev-parse --short "$commit")
dir=${TMPDIR:-/tmp}/chatapi-baseline-$sha
rm -rf "$dir" && mkdir -p "$dir"
git -C "$root" archive "$sha" app tsconfig.base.json | tar -x -C "$dir"
ln -s "$root/node_modules" "$dir/node_modules"
[ -d "$root/app/node_modules" ] && ln -s "$root/app/node_modules" "$dir/app/node_modules"
(cd "$dir/app" && "$root/node_modules/.bin/tsc" -p tsconfig.build.json) >&2
echo "$dir/app"
