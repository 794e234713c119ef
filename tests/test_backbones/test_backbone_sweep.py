"""Every backbone registered in mmdet and mmpretrain beside RKAN (last stage), against
the expected verdict of :mod:`.sweep_table` (docs/any_backbone.md).

A backbone that *works*: plain weights load with exactly ``rkan_layers.*`` missing, a
zero-init RKAN backbone computes the plain one bit for bit in eval and train mode,
setting the block's last norm scale to 1 changes the output, and every block parameter
gets a gradient. Any other verdict is a one-line ``ValueError`` naming why. A backbone
added to either registry, or one whose verdict changes in a future release, fails here.
"""
import re
from typing import Iterator, List

import pytest
import torch
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import MODELS
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS

import rkan_mmdet  # noqa: F401  (registers RKAN)
from .sweep_table import MMDET, MMPRETRAIN, SIZE_224, SKIP, SLOW, WORKS

TABLES = {'mmdet': (MMDET_MODELS, MMDET), 'mmpretrain': (MMPRETRAIN_MODELS, MMPRETRAIN)}
CASES = [pytest.param(scope, name, cfg, verdict, id=f'{scope}.{name}',
                      marks=[pytest.mark.slow] if name in SLOW else [])
         for scope, (_, table) in TABLES.items() for name, (cfg, verdict) in table.items()]


@pytest.mark.parametrize('scope', list(TABLES))
def test_the_table_names_every_registered_backbone(scope: str) -> None:
    registry, table = TABLES[scope]
    registered = {name for name, cls in registry.module_dict.items()
                  if getattr(cls, '__module__', '').startswith(f'{scope}.models.backbones')}
    assert registered == set(table)


def tensors(output) -> Iterator[torch.Tensor]:
    if isinstance(output, torch.Tensor):
        yield output
    elif isinstance(output, (list, tuple)):
        for item in output:
            yield from tensors(item)


def run(model: torch.nn.Module, x: torch.Tensor, train: bool) -> List[torch.Tensor]:
    model.train(train)
    torch.manual_seed(1)  # the same dropout / drop-path draws for both models
    with torch.no_grad():
        return list(tensors(model(x)))


@pytest.mark.parametrize('scope,name,cfg,verdict', CASES)
def test_backbone_verdict(scope: str, name: str, cfg: dict, verdict: str) -> None:
    if verdict.startswith(SKIP):
        pytest.skip(verdict[len(SKIP):])
    plain_cfg = dict(type=f'{scope}.{name}', **cfg)
    if verdict != WORKS:
        with pytest.raises(ValueError, match=re.escape(verdict)) as info:
            MODELS.build(dict(type='RKAN', backbone=plain_cfg))
        assert '\n' not in str(info.value)
        if not verdict.startswith('reduce_factor'):  # an RKAN argument's error names it
            assert str(info.value).startswith(f'RKAN cannot attach to {name}: ')
        return
    torch.manual_seed(0)
    plain = MODELS.build(plain_cfg)
    rkan = MODELS.build(dict(type='RKAN', backbone=plain_cfg))
    (block,) = rkan.rkan_layers.values()
    result = rkan.load_state_dict(plain.state_dict(), strict=False)
    assert result.unexpected_keys == []
    own = set(plain.load_state_dict(plain.state_dict(), strict=False).missing_keys)  # SwinV2
    assert set(result.missing_keys) == own | {
        k for k in rkan.state_dict()
        if k.startswith('rkan_layers.') and not k.endswith('num_batches_tracked')}
    size = cfg.get('img_size', 224 if name in SIZE_224 else 64)
    size = tuple(size) if isinstance(size, (list, tuple)) else (size, size)
    x = torch.randn(2, 3, *size)
    for train in (False, True):
        ours, ref = run(rkan, x, train), run(plain, x, train)
        assert len(ours) == len(ref) > 0
        assert all(torch.equal(a, b) for a, b in zip(ours, ref)), train
    with torch.no_grad():
        block.out_norm.weight.fill_(1)
    assert not all(torch.equal(a, b) for a, b in zip(run(rkan, x, False), run(plain, x, False)))
    rkan.train()
    sum(t.float().square().mean() for t in tensors(rkan(x))).backward()
    assert [n for n, p in block.named_parameters() if p.grad is None] == []
    assert sum(p.grad.abs().sum() for p in block.parameters()) > 0
