#!/usr/bin/env bash
# Provisions the OPC UA test peer: node-opcua (pinned in package.json / package-lock.json) under
# tests/peers/opcua/node_modules. Idempotent: runs `npm ci` only when node_modules is missing or
# older than package-lock.json. Needs node and npm (Debian: apt-get install nodejs npm, as root).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
    echo "opcua peers: installing nodejs npm"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends nodejs npm >/tmp/opcua-peers-apt.log 2>&1; then
      apt-get update >>/tmp/opcua-peers-apt.log 2>&1
      apt-get install -y --no-install-recommends nodejs npm >>/tmp/opcua-peers-apt.log 2>&1 \
        || { echo "opcua peers: apt-get install nodejs npm failed, see /tmp/opcua-peers-apt.log" >&2; exit 1; }
    fi
  else
    echo "opcua peers: node/npm missing (not root: not installing)" >&2
    exit 0
  fi
fi

stamp="$here/node_modules/.package-lock.json"
if [[ ! -d "$here/node_modules/node-opcua" || ! -f "$stamp" || "$here/package-lock.json" -nt "$stamp" ]]; then
  echo "opcua peers: npm ci (node-opcua $(sed -nE 's/.*"node-opcua": "([^"]+)".*/\1/p' "$here/package.json" | head -n1))"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/tmp/opcua-peers-npm.log 2>&1) \
    || { echo "opcua peers: npm ci failed, see /tmp/opcua-peers-npm.log" >&2; exit 1; }
  touch "$stamp"
fi

# Sanity check: the server script's dependencies load.
(cd "$here" && node -e 'require("node-opcua")' >/dev/null 2>&1) \
  || { echo "opcua peers: node cannot load node-opcua from $here/node_modules" >&2; exit 1; }
