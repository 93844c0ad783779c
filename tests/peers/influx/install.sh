#!/usr/bin/env bash
# Provisions the telemetry test peers on a Debian machine (idempotent: installs only what is missing).
#   - influxdb (1.6.7): the v1 /write endpoint and InfluxQL read-back
#   - victoria-metrics: accepts the InfluxDB v2 write API; read back through /api/v1/export
# The fixtures start each server themselves on 127.0.0.1 with a free port and a temp data directory;
# nothing relies on the services the packages may start. Without root it only reports what is missing.
set -euo pipefail

packages=(influxdb victoria-metrics)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ "$(id -u)" != "0" ]]; then
  echo "influx peers: missing ${missing[*]} (not root: not installing)" >&2
  exit 0
fi

echo "influx peers: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=/tmp/influx-peers-apt.log
: >"$log"
# A fresh machine has no package lists: update once (only when the package is not known yet), then install.
needs_update=0
for p in "${missing[@]}"; do
  if ! apt-cache show "$p" >/dev/null 2>&1; then
    needs_update=1
  fi
done
if ((needs_update)); then
  apt-get update >>"$log" 2>&1
fi
# policy-rc.d 101 keeps the packages' own services from starting (they would listen on 8086/8428 for all).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  created_policy=1
fi
status=0
apt-get install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1 || status=$?
if ((status != 0 && needs_update == 0)); then
  # The lists may be stale: update once and try again.
  apt-get update >>"$log" 2>&1
  status=0
  apt-get install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1 || status=$?
fi
if ((created_policy)); then
  rm -f "$policy"
fi
if ((status != 0)); then
  echo "influx peers: apt-get install failed, see $log" >&2
  exit 1
fi

for binary in /usr/bin/influxd /usr/bin/victoria-metrics; do
  [[ -x "$binary" ]] || echo "influx peers: $binary not found after install" >&2
done
