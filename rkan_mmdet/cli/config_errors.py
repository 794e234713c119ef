"""Turn an exception raised while MMEngine builds something from the config
into one line that names the config key and the bad value.

    model.backbone.depth='18': invalid depth 18 for resnet
    model.backbone.foo=1: ResNet.__init__() got an unexpected keyword argument 'foo'
    model.backbone.num_stages=3: check `len(strides) == len(dilations) == num_stages` failed
    optim_wrapper.optimizer (SGD): Invalid learning rate: -1
    train_dataloader.batch_size=0: batch_size should be a positive integer value, ...
    train_cfg.max_iters='abc': invalid literal for int() with base 10: 'abc'

The key is read from the traceback: the outermost ``Runner`` method that
builds from the config (``build_model`` -> ``model``, ``build_optim_wrapper``
-> ``optim_wrapper``, ``build_dataloader`` -> the loader whose dict it
got, ...) gives the top-level key, and each ``build_from_cfg`` frame inside
it (``MODELS.build(backbone)`` ...) the sub-dict, found in the config by its
``type``. Values are named when the message, or the constructor's statement
that raised it (a failed ``assert`` ...), mentions the argument (or the
message quotes a string value).

Only what can be named is named (:func:`config_error_line` returns None
otherwise, and the tool re-raises with the traceback):

* ``ValueError``, ``KeyError``, ``AssertionError`` raised anywhere inside such
  a build: argument validation;
* torch's ``RuntimeError`` "negative dimension -N" (a layer of negative size),
  naming the arguments of value -N;
* ``TypeError``, ``IndexError``, ``ZeroDivisionError`` only when raised by the
  call of the constructor itself (a wrong keyword) or by a statement of the
  ``__init__`` bodies of the object being built (its class's and its base
  classes', e.g. comparing a string argument with a number), not deeper,
  where they are more likely a bug than a bad value.
"""
import linecache
import os.path as osp
import re
from types import FrameType, TracebackType
from typing import Any, Dict, List, Optional, Tuple

from mmengine.config import Config
from mmengine.runner import Runner

VALIDATION_ERRORS = (ValueError, KeyError, AssertionError)
CALL_ERRORS = (TypeError, IndexError, ZeroDivisionError)

#: Runner methods that build one top-level config key.
RUNNER_BUILDS = {
    'build_model': 'model', 'build_optim_wrapper': 'optim_wrapper',
    'build_param_scheduler': 'param_scheduler', 'build_train_loop': 'train_cfg',
    'build_val_loop': 'val_cfg', 'build_test_loop': 'test_cfg',
    'register_default_hooks': 'default_hooks', 'register_custom_hooks': 'custom_hooks',
    'build_visualizer': 'visualizer', 'build_log_processor': 'log_processor',
    'scale_lr': 'auto_scale_lr', '__init__': '',
}
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
BUILD_FROM_CFG = 'build_from_cfg'


def _frames(tb: Optional[TracebackType]) -> List[Tuple[FrameType, int]]:
    frames = []
    while tb is not None:
        frames.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    return frames


def _type_name(value: Any) -> str:
    name = value if isinstance(value, str) else getattr(value, '__name__', str(value))
    return name.split('.')[-1]


def _find(tree: Any, target: dict, path: str) -> Optional[Tuple[str, dict]]:
    """(path, dict) of the dict under ``tree`` that equals ``target``, else of
    the first one with the same ``type``; depth-first, lists by index."""
    matches: List[Tuple[int, str, dict]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if 'type' in node and _type_name(node['type']) == _type_name(target.get('type')):
                matches.append((0 if dict(node) == dict(target) else 1, where, node))
            for key, child in node.items():
                walk(child, f'{where}.{key}' if where else str(key))
        elif isinstance(node, (list, tuple)):
            for i, child in enumerate(node):
                walk(child, f'{where}.{i}')

    walk(tree, path)
    return min(matches, key=lambda m: m[0])[1:] if matches else None


def _locate(cfg: Config, frames: List[Tuple[FrameType, int]]) -> Tuple[list, int]:
    """The ``[(key path, config dict), ...]`` from the top-level key down to
    the component being built when the exception was raised (empty when it
    was not raised while building), and the index of the innermost build
    frame."""
    lineage: List[Tuple[str, Any]] = []
    inner = -1
    for index, (frame, _) in enumerate(frames):
        name, local = frame.f_code.co_name, frame.f_locals
        key = None
        if name == 'build_dataloader' and isinstance(local.get('dataloader'), dict):
            key = next((k for k in LOADERS if cfg.get(k) == local['dataloader']), None)
        elif name == 'build_evaluator' and lineage and lineage[0][0].endswith('_cfg'):
            key = lineage[0][0].replace('_cfg', '_evaluator')
        elif name in RUNNER_BUILDS and isinstance(local.get('self'), Runner):
            key = RUNNER_BUILDS[name]
        if key is not None:
            lineage = [(key, cfg.get(key) if key else cfg._cfg_dict)]
            inner = index
        elif name == BUILD_FROM_CFG and lineage and isinstance(local.get('cfg'), dict):
            found = _find(lineage[-1][1], local['cfg'], lineage[-1][0])
            if found and found[1] is not lineage[-1][1]:
                lineage.append(found)
            inner = index
    return lineage, inner


def _message(error: BaseException, frame: FrameType, lineno: int) -> str:
    if isinstance(error, KeyError) and error.args:
        text = str(error.args[0])
    else:
        text = str(error)
    text = ' '.join(text.split())
    if isinstance(error, AssertionError) and not text:
        source = linecache.getline(frame.f_code.co_filename, lineno, frame.f_globals).strip()
        text = f'check `{source.removeprefix("assert ").strip()}` failed'
    if 'registry. Please check' in text:  # mmengine's unknown type: first sentence
        text = text.split(' Please check')[0].rstrip('.')
    return text or type(error).__name__


def _is_scalar(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return len(value) <= 8 and all(map(_is_scalar, value))
    return value is None or isinstance(value, (str, int, float, bool))


def _named_values(lineage: list, text: str, error: BaseException) -> Dict[str, Any]:
    """``{'<key path>.<arg>': value}`` of the scalar arguments that ``text``
    mentions by name (or, for strings, by value), innermost dict first; for
    a ``TypeError`` about an unexpected keyword, that keyword alone."""
    words = set(re.findall(r'\w+', text))
    unexpected = re.search(r"unexpected keyword argument '(\w+)'", text)
    if isinstance(error, TypeError) and unexpected:
        words = {unexpected.group(1)}
    named: Dict[str, Any] = {}
    for path, node in reversed(lineage):
        for key, value in (node.items() if isinstance(node, dict) else ()):
            quoted = isinstance(value, str) and len(value) > 1 and value in words
            if key == '_scope_' or key == 'type' and not quoted:
                continue
            if (key in words or quoted) and _is_scalar(value) and key not in {
                    k.rsplit('.', 1)[-1] for k in named}:
                named[f'{path}.{key}' if path else key] = value
    return named


def _in_constructor(frames: List[Tuple[FrameType, int]]) -> bool:
    """Whether ``frames`` (below the innermost build) are the constructor
    call itself (none) or ``__init__`` bodies of one object: its class's and
    the base classes' it calls with ``super().__init__``."""
    selves = {id(frame.f_locals.get('self')) for frame, _ in frames}
    return all(frame.f_code.co_name == '__init__' for frame, _ in frames) and len(selves) <= 1


def config_error_line(cfg: Config, error: BaseException) -> Optional[str]:
    """``'<key>=<value>: <message>'`` or ``'<key> (<Type>): <message>'`` for
    an exception raised while building from ``cfg``, None when it is not one
    the module docstring lists."""
    negative = re.search(r'negative dimension (-\d+)', str(error)) if isinstance(
        error, RuntimeError) else None
    if not isinstance(error, VALIDATION_ERRORS + CALL_ERRORS) and not negative:
        return None
    frames = _frames(error.__traceback__)
    lineage, inner = _locate(cfg, frames)
    if not lineage:
        return None
    if negative:  # torch refusing a layer of negative size: name the argument
        path, node = lineage[-1]
        keys = [k for k, v in node.items() if v == int(negative.group(1))
                and not isinstance(v, bool)] if isinstance(node, dict) else []
        head = ', '.join(f'{path}.{k}={node[k]!r}' for k in keys) or path
        return f'{head}: {_message(error, *frames[-1])}'

    if isinstance(error, CALL_ERRORS) and not _in_constructor(frames[inner + 1:]):
        return None  # raised deeper than the constructor's own body
    text = _message(error, *frames[-1])
    own = frames[inner + 1:]
    frame, lineno = frames[-1]
    source = linecache.getline(frame.f_code.co_filename, lineno) if own and _in_constructor(
        own) else ''  # the constructor's statement names the arguments it used
    named = _named_values(lineage, f'{text} {source}', error)
    if named:
        head = ', '.join(f'{key}={value!r}' for key, value in named.items())
    else:
        path, node = lineage[-1]
        kind = f' ({_type_name(node["type"])})' if isinstance(node, dict) and 'type' in node else ''
        head = f'{path or osp.basename(cfg.filename or "config")}{kind}'
    return f'{head}: {text}'
