#!/usr/bin/env bash
# Idempotent set-up of the project-local environment `.venv/`.
#
#   bash tools/install.sh        (or: make install)
#
# 1. python -m venv .venv
# 2. torch 2.14.1 + torchvision 0.29.1
# 3. mmcv 2.1.0 with ops, built from source ONCE and cached as a wheel in
#    $RKAN_WHEEL_CACHE (default: ~/.cache/rkan_mmdet/wheels). The build needs
#    --no-build-isolation, setuptools<81 (setup.py imports pkg_resources) and
#    -std=c++20 (torch 2.14 headers), which we patch into mmcv's setup.py.
# 4. mmcv from that wheel, mmengine / mmdet / mmpretrain / pycocotools / test
#    tools, pinned, in ONE pip resolve (installing mmcv alone first made pip
#    print a dependency-conflict ERROR: its mmengine was not there yet).
# 5. this package, editable, with its C++ CPU kernels built against this torch
#    (--no-build-isolation: the build imports torch).
# Each phase prints the time it took. A stamp of the inputs of this script
# lets a second run exit in seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY_BOOT="${PYTHON:-python3}"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
CACHE="${RKAN_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rkan_mmdet/wheels}"
TORCH_PIN="torch==2.14.1"
TORCHVISION_PIN="torchvision==0.29.1"
MMCV_VERSION="2.1.0"
STAMP="$VENV/.rkan_install_stamp"
log() { printf '[install] %s\n' "$*"; }
IMPORTS="import mmcv.ops, mmdet, mmpretrain, rkan_mmdet, rkan_mmdet._poly_kan_conv, rkan_mmdet._roi_align_cpu"

# phase NAME: end the running phase (print its time), start NAME.
START=$(date +%s); PHASE=""; PHASE_START=$START; SUMMARY=""
phase() {
  local now; now=$(date +%s)
  if [ -n "$PHASE" ]; then
    log "  $PHASE: $((now - PHASE_START)) s"
    SUMMARY="$SUMMARY${SUMMARY:+, }$PHASE $((now - PHASE_START)) s"
  fi
  PHASE="$1"; PHASE_START=$now
  if [ -n "$PHASE" ]; then log "$PHASE ..."; fi
}

# pip, minus one known line of noise: this kind of machine's pip.conf lists
# extra index folders that do not exist, and pip warns once per package.
# The exit status stays pip's (pipefail).
pip_() {
  "${PIP[@]}" "$@" 2>&1 | { grep -v "^WARNING: Location '.*' is ignored: it is neither a file nor a directory\.$" || true; }
}
# setuptools' banner on every editable install (harmless, not actionable)
export PYTHONWARNINGS="ignore:Editable installation"

inputs_hash() {
  cat tools/install.sh setup.py requirements/*.txt rkan_mmdet/csrc/* | sha256sum | cut -d' ' -f1
}

# Up to date: same inputs, and the packages and compiled extensions are still
# there. Found without importing them (that takes ~7 s, on every make demo);
# a real install ends with the full import check below.
installed() {
  "$PY" - 2>/dev/null <<'EOF'
import glob, importlib.util, os, sys
names = ('torch', 'mmcv', 'mmengine', 'mmdet', 'mmpretrain', 'rkan_mmdet')
specs = dict(zip(names, map(importlib.util.find_spec, names)))
if None in specs.values():
    sys.exit(1)
exts = [('mmcv', '_ext'), ('rkan_mmdet', '_poly_kan_conv'), ('rkan_mmdet', '_roi_align_cpu')]
sys.exit(not all(glob.glob(os.path.join(specs[pkg].submodule_search_locations[0], f'{ext}.*.so'))
                 for pkg, ext in exts))
EOF
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(inputs_hash)" ] && installed; then
  log "environment is up to date ($VENV)"
  exit 0
fi

phase "virtual environment $VENV"
if [ ! -x "$PY" ]; then
  "$PY_BOOT" -m venv "$VENV"
fi
PIP=("$PY" -m pip --disable-pip-version-check)
pip_ install -q --upgrade pip 'setuptools<81' wheel ninja

phase "torch: $TORCH_PIN $TORCHVISION_PIN"
pip_ install -q "$TORCH_PIN" "$TORCHVISION_PIN"

# The wheel's file name does not say which torch/CUDA it was built against, so
# the cache is keyed by both: a different torch or a CUDA machine builds anew.
TORCH_KEY="$("$PY" -c 'import torch; print(torch.__version__.replace("+", "_") + ("_cuda" if torch.cuda.is_available() else "_cpu"))')"
WHEEL_DIR="$CACHE/mmcv-$MMCV_VERSION-torch$TORCH_KEY"
phase "mmcv $MMCV_VERSION wheel with ops"
if ! ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
  log "building it (one time, ~15 min on 2 cores) into $WHEEL_DIR"
  BUILD="$(mktemp -d)"
  trap 'rm -rf "$BUILD"' EXIT
  pip_ download -q --no-deps --no-binary mmcv --no-build-isolation \
      "mmcv==$MMCV_VERSION" -d "$BUILD"
  tar -xzf "$BUILD/mmcv-$MMCV_VERSION.tar.gz" -C "$BUILD"
  SRC="$BUILD/mmcv-$MMCV_VERSION"
  # torch 2.14's headers use C++20 features; mmcv hard-codes c++14/c++17.
  sed -i -E 's/-std=c\+\+1[47]/-std=c++20/g' "$SRC/setup.py"
  grep -q 'c++20' "$SRC/setup.py" || { echo "mmcv setup.py patch failed" >&2; exit 1; }
  mkdir -p "$WHEEL_DIR"
  MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    "${PIP[@]}" wheel -v --no-build-isolation --no-deps "$SRC" -w "$BUILD/out" \
    > "$BUILD/build.log" 2>&1 || { tail -50 "$BUILD/build.log" >&2; exit 1; }
  # Move atomically so an interrupted build never leaves a half wheel in cache.
  cp "$BUILD"/out/mmcv-*.whl "$WHEEL_DIR/.tmp.whl"
  mv "$WHEEL_DIR/.tmp.whl" "$WHEEL_DIR/$(basename "$BUILD"/out/mmcv-*.whl)"
else
  log "using cached mmcv wheel from $WHEEL_DIR"
fi

# mmcv from the cached wheel only (--only-binary: never the index's sdist),
# resolved together with mmengine and the rest, so its dependencies are met.
phase "mmcv from the wheel, OpenMMLab stack and test tools"
pip_ install -q -r requirements/runtime.txt -r requirements/tests.txt \
  "$TORCH_PIN" "$TORCHVISION_PIN" "mmcv==$MMCV_VERSION" \
  --find-links "$WHEEL_DIR" --only-binary mmcv

phase "rkan_mmdet (editable) and its C++ CPU kernels"
pip_ install -q --no-deps --no-build-isolation -e .

phase "import check"
"$PY" -c "$IMPORTS; print('[install] ok: mmcv', mmcv.__version__, 'mmdet', mmdet.__version__, 'mmpretrain', mmpretrain.__version__)"
inputs_hash > "$STAMP"
phase ""
log "done in $(( $(date +%s) - START )) s ($SUMMARY)"
