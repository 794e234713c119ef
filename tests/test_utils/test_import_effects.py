"""Issue 26, acceptance 4: ``import rkan_mmdet`` adds names to the registries
of mmengine, mmdet and mmpretrain but replaces none of theirs (the kill-safe
checkpoint hook is ``KillSafeCheckpointHook``, beside mmengine's
``CheckpointHook``), and the project's configs and ``tools/train.py`` pick
the kill-safe hook by its own name (docs/import_effects.md)."""
import subprocess
import sys
from argparse import Namespace

import pytest
from mmengine.config import Config

from rkan_mmdet.cli.train import build_cfg
from rkan_mmdet.engine import use_kill_safe_checkpoint_hook

from .. import ROOT

# In a fresh interpreter: fill mmengine's, mmdet's and mmpretrain's registries
# (their modules register on import), note every name -> object, import
# rkan_mmdet (and rkan_mmdet.ops), and print the names whose object changed or went away.
SNAPSHOT = r'''
import mmdet.engine, mmdet.models, mmdet.datasets, mmdet.evaluation, mmdet.visualization
import mmpretrain.engine, mmpretrain.models, mmpretrain.datasets, mmpretrain.evaluation
import mmengine.hooks, mmengine.optim, mmengine.runner
from mmengine.registry import Registry
import gc

def registries():
    return [r for r in gc.get_objects() if isinstance(r, Registry)]

before = {(r.scope, r.name, key): obj for r in registries()
          for key, obj in r.module_dict.items()}
import rkan_mmdet, rkan_mmdet.ops  # ops: what the demo config imports too
after = {(r.scope, r.name, key): obj for r in registries()
         for key, obj in r.module_dict.items()}
print('changed:', sorted(str(k) for k, obj in before.items() if after.get(k) is not obj))
print('added:', sum(k not in before for k in after))
'''


@pytest.mark.slow  # a fresh interpreter imports all of mmdet and mmpretrain
def test_importing_the_package_replaces_no_registered_name() -> None:
    done = subprocess.run([sys.executable, '-c', SNAPSHOT], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(': ', 1) for line in done.stdout.splitlines() if ': ' in line)
    assert lines['changed'] == '[]'
    assert int(lines['added']) > 20  # the backbones, plugins, hooks ... were registered


def test_mmengine_checkpoint_hook_stays_mmengines() -> None:
    from mmdet.registry import HOOKS as MMDET_HOOKS
    from mmengine.hooks import CheckpointHook
    from mmengine.registry import HOOKS
    from mmpretrain.registry import HOOKS as MMPRETRAIN_HOOKS

    from rkan_mmdet.engine import KillSafeCheckpointHook
    assert HOOKS.get('CheckpointHook') is CheckpointHook
    for registry in (HOOKS, MMDET_HOOKS, MMPRETRAIN_HOOKS):
        assert registry.get('KillSafeCheckpointHook') is KillSafeCheckpointHook


def test_project_configs_and_train_tool_use_the_kill_safe_hook() -> None:
    for config in ('configs/demo/mask_rcnn_rkanet18_demo.py', 'configs/demo/rkanet18_cls_demo.py',
                   'configs/mask_rcnn_rkanet50_1x_coco.py',
                   'configs/imagenet/rkanet50_8xb32_in1k.py'):
        hook = Config.fromfile(str(ROOT / config)).default_hooks.checkpoint
        assert hook.type == 'KillSafeCheckpointHook', config
    # tools/train.py on a config that names mmengine's hook: the kill-safe one,
    # same arguments
    args = Namespace(config=str(ROOT / 'configs/mask_rcnn_rkanet50_1x_coco.py'), work_dir=None,
                     resume=None, amp=False, auto_scale_lr=False, launcher='none',
                     cfg_options={'default_hooks.checkpoint.type': 'CheckpointHook',
                                  'default_hooks.checkpoint.max_keep_ckpts': 2})
    hook = build_cfg(args).default_hooks.checkpoint
    assert (hook.type, hook.interval, hook.max_keep_ckpts) == ('KillSafeCheckpointHook', 1, 2)


def test_use_kill_safe_checkpoint_hook_cases() -> None:
    def after(default_hooks):
        cfg = Config(dict(default_hooks=default_hooks))
        use_kill_safe_checkpoint_hook(cfg)
        return cfg.default_hooks.to_dict()

    kill_safe = dict(type='KillSafeCheckpointHook', interval=1)  # the Runner's default interval
    assert after(None) == dict(checkpoint=kill_safe)
    assert after(dict(logger=dict(type='LoggerHook'))) == dict(
        logger=dict(type='LoggerHook'), checkpoint=kill_safe)
    assert after(dict(checkpoint=dict(type='mmengine.CheckpointHook', interval=3))) == dict(
        checkpoint=dict(type='KillSafeCheckpointHook', interval=3))
    assert after(dict(checkpoint=None)) == dict(checkpoint=None)  # no checkpoints: none
    assert after(dict(checkpoint=dict(type='MyHook'))) == dict(checkpoint=dict(type='MyHook'))
