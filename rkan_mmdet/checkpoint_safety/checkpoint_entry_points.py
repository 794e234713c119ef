"""mmengine's checkpoint entry points, without executing what a checkpoint
holds and with one-line errors for checkpoints of another model.

:func:`install_safe_entry_points` (run by ``import rkan_mmdet``) patches:

``Runner.load_checkpoint`` (``load_from``, ``tools/test.py --checkpoint``)
    mmengine's steps, plus :func:`~.checkpoint_fit.check_fits`.
``Runner.resume`` / ``FlexibleRunner.resume``
    mmengine's, but the checkpoint they read is first checked to be
    resumable (``meta`` with ``epoch`` and ``iter``) and its
    ``meta['config']`` (Python text mmengine would *execute* to read
    ``gpu_ids``) is read as data by :func:`~.config_text.read_config_text`
    and replaced by a one-line ``gpu_ids = [...]`` text, so that mmengine's
    GPU-count check still works on exactly the value the checkpoint holds.
``mmengine.runner.checkpoint.load_checkpoint`` (``init_detector``,
mmpretrain's ``get_model`` and inferencers, ``Pretrained`` without prefix)
    mmengine's, plus :func:`~.checkpoint_fit.check_fits`; modules that
    imported it by name already get the patched function too.
``PretrainedInit`` (``init_cfg=dict(type='Pretrained', prefix=...)``)
    one line when no key has the prefix or none fits the module.
``BaseInferencer._init_model`` (``DetInferencer(model=None, weights=...)``)
    the config stored in the checkpoint (``message_hub`` runtime info
    ``cfg``, else ``meta['cfg']``) is read as data and must pass
    :func:`~.config_text.check_buildable` (registered types only, no string
    an ``eval`` could call), and its visualizer's ``vis_backends`` and
    ``save_dir`` are dropped (a checkpoint does not choose where files are
    written). Honest checkpoints saved by mmengine keep working without a
    config; :func:`inferencer_init_model` also runs
    :func:`~.checkpoint_fit.check_fits`.

Loading itself is weights-only through every scheme, see
:mod:`.checkpoint_schemes` and :mod:`.torch_load_guard`.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Union

from mmengine.config import Config, ConfigDict
from mmengine.infer import BaseInferencer
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.model.weight_init import PretrainedInit, update_init_info
from mmengine.registry import MODELS
from mmengine.runner import Runner
from mmengine.runner import checkpoint as mm_checkpoint
from torch import nn

from .checkpoint_errors import CheckpointError
from .checkpoint_fit import check_fits, state_dict_of
from .config_text import check_buildable, read_config_text
from .rebind import rebind

_MODULE_PREFIX = [(r'^module\.', '')]
_mmengine_load_checkpoint = mm_checkpoint.load_checkpoint
_mmengine_resume = Runner.resume


def load_checkpoint(model: nn.Module,
                    filename: str,
                    map_location: Any = None,
                    strict: bool = False,
                    logger: Any = None,
                    revise_keys: list = _MODULE_PREFIX) -> dict:
    """mmengine's ``load_checkpoint``, refusing another model's checkpoint.

    Raises:
        CheckpointError: the file is bad, or none of its keys fits ``model``.
    """
    checkpoint = mm_checkpoint._load_checkpoint(filename, map_location, logger)
    check_fits(model, checkpoint, filename, revise_keys)
    return mm_checkpoint._load_checkpoint_to_model(model, checkpoint, strict,
                                                   logger, revise_keys)


def runner_load_checkpoint(self: Runner,
                           filename: str,
                           map_location: Union[str, Callable] = 'cpu',
                           strict: bool = False,
                           revise_keys: list = [(r'^module.', '')]) -> dict:
    """``Runner.load_checkpoint``: mmengine 0.10.7's steps (load, the
    ``after_load_checkpoint`` hooks, load into the model) with
    :func:`check_fits` before the weights are loaded."""
    checkpoint = mm_checkpoint._load_checkpoint(filename,
                                                map_location=map_location)
    self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
    model = self.model.module if is_model_wrapper(self.model) else self.model
    check_fits(model, checkpoint, filename, revise_keys)
    checkpoint = mm_checkpoint._load_checkpoint_to_model(
        model, checkpoint, strict, revise_keys=revise_keys)
    self._has_loaded = True
    self.logger.info(f'Load checkpoint from {filename}')
    return checkpoint


def resumable(checkpoint: Any, filename: str) -> dict:
    """Check that ``checkpoint`` can be resumed from and make its
    ``meta['config']`` data: ``gpu_ids = [...]`` or ``gpu_ids = None``.

    Raises:
        CheckpointError: no ``meta`` dict with ``epoch`` and ``iter``, or no
            ``message_hub``; or (unsafe) config text that is not data.
    """
    state_dict_of(checkpoint, filename)
    meta = checkpoint.get('meta')
    missing = [k for k in ('epoch', 'iter') if not isinstance(meta, dict)
               or k not in meta] + [
                   k for k in ('message_hub', ) if k not in checkpoint]
    if missing:
        raise CheckpointError(
            f"checkpoint '{filename}' cannot be resumed from: it has no "
            f"{', '.join(missing)} (weights only? use load_from instead)",
            filename)
    if 'config' in meta:
        config = read_config_text(meta['config'],
                                  f"meta['config'] of '{filename}'")
        gpu_ids = config.get('gpu_ids')
        ints = isinstance(gpu_ids, (list, tuple)) and all(
            type(i) is int for i in gpu_ids)
        meta['config'] = f'gpu_ids = {list(gpu_ids) if ints else None}\n'
    return checkpoint


class _Shadow:
    """Shadow ``obj.name`` by an instance attribute while in the block."""

    def __init__(self, obj: Any, name: str, value: Any) -> None:
        self.obj, self.name, self.value = obj, name, value

    def __enter__(self) -> None:
        self.saved = vars(self.obj).get(self.name, _Shadow)
        setattr(self.obj, self.name, self.value)

    def __exit__(self, *exc: Any) -> None:
        if self.saved is _Shadow:
            delattr(self.obj, self.name)
        else:
            setattr(self.obj, self.name, self.saved)


def _checked_loader(load: Callable, filename: str) -> Callable:

    def load_resumable(*args: Any, **kwargs: Any) -> dict:
        return resumable(load(*args, **kwargs), filename)

    return load_resumable


def runner_resume(self: Runner, filename: str, *args: Any,
                  **kwargs: Any) -> None:
    """mmengine's ``Runner.resume`` on a :func:`resumable` checkpoint."""
    loader = _checked_loader(self.load_checkpoint, filename)
    with _Shadow(self, 'load_checkpoint', loader):
        _mmengine_resume(self, filename, *args, **kwargs)


def _flexible_resume(original: Callable) -> Callable:

    def resume(self: Any, filename: str, *args: Any, **kwargs: Any) -> None:
        """mmengine's ``FlexibleRunner.resume`` on a :func:`resumable`
        checkpoint."""
        loader = _checked_loader(self.strategy.resume, filename)
        with _Shadow(self.strategy, 'resume', loader):
            original(self, filename, *args, **kwargs)

    resume.rkan_safe = True
    return resume


def pretrained_init(self: PretrainedInit, module: nn.Module) -> None:
    """``PretrainedInit.__call__``: mmengine's, with :func:`check_fits`
    (keys with ``self.prefix``, when given)."""
    if self.prefix is None:
        print_log(f'load model from: {self.checkpoint}', logger='current')
        load_checkpoint(module,
                        self.checkpoint,
                        map_location=self.map_location,
                        strict=False,
                        logger='current')
    else:
        print_log(f'load {self.prefix} in model from: {self.checkpoint}',
                  logger='current')
        prefix = self.prefix.rstrip('.') + '.'
        checkpoint = mm_checkpoint._load_checkpoint(
            self.checkpoint, map_location=self.map_location)
        check_fits(module, checkpoint, self.checkpoint, (), prefix)
        state_dict = {
            k[len(prefix):]: v
            for k, v in state_dict_of(checkpoint, self.checkpoint).items()
            if k.startswith(prefix)
        }
        mm_checkpoint.load_state_dict(module,
                                      state_dict,
                                      strict=False,
                                      logger='current')
    if hasattr(module, '_params_init_info'):
        update_init_info(module, init_info=self._get_init_info())


def checkpoint_config(checkpoint: Any, weights: str) -> dict:
    """The config stored in ``checkpoint``, read as data (see module doc).

    Raises:
        CheckpointError: no config in the checkpoint, or not a dict;
            unsafe if the text is not data or names an unregistered type.
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
    config = read_config_text(text, where)
    check_buildable(config, where)
    if not isinstance(config.get('model'), dict):
        raise CheckpointError(f'the config in {where} has no model dict')
    visualizer = config.get('visualizer')
    if isinstance(visualizer, dict):
        visualizer.pop('vis_backends', None)
        visualizer.pop('save_dir', None)
    return config


def inferencer_init_model(self: BaseInferencer,
                          cfg: Union[Config, ConfigDict],
                          weights: Optional[str],
                          device: str = 'cpu') -> nn.Module:
    """``BaseInferencer._init_model``: mmengine 0.10.7's steps, with the
    checkpoint's config read by :func:`checkpoint_config` instead of being
    executed, and :func:`check_fits` before the weights are loaded."""
    checkpoint = None
    if weights is not None:
        checkpoint = mm_checkpoint._load_checkpoint(weights,
                                                    map_location='cpu')
    if not cfg:
        if checkpoint is None:
            raise ValueError('model=None needs weights to read a config from')
        cfg.update(Config(checkpoint_config(checkpoint, weights))._cfg_dict)
    if cfg.model.get('pretrained') is not None:
        del cfg.model.pretrained
    model = MODELS.build(cfg.model)
    model.cfg = cfg
    if checkpoint is not None:
        check_fits(model, checkpoint, weights)
    self._load_weights_to_model(model, checkpoint, cfg)
    model.to(device)
    model.eval()
    return model


def install_safe_entry_points() -> None:
    """Patch the entry points listed in the module doc; idempotent."""
    if mm_checkpoint.load_checkpoint is _mmengine_load_checkpoint:
        rebind(_mmengine_load_checkpoint, load_checkpoint,
               keep=(__name__, ))
    Runner.load_checkpoint = runner_load_checkpoint
    Runner.resume = runner_resume
    PretrainedInit.__call__ = pretrained_init
    BaseInferencer._init_model = inferencer_init_model
    from mmengine.runner import FlexibleRunner
    if not getattr(FlexibleRunner.resume, 'rkan_safe', False):
        FlexibleRunner.resume = _flexible_resume(FlexibleRunner.resume)
