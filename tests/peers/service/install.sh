#!/usr/bin/env bash
# Provisions the tools the service-installation tests use (tests/FactoryEdge.Operations.Tests):
# systemd-analyze (package systemd: 'verify' and 'security' of the unit) and dpkg-deb (package dpkg,
# always on Debian) for build-deb.sh. Idempotent; installs only when run as root. Nothing is started.
set -euo pipefail

missing=()
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v dpkg-deb >/dev/null 2>&1 || missing+=(dpkg)
if [ ${#missing[@]} -eq 0 ]; then
  echo "service tools: already installed ($(systemd-analyze --version | head -n1))"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "missing ${missing[*]} and not running as root: run 'sudo apt-get install -y ${missing[*]}'" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
echo "service tools: installed ${missing[*]}"
