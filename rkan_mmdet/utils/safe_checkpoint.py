"""Weights-only ``torch.load`` with one-line errors: :func:`safe_torch_load`.

Since torch 2.6, ``torch.load`` defaults to the *weights-only* unpickler,
which only rebuilds tensors and a few containers. mmengine 0.10.7 training
checkpoints also hold a ``HistoryBuffer`` (message hub) with numpy arrays and
scalars, so loading them weights-only fails; the tempting fix, the full
unpickler, would let a downloaded checkpoint run arbitrary code. Instead
:data:`MMENGINE_CHECKPOINT_GLOBALS` allowlists exactly the globals mmengine
checkpoints contain (found by saving a real ``Runner`` checkpoint and asking
``get_unsafe_globals_in_checkpoint``), with ``getattr`` narrowed to the four
``HistoryBuffer`` statistics.

:func:`safe_torch_load` always passes ``weights_only=True`` (so neither
torch's default nor ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` can turn it off) and
turns every failure that is about the file's bytes into one
:class:`~.checkpoint_errors.CheckpointError` line (see
:mod:`.checkpoint_diagnosis`): an :class:`UnsafeCheckpointError` names the
forbidden global(s). How mmengine's schemes and entry points are routed here
is in :mod:`.checkpoint_schemes`, :mod:`.torch_load_guard` and
:mod:`.checkpoint_entry_points`.
"""
from __future__ import annotations

import os
import pickle
import struct
import zipfile
from typing import IO, Any, Callable, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

from .checkpoint_diagnosis import (bad, content_of, diagnose,
                                   missing_or_not_a_file)

try:  # numpy >= 2
    from numpy._core.multiarray import _reconstruct, scalar
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core.multiarray import _reconstruct, scalar

FileLike = Union[str, os.PathLike, IO[bytes]]

#: ``HistoryBuffer`` statistics pickled as ``getattr(HistoryBuffer, name)``.
_HISTORY_BUFFER_STATISTICS = ('min', 'max', 'mean', 'current')


def _history_buffer_getattr(obj: Any, name: str) -> Callable:
    """Restricted stand-in for ``builtins.getattr`` while unpickling.

    ``HistoryBuffer.__getstate__`` stores its ``_statistics_methods`` dict,
    whose values (``HistoryBuffer.min`` ...) pickle as
    ``getattr(HistoryBuffer, 'min')``. Allowing the real ``getattr`` would
    hand attackers a generic attribute walker, so only those four lookups
    are answered.
    """
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    owner = getattr(obj, '__qualname__', type(obj).__name__)
    raise pickle.UnpicklingError(
        f'forbidden global builtins.getattr({owner},{name})')


#: Concrete ``np.dtype`` subclasses of the bool/int/float arrays and scalars
#: mmengine logs. They are never named in the pickle, but the unpickler only
#: lets ``BUILD`` (dtype byte order/flags) act on allowlisted types.
_NUMPY_DTYPE_CLASSES = sorted(
    {
        type(np.dtype(t))
        for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                  np.uint16, np.uint32, np.uint64, np.float16, np.float32,
                  np.float64)
    },
    key=lambda c: c.__name__)

class _NdarrayName:
    """What the global ``numpy.ndarray`` unpickles to: a token, not the class.

    The unpickler lets ``REDUCE``/``NEWOBJ`` *call* every allowlisted
    global, and ``np.ndarray(shape, object, buffer=b'...')`` makes an object
    array whose "objects" are pointers taken from the bytes (a crash at
    best). numpy pickles an array as ``_reconstruct(ndarray, (0,), b'b')``
    plus ``BUILD``, so ``numpy.ndarray`` is only ever needed as that first
    argument: :func:`_reconstruct_ndarray` accepts this token there.
    """

    def __repr__(self) -> str:
        return 'numpy.ndarray (name only)'


NDARRAY_NAME = _NdarrayName()
#: Key under which the real class is allowlisted, so that ``BUILD`` may call
#: ``ndarray.__setstate__`` (numpy refuses raw bytes for object dtypes
#: there). No ``GLOBAL`` can name it: pickle names end at a newline.
_NDARRAY_BUILD_ONLY = 'numpy.ndarray\n(BUILD target only)'


def _reconstruct_ndarray(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    """numpy's ``_reconstruct`` for plain ``ndarray`` only (see
    :class:`_NdarrayName`); ``dtype`` is the dummy b'b' numpy pickles."""
    if subtype is not NDARRAY_NAME:
        raise pickle.UnpicklingError(
            'forbidden global numpy._core.multiarray._reconstruct('
            f'{type(subtype).__name__})')
    return _reconstruct(np.ndarray, shape, dtype)


#: ``(object, pickled name)`` pairs registered with
#: ``torch.serialization.add_safe_globals``. numpy 1.x checkpoints name the
#: same numpy functions under ``numpy.core``, hence the aliases.
MMENGINE_CHECKPOINT_GLOBALS: list[tuple[Any, str]] = [
    (HistoryBuffer, 'mmengine.logging.history_buffer.HistoryBuffer'),
    (_history_buffer_getattr, 'builtins.getattr'),
    (NDARRAY_NAME, 'numpy.ndarray'),
    (np.ndarray, _NDARRAY_BUILD_ONLY),
    (np.dtype, 'numpy.dtype'),
    (_reconstruct_ndarray, 'numpy._core.multiarray._reconstruct'),
    (_reconstruct_ndarray, 'numpy.core.multiarray._reconstruct'),
    (scalar, 'numpy._core.multiarray.scalar'),
    (scalar, 'numpy.core.multiarray.scalar'),
] + [(c, f'numpy.dtypes.{c.__name__}') for c in _NUMPY_DTYPE_CLASSES]


#: torch's own ``torch.load`` (:mod:`.torch_load_guard` replaces the name).
TORCH_LOAD = torch.serialization.load

#: What ``torch.load`` raises for bytes it cannot parse (found by fuzzing:
#: ``LookupError`` for a corrupted codec name, ``AssertionError`` for a
#: corrupted storage key, ``MemoryError`` for a forged length prefix,
#: ``OSError`` for miniz seeking before the start of a truncated zip); each
#: is diagnosed, and re-raised unchanged when it is not about the bytes.
LOAD_ERRORS = (pickle.UnpicklingError, EOFError, RuntimeError, ValueError,
               LookupError, TypeError, AttributeError, AssertionError,
               ArithmeticError, struct.error, zipfile.BadZipFile, MemoryError,
               OSError)


def safe_torch_load(f: FileLike,
                    map_location: Any = None,
                    source: Optional[str] = None,
                    **torch_load_kwargs: Any) -> Any:
    """``torch.load(f, map_location, weights_only=True)`` with one-line errors.

    Args:
        f: a path, or a seekable binary buffer (read from its position).
        map_location: as for ``torch.load``.
        source: the name errors give the checkpoint (default: the path,
            the buffer's ``name`` or ``'<in-memory buffer>'``).
        torch_load_kwargs: ``mmap`` and pickle load arguments for torch.

    Raises:
        CheckpointError: one line naming ``source`` and what is wrong
            (:class:`UnsafeCheckpointError` for a forbidden global).
    """
    path = os.fspath(f) if isinstance(f, (str, os.PathLike)) else None
    if source is None:
        source = path or str(getattr(f, 'name', '<in-memory buffer>'))
    if path is not None:
        problem = missing_or_not_a_file(path, source)
        if problem is not None:
            raise problem
    start = 0 if path is not None else f.tell()
    try:
        return TORCH_LOAD(f,
                          map_location=map_location,
                          weights_only=True,
                          **torch_load_kwargs)
    except PermissionError as err:
        raise bad(source, f'cannot be read: {err.strerror}') from None
    except LOAD_ERRORS as err:
        problem = diagnose(content_of(f, start), source, err)
        if problem is None:
            raise
        raise problem from None
