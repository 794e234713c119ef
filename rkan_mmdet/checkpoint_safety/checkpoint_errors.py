"""The errors raised for checkpoints that cannot be loaded.

Every message is exactly one line that names the checkpoint and says what is
wrong with it, so that ``tools/train.py``/``tools/test.py`` can print
``error: <message>`` and exit 2 by catching :class:`CheckpointError`.

``CheckpointError(ValueError)``
    the file is missing, a directory, empty, truncated, not a checkpoint,
    or a checkpoint of another model;
``CheckpointNotFoundError(CheckpointError, FileNotFoundError)``
    the path does not exist (still a ``FileNotFoundError``, as mmengine's);
``UnsafeCheckpointError(CheckpointError, pickle.UnpicklingError)``
    the checkpoint needs something that could run code: a pickle global
    outside the allowlist, a TorchScript archive, or config text that is not
    plain data (still an ``UnpicklingError``, as torch's refusal).
"""
from __future__ import annotations

import pickle
from typing import Optional


def one_line(text: object, limit: int = 300) -> str:
    """``str(text)`` with each whitespace run (newlines included) made one
    space and other unprintable characters (a terminal escape in a name
    taken from a file) made ``?``, cut to ``limit`` characters."""
    flat = ' '.join(str(text).split())
    flat = ''.join(c if c.isprintable() else '?' for c in flat)
    return flat if len(flat) <= limit else flat[:limit - 3] + '...'


class CheckpointError(ValueError):
    """A checkpoint cannot be loaded; ``str(err)`` is one line.

    Args:
        message: what is wrong; it quotes ``source`` as ``'<source>'``.
        source: the path or URL the message names, if any.
    """

    def __init__(self, message: str, source: Optional[str] = None) -> None:
        super().__init__(one_line(message, limit=1000))
        self.source = source

    def __str__(self) -> str:  # OSError subclasses would show errno fields
        return self.args[0]

    def for_source(self, source: str) -> 'CheckpointError':
        """The same error naming ``source`` (e.g. the ``s3://`` URL a
        download came from) instead of ``self.source``."""
        if self.source is None or self.source == source:
            return self
        message = self.args[0].replace(f"'{self.source}'", f"'{source}'", 1)
        return type(self)(message, source)


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """A checkpoint path that does not exist."""


class UnsafeCheckpointError(CheckpointError, pickle.UnpicklingError):
    """A checkpoint needs globals, code or config code that is not allowed."""


class MalformedFieldError(CheckpointError):
    """A field of a checkpoint is malformed, found by code that does not
    know the file (a hook applying it); the entry point that loaded the file
    re-raises it with :meth:`in_file`."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f'checkpoint field {field} is malformed: {problem}')
        self.field, self.problem = field, one_line(problem, 300)

    def in_file(self, source: str) -> CheckpointError:
        """The same error naming the checkpoint ``source``."""
        return CheckpointError(
            f"checkpoint '{source}' cannot be resumed from: its {self.field} "
            f'{self.problem}', source)
