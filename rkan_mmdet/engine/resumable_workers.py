"""Data-loader workers of an epoch-based run whose random streams a resumed
run reproduces.

Why this exists
---------------
A worker process draws the data pipeline's randomness (flip, resize, colour
jitter) from its own numpy/``random``/torch generators. With MMDetection's
default ``persistent_workers=True`` those generators carry on from one epoch
to the next and die with the process: no checkpoint can hold them, so after a
kill the resumed epoch's workers start from fresh seeds and every later batch
differs. MMEngine's ``worker_init_fn`` seeds each worker with the fixed
``seed + worker_id + rank * num_workers``, so non-persistent workers would
repeat the same draws every epoch instead.

:func:`make_epoch_workers_resumable` (called by ``tools/train.py``) turns
persistence off for the training loader of an epoch-based loop with workers,
and seeds each epoch's workers with :func:`resumable_worker_init_fn`, from
the base seed PyTorch draws from the main process's torch generator when the
epoch's iterator is created. That generator is restored before that moment on
resume (:class:`~rkan_mmdet.engine.RNGStateHook`), so epoch ``e`` of a resumed
run gets the same worker seeds as epoch ``e`` of an uninterrupted one, and
every epoch gets new ones. The cost is starting the workers once per epoch.

Iteration-based loops are left alone: MMEngine replays the trained batches
through the same (persistent or not) workers on resume, which reproduces
their state.
"""
from __future__ import annotations

import random

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dist import get_rank
from mmengine.registry import FUNCTIONS


@FUNCTIONS.register_module()
def resumable_worker_init_fn(worker_id: int, seed: int = 0) -> None:
    """Seed numpy, ``random`` and torch of worker ``worker_id`` from
    ``(base_seed, worker_id, rank, seed)``, where ``base_seed`` is the seed
    PyTorch drew for this data iterator (``torch.initial_seed()`` of a worker
    is ``base_seed + worker_id``)."""
    base_seed = torch.initial_seed() - worker_id
    entropy = [base_seed, worker_id, get_rank(), int(seed or 0)]
    worker_seed = int(np.random.SeedSequence(entropy).generate_state(1)[0])
    np.random.seed(worker_seed)
    random.seed(worker_seed)
    torch.manual_seed(worker_seed)


def _is_iteration_based(train_cfg: dict) -> bool:
    loop = train_cfg.get('type')
    name = loop if isinstance(loop, str) else getattr(loop, '__name__', '')
    return 'IterBased' in name or (loop is None and train_cfg.get('by_epoch') is False)


def make_epoch_workers_resumable(cfg: Config) -> None:
    """Set ``train_dataloader.persistent_workers=False`` and a
    :func:`resumable_worker_init_fn` (unless the config sets its own
    ``worker_init_fn``) when an epoch-based run loads data in workers."""
    loader, train_cfg = cfg.get('train_dataloader'), cfg.get('train_cfg')
    if not isinstance(loader, dict) or not isinstance(train_cfg, dict):
        return
    workers = loader.get('num_workers', 0)
    if _is_iteration_based(train_cfg) or not isinstance(workers, int) or workers <= 0:
        return
    loader.persistent_workers = False
    if 'worker_init_fn' not in loader:
        seed = (cfg.get('randomness') or {}).get('seed')
        loader.worker_init_fn = dict(type='resumable_worker_init_fn', seed=seed)
