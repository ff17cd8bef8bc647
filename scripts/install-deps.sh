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

source "$(dirname "${BASH_SOURCE[0]}")/apt-missing.sh"
apt_missing "drht" "${packages[@]}"

if ! command -v swift >/dev/null 2>&1; then
  echo "drht needs Swift 6 (swift.org/install); 'swift' is not on PATH."
  exit 1
fi
