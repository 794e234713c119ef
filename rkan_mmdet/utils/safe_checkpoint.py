"""Weights-only loading of mmengine checkpoints on torch >= 2.6.

Why this exists
---------------
Since torch 2.6, ``torch.load`` defaults to the *weights-only* unpickler,
which only rebuilds tensors and a few containers. mmengine 0.10.7 calls
``torch.load(filename, map_location=...)`` and its training checkpoints also
hold a ``HistoryBuffer`` (message hub) with numpy arrays and scalars, so
``load_checkpoint``, ``Runner.resume`` and ``init_cfg=dict(type='Pretrained')``
all fail. The tempting fix, turning the weights-only unpickler off, would let a
downloaded checkpoint run arbitrary code. Instead we:

1. allowlist exactly the globals that mmengine checkpoints contain
   (:data:`MMENGINE_CHECKPOINT_GLOBALS`, found by saving a real ``Runner``
   checkpoint and asking ``get_unsafe_globals_in_checkpoint`` about it);
2. re-register mmengine's local-file scheme, and replace the ``load_url``
   used by its http(s)/torchvision/open-mmlab/mmcls schemes (``torch.hub``
   defaults to the *full* unpickler there), with loaders that always pass
   ``weights_only=True``;
3. turn a refused pickle into a one-line :class:`UnsafeCheckpointError` that
   names the file and the forbidden global(s), instead of torch's long hint
   that suggests disabling the safety check.
"""
from __future__ import annotations

import os
import os.path as osp
import pickle
import pickletools
import re
import zipfile
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from typing import IO, Any, Callable, Optional, Union
from urllib.parse import urlparse

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import checkpoint as _mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

try:  # numpy >= 2
    from numpy._core.multiarray import _reconstruct, scalar
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core.multiarray import _reconstruct, scalar

FileLike = Union[str, os.PathLike, IO[bytes]]

#: ``HistoryBuffer`` statistics pickled as ``getattr(HistoryBuffer, name)``.
_HISTORY_BUFFER_STATISTICS = ('min', 'max', 'mean', 'current')


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint needs globals outside the weights-only allowlist."""


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

#: ``(object, pickled name)`` pairs registered with
#: ``torch.serialization.add_safe_globals``. numpy 1.x checkpoints name the
#: same numpy functions under ``numpy.core``, hence the aliases.
MMENGINE_CHECKPOINT_GLOBALS: list[tuple[Callable, str]] = [
    (HistoryBuffer, 'mmengine.logging.history_buffer.HistoryBuffer'),
    (_history_buffer_getattr, 'builtins.getattr'),
    (np.ndarray, 'numpy.ndarray'),
    (np.dtype, 'numpy.dtype'),
    (_reconstruct, 'numpy._core.multiarray._reconstruct'),
    (_reconstruct, 'numpy.core.multiarray._reconstruct'),
    (scalar, 'numpy._core.multiarray.scalar'),
    (scalar, 'numpy.core.multiarray.scalar'),
] + [(c, f'numpy.dtypes.{c.__name__}') for c in _NUMPY_DTYPE_CLASSES]

_NAMED_GLOBAL_PATTERNS = (
    r'GLOBAL (\S+) was not an allowed global',
    r'unsupported GLOBAL (\S+) whose module',
    r'forbidden global (\S+)',
    r'unrecognized function (\S+)',
    r"but got <class '([^']+)'>",
)


def _pickle_bytes(path: str) -> bytes:
    """Return the pickle stream of a ``torch.save`` zip or a raw pickle."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            name = next(n for n in zf.namelist() if n.endswith('data.pkl'))
            return zf.read(name)
    with open(path, 'rb') as f:
        return f.read()


def _scan_globals(path: str) -> list[str]:
    """List ``module.name`` globals a pickle imports, without executing it.

    Needed when torch's unpickler stops before reaching the global (e.g.
    protocol >= 4 ``FRAME``/``STACK_GLOBAL`` payloads, as written by a plain
    ``pickle.dump``), so the error can still name what was refused.
    """
    wo = torch._weights_only_unpickler  # as get_unsafe_globals_... does
    allowed = {
        *getattr(wo, '_get_allowed_globals', dict)(),
        *getattr(wo, '_get_user_allowed_globals', dict)()
    }
    found: list[str] = []
    strings: list[Any] = []
    memo: dict[int, Any] = {}
    try:
        for op, arg, _ in pickletools.genops(_pickle_bytes(path)):
            if op.name == 'GLOBAL':
                module, name = arg.split(' ', 1)
                module, name = NAME_MAPPING.get(
                    (module, name), (IMPORT_MAPPING.get(module, module), name))
                found.append(f'{module}.{name}')
            elif op.name == 'STACK_GLOBAL' and len(strings) >= 2:
                found.append(f'{strings[-2]}.{strings[-1]}')
            elif op.name == 'MEMOIZE' and strings:
                memo[len(memo)] = strings[-1]
            elif op.name in ('BINPUT', 'LONG_BINPUT', 'PUT') and strings:
                memo[int(arg)] = strings[-1]
            elif op.name in ('BINGET', 'LONG_BINGET', 'GET'):
                strings.append(memo.get(int(arg)))
            elif isinstance(arg, str):
                strings.append(arg)
    except Exception:  # truncated/garbage stream: report what we saw
        pass
    return [g for g in dict.fromkeys(found) if g not in allowed]


def _refusal(source: str, err: Exception,
             path: Optional[str]) -> UnsafeCheckpointError:
    """Build the one-line error naming ``source`` and the refused globals."""
    text = str(err)
    names = [m for p in _NAMED_GLOBAL_PATTERNS for m in re.findall(p, text)]
    if not names and path is not None and osp.isfile(path):
        names = _scan_globals(path)
    what = (f"forbidden global(s) {', '.join(dict.fromkeys(names))}"
            if names else 'content the weights-only unpickler rejects')
    return UnsafeCheckpointError(
        f"Refusing to load checkpoint '{source}': it needs {what}; only "
        'tensors and rkan_mmdet.utils.MMENGINE_CHECKPOINT_GLOBALS are '
        'allowed.')


def safe_torch_load(f: FileLike,
                    map_location: Any = None,
                    source: Optional[str] = None) -> Any:
    """``torch.load`` with ``weights_only=True`` and a one-line refusal.

    ``weights_only`` is passed explicitly so that neither torch's default nor
    the ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` variable can turn it off.
    """
    path = os.fspath(f) if isinstance(f, (str, os.PathLike)) else None
    try:
        return torch.load(f, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise _refusal(source or str(path or f), err, path) from None


def load_from_local_safe(filename: str, map_location: Any = None) -> Any:
    """mmengine's local-file scheme (``prefixes=''``), weights-only."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_torch_load(filename, map_location)


def safe_load_url(url: str,
                  model_dir: Optional[str] = None,
                  map_location: Any = None,
                  progress: bool = True,
                  check_hash: bool = False,
                  file_name: Optional[str] = None) -> Any:
    """Drop-in for mmengine's ``load_url``; ``torch.hub`` would unpickle all.

    ``torch.hub.load_state_dict_from_url`` defaults to the full unpickler, so
    the http(s), torchvision://, open-mmlab:// and mmcls:// schemes (which
    all end in ``mmengine.runner.checkpoint.load_url``) need this.
    """
    try:
        return torch.hub.load_state_dict_from_url(url,
                                                  model_dir=model_dir,
                                                  map_location=map_location,
                                                  progress=progress,
                                                  check_hash=check_hash,
                                                  file_name=file_name,
                                                  weights_only=True)
    except pickle.UnpicklingError as err:
        cache_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
        cached = osp.join(cache_dir, file_name
                          or osp.basename(urlparse(url).path))
        raise _refusal(url, err, cached) from None


def install_safe_checkpoint_loading() -> None:
    """Make mmengine load checkpoints weights-only; idempotent."""
    torch.serialization.add_safe_globals(MMENGINE_CHECKPOINT_GLOBALS)
    CheckpointLoader.register_scheme(prefixes='',
                                     loader=load_from_local_safe,
                                     force=True)
    _mmengine_checkpoint.load_url = safe_load_url
