"""Say in one line why a checkpoint file could not be loaded.

``torch.load`` reports a bad file with whatever its parser tripped on: an
empty file is a bare ``EOFError``, random bytes ``IndexError: pop from empty
list``, a text file ``KeyError: 101``, a truncated zip a miniz
``RuntimeError``, and a JSON file or a plain pickle gets a long "weights only
load failed" hint. :func:`diagnose` looks at the bytes themselves, *without
unpickling anything* (``pickletools.genops`` only tokenizes), and turns that
into one :class:`~.checkpoint_errors.CheckpointError` line:

============================  ===========================================
file                          the message says
============================  ===========================================
missing / a directory         "does not exist" / "is a directory"
0 bytes                       "is an empty file (0 bytes)"
zip without its end           "is truncated: its zip archive ends after N"
pickle that does not parse    "is truncated or corrupt: its pickle ..."
JSON / HTML / LFS pointer     "is not a checkpoint: it is a JSON file" ...
other text / other bytes      "... it is a text file of N bytes" ...
``pickle.dump`` output        "is not a checkpoint: it is a plain pickle"
TorchScript archive           refused: loading it runs its code
forbidden pickle global       refused, naming the global(s)
============================  ===========================================

"Refused" errors are :class:`~.checkpoint_errors.UnsafeCheckpointError`;
only a global outside the allowlist or TorchScript code makes a file unsafe.
Any other error raised while torch reads a file that looks like a
checkpoint (an allowed global refusing its arguments, e.g. numpy's "object
pickle not returning list"; a storage of the wrong size; a CUDA
``map_location`` on a CPU machine) is "cannot be loaded: reading it fails
(<error>)"; ``None`` is returned only for errors ``torch.load`` raises about
its own arguments, which keep their type and traceback.
"""
from __future__ import annotations

import json
import os.path as osp
import pickle
import zipfile
from typing import Iterable, Optional


from .checkpoint_errors import (CheckpointError, CheckpointNotFoundError,
                                UnsafeCheckpointError, one_line)
from .pickle_scan import Content, forbidden_among, named_in, scan_pickle

#: Text files up to this size are parsed to tell JSON from other text.
_JSON_LIMIT = 16 << 20
#: ``pickle.dumps(torch.serialization.MAGIC_NUMBER, protocol=2)``: the start
#: of a file written with ``_use_new_zipfile_serialization=False``.
LEGACY_TORCH_HEAD = b'\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19.'
_ZIP_HEADS = (b'PK\x03\x04', b'PK\x05\x06')
_ZIP_END = b'PK\x05\x06'
#: What Python's zipfile raises for a damaged archive (names that are not
#: UTF-8, "zip file version 8.9", "is encrypted", a member cut short, ...).
_ZIP_ERRORS = (zipfile.BadZipFile, NotImplementedError, RuntimeError,
               EOFError, ValueError, OSError)
_PICKLE_HEADS = tuple(b'\x80' + bytes([p]) for p in (2, 3, 4, 5))
ALLOWLIST_HINT = ('only tensors and rkan_mmdet.checkpoint_safety.'
                  'MMENGINE_CHECKPOINT_GLOBALS are allowed.')


def bad(source: str, problem: str,
        cls: type = CheckpointError) -> CheckpointError:
    """``cls("checkpoint '<source>' <problem>")``."""
    return cls(f"checkpoint '{source}' {problem}", source)


def refusal(source: str, names: Iterable[str]) -> UnsafeCheckpointError:
    """The one line refusing ``source`` for the forbidden global ``names``."""
    return UnsafeCheckpointError(
        f"Refusing to load checkpoint '{source}': it needs forbidden "
        f"global(s) {', '.join(names)}; {ALLOWLIST_HINT}", source)


def missing_or_not_a_file(path: str,
                          source: str) -> Optional[CheckpointError]:
    """The error for a ``path`` that is not an existing regular file."""
    if osp.isdir(path):
        return bad(source, 'is a directory, not a checkpoint file')
    if not osp.exists(path):
        return bad(source, 'does not exist', CheckpointNotFoundError)
    if not osp.isfile(path):  # reading a FIFO would block, /dev/zero not end
        return bad(source, 'is not a regular file (a device, pipe or socket)')
    return None


def _pickle_problem(source: str, err: BaseException, names: list[str],
                    stop: Optional[str]) -> Optional[CheckpointError]:
    """Refused if a forbidden global is named; truncated if the pickle does
    not parse; "rejected" for other unpickler refusals; else ``None``."""
    text = str(err)
    # in a stream that breaks off, torch may name the half-read global at
    # the break: only whole globals the scan saw before it count
    forbidden = forbidden_among(names) if stop is not None else (
        named_in(text) or forbidden_among(names))
    if forbidden:
        return refusal(source, forbidden)
    if stop is not None:
        return bad(source, 'is truncated or corrupt: its pickle stream does '
                   f'not parse ({stop})')
    if isinstance(err, pickle.UnpicklingError):
        reason = text.split('WeightsUnpickler error:')[-1]
        reason = one_line(reason.split('Check the documentation')[0], 160)
        return bad(source, 'is not a loadable checkpoint: the weights-only '
                   f'unpickler rejects it ({reason})')
    if _raised_while_reading(err):
        return bad(source, 'cannot be loaded: reading it fails '
                   f'({type(err).__name__}: {one_line(err, 160)})')
    return None


def _raised_while_reading(err: BaseException) -> bool:
    """Whether ``err`` was raised below ``torch.load`` itself: by the zip
    reader, the unpickler, or a call it made for the pickle (an allowed
    global refusing its arguments, a storage of the wrong size, a location
    tag this machine lacks), rather than by ``torch.load`` checking its own
    arguments (``mmap=True`` with a buffer)."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    code = tb.tb_frame.f_code
    return not (code.co_name == 'load'
                and code.co_filename.endswith(osp.join('torch',
                                                       'serialization.py')))


def _zip_problem(content: Content, source: str,
                 err: BaseException) -> Optional[CheckpointError]:
    try:
        with content.open() as f, zipfile.ZipFile(f) as zf:
            names = zf.namelist()
            if any(n.endswith('/constants.pkl') for n in names):
                return bad(source, 'is a TorchScript archive, and loading '
                           'one runs its code; save a state dict with '
                           'torch.save instead', UnsafeCheckpointError)
            data_pkl = next((n for n in names if n.endswith('/data.pkl')
                             and n.count('/') == 1), None)
            if data_pkl is None:
                return bad(source, 'is not a checkpoint: it is a zip archive '
                           'without data.pkl, not written by torch.save')
            broken = zf.testzip()
            if broken is not None:
                return bad(source, f'is corrupt: its member {broken} fails '
                           'its CRC check')
            with zf.open(data_pkl) as pkl:
                found, stop, _ = scan_pickle(pkl,
                                             zf.getinfo(data_pkl).file_size)
    except _ZIP_ERRORS as bad_zip:
        tail = content.tail((1 << 16) + 22)
        end = tail.rfind(_ZIP_END)  # a whole end record is 22 bytes
        if end < 0 or len(tail) - end < 22:
            return bad(source, 'is truncated: its zip archive ends after '
                       f'{content.size} bytes, without its central directory')
        return bad(source, 'is corrupt: its zip archive does not read '
                   f'({type(bad_zip).__name__}: {one_line(bad_zip, 160)})')
    return _pickle_problem(source, err, found, stop)


def _legacy_problem(content: Content, source: str,
                    err: BaseException) -> Optional[CheckpointError]:
    names: list[str] = []
    stop = None
    with content.open() as f:
        f.read(len(LEGACY_TORCH_HEAD))
        for _ in range(3):  # protocol version, system info, the object
            found, stop, _ = scan_pickle(f, content.size - f.tell())
            names += found
            if stop is not None:
                break
    if isinstance(err, EOFError) or 'EOF' in str(err):
        if stop is None and not named_in(str(err)) and not forbidden_among(names):
            return bad(source, 'is truncated: its tensor data ends early')
    return _pickle_problem(source, err, names, stop)


def _describe_text(content: Content, head: bytes) -> Optional[str]:
    """What UTF-8 text this is: JSON, a Git LFS pointer, HTML, other text.
    The text itself is not quoted: the path may name any readable file."""
    try:
        text = head.decode('utf-8')
    except UnicodeDecodeError as cut:
        if cut.start < len(head) - 3:  # not just a cut multi-byte character
            return None
        text = head[:cut.start].decode('utf-8')
    if any(c < ' ' and c not in '\t\n\r\f' for c in text):
        return None
    start = text.lstrip()
    if start.startswith('version https://git-lfs'):
        return 'a Git LFS pointer, not the file it points to (git lfs pull)'
    if start[:15].lower().startswith(('<!doctype html', '<html')):
        return 'an HTML page (a download that returned a web page?)'
    if start[:1] in ('{', '[') and content.size <= _JSON_LIMIT:
        with content.open() as f:
            try:
                json.loads(f.read().decode('utf-8'))
                return 'a JSON file'
            except (ValueError, UnicodeDecodeError):
                pass
    return f'a text file of {content.size} bytes'


def diagnose(content: Content, source: str,
             err: BaseException) -> Optional[CheckpointError]:
    """The one-line error for ``content``, on which ``torch.load`` failed
    with ``err``; ``None`` when the bytes look sound and ``err`` is not about
    them (the caller then re-raises ``err``)."""
    if content.size == 0:
        return bad(source, 'is an empty file (0 bytes)')
    head = content.head()
    if head.startswith(_ZIP_HEADS) or (len(head) < 4
                                       and _ZIP_HEADS[0].startswith(head)):
        return _zip_problem(content, source, err)
    if len(head) >= 262 and head[257:262] == b'ustar':
        return bad(source, 'is in the tar format of torch < 0.4, which '
                   'cannot be loaded weights-only; re-save it with a '
                   'current torch')
    if head.startswith(LEGACY_TORCH_HEAD):
        return _legacy_problem(content, source, err)
    with content.open() as f:
        names, stop, protocol = scan_pickle(f, content.size)
    # protocol >= 2 starts with PROTO; a protocol 0/1 pickle is only taken
    # for one if it parses to its end (text starting with 'c' is a GLOBAL)
    if head.startswith(_PICKLE_HEADS) or stop is None:
        forbidden = forbidden_among(names) if stop is not None else (
            named_in(str(err)) or forbidden_among(names))
        if forbidden:
            return refusal(source, forbidden)
        if stop is not None:
            return bad(source, 'is truncated or corrupt: its pickle stream '
                       f'does not parse ({stop})')
        return bad(source, 'is not a checkpoint: it is a plain pickle '
                   f'(protocol {protocol}), not a file written by torch.save')
    what = _describe_text(content, head) or (
        f'unrecognized binary data (starts with {head[:8].hex(" ")})')
    return bad(source, f'is not a checkpoint: it is {what}')
