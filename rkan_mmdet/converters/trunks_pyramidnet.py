"""The paper's PyramidNet (keys without prefix) -> ``RKANPyramidNet(depth, alpha)``.

:class:`~rkan_mmdet.models.backbones.PyramidNet` keeps the reference's module
names (``conv1``, ``bn1``, ``layer{s}.{i}.bn{1..4}`` / ``conv{1..3}``,
``bn_final``), so trunk keys keep their names; ``fc`` -> ``head.fc``. The depth
comes from the blocks per stage and the block type; ``alpha`` (the total
widening) from the last block's width, checked against every block's.
"""
from typing import List, Optional

from rkan_mmdet.models.backbones.pyramidnet import PyramidNet
from .errors import LayoutError
from .trunk_base import BN, Trunk, _blocks_per_stage


class PyramidNetTrunk(Trunk):
    """The paper's ImageNet PyramidNet; see the module docstring."""

    prefix = ''
    rules = [
        (r'conv1\.weight', r'backbone.conv1.weight'),
        (rf'(bn1|bn_final)\.({BN})', r'backbone.\1.\2'),
        (r'(layer[1-4]\.\d+\.conv[1-3]\.weight)', r'backbone.\1'),
        (rf'(layer[1-4]\.\d+\.bn[1-4]\.{BN})', r'backbone.\1'),
        (r'fc\.(weight|bias)', r'head.fc.\1'),
    ]

    def planes(self) -> List[int]:
        """Every block's width (its first conv's output channels), in order."""
        blocks = _blocks_per_stage(list(self.tensors), r'layer(\d)\.(\d+)\.')
        return [self.need(f'layer{s}.{j}.conv1.weight').shape[0]
                for s, n in enumerate(blocks, 1) for j in range(n)]

    @staticmethod
    def widths(depths: List[int], alpha: float, stem: int = 64) -> List[int]:
        """The reference's block widths: round(stem + k alpha / N), summed block by block."""
        out, width = [], float(stem)
        for _ in range(sum(depths)):
            width += alpha / sum(depths)
            out.append(int(round(width)))
        return out

    def backbone(self) -> dict:
        blocks = list(_blocks_per_stage(list(self.tensors), r'layer(\d)\.(\d+)\.'))
        bottleneck = 'layer1.0.conv3.weight' in self.tensors
        depth: Optional[int] = next(
            (d for d, (b, stages, _) in PyramidNet.arch_settings.items()
             if b == bottleneck and list(stages) == blocks), None)
        if depth is None:
            raise LayoutError(f'PyramidNet: layer1-4 have {blocks} '
                              f'{"bottleneck" if bottleneck else "basic"} blocks, which is no '
                              f'depth of the paper\'s ({", ".join(map(str, PyramidNet.arch_settings))})')
        planes, default = self.planes(), PyramidNet.arch_settings[depth][2]
        for alpha in (default, planes[-1] - 64):
            if self.widths(blocks, alpha) == planes:
                return dict(type='RKANPyramidNet', depth=depth,
                            **({} if alpha == default else dict(alpha=alpha)))
        raise LayoutError(f'PyramidNet-{depth}: block widths {planes[:3]}...{planes[-1]} grow '
                          'by no alpha (the reference\'s additive rule)')
