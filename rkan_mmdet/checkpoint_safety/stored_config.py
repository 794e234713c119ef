r"""What may be built from the config stored in a checkpoint.

``DetInferencer(model=None, weights=...)`` (any mmengine inferencer without
a config) builds its model, test pipeline, collate function and visualizer
from the config the checkpoint holds (``message_hub['runtime_info']['cfg']``,
else ``meta['cfg']``). :func:`checkpoint_config` reads that text as data
(:func:`~.config_text.read_config_text`), then rebuilds a config from only
what inference reads (:func:`inference_config`):

==============================  ==========================================
entry                           kept
==============================  ==========================================
``default_scope``               as is (checked below)
``model``                       without any ``init_cfg`` or ``pretrained``
                                entry (the weights come from the checkpoint;
                                ``pretrained=True`` downloads at build)
``test_dataloader.dataset``     as is (mmdet reads its pipeline and
                                metainfo)
``test_dataloader.collate_fn``  a name only (what mmengine looks up)
``visualizer``                  without ``vis_backends`` and ``save_dir``
                                (a checkpoint does not choose where files
                                are written)
==============================  ==========================================

Everything else (``custom_imports``, hooks, loaders' ``worker_init_fn``,
``work_dir`` ...) is dropped. :func:`check_buildable` then checks every
entry that resolves to code. mmengine's ``Registry.get`` *imports* a name it
does not find (``type='pkg.mod.func'``; a scope prefix imports
``<scope>.registry``; a bare name that is a module imports it), and
``FUNCTIONS.get(collate_fn)`` does the same, so:

* a ``type`` must be a registered name, optionally behind a registered
  scope (``'mmdet.MaskRCNN'``), or a public name of ``mmcv.ops`` (mmdet
  reads RoI layer types from there), and never the name of an importable
  top-level module;
* ``collate_fn`` must be a name registered in ``FUNCTIONS``;
* ``_scope_`` / ``default_scope`` must be a registered scope;
* no string may contain ``(``: mmcv, mmdet and mmpretrain ``eval`` a few
  config strings (the ``nms`` type, ``CameraMotionCompensation``'s
  ``warp_mode``, mmpretrain's dtype names), and without a parenthesis an
  expression cannot call anything;
* ``trust_remote_code`` must not be true.

The registries are complete when checked: their lazily imported modules and
this package's ``rkan_mmdet.ops`` (``ThreadedSingleRoIExtractor``, which
the demo configs name) are imported first. What is not ruled out:
registered classes are still built with the arguments the checkpoint gives
them.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
from typing import Any, Iterator

from mmengine.registry import FUNCTIONS, Registry
from mmengine.registry import root as mm_root

from .checkpoint_errors import CheckpointError, UnsafeCheckpointError
from .checkpoint_fit import state_dict_of
from .config_text import read_config_text

#: Entries of a model config that load weights from elsewhere.
_WEIGHT_SOURCES = ('init_cfg', 'pretrained')


def _without(value: Any, keys: tuple) -> Any:
    """``value`` with the dict entries ``keys`` removed at every depth."""
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items()
                if k not in keys}
    if isinstance(value, (list, tuple)):
        return type(value)(_without(v, keys) for v in value)
    return value


def inference_config(config: dict, where: str) -> dict:
    """The entries of the stored ``config`` an inferencer reads (see the
    module doc), unchecked.

    Raises:
        CheckpointError: it has no model dict.
    """
    if not isinstance(config.get('model'), dict):
        raise CheckpointError(f'the config in {where} has no model dict')
    kept: dict = {'model': _without(config['model'], _WEIGHT_SOURCES)}
    if 'default_scope' in config:
        kept['default_scope'] = config['default_scope']
    loader = config.get('test_dataloader')
    if isinstance(loader, dict):
        kept['test_dataloader'] = {
            k: loader[k] for k in ('dataset', 'collate_fn') if k in loader
            and (k != 'collate_fn' or isinstance(loader[k], str))
        }
    visualizer = config.get('visualizer')
    if isinstance(visualizer, dict):
        kept['visualizer'] = {k: v for k, v in visualizer.items()
                              if k not in ('vis_backends', 'save_dir')}
    return kept


def checkpoint_config(checkpoint: Any, weights: str) -> dict:
    """The config stored in ``checkpoint``, read as data, reduced to
    :func:`inference_config` and checked by :func:`check_buildable`.

    Raises:
        CheckpointError: no config in the checkpoint, or not a dict;
            unsafe if the text is not data or names what is not registered.
    """
    state_dict_of(checkpoint, weights)
    runtime = checkpoint.get('message_hub', {})
    runtime = runtime.get('runtime_info', {}) if isinstance(runtime,
                                                            dict) else {}
    meta = checkpoint.get('meta', {})
    if isinstance(runtime, dict) and 'cfg' in runtime:
        text, where = runtime['cfg'], "message_hub['runtime_info']['cfg']"
    elif isinstance(meta, dict) and 'cfg' in meta:
        text, where = meta['cfg'], "meta['cfg']"
    else:
        raise CheckpointError(
            f"checkpoint '{weights}' holds no config (no meta['cfg']); pass "
            'the config as model=...', weights)
    where = f"{where} of '{weights}'"
    config = inference_config(read_config_text(text, where), where)
    check_buildable(config, where)
    return config


def _registries(root: Any = mm_root) -> Iterator[Registry]:
    """The root registries of ``root`` (mmengine's, or one registry) and
    every registry below them, their lazily imported modules loaded."""
    try:
        importlib.import_module('rkan_mmdet.ops')
    except ImportError:  # pragma: no cover - built without the extension
        pass
    todo = ([root] if isinstance(root, Registry) else
            [r for r in vars(root).values() if isinstance(r, Registry)])
    while todo:
        registry = todo.pop()
        registry.import_from_location()
        yield registry
        todo.extend(registry._children.values())


def _registered(root: Any = mm_root) -> tuple[set[str], set[str]]:
    """Every name registered below ``root``, bare and behind its scope,
    and every scope."""
    names: set[str] = set()
    scopes: set[str] = set()
    for registry in _registries(root):
        scopes.add(registry.scope)
        names.update(registry._module_dict)
        names.update(f'{registry.scope}.{n}' for n in registry._module_dict)
    return names, scopes


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


def _is_module(name: str) -> bool:
    """Whether ``name`` (no dot) is an importable top-level module, which
    ``Registry.get`` imports when its registry lacks the name."""
    try:
        return '.' not in name and importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def check_buildable(config: dict, where: str) -> None:
    """Refuse a config whose building could import or evaluate what it
    holds (the rules of the module doc).

    Raises:
        UnsafeCheckpointError: naming the first offending entry.
    """
    names, scopes = _registered()
    names |= _mmcv_ops_names()
    functions = _registered(FUNCTIONS)[0]
    for path, key, item in _entries(config, ''):
        if key == 'type':
            ok = isinstance(item, str) and item in names and not _is_module(
                item)
        elif key == 'collate_fn':
            ok = isinstance(item, str) and item in functions
        elif key in ('_scope_', 'default_scope'):
            ok = item is None or (isinstance(item, str) and item in scopes)
        elif key == 'trust_remote_code':
            ok = not item
        else:
            ok = not (isinstance(item, str) and '(' in item)
        if not ok:
            raise UnsafeCheckpointError(
                f'Refusing the config in {where}: {path} = {item!r} '
                f'{_WHY.get(key, _WHY["string"])}; pass your own '
                'config to build from a checkpoint you do not trust')


_WHY = {
    'type': 'is not a registered name (building it would import it)',
    'collate_fn': 'is not a registered function (looking it up would '
                  'import it)',
    '_scope_': 'is not a registered scope (building it would import it)',
    'default_scope': 'is not a registered scope',
    'trust_remote_code': 'would run code from a model repository',
    'string': 'has a ( that an eval() in mmcv/mmdet could call',
}
