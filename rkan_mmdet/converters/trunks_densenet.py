"""The paper's DenseNet (torchvision's, under ``densenet.``) -> ``RKANDenseNet(arch)``.

``features.conv0``/``norm0`` -> ``stem.0``/``stem.1``,
``denseblock{b}.denselayer{l}`` -> ``stages.{b-1}.block.{l-1}``,
``transition{b}`` -> ``transitions.{b-1}``, ``norm5`` -> ``transitions.{last}.0``,
``classifier`` -> ``head.fc``. The paper's head pools ``norm5(y) + r`` with no ReLU:
``final_relu=False`` (docs/families.md §3).
"""
import re
from typing import Dict, Optional

from mmpretrain.models.backbones import DenseNet
from torch import Tensor

from .trunk_base import BN, Trunk, _blocks_per_stage


class DenseNetTrunk(Trunk):
    """torchvision DenseNet -> ``RKANDenseNet(arch)`` (mmpretrain's), blocks keyed ``stage{i}``."""

    prefix = 'densenet'
    stage_key = 'stage{}'

    def __init__(self, tensors: Dict[str, Tensor]) -> None:
        self.depths = _blocks_per_stage(
            list(tensors), r'features\.denseblock(\d+)\.denselayer(\d+)\.', first=1)
        last = len(self.depths) - 1
        self.rules = [
            (r'features\.conv0\.weight', r'backbone.stem.0.weight'),
            (rf'features\.norm0\.({BN})', r'backbone.stem.1.\1'),
            (rf'features\.denseblock(\d+)\.denselayer(\d+)\.((?:conv[12]\.weight)|(?:norm[12]\.{BN}))',
             r'backbone.stages.<\1>.block.<\2>.\3'),
            (rf'features\.transition(\d+)\.((?:conv\.weight)|(?:norm\.{BN}))',
             r'backbone.transitions.<\1>.\2'),
            (rf'features\.norm5\.({BN})', rf'backbone.transitions.{last}.0.\1'),
            (r'classifier\.(weight|bias)', r'head.fc.\1'),
        ]
        super().__init__(tensors)

    def target(self, key: str) -> Optional[str]:
        """Templates write 1-based torchvision indices as ``<n>``; ours are 0-based."""
        target = super().target(key)
        return None if target is None else re.sub(r'<(\d+)>', lambda m: str(int(m.group(1)) - 1),
                                                  target)

    @property
    def num_stages(self) -> int:
        return len(self.depths)

    def backbone(self) -> dict:
        growth = self.need('features.denseblock1.denselayer1.conv2.weight').shape[0]
        bn_size = self.need('features.denseblock1.denselayer1.conv1.weight').shape[0] // growth
        arch = dict(growth_rate=growth, depths=list(self.depths),
                    init_channels=self.need('features.conv0.weight').shape[0])
        name = next((n for n, a in DenseNet.arch_settings.items() if a == arch), None)
        cfg = dict(type='RKANDenseNet', arch=name or arch, final_relu=False)
        if bn_size != 4:
            cfg['bn_size'] = bn_size
        return cfg
