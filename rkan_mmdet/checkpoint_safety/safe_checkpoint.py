"""Weights-only ``torch.load`` with one-line errors: :func:`safe_torch_load`.

Since torch 2.6, ``torch.load`` defaults to the *weights-only* unpickler,
which only rebuilds tensors and a few containers. mmengine 0.10.7 training
checkpoints also hold a ``HistoryBuffer`` (message hub) with numpy arrays and
scalars, so loading them weights-only fails; the tempting fix, the full
unpickler, would let a downloaded checkpoint run arbitrary code. Instead
:data:`MMENGINE_CHECKPOINT_GLOBALS` allowlists exactly the globals mmengine
checkpoints contain (found by saving a real ``Runner`` checkpoint and asking
``get_unsafe_globals_in_checkpoint``), with ``getattr`` narrowed to the four
``HistoryBuffer`` statistics and ``HistoryBuffer`` and the numpy names bound
to the checked stand-ins of :mod:`.history_buffer_pickles` and
:mod:`.numpy_pickles` (numpy's own would run raw pickle state
through its C code: forged object pointers, a segfaulting dtype state).

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

import torch
from mmengine.logging import HistoryBuffer

from .checkpoint_diagnosis import (bad, diagnose,
                                   missing_or_not_a_file)
from .pickle_scan import content_of
from .history_buffer_pickles import CheckedHistoryBuffer
from .numpy_pickles import (NDARRAY_NAME, DtypeSpec, SafeArray, empty_bytes,
                            reconstruct, restore_numpy, scalar)

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
    if obj in (HistoryBuffer, CheckedHistoryBuffer) and \
            name in _HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    obj = getattr(obj, 'unpickled_as', obj)  # a stand-in: the real class
    owner = getattr(obj, '__qualname__', type(obj).__name__)
    raise pickle.UnpicklingError(
        f'forbidden global builtins.getattr({owner},{name})')


#: ``(object, pickled name)`` pairs registered with
#: ``torch.serialization.add_safe_globals``. numpy 1.x checkpoints name the
#: same numpy functions under ``numpy.core``, hence the aliases.
MMENGINE_CHECKPOINT_GLOBALS: list[tuple[Any, str]] = [
    (CheckedHistoryBuffer, 'mmengine.logging.history_buffer.HistoryBuffer'),
    (empty_bytes, 'builtins.bytes'),
    (_history_buffer_getattr, 'builtins.getattr'),
    (NDARRAY_NAME, 'numpy.ndarray'),
    (DtypeSpec, 'numpy.dtype'),
    (reconstruct, 'numpy._core.multiarray._reconstruct'),
    (reconstruct, 'numpy.core.multiarray._reconstruct'),
    (scalar, 'numpy._core.multiarray.scalar'),
    (scalar, 'numpy.core.multiarray.scalar'),
    # BUILD only acts on allowlisted types; no pickle can name this one
    # (pickled names end at a newline), so it is never called directly
    (SafeArray, 'numpy.ndarray\n(BUILD target)'),
]


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
        loaded = TORCH_LOAD(f,
                            map_location=map_location,
                            weights_only=True,
                            **torch_load_kwargs)
        return restore_numpy(loaded)
    except RecursionError:
        raise bad(source, 'is not a loadable checkpoint: its values nest '
                  'too deeply') from None
    except PermissionError as err:
        raise bad(source, f'cannot be read: {err.strerror}') from None
    except LOAD_ERRORS as err:
        problem = diagnose(content_of(f, start), source, err)
        if problem is None:
            raise
        raise problem from None
