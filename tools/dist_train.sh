#!/usr/bin/env bash
# Multi-GPU training on one or more nodes with torchrun.
#   bash tools/dist_train.sh CONFIG GPUS [train.py args...]
#   e.g. bash tools/dist_train.sh configs/mask_rcnn_rkanet50_1x_coco.py 2   (2 x 4 = batch 8)
# PYTHON selects the interpreter (e.g. .venv/bin/python). Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT in the environment.
set -euo pipefail
CONFIG=${1:?usage: dist_train.sh CONFIG GPUS [args...]}
GPUS=${2:?usage: dist_train.sh CONFIG GPUS [args...]}
shift 2
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
    --nproc_per_node="$GPUS" \
    "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "$@"
