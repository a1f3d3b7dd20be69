#!/usr/bin/env bash
# Download every pinned package (and what they need) as wheels into a folder, for offline installs.
#   tools/wheelhouse.sh VENV_PYTHON DIR
# torch and torchvision come from PyTorch's CPU-only index when it answers (much smaller), else from the registry.
set -euo pipefail
VPY=${1:?usage: tools/wheelhouse.sh VENV_PYTHON DIR}
DIR=${2:?usage: tools/wheelhouse.sh VENV_PYTHON DIR}
INDEX=${COURSE_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}
mkdir -p "$DIR"
start=$(date +%s)
pin() { sed -n "s/^$1==\([^ #]*\).*/\1/p" requirements.txt | head -n 1; }
if [ "$INDEX" != none ] && "$VPY" -m pip download --quiet --timeout 5 --retries 0 --index-url "$INDEX" \
     --dest "$DIR" "torch==$(pin torch)" "torchvision==$(pin torchvision)"; then
  echo "torch: CPU-only wheels from $INDEX"
else
  echo "torch: PyTorch's CPU index out of reach; the registry's build goes in (larger)"
fi
"$VPY" -m pip download --quiet --dest "$DIR" --find-links "$DIR" -r requirements.txt
"$VPY" -m pip download --quiet --dest "$DIR" pip setuptools wheel
echo "wheelhouse $DIR: $(ls "$DIR" | wc -l) files, $(du -sh "$DIR" | cut -f1), in $(( $(date +%s) - start )) s"
