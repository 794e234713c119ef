"""Malicious checkpoints for the checkpoint tests, one per pickle route.

Every payload, unpickled by the *full* unpickler, creates the ``marker``
file (:func:`test_checkpoint_payloads.test_every_payload_is_live` checks
that), so a test that finds no marker after a refused load shows that the
route was really closed, not that the payload was a dud.
"""
import builtins
import os
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any, Callable, Dict

import torch


class Reduce:
    """``__reduce__`` returning ``(func, args)``: the REDUCE opcode."""

    def __init__(self, func: Callable, *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple:
        return self.func, self.args


class MarkOnSetstate:
    """Pickled (protocol 2) as ``NEWOBJ(MarkOnSetstate)`` + ``BUILD(
    {'marker': ...})``, whose ``__setstate__`` writes the marker."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __setstate__(self, state: dict) -> None:
        Path(state['marker']).touch()


def touch(marker: Path) -> Reduce:
    """``os.system('touch <marker>')``."""
    return Reduce(os.system, f'touch {marker}')


# -- a tiny pickle assembler for routes ``pickle.dump`` does not write -----
def text(s: str) -> bytes:
    """``BINUNICODE``."""
    data = s.encode()
    return b'X' + struct.pack('<I', len(data)) + data


def glob(module: str, name: str) -> bytes:
    """``GLOBAL``."""
    return b'c' + module.encode() + b'\n' + name.encode() + b'\n'


def tup(*items: bytes) -> bytes:
    """``MARK`` items ``TUPLE``."""
    return b'(' + b''.join(items) + b't'


def call(func: bytes, *args: bytes) -> bytes:
    """``func`` ``(args)`` ``REDUCE``."""
    return func + tup(*args) + b'R'


def raw_bytes(data: bytes) -> bytes:
    """bytes as protocol 2 writes them: ``_codecs.encode(latin-1 str)``."""
    return call(glob('_codecs', 'encode'), text(data.decode('latin1')),
                text('latin1'))


def write_torch_zip(path: Path, data_pkl: bytes) -> None:
    """A ``torch.save`` archive whose ``data.pkl`` is ``data_pkl``."""
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as zf:
        zf.writestr('archive/data.pkl', data_pkl)
        zf.writestr('archive/byteorder', 'little')
        zf.writestr('archive/version', '3\n')


def object_array(items: bytes) -> bytes:
    """``numpy.ndarray`` of dtype object whose items are the pickled
    ``items`` (a list): ``_reconstruct`` + ``BUILD`` as numpy pickles it."""
    dtype_o = call(glob('numpy', 'dtype'), text('O'), b'\x89', b'\x88')
    array = call(glob('numpy._core.multiarray', '_reconstruct'),
                 glob('numpy', 'ndarray'), tup(b'K\x00'), raw_bytes(b'b'))
    state = tup(b'K\x01', tup(b'K\x01'), dtype_o, b'\x89', items)
    return array + state + b'b'


def _dump(path: Path, obj: Any, protocol: int) -> None:
    with open(path, 'wb') as f:
        pickle.dump(obj, f, protocol=protocol)


def _zip(obj_pkl: bytes) -> Callable[[Path], None]:
    return lambda path: write_torch_zip(path, b'\x80\x02' + obj_pkl + b'.')


def payloads(marker: Path) -> Dict[str, tuple[Callable[[Path], None], str]]:
    """``{route: (writer(path), forbidden global named in the refusal)}``."""
    system = glob('posix', 'system')
    cmd = text(f'touch {marker}')
    return {
        # torch.save (zip, protocol 2): REDUCE of a forbidden function
        'REDUCE os.system': (lambda p: torch.save(
            {'state_dict': touch(marker)}, p), 'posix.system'),
        'REDUCE builtins.exec': (lambda p: torch.save(
            {'x': Reduce(builtins.exec, f'open({str(marker)!r}, "w")')},
            p), 'builtins.exec'),
        # NEWOBJ + BUILD calling __setstate__ of a class the file names
        'NEWOBJ+BUILD __setstate__': (lambda p: torch.save(
            {'x': MarkOnSetstate(marker)},
            p), 'tests.test_utils.checkpoint_payloads.MarkOnSetstate'),
        # the legacy (non-zip) torch.save format
        'legacy torch.save': (lambda p: torch.save(
            {'x': touch(marker)}, p, _use_new_zipfile_serialization=False),
                              'posix.system'),
        # plain pickles: protocol 5 (FRAME, STACK_GLOBAL, MEMOIZE), 0 (text)
        'pickle 5 STACK_GLOBAL': (lambda p: _dump(p, {'x': touch(marker)}, 5),
                                  'posix.system'),
        'pickle 0 text GLOBAL': (lambda p: _dump(p, touch(marker), 0),
                                 'posix.system'),
        'pickle 0 INST': (lambda p: p.write_bytes(
            b'(S' + repr(str(marker)).encode() +
            b"\nS'w'\nibuiltins\nopen\n."), 'builtins.open'),
        'pickle 1 OBJ': (lambda p: p.write_bytes(
            b'(' + glob('builtins', 'open') + text(str(marker)) + text('w') +
            b'o.'), 'builtins.open'),
        # a persistent id that builds its "storage type" with os.system
        'BINPERSID storage': (_zip(
            tup(text('storage'), call(system, cmd), text('0'), text('cpu'),
                b'K\x01') + b'Q'), 'posix.system'),
        # torch's allowlisted rebuild function handed a forbidden callable
        '_rebuild_from_type_v2': (_zip(
            call(glob('torch._tensor', '_rebuild_from_type_v2'), system,
                 glob('torch', 'Tensor'), tup(cmd), b'}')), 'posix.system'),
        # a payload inside an allowlisted numpy object array
        'numpy object array': (_zip(
            object_array(b']' + call(system, cmd) + b'a')), 'posix.system'),
        # ... and inside an allowlisted HistoryBuffer's BUILD state
        'HistoryBuffer BUILD': (_zip(
            call(glob('mmengine.logging.history_buffer', 'HistoryBuffer')) +
            b'}' + text('x') + call(system, cmd) + b's' + b'b'),
                                'posix.system'),
    }


def invalid_utf32_scalar() -> bytes:
    """A numpy ``<U1`` scalar whose 4 bytes are a UTF-16 surrogate, not a
    code point (numpy raises ``SystemError`` reading it)."""
    dtype = call(glob('numpy', 'dtype'), text('U1'), b'\x89', b'\x88') + tup(
        b'K\x03', text('<'), b'NNN', b'K\x04', b'K\x04', b'K\x08') + b'b'
    return call(glob('numpy._core.multiarray', 'scalar'), dtype,
                raw_bytes(b'\x00\xd8\x00\x00'))


def zero_itemsize_array(length: int = 2**62) -> bytes:
    """An array of ``length`` items of dtype ``U0`` (item size 0: no bytes to
    check the shape against; numpy's ``mean()`` loops over every item)."""
    spec = call(glob('numpy', 'dtype'), text('U0'), b'\x89', b'\x88') + tup(
        b'K\x03', text('<'), b'NNN', b'K\x00', b'K\x04', b'K\x08') + b'b'
    return call(glob('numpy._core.multiarray', '_reconstruct'),
                glob('numpy', 'ndarray'), tup(b'K\x00'), raw_bytes(b'b')) + tup(
        b'K\x01', tup(b'\x8a\x08' + struct.pack('<q', length)), spec, b'\x89',
        raw_bytes(b'')) + b'b'
