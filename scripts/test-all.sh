#!/usr/bin/env bash
# Runs every test, after installing what the tests need: the real tools from Debian's packages
# (only the missing ones), the Debian 13 root that qBittorrent 5.1 runs from (built once) and the
# npm packages from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(nix-bin nginx-light rclone unar qbittorrent-nox mktorrent chromium systemd diffutils debootstrap fuse3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

bash scripts/qbittorrent5-root.sh
npm ci --no-audit --no-fund
npx tsc --noEmit
npx vitest run "$@"
