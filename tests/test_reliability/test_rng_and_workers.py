"""The pieces behind finding 7's bit-exact resume, one at a time: random
states survive a checkpoint (weights-only loading included), validation
leaves them alone, the iteration loop's replay is restored before the first
untrained batch, and epoch-based workers get per-epoch, reproducible seeds."""
import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from mmengine.config import Config
from mmengine.runner.checkpoint import _load_checkpoint

import rkan_mmdet  # noqa: F401  (safe loading)
from rkan_mmdet.engine import (RNGStateHook, atomic_save_checkpoint, capture_rng_state,
                               make_epoch_workers_resumable, resumable_worker_init_fn,
                               restore_rng_state)
from rkan_mmdet.engine.rng_state_hook import _RestoreBeforeBatch


def draws() -> tuple:
    """One draw from each global generator, Gaussian caches included."""
    return (torch.rand(3).tolist(), np.random.rand(3).tolist(), np.random.randn(),
            random.random(), random.gauss(0, 1))


def test_states_survive_a_weights_only_checkpoint(tmp_path: Path) -> None:
    torch.manual_seed(1), np.random.seed(2), random.seed(3)
    np.random.randn(), random.gauss(0, 1)  # leave a cached Gaussian in both
    path = tmp_path / 'epoch_1.pth'
    atomic_save_checkpoint({'state_dict': {}, 'rng_state': {'ranks': [capture_rng_state()]}},
                           str(path))
    expected = draws()
    draws()
    loaded = _load_checkpoint(str(path), map_location='cpu')  # weights-only unpickler
    restore_rng_state(loaded['rng_state']['ranks'][0])
    assert draws() == expected


def test_validation_leaves_the_training_stream_alone() -> None:
    hook = RNGStateHook()
    torch.manual_seed(0), np.random.seed(0), random.seed(0)
    state = capture_rng_state()
    expected = draws()
    restore_rng_state(state)
    hook.before_val(None)
    draws(), draws()  # what validation draws
    hook.after_val(None)
    assert draws() == expected


def test_replayed_batches_are_drawn_before_the_restore() -> None:
    calls = []
    batches = _RestoreBeforeBatch(iter(range(5)), skip=3, restore=lambda: calls.append('restore'))
    got = [calls.append(batch) or batch for batch in batches]
    assert got == [0, 1, 2, 3, 4]
    assert calls == [0, 1, 2, 'restore', 3, 4]


def worker_draws(base_seed: int, worker_id: int) -> tuple:
    """What a data-loader worker would draw: PyTorch seeds it with
    ``base_seed + worker_id``, then calls the init function."""
    torch.manual_seed(base_seed + worker_id)
    resumable_worker_init_fn(worker_id, seed=7)
    return draws()


def test_worker_seeds_depend_on_the_iterator_and_the_worker_only() -> None:
    assert worker_draws(123456789, 0) == worker_draws(123456789, 0)
    assert worker_draws(123456789, 0) != worker_draws(123456789, 1)
    assert worker_draws(123456789, 0) != worker_draws(987654321, 0)  # next epoch


def loader_cfg(loop: dict, workers: int, **loader) -> Config:
    return Config(dict(train_cfg=loop, randomness=dict(seed=5), train_dataloader=dict(
        num_workers=workers, persistent_workers=workers > 0, **loader)))


def test_only_epoch_based_runs_with_workers_are_changed() -> None:
    epoch = loader_cfg(dict(type='EpochBasedTrainLoop', max_epochs=2), 2)
    make_epoch_workers_resumable(epoch)
    assert epoch.train_dataloader == dict(
        num_workers=2, persistent_workers=False,
        worker_init_fn=dict(type='resumable_worker_init_fn', seed=5))
    by_epoch = loader_cfg(dict(by_epoch=True, max_epochs=2), 1)
    make_epoch_workers_resumable(by_epoch)
    assert not by_epoch.train_dataloader.persistent_workers
    own = loader_cfg(dict(max_epochs=2), 1, worker_init_fn=dict(type='mine'))
    make_epoch_workers_resumable(own)
    assert own.train_dataloader.worker_init_fn == dict(type='mine')
    for unchanged in (loader_cfg(dict(type='IterBasedTrainLoop', max_iters=9), 2),
                      loader_cfg(dict(by_epoch=False, max_iters=9), 2),
                      loader_cfg(dict(max_epochs=2), 0)):
        before = unchanged.to_dict()
        make_epoch_workers_resumable(unchanged)
        assert unchanged.to_dict() == before


def test_states_are_restored_once_and_only_on_resume() -> None:
    hook = RNGStateHook()
    torch.manual_seed(0), np.random.seed(0), random.seed(0)
    saved = {'rng_state': {'ranks': [capture_rng_state()]}, 'meta': {'iter': 4}}
    expected = draws()
    loop = SimpleNamespace(dataloader=[0, 0])  # an epoch loop of 2 batches per epoch
    runner = SimpleNamespace(_resume=False, iter=4, epoch=2, train_loop=loop)
    hook.after_load_checkpoint(runner, saved)  # load_from: weights only
    hook.before_train_epoch(runner)
    assert draws() != expected
    runner._resume = True
    hook.after_load_checkpoint(runner, saved)
    hook.before_train_epoch(runner)
    assert draws() == expected
    hook.before_train_epoch(runner)  # the next epoch: nothing pending
    assert draws() != expected
