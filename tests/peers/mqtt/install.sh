#!/usr/bin/env bash
# Provisions the MQTT test peer (Debian's mosquitto) for tests/FactoryEdge.Alerts.IntegrationTests.
# Idempotent: does nothing when mosquitto is already installed. Installs only when run as root.
# The tests start their own broker (temp config, 127.0.0.1, free port); the packaged service is
# neither needed nor relied on, so it is stopped/disabled when systemd is present.
set -euo pipefail

if command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; then
  echo "mosquitto: already installed ($(/usr/sbin/mosquitto -h 2>/dev/null | head -n1 || true))"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "mosquitto is missing and this script is not running as root: run 'sudo apt-get install -y mosquitto'" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends mosquitto; then
  apt-get update
  apt-get install -y --no-install-recommends mosquitto
fi

# The package may start a system broker on 1883; the tests do not use it.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now mosquitto >/dev/null 2>&1 || true
fi

echo "mosquitto: installed"
