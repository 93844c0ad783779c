#!/usr/bin/env bash
# Builds the FactoryEdge .deb packages (linux-x64 → amd64, linux-arm64 → arm64) with dpkg-deb, and
# SHA256SUMS beside them.
#
#   installer/linux/build-deb.sh [--version 1.2.3] [--arch amd64] [--arch arm64] [--out dist]
#                                [--publish-dir DIR]   (use an already published folder; one --arch)
#                                [--fast]              (gzip -1 instead of xz: for tests)
#
# The gateway is published self-contained (it carries its .NET runtime: Debian ships none, plant PCs
# are often offline). Package layout: /opt/factoryedge (code, root-owned), /lib/systemd/system/
# factoryedge.service, /etc/factoryedge/appsettings.json (a conffile: local edits survive upgrades),
# maintainer scripts that create the 'factoryedge' user and directories, back up and migrate the
# telemetry spool on upgrade, check the configuration, and enable/start the service. Removing keeps
# /etc/factoryedge and /var/lib/factoryedge; purging deletes them and the user.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VERSION=""
ARCHES=()
OUT="$REPO/dist"
PUBLISH_DIR=""
COMPRESSION=(-Zxz)

while [ $# -gt 0 ]; do
  case "$1" in
    --version) VERSION="$2"; shift 2 ;;
    --arch) ARCHES+=("$2"); shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --publish-dir) PUBLISH_DIR="$2"; shift 2 ;;
    --fast) COMPRESSION=(-Zgzip -z1); shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "build-deb.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

command -v dpkg-deb >/dev/null || { echo "build-deb.sh: dpkg-deb not found (apt-get install dpkg)" >&2; exit 1; }
[ ${#ARCHES[@]} -gt 0 ] || ARCHES=(amd64 arm64)
if [ -n "$PUBLISH_DIR" ] && [ ${#ARCHES[@]} -ne 1 ]; then
  echo "build-deb.sh: --publish-dir takes exactly one --arch" >&2; exit 2
fi
if [ -z "$VERSION" ]; then
  VERSION="$(git -C "$REPO" describe --tags --always 2>/dev/null | sed 's/^v//; s/-/+/g' || true)"
  [[ "$VERSION" =~ ^[0-9] ]] || VERSION="0.1.0+${VERSION:-local}"
fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

rid_of() { case "$1" in amd64) echo linux-x64 ;; arm64) echo linux-arm64 ;; *) echo "build-deb.sh: unsupported arch $1" >&2; exit 2 ;; esac; }

build_one() {
  local arch="$1" rid stage pkg
  rid="$(rid_of "$arch")"
  stage="$(mktemp -d)"
  trap 'rm -rf "$stage"' RETURN
  chmod 0755 "$stage"
  mkdir -p "$stage/DEBIAN" "$stage/opt/factoryedge/docs" "$stage/lib/systemd/system" "$stage/etc/factoryedge" "$stage/usr/share/doc/factoryedge"

  if [ -n "$PUBLISH_DIR" ]; then
    cp -a "$PUBLISH_DIR/." "$stage/opt/factoryedge/"
  else
    echo "Publishing $rid (self-contained, Release)..."
    dotnet publish "$REPO/src/FactoryEdge.Gateway/FactoryEdge.Gateway.csproj" -c Release -r "$rid" --self-contained true \
      -p:DebugType=none -o "$stage/opt/factoryedge" >/dev/null
  fi
  # Native libraries of other platforms are dead weight.
  if [ -d "$stage/opt/factoryedge/runtimes" ]; then
    find "$stage/opt/factoryedge/runtimes" -mindepth 1 -maxdepth 1 -type d ! -name "$rid" -exec rm -rf {} +
  fi
  cp "$REPO"/docs/*.md "$stage/opt/factoryedge/docs/"
  echo "$VERSION" > "$stage/opt/factoryedge/VERSION"
  install -m 0644 "$HERE/factoryedge.service" "$stage/lib/systemd/system/factoryedge.service"
  install -m 0640 "$REPO/config/appsettings.json" "$stage/etc/factoryedge/appsettings.json"
  printf 'FactoryEdge %s\nSee /opt/factoryedge/docs/operations.md\n' "$VERSION" > "$stage/usr/share/doc/factoryedge/README"
  chmod -R u=rwX,go=rX "$stage/opt/factoryedge" && chmod 0755 "$stage/opt/factoryedge/factoryedge"
  chmod 0640 "$stage/etc/factoryedge/appsettings.json"

  cat > "$stage/DEBIAN/control" <<CONTROL
Package: factoryedge
Version: $VERSION
Architecture: $arch
Maintainer: FactoryEdge <factoryedge@localhost>
Section: misc
Priority: optional
Depends: libc6 (>= 2.31), libssl3 | libssl1.1, ca-certificates, passwd, systemd
Installed-Size: $(du -sk "$stage" | cut -f1)
Description: FactoryEdge predictive-maintenance gateway
 Acquires vibration from OPC UA and Modbus sensors, computes spectral and ISO 20816
 features, scores windows for anomalies and raises alerts. Runs as the systemd service
 'factoryedge' (Type=notify with watchdog) under its own unprivileged user; health and
 metrics on http://127.0.0.1:9470 (/healthz, /readyz, /metrics).
CONTROL
  echo "/etc/factoryedge/appsettings.json" > "$stage/DEBIAN/conffiles"
  install -m 0755 "$HERE/debian/preinst" "$HERE/debian/postinst" "$HERE/debian/prerm" "$HERE/debian/postrm" "$stage/DEBIAN/"

  pkg="$OUT/factoryedge_${VERSION}_${arch}.deb"
  find "$stage" -type d -exec chmod 0755 {} +
  dpkg-deb --root-owner-group "${COMPRESSION[@]}" --build "$stage" "$pkg" >/dev/null
  echo "$pkg"
}

for arch in "${ARCHES[@]}"; do
  build_one "$arch"
done

( cd "$OUT" && sha256sum factoryedge_*.deb > SHA256SUMS )
echo "$OUT/SHA256SUMS"
