"""RKANMixin: the one mechanism that puts RKAN blocks beside ResNet stages.

It works with any backbone that has the ResNet family's layout, in mmdet or
mmpretrain: ``res_layers`` (stage names), ``strides``, ``dilations``,
``stem_channels``, ``base_channels``, the block's ``expansion``, the stem
(``deep_stem``/``stem`` or ``conv1``/``norm1``/``relu``), ``maxpool``,
``out_indices``, ``frozen_stages``, ``with_cp`` and ``_freeze_stages``.

Blocks live in ``self.rkan_layers`` keyed by stage name (``rkan_layers.layer4``),
so the backbone's own keys are untouched and plain ResNet weights load.
Only enabled stages get a block; only the last stage gets the second KAN conv.

Init: with the backbone's ``zero_init_residual`` (mmdet's and mmpretrain's
default), each block's last norm starts at zero, as every residual branch of
the backbone does, so a fresh RKAN backbone computes exactly its plain ResNet.
Training from scratch or from plain ResNet weights then starts from the
ResNet's function instead of adding a random residual; loading an RKAN
checkpoint overrides it. ``zero_init_residual=False`` gives the paper code's
init (BN scale 1).
"""
import warnings
from typing import Optional, Sequence, Tuple, Union

from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from ..layers.kan_bases import KAN_TYPES
from ..layers.rkan_block import MECHANISMS, RKANBlock

MAX_STAGES = 4
IntOrSeq = Union[int, Sequence[int]]


def per_stage(name: str, value, length: int = MAX_STAGES, unit: str = 'stage') -> list:
    """A scalar broadcast to ``length`` entries, or a list checked for length."""
    if isinstance(value, (list, tuple)):
        if len(value) != length:
            raise ValueError(f'{name} must have one entry per {unit} ({length}), '
                             f'got {len(value)}: {value!r}')
        return list(value)
    return [value] * length


class RKANMixin:
    """Adds RKAN (RKAN_SPEC §1) to a ResNet-family backbone class.

    Use as ``class RKANResNet(RKANMixin, ResNet)``. Args, besides the
    backbone's own:

        rkan_mechanisms: per stage, None or one of ``addition``, ``gating``,
            ``se``. Paper default: stage 4 only.
        reduce_factor: int or one per stage; M = C_in // reduce_factor.
        inv_factor: int turns on RKAN-L, M = C_in * inv_factor.
        kan_type: KAN basis (see :class:`KANConv2d`).
        kan_orders: degree (or B-spline order) of the first / second KAN conv.
        kan_grids: grid sizes of the first / second KAN conv.
        rkan_shortcut: add a 1x1 conv + norm shortcut inside the block.
    """

    def __init__(self, *args,
                 rkan_mechanisms: Sequence[Optional[str]] = (None, None, None, 'addition'),
                 reduce_factor: IntOrSeq = 2,
                 inv_factor: Optional[int] = None,
                 kan_type: str = 'chebyshev',
                 kan_orders: Tuple[int, int] = (3, 2),
                 kan_grids: Tuple[int, int] = (3, 2),
                 rkan_shortcut: bool = False,
                 **kwargs) -> None:
        mechanisms = per_stage('rkan_mechanisms', rkan_mechanisms)
        reduce_factors = per_stage('reduce_factor', reduce_factor)
        for mech in mechanisms:
            if mech is not None and mech not in MECHANISMS:
                raise ValueError(f'unknown RKAN mechanism {mech!r}; expected '
                                 f'None or one of {", ".join(MECHANISMS)}')
        if kan_type not in KAN_TYPES:
            raise ValueError(f'unknown kan_type {kan_type!r}; expected one of '
                             f'{", ".join(KAN_TYPES)}')
        kan_orders = per_stage('kan_orders', kan_orders, 2, 'KAN conv')
        kan_grids = per_stage('kan_grids', kan_grids, 2, 'KAN conv')
        super().__init__(*args, **kwargs)

        enabled = [i for i, mech in enumerate(mechanisms) if mech is not None]
        beyond = [i for i in enabled if i >= self.num_stages]
        if beyond:
            raise ValueError(f'rkan_mechanisms enables stage {beyond[0] + 1} but '
                             f'num_stages is {self.num_stages}')
        if inv_factor is not None and len(enabled) > 1:
            warnings.warn(f'RKAN-L (inv_factor={inv_factor}) on {len(enabled)} stages: '
                          'the paper found RKAN-L works worse beyond one stage')
        self.rkan_layers = nn.ModuleDict()
        for i in enabled:
            in_ch, out_ch = self.stage_channels(i)
            if inv_factor is not None:
                mid = in_ch * inv_factor
            elif in_ch % reduce_factors[i]:
                raise ValueError(f'reduce_factor {reduce_factors[i]} does not divide '
                                 f'the {in_ch} input channels of stage {i + 1}')
            else:
                mid = in_ch // reduce_factors[i]
            self.rkan_layers[self.res_layers[i]] = RKANBlock(
                in_ch, out_ch, mid, stride=self.strides[i],
                dilation=self.dilations[i], last_stage=i == MAX_STAGES - 1,
                kan_type=kan_type, kan_orders=kan_orders, kan_grids=kan_grids,
                mechanism=mechanisms[i], shortcut=rkan_shortcut,
                norm_cfg=self.norm_cfg, zero_init=self.zero_init_residual)
        self._freeze_stages()

    def stage_channels(self, i: int) -> Tuple[int, int]:
        """(C_in, C_out) of stage ``i`` (0-based)."""
        expansion = getattr(self, 'expansion', None) or self.block.expansion
        out_ch = self.base_channels * 2 ** i * expansion
        return (self.stem_channels if i == 0 else out_ch // 2), out_ch

    def init_weights(self) -> None:
        """The backbone's init (which resets every BN scale to 1), then the
        blocks' zero init again unless weights come from a checkpoint."""
        super().init_weights()
        init_cfg = self.init_cfg if isinstance(self.init_cfg, dict) else {}
        if self.zero_init_residual and init_cfg.get('type') != 'Pretrained':
            for block in self.rkan_layers.values():
                block.zero_init_residual()

    def _freeze_stages(self) -> None:
        super()._freeze_stages()
        for name, block in getattr(self, 'rkan_layers', {}).items():
            if self.res_layers.index(name) < self.frozen_stages:
                block.eval()
                for param in block.parameters():
                    param.requires_grad = False

    def train(self, mode: bool = True):
        """mmdet/mmpretrain's ``train`` returns None; nn.Module's contract (and
        torch.onnx / torch.export, which call ``model.train(False)``) need self."""
        super().train(mode)
        return self

    def _rkan(self, name: str, x: Tensor, y: Tensor) -> Tensor:
        block = self.rkan_layers[name]
        if self.with_cp and x.requires_grad:
            return checkpoint(block, x, y, use_reentrant=False)
        return block(x, y)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Stem, then each stage with its RKAN block; returns ``out_indices`` maps."""
        if self.deep_stem:
            x = self.stem(x)
        else:
            x = self.relu(self.norm1(self.conv1(x)))
        x = self.maxpool(x)
        outs = []
        for i, name in enumerate(self.res_layers):
            stage_in, x = x, getattr(self, name)(x)
            if name in self.rkan_layers:
                x = self._rkan(name, stage_in, x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
