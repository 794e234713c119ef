"""Test-only launcher: run a tool and SIGKILL it at a chosen moment of a
checkpoint save, to test what a kill leaves on disk.

    python tests/test_reliability/kill_switch.py write:iter_2.pth tools/train.py ARGS...
    python tests/test_reliability/kill_switch.py write:last_checkpoint:2 tools/train.py ...
    python tests/test_reliability/kill_switch.py remove:iter_1.pth tools/train.py ARGS...

``write:NAME[:N]`` kills the process halfway through the N-th (default: first)
write of the file NAME (``last_checkpoint`` or a checkpoint; through the
atomic writer's ``_write`` seam, or Python's ``open`` for files MMEngine
writes in place); ``remove:NAME`` kills it just before MMEngine's file
backend deletes NAME.
"""
import builtins
import io
import os
import os.path as osp
import runpy
import signal
import sys

from mmengine.fileio.backends import LocalBackend

from rkan_mmdet.engine import atomic_checkpoint


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _half_then_die(file: io.BufferedWriter, data: bytes) -> None:
    file.write(data[:len(data) // 2])
    file.flush()
    _die()


def arm(event: str, name: str, nth: int = 1) -> None:
    """Install the kill for the ``nth`` ``event`` ('write' or 'remove') of
    the file ``name``."""
    seen = [0]

    def due() -> bool:
        seen[0] += 1
        return seen[0] == nth

    if event == 'remove':
        remove = LocalBackend.remove

        def remove_or_die(self, filepath) -> None:
            if osp.basename(str(filepath)) == name and due():
                _die()
            remove(self, filepath)

        LocalBackend.remove = remove_or_die
        return
    write, real_open = atomic_checkpoint._write, builtins.open

    def write_or_die(file, data: bytes) -> None:  # temp file '.<name>.<random>.tmp'
        path = os.readlink(f'/proc/self/fd/{file.fileno()}')  # opened by fd: no name
        mine = osp.basename(path).startswith(f'.{name}.') and due()
        (_half_then_die if mine else write)(file, data)

    class _InPlace(io.TextIOWrapper):
        def write(self, text: str) -> int:
            super().write(text[:len(text) // 2])
            self.flush()
            _die()

    def open_or_die(file, mode='r', *args, **kwargs):
        if osp.basename(str(file)) == name and mode == 'w' and due():
            return _InPlace(real_open(file, 'wb'))
        return real_open(file, mode, *args, **kwargs)

    atomic_checkpoint._write = write_or_die
    builtins.open = open_or_die


if __name__ == '__main__':
    event, target, *nth = sys.argv[1].split(':')
    tool = sys.argv[2]
    arm(event, target, *map(int, nth))
    sys.argv = sys.argv[2:]
    sys.path[0] = osp.dirname(osp.abspath(tool))
    runpy.run_path(tool, run_name='__main__')
