"""Parameter counts of docs/spec.md §3, exactly."""
import pytest
from mmdet.models.backbones import ResNet

from rkan_mmdet.models import RKANResNet


def count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_rkan_block_adds_exactly_1578083_to_resnet50() -> None:
    assert count(RKANResNet(depth=50)) - count(ResNet(depth=50)) == 1_578_083


def test_rkan_block_parts() -> None:
    block = RKANResNet(depth=50).rkan_layers['layer4']
    parts = {name: count(m) for name, m in block.named_children()}
    assert parts == dict(reduce=524_288, act=0, kan_conv=54, mid_norm=1_024,
                         expand=1_048_576, kan_conv_last=45, out_norm=4_096,
                         mechanism=0)


@pytest.mark.parametrize('inv_factor,millions', [(None, 27.14), (2, 31.86), (4, 38.15)])
def test_imagenet_classifier_sizes_match_the_paper(inv_factor, millions: float) -> None:
    fc = 2048 * 1000 + 1000
    backbone = RKANResNet(depth=50, inv_factor=inv_factor)
    assert round((count(backbone) + fc) / 1e6, 2) == millions
    assert round((count(ResNet(depth=50)) + fc) / 1e6, 2) == 25.56
