"""Paths in a resumed message hub stay inside the run's work dir.

mmengine keeps some hooks' state in the message hub's ``runtime_info``, and a
resumed checkpoint brings it back. Some of it becomes file operations: the
stock ``CheckpointHook`` deletes the resumed ``best_ckpt`` when a better one is
saved, and ``out_dir / filename_tmpl.format(step)`` for each superseded entry
of ``keep_ckpt_ids``. A checkpoint is hostile data, so no path it carries may
reach them unless it lies inside the run's work dir; the rule is by value (any
key), not by today's field names. :class:`~..engine.KillSafeCheckpointHook`
also refuses to delete outside the run; this closes the route for every hook.
"""
from __future__ import annotations

import logging
import os
from typing import Any

from mmengine.logging import print_log

from .checkpoint_errors import one_line


def _escapes(text: str, root: str) -> bool:
    """Whether ``text``, read as a path under ``root`` (absolute paths as
    they are), names a place outside ``root`` (links resolved)."""
    if '\n' in text or '\0' in text or len(text) > 4096:
        return False  # config text and the like: not a path any hook joins
    parts = text.replace('\\', '/').split('/')
    if not (os.path.isabs(text) or '..' in parts):
        return False  # a plain relative name stays under whatever it is joined to
    real_root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(real_root, text))
    return target != real_root and not target.startswith(real_root + os.sep)


def drop_paths_outside(hub: dict, filename: str, work_dir: Any) -> None:
    """Drop the message hub's ``runtime_info`` entries holding a path (a
    string, or strings in a list) outside the run's work dir, with one
    warning each.

    Hooks turn such entries into file operations (mmengine's
    ``CheckpointHook`` deletes the resumed ``best_ckpt`` when a better one
    is saved, and ``out_dir/filename_tmpl.format(step)`` for each of
    ``keep_ckpt_ids``): whatever the key, a path from a file never reaches
    them unless it lies inside the work dir. Dropping forgets, and deletes
    nothing.
    """
    info = hub.get('runtime_info')
    if not isinstance(work_dir, str) or not isinstance(info, dict):
        return
    for key in list(info):
        value = info[key]
        texts = [value] if isinstance(value, str) else [
            v for v in value if isinstance(v, str)] if isinstance(value, (list, tuple)) else []
        outside = [t for t in texts if _escapes(t, work_dir)]
        if outside:
            del info[key]
            print_log(f"checkpoint '{filename}': message_hub runtime_info[{key!r}] names "
                      f'{one_line(repr(outside[0]), 80)}, outside the work dir '
                      f'{work_dir!r}; not resumed (nothing there is deleted or written)',
                      logger='current', level=logging.WARNING)
