"""rkan_mmdet: RKAN backbones for MMDetection / MMPretrain.

``import rkan_mmdet`` (or ``custom_imports=dict(imports=['rkan_mmdet'])``)
registers every module into the MMEngine root ``MODELS`` registry, which
mmdet's and mmpretrain's registries both search, and makes mmengine's
checkpoint loading work on torch >= 2.6 without unpickling arbitrary objects.
"""
from . import checkpoint_safety  # noqa: F401  (safe checkpoint loading first)
from . import models  # noqa: F401
from . import engine  # noqa: F401
from .version import __version__

__all__ = ['__version__']
