"""Mixed precision: ``tools/train.py --amp`` trains on a CPU (bf16 autocast via
``Bf16OptimWrapper``) with finite losses, and the RKAN backbone stays finite
for inputs up to 1e4 in float32 and under bf16 autocast."""
import math
from pathlib import Path

import pytest
import torch

from rkan_mmdet.models import RKANResNet

from .conftest import logged_losses, run, train_command

AMP_ITERS = 20


def test_amp_on_cpu_trains_with_finite_losses(tiny_coco: Path, tmp_path: Path) -> None:
    # The CPU path is what this test covers, on a GPU machine too: the run sees no GPU.
    # Without AVX512-BF16/AMX, oneDNN has no bf16 conv and torch's fallback
    # costs ~0.1 s per 256-channel conv whatever the image size: a quarter-
    # width RKAN-ResNet-18 (default RKAN settings) at 32 px keeps this short.
    done = run(train_command(tiny_coco, tmp_path, AMP_ITERS, ['--amp'], extra=[
        'model.backbone.base_channels=16', 'model.neck.in_channels=[16,32,64,128]',
        'model.backbone.norm_cfg.num_groups=8'],  # GN groups must divide 16 channels
        image_size=32), timeout=600, env={'CUDA_VISIBLE_DEVICES': ''})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "type='Bf16OptimWrapper'" in done.stdout + done.stderr  # the dumped config
    losses = logged_losses(tmp_path)
    assert sorted(losses) == list(range(1, AMP_ITERS + 1))
    assert all(math.isfinite(loss) for loss in losses.values()), losses


@pytest.mark.parametrize('autocast', [False, True], ids=['float32', 'bf16-autocast'])
def test_backbone_finite_for_huge_inputs(autocast: bool) -> None:
    """Default RKAN settings; every basis alone is covered by
    ``tests/test_layers/test_kan_conv_options.py::test_output_finite_for_huge_inputs``."""
    torch.manual_seed(0)
    backbone = RKANResNet(depth=18, frozen_stages=-1, norm_eval=False)
    x = torch.rand(2, 3, 32, 32) * 2e4 - 1e4  # magnitudes up to 1e4
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
        outs = backbone(x)
    loss = sum(out.float().mean() for out in outs)
    loss.backward()
    assert all(torch.isfinite(out).all() for out in outs)
    assert all(torch.isfinite(p.grad).all() for p in backbone.parameters() if p.grad is not None)
