"""Shared pieces of the reliability tests: readers for what MMEngine logs,
the classifier demo's command, the reference run, and the tools' ``main()``
run in-process. The demo runs and data sets are shared by every test package
(``tests/demo_runs.py``, ``tests/conftest.py``); their names are imported here
for the reliability tests.
"""
import importlib
import json
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import pytest
import torch
from mmengine.runner import Runner

from .. import ROOT  # noqa: F401  (for the reliability tests)
from ..demo_runs import (CLASSIFIER_DEMO, DEMO, PYTHON, SMALL_MODEL,  # noqa: F401
                         demo_config, run, shrink, tool_env, train_command)


def logged_losses(work_dir: Path, newest_only: bool = False) -> Dict[int, float]:
    """``{iteration: loss}`` from the ``<timestamp>/vis_data/scalars.json`` files
    under ``work_dir`` (a resumed run logs into a new timestamp folder; later
    runs win), or from the newest one only."""
    losses = {}
    files = sorted(work_dir.glob('*/vis_data/scalars.json'))
    for scalars in files[-1:] if newest_only else files:
        for line in scalars.read_text().splitlines():
            record = json.loads(line)
            if 'loss' in record:
                losses[record['iter']] = record['loss']
    return losses


def classifier_command(data: Path, work_dir: Path, epochs: int,
                       flags: Sequence[str] = ()) -> List[str]:
    """argv of ``tools/train.py`` on the classifier demo (its epoch loop,
    RandAugment, CutMix/MixUp, validation and checkpoint every epoch with
    ``max_keep_ckpts=1``): ``epochs`` epochs of 2 batches of 5 images."""
    options = [f'{loader}_dataloader.dataset.data_root={data}' for loader in ('train', 'val')]
    options += ['train_dataloader.batch_size=5', 'val_dataloader.batch_size=5',
                f'train_cfg.max_epochs={epochs}', 'randomness.deterministic=True',
                'log_processor.by_epoch=False', 'log_processor.window_size=1']
    return [PYTHON, 'tools/train.py', str(CLASSIFIER_DEMO), '--work-dir', str(work_dir),
            *flags, '--cfg-options', *options]


@pytest.fixture(scope='session')
def reference_losses(tiny_coco: Path, tmp_path_factory: pytest.TempPathFactory
                     ) -> Dict[int, float]:
    """Losses of one uninterrupted 5-iteration run (seed 0, deterministic),
    the baseline of the determinism and the resume tests."""
    work_dir = tmp_path_factory.mktemp('reference')
    done = run(train_command(tiny_coco, work_dir, 5))
    assert done.returncode == 0, done.stderr[-3000:]
    return logged_losses(work_dir)


def tool_main(tool: str, argv: Sequence[str], capsys: pytest.CaptureFixture,
              monkeypatch: pytest.MonkeyPatch) -> Tuple[object, str, str]:
    """(exit code, stderr, stdout) of ``tools/<tool>.py`` on ``argv``: the
    ``main()`` of ``rkan_mmdet.cli.<tool>`` that it runs, here in this process,
    without the Runner's logging of its environment (compiler versions ...);
    torch's global switches that a Runner sets (deterministic algorithms,
    threads) are put back afterwards."""
    module = importlib.import_module(f'rkan_mmdet.cli.{tool}')
    monkeypatch.setattr(Runner, '_log_env', lambda self, env_cfg: None)  # seconds of subprocesses
    deterministic, threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    capsys.readouterr()
    try:
        with pytest.raises(SystemExit) as exit_info:
            module.main(list(argv))
    finally:
        torch.use_deterministic_algorithms(deterministic)
        torch.set_num_threads(threads)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.err, captured.out
