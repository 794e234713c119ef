"""The classifier a converted checkpoint must load into, and the check that it does.

:func:`target_model` builds it from the backbone config the conversion found,
and names the ``configs/imagenet`` file that builds the same classifier with
the ``--cfg-options`` that file needs. :func:`check_fits` is a strict
``load_state_dict`` whose failure is one line naming the first misfit and the
reference key it came from.
"""
import inspect
from typing import Dict, Optional, Tuple

from mmengine.registry import DefaultScope
from torch import Tensor, nn

from rkan_mmdet.models.backbones import RKANMixin
from .errors import LayoutError

#: RKANMixin's argument defaults: what the configs/imagenet RKAN configs leave unset.
MIXIN_DEFAULTS = {name: p.default for name, p in
                  inspect.signature(RKANMixin.__init__).parameters.items()
                  if p.default is not inspect.Parameter.empty}
#: Backbone arguments outside RKANMixin that a conversion may set, with their
#: class defaults (PlainSEResNet's ``se_bias``, PlainDenseNet's ``final_relu``).
OTHER_DEFAULTS = dict(se_bias=True, final_relu=True)
#: configs/imagenet classifier of (backbone type, depth or arch, inv_factor, plugin type),
#: and the arguments of OTHER_DEFAULTS that config sets otherwise.
IMAGENET_CONFIGS: Dict[tuple, Tuple[str, dict]] = {
    ('RKANResNet', 50, None, None): ('rkanet50_8xb32_in1k.py', {}),
    ('RKANResNet', 50, 2, None): ('rkanet50-2xl_8xb32_in1k.py', {}),
    ('RKANResNet', 50, 4, None): ('rkanet50-4xl_8xb32_in1k.py', {}),
    ('RKANResNet', 50, 6, None): ('rkanet50-6xl_8xb32_in1k.py', {}),
    ('RKANResNet', 101, None, None): ('rkanet101_8xb32_in1k.py', {}),
    ('RKANResNet', 50, None, 'ELA'): ('rkan-ela-l50_8xb32_in1k.py', {}),
    ('RKANSENet', 50, None, None): ('rkan-senet50_8xb32_in1k.py', dict(se_bias=False)),
    ('RKANDenseNet', '169', None, None): ('rkan-densenet169_8xb32_in1k.py',
                                          dict(final_relu=False)),
    ('RKANRegNet', 'regnety_3.2gf', None, None): ('rkan-regnety-3.2gf_8xb32_in1k.py', {}),
    ('RKANRegNet', 'regnety_8gf', None, None): ('rkan-regnety-8gf_8xb32_in1k.py', {}),
    ('RKANPyramidNet', 50, None, None): ('rkan-pyramidnet50_8xb32_in1k.py', {}),
}


def imagenet_config(backbone: dict) -> Tuple[Optional[str], dict]:
    """The ``configs/imagenet`` file name whose classifier has this backbone (or None),
    and the arguments that file sets away from their class defaults."""
    size = backbone.get('depth', backbone.get('arch'))
    if not isinstance(size, (int, str)) or backbone.get('alpha') is not None:
        return None, {}
    plugins = backbone.get('plugins') or [None]
    plugin = plugins[0]['cfg']['type'] if len(plugins) == 1 and plugins[0] else None
    key = (backbone['type'], size, backbone.get('inv_factor'), plugin)
    return IMAGENET_CONFIGS.get(key, (None, {}))


def plain(value):
    """Tuples -> lists, recursively (configs and our dicts compare alike)."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def cli_value(value) -> str:
    """A value as mmengine's ``--cfg-options`` parses it back."""
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(cli_value(v) for v in value) + ']'
    return str(value)


def describe(backbone: dict, rkan: bool = True) -> str:
    """``RKANResNet(depth=50, ...)``; ``rkan=False`` leaves out the RKAN arguments."""
    args = ', '.join(f'{k}={v!r}' for k, v in backbone.items()
                     if k != 'type' and (rkan or k not in MIXIN_DEFAULTS))
    return f'{backbone["type"]}({args})'


def target_model(backbone: dict, fc: Tensor) -> Tuple[nn.Module, Optional[str], Dict[str, object]]:
    """The classifier OUT must load into, the ``configs/imagenet`` file that builds
    it (if one does) and the ``--cfg-options`` that file needs.

    Those RKAN configs set only the backbone type and its size (depth, arch,
    inv_factor) and the paper's head (:data:`IMAGENET_CONFIGS`); every other
    RKAN argument is RKANMixin's default (tests/test_configs/test_imagenet_configs.py
    holds them to that), so the options are the arguments that differ from what
    the config sets. The model is
    built here without parsing the config (mmengine reads all of mmpretrain's
    metafiles to resolve its ``mmpretrain::`` bases): same backbone, GAP neck and
    linear head, so the same keys and shapes.
    """
    from mmpretrain.registry import MODELS
    name, config_sets = imagenet_config(backbone)
    options: Dict[str, object] = {}
    if name is not None:
        defaults = {**MIXIN_DEFAULTS, **OTHER_DEFAULTS, **config_sets}
        options = {f'model.backbone.{key}': value for key, value in backbone.items()
                   if key in defaults and plain(value) != plain(defaults[key])}
        if fc.shape[0] != 1000:
            options['model.head.num_classes'] = fc.shape[0]
    model_cfg = dict(type='ImageClassifier', backbone=backbone,
                     neck=dict(type='GlobalAveragePooling'),
                     head=dict(type='LinearClsHead', num_classes=fc.shape[0],
                               in_channels=fc.shape[1]))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(model_cfg)
    return model, name, options


def detector_backbone(backbone: dict) -> nn.Module:
    """The backbone alone, built as a detection config builds it (mmdet scope)."""
    from mmdet.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MODELS.build(dict(backbone))


def check_fits(state: Dict[str, Tensor], sources: Dict[str, str], module: nn.Module,
               what: str) -> None:
    """``module.load_state_dict(state, strict=True)``, or one line naming the first misfit."""
    expected = module.state_dict()
    for key, tensor in state.items():
        if key not in expected:
            raise LayoutError(f'{sources.get(key, key)} becomes {key}, which {what} does not have')
        if tuple(tensor.shape) != tuple(expected[key].shape):
            raise LayoutError(f'{sources.get(key, key)} has shape {tuple(tensor.shape)} but '
                              f'{key} of {what} is {tuple(expected[key].shape)}')
    missing = [key for key in expected if key not in state]
    if missing:
        raise LayoutError(f'{what} needs {missing[0]} ({len(missing)} missing), which no key '
                          'of the input becomes')
    module.load_state_dict(state, strict=True)


