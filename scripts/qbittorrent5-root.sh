#!/usr/bin/env bash
# Builds the Debian 13 (trixie) root that the tests run qBittorrent 5.x from: NixOS 26.05 ships
# qBittorrent 5.x, Debian 12 has 4.5.2, and trixie's qbittorrent-nox runs here under chroot (a
# chroot shares the network namespace, so the WebUI answers on the host's loopback).
#
#   bash scripts/qbittorrent5-root.sh [DIR]
#
# DIR defaults to $QBT5_ROOT, or /var/cache/media-pipeline/qbittorrent5-root. Nothing is done when
# DIR/usr/bin/qbittorrent-nox exists. The Debian mirror is the one apt uses on this machine (read
# from /etc/apt/sources.list and /etc/apt/sources.list.d/). Needs root and debootstrap.
set -euo pipefail

dir=${1:-${QBT5_ROOT:-/var/cache/media-pipeline/qbittorrent5-root}}
suite=trixie

if [ -x "$dir/usr/bin/qbittorrent-nox" ]; then
  echo "qBittorrent 5 root: $dir (already built)"
  chroot "$dir" qbittorrent-nox --version
  exit 0
fi

# The first main-archive URI apt is configured with: an entry whose suites include a plain codename
# (not -security, -updates or -backports). Both the deb822 (*.sources) and one-line (*.list) formats.
mirror=$(
  shopt -s nullglob
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                       if ($(i + 1) !~ /-/) print $i }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    awk 'function flush() { if (types ~ /(^| )deb( |$)/ && enabled != "no" && suites ~ /(^| )[a-z]+( |$)/) { split(uris, u, " "); print u[1] }
                            types = uris = suites = enabled = "" }
         /^[ \t]*$/ { flush(); next }
         /^#/ { next }
         tolower($1) == "types:" { $1 = ""; types = $0 }
         tolower($1) == "uris:" { $1 = ""; uris = $0 }
         tolower($1) == "suites:" { $1 = ""; suites = $0 }
         tolower($1) == "enabled:" { enabled = tolower($2) }
         END { flush() }' "$f"
  done | sed 's/^ *//' | head -n 1
)
if [ -z "$mirror" ]; then
  echo "no Debian mirror found in apt's sources (/etc/apt/sources.list, /etc/apt/sources.list.d/)" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "debootstrap is not installed: apt-get install debootstrap" >&2; exit 1; }

# Built beside DIR and renamed when complete, so an interrupted run never leaves a DIR that looks done.
partial="$dir.partial"
if [ -e "$partial" ]; then
  if grep -q " $(realpath "$partial")/" /proc/self/mounts; then
    echo "$partial has file systems mounted under it (an interrupted run?); unmount them first" >&2
    exit 1
  fi
  rm -rf "$partial"
fi
mkdir -p "$(dirname "$dir")"

start=$SECONDS
echo "debootstrap --variant=minbase $suite $partial $mirror"
debootstrap --variant=minbase "$suite" "$partial" "$mirror"
echo "Installing qbittorrent-nox in $partial"
chroot "$partial" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends qbittorrent-nox >/dev/null
chroot "$partial" apt-get clean
mv "$partial" "$dir"
echo "qBittorrent 5 root: $dir (built in $((SECONDS - start))s)"
chroot "$dir" qbittorrent-nox --version
