"""MMEngine's ``CheckpointHook`` with an order of operations that no kill can
break: save the new checkpoint, then point ``last_checkpoint`` at it, then
delete the outdated ones.

Why this exists
---------------
MMEngine 0.10.7's ``CheckpointHook`` deletes the oldest checkpoint *before*
saving the next one (``max_keep_ckpts``), and the previous best one before
saving a new best, and writes ``last_checkpoint`` in place. With
``max_keep_ckpts=1`` a SIGKILL during the save leaves no checkpoint at all and
a ``last_checkpoint`` naming the deleted file; a kill while ``last_checkpoint``
is rewritten leaves it empty.

Here (checkpoints themselves are written atomically by
:mod:`.atomic_checkpoint`):

1. the new checkpoint is saved under its final name;
2. ``last_checkpoint`` is replaced atomically (temporary file + rename);
3. only then are outdated checkpoints (and a superseded best one) deleted.

Before a save, every rank's random state is gathered for ``RNGStateHook``
(the Runner calls ``before_save_checkpoint`` hooks on rank 0 only).

A kill between any two steps leaves ``last_checkpoint`` naming a complete
file: the old one until step 2, the new one after. A kill between 2 and 3
leaves outdated checkpoints on disk; ``max_keep_ckpts`` counts the
checkpoints *on disk* (files named by ``filename_tmpl`` in a local
``out_dir``), so the next save deletes those too. Temporary files of
interrupted saves are deleted in ``before_train``.

Paths read from a resumed checkpoint's message hub (``best_ckpt``,
``keep_ckpt_ids``, which mmengine's hook deletes when superseded) are
deleted only when they lie inside this run's ``out_dir`` or work dir
(resolving symbolic links), and a superseded best checkpoint only when its
name starts with ``best_``; anything else is left alone with a warning.

The class is registered under its own name, ``KillSafeCheckpointHook``, in
MMEngine's root hook registry (the mmdet/mmpretrain scopes fall back to it);
mmengine's ``CheckpointHook`` stays what it is. This project's base configs
name it in ``default_hooks.checkpoint``, and ``tools/train.py`` puts it in
place of a plain ``CheckpointHook`` (:func:`use_kill_safe_checkpoint_hook`).
"""
from __future__ import annotations

import logging
import os
import os.path as osp
import re
from contextlib import contextmanager
from typing import Iterator, List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from .atomic_checkpoint import atomic_write_bytes, remove_interrupted_saves
from .rng_state_hook import RNGStateHook


def _gather_rng_states(runner) -> None:
    """Every rank runs the hook's saving code, while ``Runner.save_checkpoint``
    (and its ``before_save_checkpoint`` hooks) runs on rank 0 only: gather
    the ranks' random states for ``RNGStateHook`` here."""
    for hook in runner.hooks:
        if isinstance(hook, RNGStateHook):
            hook.gather_rank_states()


class _DeferredRemovals:
    """File backend proxy that records ``remove``/``rmtree`` instead of
    running them; everything else goes to the wrapped backend."""

    def __init__(self, backend) -> None:
        self._backend, self.paths = backend, []

    def remove(self, path: str) -> None:
        self.paths.append(path)

    def rmtree(self, path: str) -> None:
        self.paths.append(path)

    def __getattr__(self, name: str):
        return getattr(self._backend, name)


@HOOKS.register_module()
class KillSafeCheckpointHook(CheckpointHook):
    """``CheckpointHook`` (same arguments) that saves before it deletes and
    writes ``last_checkpoint`` atomically; see the module docstring."""

    def before_train(self, runner) -> None:
        super().before_train(runner)
        self._run_dirs = [str(self.out_dir), str(runner.work_dir)]
        if is_main_process() and '://' not in str(self.out_dir):
            for folder in set(self._run_dirs):
                remove_interrupted_saves(folder)

    def _inside_run(self, path: object) -> bool:
        """Whether ``path`` lies strictly inside ``out_dir`` or the work dir
        (symbolic links resolved; a remote path by its normalized text)."""
        if not isinstance(path, str) or not path:
            return False
        for root in getattr(self, '_run_dirs', [str(self.out_dir)]):
            if '://' in root:
                inside = path.startswith(root.rstrip('/') + '/') and (
                    '..' not in path[len(root):].split('/'))
            else:
                real_root = osp.realpath(root)
                inside = osp.realpath(path).startswith(real_root + os.sep)
            if inside:
                return True
        return False

    def _remove(self, path: str) -> None:
        if not self._inside_run(path):
            print_log(f'{type(self).__name__}: not deleting {path!r} (from '
                      'the resumed checkpoint): it is not inside the work '
                      'dir', logger='current', level=logging.WARNING)
            return
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # deepspeed saves folders
            self.file_backend.rmtree(path)

    @contextmanager
    def _removals_deferred(self) -> Iterator[_DeferredRemovals]:
        """Run the body with deletions recorded, then delete what it asked
        for except the checkpoints the hook still refers to."""
        backend = self.file_backend
        self.file_backend = deferred = _DeferredRemovals(backend)
        try:
            yield deferred
        finally:
            self.file_backend = backend
        current = [self.last_ckpt, getattr(self, 'best_ckpt_path', None),
                   *getattr(self, 'best_ckpt_path_dict', {}).values()]
        for path in deferred.paths:  # mmengine names them best_<key>_...
            if path not in current and is_main_process():
                if osp.basename(str(path)).startswith('best_'):
                    self._remove(path)
                else:
                    print_log(f'{type(self).__name__}: not deleting {path!r}: '
                              'not a best checkpoint', logger='current',
                              level=logging.WARNING)

    def _steps_on_disk(self) -> Optional[List[int]]:
        """The steps of the checkpoints ``filename_tmpl`` names in a local
        ``out_dir``, ascending; ``None`` when they cannot be listed."""
        tmpl = self.filename_tmpl
        if '://' in str(self.out_dir) or tmpl.count('{}') != 1 or not osp.isdir(
                self.out_dir):
            return None
        pattern = re.compile(re.escape(tmpl).replace(r'\{\}', r'(\d+)'))
        found = (pattern.fullmatch(n) for n in os.listdir(self.out_dir))
        return sorted(int(m.group(1)) for m in found if m)

    def _save_checkpoint_with_step(self, runner, step: int, meta: dict) -> None:
        self._save_and_prune(runner, step, meta)
        on_disk = self._steps_on_disk() if is_main_process() else None
        if self.max_keep_ckpts <= 0 or on_disk is None:
            return
        # what a kill between a save and its deletions left: every older
        # checkpoint beyond the newest max_keep_ckpts (newer ones are from
        # an earlier run that went further; they are left alone)
        older = [s for s in on_disk if s < step]
        keep = older[len(older) - (self.max_keep_ckpts - 1):] if (
            self.max_keep_ckpts > 1) else []
        for old_step in older[:len(older) - len(keep)]:
            self._remove(self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(old_step)))
        self.keep_ckpt_ids.clear()
        self.keep_ckpt_ids.extend([*keep, step])
        runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

    def _save_and_prune(self, runner, step: int, meta: dict) -> None:
        outdated: List[int] = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        _gather_rng_states(runner)
        runner.save_checkpoint(
            self.out_dir, filename, self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta,
            by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        atomic_write_bytes(str(self.last_ckpt).encode(),
                           osp.join(runner.work_dir, 'last_checkpoint'))
        for old_step in outdated:
            old = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old_step))
            if old != self.last_ckpt:
                self._remove(old)

    def _save_best_checkpoint(self, runner, metrics: dict) -> None:
        _gather_rng_states(runner)  # in case it saves (no draws in between)
        with self._removals_deferred():
            super()._save_best_checkpoint(runner, metrics)


#: What ``Runner`` builds when a config has no ``default_hooks.checkpoint``.
RUNNER_DEFAULT = dict(type='CheckpointHook', interval=1)
_PLAIN_NAMES = ('CheckpointHook', 'mmengine.CheckpointHook', CheckpointHook)


def use_kill_safe_checkpoint_hook(cfg) -> None:
    """Make the checkpoint hook of config ``cfg`` (a ``Config``) the kill-safe
    one, in place: a plain (mmengine) ``CheckpointHook`` or an absent entry,
    which the Runner would fill with one, becomes ``KillSafeCheckpointHook``
    with the same arguments; ``None`` (no checkpoints) and any other hook type
    are left alone."""
    if cfg.get('default_hooks') is None:
        cfg.default_hooks = {}
    if 'checkpoint' not in cfg.default_hooks:
        cfg.default_hooks.checkpoint = dict(RUNNER_DEFAULT)
    hook = cfg.default_hooks.checkpoint
    if isinstance(hook, dict) and hook.get('type') in _PLAIN_NAMES:
        hook['type'] = 'KillSafeCheckpointHook'
