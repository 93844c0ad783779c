#!/usr/bin/env bash
# Provisions the browser for tests/FactoryEdge.Dashboard.Tests: Debian's chromium, driven by
# Microsoft.Playwright through executablePath=/usr/bin/chromium (Playwright's own browser download
# is never used: the tests work offline). Idempotent: does nothing when chromium is installed.
# Installs only when run as root.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  echo "chromium: already installed ($(/usr/bin/chromium --version 2>/dev/null | head -n1 || true))"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "chromium is missing and this script is not running as root: run 'sudo apt-get install -y chromium'" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# fonts-liberation: readable text in the screenshots (chromium's recommends are not installed).
if ! apt-get install -y --no-install-recommends chromium fonts-liberation; then
  apt-get update
  apt-get install -y --no-install-recommends chromium fonts-liberation
fi

echo "chromium: installed ($(/usr/bin/chromium --version 2>/dev/null | head -n1 || true))"
