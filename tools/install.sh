#!/usr/bin/env bash
# Create or update the course's virtual environment. Called by `make` (lab, test, bench, ...).
#
#   tools/install.sh PYTHON VENV
#
# Where the packages come from, in this order:
#   1. a wheelhouse (folder of wheels made by `make wheelhouse`, e.g. copied from a USB stick):
#      $COURSE_WHEELHOUSE, or ./wheelhouse if it holds wheels. Installs with no network at all.
#   2. otherwise the package registry; torch and torchvision are first tried from PyTorch's CPU-only
#      wheel index ($COURSE_TORCH_INDEX; "none" skips it), with a 5 s timeout and no retries, so a
#      machine that cannot reach it falls back at once to the registry's (larger, CUDA) build.
# For tests: COURSE_REQUIREMENTS (default requirements.txt) and COURSE_PACKAGES_ONLY=1 (skip the
# editable install of course_lib, the kernel and the JupyterLab settings).
set -euo pipefail
PY=${1:?usage: tools/install.sh PYTHON VENV}
VENV=${2:?usage: tools/install.sh PYTHON VENV}
VPY="$VENV/bin/python"
REQ=${COURSE_REQUIREMENTS:-requirements.txt}
INDEX=${COURSE_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}
export PIP_DISABLE_PIP_VERSION_CHECK=1

"$PY" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else "Python 3.11 or newer is needed, found " + sys.version.split()[0])'
test -x "$VPY" || "$PY" -m venv "$VENV"

pin() { sed -n "s/^$1==\([^ #]*\).*/\1/p" "$REQ" | head -n 1; }

cpu_torch() {
  # Try PyTorch's CPU-only wheels; succeed or return 1 quickly.
  local torch_v vision_v
  torch_v=$(pin torch); vision_v=$(pin torchvision)
  [ -n "$torch_v" ] || return 1
  [ "$INDEX" = none ] && return 1
  if "$VPY" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '$torch_v' else 1)" 2>/dev/null; then
    return 0  # already installed (whichever build)
  fi
  echo "Trying PyTorch's CPU-only wheels ($INDEX) ..."
  if "$VPY" -m pip install --quiet --timeout 5 --retries 0 --index-url "$INDEX" \
      "torch==$torch_v" ${vision_v:+"torchvision==$vision_v"}; then
    echo "Installed the CPU-only torch $torch_v."
    return 0
  fi
  echo "PyTorch's CPU index is out of reach: installing the registry's build instead (larger, with CUDA libraries; runs on the CPU all the same)."
  return 1
}

if [ "${COURSE_INSTALL_STEP:-}" = cpu-torch ]; then  # for the tests: only the CPU-index attempt
  cpu_torch
  exit $?
fi

WH=${COURSE_WHEELHOUSE:-wheelhouse}
if [ -d "$WH" ] && compgen -G "$WH/*.whl" >/dev/null; then
  echo "Installing from the wheelhouse $WH (no network)."
  "$VPY" -m pip install --quiet --no-index --find-links "$WH" -r "$REQ"
else
  "$VPY" -m pip install --quiet --upgrade pip
  cpu_torch || true
  "$VPY" -m pip install --quiet -r "$REQ"
fi

if [ "${COURSE_PACKAGES_ONLY:-0}" != 1 ]; then
  "$VPY" -m pip install --quiet --no-deps --no-build-isolation -e .
  "$VPY" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
  mkdir -p "$VENV/share/jupyter/lab/settings"
  cp tools/jupyterlab-overrides.json "$VENV/share/jupyter/lab/settings/overrides.json"
fi
