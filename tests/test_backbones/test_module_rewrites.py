"""What rewrites models in the stack keeps the RKAN blocks running beside their stages:
deepcopy (MMEngine's EMA), SyncBN conversion both ways (MMEngine reverts SyncBN on a
single process), and mmcv's fuse_conv_bn (mmdet's --fuse-conv-bn)."""
import copy
from typing import Callable

import pytest
import torch
from mmcv.cnn import fuse_conv_bn
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS
from torch import nn

from rkan_mmdet.models import RKANResNet

SMALL_DENSENET = dict(growth_rate=8, depths=[2, 2, 2, 2], init_channels=16)


def trained_like(model: nn.Module) -> nn.Module:
    """Random, non-zero norm statistics and affine values, so that a block that
    stopped running (or a wrong fusion) changes the output."""
    torch.manual_seed(1)
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.5, 0.5)
    return model.eval()


def run(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(x)[-1]


def test_deepcopy_runs_the_copied_blocks() -> None:
    torch.manual_seed(0)
    model = RKANResNet(depth=18, zero_init_residual=False).eval()
    twin = copy.deepcopy(model)
    x = torch.randn(1, 3, 64, 64)
    before = run(model, x)
    assert torch.equal(run(twin, x), before)
    with torch.no_grad():
        twin.rkan_layers['layer4'].out_norm.weight.mul_(3)
    assert not torch.equal(run(twin, x), before)
    assert torch.equal(run(model, x), before)


@pytest.mark.parametrize('factory', [
    lambda: RKANResNet(depth=18, rkan_mechanisms=('addition', None, 'gating', 'se'),
                       rkan_shortcut=True),
    lambda: MODELS.build(dict(type='RKANDenseNet', arch=SMALL_DENSENET,
                              rkan_mechanisms=(None, None, 'addition', 'addition'))),
], ids=['ResNet', 'DenseNet'])
@pytest.mark.parametrize('rewrite', [
    lambda m: fuse_conv_bn(m),
    lambda m: revert_sync_batchnorm(nn.SyncBatchNorm.convert_sync_batchnorm(m)),
], ids=['fuse_conv_bn', 'SyncBN-round-trip'])
def test_rewrites_keep_every_block(factory: Callable, rewrite: Callable) -> None:
    torch.manual_seed(0)
    model = trained_like(factory())
    x = torch.randn(2, 3, 67, 93)
    expected = run(model, x)
    without_rkan = copy.deepcopy(model)
    for block in without_rkan.rkan_layers.values():
        nn.init.zeros_(block.out_norm.weight)
        nn.init.zeros_(block.out_norm.bias)
    assert (run(without_rkan, x) - expected).abs().max() > 1e-2  # the blocks matter
    rewritten = rewrite(copy.deepcopy(model)).eval()
    torch.testing.assert_close(run(rewritten, x), expected, rtol=1e-4, atol=1e-4)
