"""RegNetY: mmdet's RegNet plus an SE layer in every block (torchvision's ``regnet_y_*``).

mmdet's :class:`~mmdet.models.backbones.RegNet` builds RegNetX only. RegNetY
(Radosavovic et al., "Designing Network Design Spaces") is the same
network plus SE after the grouped 3x3 conv of every bottleneck block::

    x (B, w_in, H, W) -> conv1 1x1 -> BN -> ReLU -> conv2 3x3/s, groups w/g -> BN -> ReLU
      -> SE: u * sigmoid(W2 relu(W1 gap(u) + b1) + b2)      W1: w -> round(0.25 w_in)
      -> conv3 1x1 -> BN -> (+ shortcut) -> ReLU -> (B, w, H/s, W/s)

The squeeze width is a quarter of the *block's input* width ``w_in`` (the
previous stage's width for a stage's first block), and both SE convs have
biases, as torchvision's ``SqueezeExcitation``. The SE is an mmdet plugin at
``after_conv2`` (:class:`RegNetSE`, module name ``se``), so every mmdet RegNet
option (out_indices, frozen_stages, norm_eval, with_cp, plugins, init_cfg)
works unchanged. The RegNetX archs of mmdet still build RegNetX.

Widths, depths and group widths come from the arch parameters by mmdet's
RegNet rule, except the last step: a stage width is made divisible by its
group width the way torchvision does it (round half up, never below 90%),
where mmdet rounds to nearest (pycls; RegNetY-800MF would get 128 instead of
144 in stage 2). So the parameter counts equal torchvision's ``regnet_y_*``
trunks (tests/test_backbones/test_regnety.py). The RegNetX archs keep mmdet's
rounding, so mmdet's RegNetX checkpoints still fit.

Keys: ``conv1``/``bn1`` (stem), ``layer{s}.{i}.conv{1,2,3}``, ``bn{1,2,3}``,
``downsample.{0,1}``, ``se.conv{1,2}.conv.{weight,bias}``;
:func:`torchvision_regnet_keys` renames a torchvision state dict to them.
"""
import re
from typing import Dict, Optional

from mmdet.models.backbones import RegNet
from mmengine.registry import MODELS
from mmpretrain.models.utils import SELayer
from torch import Tensor

#: torchvision's RegNetY parameters (w0, wa, wm, group_w, depth) with SE ratio 0.25.
REGNETY_ARCHS = {
    'regnety_400mf': dict(w0=48, wa=27.89, wm=2.09, group_w=8, depth=16),
    'regnety_800mf': dict(w0=56, wa=38.84, wm=2.4, group_w=16, depth=14),
    'regnety_1.6gf': dict(w0=48, wa=20.71, wm=2.65, group_w=24, depth=27),
    'regnety_3.2gf': dict(w0=80, wa=42.63, wm=2.66, group_w=24, depth=21),
    'regnety_8gf': dict(w0=192, wa=76.82, wm=2.19, group_w=56, depth=17),
    'regnety_16gf': dict(w0=200, wa=106.23, wm=2.48, group_w=112, depth=18),
    'regnety_32gf': dict(w0=232, wa=115.89, wm=2.53, group_w=232, depth=20),
}


@MODELS.register_module()
class RegNetSE(SELayer):
    """The RegNetY squeeze-excitation as an mmdet plugin (abbreviation ``se``).

    mmpretrain's SELayer with an explicit squeeze width and biased 1x1 convs:
    ``u * sigmoid(conv2(relu(conv1(gap(u)))))``, u: (B, in_channels, H, W).

    Args:
        in_channels: channels of u (given by mmdet's plugin builder).
        squeeze_channels: the squeeze width (RegNetY: round(0.25 w_in)).
    """

    _abbr_ = 'se'

    def __init__(self, in_channels: int, squeeze_channels: int, **kwargs) -> None:
        super().__init__(channels=in_channels, squeeze_channels=squeeze_channels,
                         bias=True, **kwargs)


@MODELS.register_module()
class RegNetY(RegNet):
    """mmdet's RegNet (every argument as there) that also builds the RegNetY archs.

    ``arch`` is one of mmdet's ``regnetx_*`` names, one of
    :data:`REGNETY_ARCHS` (``regnety_400mf`` ... ``regnety_32gf``), or a dict
    of mmdet's keys plus ``se_ratio`` (0 or absent: no SE).

    Example:
        >>> dict(type='RegNetY', arch='regnety_3.2gf')       # widths 72, 216, 576, 1512
        >>> dict(type='RKANRegNet', arch='regnety_3.2gf')    # + RKAN on stage 4
    """

    arch_settings = {
        **RegNet.arch_settings,
        **{name: dict(arch, bot_mul=1.0, se_ratio=0.25, width_rule='torchvision')
           for name, arch in REGNETY_ARCHS.items()},
    }

    def __init__(self, arch, *args, **kwargs) -> None:
        settings = (self.arch_settings.get(arch) if isinstance(arch, str) else arch) or {}
        self.se_ratio: float = settings.get('se_ratio') or 0.0
        self.width_rule: str = settings.get('width_rule', 'pycls')
        if self.width_rule not in ('pycls', 'torchvision'):
            raise ValueError(f"RegNet arch width_rule must be 'pycls' or 'torchvision', "
                             f'got {self.width_rule!r}')
        super().__init__(arch, *args, **kwargs)

    def adjust_width_group(self, widths, bottleneck_ratio, groups):
        """mmdet's (pycls') rule, or torchvision's for ``width_rule='torchvision'``:
        the bottleneck width ``w_b`` becomes ``max(g, floor((w_b + g/2) / g) * g)``,
        plus ``g`` if that is below ``0.9 w_b``."""
        if self.width_rule == 'pycls':
            return super().adjust_width_group(widths, bottleneck_ratio, groups)
        bottleneck = [int(w * b) for w, b in zip(widths, bottleneck_ratio)]
        groups = [min(g, w_b) for g, w_b in zip(groups, bottleneck)]
        divisible = []
        for w_b, g in zip(bottleneck, groups):
            rounded = max(g, int(w_b + g / 2) // g * g)
            divisible.append(rounded + g if rounded < 0.9 * w_b else rounded)
        return [int(w_b / b) for w_b, b in zip(divisible, bottleneck_ratio)], groups

    def make_res_layer(self, **kwargs):
        """mmdet's stage, with a :class:`RegNetSE` after conv2 of every block
        whose squeeze width is ``round(se_ratio * block input width)``."""
        if self.width_rule == 'torchvision' and kwargs.get('groups', 1) > 1:
            # mmdet's ResNeXt bottleneck is floor(planes * base_width / base_channels)
            # * groups wide; in floating point 784 * (16 / 784) = 15.99.., one group
            # width short. Half a channel more keeps the floor at the group width.
            kwargs['base_width'] = kwargs['base_width'] + 0.5
        if not self.se_ratio:
            return super().make_res_layer(**kwargs)
        inplanes, planes = kwargs['inplanes'], kwargs['planes']
        se_cfg = dict(type='RegNetSE', squeeze_channels=int(round(self.se_ratio * planes)))
        layer = super().make_res_layer(
            **{**kwargs, 'plugins': [dict(cfg=se_cfg, position='after_conv2'),
                                     *(kwargs.get('plugins') or [])]})
        first = layer[0]
        width = first.se.conv1.conv.in_channels
        first.se = RegNetSE(width, int(round(self.se_ratio * inplanes)))
        return layer


def torchvision_regnet_keys(state_dict: Dict[str, Tensor],
                            prefix: Optional[str] = None) -> Dict[str, Tensor]:
    """Rename a torchvision ``RegNet`` state dict to :class:`RegNetY` keys.

    ``stem.0`` -> ``conv1``, ``stem.1`` -> ``bn1``,
    ``trunk_output.block{s}.block{s}-{i}.`` -> ``layer{s}.{i}.``,
    ``proj.{0,1}`` -> ``downsample.{0,1}``, ``f.a/b/c.{0,1}`` -> ``conv/bn{1,2,3}``,
    ``f.se.fc{1,2}`` -> ``se.conv{1,2}.conv``; ``fc.*`` (the classifier) is
    dropped. ``prefix`` (e.g. ``'regnet.'``, the RKAN paper's) is stripped
    first; keys without it are dropped.
    """
    out: Dict[str, Tensor] = {}
    for key, value in state_dict.items():
        if prefix is not None:
            if not key.startswith(prefix):
                continue
            key = key[len(prefix):]
        new = _rename(key)
        if new is not None:
            out[new] = value
    return out


_BLOCK = re.compile(r'^trunk_output\.block(\d+)\.block\d+-(\d+)\.(.*)$')
_PARTS = {'proj.0.': 'downsample.0.', 'proj.1.': 'downsample.1.',
          'f.a.0.': 'conv1.', 'f.a.1.': 'bn1.', 'f.b.0.': 'conv2.', 'f.b.1.': 'bn2.',
          'f.c.0.': 'conv3.', 'f.c.1.': 'bn3.',
          'f.se.fc1.': 'se.conv1.conv.', 'f.se.fc2.': 'se.conv2.conv.'}


def _rename(key: str) -> Optional[str]:
    for old, new in (('stem.0.', 'conv1.'), ('stem.1.', 'bn1.')):
        if key.startswith(old):
            return new + key[len(old):]
    match = _BLOCK.match(key)
    if match is None:
        return None
    stage, index, rest = match.groups()
    for old, new in _PARTS.items():
        if rest.startswith(old):
            return f'layer{stage}.{index}.{new}{rest[len(old):]}'
    raise KeyError(f'torchvision RegNet key {key!r} has no RegNetY counterpart')
