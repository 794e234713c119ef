"""The command line of ``tools/test.py``: evaluate a checkpoint of a detector
(mmdet) or classifier (mmpretrain) config.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--show-dir DIR]
                         [--cfg-options k=v ...] [--launcher none|pytorch|slurm]

Metrics are printed by MMEngine and also written by its LoggerHook to
``<work-dir>/<timestamp>/<timestamp>.json``. Every bad input (config, data,
annotations, images, the checkpoint) ends the run with one ``error: ...``
line, exit 2 (:mod:`.checked_runner`).
"""
import argparse
from typing import Optional, Sequence

from mmengine.config import Config

from .checked_runner import add_common_args, fail, load_cfg, parse, run_checked


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='tools/test.py', description='Evaluate a checkpoint of a detector '
        '(mmdet) or classifier (mmpretrain) config.')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file (path or URL)')
    parser.add_argument('--show-dir', help='save images with drawn predictions '
                        'here (relative paths are under <work-dir>/<timestamp>)')
    add_common_args(parser, 'where the logs and metrics go')
    return parse(parser, argv)


def enable_drawing(cfg: Config, show_dir: str) -> None:
    """Turn on the config's visualization hook: mmdet's ``DetVisualizationHook``
    (``draw``/``test_out_dir``) or mmpretrain's ``VisualizationHook``
    (``enable``/``out_dir``)."""
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        fail(f'--show-dir: {cfg.filename} has no default_hooks.visualization to draw with')
    if 'DetVisualizationHook' in str(hook.get('type')):
        hook.update(draw=True, test_out_dir=show_dir)
    else:
        hook.update(enable=True, out_dir=show_dir)


def build_cfg(args: argparse.Namespace) -> Config:
    """The config with the command-line switches applied."""
    cfg = load_cfg(args)
    cfg.load_from = args.checkpoint
    if args.show_dir:
        enable_drawing(cfg, args.show_dir)
    return cfg


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Parse ``argv`` (default: the command line), test; bad input exits 2."""
    run_checked(build_cfg(parse_args(argv)), ['test'], 'test')
