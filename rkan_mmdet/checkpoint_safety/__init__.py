"""Checkpoint safety: loading a checkpoint cannot run code.

Importing this package (done first by ``import rkan_mmdet``) makes loading a
checkpoint unable to run code, through every mmengine scheme and entry point
and whatever ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` says, and makes every bad
checkpoint one :class:`CheckpointError` line:

* :mod:`.safe_checkpoint`: the allowlist and :func:`safe_torch_load`;
* :mod:`.checkpoint_diagnosis`: what is wrong with a file, in one line;
* :mod:`.torch_load_guard`: ``torch.load`` without ``weights_only`` is safe;
* :mod:`.checkpoint_schemes`: local, http(s), torchvision, open-mmlab,
  mmcls, s3/petrel and pavi loaders;
* :mod:`.config_text`: config text in a checkpoint is read as data;
* :mod:`.checkpoint_fit`: another model's checkpoint is refused;
* :mod:`.checkpoint_entry_points`: Runner, ``load_checkpoint``,
  ``Pretrained`` and the inferencers use all of the above;
* :mod:`.rebind`: patches reach names bound by earlier imports.
"""
from .checkpoint_entry_points import install_safe_entry_points
from .checkpoint_errors import (CheckpointError, CheckpointNotFoundError,
                                UnsafeCheckpointError)
from .checkpoint_schemes import (install_safe_schemes, load_from_local_safe,
                                 safe_load_url)
from .safe_checkpoint import MMENGINE_CHECKPOINT_GLOBALS, safe_torch_load
from .torch_load_guard import install_torch_load_guard


def install_safe_checkpoint_loading() -> None:
    """Everything the package doc lists; idempotent."""
    import torch
    torch.serialization.add_safe_globals(MMENGINE_CHECKPOINT_GLOBALS)
    install_torch_load_guard()
    install_safe_schemes()
    install_safe_entry_points()


install_safe_checkpoint_loading()

__all__ = [
    'CheckpointError', 'CheckpointNotFoundError',
    'MMENGINE_CHECKPOINT_GLOBALS', 'UnsafeCheckpointError',
    'install_safe_checkpoint_loading', 'load_from_local_safe',
    'safe_load_url', 'safe_torch_load'
]
