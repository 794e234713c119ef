"""Where a backbone's stages are, and what they do to a tensor (docs/families.md §1-§3).

RKAN runs beside a *stage*: ``x`` is the tensor that enters the stage's
**entry** module and ``y`` the tensor that leaves its **exit** module (often
the same module). :func:`find_stages` knows three layouts and refuses every
other backbone with one line:

=====================  =======================  =================================  ===========
layout                 entry (x = its input)    exit (y = its output)              block key
=====================  =======================  =================================  ===========
ResNet family          ``layer{i}``             ``layer{i}``                       ``layer{i}``
(``res_layers``)
DenseNet               ``stages[i]``            ``transitions[i]``; last stage:    ``stage{i}``
                                                the *input* of the activation
                                                of ``transitions[-1]``
ConvNeXt / HorNet      ``downsample_layers[i]`` ``stages[i]``                      ``stage{i}``
=====================  =======================  =================================  ===========

(``i`` is 1-based in the keys.) For DenseNet the reference code adds ``r``
after each transition (BN-ReLU-1x1-AvgPool, where the width halves), and on
the last stage after the final BN but before its ReLU. That point is the
input of the final transition's activation, so the tap sits there: the ReLU
sees ``y + r`` as in the reference. mmpretrain shares one activation module
between the stem and that transition, so the transition gets its own copy (an
activation has no state, so no key changes). The tap is not on the BN itself:
``revert_sync_batchnorm``/``convert_sync_batchnorm`` replace BN modules, and
with them their hooks.

:func:`probe_stages` measures each stage once with a small no-grad forward:
``(C_in, H_in)`` of ``x`` and ``(C_out, H_out)`` of ``y``. Channels and stride
therefore come from the backbone itself, never from a ResNet formula (RegNet's
widths come from its arch, DenseNet's from its growth rate). The probe also
checks that every entry and exit module runs exactly once per forward with one
tensor in and one out, which is what the hooks of :mod:`.attach` rely on; a
backbone that runs its stage modules' children directly (HorNet under
``with_cp``) fails that check and is refused.
"""
import copy
from dataclasses import dataclass
from typing import Callable, List, Tuple

import torch
from torch import Tensor, nn

#: Probe input side: every stride-2 stage of a 32x backbone still sees >= 2 px.
PROBE_SIZE = 64

#: (class name in the MRO, condition on the instance, why RKAN cannot attach).
REFUSED: List[Tuple[str, Callable[[nn.Module], bool], str]] = [
    ('HRNet', lambda m: True,
     'its stages are multi-branch modules that take and return lists of tensors'),
    ('TridentResNet', lambda m: True,
     'its last stage runs three weight-sharing branches and returns a list of tensors'),
    ('DetectoRS_ResNet', lambda m: True,
     "the recursive feature pyramid runs its stages again through rfp_forward, "
     'bypassing the stage modules'),
    ('VGG', lambda m: True,
     'its stages are index ranges of one nn.Sequential (range_sub_modules), not modules'),
    ('HorNet', lambda m: bool(getattr(m, 'with_cp', False)),
     "with with_cp=True it runs each stage's blocks through checkpoint_sequential, "
     'never calling the stage module'),
]


@dataclass
class Stage:
    """One stage: the module whose input is ``x`` and the one whose output
    (or input, with ``exit_input``) is ``y``."""

    key: str
    entry: nn.Module
    exit: nn.Module
    exit_input: bool = False


@dataclass
class StageShape:
    """What one stage does to the probe: channels in/out and spatial stride."""

    in_channels: int
    out_channels: int
    stride: int


def backbone_name(backbone: nn.Module) -> str:
    """The plain backbone's class name (``RKANResNet`` -> ``ResNet``): the first
    class of the MRO that does not come from the RKAN mixin (``adds_rkan``)."""
    plain = [c for c in type(backbone).__mro__ if not getattr(c, 'adds_rkan', False)]
    return plain[0].__name__


def refuse(backbone: nn.Module, why: str) -> ValueError:
    return ValueError(f'RKAN cannot attach to {backbone_name(backbone)}: {why}')


def find_stages(backbone: nn.Module) -> List[Stage]:
    """The stages of ``backbone`` in forward order, or a one-line ValueError."""
    for cls in type(backbone).__mro__:
        for name, applies, why in REFUSED:
            if cls.__name__ == name and applies(backbone):
                raise refuse(backbone, why)
    res_layers = getattr(backbone, 'res_layers', None)
    if isinstance(res_layers, (list, tuple)) and res_layers:
        return [Stage(name, getattr(backbone, name), getattr(backbone, name))
                for name in res_layers]
    stages = getattr(backbone, 'stages', None)
    transitions = getattr(backbone, 'transitions', None)
    if isinstance(stages, nn.ModuleList) and isinstance(transitions, nn.ModuleList):
        found = [Stage(f'stage{i + 1}', stage, transition)
                 for i, (stage, transition) in enumerate(zip(stages, transitions))]
        last = transitions[-1]
        if (isinstance(last, nn.Sequential) and len(last) == 2
                and not any(True for _ in last[1].parameters())):
            last[1] = copy.deepcopy(last[1])  # its own activation (module docstring)
            found[-1] = Stage(found[-1].key, stages[-1], last[1], exit_input=True)
        return found
    downsamples = getattr(backbone, 'downsample_layers', None)
    if isinstance(stages, nn.ModuleList) and isinstance(downsamples, nn.ModuleList):
        return [Stage(f'stage{i + 1}', down, stage)
                for i, (down, stage) in enumerate(zip(downsamples, stages))]
    raise refuse(backbone, 'it has none of the stage layouts RKAN knows (res_layers; '
                 'stages + transitions; downsample_layers + stages)')


def probe_input_channels(backbone: nn.Module) -> int:
    first = next((m for m in backbone.modules() if isinstance(m, nn.Conv2d)), None)
    if first is None:
        raise refuse(backbone, 'it has no Conv2d to take an image')
    return first.in_channels


def probe_stages(backbone: nn.Module, stages: List[Stage]) -> List[StageShape]:
    """Run one ``PROBE_SIZE`` no-grad eval forward and measure every stage.

    Every module's ``training`` flag is restored afterwards, so the probe
    leaves no trace (eval mode: no running statistics move).
    """
    seen: dict = {}

    def record(stage_index: int, side: str, value) -> None:
        if not isinstance(value, Tensor) or value.dim() != 4:
            kind = type(value).__name__
            raise refuse(backbone, f'stage {stage_index + 1} {side} is a {kind}, '
                         'not one (B, C, H, W) tensor')
        seen.setdefault((stage_index, side), []).append(tuple(value.shape))

    handles = []
    for i, stage in enumerate(stages):
        handles.append(stage.entry.register_forward_pre_hook(
            lambda m, args, i=i: record(i, 'input', args[0] if args else None)))
        if stage.exit_input:
            handles.append(stage.exit.register_forward_pre_hook(
                lambda m, args, i=i: record(i, 'output', args[0] if args else None)))
        else:
            handles.append(stage.exit.register_forward_hook(
                lambda m, args, out, i=i: record(i, 'output', out)))
    modes = {m: m.training for m in backbone.modules()}
    param = next(backbone.parameters())
    x = torch.zeros(1, probe_input_channels(backbone), PROBE_SIZE, PROBE_SIZE,
                    dtype=param.dtype, device=param.device)
    try:
        nn.Module.train(backbone, False)
        with torch.no_grad():
            backbone(x)
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in modes.items():
            module.training = mode
    shapes = []
    for i in range(len(stages)):
        ins, outs = seen.get((i, 'input'), []), seen.get((i, 'output'), [])
        if len(ins) != 1 or len(outs) != 1:
            raise refuse(backbone, f'stage {i + 1} runs {len(ins)} time(s) per forward at its '
                         f'input and {len(outs)} at its output, not once')
        (_, c_in, h_in, _), (_, c_out, h_out, _) = ins[0], outs[0]
        stride = max(1, round(h_in / h_out))
        if h_out not in (h_in // stride, (h_in - 1) // stride + 1):
            raise refuse(backbone, f'stage {i + 1} maps {h_in} px to {h_out} px, '
                         'not by an integer stride')
        shapes.append(StageShape(c_in, c_out, stride))
    return shapes
