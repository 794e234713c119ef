"""Shared pieces of the reliability tests: one tiny synthetic COCO set, the
demo config shrunk by ``--cfg-options`` to a run of a few iterations at 64 px,
the tools run as subprocesses or in-process, and readers for what MMEngine
logs.

The demo config is never edited: :func:`shrink` reads it to find the
``RandomResize`` step and whether it validates, so the options stay valid
while the demo is recalibrated.
"""
import functools
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pytest
import torch
from mmengine.config import Config
from mmengine.config import utils as _config_utils
from mmengine.runner import Runner

# Test speed only: mmengine re-reads mmdet's ~400 model-index YAML files for
# every ``mmdet::`` base of every config it parses (seconds per config); the
# in-process tool runs parse the demo config once per case. Same files, so
# the parsed YAML is cached for this process.
_config_utils.load = functools.lru_cache(maxsize=None)(_config_utils.load)

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / 'configs' / 'demo' / 'mask_rcnn_rkanet18_demo.py'
CLASSIFIER_DEMO = ROOT / 'configs' / 'demo' / 'rkanet18_cls_demo.py'
PYTHON = sys.executable
IMAGE_SIZE = 64

# FPN/heads at 64 channels and fewer proposals: the RKAN-ResNet-18 backbone
# (default RKAN settings) is unchanged, the heads just stop dominating CPU time.
SMALL_MODEL = [
    'model.neck.out_channels=64', 'model.rpn_head.in_channels=64',
    'model.rpn_head.feat_channels=64',
    'model.roi_head.bbox_roi_extractor.out_channels=64',
    'model.roi_head.bbox_head.in_channels=64', 'model.roi_head.bbox_head.fc_out_channels=128',
    'model.roi_head.mask_roi_extractor.out_channels=64',
    'model.roi_head.mask_head.in_channels=64', 'model.roi_head.mask_head.conv_out_channels=64',
    'model.train_cfg.rpn_proposal.nms_pre=200', 'model.train_cfg.rpn_proposal.max_per_img=64',
    'model.train_cfg.rpn.sampler.num=64', 'model.train_cfg.rcnn.sampler.num=32',
]


@functools.lru_cache(maxsize=None)
def demo_config() -> Config:
    """The demo config as it is on disk (read once)."""
    return Config.fromfile(str(DEMO))


def shrink(data: Path, max_iters: int, checkpoint_interval: int = 1000,
           image_size: int = IMAGE_SIZE, workers: int = 0,
           epochs: Optional[int] = None) -> List[str]:
    """--cfg-options: ``max_iters`` iterations of batch 2 at ``image_size`` px
    on ``data``, deterministic, loss logged unsmoothed every iteration.

    With ``epochs``, the demo's own ``EpochBasedTrainLoop`` (and sampler) runs
    ``epochs`` epochs instead (``max_iters`` is ignored) and checkpoints are
    saved every ``checkpoint_interval`` epochs. ``workers`` data-loader
    workers keep the demo's ``persistent_workers``."""
    demo = demo_config()
    resize = next(i for i, t in enumerate(demo.train_dataloader.dataset.pipeline)
                  if t['type'] == 'RandomResize')
    if epochs:
        options = [f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={epochs + 1}',
                   'default_hooks.checkpoint.by_epoch=True']
    else:
        options = ['train_cfg._delete_=True', 'train_cfg.type=IterBasedTrainLoop',
                   f'train_cfg.max_iters={max_iters}', f'train_cfg.val_interval={max_iters + 1}',
                   'train_dataloader.sampler.type=InfiniteSampler',
                   'default_hooks.checkpoint.by_epoch=False']
    options += [
        'train_dataloader.batch_size=2',
        f'train_dataloader.dataset.pipeline.{resize}.scale=({image_size},{image_size})',
        'default_hooks.checkpoint.max_keep_ckpts=2',
        f'default_hooks.checkpoint.interval={checkpoint_interval}',
        'default_hooks.logger.interval=1', 'log_processor.by_epoch=False',
        'log_processor.window_size=1', 'randomness.seed=0', 'randomness.deterministic=True',
        *SMALL_MODEL]
    loaders = ['train'] + (['val'] if demo.get('val_dataloader') else [])
    for loader in loaders:
        options += [f'{loader}_dataloader.dataset.data_root={data}/',
                    f'{loader}_dataloader.num_workers={workers if loader == "train" else 0}']
        if loader != 'train' or not workers:
            options.append(f'{loader}_dataloader.persistent_workers=False')
    if demo.get('val_evaluator'):
        options.append(f'val_evaluator.ann_file={data}/annotations/instances_val2017.json')
    return options


def train_command(data: Path, work_dir: Path, max_iters: int, flags: Sequence[str] = (),
                  extra: Sequence[str] = (), config: Path = DEMO, **shrink_kwargs) -> List[str]:
    """argv of ``tools/train.py`` on the shrunk demo (or a ``config`` derived
    from it): ``flags`` (``--amp``, ...) before ``--cfg-options``, ``extra``
    cfg-options after the shrinking ones."""
    return [PYTHON, 'tools/train.py', str(config), '--work-dir', str(work_dir), *flags,
            '--cfg-options', *shrink(data, max_iters, **shrink_kwargs), *extra]


def tool_env(**extra: str) -> Dict[str, str]:
    """Environment of the tools the tests start: the repository on
    ``PYTHONPATH`` and one OpenMP/MKL thread per process (on a shared CPU,
    spinning OpenMP threads cost more CPU than the whole training step)."""
    return {**os.environ, 'PYTHONPATH': str(ROOT), 'OMP_NUM_THREADS': '1',
            'MKL_NUM_THREADS': '1', **extra}


def run(argv: Sequence[str], timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    """Run ``argv`` from the repository root, capturing text output."""
    env = tool_env(**kwargs.pop('env', {}))
    return subprocess.run(list(argv), cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env, **kwargs)


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


def generate(tmp_path_factory: pytest.TempPathFactory, generator: str, name: str,
             num_train: int, num_val: int) -> Path:
    """``tools/demo/<generator>`` run into a fresh ``<tmp>/<name>`` at IMAGE_SIZE px."""
    data = tmp_path_factory.mktemp('reliability') / name
    done = run([PYTHON, f'tools/demo/{generator}', '--out', str(data),
                '--num-train', str(num_train), '--num-val', str(num_val),
                '--size', str(IMAGE_SIZE)])
    assert done.returncode == 0, done.stderr
    return data


@pytest.fixture(scope='session')
def tiny_coco(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 train / 2 val images of 64 px, shared by every reliability test."""
    return generate(tmp_path_factory, 'make_coco_demo.py', 'coco_demo', 4, 2)


@pytest.fixture(scope='session')
def tiny_imagenet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5 classes x (2 train + 1 val) images of 64 px for the classifier demo."""
    return generate(tmp_path_factory, 'make_imagenet_demo.py', 'imagenet_demo', 2, 1)


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
