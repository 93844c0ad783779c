#!/usr/bin/env bash
# Installs (or upgrades) FactoryEdge as a systemd service on this machine.
#
#   sudo installer/linux/install.sh [--from DIR] [--rid linux-x64|linux-arm64] [--no-start]
#
# Publishes the gateway self-contained for this machine's architecture (or takes an already
# published folder with --from), creates the unprivileged user 'factoryedge', the directories with
# their owners and modes, installs the unit, checks the configuration as the service user, enables
# and starts the service. Upgrading keeps configuration, credentials and data (the telemetry spool
# is backed up first and its schema migrated by the new version when it opens it).
#
# Self-contained, not framework-dependent: plant PCs are often offline and Debian ships no .NET
# runtime; the package then carries its runtime, and a runtime fix means a new FactoryEdge release
# (see docs/operations.md).
set -euo pipefail

PREFIX=/opt/factoryedge
CONF=/etc/factoryedge
DATA=/var/lib/factoryedge
UNIT_DIR=/etc/systemd/system
SERVICE_USER=factoryedge
FROM=""
RID=""
START=1
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

while [ $# -gt 0 ]; do
  case "$1" in
    --from) FROM="$2"; shift 2 ;;
    --rid) RID="$2"; shift 2 ;;
    --no-start) START=0; shift ;;
    --prefix) PREFIX="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo)" >&2
  exit 1
fi

if [ -z "$RID" ]; then
  case "$(uname -m)" in
    x86_64) RID=linux-x64 ;;
    aarch64|arm64) RID=linux-arm64 ;;
    *) echo "install.sh: unsupported architecture $(uname -m)" >&2; exit 1 ;;
  esac
fi

if [ -z "$FROM" ]; then
  FROM="$(mktemp -d)"
  trap 'rm -rf "$FROM"' EXIT
  echo "Publishing FactoryEdge ($RID, self-contained, Release)..."
  dotnet publish "$REPO/src/FactoryEdge.Gateway/FactoryEdge.Gateway.csproj" -c Release -r "$RID" --self-contained true -o "$FROM" -p:DebugType=none >/dev/null
fi
[ -x "$FROM/factoryedge" ] || { echo "install.sh: $FROM/factoryedge not found or not executable" >&2; exit 1; }

# 1. The service user: system account, no home, no shell.
if ! getent group "$SERVICE_USER" >/dev/null; then groupadd --system "$SERVICE_USER"; fi
if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
  useradd --system --gid "$SERVICE_USER" --no-create-home --home-dir "$DATA" --shell /usr/sbin/nologin \
    --comment "FactoryEdge gateway" "$SERVICE_USER"
fi
getent group dialout >/dev/null && usermod -a -G dialout "$SERVICE_USER" || true

# 2. Stop a running version (upgrade), back the spool up.
UPGRADE=0
if systemctl is-active --quiet factoryedge 2>/dev/null; then
  UPGRADE=1
  systemctl stop factoryedge
fi
if [ -f "$DATA/telemetry.db" ]; then
  old="$(cat "$PREFIX/VERSION" 2>/dev/null || echo previous)"
  cp -p "$DATA/telemetry.db" "$DATA/telemetry.db.before-upgrade-from-$old"
  for ext in -wal -shm; do [ -f "$DATA/telemetry.db$ext" ] && cp -p "$DATA/telemetry.db$ext" "$DATA/telemetry.db.before-upgrade-from-$old$ext"; done
fi

# 3. Code: root-owned, not writable by the service.
install -d -m 0755 -o root -g root "$PREFIX"
rm -rf "$PREFIX.new" && cp -a "$FROM" "$PREFIX.new"
chown -R root:root "$PREFIX.new" && chmod -R u=rwX,go=rX "$PREFIX.new" && chmod 0755 "$PREFIX.new/factoryedge"
[ -d "$REPO/docs" ] && mkdir -p "$PREFIX.new/docs" && cp "$REPO"/docs/*.md "$PREFIX.new/docs/" 2>/dev/null || true
rm -rf "$PREFIX.old" && { [ -d "$PREFIX" ] && mv "$PREFIX" "$PREFIX.old" || true; } && mv "$PREFIX.new" "$PREFIX" && rm -rf "$PREFIX.old"

# 4. Configuration: root-owned, readable by the service group; never overwritten on upgrade.
install -d -m 0750 -o root -g "$SERVICE_USER" "$CONF"
install -d -m 0700 -o root -g root "$CONF/credentials"
if [ ! -f "$CONF/appsettings.json" ]; then
  install -m 0640 -o root -g "$SERVICE_USER" "$PREFIX/appsettings.json" "$CONF/appsettings.json"
else
  install -m 0640 -o root -g "$SERVICE_USER" "$PREFIX/appsettings.json" "$CONF/appsettings.json.new-default"
fi
if [ ! -f "$CONF/site.json" ]; then
  printf '{\n  // Site overrides laid over appsettings.json (reloaded on change). See docs/operations.md.\n  "FactoryEdge": {\n  }\n}\n' > "$CONF/site.json"
  chown root:"$SERVICE_USER" "$CONF/site.json" && chmod 0640 "$CONF/site.json"
fi

# 5. Data: owned by the service.
install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$DATA" "$DATA/spool"
install -d -m 0700 -o "$SERVICE_USER" -g "$SERVICE_USER" "$DATA/pki"
echo "${FACTORYEDGE_VERSION:-$("$PREFIX/factoryedge" --version 2>/dev/null || echo unknown)}" > "$PREFIX/VERSION"

# 6. Check the configuration as the service would see it (files, environment, credentials), before
#    (re)starting. As root: the credentials folder is root-only; the check writes nothing.
if ! env STATE_DIRECTORY="$DATA" FACTORYEDGE_PKI="$DATA/pki" \
     "$PREFIX/factoryedge" config check "$CONF/appsettings.json" --site "$CONF/site.json" --env --credentials "$CONF/credentials"; then
  echo "install.sh: the configuration in $CONF is invalid (see above); fix it, then: systemctl start factoryedge" >&2
  START=0
fi

# 7. The unit.
install -m 0644 -o root -g root "$HERE/factoryedge.service" "$UNIT_DIR/factoryedge.service"
systemctl daemon-reload
systemctl enable factoryedge >/dev/null
if [ "$START" -eq 1 ]; then
  systemctl start factoryedge
  echo "FactoryEdge $( [ $UPGRADE -eq 1 ] && echo upgraded || echo installed ) and started: systemctl status factoryedge; curl -s http://127.0.0.1:9470/readyz"
else
  echo "FactoryEdge installed, not started."
fi
