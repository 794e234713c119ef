"""Config values MMEngine/mmdet accept silently but train nonsense with, and
values they reject only deep inside a traceback: each is one line here,
before the Runner is built.

=====================================  ===================================
value                                  what would happen
=====================================  ===================================
``--cfg-options key`` (no ``=``),      ``ValueError``/``AssertionError``
``k=[1,2`` (unbalanced), ``=1``        in ``DictAction``, or a config dump
``custom_hooks`` item not a dict       ``AttributeError`` in the tool
``randomness.seed`` not an int in      ``TypeError`` deep in numpy
[0, 2**32)
anchor ``ratios``/``scales``/          NaN or empty anchors: it trains on
``strides`` <= 0 (``*AnchorGenerator``) NaN without complaint
``train_cfg.max_iters``/``max_epochs``  0 iterations, exit 0
<= 0
``param_scheduler[i].milestones`` not  ``Counter('abc')``: never fires
a list of ints
=====================================  ===================================
"""
from argparse import ArgumentParser, Namespace
from typing import Any, Iterator, Optional, Sequence, Tuple

from mmengine.config import Config, DictAction

_NUMBER = (int, float)


class CheckedDictAction(DictAction):
    """mmengine's ``--cfg-options`` parser; a malformed ``key=value`` is one
    ``error:`` line, exit 2."""

    def __call__(self, parser: ArgumentParser, namespace: Namespace,
                 values: Optional[Sequence[str]], option_string: str = None) -> None:
        from .checked_runner import fail
        for kv in values or ():
            key, equals, value = kv.partition('=')
            if not equals or not key.strip():
                fail(f'--cfg-options {kv!r}: expected key=value (e.g. '
                     'train_cfg.max_epochs=1)')
            if value.count('[') != value.count(']') or value.count('(') != value.count(')'):
                fail(f'--cfg-options {kv!r}: unbalanced brackets in the value')
        try:
            super().__call__(parser, namespace, values, option_string)
        except (ValueError, AssertionError, IndexError) as e:
            fail(f'--cfg-options {" ".join(values or ())!r}: {e or type(e).__name__}')


def _dicts(value: Any, path: str) -> Iterator[Tuple[str, dict]]:
    if isinstance(value, dict):
        yield path, value
        for key, item in value.items():
            yield from _dicts(item, f'{path}.{key}' if path else str(key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _dicts(item, f'{path}.{i}')


def _positive(value: Any) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool) and value > 0


def config_value_problem(cfg: Config) -> Optional[str]:
    """The first bad value of the module table, as ``key=value: why``."""
    hooks = cfg.get('custom_hooks') or []
    if not isinstance(hooks, list):
        return f'custom_hooks={hooks!r}: expected a list of hook dicts'
    for i, hook in enumerate(hooks):
        if not isinstance(hook, dict) or 'type' not in hook:
            return f'custom_hooks.{i}={hook!r}: expected a dict with a type'
    seed = (cfg.get('randomness') or {}).get('seed')
    if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool)
                                 and 0 <= seed < 2**32):
        return f'randomness.seed={seed!r}: expected an int in [0, 2**32) or None'
    for key in ('max_iters', 'max_epochs'):
        value = (cfg.get('train_cfg') or {}).get(key)
        if value is not None and isinstance(value, _NUMBER) and not _positive(value):
            return f'train_cfg.{key}={value!r}: expected a positive number'
    for path, node in _dicts(cfg.get('model'), 'model'):
        if 'AnchorGenerator' in str(node.get('type', '')):
            for key in ('ratios', 'scales', 'strides'):
                values = node.get(key)
                flat = [v for item in (values or []) for v in (
                    item if isinstance(item, (list, tuple)) else [item])]
                if values is not None and not all(map(_positive, flat)):
                    return f'{path}.{key}={values!r}: expected positive numbers'
    schedulers = cfg.get('param_scheduler') or []
    for i, scheduler in enumerate(schedulers if isinstance(schedulers, list) else [schedulers]):
        milestones = scheduler.get('milestones') if isinstance(scheduler, dict) else None
        if milestones is not None and not (
                isinstance(milestones, (list, tuple)) and all(
                    isinstance(m, int) and not isinstance(m, bool) and m >= 0
                    for m in milestones)):
            return (f'param_scheduler.{i}.milestones={milestones!r}: expected a list '
                    'of epochs/iterations (ints >= 0)')
    return None
