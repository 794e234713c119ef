"""Save the torch random state in checkpoints so ``--resume`` is bit-exact.

Why this exists
---------------
MMEngine's resume restores weights, optimizer, schedulers, message hub and the
iteration count; ``IterBasedTrainLoop`` then re-reads the skipped batches so
the sampler (``InfiniteSampler``/``DefaultSampler``, seeded once) and the data
pipeline's *numpy*/``random`` draws replay exactly (in the main process with
``num_workers=0``, in workers seeded by ``worker_init_fn`` otherwise). The
*torch* global generator is not restored, and the model draws from it every
iteration (mmdet's RPN and RoI ``RandomSampler`` call ``torch.randperm``), so
the first resumed iteration samples different RoIs than an uninterrupted run.

:class:`RNGStateHook` stores ``torch.get_rng_state()`` (and the CUDA states
when present) in every checkpoint and puts it back just before the first
resumed iteration runs, *after* the skipped batches were re-read; numpy and
``random`` are deliberately left alone, since the replay already restores
them and overwriting would desynchronise the ``num_workers=0`` pipeline.
With ``randomness.diff_rank_seed=True`` ranks draw different streams and
the checkpoint holds only rank 0's, so the state is not restored there.
"""
from __future__ import annotations

from typing import Optional

import torch
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Checkpoint key ``rng_state``: ``{'torch': ByteTensor, 'cuda': [ByteTensor]}``."""

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None
        self._resume_iter = -1

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = {'torch': torch.get_rng_state()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        diff_rank = runner.cfg.get('randomness', {}).get('diff_rank_seed', False)
        if 'rng_state' in checkpoint and not (diff_rank and get_world_size() > 1):
            self._pending = checkpoint['rng_state']
            self._resume_iter = checkpoint.get('meta', {}).get('iter', -1)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        """Restore only on a resume (``load_from`` starts at iteration 0)."""
        if self._pending is not None and runner.iter == self._resume_iter:
            torch.set_rng_state(self._pending['torch'])
            if 'cuda' in self._pending and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(self._pending['cuda'])
        self._pending = None
