"""The paper's detection model (``RKAN_RCNN``, ResNet variant), by its checkpoint names.

A torchvision ResNet whose ``layer1..4`` are wrapped (``base_layer``) to add
the RKAN residual computed by the module lists of a whole RKANet held as
``rkan_components`` (whose own trunk ``rkan_components.resnet`` never runs),
inside torchvision's ``BackboneWithFPN`` and Faster R-CNN. Its ``state_dict``
repeats the trunk under ``stage<n>_kan``, ``backbone_with_fpn.body`` and
``model.backbone.body``.
"""
from typing import Optional, Sequence

import torch
import torchvision
from torch import Tensor, nn
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import BackboneWithFPN

from .models import PaperResNet
from .rkan_parts import rkan_step


class StageWithKAN(nn.Module):
    """One wrapped stage: ``base_layer`` then the RKAN residual of stage ``idx``."""

    def __init__(self, base_layer: nn.Module, idx: int, rkan: PaperResNet) -> None:
        super().__init__()
        self.base_layer, self.idx = base_layer, idx
        self._rkan = [rkan]  # not a submodule: the paper reaches it through a closure

    def forward(self, x: Tensor) -> Tensor:
        rkan, out = self._rkan[0], self.base_layer(x)
        if rkan.mechanisms[self.idx] is None:
            return out
        return rkan_step(rkan, self.idx, x, out, rkan.mechanisms[self.idx], self.idx == 3)


class PaperRCNN(nn.Module):
    def __init__(self, kind: str, mechanisms: Sequence[Optional[str]], g: torch.Generator,
                 depth: int = 18, num_classes: int = 3) -> None:
        super().__init__()
        base = getattr(torchvision.models, f'resnet{depth}')()
        base.fc, base.avgpool = nn.Identity(), nn.Identity()
        self.rkan_components = PaperResNet(kind, mechanisms, g, depth=depth)
        for n in range(1, 5):
            wrapped = StageWithKAN(getattr(base, f'layer{n}'), n - 1, self.rkan_components)
            setattr(self, f'stage{n}_kan', wrapped)
            setattr(base, f'layer{n}', wrapped)
        widths = [64, 128, 256, 512] if depth < 50 else [256, 512, 1024, 2048]
        self.backbone_with_fpn = BackboneWithFPN(
            base, return_layers={f'layer{n}': str(n - 1) for n in range(1, 5)},
            in_channels_list=widths, out_channels=256)
        anchors = AnchorGenerator(sizes=((32, 64, 128, 256, 512), ) * 5,
                                  aspect_ratios=((0.5, 1.0, 2.0), ) * 5)
        self.model = FasterRCNN(self.backbone_with_fpn, num_classes=num_classes,
                                rpn_anchor_generator=anchors, min_size=64, max_size=106)
