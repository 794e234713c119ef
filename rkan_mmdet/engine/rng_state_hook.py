"""Save every global random state in checkpoints and put it back at the exact
point of a resumed run where the uninterrupted run would have it, so that
``--resume`` continues bit-exactly.

Why this exists
---------------
MMEngine's resume restores weights, optimizer, schedulers, message hub and the
counters, but no random state. Three global generators drive training:
``torch`` (mmdet's RPN/RoI ``RandomSampler`` call ``torch.randperm``; every
``iter(DataLoader)`` draws its workers' base seed from it), ``numpy`` and
``random`` (the data pipeline in the main process when ``num_workers=0``;
mmpretrain's batch mixing inside ``train_step``).

:class:`RNGStateHook` stores the three (plus the CUDA states) of *every rank*
in each checkpoint (key ``rng_state``; the kill-safe ``CheckpointHook``
gathers them from all ranks right before it saves) and restores them at the
moment that corresponds to the save:

* a checkpoint is saved at the end of an iteration (``after_train_iter``) or
  of an epoch (``after_train_epoch``); in an uninterrupted run the next draws
  come from the next epoch's ``iter(DataLoader)`` (epoch loop) or the next
  batch's pipeline (iteration loop);
* epoch loop (``EpochBasedTrainLoop`` and any loop that is not iteration
  based): restored in the first ``before_train_epoch`` after the resume,
  before the epoch's data iterator is created;
* ``IterBasedTrainLoop``: MMEngine re-reads the ``iter`` trained batches to
  advance the sampler and the workers; the states are restored just before
  the first batch that was not trained yet is fetched (the loop's data
  iterator is wrapped for that), so the replay's draws are discarded;
* validation inside training draws too (its data iterator, its workers'
  seed) and a resumed run does not repeat the validation that followed the
  checkpoint: the hook saves the states in ``before_val`` and puts them back
  in ``after_val``, so validation never changes the training stream.

Restoring is skipped (with a warning) when the checkpoint was written by a
different number of ranks, or when the epoch loop resumes from a checkpoint
saved mid-epoch (MMEngine's epoch loop retrains that whole epoch, which no
random state can make exact). Data workers have state of their own: see
:mod:`.resumable_workers`. The hook's priority is ``HIGHEST`` so that its
``before_*`` methods run before any other hook can draw.
"""
from __future__ import annotations

import logging
import random
from typing import Any, Callable, Dict, Iterator, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS
from mmengine.runner import IterBasedTrainLoop

from rkan_mmdet.checkpoint_safety.checkpoint_errors import MalformedFieldError

State = Dict[str, Any]


def capture_rng_state() -> State:
    """The torch, CUDA, numpy and ``random`` states as tensors and Python
    scalars (so that weights-only loading reads them back):
    ``{'torch': ByteTensor, 'cuda': [ByteTensor], 'numpy': {'keys': int64[624],
    'pos', 'has_gauss', 'gauss'}, 'random': {'version', 'internal': int64[625],
    'gauss'}}``."""
    _, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, py_gauss = random.getstate()
    state = {
        'torch': torch.get_rng_state(),
        'numpy': {'keys': torch.from_numpy(keys.astype(np.int64)), 'pos': int(pos),
                  'has_gauss': int(has_gauss), 'gauss': float(gauss)},
        'random': {'version': version, 'internal': torch.tensor(internal),
                   'gauss': py_gauss},
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: State) -> None:
    """Inverse of :func:`capture_rng_state`."""
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])
    numpy = state['numpy']
    np.random.set_state(('MT19937', numpy['keys'].numpy().astype(np.uint32),
                         numpy['pos'], numpy['has_gauss'], numpy['gauss']))
    py = state['random']
    random.setstate((py['version'], tuple(py['internal'].tolist()), py['gauss']))


def check_rng_states(ranks: Any) -> None:
    """Refuse saved ``ranks`` states that :func:`restore_rng_state` cannot
    apply: each is tried (the current states are put back after).

    Raises:
        MalformedFieldError: naming ``rng_state['ranks'][i]``.
    """
    if not isinstance(ranks, list) or not ranks:
        raise MalformedFieldError("rng_state['ranks']", 'is not a list of states')
    current = capture_rng_state()
    try:
        for i, state in enumerate(ranks):
            try:
                restore_rng_state(state)
            except (RuntimeError, TypeError, KeyError, IndexError, ValueError,
                    AttributeError, OverflowError) as err:
                raise MalformedFieldError(
                    f"rng_state['ranks'][{i}]", f'is not a random state '
                    f'({type(err).__name__}: {" ".join(str(err).split())[:150]})'
                ) from None
    finally:
        restore_rng_state(current)


class _RestoreBeforeBatch:
    """Iterator proxy: after ``skip`` batches, call ``restore`` once, then
    fetch the next batch; batches pass through unchanged."""

    def __init__(self, iterator: Iterator, skip: int, restore: Callable[[], None]) -> None:
        self._iterator, self._skip, self._restore = iterator, skip, restore

    def __iter__(self) -> '_RestoreBeforeBatch':
        return self

    def __next__(self) -> Any:
        if self._skip == 0:
            self._restore()
        self._skip -= 1
        return next(self._iterator)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Checkpoint key ``rng_state``: ``{'ranks': [state of rank 0, 1, ...]}``
    with states as :func:`capture_rng_state` returns them (one state when a
    multi-rank save was not gathered)."""

    priority = 'HIGHEST'

    def __init__(self) -> None:
        self._pending: Optional[State] = None
        self._resume_iter = -1
        self._val_stash: Optional[State] = None
        self._gathered: Optional[List[State]] = None

    def gather_rank_states(self) -> None:
        """Collective, called by every rank just before a checkpoint is saved
        (``KillSafeCheckpointHook`` does): ``Runner.save_checkpoint`` is
        ``master_only``, so :meth:`before_save_checkpoint` runs on rank 0
        alone and cannot gather by itself."""
        if get_world_size() > 1:
            self._gathered = all_gather_object(capture_rng_state())

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Rank 0: all ranks' states when they were gathered for this save,
        else its own (a multi-rank resume then skips restoring)."""
        ranks, self._gathered = self._gathered, None
        checkpoint['rng_state'] = {'ranks': ranks or [capture_rng_state()]}

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False) or 'rng_state' not in checkpoint:
            return  # load_from (weights only) or a checkpoint without states
        ranks = checkpoint['rng_state'].get('ranks') if isinstance(
            checkpoint['rng_state'], dict) else None
        check_rng_states(ranks)
        if len(ranks) != get_world_size():
            print_log(f'{len(ranks)} ranks saved this checkpoint, {get_world_size()} '
                      'resume it: random states are not restored, so the resumed '
                      'run is not bit-exact', logger='current', level=logging.WARNING)
            return
        self._pending = ranks[get_rank()]
        self._resume_iter = checkpoint.get('meta', {}).get('iter', -1)

    def before_train_epoch(self, runner) -> None:
        pending, self._pending = self._pending, None
        if pending is None or runner.iter != self._resume_iter:
            return
        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop):
            loop.dataloader_iterator = _RestoreBeforeBatch(
                loop.dataloader_iterator, runner.iter, lambda: restore_rng_state(pending))
        elif runner.iter == runner.epoch * len(loop.dataloader):
            restore_rng_state(pending)
        else:
            print_log(f'resuming at iteration {runner.iter}, inside epoch '
                      f'{runner.epoch + 1}: the epoch loop trains that epoch again from its '
                      'start, so the resumed run is not bit-exact', logger='current',
                      level=logging.WARNING)

    def before_val(self, runner) -> None:
        self._val_stash = capture_rng_state()

    def after_val(self, runner) -> None:
        if self._val_stash is not None:
            restore_rng_state(self._val_stash)
            self._val_stash = None
