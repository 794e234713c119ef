"""What ``tools/train.py`` and ``tools/test.py`` share: flags, config loading, the Runner.

:func:`add_common_args` / :func:`parse` / :func:`load_cfg` give both tools the
same ``--work-dir``, ``--cfg-options`` and launcher flags with the same meaning.

Before the Runner is built, the dataset paths and COCO annotation files that
the ``phases`` read are checked (one message each, see ``_data_check`` and
``_annotation_check``), and torchrun without GPUs is prepared (gloo, DDP
without device_ids). A bad config value raised while building (ValueError or
KeyError, e.g. a backbone argument) prints ``error: <message>`` and exits 2
instead of a traceback.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from rkan_mmdet.engine import prepare_cpu_distributed
from _annotation_check import exit_if_annotations_bad
from _data_check import exit_if_data_missing


def add_common_args(parser: argparse.ArgumentParser, work_dir_help: str) -> None:
    """``--work-dir``, ``--cfg-options``, ``--launcher`` and ``--local-rank``."""
    parser.add_argument('--work-dir', help=f'{work_dir_help} '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. train_cfg.max_epochs=1')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse, exporting LOCAL_RANK for launchers that pass it as a flag."""
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def load_cfg(args: argparse.Namespace) -> Config:
    """The config with ``--cfg-options``, ``--launcher`` and ``--work-dir`` applied."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def checked_runner(cfg: Config, phases: List[str]) -> Runner:
    """The Runner of ``cfg``, or exit with one line saying what is wrong."""
    exit_if_data_missing(cfg, phases)
    exit_if_annotations_bad(cfg, phases)
    prepare_cpu_distributed(cfg)
    try:
        return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    except (ValueError, KeyError) as e:
        print(f'error: {e.args[0] if e.args else e}', file=sys.stderr)
        sys.exit(2)
