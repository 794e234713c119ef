"""Stages by the backbone's contract: the modules that produce the feature maps it returns.

A backbone promises, through ``out_indices``, to return the feature map of each
of its stages. :func:`contract_stages` runs one small no-grad forward with a
hook on every submodule and reads the stages off that promise:

1. **Every index.** ``out_indices`` (RepMLPNet: ``out_indice``) is replaced for
   the probe by an object that contains every index, so the forward returns
   the map of every stage; if the forward cannot take that (it iterates or
   indexes ``out_indices``, or builds per-index norms), the backbone's own
   ``out_indices`` are used.
2. **Exit.** ``y_i`` is the returned map ``i``. Its exit module is the
   outermost module whose output *is* that tensor. When that module is a norm
   applied for the output only (ConvNeXt's ``norm{i}``, RepLKNet's
   ``stages[i].norm``, RepMLPNet's ``final_norm``), ``y_i`` is the norm's input
   and the exit is the module that produced it.
3. **Entry.** Stage ``i`` is everything between ``y_{i-1}`` and ``y_i``: its
   entry is the first module that takes ``y_{i-1}`` after the previous stage
   ended (besides such norms and modules that return their input: ``nn.Identity``,
   in-place activations), so a
   downsampling layer before the stage (ConvNeXt, HorNet, RepLKNet's
   transitions) or after it (RepMLPNet) is part of the stage. The first stage
   starts like the second one does: at the module before the first stage's
   exit in the container of the second stage's entry (``downsample_layers.0``,
   ``stages.0``; VGG: the first layer of ``features``); otherwise at its exit.

Keys are the exit's module path with ``_`` for ``.``: ``stage4`` of CSPDarknet,
``conv2`` of MobileNetV2, ``stages_3`` of RepLKNet.
"""
import itertools
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

import torch
from torch import Tensor, nn

from .stage_spec import Stage

#: Attributes that hold a backbone's out indices (RepMLPNet spells it ``out_indice``).
OUT_INDEX_ATTRIBUTES = ('out_indices', 'out_indice')
#: What a forward can raise when handed :data:`EVERY_INDEX` instead of its own indices.
WIDENING_ERRORS = (TypeError, AttributeError, KeyError, IndexError, ValueError,
                   RuntimeError, AssertionError)


class EveryIndex:
    """Contains every index; cannot be iterated, indexed or measured."""

    def __contains__(self, index: Any) -> bool:
        return True

    def __repr__(self) -> str:
        return 'EveryIndex()'


EVERY_INDEX = EveryIndex()


@dataclass
class Call:
    """One module call of the probe: when it started, its first input, its output."""

    name: str
    module: nn.Module
    start: int
    input: Any
    output: Any = None
    end: int = -1


def is_norm(module: nn.Module) -> bool:
    return isinstance(module, (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)) \
        or 'Norm' in type(module).__name__


def record(backbone: nn.Module, image: Tensor) -> tuple:
    """Forward ``image`` with every module call recorded; returns (calls, output)."""
    calls: List[Call] = []
    open_calls: Dict[int, List[Call]] = {}
    counter = itertools.count()
    handles = []

    def before(name: str, module: nn.Module, args: tuple, kwargs: dict) -> None:
        first = args[0] if args else next(iter(kwargs.values()), None)
        call = Call(name, module, next(counter), first)
        open_calls.setdefault(id(module), []).append(call)
        calls.append(call)

    def after(module: nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        call = open_calls[id(module)].pop()
        call.output, call.end = output, next(counter)

    for name, module in backbone.named_modules():
        if module is not backbone:
            handles.append(module.register_forward_pre_hook(
                lambda m, a, k, name=name: before(name, m, a, k), with_kwargs=True))
            handles.append(module.register_forward_hook(after, with_kwargs=True))
    try:
        with torch.no_grad():
            output = backbone(image)
    finally:
        for handle in handles:
            handle.remove()
    return calls, output


def feature_maps(output: Any) -> List[Tensor]:
    items = output if isinstance(output, (list, tuple)) else [output]
    return [t for t in items if isinstance(t, Tensor) and t.dim() == 4]


def probe(backbone: nn.Module, image: Tensor, refuse: Callable[[str], Exception]) -> tuple:
    """(calls, returned maps), asking for every index when the forward allows it."""
    widened = [a for a in OUT_INDEX_ATTRIBUTES if hasattr(backbone, a)]
    if widened:
        saved = {a: getattr(backbone, a) for a in widened}
        try:
            for attribute in widened:
                object.__setattr__(backbone, attribute, EVERY_INDEX)
            calls, output = record(backbone, image)
            return calls, feature_maps(output)
        except WIDENING_ERRORS:
            pass
        finally:
            for attribute, value in saved.items():
                object.__setattr__(backbone, attribute, value)
    calls, output = record(backbone, image)  # its errors: the caller tries another size
    return calls, feature_maps(output)


def producer(calls: List[Call], tensor: Tensor) -> Optional[Call]:
    """The outermost call whose output is ``tensor``."""
    return min((c for c in calls if c.output is tensor), key=lambda c: c.start, default=None)


def container_and_index(name: str) -> tuple:
    parent, _, last = name.rpartition('.')
    return (parent, int(last)) if last.isdigit() else (None, None)


def contract_stages(backbone: nn.Module, image: Tensor,
                    refuse: Callable[[str], Exception]) -> List[Stage]:
    """The stages of ``backbone`` read off its returned feature maps (module docstring)."""
    calls, maps = probe(backbone, image, refuse)
    if not maps:
        raise refuse('it returns no (B, C, H, W) feature map')
    exits: List[Call] = []
    head_norms = set()
    for index, tensor in enumerate(maps):
        call = producer(calls, tensor)
        if call is not None and is_norm(call.module) and isinstance(call.input, Tensor) \
                and call.input.dim() == 4:
            head_norms.add(call.start)
            call = producer(calls, call.input)
        if call is None:
            raise refuse(f'its feature map {index} is computed in its forward, '
                         'not returned by one module')
        if all(call.module is not seen.module for seen in exits):
            exits.append(call)
    exits.sort(key=lambda c: c.start)
    entries: List[Call] = [exits[0]]
    for before, exit_call in zip(exits, exits[1:]):
        takers = [c for c in calls if c.input is before.output and c.start not in head_norms
                  and c.output is not c.input and before.end < c.start <= exit_call.start]
        entries.append(min(takers, key=lambda c: c.start, default=exit_call))
    if len(exits) > 1:
        entries[0] = first_entry(calls, exits[0], entries[1])
    names = {id(m): n for n, m in backbone.named_modules()}
    stages = []
    for i, (entry, exit_call) in enumerate(zip(entries, exits)):
        name = names[id(exit_call.module)]
        stages.append(Stage(name.replace('.', '_'), entry.module, exit_call.module))
    return stages


def first_entry(calls: List[Call], first_exit: Call, second_entry: Call) -> Call:
    """Where the first stage starts: as the second one does (module docstring)."""
    parent, index = container_and_index(second_entry.name)
    if parent is None:
        return first_exit
    exit_parent, exit_index = container_and_index(first_exit.name)
    if exit_parent == parent:  # one container holds both stages (VGG's features)
        ran = [c for c in calls if container_and_index(c.name)[0] == parent
               and c.start <= first_exit.start]
        return min(ran, key=lambda c: c.start)
    twin = f'{parent}.{index - 1}'
    found = [c for c in calls if c.name == twin and c.start < first_exit.start]
    return found[0] if len(found) == 1 else first_exit
