"""``torch.load`` that stays weights-only unless its caller says otherwise.

torch >= 2.6 loads weights-only by default, but the environment variable
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` turns every call that does not pass
``weights_only`` into a full unpickle, which runs any code a file carries.
mmengine's ``s3://``/``petrel://``, ``pavi://`` and the local branch of
``open-mmlab://`` call ``torch.load(file, map_location)``, and so do
mmpretrain's retrieval inferencers for their prototype caches.

:func:`install_torch_load_guard` (run by ``import rkan_mmdet``) replaces
``torch.load`` (and ``torch.serialization.load``, and ``from torch import
load`` names bound before) with :func:`guarded_torch_load`: a call that
passes neither ``weights_only`` nor ``pickle_module`` goes to
:func:`~.safe_checkpoint.safe_torch_load` (weights-only whatever the
environment says, one-line errors); a call that chooses either is the
caller's explicit decision and reaches torch unchanged.
"""
from __future__ import annotations

from typing import Any, Optional

from .rebind import rebind
from .safe_checkpoint import TORCH_LOAD, FileLike, safe_torch_load


def guarded_torch_load(f: FileLike,
                       map_location: Any = None,
                       pickle_module: Any = None,
                       *,
                       weights_only: Optional[bool] = None,
                       mmap: Optional[bool] = None,
                       **pickle_load_args: Any) -> Any:
    """``torch.load`` whose unset ``weights_only`` always means ``True``."""
    if weights_only is None and pickle_module is None:
        return safe_torch_load(f, map_location, mmap=mmap, **pickle_load_args)
    return TORCH_LOAD(f,
                      map_location,
                      pickle_module,
                      weights_only=weights_only,
                      mmap=mmap,
                      **pickle_load_args)


def install_torch_load_guard() -> None:
    """Make ``torch.load``, ``torch.serialization.load`` and every name an
    imported module bound to them :func:`guarded_torch_load`; idempotent."""
    rebind(TORCH_LOAD, guarded_torch_load,
           keep=(__name__, safe_torch_load.__module__))
