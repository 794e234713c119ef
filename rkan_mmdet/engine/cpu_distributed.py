"""``--launcher pytorch`` (torchrun) on machines without a GPU.

Why this exists
---------------
mmengine 0.10.7's pytorch launcher calls ``torch.cuda.set_device(LOCAL_RANK)``
before ``init_process_group`` ("Found no NVIDIA driver"), and ``Runner``
wraps the model in ``MMDistributedDataParallel(device_ids=[LOCAL_RANK])``,
which DDP rejects for a CPU module. :func:`prepare_cpu_distributed` is called
by the tools before the Runner is built: it initialises the process group
itself (gloo; NCCL needs GPUs), so the Runner skips its own ``init_dist``, and
sets a ``model_wrapper_cfg`` with ``device_ids=None`` (same
``broadcast_buffers=False`` and ``find_unused_parameters`` as mmengine's
default wrapping). With a GPU, or another launcher, it does nothing.
"""
from __future__ import annotations

import torch
import torch.distributed as dist
from mmengine.config import Config


def prepare_cpu_distributed(cfg: Config) -> bool:
    """Init gloo + a CPU DDP wrapper for ``cfg.launcher == 'pytorch'`` without
    CUDA; True when it did."""
    if cfg.get('launcher') != 'pytorch' or torch.cuda.is_available():
        return False
    if not dist.is_initialized():
        backend = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('backend', 'gloo')
        dist.init_process_group(backend='gloo' if backend == 'nccl' else backend)
    if not cfg.get('model_wrapper_cfg'):
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel', broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg.setdefault('device_ids', None)  # else Runner adds [LOCAL_RANK]
    return True
