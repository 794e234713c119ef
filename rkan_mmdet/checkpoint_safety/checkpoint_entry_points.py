"""mmengine's checkpoint entry points, without executing what a checkpoint
holds and with one-line errors for checkpoints of another model.

:func:`install_safe_entry_points` (run by ``import rkan_mmdet``) patches:

``Runner.load_checkpoint`` (``load_from``, ``tools/test.py --checkpoint``)
    mmengine's steps, plus :func:`~.checkpoint_fit.check_fits`.
``Runner.resume`` / ``FlexibleRunner.resume``
    mmengine's, but the checkpoint they read is first checked by
    :func:`~.resume_checks.check_resumable` (``meta`` counters and seed,
    ``gpu_ids`` read as data from ``meta['config']``, which mmengine would
    *execute*, against the world size, the message hub's layout; for
    ``Runner`` also the weights' shapes), and ``Runner`` applies its
    optimizer and scheduler states under :func:`~.resume_checks.applying`:
    every malformed field is one line naming the file and the field.
``mmengine.runner.checkpoint.load_checkpoint`` (``init_detector``,
mmpretrain's ``get_model`` and inferencers, ``Pretrained`` without prefix)
    mmengine's, plus :func:`~.checkpoint_fit.check_fits`; modules that
    imported it by name already get the patched function too.
``PretrainedInit`` (``init_cfg=dict(type='Pretrained', prefix=...)``)
    one line when no key has the prefix or none fits the module.
``BaseInferencer._init_model`` (``DetInferencer(model=None, weights=...)``)
    the config stored in the checkpoint is read as data, rebuilt from what
    inference needs and checked against the registries
    (:mod:`.stored_config`). Honest checkpoints saved by mmengine keep
    working without a config; :func:`inferencer_init_model` also runs
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

from .checkpoint_errors import MalformedFieldError
from .checkpoint_fit import check_fits, state_dict_of
from .resume_checks import applying, check_resumable, shadowed
from .rebind import rebind
from .stored_config import checkpoint_config

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
                           revise_keys: list = [(r'^module.', '')],
                           check: Optional[Callable] = None) -> dict:
    """``Runner.load_checkpoint``: mmengine 0.10.7's steps (load, the
    ``after_load_checkpoint`` hooks, load into the model) with ``check``
    (of the loaded checkpoint) before the hooks and :func:`check_fits`
    before the weights are loaded; a hook's
    :class:`~.checkpoint_errors.MalformedFieldError` names ``filename``."""
    checkpoint = mm_checkpoint._load_checkpoint(filename,
                                                map_location=map_location)
    if check is not None:
        check(checkpoint)
    try:
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
    except MalformedFieldError as err:
        raise err.in_file(filename) from None
    model = self.model.module if is_model_wrapper(self.model) else self.model
    check_fits(model, checkpoint, filename, revise_keys)
    checkpoint = mm_checkpoint._load_checkpoint_to_model(
        model, checkpoint, strict, revise_keys=revise_keys)
    self._has_loaded = True
    self.logger.info(f'Load checkpoint from {filename}')
    return checkpoint


def _checked_loader(load: Callable, filename: str, runner: Any) -> Callable:

    def load_resumable(*args: Any, **kwargs: Any) -> dict:
        return check_resumable(load(*args, **kwargs), filename, runner)

    return load_resumable


def runner_resume(self: Runner, filename: str, *args: Any,
                  **kwargs: Any) -> None:
    """mmengine's ``Runner.resume`` on a checkpoint that
    :func:`~.resume_checks.check_resumable` accepts (checked before any
    hook or the model sees it), applying its optimizer and scheduler states
    under :func:`~.resume_checks.applying`."""

    def load(name: str, map_location: Any = 'cpu', strict: bool = False,
             revise_keys: list = [(r'^module.', '')]) -> dict:
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        return runner_load_checkpoint(
            self, name, map_location, strict, revise_keys,
            check=lambda c: check_resumable(c, filename, self, model,
                                            revise_keys))

    with shadowed(self, 'load_checkpoint', load), applying(self, filename):
        _mmengine_resume(self, filename, *args, **kwargs)


def _flexible_resume(original: Callable) -> Callable:

    def resume(self: Any, filename: str, *args: Any, **kwargs: Any) -> None:
        """mmengine's ``FlexibleRunner.resume`` on a checkpoint that
        :func:`~.resume_checks.check_resumable` accepts."""
        loader = _checked_loader(self.strategy.resume, filename, self)
        with shadowed(self.strategy, 'resume', loader):
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
