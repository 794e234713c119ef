"""What ``tools/train.py`` and ``tools/test.py`` share: flags, config loading,
and running the Runner so that bad input ends in one line.

:func:`add_common_args` / :func:`parse` / :func:`load_cfg` give both tools the
same ``--work-dir``, ``--cfg-options`` and launcher flags with the same meaning.

:func:`run_checked` checks the dataset paths, COCO annotation files and images
that the ``phases`` read (:mod:`rkan_mmdet.data_checks`), prepares
torchrun without GPUs (gloo, DDP without device_ids), builds the Runner and
runs ``runner.train()`` or ``runner.test()``. Every bad input a user can give
ends with exactly one ``error: <what, where>`` line on stderr and exit 2, no
traceback, whether it is found before the Runner is built, while it is built
or once training/testing has started (optimizer, data loaders, loops and the
checkpoint are built by ``train()``/``test()``):

* a missing config file, one that Python or MMEngine cannot parse or
  inherit (the errors its code raises while it is executed included), a
  ``--cfg-options`` key that does not fit the config: here, in
  :func:`load_cfg`;
* missing data, bad annotation files, bad images: before the Runner exists;
* a bad config value: the exceptions :mod:`.config_errors` can name (argument
  validation raised while MMEngine builds from the config), with the key and
  value, and an unknown optimizer type (checked beforehand, as MMEngine's own
  failure is a ``TypeError`` about ``None`` deep in ``inspect``);
* a bad checkpoint: ``rkan_mmdet.checkpoint_safety.CheckpointError`` (safe loading names
  the file and what is wrong), wherever it is raised;
* a path the OS refuses (``OSError`` with a file name, e.g. a work dir that
  cannot be created).

Anything else (a bug) keeps its traceback.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, NoReturn, Optional, Sequence

from mmengine.config import Config
from mmengine.config.utils import ConfigParsingError
from mmengine.registry import OPTIMIZERS, RUNNERS
from mmengine.runner import Runner

from rkan_mmdet.checkpoint_safety import CheckpointError
from rkan_mmdet.data_checks.coco_annotations import exit_if_annotations_bad
from rkan_mmdet.data_checks.dataset_paths import exit_if_data_missing
from rkan_mmdet.engine import prepare_cpu_distributed

from .config_errors import CALL_ERRORS, VALIDATION_ERRORS, config_error_line
from .config_values import CheckedDictAction, config_value_problem


def fail(message: str) -> NoReturn:
    """``error: <message>`` on stderr (one line), exit 2."""
    print(f'error: {" ".join(str(message).split())}', file=sys.stderr)
    sys.exit(2)


def add_common_args(parser: argparse.ArgumentParser, work_dir_help: str) -> None:
    """``--work-dir``, ``--cfg-options``, ``--launcher`` and ``--local-rank``."""
    parser.add_argument('--work-dir', help=f'{work_dir_help} '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=CheckedDictAction,
                        help='override config entries, e.g. train_cfg.max_epochs=1')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse(parser: argparse.ArgumentParser,
          argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse ``argv`` (default: the command line), exporting LOCAL_RANK for
    launchers that pass it as a flag."""
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def load_cfg(args: argparse.Namespace) -> Config:
    """The config with ``--cfg-options``, ``--launcher`` and ``--work-dir`` applied."""
    if not osp.isfile(args.config):
        fail(f'config {args.config} ' + ('is not a file' if osp.exists(args.config)
                                         else 'does not exist'))
    try:
        cfg = Config.fromfile(args.config)
    except (SyntaxError, NameError, FileNotFoundError, KeyError, TypeError, ValueError,
            ConfigParsingError) as e:  # what parsing and inheriting raise, or the file does
        fail(f'config {args.config}: {e.args[0] if isinstance(e, KeyError) and e.args else e}')
    cfg.launcher = args.launcher
    if args.cfg_options:
        try:
            cfg.merge_from_dict(args.cfg_options)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as e:
            detail = e.args[0] if isinstance(e, KeyError) and e.args else e
            fail(f'--cfg-options: {str(detail)[:300]}')
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def exit_if_optimizer_unknown(cfg: Config) -> None:
    """MMEngine's optimizer constructor looks ``optim_wrapper.optimizer.type``
    up itself and, for a name that is not registered, fails inside
    ``inspect.signature(None)``; name the key instead."""
    wrapper = cfg.get('optim_wrapper')
    optimizer = wrapper.get('optimizer') if isinstance(wrapper, dict) else None
    name = optimizer.get('type') if isinstance(optimizer, dict) else None
    if not isinstance(name, str):
        return
    with OPTIMIZERS.switch_scope_and_registry(cfg.get('default_scope')) as registry:
        if registry.get(name) is None:
            fail(f'optim_wrapper.optimizer.type={name!r}: {name} is not in the '
                 f'{registry.scope}::optimizer registry')


def run_checked(cfg: Config, phases: List[str], action: str) -> None:
    """Check the data of ``phases`` ('train', 'val', 'test'), build the Runner
    of ``cfg`` and call its ``action`` ('train' or 'test'); bad input exits 2
    with one line (see the module docstring)."""
    problem = config_value_problem(cfg)
    if problem:
        fail(problem)
    exit_if_data_missing(cfg, phases)
    exit_if_annotations_bad(cfg, phases)
    if action == 'train':
        exit_if_optimizer_unknown(cfg)
    prepare_cpu_distributed(cfg)
    try:
        runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
        getattr(runner, action)()
    except CheckpointError as e:  # one line naming the file (also a FileNotFoundError)
        fail(str(e))
    except OSError as e:
        if not e.filename:
            raise
        fail(f'{e.filename}: {e.strerror}')
    except VALIDATION_ERRORS + CALL_ERRORS + (RuntimeError, ) as e:
        line = config_error_line(cfg, e)
        if line is None:
            raise
        fail(line)
