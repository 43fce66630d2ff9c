#!/usr/bin/env bash
# Runs a command with Node.js 24 LTS, leasekeeper's supported runtime: the machine's own node when
# it is 24 or newer, otherwise node@24 from the npm registry, installed once into .tools/node24.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want=24
major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if ! command -v node >/dev/null 2>&1 || [ "$(major node)" -lt "$want" ]; then
  dir="$root/.tools/node$want"
  bin="$dir/node_modules/node/bin"
  if [ ! -x "$bin/node" ] || [ "$(major "$bin/node")" -ne "$want" ]; then
    echo "node: $(command -v node >/dev/null 2>&1 && node --version || echo none) is older than $want; installing node@$want from the npm registry into .tools/node$want" >&2
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --no-package-lock --loglevel=error "node@$want" >&2
  fi
  export PATH="$bin:$PATH"
fi
exec "$@"
