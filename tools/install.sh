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
# 4. mmengine / mmdet / mmpretrain / pycocotools / test tools, pinned.
# 5. this package, editable, with its C++ CPU kernel built against this torch
#    (--no-build-isolation: the build imports torch).
# A stamp of the inputs of this script lets a second run exit in seconds.
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

inputs_hash() {
  cat tools/install.sh setup.py requirements/*.txt rkan_mmdet/csrc/* | sha256sum | cut -d' ' -f1
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(inputs_hash)" ] \
   && "$PY" -c "import mmcv.ops, mmdet, mmpretrain, rkan_mmdet, rkan_mmdet._poly_kan_conv" 2>/dev/null; then
  log "environment is up to date ($VENV)"
  exit 0
fi

if [ ! -x "$PY" ]; then
  log "creating $VENV"
  "$PY_BOOT" -m venv "$VENV"
fi
PIP=("$PY" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip 'setuptools<81' wheel ninja

log "torch: $TORCH_PIN $TORCHVISION_PIN"
"${PIP[@]}" install -q "$TORCH_PIN" "$TORCHVISION_PIN"

# The wheel's file name does not say which torch/CUDA it was built against, so
# the cache is keyed by both: a different torch or a CUDA machine builds anew.
TORCH_KEY="$("$PY" -c 'import torch; print(torch.__version__.replace("+", "_") + ("_cuda" if torch.cuda.is_available() else "_cpu"))')"
WHEEL_DIR="$CACHE/mmcv-$MMCV_VERSION-torch$TORCH_KEY"
if ! ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
  log "building mmcv $MMCV_VERSION with ops (one time, ~15 min on 2 cores) into $WHEEL_DIR"
  BUILD="$(mktemp -d)"
  trap 'rm -rf "$BUILD"' EXIT
  "${PIP[@]}" download -q --no-deps --no-binary mmcv --no-build-isolation \
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
"${PIP[@]}" install -q --no-deps "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl
# mmcv's own runtime deps (installed without --no-deps resolution above).
"${PIP[@]}" install -q addict packaging Pillow pyyaml yapf

log "OpenMMLab stack and test tools"
"${PIP[@]}" install -q -r requirements/runtime.txt -r requirements/tests.txt \
  "$TORCH_PIN" "$TORCHVISION_PIN" "mmcv==$MMCV_VERSION" \
  --find-links "$WHEEL_DIR"
log "rkan_mmdet (editable) and its fused CPU kernel"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e .

"$PY" -c "import mmcv.ops, mmdet, mmpretrain, rkan_mmdet, rkan_mmdet._poly_kan_conv; print('[install] ok: mmcv', mmcv.__version__, 'mmdet', mmdet.__version__, 'mmpretrain', mmpretrain.__version__)"
inputs_hash > "$STAMP"
