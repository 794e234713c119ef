"""Non-model utilities.

Importing this package (done first by ``import rkan_mmdet``) installs
weights-only checkpoint loading for mmengine, see :mod:`.safe_checkpoint`.
"""
from .safe_checkpoint import (MMENGINE_CHECKPOINT_GLOBALS,
                              UnsafeCheckpointError,
                              install_safe_checkpoint_loading,
                              load_from_local_safe, safe_load_url,
                              safe_torch_load)

install_safe_checkpoint_loading()

__all__ = [
    'MMENGINE_CHECKPOINT_GLOBALS', 'UnsafeCheckpointError',
    'install_safe_checkpoint_loading', 'load_from_local_safe', 'safe_load_url',
    'safe_torch_load'
]
