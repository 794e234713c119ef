"""The command line of ``tools/train.py``: train a detector (mmdet) or a
classifier (mmpretrain) config with MMEngine's Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                          [--auto-scale-lr] [--cfg-options k=v ...]
                          [--launcher none|pytorch|slurm]

The training loop, hooks and logging are MMEngine's own. What this adds to
the config (:func:`build_cfg`):

* ``--amp``: mmengine's fp16 ``AmpOptimWrapper`` on a GPU, our
  ``Bf16OptimWrapper`` on a CPU;
* the checkpoint hook is ``KillSafeCheckpointHook`` (a plain ``CheckpointHook``
  or none becomes it, same arguments), so a kill never loses the last
  checkpoint;
* ``RNGStateHook`` is always added and an epoch-based run loads its training
  data in non-persistent workers seeded per epoch
  (:mod:`rkan_mmdet.engine.resumable_workers`), for a bit-exact ``--resume``.

Every bad input (config, data, annotations, images, checkpoints) ends the run
with one ``error: ...`` line, exit 2 (:mod:`.checked_runner`).
"""
import argparse
from typing import Optional, Sequence

import torch
from mmengine.config import Config

from rkan_mmdet.engine import (make_epoch_workers_resumable,
                               use_kill_safe_checkpoint_hook)

from .checked_runner import add_common_args, fail, load_cfg, parse, run_checked
from .config_values import config_value_problem


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='tools/train.py', description='Train a detector (mmdet) or classifier '
        "(mmpretrain) config with MMEngine's Runner.")
    parser.add_argument('config', help='config file path')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        metavar='CKPT', help='resume from CKPT, or without a '
                        'value from the latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale lr by (total batch) / auto_scale_lr.base_batch_size')
    add_common_args(parser, 'where logs and checkpoints go')
    return parse(parser, argv)


def build_cfg(args: argparse.Namespace) -> Config:
    """The config with the command-line switches applied."""
    cfg = load_cfg(args)
    if args.amp and torch.cuda.is_available():  # fp16 with dynamic loss scale
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    elif args.amp:  # AmpOptimWrapper needs a GPU: bf16 autocast on the CPU
        cfg.optim_wrapper.type = 'Bf16OptimWrapper'
    use_kill_safe_checkpoint_hook(cfg)
    problem = config_value_problem(cfg)  # custom_hooks is read just below
    if problem:
        fail(problem)
    if not any(h.get('type') == 'RNGStateHook' for h in cfg.get('custom_hooks', [])):
        cfg.custom_hooks = [*cfg.get('custom_hooks', []), dict(type='RNGStateHook')]
    make_epoch_workers_resumable(cfg)
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            fail(f'--auto-scale-lr: {args.config} has no auto_scale_lr.base_batch_size')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Parse ``argv`` (default: the command line), train; bad input exits 2."""
    cfg = build_cfg(parse_args(argv))
    phases = ['train', 'val'] if cfg.get('val_cfg') else ['train']
    run_checked(cfg, phases, 'train')
