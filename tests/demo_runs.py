"""Runs of the demo configs for the tests: the tools as subprocesses, the
tiny synthetic data sets, and the detection demo shrunk by ``--cfg-options``
to a run of a few iterations at 64 px.

The demo config is never edited: :func:`shrink` reads it to find the
``RandomResize`` step and whether it validates, so the options stay valid
while the demo is recalibrated. The session fixtures built from these
(``tiny_coco``, ``tiny_imagenet``, ``trained_classifier``) are in
``tests/conftest.py``.
"""
import functools
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config
from mmengine.config import utils as _config_utils

from . import ROOT

# Test speed only: mmengine re-reads mmdet's ~400 model-index YAML files for
# every ``mmdet::`` base of every config it parses (seconds per config); the
# in-process tool runs parse the demo config once per case. Same files, so
# the parsed YAML is cached for this process.
_config_utils.load = functools.lru_cache(maxsize=None)(_config_utils.load)

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


def shrink(data: Path, max_iters: int = 0, checkpoint_interval: int = 1000,
           image_size: int = IMAGE_SIZE, workers: int = 0,
           epochs: Optional[int] = None, test: bool = False) -> List[str]:
    """--cfg-options: ``max_iters`` iterations of batch 2 at ``image_size`` px
    on ``data``, deterministic, loss logged unsmoothed every iteration.

    With ``epochs``, the demo's own ``EpochBasedTrainLoop`` (and sampler) runs
    ``epochs`` epochs instead (``max_iters`` is ignored) and checkpoints are
    saved every ``checkpoint_interval`` epochs. ``workers`` data-loader
    workers keep the demo's ``persistent_workers``. With ``test``, the test
    loader and evaluator read ``data`` too and every detection is kept
    (score threshold 0), for ``tools/test.py``."""
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
    loaders += ['test'] if test else []
    for loader in loaders:
        options += [f'{loader}_dataloader.dataset.data_root={data}/',
                    f'{loader}_dataloader.num_workers={workers if loader == "train" else 0}']
        if loader != 'train' or not workers:
            options.append(f'{loader}_dataloader.persistent_workers=False')
    if demo.get('val_evaluator'):
        options.append(f'val_evaluator.ann_file={data}/annotations/instances_val2017.json')
    if test:
        options += [f'test_evaluator.ann_file={data}/annotations/instances_val2017.json',
                    'model.test_cfg.rcnn.score_thr=0.0']
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


def run(argv: Sequence[str], timeout: float = 300, cwd: Path = ROOT,
        **kwargs) -> subprocess.CompletedProcess:
    """Run ``argv`` (from the repository root by default), capturing text output."""
    env = tool_env(**kwargs.pop('env', {}))
    return subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env, **kwargs)


def generate(out: Path, generator: str, num_train: int, num_val: int,
             size: int = IMAGE_SIZE) -> Path:
    """``tools/demo/<generator>`` run into ``out`` at ``size`` px."""
    done = run([PYTHON, f'tools/demo/{generator}', '--out', str(out),
                '--num-train', str(num_train), '--num-val', str(num_val), '--size', str(size)])
    assert done.returncode == 0, done.stderr
    return out


def classifier_options(data: Path) -> List[str]:
    """--cfg-options of the classifier demo on ``data`` (all three loaders)."""
    return [f'{loader}_dataloader.dataset.data_root={data}' for loader in ('train', 'val', 'test')]
