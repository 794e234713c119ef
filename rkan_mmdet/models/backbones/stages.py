"""Where a backbone's stages are, and what they do to a tensor (docs/families.md §1-§3).

RKAN runs beside a *stage*: ``x`` is the tensor that enters the stage's
**entry** module and ``y`` the tensor that leaves its **exit** module (often
the same module). :func:`find_stages` first refuses the backbones listed in
:data:`REFUSED` with one line naming why, then uses the first layout that fits:

=====================  =======================  =================================  ===========
layout                 entry (x = its input)    exit (y = its output)              block key
=====================  =======================  =================================  ===========
ResNet family          ``layer{i}``             ``layer{i}``                       ``layer{i}``
(``res_layers``)
DenseNet               ``stages[i]``            ``transitions[i]``; last stage:    ``stage{i}``
                                                the *input* of the activation
                                                of ``transitions[-1]``
Swin (token stages)    ``stages[i]``            ``stages[i].blocks[-1]``           ``stage{i}``
ConvNeXt / HorNet      ``downsample_layers[i]`` ``stages[i]`` (as many of each)    ``stage{i}``
every other backbone   by its contract: the modules that produce the feature maps it returns
                       (:mod:`.contract`): CSPDarknet, CSPNeXt, EfficientNet, MobileNet,
                       RepVGG, ShuffleNet, ConvNeXt, HorNet, RepLKNet, RepMLPNet, VGG, ...
=====================  ===================================================================================

(``i`` is 1-based in the keys.) For DenseNet the reference code adds ``r``
after each transition (BN-ReLU-1x1-AvgPool, where the width halves), and on
the last stage after the final BN but before its ReLU. That point is the
input of the final transition's activation, so the tap sits there: the ReLU
sees ``y + r`` as in the reference, and where that activation is an
``nn.Identity`` (the paper's head, no final ReLU) the pooled features are
``norm5(y) + r``. mmpretrain shares one activation module between the stem
and that transition, so the transition gets its own copy (an activation has
no state, so no key changes). The tap is not on the BN itself:
``revert_sync_batchnorm``/``convert_sync_batchnorm`` replace BN modules, and
with them their hooks.

Swin's stages take and return ``(tokens, (H, W))``; the block sees the tokens
as (B, C, H, W) maps: ``x`` enters the stage (mmdet: after the previous
patch merging), ``y`` leaves its last transformer block, so ``mechanism(y, r)``
is what the patch merging (the next stage's token stream) and the neck read,
as in the paper's RKAN_Swin.

:func:`probe_stages` measures each stage once with a small no-grad forward
(64 px; 224 px where the backbone's forward takes no 64 px image):
``(C_in, H_in)`` of ``x`` and ``(C_out, H_out)`` of ``y``. Channels and stride
therefore come from the backbone itself, never from a ResNet formula. The
probe also checks that every entry and exit module runs exactly once per
forward with one tensor in and one out, which is what the hooks of
:mod:`.attach` rely on; a backbone that runs its stage modules' children
directly (HorNet under ``with_cp``) fails that check and is refused.

This module knows nothing of RKAN's mixin: callers pass the backbone's name.
"""
import copy
from typing import Any, Callable, Iterator, List, Optional, Tuple, TypeVar

import torch
from torch import Tensor, nn

from .contract import contract_stages
from .stage_spec import Stage, StageShape

#: Probe image sides where the backbone has no ``img_size``: 64 px (every
#: stride-2 stage of a 32x backbone still sees >= 2 px), then 224 px for
#: backbones whose attention biases or windows are sized for ImageNet.
PROBE_SIZES = (64, 224)
T = TypeVar('T')

#: (class name in the MRO, condition on the instance, why RKAN cannot attach).
REFUSED: List[Tuple[str, Callable[[nn.Module], bool], str]] = [
    ('HRNet', lambda m: True,
     'its stages are multi-branch modules that take and return lists of tensors'),
    ('TridentResNet', lambda m: True,
     'its last stage runs three weight-sharing branches and returns a list of tensors'),
    ('DetectoRS_ResNet', lambda m: True,
     "the recursive feature pyramid runs its stages again through rfp_forward, "
     'bypassing the stage modules'),
    ('HorNet', lambda m: bool(getattr(m, 'with_cp', False)),
     "with with_cp=True it runs each stage's blocks through checkpoint_sequential, "
     'never calling the stage module'),
]

__all__ = ['PROBE_SIZES', 'REFUSED', 'Stage', 'StageShape', 'find_stages', 'probe_stages',
           'refusal']


def refusal(name: str, why: str) -> ValueError:
    """The one-line error for a backbone (class ``name``) RKAN cannot attach to."""
    return ValueError(f'RKAN cannot attach to {name}: {why}')


def probe_images(backbone: nn.Module, name: str) -> Iterator[Tensor]:
    """Zero images to probe with: the backbone's ``img_size`` (RepMLPNet takes no
    other), else :data:`PROBE_SIZES` in turn. Channels: the first conv's input
    channels where they look like an image's (at most 4), else 3 (CSPDarknet's
    Focus stem convolves 12 space-to-depth channels)."""
    first = next((m for m in backbone.modules() if isinstance(m, nn.Conv2d)), None)
    if first is None:
        raise refusal(name, 'it has no Conv2d to take an image')
    channels = first.in_channels if first.in_channels <= 4 else 3
    size = getattr(backbone, 'img_size', None)
    size = tuple(size) if isinstance(size, (list, tuple)) else (size, size)
    sizes = [size] if len(size) == 2 and all(isinstance(s, int) for s in size) else \
        [(s, s) for s in PROBE_SIZES]
    param = next(backbone.parameters())
    for size in sizes:
        yield torch.zeros(1, channels, *size, dtype=param.dtype, device=param.device)


def with_probe(backbone: nn.Module, name: str, run: Callable[[Tensor], T]) -> T:
    """``run(image)`` in eval mode without grad, at each probe size until the
    backbone's forward takes one; every ``training`` flag is restored after."""
    modes = {m: m.training for m in backbone.modules()}
    failure = ''
    try:
        nn.Module.train(backbone, False)
        for image in probe_images(backbone, name):
            try:
                with torch.no_grad():
                    return run(image)
            except (RuntimeError, AssertionError) as error:
                lines = str(error).strip().splitlines() or [type(error).__name__]
                failure = f'{tuple(image.shape)}: {lines[0]}'
    finally:
        for module, mode in modes.items():
            module.training = mode
    raise refusal(name, f'its forward fails on every probe image, last {failure}')


def find_stages(backbone: nn.Module, name: str) -> List[Stage]:
    """The stages of ``backbone`` (class ``name``) in forward order, or a one-line ValueError."""
    for cls in type(backbone).__mro__:
        for refused, applies, why in REFUSED:
            if cls.__name__ == refused and applies(backbone):
                raise refusal(name, why)
    res_layers = getattr(backbone, 'res_layers', None)
    if isinstance(res_layers, (list, tuple)) and res_layers:
        return [Stage(layer, getattr(backbone, layer), getattr(backbone, layer))
                for layer in res_layers]
    stages = getattr(backbone, 'stages', None)
    transitions = getattr(backbone, 'transitions', None)
    if isinstance(stages, nn.ModuleList) and isinstance(transitions, nn.ModuleList) \
            and len(stages) == len(transitions):
        return dense_stages(stages, transitions)
    if isinstance(stages, nn.ModuleList) and len(stages) and all(
            isinstance(getattr(s, 'blocks', None), nn.ModuleList) and len(s.blocks)
            and hasattr(s, 'downsample') for s in stages) and hasattr(backbone, 'patch_embed'):
        return [Stage(f'stage{i + 1}', s, s.blocks[-1], tokens=True)
                for i, s in enumerate(stages)]
    downsamples = getattr(backbone, 'downsample_layers', None)
    if isinstance(stages, nn.ModuleList) and isinstance(downsamples, nn.ModuleList) \
            and len(stages) == len(downsamples):  # its pooled output alone names no stage
        return [Stage(f'stage{i + 1}', down, stage)
                for i, (down, stage) in enumerate(zip(downsamples, stages))]
    return with_probe(backbone, name, lambda image: contract_stages(
        backbone, image, lambda why: refusal(name, why)))


def dense_stages(stages: nn.ModuleList, transitions: nn.ModuleList) -> List[Stage]:
    """DenseNet: dense block in, transition out; the last ``y`` enters the final activation."""
    found = [Stage(f'stage{i + 1}', stage, transition)
             for i, (stage, transition) in enumerate(zip(stages, transitions))]
    last = transitions[-1]
    if (isinstance(last, nn.Sequential) and len(last) == 2
            and not any(True for _ in last[1].parameters())):
        last[1] = copy.deepcopy(last[1])  # its own activation (module docstring)
        found[-1] = Stage(found[-1].key, stages[-1], last[1], exit_input=True)
    return found


def measure(value: Any, hw: Optional[Any]) -> Optional[Tuple[int, int]]:
    """(channels, height) of a (B, C, H, W) map, or of (B, H*W, C) tokens with ``hw``."""
    if hw is None:
        return (value.shape[1], value.shape[2]) \
            if isinstance(value, Tensor) and value.dim() == 4 else None
    if isinstance(value, Tensor) and value.dim() == 3 and isinstance(hw, (list, tuple)):
        return value.shape[2], int(hw[0])
    return None


def probe_stages(backbone: nn.Module, stages: List[Stage], name: str) -> List[StageShape]:
    """Run one no-grad eval forward and measure every stage.

    Every module's ``training`` flag is restored afterwards, so the probe
    leaves no trace (eval mode: no running statistics move).
    """
    seen: dict = {}

    def record(stage_index: int, side: str, value, args: tuple, tokens: bool) -> None:
        hw = (args[1] if len(args) > 1 else None) if tokens else None
        shape = measure(value, hw)
        if shape is None:
            kind = type(value).__name__
            what = '(B, H*W, C) tokens with their (H, W)' if tokens else '(B, C, H, W) tensor'
            raise refusal(name, f'stage {stage_index + 1} {side} is a {kind}, not one {what}')
        seen.setdefault((stage_index, side), []).append(shape)

    handles = []
    for i, stage in enumerate(stages):
        tok = stage.tokens
        handles.append(stage.entry.register_forward_pre_hook(
            lambda m, args, i=i, tok=tok: record(i, 'input', args[0] if args else None,
                                                 args, tok)))
        if stage.exit_input:
            handles.append(stage.exit.register_forward_pre_hook(
                lambda m, args, i=i: record(i, 'output', args[0] if args else None,
                                            args, False)))
        else:
            handles.append(stage.exit.register_forward_hook(
                lambda m, args, out, i=i, tok=tok: record(i, 'output', out, args, tok)))
    def run(image: Tensor) -> None:
        seen.clear()
        backbone(image)

    try:
        with_probe(backbone, name, run)
    finally:
        for handle in handles:
            handle.remove()
    shapes = []
    for i in range(len(stages)):
        ins, outs = seen.get((i, 'input'), []), seen.get((i, 'output'), [])
        if len(ins) != 1 or len(outs) != 1:
            raise refusal(name, f'stage {i + 1} runs {len(ins)} time(s) per forward at its '
                          f'input and {len(outs)} at its output, not once')
        (c_in, h_in), (c_out, h_out) = ins[0], outs[0]
        stride = max(1, round(h_in / h_out))
        if h_out not in (h_in // stride, (h_in - 1) // stride + 1):
            raise refusal(name, f'stage {i + 1} maps {h_in} px to {h_out} px, '
                          'not by an integer stride')
        shapes.append(StageShape(c_in, c_out, stride))
    return shapes
