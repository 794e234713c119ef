"""Test-only hook: every rank saves its model parameters after training, so
the DDP test can compare ranks (imported by the test's config through
``custom_imports``; ``PYTHONPATH`` holds the repository root)."""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class DumpParametersHook(Hook):
    """Writes ``<out_dir>/rank<r>.pth``: ``{name: parameter}`` of the unwrapped model."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir

    def after_run(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        params = {name: p.detach().cpu().clone() for name, p in model.named_parameters()}
        torch.save(params, osp.join(self.out_dir, f'rank{get_rank()}.pth'))
