#!/usr/bin/env bash
# The Jupyter kernel's dependencies, all from Debian 12 so they are tested together and need no
# PyPI: python3-ipykernel (6.17, the wrapper-kernel base class), python3-jupyter-client and
# jupyter-client (7.4: starts and talks to kernels; `jupyter kernelspec`), python3-nbclient and python3-nbformat (run and check notebooks
# in the tests); with --notebook (`make jupyter`) also jupyter-notebook (6.4, `jupyter
# notebook`; JupyterLab is not packaged in Debian 12: see docs/JUPYTER.md). As root it runs
# apt-get itself; otherwise it prints the line.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(python3 python3-ipykernel python3-jupyter-client jupyter-client python3-nbclient python3-nbformat jupyter-core)
if [ "${1:-}" = "--notebook" ]; then packages+=(jupyter-notebook); fi
source "$(dirname "$0")/apt-missing.sh"
apt_missing "the Jupyter kernel" "${packages[@]}"
