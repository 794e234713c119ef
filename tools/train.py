"""Train a detector (mmdet) or classifier (mmpretrain) config with MMEngine's Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                          [--auto-scale-lr] [--cfg-options k=v ...]
                          [--launcher none|pytorch|slurm]

Importing ``rkan_mmdet`` registers the RKAN backbones, the safe checkpoint
loading and atomic saving; the training loop, hooks and logging are MMEngine's
own. ``--amp`` is mmengine's fp16 ``AmpOptimWrapper`` on a GPU and our
``Bf16OptimWrapper`` on a CPU. For a bit-exact ``--resume`` after a kill,
``RNGStateHook`` is always added and an epoch-based run loads its training
data in non-persistent workers seeded per epoch (see
``rkan_mmdet/engine/resumable_workers.py``). Every bad input (config, data,
annotations, images, checkpoints) ends the run with one ``error: ...`` line,
exit 2 (see ``rkan_mmdet/cli/checked_runner.py``).
"""
import argparse

import torch
from mmengine.config import Config

import rkan_mmdet  # noqa: F401  (registers backbones, safe checkpoint loading)
from rkan_mmdet.engine import make_epoch_workers_resumable
from rkan_mmdet.cli.checked_runner import add_common_args, fail, load_cfg, parse, run_checked


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        metavar='CKPT', help='resume from CKPT, or without a '
                        'value from the latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale lr by (total batch) / auto_scale_lr.base_batch_size')
    add_common_args(parser, 'where logs and checkpoints go')
    return parse(parser)


def build_cfg(args: argparse.Namespace) -> Config:
    """The config with the command-line switches applied."""
    cfg = load_cfg(args)
    if args.amp and torch.cuda.is_available():  # fp16 with dynamic loss scale
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    elif args.amp:  # AmpOptimWrapper needs a GPU: bf16 autocast on the CPU
        cfg.optim_wrapper.type = 'Bf16OptimWrapper'
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


def main() -> None:
    args = parse_args()
    cfg = build_cfg(args)
    phases = ['train', 'val'] if cfg.get('val_cfg') else ['train']
    run_checked(cfg, phases, 'train')


if __name__ == '__main__':
    main()
