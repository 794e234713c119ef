"""A resumed message hub never brings a path outside the work dir to a hook.

mmengine's own ``CheckpointHook`` (not the kill-safe one) deletes the
resumed ``best_ckpt`` and ``out_dir/iter_{step}.pth`` for superseded
``keep_ckpt_ids``; through ``Runner.resume`` neither can name a place outside
the run (rkan_mmdet/checkpoint_safety/resumed_paths.py).
"""
from pathlib import Path

import pytest
import torch
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

import rkan_mmdet  # noqa: F401  (guards Runner.resume)
from rkan_mmdet.checkpoint_safety.resumed_paths import drop_paths_outside
from .toy_models import toy_run

pytestmark = pytest.mark.usefixtures('isolate_runner_globals')


def plain_runner(work: Path, max_iters: int, **kwargs) -> Runner:
    return Runner(**toy_run(work, f'plain{max_iters}', max_iters), default_hooks=dict(
        checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False,
                        max_keep_ckpts=1)), **kwargs)


def tampered_resume(tmp_path: Path) -> tuple:
    """Train 2 iterations with the stock hook, then resume 2 more from a copy
    whose message hub names a folder and a file outside the work dir."""
    work = tmp_path / 'work'
    plain_runner(work, 2).train()
    victim_dir = tmp_path / 'victim_dir'
    victim_dir.mkdir()
    (victim_dir / 'keep.txt').write_text('x')
    victim_file = tmp_path / 'victim.pth'
    victim_file.write_text('x')
    (work / 'iter_..').mkdir()  # lets 'iter_{step}.pth' with step '../../../victim' resolve
    checkpoint = _load_checkpoint(str(work / 'iter_2.pth'))
    info = checkpoint['message_hub']['runtime_info']
    info.update(best_ckpt=str(victim_dir), keep_ckpt_ids=['../../../victim', 2],
                note=str(work / 'inside.txt'))
    torch.save(checkpoint, tmp_path / 'tampered.pth')
    runner = plain_runner(work, 4, resume=True, load_from=str(tmp_path / 'tampered.pth'))
    runner.train()
    return work, runner, victim_dir, victim_file


def test_stock_checkpoint_hook_deletes_nothing_outside_the_work_dir(tmp_path: Path) -> None:
    work, runner, victim_dir, victim_file = tampered_resume(tmp_path)
    assert victim_dir.is_dir() and (victim_dir / 'keep.txt').is_file()
    assert victim_file.is_file()
    assert 'best_ckpt' not in runner.message_hub.runtime_info
    assert runner.message_hub.get_info('note') == str(work / 'inside.txt')
    # keep_ckpt_ids was dropped whole: iter_2 is forgotten, so it is kept
    assert sorted(p.name for p in work.glob('iter_*.pth')) == ['iter_2.pth', 'iter_4.pth']


def test_the_route_is_live_without_the_check(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from rkan_mmdet.checkpoint_safety import resume_checks
    monkeypatch.setattr(resume_checks, 'drop_paths_outside', lambda *args: None)
    _, _, _, victim_file = tampered_resume(tmp_path)
    assert not victim_file.exists()


@pytest.mark.parametrize('value,dropped', [
    ('/etc', True), ('../x', True), ('a/../../x', True), (['ok', '../../x'], True),
    ('best_acc_iter_2.pth', False), ('cat', False), ([1, 2, 3], False),
    ('line\n/etc', False), (3.5, False)])
def test_which_values_are_dropped(tmp_path: Path, value, dropped: bool) -> None:
    hub = {'runtime_info': {'k': value, 'inside': str(tmp_path / 'a.pth')}}
    drop_paths_outside(hub, 'f.pth', str(tmp_path))
    assert ('k' not in hub['runtime_info']) is dropped
    assert hub['runtime_info']['inside'] == str(tmp_path / 'a.pth')
