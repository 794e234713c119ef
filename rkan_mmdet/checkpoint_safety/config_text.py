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

Building a model from such a config could still run code it carries:
mmengine's ``Registry.get`` falls back to importing ``type='pkg.mod.func'``
or ``type='somemodule'`` when the name is not registered (and
``type='subprocess.run', args='...', shell=True`` would run a command), and
mmcv/mmdet ``eval`` a few config strings. :func:`check_buildable` refuses
both. What it cannot rule out: registered classes are still built with the
arguments the checkpoint gives them.
"""
from __future__ import annotations

import ast
import importlib
import inspect
from typing import Any, Iterator

from mmengine.registry import Registry
from mmengine.registry import root as mm_root

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
    """Data, but nested or sized beyond the limits."""


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
        kind = {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)]
        return kind(items)
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise _Code('unpacks ** in a dict display')
        keys = [_value(k, depth + 1) for k in node.keys]
        if any(isinstance(k, (list, dict, set)) for k in keys):
            raise _TooBig('has an unhashable dict key')
        return dict(zip(keys, (_value(v, depth + 1) for v in node.values)))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id == 'dict' and not node.args and all(
                k.arg is not None for k in node.keywords):
            return {k.arg: _value(k.value, depth + 1) for k in node.keywords}
        if node.func.id == 'range' and not node.keywords and 1 <= len(
                node.args) <= 3:
            bounds = [_value(a, depth + 1) for a in node.args]
            if all(type(b) is int for b in bounds):
                values = range(*bounds)
                if len(values) > MAX_RANGE:
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


def _registries() -> Iterator[Registry]:
    """mmengine's root registries and every registry below them, with their
    lazily imported modules loaded (as building would load them)."""
    todo = [r for r in vars(mm_root).values() if isinstance(r, Registry)]
    while todo:
        registry = todo.pop()
        registry.import_from_location()
        yield registry
        todo.extend(registry._children.values())


def _entries(value: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """``(path, key, value)`` of every dict entry and list item (key
    ``None``) in ``value``, depth first."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f'{path}.{key}' if path else str(key)
            yield where, key, item
            yield from _entries(item, where)
    elif isinstance(value, (list, tuple, set)):
        for i, item in enumerate(value):
            yield f'{path}[{i}]', None, item
            yield from _entries(item, f'{path}[{i}]')


def _mmcv_ops_names() -> set[str]:
    """Names mmdet/mmcv look up with ``getattr(mmcv.ops, type)`` (RoI
    layers) or ``eval(type)`` in ``mmcv.ops.nms`` (``nms``, ``soft_nms``)."""
    try:
        ops = importlib.import_module('mmcv.ops')
    except ImportError:  # mmcv built without ops
        return set()
    return {
        n
        for n, v in vars(ops).items()
        if not n.startswith('_') and callable(v) and not inspect.ismodule(v)
    }


def check_buildable(config: dict, where: str) -> None:
    """Refuse a config whose building could import or evaluate its text.

    * a ``type`` must be a registered name, optionally behind a registered
      scope (``'mmdet.MaskRCNN'``), or a public name of ``mmcv.ops`` (what
      ``roi_layer`` and ``nms`` types are); anything else would make
      ``Registry.get`` import it, and mmcv ``eval``\ s the ``nms`` type;
    * a ``_scope_``/``default_scope`` must be a registered scope;
    * no string may contain ``(``: mmcv, mmdet and mmpretrain ``eval``
      some config strings (the ``nms`` type, ``CameraMotionCompensation``'s
      ``warp_mode``, mmpretrain's dtype names), and without a parenthesis
      an expression cannot call anything;
    * ``trust_remote_code`` must not be true (HuggingFace would run code
      from the model repository).

    Raises:
        UnsafeCheckpointError: naming the first offending entry.
    """
    names: set[str] = _mmcv_ops_names()
    scopes: set[str] = set()
    for registry in _registries():
        scopes.add(registry.scope)
        names.update(registry._module_dict)
        names.update(f'{registry.scope}.{n}' for n in registry._module_dict)
    for path, key, item in _entries(config, ''):
        if key == 'type':
            ok = isinstance(item, str) and item in names
        elif key in ('_scope_', 'default_scope'):
            ok = item is None or (isinstance(item, str) and item in scopes)
        elif key == 'trust_remote_code':
            ok = not item
        else:
            ok = not (isinstance(item, str) and '(' in item)
        if not ok:
            raise UnsafeCheckpointError(
                f'Refusing the config in {where}: {path} = {item!r} '
                f'{_WHY[key if key in _WHY else "string"]}; pass your own '
                'config to build from a checkpoint you do not trust')


_WHY = {
    'type': 'is not a registered name (building it would import it)',
    '_scope_': 'is not a registered scope (building it would import it)',
    'default_scope': 'is not a registered scope',
    'trust_remote_code': 'would run code from a model repository',
    'string': 'has a ( that an eval() in mmcv/mmdet could call',
}
