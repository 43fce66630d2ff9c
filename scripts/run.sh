#!/usr/bin/env bash
# The README's entry: installs what a fresh machine lacks (system packages, Node.js 24, the locked
# npm dependencies), then runs `npm run <script> [args]` with Node.js 24.
#   bash scripts/run.sh sandbox      bash scripts/run.sh test
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/install-system-deps.sh
# npm ci when node_modules is missing or older than the lockfile (npm writes .package-lock.json).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  bash scripts/with-node.sh npm ci --no-audit --no-fund
fi
exec bash scripts/with-node.sh npm run "$@"
