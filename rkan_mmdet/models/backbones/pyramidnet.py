"""PyramidNet (Han et al., "Deep Pyramidal Residual Networks"), the RKAN code's ImageNet version.

Stem: conv 7x7/2 (3 -> 64), BN, ReLU, max-pool 3x3/2. Then four stages of
pre-activation blocks (strides 1, 2, 2, 2) whose width grows additively:
with ``N`` blocks in all and widening ``alpha``, block ``k = 1..N`` has
``planes_k = round(64 + k * alpha / N)`` (the sum accumulated block by block,
as the reference does) and outputs ``planes_k * expansion`` channels.

Blocks (no ReLU after the block's last BN, no ReLU after the addition)::

    basic (expansion 1):      BN - conv3x3/s - BN - ReLU - conv3x3 - BN
    bottleneck (expansion 4): BN - conv1x1 - BN - ReLU - conv3x3/s - BN - ReLU - conv1x1 - BN
    out = f(x) + pad(shortcut(x))

``shortcut`` is the identity, or a 2x2 average pool (stride 2, ceil mode) in
a stride-2 block; ``pad`` appends zero channels up to the block's output width.
After the last stage: BN + ReLU (``bn_final``), whose output is the last
stage's feature. Shapes: (B, 3, H, W) -> stage ``i`` (B, C_i, H/2^(i+2), W/2^(i+2)).
PyramidNet-50 (alpha 200, 12.5 per block): C = 4 * (102, 152, 226, 264) = 408, 608, 904, 1056.

Module names are the reference's (``conv1``, ``bn1``, ``layer{s}.{i}.bn{1..4}``,
``conv{1..3}``, ``bn_final``), so its checkpoints map without renaming.
"""
from typing import List, Optional, Sequence, Tuple

import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm


class PyramidBlock(BaseModule):
    """One pre-activation PyramidNet block (basic or bottleneck, see the module docstring).

    Args:
        in_channels: channels of x.
        planes: the block's width; it outputs ``planes * expansion`` channels.
        stride: 1, or 2 with the 2x2 average-pool shortcut.
        bottleneck: bottleneck (expansion 4) or basic (expansion 1).
    """

    def __init__(self, in_channels: int, planes: int, stride: int = 1, bottleneck: bool = True,
                 norm_cfg: dict = dict(type='BN'), with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        self.expansion = 4 if bottleneck else 1
        self.out_channels = planes * self.expansion
        self.with_cp = with_cp
        if bottleneck:
            convs = [nn.Conv2d(in_channels, planes, 1, bias=False),
                     nn.Conv2d(planes, planes, 3, stride, 1, bias=False),
                     nn.Conv2d(planes, self.out_channels, 1, bias=False)]
        else:
            convs = [nn.Conv2d(in_channels, planes, 3, stride, 1, bias=False),
                     nn.Conv2d(planes, planes, 3, 1, 1, bias=False)]
        widths = [in_channels] + [conv.out_channels for conv in convs]
        self.norm_names = []
        for i, width in enumerate(widths):
            name, norm = build_norm_layer(norm_cfg, width, postfix=i + 1)
            self.add_module(name, norm)
            self.norm_names.append(name)
        for i, conv in enumerate(convs):
            self.add_module(f'conv{i + 1}', conv)
        self.num_convs = len(convs)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (nn.AvgPool2d(2, stride=2, ceil_mode=True) if stride != 1 else None)

    def _residual(self, x: Tensor) -> Tensor:
        out = getattr(self, self.norm_names[0])(x)
        for i in range(self.num_convs):
            out = getattr(self, f'conv{i + 1}')(out)
            out = getattr(self, self.norm_names[i + 1])(out)
            if i < self.num_convs - 1:
                out = self.relu(out)
        shortcut = x if self.downsample is None else self.downsample(x)
        extra = out.shape[1] - shortcut.shape[1]
        if extra:
            shortcut = F.pad(shortcut, (0, 0, 0, 0, 0, extra))
        return out + shortcut

    def forward(self, x: Tensor) -> Tensor:
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._residual, x, use_reentrant=False)
        return self._residual(x)


@MODELS.register_module()
class PyramidNet(BaseModule):
    """PyramidNet backbone, the mmdet way (see the module docstring for the math).

    Args:
        depth: 18, 34 (basic blocks) or 50, 101, 152, 200 (bottlenecks).
        alpha: total widening; None takes the reference's default for the depth
            (48 for 18/34, 200 for 50, 270 for 101/152, 240 for 200).
        in_channels: image channels.
        stem_channels: stem width (64).
        out_indices: stages whose outputs are returned (0-based).
        frozen_stages: stages to freeze (-1: none; 0: the stem only).
        norm_cfg: norm layers' config.
        norm_eval: keep the norms in eval mode while training.
        with_cp: activation checkpointing inside each block.
        init_cfg: mmengine init; default Kaiming-normal (fan_out, ReLU) convs,
            norms at 1/0, as the reference initialises them.
    """

    #: depth -> (bottleneck, blocks per stage, default alpha), the reference's table.
    arch_settings = {
        18: (False, (2, 2, 2, 2), 48),
        34: (False, (3, 4, 6, 3), 48),
        50: (True, (3, 4, 6, 3), 200),
        101: (True, (3, 4, 23, 3), 270),
        152: (True, (3, 8, 36, 3), 270),
        200: (True, (3, 24, 36, 3), 240),
    }

    def __init__(self, depth: int = 50, alpha: Optional[float] = None, in_channels: int = 3,
                 stem_channels: int = 64, out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1, norm_cfg: dict = dict(type='BN', requires_grad=True),
                 norm_eval: bool = False, with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        if init_cfg is None:
            init_cfg = [dict(type='Kaiming', layer='Conv2d', mode='fan_out',
                             nonlinearity='relu', distribution='normal'),
                        dict(type='Constant', val=1, bias=0, layer=['_BatchNorm', 'GroupNorm'])]
        super().__init__(init_cfg)
        if depth not in self.arch_settings:
            raise ValueError(f'PyramidNet depth must be one of {sorted(self.arch_settings)}, '
                             f'got {depth!r}')
        bottleneck, stage_blocks, default_alpha = self.arch_settings[depth]
        self.depth = depth
        self.alpha = default_alpha if alpha is None else alpha
        self.out_indices = tuple(out_indices)
        if not all(0 <= i < len(stage_blocks) for i in self.out_indices):
            raise ValueError(f'PyramidNet out_indices must lie in 0..{len(stage_blocks) - 1}, '
                             f'got {out_indices!r}')
        self.frozen_stages = frozen_stages
        self.norm_cfg = norm_cfg
        self.norm_eval = norm_eval
        self.with_cp = with_cp

        self.conv1 = nn.Conv2d(in_channels, stem_channels, 7, 2, 3, bias=False)
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, stem_channels, postfix=1)
        self.add_module(self.norm1_name, norm1)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)

        self.res_layers: List[str] = []
        self.stage_channels: List[int] = []
        channels, width = stem_channels, float(stem_channels)
        step = self.alpha / sum(stage_blocks)
        for i, num_blocks in enumerate(stage_blocks):
            blocks = []
            for j in range(num_blocks):
                width += step
                block = PyramidBlock(channels, int(round(width)),
                                     stride=2 if i > 0 and j == 0 else 1,
                                     bottleneck=bottleneck, norm_cfg=norm_cfg, with_cp=with_cp)
                blocks.append(block)
                channels = block.out_channels
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))
            self.res_layers.append(f'layer{i + 1}')
            self.stage_channels.append(channels)
        self.final_norm_name, final_norm = build_norm_layer(norm_cfg, channels, postfix='_final')
        self.add_module(self.final_norm_name, final_norm)
        self.feat_dim = channels
        self._freeze_stages()

    @property
    def norm1(self) -> nn.Module:
        return getattr(self, self.norm1_name)

    @property
    def final_norm(self) -> nn.Module:
        return getattr(self, self.final_norm_name)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.maxpool(self.relu(self.norm1(self.conv1(x))))
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i == len(self.res_layers) - 1:
                x = self.relu(self.final_norm(x))
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self) -> None:
        """Freeze the stem (frozen_stages >= 0) and stages 1..frozen_stages;
        the final BN belongs to the last stage."""
        modules: List[nn.Module] = []
        if self.frozen_stages >= 0:
            modules += [self.conv1, self.norm1]
        modules += [getattr(self, name) for name in self.res_layers[:max(self.frozen_stages, 0)]]
        if self.frozen_stages >= len(self.res_layers):
            modules.append(self.final_norm)
        for module in modules:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'PyramidNet':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
