"""Look at checkpoint bytes without unpickling them.

:class:`Content` reads a file or an in-memory buffer; :func:`scan_pickle`
tokenizes one pickle with ``pickletools.genops`` (nothing is executed) and
lists the globals it imports; :func:`named_in` reads the globals torch's
refusal message names and :func:`forbidden_among` keeps those outside the
allowlist. Both name a global by what it *is* in Python 3: a protocol-2
pickle of ``subprocess.run`` is written as ``commands run`` (pickle's
Python 2 compatibility names) and is reported as ``subprocess.run``.
"""
from __future__ import annotations

import io
import os
import os.path as osp
import pickletools
import re
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from typing import IO, Any, Iterable, Optional, Union

import torch

from .checkpoint_errors import one_line

#: Bytes read to recognise a file (tar's ``ustar`` mark sits at 257).
HEAD_BYTES = 4096


def python3_name(module: str, name: str) -> str:
    """``module.name`` as Python 3 resolves a pickled global (the
    unpickler's ``fix_imports`` mapping of Python 2 names)."""
    module, name = NAME_MAPPING.get(
        (module, name), (IMPORT_MAPPING.get(module, module), name))
    return f'{module}.{name}'


_NAMED_GLOBAL_PATTERNS = (
    r'GLOBAL (\S+) was not an allowed global',
    r'unsupported GLOBAL (\S+) whose module',
    r'forbidden global (\S+)',
)

class Content:
    """The bytes of a checkpoint: a file ``path`` or an in-memory ``data``."""

    def __init__(self,
                 path: Optional[str] = None,
                 data: Optional[bytes] = None) -> None:
        self.path, self.data = path, data
        self.size = len(data) if data is not None else osp.getsize(path)

    def open(self) -> IO[bytes]:
        if self.data is not None:
            return io.BytesIO(self.data)
        return open(self.path, 'rb')

    def head(self, n: int = HEAD_BYTES) -> bytes:
        with self.open() as f:
            return f.read(n)

    def tail(self, n: int) -> bytes:
        with self.open() as f:
            f.seek(max(0, self.size - n))
            return f.read()


def content_of(f: Union[str, os.PathLike, IO[bytes]],
               start: int = 0) -> Content:
    """The :class:`Content` of a path, or of a seekable buffer from
    ``start`` on."""
    if isinstance(f, (str, os.PathLike)):
        return Content(path=os.fspath(f))
    f.seek(start)
    return Content(data=f.read())


def allowed_globals() -> set[str]:
    """``module.name`` of every global torch's weights-only unpickler takes
    (its defaults and those added with ``add_safe_globals``)."""
    wo = torch._weights_only_unpickler
    return {*wo._get_allowed_globals(), *wo._get_user_allowed_globals()}


class _Capped:
    """A binary stream that never reads past ``limit`` bytes from here, so a
    forged length prefix (``BINUNICODE8`` of 2**62 bytes) cannot make
    ``read`` allocate it."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self.stream, self.left = stream, limit

    def read(self, n: int = -1) -> bytes:
        data = self.stream.read(self.left if n < 0 else min(n, self.left))
        self.left -= len(data)
        return data

    def readline(self) -> bytes:
        data = self.stream.readline(self.left)
        self.left -= len(data)
        return data


def scan_pickle(stream: IO[bytes],
                limit: int) -> tuple[list[str], Optional[str], int]:
    """Tokenize one pickle of at most ``limit`` bytes from ``stream``,
    without executing it.

    Returns the ``module.name`` globals it imports (``GLOBAL``, ``INST``,
    and the two strings before ``STACK_GLOBAL``, memoized ones included),
    which a forged stream can hide from this scan but not from torch's
    unpickler (it refuses ``STACK_GLOBAL``/``INST`` outright); ``None`` if it
    ends with ``STOP``, else what stopped the scan; and its protocol.
    """
    found: list[str] = []
    strings: list[Any] = []
    memo: dict[int, Any] = {}
    protocol = 0
    try:
        for op, arg, _ in pickletools.genops(_Capped(stream, limit)):
            if op.name == 'PROTO':
                protocol = arg
            elif op.name in ('GLOBAL', 'INST'):
                found.append(python3_name(*arg.split(' ', 1)))
            elif op.name == 'STACK_GLOBAL':
                found.append('.'.join(map(str, strings[-2:])))
            elif op.name == 'MEMOIZE':
                memo[len(memo)] = strings[-1] if strings else None
            elif op.name in ('BINPUT', 'LONG_BINPUT', 'PUT'):
                memo[int(arg)] = strings[-1] if strings else None
            elif op.name in ('BINGET', 'LONG_BINGET', 'GET'):
                strings.append(memo.get(int(arg)))
            elif isinstance(arg, str):
                strings.append(arg)
    except (ValueError, EOFError, UnicodeDecodeError) as err:
        # genops reports a cut stream as "pickle exhausted before seeing STOP"
        return list(dict.fromkeys(found)), one_line(err, 120), protocol
    return list(dict.fromkeys(found)), None, protocol


def named_in(message: str) -> list[str]:
    """The globals torch's refusal ``message`` names (it writes
    ``builtins.exec`` as ``exec``)."""
    named = [m for p in _NAMED_GLOBAL_PATTERNS for m in re.findall(p, message)]
    return list(dict.fromkeys(
        python3_name(*n.rsplit('.', 1)) if '.' in n else f'builtins.{n}'
        for n in named))


def forbidden_among(names: Iterable[str]) -> list[str]:
    allowed = allowed_globals()
    return [n for n in dict.fromkeys(names) if n not in allowed]
