"""What ``Runner.resume`` takes from a checkpoint, checked before it is used.

mmengine's ``Runner.resume`` sets the loop counters from ``meta['epoch']``
and ``meta['iter']``, reseeds from ``meta['seed']``, compares ``gpu_ids``
with the world size, loads the message hub, the optimizer and the parameter
schedulers, and (``strict=False``) skips weights of the wrong shape with a
log line. A malformed field ends in a traceback somewhere inside, or worse,
resumes into nonsense (a negative iteration, an epoch ``'x'``, a model
half left at its initialisation). :func:`check_resumable` refuses each in
one :class:`~.checkpoint_errors.CheckpointError` line naming the file and
the field, before anything is applied; :func:`applying` turns an error
raised while a field is applied (the optimizer's and schedulers'
``load_state_dict``) into such a line too, and checks what was loaded has
the kinds and shapes the live objects have.
"""
from __future__ import annotations

import contextlib
import math
import numbers
import re
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from .checkpoint_errors import CheckpointError, one_line
from .checkpoint_fit import state_dict_of
from .config_text import read_config_text
from .resumed_paths import drop_paths_outside

#: What applying a field raises when the field is malformed.
APPLY_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError,
                RuntimeError, AssertionError)
_MESSAGE_HUB_KEYS = ('log_scalars', 'runtime_info', 'resumed_keys')


def _fail(filename: str, field: str, problem: str) -> CheckpointError:
    return CheckpointError(f"checkpoint '{filename}' cannot be resumed from: "
                           f'its {field} {problem}', filename)


def _is_int(value: Any) -> bool:
    """An int or a numpy integer, not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(
        value, (bool, np.bool_))


def same_kind(current: Any, loaded: Any) -> bool:
    """Whether ``loaded`` can stand where ``current`` is: a number for a
    number, a bool for a bool, a sequence of as many such items, a tensor
    of the same shape, a string, a dict; ``None`` takes anything."""
    if current is None:
        return True
    if isinstance(current, bool):
        return isinstance(loaded, bool)
    if isinstance(current, (int, float)):
        return isinstance(loaded, (int, float)) and not isinstance(
            loaded, bool) and math.isfinite(loaded) == math.isfinite(current)
    if isinstance(current, (list, tuple)):
        return isinstance(loaded, (list, tuple)) and len(loaded) == len(
            current) and all(map(same_kind, current, loaded))
    if torch.is_tensor(current):
        return torch.is_tensor(loaded) and loaded.shape == current.shape
    for kind in (str, dict):
        if isinstance(current, kind):
            return isinstance(loaded, kind)
    return True


def _check_meta(meta: Any, filename: str, runner: Any) -> None:
    if not isinstance(meta, dict):
        raise _fail(filename, 'meta', f'is a {type(meta).__name__}')
    for key in ('epoch', 'iter'):
        value = meta.get(key)
        if not _is_int(value) or value < 0:
            raise _fail(filename, f"meta['{key}']",
                        f'is {value!r}, not a count (an int >= 0)')
    seed = meta.get('seed')
    if seed is not None and not (_is_int(seed) and 0 <= seed < 2**32):
        raise _fail(filename, "meta['seed']",
                    f'is {one_line(repr(seed), 60)}, not a seed (an int in '
                    '[0, 2**32))')
    if 'config' in meta:
        config = read_config_text(meta['config'],
                                  f"meta['config'] of '{filename}'")
        gpu_ids = config.get('gpu_ids')
        ints = isinstance(gpu_ids, (list, tuple)) and all(
            _is_int(i) for i in gpu_ids)
        gpu_ids = list(gpu_ids) if ints else None
        world = getattr(runner, '_world_size',  # FlexibleRunner: world_size
                        getattr(runner, 'world_size', None))
        scaled = (getattr(runner, 'auto_scale_lr', None) or {}).get('enable')
        if gpu_ids and world is not None and len(gpu_ids) != world and (
                not scaled):
            raise _fail(filename, "meta['config'] gpu_ids",
                        f'say it was trained on {len(gpu_ids)} GPU(s), and '
                        f'this run has {world} process(es); resume with as '
                        'many, or set auto_scale_lr.enable=True')
        meta['config'] = f'gpu_ids = {gpu_ids}\n'


def _check_message_hub(hub: Any, filename: str) -> None:
    if not isinstance(hub, dict):
        raise _fail(filename, 'message_hub', f'is a {type(hub).__name__}, '
                    'not a dict')
    for key in _MESSAGE_HUB_KEYS:
        if not isinstance(hub.get(key), dict):
            raise _fail(filename, f"message_hub['{key}']",
                        f'is {type(hub.get(key)).__name__}, not a dict')


def _check_weights(state: dict, model: nn.Module, filename: str,
                   revise_keys: Sequence) -> None:
    """Every key the model has must hold a tensor of the model's shape."""
    wanted = model.state_dict()
    for key, value in state.items():
        name = key
        for pattern, replacement in revise_keys:
            name = re.sub(pattern, replacement, str(name))
        if name in wanted and not (torch.is_tensor(value) and
                                   value.shape == wanted[name].shape):
            shape = tuple(value.shape) if torch.is_tensor(value) else type(
                value).__name__
            raise _fail(filename, f"state_dict['{key}']",
                        f"is {shape}, the model's is "
                        f'{tuple(wanted[name].shape)}')


def check_resumable(checkpoint: Any, filename: str, runner: Any = None,
                    model: Any = None,
                    revise_keys: Sequence = ((r'^module\.', ''), )) -> dict:
    """Refuse ``checkpoint`` unless ``Runner.resume`` can apply it: meta
    counters and seed, ``gpu_ids`` (data; as many as the ``runner``'s
    processes), the message hub's layout, and weights of ``model``'s
    shapes. ``meta['config']`` is replaced by ``gpu_ids = [...]`` text.

    Raises:
        CheckpointError: naming ``filename`` and the field.
    """
    state = state_dict_of(checkpoint, filename)
    meta = checkpoint.get('meta')
    missing = [k for k in ('epoch', 'iter') if not isinstance(meta, dict)
               or k not in meta] + [
                   k for k in ('message_hub', ) if k not in checkpoint]
    if missing:
        raise CheckpointError(
            f"checkpoint '{filename}' cannot be resumed from: it has no "
            f"{', '.join(missing)} (weights only? use load_from instead)",
            filename)
    _check_meta(checkpoint['meta'], filename, runner)
    _check_message_hub(checkpoint['message_hub'], filename)
    drop_paths_outside(checkpoint['message_hub'], filename, getattr(runner, 'work_dir', None))
    if model is not None:
        _check_weights(state, model, filename, revise_keys)
    return checkpoint


def _checked_load(load: Callable, target: Any, field: str, filename: str,
                  check: Callable[[Any], None]) -> Callable:

    def load_state_dict(state: Any) -> Any:
        try:
            result = load(state)
            check(target)
        except APPLY_ERRORS as err:
            if isinstance(err, CheckpointError):
                raise
            detail = err.args[0] if isinstance(err, KeyError) and err.args \
                else err
            raise _fail(filename, field, f'does not fit ({type(err).__name__}'
                        f': {one_line(detail, 200)})') from None
        return result

    return load_state_dict


def _optimizer_groups(wrapper: Any, load: Callable) -> Callable:
    """``load`` after checking that the loaded ``param_groups`` hold values
    of the kinds the optimizer's own groups hold (``lr='x'`` would only
    fail at the first step)."""

    def load_state_dict(state: Any) -> Any:
        optimizer = getattr(wrapper, 'optimizer', wrapper)
        groups = state.get('param_groups') if isinstance(state, dict) else None
        if not isinstance(groups, list):
            raise TypeError(f'param_groups is a {type(groups).__name__}')
        for i, (current, loaded) in enumerate(zip(optimizer.param_groups,
                                                  groups)):
            if not isinstance(loaded, dict):
                raise TypeError(f'param_groups[{i}] is a '
                                f'{type(loaded).__name__}')
            for key, value in loaded.items():
                if key != 'params' and key in current and not same_kind(
                        current[key], value):
                    raise TypeError(f'param_groups[{i}].{key} = '
                                    f'{one_line(repr(value), 60)}')
        return load(state)

    return load_state_dict


def _optimizer_fits(wrapper: Any) -> None:
    """Each state tensor of a parameter has its shape (or is a scalar)."""
    optimizer = getattr(wrapper, 'optimizer', wrapper)
    for param, state in optimizer.state.items():
        for key, value in state.items():
            if torch.is_tensor(value) and value.dim() and (
                    value.shape != param.shape):
                raise ValueError(f'state {key!r} has shape '
                                 f'{tuple(value.shape)} for a parameter of '
                                 f'{tuple(param.shape)}')
            if not (value is None or torch.is_tensor(value) or isinstance(
                    value, (int, float))):
                raise TypeError(f'state {key!r} is a {type(value).__name__}')


def _scheduler_state(scheduler: Any, load: Callable) -> Callable:

    def load_state_dict(state: Any) -> Any:
        if not isinstance(state, dict):
            raise TypeError(f'a {type(state).__name__}, not a dict')
        for key, value in state.items():
            if key == 'optimizer' or key not in vars(scheduler):
                raise KeyError(f'{key!r} is not a field of '
                               f'{type(scheduler).__name__}')
            if not same_kind(vars(scheduler)[key], value):
                raise TypeError(f'{key} = {one_line(repr(value), 60)}')
        return load(state)

    return load_state_dict


@contextlib.contextmanager
def applying(runner: Any, filename: str) -> Iterator[None]:
    """While ``runner`` resumes: errors of the optimizer's and schedulers'
    ``load_state_dict`` (and loaded values of the wrong kind or shape) are
    one line naming ``filename`` and the field."""
    stack = contextlib.ExitStack()
    wrapper = getattr(runner, 'optim_wrapper', None)
    if callable(getattr(wrapper, 'load_state_dict', None)):
        stack.enter_context(shadowed(wrapper, 'load_state_dict', _checked_load(
            _optimizer_groups(wrapper, wrapper.load_state_dict), wrapper,
            "'optimizer'", filename, _optimizer_fits)))
    schedulers = getattr(runner, 'param_schedulers', None)
    groups = (schedulers.items() if isinstance(schedulers, dict) else
              [('', schedulers)])
    for name, group in groups:
        for i, scheduler in enumerate(group if isinstance(group, list) else []):
            load = getattr(scheduler, 'load_state_dict', None)
            if callable(load) and hasattr(scheduler, '__dict__'):
                field = f"'param_schedulers'{f'[{name!r}]' if name else ''}[{i}]"
                stack.enter_context(shadowed(
                    scheduler, 'load_state_dict', _checked_load(
                        _scheduler_state(scheduler, load), scheduler, field,
                        filename, lambda _: None)))
    with stack:
        yield


@contextlib.contextmanager
def shadowed(obj: Any, name: str, value: Any) -> Iterator[None]:
    """Shadow ``obj.name`` by an instance attribute while in the block."""
    saved = vars(obj).get(name, shadowed)
    setattr(obj, name, value)
    try:
        yield
    finally:
        if saved is shadowed:
            delattr(obj, name)
        else:
            setattr(obj, name, saved)
