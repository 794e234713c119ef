"""mmengine's ``HistoryBuffer`` from a pickle, without its ``__setstate__``.

The message hub of an mmengine checkpoint pickles ``HistoryBuffer`` objects.
Their own ``__setstate__`` copies the pickled ``statistics_methods`` into
``HistoryBuffer._statistics_methods``, a dict *shared by the class*: a
checkpoint could remap ``'mean'`` to ``HistoryBuffer.max`` for every buffer
of the process (or to any other allowlisted callable, which the next
``statistics('mean')`` calls). :class:`CheckedHistoryBuffer` stands for the
class while unpickling: its state must be what ``HistoryBuffer`` pickles
(``max_length`` a positive int; ``_log_history`` and ``_count_history``
1-D numeric arrays of equal length, at most ``max_length``), the stored
``statistics_methods`` are dropped unread, and no class-level or
module-level state is touched. :func:`~.numpy_pickles.restore_numpy` then
makes each one a plain ``HistoryBuffer``.
"""
from __future__ import annotations

import pickle
from typing import Any

import numpy as np
from mmengine.logging import HistoryBuffer

_STATE_KEYS = {'max_length', '_log_history', '_count_history',
               'statistics_methods'}


def _refuse(what: str) -> pickle.UnpicklingError:
    return pickle.UnpicklingError(f'HistoryBuffer state refused: {what}')


class CheckedHistoryBuffer(HistoryBuffer):
    """``HistoryBuffer`` as unpickled; made one by ``restore_numpy``."""

    unpickled_as = HistoryBuffer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:  # pickles create it empty, then BUILD it
            raise _refuse('constructor arguments')
        super().__init__()

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict) or not (
                _STATE_KEYS - {'statistics_methods'}) <= set(state) <= _STATE_KEYS:
            keys = sorted(map(str, state)) if isinstance(state, dict) else []
            raise _refuse(f'{type(state).__name__} {keys}')
        state = dict(state)
        if not isinstance(state.pop('statistics_methods', {}), dict):
            raise _refuse('statistics_methods')
        max_length = state['max_length']
        if type(max_length) is not int or max_length <= 0:
            raise _refuse(f'max_length {max_length!r}')
        arrays = [state['_log_history'], state['_count_history']]
        for array in arrays:
            if not (isinstance(array, np.ndarray) and array.ndim == 1
                    and array.dtype.kind in 'biuf'):
                raise _refuse('a history that is not a 1-D numeric array')
        if len(arrays[0]) != len(arrays[1]) or len(arrays[0]) > max_length:
            raise _refuse(f'histories of {len(arrays[0])} and '
                          f'{len(arrays[1])} values, max_length {max_length}')
        self.__dict__.update(state)
