"""Literal implementations of docs/families.md §4's formulas, for the tests.

Written from the formulas, in loops over taps, groups and channels, without
the modules' code paths (no Conv1d/Conv2d/GroupNorm layers, no chunk/view
tricks), so that an indexing or normalisation slip in a module shows up.
"""
from typing import List

import torch
import torch.nn.functional as F
from torch import Tensor


def mean_hw(x: Tensor) -> Tensor:
    """(B, C, H, W) -> (B, C, 1, 1): sum over pixels / H W."""
    return x.sum((2, 3), keepdim=True) / (x.shape[2] * x.shape[3])


def conv1d_taps(seq: Tensor, weight: Tensor) -> Tensor:
    """Single-channel 'same' correlation: seq (B, L), weight (k,) -> (B, L)."""
    k, length = weight.numel(), seq.shape[1]
    padded = F.pad(seq, ((k - 1) // 2, (k - 1) // 2))
    return sum(weight[j] * padded[:, j:j + length] for j in range(k))


def eca(x: Tensor, weight: Tensor) -> Tensor:
    """x * sigmoid(conv1d_k(gap(x))); weight (1, 1, k)."""
    a = mean_hw(x)[:, :, 0, 0]
    return x * torch.sigmoid(conv1d_taps(a, weight.reshape(-1)))[:, :, None, None]


def cbam(x: Tensor, w1: Tensor, w2: Tensor, spatial: Tensor) -> Tensor:
    """w1 (C/r, C, 1, 1), w2 (C, C/r, 1, 1), spatial (1, 2, k, k)."""
    m1, m2 = w1[:, :, 0, 0], w2[:, :, 0, 0]

    def mlp(v: Tensor) -> Tensor:  # v (B, C)
        return torch.relu(v @ m1.t()) @ m2.t()
    avg = mean_hw(x)[:, :, 0, 0]
    peak = x.flatten(2).max(dim=2).values
    x1 = x * torch.sigmoid(mlp(avg) + mlp(peak))[:, :, None, None]
    maps = [x1.sum(1) / x1.shape[1], x1.max(dim=1).values]  # each (B, H, W)
    k = spatial.shape[-1]
    p = (k - 1) // 2
    h, w = x.shape[2:]
    logit = torch.zeros_like(maps[0])
    for c, m in enumerate(maps):
        padded = F.pad(m, (p, p, p, p))
        for i in range(k):
            for j in range(k):
                logit = logit + spatial[0, c, i, j] * padded[:, i:i + h, j:j + w]
    return x1 * torch.sigmoid(logit)[:, None]


def shuffle_attention(x: Tensor, groups: int, cw: Tensor, cb: Tensor, sw: Tensor,
                      sb: Tensor, gamma: Tensor, beta: Tensor, eps: float = 1e-5) -> Tensor:
    """Per group: first half channel attention, second half spatial; then shuffle."""
    b, c, h, w = x.shape
    per_group, half = c // groups, c // (2 * groups)
    channels: List[Tensor] = []
    for g in range(groups):
        for i in range(per_group):
            v = x[:, g * per_group + i]                           # (B, H, W)
            mu = v.sum((1, 2), keepdim=True) / (h * w)
            if i < half:
                channels.append(v * torch.sigmoid(cw.flatten()[i] * mu + cb.flatten()[i]))
            else:
                j = i - half
                var = ((v - mu) ** 2).sum((1, 2), keepdim=True) / (h * w)
                gn = (v - mu) / torch.sqrt(var + eps) * gamma[j] + beta[j]
                channels.append(v * torch.sigmoid(sw.flatten()[j] * gn + sb.flatten()[j]))
    # channel shuffle, 2 groups: output channel 2 j + s is input channel s C/2 + j
    shuffled = [channels[s * (c // 2) + j] for j in range(c // 2) for s in range(2)]
    return torch.stack(shuffled, dim=1)


def simam(x: Tensor, e_lambda: float) -> Tensor:
    n = x.shape[2] * x.shape[3] - 1
    d = (x - mean_hw(x)) ** 2
    e = d / (4 * (d.sum((2, 3), keepdim=True) / n + e_lambda)) + 0.5
    return x * torch.sigmoid(e)


def ela(x: Tensor, conv_weight: Tensor, norm_groups: int, gamma: Tensor, beta: Tensor,
        eps: float = 1e-5) -> Tensor:
    """conv_weight (C, C/g, k): grouped conv1d shared by the H and W sequences."""
    c = x.shape[1]
    per_group = conv_weight.shape[1]

    def attend(seq: Tensor) -> Tensor:  # (B, C, L)
        outs = []
        for o in range(c):
            first = (o // per_group) * per_group     # the group's first input channel
            acc = torch.zeros_like(seq[:, 0])
            for i in range(per_group):
                acc = acc + conv1d_taps(seq[:, first + i], conv_weight[o, i])
            outs.append(acc)
        y = torch.stack(outs, dim=1)                 # (B, C, L)
        size = c // norm_groups
        normed = []
        for g in range(norm_groups):
            part = y[:, g * size:(g + 1) * size]
            count = part.shape[1] * part.shape[2]
            mu = part.sum((1, 2), keepdim=True) / count
            var = ((part - mu) ** 2).sum((1, 2), keepdim=True) / count
            normed.append((part - mu) / torch.sqrt(var + eps))
        y = torch.cat(normed, dim=1) * gamma[:, None] + beta[:, None]
        return torch.sigmoid(y)
    ah = attend(x.sum(3) / x.shape[3])
    aw = attend(x.sum(2) / x.shape[2])
    return x * ah[:, :, :, None] * aw[:, :, None, :]
