"""Parameter counts with an attention plugin after conv3 of every bottleneck.

Where the numbers come from:

* ResNet-50 (mmdet, no fc): 23,508,032 = torchvision's resnet50 (25,557,032)
  minus its fc (2048 * 1000 + 1000); RKAN adds 1,578,083 (docs/spec.md §3).
* The bottleneck widths C (after conv3) of ResNet-50 and ResNeXt-50:
  256 x 3, 512 x 4, 1024 x 6, 2048 x 3 (``WIDTHS``). Each plugin's count per
  bottleneck is its formula in docs/families.md §4, written in ``PER_BLOCK``;
  the literal totals are that sum, worked out by hand.
* "profiler": the RKAN paper's count (docs/families.md §5): no GroupNorm, no
  custom ``nn.Parameter`` (SA's cw/cb/sw/sb, the KAN convs' 99 weights).
"""
from typing import Callable, Dict, Tuple

import pytest
import torch
from mmdet.models.backbones import ResNet, ResNeXt

from rkan_mmdet.analysis.param_count import all_params, profiler_params
from rkan_mmdet.models import RKANResNet, RKANResNeXt
from rkan_mmdet.models.plugins import eca_kernel_size

WIDTHS = [256] * 3 + [512] * 4 + [1024] * 6 + [2048] * 3
RESNET50 = 23_508_032
RESNEXT50 = 22_979_904  # torchvision resnext50_32x4d (25,028,904) minus its fc
RKAN = 1_578_083
KAN_CUSTOM = 54 + 45     # the two Chebyshev KAN convs' own weights (docs/spec.md §3)

# plugin -> (per-bottleneck count for width C: all, profiler)
PER_BLOCK: Dict[str, Tuple[Callable[[int], int], Callable[[int], int]]] = {
    # 1-D conv over channels, kernel k(C), no bias
    'ECA': (eca_kernel_size, eca_kernel_size),
    # shared MLP C -> C/16 -> C without biases, 7x7 conv 2 -> 1 without bias
    'CBAM': (lambda c: 2 * c * (c // 16) + 2 * 49, lambda c: 2 * c * (c // 16) + 2 * 49),
    # cw, cb, sw, sb (custom) and GN affine (GroupNorm), each C / (2 * 64)
    'ShuffleAttention': (lambda c: 6 * c // 128, lambda c: 0),
    'SimAM': (lambda c: 0, lambda c: 0),
    # Conv1d C -> C, kernel 7, C/8 groups (8 inputs per output) + GN(16, C) affine
    'ELA': (lambda c: c * 8 * 7 + 2 * c, lambda c: c * 8 * 7),
}
# sum over WIDTHS of PER_BLOCK, by hand: (all, profiler)
ADDED = {'ECA': (86, 86),                        # 3*5 + 4*5 + 6*5 + 3*7
         'CBAM': (2_516_512, 2_516_512),         # sum(C^2)/8 = 20,119,552/8, + 16*98
         'ShuffleAttention': (708, 0),           # 6 * 15,104 / 128
         'SimAM': (0, 0),
         'ELA': (876_032, 845_824)}              # 58 and 56 * sum(C) = 15,104


def with_plugin(cls, type_name: str, **kwargs):
    return cls(depth=50, plugins=[dict(cfg=dict(type=type_name), position='after_conv3')],
               **kwargs)


def profiled(model) -> int:
    return profiler_params(model, lambda m: m(torch.zeros(1, 3, 64, 64)))


def test_hand_totals_are_the_formulas() -> None:
    for name, (full, prof) in PER_BLOCK.items():
        assert (sum(map(full, WIDTHS)), sum(map(prof, WIDTHS))) == ADDED[name], name


def test_plain_backbones() -> None:
    assert all_params(ResNet(depth=50)) == profiled(ResNet(depth=50)) == RESNET50
    assert all_params(RKANResNet(depth=50)) == RESNET50 + RKAN
    assert profiled(RKANResNet(depth=50)) == RESNET50 + RKAN - KAN_CUSTOM


@pytest.mark.slow  # profiled ResNet-50s per plugin
@pytest.mark.parametrize('type_name', sorted(PER_BLOCK))
def test_resnet50_and_rkan_resnet50(type_name: str) -> None:
    full, prof = ADDED[type_name]
    plain = with_plugin(ResNet, type_name)
    rkan = with_plugin(RKANResNet, type_name)
    assert all_params(plain) == RESNET50 + full
    assert all_params(rkan) - all_params(plain) == RKAN
    assert profiled(plain) == RESNET50 + prof
    assert profiled(rkan) - profiled(plain) == RKAN - KAN_CUSTOM


@pytest.mark.slow  # profiled ResNeXt-50s per plugin
@pytest.mark.parametrize('type_name', sorted(PER_BLOCK))
def test_resnext50_and_rkan_resnext50(type_name: str) -> None:
    """Same widths after conv3 as ResNet-50, so the same plugin counts."""
    kwargs = dict(groups=32, base_width=4)
    plain = with_plugin(ResNeXt, type_name, **kwargs)
    rkan = with_plugin(RKANResNeXt, type_name, **kwargs)
    assert all_params(ResNeXt(depth=50, **kwargs)) == RESNEXT50
    assert all_params(plain) == RESNEXT50 + ADDED[type_name][0]
    assert all_params(rkan) - all_params(plain) == RKAN


def test_paper_imagenet_sizes_for_ela() -> None:
    """docs/families.md §5: the paper's table says 26.40M (ELA-L-50) and 27.98M
    (RKAN-ELA-L-50) by its profiler; sum(p.numel()) gives 0.03M more."""
    fc = 2048 * 1000 + 1000
    plain, rkan = with_plugin(ResNet, 'ELA'), with_plugin(RKANResNet, 'ELA')
    assert all_params(plain) + fc == 26_433_064
    assert profiled(plain) + fc == 26_402_856
    assert all_params(rkan) + fc == 28_011_147
    assert profiled(rkan) + fc == 27_980_840
    assert [round((n + fc) / 1e6, 2) for n in (profiled(plain), profiled(rkan))] == [26.40, 27.98]
