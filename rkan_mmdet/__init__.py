"""rkan_mmdet: RKAN backbones for MMDetection / MMPretrain.

``import rkan_mmdet`` (or ``custom_imports=dict(imports=['rkan_mmdet'])``)
registers every module into the MMEngine root registries (``MODELS``,
``HOOKS`` ...), which mmdet's and mmpretrain's registries both search, each
under a name of its own (none of theirs is replaced), makes mmengine's
checkpoint loading weights-only with one-line errors (:mod:`.checkpoint_safety`)
and its local checkpoint saving atomic (:mod:`.engine`). The exact list of what
changes in torch and mmengine is docs/import_effects.md.
"""
from . import checkpoint_safety  # noqa: F401  (safe checkpoint loading first)
from . import models  # noqa: F401
from . import engine  # noqa: F401
from .version import __version__

__all__ = ['__version__']
