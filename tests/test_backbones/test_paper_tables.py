"""Every model row of the RKAN paper's tables that gives a parameter count is buildable,
and its count by the paper's profiler rule rounds to the paper's figure (docs/paper_models.md).

The profiler rule (docs/families.md §5): parameters of conv / linear / batch-
and layer-norm modules that run in a forward, so no GroupNorm and no custom
``nn.Parameter`` (the KAN convs' own weights). The classifier is the backbone's
last stage, global average pooling and a linear layer of ``classes`` outputs:
1000 for the ImageNet-1k table, 100 for the CIFAR-100 table (the paper's code
keeps the ImageNet stems there). Figures: the paper's tables, as its code's
README repeats them; DenseNet-169's two rows are this package's count (the
figures of that table row were not available to check).
"""
import pytest
import torch
from mmengine.registry import MODELS
from torch import nn

import rkan_mmdet  # noqa: F401  (registers the backbones)
from rkan_mmdet.analysis.param_count import profiler_params

from .paper_reference import skip_random_init

ELA = [dict(cfg=dict(type='ELA'), position='after_conv3')]
R101 = dict(type='RKANResNet', depth=101)
# row: (backbone config, classes, paper figure in millions)
ROWS = {
    # ImageNet-1k
    'ResNet-50': (dict(type='mmdet.ResNet', depth=50), 1000, 25.56),
    'RKANet-50': (dict(type='RKANResNet', depth=50), 1000, 27.14),
    'RKANet-50-2xL': (dict(type='RKANResNet', depth=50, inv_factor=2), 1000, 31.86),
    'RKANet-50-4xL': (dict(type='RKANResNet', depth=50, inv_factor=4), 1000, 38.15),
    'RKANet-50-6xL': (dict(type='RKANResNet', depth=50, inv_factor=6), 1000, 44.45),
    'ELA-L-50': (dict(type='mmdet.ResNet', depth=50, plugins=ELA), 1000, 26.40),
    'RKAN-ELA-L-50': (dict(type='RKANResNet', depth=50, plugins=ELA), 1000, 27.98),
    'SENet-50': (dict(type='PlainSEResNet', depth=50, se_bias=False), 1000, 28.07),
    'RKAN-SENet-50': (dict(type='RKANSENet', depth=50, se_bias=False), 1000, 29.65),
    'DenseNet-169': (dict(type='PlainDenseNet', arch='169', final_relu=False), 1000, 14.15),
    'RKAN-DenseNet-169': (dict(type='RKANDenseNet', arch='169', final_relu=False), 1000, 14.89),
    # CIFAR-100
    'ResNet-101': (dict(type='mmdet.ResNet', depth=101), 100, 42.71),
    'ResNet-152': (dict(type='mmdet.ResNet', depth=152), 100, 58.35),
    'WRN-101-2': (dict(type='mmpretrain.ResNet', depth=101, base_channels=128, expansion=2),
                  100, 125.04),
    'ResNet-101-D': (dict(type='mmdet.ResNetV1d', depth=101), 100, 42.72),
    'RKANet-101': (R101, 100, 44.28),
    'ResNeXt-101': (dict(type='mmdet.ResNeXt', depth=101, groups=32, base_width=8), 100, 86.95),
    'RegNetY-32GF': (dict(type='RegNetY', arch='regnety_32gf'), 100, 141.71),
    'RKANet-E-101': (dict(R101, rkan_mechanisms=(None, None, 'addition', 'addition')), 100,
                     44.68),
    'RKANet-101-2xL': (dict(R101, inv_factor=2), 100, 49.00),
    'RKANet-101-4xL': (dict(R101, inv_factor=4), 100, 55.30),
    'RKANet-101-6xL': (dict(R101, inv_factor=6), 100, 61.60),
    'RKANeXt-101': (dict(type='RKANResNeXt', depth=101, groups=32, base_width=8), 100, 88.53),
    'RKAN-RegNetY-32GF': (dict(type='RKANRegNet', arch='regnety_32gf'), 100, 145.27),
}


class Classifier(nn.Module):
    """Backbone -> last stage -> global average pool -> linear (the paper's classifiers)."""

    def __init__(self, backbone: nn.Module, classes: int) -> None:
        super().__init__()
        self.backbone = backbone
        with torch.no_grad():
            channels = backbone(torch.zeros(1, 3, 64, 64))[-1].shape[1]
        self.fc = nn.Linear(channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.backbone(x)[-1].mean((2, 3)))


@pytest.mark.parametrize('row', list(ROWS))
def test_row_count_rounds_to_the_paper(row: str) -> None:
    cfg, classes, paper = ROWS[row]
    with skip_random_init():
        backbone = MODELS.build(cfg)
    backbone.eval()
    model = Classifier(backbone, classes)
    count = profiler_params(model, lambda m: m(torch.zeros(1, 3, 64, 64)))
    assert round(count / 1e6, 2) == paper, (row, count)
