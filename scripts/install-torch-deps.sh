#!/usr/bin/env bash
# The PyTorch trainer's dependencies (pytorch/, `make test-torch`): Debian's python3-torch,
# python3-numpy, python3-pil and python3-nbformat (its JSON schema checks the .ipynb files drht
# writes), and a virtual environment pytorch/.venv that sees them and adds
# pytorch/requirements.txt (pinned). As root it runs apt-get itself; otherwise it prints the line.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(python3 python3-venv python3-pip python3-torch python3-numpy python3-pil python3-nbformat)
source "$(dirname "$0")/apt-missing.sh"
apt_missing "the PyTorch trainer" "${packages[@]}"

venv=pytorch/.venv
stamp=$venv/.requirements
if [ ! -x $venv/bin/python ] || ! cmp -s pytorch/requirements.txt "$stamp"; then
  rm -rf $venv
  /usr/bin/python3 -m venv --system-site-packages $venv
  $venv/bin/python -m pip install -q --disable-pip-version-check -r pytorch/requirements.txt
  cp pytorch/requirements.txt "$stamp"
fi
