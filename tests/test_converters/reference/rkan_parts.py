"""The RKAN modules of the paper code's classifiers and its residual step (docs/spec.md §1).

Every model file of the paper builds, for each of the four stages ``i`` (all
of them, enabled or not), in this order: ``kan_conv1``, ``kan_conv2`` (module
lists of :class:`.kan_layer.KANConvLayer`), ``conv_reduce`` (C_in -> M),
``conv_expand`` (M -> C_out), with the shortcut option ``shortcut_bn`` and
``conv_shortcut``, ``kan_bn`` (M), ``kan_expand_bn`` (C_out), then the
mechanisms: ``gate_convs`` (1x1 with bias; not in DenseNet / RegNet) and
``se_blocks`` (GAP, 1x1, ReLU, 1x1, sigmoid; biased in ResNeXt and Wide
ResNet). Its forward, per enabled stage::

    r = SiLU(conv_reduce(x)); r = kan_bn(kan_conv1(r)); r = SiLU(conv_expand(r))
    r = kan_conv2(r) on the last stage; r = kan_expand_bn(r); r += shortcut(x)
    out = out + r | out g + r (1 - g), g = sigmoid(gate(r)) | out + r se(r)
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .kan_layer import Kernel, KANConvLayer

#: (order, grid) of the first and second KAN conv per type (the paper's (3, 2) / (3, 2)).
KAN_SIZES: Dict[str, Tuple[Tuple[int, int], Tuple[int, int]]] = {
    'chebyshev': ((3, 3), (2, 2)), 'legendre': ((3, 3), (2, 2)),
    'rbf': ((3, 4), (2, 3)), 'b_spline': ((3, 3), (2, 2))}
BATCHES = 5004


def se_block(channels: int, bias: bool) -> nn.Sequential:
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, channels // 16, 1, bias=bias),
                         nn.ReLU(), nn.Conv2d(channels // 16, channels, 1, bias=bias),
                         nn.Sigmoid())


def add_rkan_parts(model: nn.Module, ins: Sequence[int], outs: Sequence[int],
                   strides: Sequence[int], kind: str, g: torch.Generator,
                   mids: Optional[Sequence[int]] = None, gating: bool = True,
                   se_bias: bool = False, shortcut: bool = False) -> None:
    """Register the RKAN module lists on ``model`` (stage i: ins[i] -> outs[i], stride)."""
    mids = mids or [c // 2 for c in ins]
    (o1, g1), (o2, g2) = KAN_SIZES[kind]
    model.kan_conv1 = nn.ModuleList([KANConvLayer(kind, o1, g1, s, g) for s in strides])
    model.kan_conv2 = nn.ModuleList([KANConvLayer(kind, o2, g2, 1, g) for _ in strides])
    model.conv_reduce = nn.ModuleList([nn.Conv2d(c, m, 1, bias=False) for c, m in zip(ins, mids)])
    model.conv_expand = nn.ModuleList([nn.Conv2d(m, c, 1, bias=False) for m, c in zip(mids, outs)])
    if shortcut:
        model.shortcut_bn = nn.ModuleList([nn.BatchNorm2d(c) for c in outs])
        model.conv_shortcut = nn.ModuleList([nn.Conv2d(c, o, 1, stride=s, bias=False)
                                             for c, o, s in zip(ins, outs, strides)])
    model.kan_bn = nn.ModuleList([nn.BatchNorm2d(m) for m in mids])
    model.kan_expand_bn = nn.ModuleList([nn.BatchNorm2d(c) for c in outs])
    if gating:
        model.gate_convs = nn.ModuleList([nn.Conv2d(c, c, 1) for c in outs])
    model.se_blocks = nn.ModuleList([se_block(c, se_bias) for c in outs])
    model.shortcut = shortcut


def rkan_step(model: nn.Module, i: int, identity: Tensor, out: Tensor, mechanism: str,
              last: bool) -> Tensor:
    """The paper's residual of stage ``i`` joined to the stage output ``out``."""
    r = F.silu(model.conv_reduce[i](identity))
    r = F.silu(model.conv_expand[i](model.kan_bn[i](model.kan_conv1[i](r))))
    if last:
        r = model.kan_conv2[i](r)
    r = model.kan_expand_bn[i](r)
    if model.shortcut:
        r = r + model.shortcut_bn[i](model.conv_shortcut[i](identity))
    if mechanism == 'addition':
        return out + r
    if mechanism == 'gating':
        gate = torch.sigmoid(model.gate_convs[i](r))
        return out * gate + r * (1 - gate)
    return out + r * model.se_blocks[i](r)


def randomize(model: nn.Module, g: torch.Generator, trained_rkan: Sequence[int],
              parts: Optional[nn.Module] = None) -> nn.Module:
    """Every parameter and BN statistic random, as after training, except the RKAN
    BNs (of ``parts``, default ``model``) of stages not in ``trained_rkan``: those
    keep 0/1 and 0 batches. Returns ``model`` in eval mode."""
    untouched = set()
    for name in ('kan_bn', 'kan_expand_bn', 'shortcut_bn'):
        for i, bn in enumerate(getattr(parts or model, name, [])):
            if i not in trained_rkan:
                untouched.add(bn)
    with torch.no_grad():
        for module in model.modules():
            if module in untouched:
                continue
            for name, p in module.named_parameters(recurse=False):
                if not p.requires_grad or isinstance(module, Kernel):
                    continue  # a KAN kernel's tensors are drawn when it is built
                if isinstance(module, (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)):
                    p.copy_(torch.rand(p.shape, generator=g) + 0.5 if name == 'weight'
                            else torch.randn(p.shape, generator=g) * 0.1)
                else:
                    fan_in = p[0].numel() if p.dim() > 1 else 1
                    p.copy_(torch.randn(p.shape, generator=g) / fan_in ** 0.5)
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.copy_(torch.randn(module.num_features, generator=g) * 0.1)
                module.running_var.copy_(torch.rand(module.num_features, generator=g) + 0.5)
                module.num_batches_tracked.fill_(BATCHES)
    return model.eval()


def run_stages(model: nn.Module, out: Tensor, stages: Sequence[nn.Module]) -> Tensor:
    """The paper's stage loop: each stage, then its RKAN step where a mechanism is set."""
    for i, stage in enumerate(stages):
        identity, out = out, stage(out)
        if model.mechanisms[i] is not None:
            out = rkan_step(model, i, identity, out, model.mechanisms[i], i == len(stages) - 1)
    return out
