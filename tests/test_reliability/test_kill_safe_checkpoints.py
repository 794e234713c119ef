"""Finding 6 of issue 15: no kill leaves the work dir without a loadable
checkpoint once one existed, for every ``max_keep_ckpts`` including 1;
``last_checkpoint`` always names a loadable file; leftovers of interrupted
saves are removed.

The kill tests SIGKILL a real ``tools/train.py`` (through ``kill_switch.py``)
halfway through writing the second checkpoint, halfway through rewriting
``last_checkpoint``, and just before the outdated checkpoint is deleted. The
order of operations for other ``max_keep_ckpts`` and for the best checkpoint
is checked in-process on a toy Runner.
"""
import os.path as osp
import signal
from pathlib import Path
from typing import List

import pytest
import torch
from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.fileio.backends import LocalBackend
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

import rkan_mmdet  # noqa: F401  (safe loading, KillSafeCheckpointHook)
from rkan_mmdet.engine import KillSafeCheckpointHook

from ..test_utils.toy_models import ToyModel
from .conftest import PYTHON, run, train_command

KILL_SWITCH = 'tests/test_reliability/kill_switch.py'


def checkpoint_named_by(work_dir: Path) -> Path:
    """The file ``last_checkpoint`` names, after checking it loads."""
    path = Path((work_dir / 'last_checkpoint').read_text())
    assert 'state_dict' in _load_checkpoint(str(path), map_location='cpu')
    return path


def leftovers(work_dir: Path) -> List[str]:
    return sorted(p.name for p in work_dir.glob('.*.tmp'))


@pytest.mark.parametrize('kill_at,named,left', [
    ('write:iter_2.pth', 'iter_1.pth', '.iter_2.pth.'),  # mmengine had deleted iter_1 here
    ('write:last_checkpoint:2', 'iter_1.pth', '.last_checkpoint.'),
    ('remove:iter_1.pth', 'iter_2.pth', ''),
])
def test_sigkill_during_a_save_keeps_a_loadable_checkpoint(
        kill_at: str, named: str, left: str, tiny_coco: Path, tmp_path: Path) -> None:
    work_dir = tmp_path / 'work'
    options = ['default_hooks.checkpoint.max_keep_ckpts=1']
    argv = train_command(tiny_coco, work_dir, 3, checkpoint_interval=1, extra=options)
    killed = run([PYTHON, KILL_SWITCH, kill_at, *argv[1:]])
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert checkpoint_named_by(work_dir) == work_dir / named
    assert [name[:len(left)] for name in leftovers(work_dir)] == ([left] if left else [])
    if kill_at != 'write:iter_2.pth':
        return  # resuming is the same from here on; once is enough
    resumed = run(train_command(tiny_coco, work_dir, 3, ['--resume'],
                                checkpoint_interval=1, extra=options))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'resumed epoch: 0, iter: 1' in resumed.stdout + resumed.stderr
    assert checkpoint_named_by(work_dir) == work_dir / 'iter_3.pth'
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_3.pth']
    assert leftovers(work_dir) == []


class RisingMetric(BaseMetric):
    """Each evaluation is better than the last: every validation saves a new best."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def process(self, data_batch, data_samples) -> None:
        self.results.append(0)

    def compute_metrics(self, results) -> dict:
        self.calls += 1
        return {'acc': float(self.calls)}


@pytest.mark.parametrize('max_keep_ckpts', [1, 2, 3])
def test_every_deletion_comes_after_the_next_checkpoint_is_named(
        max_keep_ckpts: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At each deletion (outdated and superseded best checkpoints alike),
    ``last_checkpoint`` names a complete checkpoint that is not the one
    deleted, and the best checkpoint that replaces a deleted one exists."""
    deletions = []
    real_remove = LocalBackend.remove

    def remove(self, filepath) -> None:
        named = Path((tmp_path / 'last_checkpoint').read_text())
        best = sorted(p.name for p in tmp_path.glob('best_acc_*.pth'))
        deletions.append((osp.basename(filepath), named.name, best))
        assert named != Path(filepath) and 'state_dict' in _load_checkpoint(str(named))
        real_remove(self, filepath)

    monkeypatch.setattr(LocalBackend, 'remove', remove)
    data = [dict(inputs=torch.randn(2)) for _ in range(4)]
    loader = dict(dataset=data, sampler=dict(type='DefaultSampler', shuffle=False),
                  batch_size=2, collate_fn=dict(type='pseudo_collate'))
    runner = Runner(
        model=ToyModel(), work_dir=str(tmp_path), experiment_name=f'kill_safe_{max_keep_ckpts}',
        train_dataloader=loader, val_dataloader=loader,
        train_cfg=dict(by_epoch=False, max_iters=5, val_interval=1), val_cfg=dict(),
        val_evaluator=Evaluator([RisingMetric()]),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=dict(type='KillSafeCheckpointHook', by_epoch=False,
                                           interval=1, max_keep_ckpts=max_keep_ckpts,
                                           save_best='acc')),
        default_scope='mmengine')
    assert any(isinstance(hook, KillSafeCheckpointHook) for hook in runner.hooks)
    runner.train()
    outdated = [d for d in deletions if d[0].startswith('iter_')]
    best = [d for d in deletions if d[0].startswith('best_')]
    assert [d[:2] for d in outdated] == [
        (f'iter_{i}.pth', f'iter_{i + max_keep_ckpts}.pth') for i in range(1, 6 - max_keep_ckpts)]
    assert [d[0] for d in best] == [f'best_acc_iter_{i}.pth' for i in range(1, 5)]
    assert all(d[2] == [d[0], f'best_acc_iter_{int(d[0][14:-4]) + 1}.pth'] for d in best)
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == sorted(
        ['best_acc_iter_5.pth'] + [f'iter_{i}.pth' for i in range(6 - max_keep_ckpts, 6)])
