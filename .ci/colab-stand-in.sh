#!/usr/bin/env bash
# Colab's Python, stood in on this machine: Debian's own /usr/bin/python3 (a Debian-family build, as Colab's Ubuntu
# one: sys.prefix is /usr but pip installs into /usr/local), as root, with exactly the versions Colab preinstalls
# (constraints/colab.txt: TensorFlow, Keras, NumPy, its Jupyter stack). tests/test_colab_runtime.py installs the kit
# there with the notebooks' own install cell and runs 02, 05 and the PDF. Idempotent: pip keeps what is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
python=/usr/bin/python3
if ! "$python" -m pip --version >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
fi
# Colab's Python carries no EXTERNALLY-MANAGED marker; Debian's does, hence the variable (as on Colab, pip as root).
grep -v '^#' constraints/colab.txt | PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore \
  "$python" -m pip install -q --only-binary=:all: -r /dev/stdin
