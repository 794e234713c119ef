"""numpy arrays, scalars and dtypes from a pickle, never from raw numpy state.

mmengine checkpoints hold numpy values (the message hub's ``HistoryBuffer``
arrays, numpy scalars in ``meta``), which numpy pickles as::

    numpy.dtype('f8', False, True)
        + BUILD (3, '<', None, None, None, -1, -1, 0)
    numpy._core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')
        + BUILD (1, shape, dtype, fortran, bytes)
    numpy._core.multiarray.scalar(dtype, bytes)

Allowlisting those numpy objects themselves is not safe: the unpickler
*calls* every allowlisted global (``numpy.ndarray((1,), object,
buffer=b'AAAAAAAA')`` is an object array of forged pointers: a segfault),
and ``BUILD`` hands any state to numpy's C ``__setstate__``
(``dtype.__setstate__((3, '<', None, -1, -1, 0))`` segfaults, found by
fuzzing). So each of those names unpickles to a stand-in here that accepts
exactly what numpy itself writes for bool, integer, float, complex and fixed
string dtypes, and builds the numpy object from validated parts:

* :class:`DtypeSpec` is ``numpy.dtype``: its ``BUILD`` state must equal
  the state numpy pickles for that dtype; object, void, datetime and
  structured dtypes are refused;
* :func:`reconstruct` is ``_reconstruct``: it needs the ``numpy.ndarray``
  token :data:`NDARRAY_NAME` and returns a :class:`SafeArray`, whose
  ``BUILD`` checks the version, shape, dtype and byte count before numpy's
  own ``__setstate__`` sees them, once per array;
* :func:`scalar` checks the byte count against the dtype;
* :func:`empty_bytes` is ``builtins.bytes`` (protocol 2 writes ``b''`` as
  ``bytes()``, so an empty array needs it), without arguments only.

Text (``U``) arrays and scalars must hold valid UTF-32, and dtypes of
itemsize 0 are refused (a shape of 2**62 would need no bytes).

:func:`restore_numpy` then swaps the stand-ins left in a loaded object for
plain ``np.ndarray`` / ``np.dtype``.
"""
from __future__ import annotations

import math
import pickle
from typing import Any

import numpy as np

try:  # numpy >= 2
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray

#: dtype kinds a checkpoint may hold: bool, (unsigned) int, float, complex,
#: bytes and str. Not object ('O': pointers), void/structured, datetime.
DTYPE_KINDS = 'biufcSU'


def _refuse(what: str) -> pickle.UnpicklingError:
    return pickle.UnpicklingError(f'numpy state refused: {what}')


class DtypeSpec:
    """``numpy.dtype(spec, align, copy)`` as unpickled; :attr:`dtype` is the
    real dtype once ``BUILD`` has given its byte order."""

    def __init__(self,
                 spec: Any,
                 align: Any = False,
                 copy: Any = True) -> None:
        if not (isinstance(spec, str) and spec[:1] in DTYPE_KINDS
                and isinstance(align, bool) and isinstance(copy, bool)):
            raise _refuse(f'dtype({spec!r}, {align!r}, {copy!r})')
        try:
            self.dtype = np.dtype(spec)
        except (TypeError, ValueError, OverflowError) as err:
            raise _refuse(f'dtype({spec!r})') from err
        # itemsize 0 ('U0', 'S0'): an array of 2**62 such items has no
        # bytes to check its shape against, and numpy loops over all of them
        if (self.dtype.kind not in DTYPE_KINDS or self.dtype.fields
                or self.dtype.itemsize == 0):
            raise _refuse(f'dtype({spec!r})')

    def __setstate__(self, state: Any) -> None:
        dtype = getattr(self, 'dtype', None)
        endian = state[1] if isinstance(state, tuple) and len(state) > 1 \
            else None
        if dtype is None or endian not in ('<', '>', '|', '='):
            raise _refuse(f'dtype state {state!r}')
        if endian in ('<', '>'):
            dtype = dtype.newbyteorder(endian)
        if state != dtype.__reduce__()[2]:
            raise _refuse(f'dtype state {state!r}')
        self.dtype = dtype

    def __repr__(self) -> str:
        return f'DtypeSpec({getattr(self, "dtype", None)!r})'


def _check_text(dtype: np.dtype, raw: bytes) -> None:
    """A ``U`` dtype's bytes must be valid UTF-32 code points (numpy raises
    ``SystemError`` reading one that is not, e.g. a surrogate)."""
    if dtype.kind != 'U':
        return
    codec = 'utf-32-be' if dtype.byteorder == '>' else 'utf-32-le'
    try:
        raw.decode(codec)
    except UnicodeDecodeError as err:
        raise _refuse(f'{dtype} text that is not UTF-32 (byte '
                      f'{err.start})') from None


def empty_bytes(*args: Any) -> bytes:
    """``bytes()``, what protocol 2 pickles ``b''`` as (an empty array's
    data); ``bytes(n)`` would allocate ``n`` bytes, so any argument is
    refused."""
    if args:
        raise _refuse(f'bytes() with {len(args)} argument(s)')
    return b''


def _dtype_of(value: Any) -> np.dtype:
    if not isinstance(value, DtypeSpec) or not hasattr(value, 'dtype'):
        raise _refuse(f'{type(value).__name__} where a dtype belongs')
    return value.dtype


class _NdarrayName:
    """What the global ``numpy.ndarray`` unpickles to: a name, not the
    class, so that no pickle can call ``np.ndarray(...)``."""

    def __repr__(self) -> str:
        return 'numpy.ndarray (name only)'


NDARRAY_NAME = _NdarrayName()


class SafeArray(np.ndarray):
    """The array :func:`reconstruct` returns, filled by a checked ``BUILD``.

    Pickles as a plain ``np.ndarray``; :func:`restore_numpy` makes it one.
    """

    def __setstate__(self, state: Any) -> None:
        # a second BUILD would free the data that a tensor made from this
        # array by torch's allowlisted _rebuild_device_tensor_from_numpy
        # still points to (read after free, found by trying it)
        if getattr(self, '_built', False):
            raise _refuse('a second state for one array')
        if not (isinstance(state, tuple) and len(state) == 5
                and state[0] == 1 and type(state[0]) is int):
            raise _refuse(f'array state of {type(state).__name__}')
        _, shape, spec, fortran, raw = state
        dtype = _dtype_of(spec)
        if not (isinstance(shape, tuple)
                and all(type(n) is int and n >= 0 for n in shape)
                and isinstance(fortran, bool)
                and isinstance(raw, (bytes, bytearray))):
            raise _refuse('array shape, order or data')
        if len(raw) != math.prod(shape) * dtype.itemsize:
            raise _refuse(f'array of shape {shape} and {dtype} with '
                          f'{len(raw)} bytes')
        _check_text(dtype, bytes(raw))
        self._built = True
        np.ndarray.__setstate__(self, (1, shape, dtype, fortran, bytes(raw)))

    def __reduce__(self) -> tuple:
        return self.view(np.ndarray).__reduce__()


def reconstruct(subtype: Any, shape: Any, dummy: Any) -> SafeArray:
    """numpy's ``_reconstruct(ndarray, (0,), b'b')``; anything else is
    refused."""
    if subtype is not NDARRAY_NAME or shape != (0, ) or dummy != b'b':
        raise pickle.UnpicklingError(
            'forbidden global numpy._core.multiarray._reconstruct('
            f'{type(subtype).__name__})')
    return SafeArray((0, ), np.int8)


def scalar(spec: Any, raw: Any) -> np.generic:
    """numpy's ``scalar(dtype, bytes)`` with the byte count checked."""
    dtype = _dtype_of(spec)
    if not isinstance(raw, bytes) or len(raw) != dtype.itemsize:
        raise _refuse(f'{dtype} scalar from {type(raw).__name__}')
    _check_text(dtype, raw)
    return _multiarray.scalar(dtype, raw)


def restore_numpy(loaded: Any) -> Any:
    """``loaded`` with every :class:`SafeArray` made a plain ``np.ndarray``
    view and every :class:`DtypeSpec` its ``np.dtype``, in containers and
    object attributes (a ``HistoryBuffer``'s, a state dict's ``_metadata``);
    lists, dicts and ``__dict__`` are changed in place, tuples rebuilt.
    An object of a stand-in class with an ``unpickled_as`` attribute (see
    :mod:`.history_buffer_pickles`) becomes an instance of that class."""
    done: dict[int, Any] = {}

    def fix(value: Any) -> Any:
        if isinstance(value, SafeArray):
            return value.view(np.ndarray)
        if isinstance(value, DtypeSpec):
            return getattr(value, 'dtype', value)
        real = getattr(type(value), 'unpickled_as', None)
        if real is not None:  # a checked stand-in: the class it stands for
            value.__class__ = real
        key = id(value)
        if key in done:
            return done[key]
        done[key] = value
        if isinstance(value, tuple):
            done[key] = type(value)(fix(v) for v in value) if type(
                value) is tuple else value
        elif isinstance(value, list):
            value[:] = [fix(v) for v in value]
        elif isinstance(value, dict):
            for k, v in value.items():
                value[k] = fix(v)
        if not isinstance(value, type) and isinstance(
                getattr(value, '__dict__', None), dict):
            attributes = vars(value)
            for k, v in list(attributes.items()):
                attributes[k] = fix(v)
        return done[key]

    return fix(loaded)
