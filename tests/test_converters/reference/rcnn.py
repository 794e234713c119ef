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

from .models import PaperDenseNet, PaperResNet
from .rkan_parts import rkan_step


class StageWithKAN(nn.Module):
    """One wrapped stage: ``base_layer`` then the RKAN residual of stage ``idx``."""

    def __init__(self, base_layer: nn.Module, idx: int, rkan: nn.Module) -> None:
        super().__init__()
        self.base_layer, self.idx = base_layer, idx
        self._rkan = [rkan]  # not a submodule: the paper reaches it through a closure

    def run(self, x: Tensor) -> Tensor:
        return self.base_layer(x)

    def forward(self, x: Tensor) -> Tensor:
        rkan, out = self._rkan[0], self.run(x)
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


class DenseStageWithKAN(StageWithKAN):
    """A DenseNet stage of ``RKAN_RCNN``: ``dense_block``, then ``post_transition`` (the
    transition, or ``norm5`` for the last), then the RKAN residual."""

    def __init__(self, dense_block: nn.Module, post_transition: nn.Module, idx: int,
                 rkan: nn.Module) -> None:
        nn.Module.__init__(self)
        self.dense_block, self.post_transition, self.idx = dense_block, post_transition, idx
        self._rkan = [rkan]

    def run(self, x: Tensor) -> Tensor:
        return self.post_transition(self.dense_block(x))


class DenseNetBody(nn.Module):
    """The paper's DenseNet wrapper: the stem, then ``stage1..4``."""

    def __init__(self, features: nn.Module, stages) -> None:
        super().__init__()
        self.conv0, self.norm0, self.relu0, self.pool0 = (
            features.conv0, features.norm0, features.relu0, features.pool0)
        for n, stage in enumerate(stages, 1):
            setattr(self, f'stage{n}', stage)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool0(self.relu0(self.norm0(self.conv0(x))))
        for n in range(1, 5):
            x = getattr(self, f'stage{n}')(x)
        return x


class PaperDenseNetRCNN(nn.Module):
    """``RKAN_RCNN`` with a DenseNet backbone (key names as the paper's file gives them)."""

    def __init__(self, kind: str, mechanisms: Sequence[Optional[str]], g: torch.Generator,
                 arch: str = 'densenet121', num_classes: int = 3) -> None:
        super().__init__()
        features = getattr(torchvision.models, arch)().features
        self.rkan_components = PaperDenseNet(kind, mechanisms, g, arch=arch)
        posts = [features.transition1, features.transition2, features.transition3,
                 features.norm5]
        stages = []
        for n in range(1, 5):
            stage = DenseStageWithKAN(getattr(features, f'denseblock{n}'), posts[n - 1], n - 1,
                                      self.rkan_components)
            setattr(self, f'stage{n}_kan', stage)
            stages.append(stage)
        widths = [p.conv.out_channels for p in posts[:3]] + [posts[3].num_features]
        self.backbone_with_fpn = BackboneWithFPN(
            DenseNetBody(features, stages), return_layers={f'stage{n}': str(n - 1)
                                                           for n in range(1, 5)},
            in_channels_list=widths, out_channels=256)
        anchors = AnchorGenerator(sizes=((32, 64, 128, 256, 512), ) * 5,
                                  aspect_ratios=((0.5, 1.0, 2.0), ) * 5)
        self.model = FasterRCNN(self.backbone_with_fpn, num_classes=num_classes,
                                rpn_anchor_generator=anchors, min_size=64, max_size=106)
