"""RKAN beside any backbone: ``dict(type='RKAN', backbone=<any backbone config>, <RKAN args>)``.

Examples:
    >>> dict(type='RKAN', backbone=dict(type='mmpretrain.ResNet', depth=50,
    ...      base_channels=128, expansion=2))                  # RKAN-Wide-ResNet-50-2
    >>> dict(type='RKAN', backbone=dict(type='mmpretrain.ConvNeXt', arch='tiny'),
    ...      rkan_mechanisms=(None, None, 'addition', 'addition'))

The backbone class ``X`` is looked up as mmengine's own build would (scope
prefixes such as ``mmpretrain.`` included) and the module built is an
instance of ``RKANX = (RKANMixin, X)``, created once per class: the very
mechanism of the registered families. So its state dict is the plain
backbone's plus ``rkan_layers.*`` and the plain backbone's checkpoints load
into it, with the backbone's ``init_cfg`` inside ``backbone=dict(...)``.
Backbones whose stages cannot carry RKAN are refused in one line
(:func:`.stages.find_stages`). The classes are made at run time, so
``copy.deepcopy`` works (EMA) but pickling a whole module does not; save
state dicts, as MMEngine does.
"""
import inspect
from typing import Dict, Type, Union

from mmengine.registry import MODELS
from torch import nn

from .rkan_mixin import RKANMixin

_RKAN_CLASSES: Dict[type, type] = {}
#: Keyword arguments the generic form accepts beside ``backbone``.
RKAN_ARGUMENTS = tuple(inspect.signature(RKANMixin.__init__).parameters)[2:-1]


def rkan_class(parent: type) -> type:
    """``RKAN<parent>``: ``parent`` with :class:`RKANMixin`, one class per parent."""
    if issubclass(parent, RKANMixin):
        raise ValueError(f'RKAN: backbone {parent.__name__} already carries RKAN blocks')
    if parent not in _RKAN_CLASSES:
        _RKAN_CLASSES[parent] = type(
            f'RKAN{parent.__name__}', (RKANMixin, parent),
            dict(__module__=__name__,
                 __doc__=f'{parent.__module__}.{parent.__qualname__} + RKAN '
                 '(the generic ``RKAN`` form).'))
    return _RKAN_CLASSES[parent]


def backbone_class(type_: Union[str, type]) -> Type[nn.Module]:
    """The class a backbone config's ``type`` names, in the current default scope."""
    if isinstance(type_, str):
        with MODELS.switch_scope_and_registry(None) as registry:
            cls = registry.get(type_)
        if cls is None:
            raise ValueError(f'RKAN: backbone type {type_!r} is not registered in scope '
                             f'{registry.scope!r}; name its scope, e.g. '
                             f"'mmdet.{type_}' or 'mmpretrain.{type_}'")
    else:
        cls = type_
    if not (inspect.isclass(cls) and issubclass(cls, nn.Module)):
        raise ValueError(f'RKAN: backbone type {type_!r} is not an nn.Module class')
    return cls


@MODELS.register_module(name='RKAN')
def build_rkan_backbone(backbone: dict, **rkan_args) -> nn.Module:
    """Build ``backbone`` (a config dict) with RKAN blocks; ``rkan_args`` are
    :class:`RKANMixin`'s arguments and nothing else."""
    if not isinstance(backbone, dict) or 'type' not in backbone:
        raise ValueError(f'RKAN: backbone must be a backbone config dict with a type, '
                         f'got {backbone!r}')
    unknown = sorted(set(rkan_args) - set(RKAN_ARGUMENTS))
    if unknown:
        raise ValueError(f'RKAN: unknown argument {unknown[0]!r}; RKAN takes '
                         f'{", ".join(RKAN_ARGUMENTS)}, and the backbone\'s own '
                         'arguments go inside backbone=dict(...)')
    args = dict(backbone)
    return rkan_class(backbone_class(args.pop('type')))(**args, **rkan_args)
