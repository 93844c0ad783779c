#!/usr/bin/env bash
# Provisions the Modbus test peers on a Debian machine and builds our C peers.
# Idempotent: installs only what is missing, rebuilds only when a source is newer than its binary.
#   - libmodbus-dev + gcc: our libmodbus C server (modbus_server.c) and benchmark client (modbus_bench.c)
#   - mbpoll: Debian's command-line Modbus master, run against our server
#   - python3-pymodbus (+ python3-serial, python3-serial-asyncio, needed to import its server)
#   - socat: a pseudo-terminal pair for the RTU-over-serial test
# Run as root to install; without root it only reports what is missing and builds what it can.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
packages=(libmodbus-dev mbpoll python3-pymodbus python3-serial python3-serial-asyncio gcc socat)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} > 0)); then
  if [[ "$(id -u)" == "0" ]]; then
    echo "modbus peers: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # A fresh machine has no package lists yet: update once, then install.
    if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/modbus-peers-apt.log 2>&1; then
      apt-get update >>/tmp/modbus-peers-apt.log 2>&1
      apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/modbus-peers-apt.log 2>&1 \
        || { echo "modbus peers: apt-get install failed, see /tmp/modbus-peers-apt.log" >&2; exit 1; }
    fi
  else
    echo "modbus peers: missing ${missing[*]} (not root: not installing)" >&2
  fi
fi

build() {
  local src="$here/$1.c" bin="$here/bin/$1"
  if [[ ! -x "$bin" || "$src" -nt "$bin" ]]; then
    mkdir -p "$here/bin"
    local cflags libs
    cflags="$(pkg-config --cflags libmodbus 2>/dev/null || echo -I/usr/include/modbus)"
    libs="$(pkg-config --libs libmodbus 2>/dev/null || echo -lmodbus)"
    # shellcheck disable=SC2086
    gcc -O2 -Wall -Wextra -Werror -std=gnu11 $cflags -o "$bin" "$src" $libs -lm
    echo "modbus peers: built bin/$1"
  fi
}

if [[ -f /usr/include/modbus/modbus.h ]]; then
  build modbus_server
  build modbus_bench
else
  echo "modbus peers: libmodbus-dev not installed, C peers not built" >&2
fi

# Sanity checks that a peer can actually start (pymodbus needs its serial deps to import its server).
if [[ -x /usr/bin/python3 ]] && ! /usr/bin/python3 -c "import pymodbus.server" 2>/dev/null; then
  echo "modbus peers: /usr/bin/python3 cannot import pymodbus.server" >&2
fi
