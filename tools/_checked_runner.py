"""Build MMEngine's Runner for ``tools/train.py`` and ``tools/test.py``, failing in one line.

Before the Runner is built, the dataset paths and COCO annotation files that
the ``phases`` read are checked (one message each, see ``_data_check`` and
``_annotation_check``), and torchrun without GPUs is prepared (gloo, DDP
without device_ids). A bad config value raised while building (ValueError or
KeyError, e.g. a backbone argument) prints ``error: <message>`` and exits 2
instead of a traceback.
"""
import sys
from typing import List

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from rkan_mmdet.engine import prepare_cpu_distributed
from _annotation_check import exit_if_annotations_bad
from _data_check import exit_if_data_missing


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
