#!/usr/bin/env bash
# Removes the FactoryEdge service.
#
#   sudo installer/linux/uninstall.sh [--purge]
#
# Stops and disables the service, removes the unit and /opt/factoryedge. Configuration
# (/etc/factoryedge, credentials included) and data (/var/lib/factoryedge: telemetry spool, alert
# outbox, models, PKI) are KEPT unless --purge is given, which also removes the 'factoryedge' user.
set -euo pipefail

PREFIX=/opt/factoryedge
PURGE=0
for arg in "$@"; do
  case "$arg" in
    --purge) PURGE=1 ;;
    --prefix=*) PREFIX="${arg#--prefix=}" ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "uninstall.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "uninstall.sh: run as root (sudo)" >&2
  exit 1
fi

systemctl disable --now factoryedge 2>/dev/null || true
rm -f /etc/systemd/system/factoryedge.service
rm -rf /etc/systemd/system/factoryedge.service.d
systemctl daemon-reload || true
rm -rf "$PREFIX"

if [ "$PURGE" -eq 1 ]; then
  rm -rf /etc/factoryedge /var/lib/factoryedge
  if id -u factoryedge >/dev/null 2>&1; then userdel factoryedge || true; fi
  if getent group factoryedge >/dev/null; then groupdel factoryedge 2>/dev/null || true; fi
  echo "FactoryEdge removed with its configuration, data and user."
else
  echo "FactoryEdge removed. Kept: /etc/factoryedge (configuration, credentials), /var/lib/factoryedge (data). Remove them with --purge."
fi
