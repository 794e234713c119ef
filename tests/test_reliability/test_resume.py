"""Finding 7 of issue 15: resume after SIGKILL continues bit-exactly, for
the epoch loop (the demo's and every shipped config's, with the demo's
sampler, augmentation and persistent workers) and the iteration loop, with
0 and 1 data-loader workers; and checkpoints are saved atomically.

Each case trains uninterrupted once (the iteration loop without workers
reuses the shared reference run), then again killed with SIGKILL as soon as
the first checkpoint is written, then resumes with ``--resume``: every loss
logged after the checkpoint must equal the uninterrupted run's, bit for bit.
"""
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence

import pytest
import torch
from mmengine.runner import checkpoint as mmengine_checkpoint

import rkan_mmdet  # noqa: F401  (installs the atomic saver)
from rkan_mmdet.engine import atomic_checkpoint
from rkan_mmdet.engine.atomic_checkpoint import atomic_save_checkpoint

from .conftest import (ROOT, classifier_command, logged_losses, run, tool_env,
                       train_command)

MAX_ITERS = 5  # iteration loop
EPOCHS = 3  # epoch loop: 4 training images in batches of 2 (classifier: 10 in 5s)
ITERS_PER_EPOCH = 2


def kill_after_first_checkpoint(argv: List[str], work_dir: Path, timeout: float = 300) -> int:
    """Start ``argv``, SIGKILL it as soon as ``last_checkpoint`` is written;
    the return code (``-SIGKILL`` when the kill landed before the end)."""
    with open(work_dir.parent / 'killed.log', 'w') as log:
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env=tool_env())
        deadline = time.monotonic() + timeout
        try:
            while not (work_dir / 'last_checkpoint').exists():
                assert proc.poll() is None, (work_dir.parent / 'killed.log').read_text()[-3000:]
                assert time.monotonic() < deadline, 'no checkpoint within the timeout'
                time.sleep(0.02)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            return proc.wait()


def saved_iteration(checkpoint: Path) -> int:
    """Iterations trained when ``iter_<n>.pth`` / ``epoch_<n>.pth`` was saved."""
    kind, number = checkpoint.stem.split('_')
    return int(number) * (ITERS_PER_EPOCH if kind == 'epoch' else 1)


@pytest.mark.parametrize('loop,workers', [('epoch', 0), ('epoch', 1), ('iter', 0), ('iter', 1),
                                          ('classifier epoch', 0)])
def test_resume_after_sigkill_matches_uninterrupted_run(
        loop: str, workers: int, tiny_coco: Path, tiny_imagenet: Path, tmp_path: Path,
        reference_losses: Dict[int, float]) -> None:
    """Detection demo, or (``classifier epoch``) the classifier demo, whose
    batch mixing draws numpy in the main process and which validates and
    keeps one checkpoint after every epoch."""
    def command(work_dir: Path, flags: Sequence[str] = ()) -> List[str]:
        if loop == 'classifier epoch':
            return classifier_command(tiny_imagenet, work_dir, EPOCHS, flags)
        return train_command(tiny_coco, work_dir, MAX_ITERS, flags, checkpoint_interval=1,
                             workers=workers, epochs=EPOCHS if loop == 'epoch' else None)

    total = MAX_ITERS if loop == 'iter' else EPOCHS * ITERS_PER_EPOCH
    if (loop, workers) == ('iter', 0):
        reference = reference_losses  # the same run: shared with test_determinism
    else:
        done = run(command(tmp_path / 'reference'))
        assert done.returncode == 0, done.stderr[-3000:]
        reference = logged_losses(tmp_path / 'reference')
    assert sorted(reference) == list(range(1, total + 1))

    work_dir = tmp_path / 'work'
    assert kill_after_first_checkpoint(command(work_dir), work_dir) == -signal.SIGKILL
    checkpoint = Path((work_dir / 'last_checkpoint').read_text().strip())
    saved_iter = saved_iteration(checkpoint)
    assert saved_iter < total and checkpoint.is_file()
    before = {i: loss for i, loss in logged_losses(work_dir).items() if i <= saved_iter}

    resumed = run(command(work_dir, ['--resume']))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    saved_epoch = 0 if loop == 'iter' else saved_iter // ITERS_PER_EPOCH
    assert f'resumed epoch: {saved_epoch}, iter: {saved_iter}' in resumed.stdout + resumed.stderr
    after = logged_losses(work_dir, newest_only=True)
    assert sorted(after) == list(range(saved_iter + 1, total + 1))
    assert before == {i: reference[i] for i in range(1, saved_iter + 1)}
    assert after == {i: reference[i] for i in after}  # bit-exact, all of them


@pytest.fixture
def good_checkpoint(tmp_path: Path) -> Path:
    path = tmp_path / 'iter_1.pth'
    atomic_save_checkpoint({'state_dict': {'w': torch.arange(4.0)}}, str(path))
    return path


def test_mmengine_save_paths_are_atomic() -> None:
    from mmengine import runner as runner_pkg
    from mmengine.runner import runner as runner_module
    for module in (mmengine_checkpoint, runner_pkg, runner_module):
        assert module.save_checkpoint is atomic_save_checkpoint, module.__name__


def test_failed_write_keeps_the_previous_checkpoint(
        good_checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def half_then_fail(file, data: bytes) -> None:
        file.write(data[:len(data) // 2])
        raise OSError('No space left on device')

    monkeypatch.setattr(atomic_checkpoint, '_write', half_then_fail)
    with pytest.raises(OSError, match='No space left on device'):
        mmengine_checkpoint.save_checkpoint({'state_dict': {'w': torch.zeros(10**6)}},
                                            str(good_checkpoint))
    assert torch.load(good_checkpoint)['state_dict']['w'].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert sorted(p.name for p in good_checkpoint.parent.iterdir()) == ['iter_1.pth']


@pytest.mark.slow  # a subprocess killed mid-write
def test_sigkill_mid_write_keeps_the_previous_checkpoint(good_checkpoint: Path) -> None:
    """A real crash: the writer dies (SIGKILL) after half of the new bytes."""
    crash = (
        'import os, signal, torch\n'
        'from rkan_mmdet.engine import atomic_checkpoint\n'
        'from mmengine.runner.checkpoint import save_checkpoint\n'
        'def half_then_die(file, data):\n'
        '    file.write(data[:len(data) // 2]); file.flush()\n'
        '    os.kill(os.getpid(), signal.SIGKILL)\n'
        'atomic_checkpoint._write = half_then_die\n'
        'save_checkpoint({"state_dict": {"w": torch.zeros(10**6)}}, '
        f'{str(good_checkpoint)!r})\n')
    done = run([sys.executable, '-c', crash])
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert torch.load(good_checkpoint)['state_dict']['w'].tolist() == [0.0, 1.0, 2.0, 3.0]
    leftovers = [p.name for p in good_checkpoint.parent.iterdir() if p != good_checkpoint]
    assert len(leftovers) == 1 and leftovers[0].startswith('.iter_1.pth.')
    assert leftovers[0].endswith('.tmp')
