#!/usr/bin/env bash
# Multi-GPU evaluation with torchrun.
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args...]
# PYTHON selects the interpreter (e.g. .venv/bin/python). Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT in the environment.
set -euo pipefail
CONFIG=${1:?usage: dist_test.sh CONFIG CHECKPOINT GPUS [args...]}
CHECKPOINT=${2:?usage: dist_test.sh CONFIG CHECKPOINT GPUS [args...]}
GPUS=${3:?usage: dist_test.sh CONFIG CHECKPOINT GPUS [args...]}
shift 3
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
    --nproc_per_node="$GPUS" \
    "$ROOT/tools/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
