#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages drht builds against, if any are missing.
# As root it runs apt-get itself; otherwise it prints the exact command and stops.
set -euo pipefail

# libjpeg-turbo's headers are libjpeg62-turbo-dev on Debian, libjpeg-turbo8-dev on Ubuntu.
jpeg=libjpeg62-turbo-dev
if ! apt-cache show "$jpeg" >/dev/null 2>&1 && apt-cache show libjpeg-turbo8-dev >/dev/null 2>&1; then
  jpeg=libjpeg-turbo8-dev
fi
packages=(pkg-config libopenblas-dev libpng-dev "$jpeg" libreadline-dev)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done

if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then
    echo "drht: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "drht needs these packages; run:"
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "drht needs Swift 6 (swift.org/install); 'swift' is not on PATH."
  exit 1
fi
