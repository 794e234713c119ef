"""Read the config text stored in a checkpoint as data, never as code.

mmengine keeps the training config in checkpoints as Python text
(``meta['cfg']`` and ``message_hub['runtime_info']['cfg']``, written from
``Config.pretty_text``; old mmcv runners wrote ``meta['config']``), and reads
it back with ``Config.fromstring(text, '.py')``, which *executes* it:
``Runner.resume`` (for ``gpu_ids``) and ``BaseInferencer`` (``DetInferencer(
model=None, weights=...)`` builds the model from it). A checkpoint is data,
so :func:`read_config_text` parses the text with :mod:`ast` and evaluates
nothing: the module may only hold ``name = <value>`` statements whose values
are

* literals: strings, bytes, numbers (``-`` / ``+`` signs allowed),
  ``True``/``False``/``None``; lists, tuples, sets, and dicts with literal
  keys;
* ``dict(key=<value>, ...)`` (how ``pretty_text`` writes dicts) and
  ``range(<int>, ...)`` (how mmcv wrote ``gpu_ids``).

``pretty_text`` output fits this. Anything else (a call, a name, an import,
an attribute) raises :class:`~.checkpoint_errors.UnsafeCheckpointError`
naming the line.

What may be *built* from such a config is decided by
:mod:`.stored_config`.
"""
from __future__ import annotations

import ast
from typing import Any

from .checkpoint_errors import CheckpointError, UnsafeCheckpointError

#: Deepest nesting of values accepted (pretty_text configs nest < 15).
MAX_DEPTH = 64
#: Longest config text accepted (pretty_text of large configs is < 100 KB).
MAX_CHARS = 4 << 20
#: Longest ``range`` expanded (``gpu_ids``).
MAX_RANGE = 4096


class _Code(ValueError):
    """The text holds something other than data (a call, a name, ...)."""


class _TooBig(ValueError):
    """Data, but nested or sized beyond the limits, or not a value Python
    can build (a range of step 0, an unhashable set item)."""


def _hashable(values: list, what: str) -> None:
    """Raise :class:`_TooBig` if a set item or dict key cannot be hashed
    (``{1, [2]}``, ``{(1, [2]): 3}``)."""
    for value in values:
        try:
            hash(value)
        except TypeError:
            raise _TooBig(f'has an unhashable {what}') from None


def _value(node: ast.AST, depth: int = 0) -> Any:
    """The value of a data-only expression ``node``.

    Raises:
        _Code: ``node`` is not data.
        _TooBig: nested deeper than :data:`MAX_DEPTH` or a range longer than
            :data:`MAX_RANGE`.
    """
    if depth > MAX_DEPTH:
        raise _TooBig(f'nests values deeper than {MAX_DEPTH}')
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(
            node.op, (ast.USub, ast.UAdd)) and isinstance(
                node.operand, ast.Constant) and type(
                    node.operand.value) in (int, float, complex):
        value = node.operand.value
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [_value(e, depth + 1) for e in node.elts]
        if isinstance(node, ast.Set):
            _hashable(items, 'set item')
        kind = {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)]
        return kind(items)
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise _Code('unpacks ** in a dict display')
        keys = [_value(k, depth + 1) for k in node.keys]
        _hashable(keys, 'dict key')
        return dict(zip(keys, (_value(v, depth + 1) for v in node.values)))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id == 'dict' and not node.args and all(
                k.arg is not None for k in node.keywords):
            return {k.arg: _value(k.value, depth + 1) for k in node.keywords}
        if node.func.id == 'range' and not node.keywords and 1 <= len(
                node.args) <= 3:
            bounds = [_value(a, depth + 1) for a in node.args]
            if all(type(b) is int for b in bounds):
                shown = ', '.join(map(str, bounds))
                try:
                    values = range(*bounds)
                    too_long = len(values) > MAX_RANGE
                except (ValueError, OverflowError):  # step 0, > sys.maxsize
                    raise _TooBig(f'has range({shown}), which has no '
                                  'length') from None
                if too_long:
                    raise _TooBig(f'has a range longer than {MAX_RANGE}')
                return list(values)
        raise _Code(f'calls {node.func.id}()')
    what = {
        ast.Name: lambda n: f'uses the name {n.id}',
        ast.Attribute: lambda n: f'reads the attribute .{n.attr}',
        ast.Call: lambda n: 'calls a computed function',
    }.get(type(node), lambda n: f'has a {type(n).__name__} expression')
    raise _Code(what(node))


def read_config_text(text: Any, where: str) -> dict:
    """``{name: value}`` of the data-only config ``text``, evaluating nothing.

    Args:
        text: the stored config text.
        where: what names it in errors, e.g. ``"meta['cfg'] of 'x.pth'"``.

    Raises:
        CheckpointError: ``text`` is not a string or not valid Python.
        UnsafeCheckpointError: ``text`` holds anything but data.
    """
    if not isinstance(text, str):
        raise CheckpointError(
            f'the config text in {where} is a {type(text).__name__}, '
            'not a string')
    if len(text) > MAX_CHARS:
        raise CheckpointError(f'the config text in {where} is longer than '
                              f'{MAX_CHARS} characters')
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        line = getattr(err, 'lineno', None)
        raise CheckpointError(
            f'the config text in {where} is not valid Python'
            + (f' (line {line})' if line else '')) from None
    config: dict = {}
    for statement in tree.body:
        try:
            if not (isinstance(statement, ast.Assign)
                    and len(statement.targets) == 1
                    and isinstance(statement.targets[0], ast.Name)):
                raise _Code('is not a plain `name = value` '
                            f'({type(statement).__name__})')
            config[statement.targets[0].id] = _value(statement.value)
        except _Code as err:
            raise UnsafeCheckpointError(
                f'Refusing the config text in {where}: line '
                f'{statement.lineno} {err}; only data (literals, dict(...), '
                'range(...)) is read from a checkpoint') from None
        except _TooBig as err:
            raise CheckpointError(
                f'the config text in {where} is not readable: line '
                f'{statement.lineno} {err}') from None
    return config
