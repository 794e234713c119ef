"""Atomic checkpoint saving: a half-written checkpoint never replaces a good one.

Why this exists
---------------
mmengine 0.10.7 saves a checkpoint with ``LocalBackend.put``, i.e.
``open(final_path, 'wb').write(data)``. A run killed (SIGKILL, OOM killer,
pre-empted node) or a disk that fills up in the middle of that write leaves a
truncated file under the final name. When that name already held a good
checkpoint (``latest.pth``-style names, or re-saving the same iteration after
a resume), the good one is gone, and ``--resume`` later fails on a corrupt zip.

:func:`atomic_save_checkpoint` writes local checkpoints to a temporary file in
the *same* folder (so the rename never crosses a file system), ``fsync``s it,
and ``os.replace``s it onto the final name, which POSIX makes atomic; the
folder is ``fsync``ed too so the rename survives a power loss. A crash at any
point leaves either the old file or the complete new one under the final
name (a killed process can leave a ``.<name>.<8 chars>.tmp`` file behind,
never a partial ``<name>``; :func:`remove_interrupted_saves` deletes those
leftovers, ``KillSafeCheckpointHook`` calls it before training). Remote URIs
(``s3://``, ``pavi://``, ...) go to mmengine's own writer unchanged.

Patched names (mmengine binds the function by value in three places):
``mmengine.runner.checkpoint.save_checkpoint`` (strategies import it from
there at call time), ``mmengine.runner.save_checkpoint`` (``CheckpointHook``
imports it from the package) and ``mmengine.runner.runner.save_checkpoint``
(``Runner.save_checkpoint`` calls that module global). A function patch rather
than a ``CheckpointHook`` subclass keeps every config's ``default_hooks``
unchanged.
"""
from __future__ import annotations

import io
import os
import os.path as osp
import re
import tempfile
from typing import List, Optional

import torch
from mmengine import runner as _runner_pkg
from mmengine.runner import checkpoint as _checkpoint
from mmengine.runner import runner as _runner

_mmengine_save_checkpoint = _checkpoint.save_checkpoint

#: Name of the temporary file of :func:`atomic_write_bytes` (``mkstemp``
#: adds 8 characters of ``[a-z0-9_]``).
_TEMP_NAME = re.compile(r'\..+\.[a-z0-9_]{8}\.tmp')


def _is_local(filename: str) -> bool:
    return '://' not in str(filename)


def _write(file: io.BufferedWriter, data: bytes) -> None:
    """Write all of ``data`` (a seam the tests replace to crash mid-write)."""
    file.write(data)


def atomic_write_bytes(data: bytes, filename: str) -> None:
    """Write ``data`` to ``filename`` so that readers see the old or the new
    content, never a mix: temp file in the same folder, fsync, ``os.replace``."""
    folder = osp.dirname(osp.abspath(filename))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f'.{osp.basename(filename)}.',
                               suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as file:
            _write(file, data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, filename)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_interrupted_saves(folder: str) -> List[str]:
    """Delete the temporary files that killed :func:`atomic_write_bytes`
    calls left in ``folder``; the removed paths."""
    if not osp.isdir(folder):
        return []
    leftovers = [osp.join(folder, name) for name in sorted(os.listdir(folder))
                 if _TEMP_NAME.fullmatch(name)]
    for path in leftovers:
        if osp.isfile(path):
            os.remove(path)
    return leftovers


def atomic_save_checkpoint(checkpoint: dict, filename: str,
                           file_client_args: Optional[dict] = None,
                           backend_args: Optional[dict] = None) -> None:
    """Drop-in for ``mmengine.runner.checkpoint.save_checkpoint`` that saves
    local files atomically (see the module docstring)."""
    if not _is_local(filename) or file_client_args or backend_args:
        return _mmengine_save_checkpoint(checkpoint, filename, file_client_args,
                                         backend_args)
    with io.BytesIO() as buffer:
        torch.save(checkpoint, buffer)
        atomic_write_bytes(buffer.getvalue(), str(filename))


def install_atomic_checkpoint_saving() -> None:
    """Point mmengine's three ``save_checkpoint`` names at the atomic saver."""
    for module in (_checkpoint, _runner_pkg, _runner):
        module.save_checkpoint = atomic_save_checkpoint


__all__ = ['atomic_save_checkpoint', 'atomic_write_bytes',
           'install_atomic_checkpoint_saving', 'remove_interrupted_saves']
