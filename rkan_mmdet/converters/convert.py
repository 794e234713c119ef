"""A classifier trained with the paper's code -> an rkan_mmdet checkpoint, from Python.

    >>> from rkan_mmdet.converters import ConvertOptions, convert_file
    >>> result = convert_file('rkanet50.pth', 'rkanet50_mmdet.pth', ConvertOptions())
    >>> result.config, result.cfg_options
    ('configs/imagenet/rkanet50_8xb32_in1k.py', {})

Steps: read and split the state dict (:mod:`.reading`); the trunk's keys map
by family (:mod:`.trunks`, :mod:`.attention`); the RKAN modules of the chosen
stages become ``rkan_layers.<stage>`` blocks (:mod:`.rkan_modules`) whose KAN
convs keep every per-tap function (:mod:`.kan_tensors`); what the file cannot
tell is chosen by :mod:`.assumptions` and said once; the result is loaded
strictly into the model it is for (:mod:`.target`). Every bad input raises
:class:`~.errors.LayoutError` with a one-line message.
"""
import hashlib
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from torch import Tensor

from rkan_mmdet.engine import atomic_save_checkpoint
from .assumptions import Notes, Say, choose_attention, choose_kan_type, choose_mechanism, \
    choose_stages
from .attention import PARAMETER_FREE, add_zeros
from .detection import classifier_layout, is_detection
from .errors import LayoutError
from .kan_tensors import layout_of
from .reading import first_line, load_state_dict, split_layout
from .rkan_modules import convert_blocks, module_name
from .target import check_fits, describe, detector_backbone, target_model
from .trunk_base import Trunk
from .trunks import ResNetTrunk


@dataclass
class ConvertOptions:
    """What the caller says about the file (None: decide and say so).

    Attributes:
        kan_type: the KAN basis (the file shows only polynomial / rbf / b_spline).
        stages: 1-based stages whose blocks to convert (default: those that ran).
        mechanism: addition, gating or se (not recorded in the file).
        attention: an attention without tensors (``simam``) or ``none``.
        enable_untrained: allow ``stages`` to name a stage that never trained.
        backbone_only: keep only the backbone's keys (without ``backbone.``).
    """

    kan_type: Optional[str] = None
    stages: Optional[Sequence[int]] = None
    mechanism: Optional[str] = None
    attention: Optional[str] = None
    enable_untrained: bool = False
    backbone_only: bool = False


@dataclass
class Conversion:
    """The converted state dict, its meta, and the model config it loads into."""

    state_dict: Dict[str, Tensor]
    meta: dict
    backbone: dict
    config: Optional[str]
    cfg_options: Dict[str, object] = field(default_factory=dict)
    assumptions: List[str] = field(default_factory=list)


def compact(names: List[Tuple[str, int]]) -> str:
    """``[('conv_reduce', 0), ('conv_reduce', 1)]`` -> ``conv_reduce.{0,1}``."""
    grouped: Dict[str, List[int]] = {}
    for module, stage in names:
        grouped.setdefault(module, []).append(stage)
    return ' '.join(f'{m}.{s[0]}' if len(s) == 1 else f'{m}.{{{",".join(map(str, s))}}}'
                    for m, s in grouped.items())


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _detection_layout(state: Dict[str, Tensor], options: ConvertOptions,
                      say: Say) -> Dict[str, Tensor]:
    """A detection checkpoint (RKAN_RCNN) in the classifier layout; others unchanged."""
    if not is_detection(state):
        return state
    if not options.backbone_only:
        raise LayoutError('a detection checkpoint of the paper\'s code (RKAN_RCNN: '
                          'backbone_with_fpn.*, rkan_components.*): it has no classifier, '
                          'convert its backbone with --backbone-only')
    state, dropped = classifier_layout(state)
    say('detection checkpoint (RKAN_RCNN): backbone from backbone_with_fpn.body.*, RKAN '
        f'modules from rkan_components.*; dropped {", ".join(dropped)}')
    return state


def _settle_attention(trunk: Trunk, requested: Optional[str], mapped: Dict[str, Tensor],
                      sources: Dict[str, str], notes: Notes) -> Optional[str]:
    """The attention in the blocks (the paper's ResNet variants only); its zero tensors."""
    if not isinstance(trunk, ResNetTrunk):
        if requested not in (None, 'none'):
            raise LayoutError(f'--attention {requested}: only the paper\'s ResNet '
                              '(resnet. keys, torchvision blocks) has attention variants')
        return None
    found = trunk.attention.name if trunk.attention else None
    trunk.set_attention(choose_attention(found, requested, PARAMETER_FREE, notes))
    if trunk.attention is None:
        return None
    add_zeros(trunk.attention, mapped, sources)
    return trunk.attention.name


def _load_into_target(trunk: Trunk, backbone: dict, mapped: Dict[str, Tensor],
                      sources: Dict[str, str], detection: bool, backbone_only: bool
                      ) -> Tuple[Dict[str, Tensor], Optional[str], Dict[str, object]]:
    """The state that loads strictly into the target (the classifier, or with
    ``backbone_only`` its backbone), its configs/imagenet file and --cfg-options."""
    fc = mapped.get('head.fc.weight')
    if fc is None and detection:
        model, config, cfg_options = detector_backbone(backbone), None, {}
    elif fc is None:
        raise LayoutError(f'key {trunk.prefix + "." if trunk.prefix else ""}'
                          f'{"classifier" if trunk.prefix == "densenet" else "fc"}.weight is '
                          'missing: the input is not a classifier')
    else:
        model, config, cfg_options = target_model(backbone, fc)
    if backbone_only:
        mapped = {k[len('backbone.'):]: v for k, v in mapped.items() if k.startswith('backbone.')}
        sources = {k[len('backbone.'):]: v for k, v in sources.items() if k.startswith('backbone.')}
        check_fits(mapped, sources, model if detection else model.backbone,
                   describe(backbone, rkan=False))
    else:
        check_fits(mapped, sources, model,
                   f'the classifier of {config or describe(backbone, rkan=False)}')
    return mapped, (f'configs/imagenet/{config}' if config else None), cfg_options


def convert_state_dict(state: Dict[str, Tensor], options: ConvertOptions,
                       say: Say = print) -> Conversion:
    """Convert a state dict of the paper's code (already read); see the module docstring."""
    notes = Notes(say)
    detection = is_detection(state)
    state = _detection_layout(state, options, say)
    trunk, mapped, sources, ref = split_layout(state)
    say(f'family: {type(trunk).__name__[:-len("Trunk")]} ({len(mapped)} trunk tensors, '
        f'RKAN modules for {ref.num_stages} stages)')
    attention = _settle_attention(trunk, options.attention, mapped, sources, notes)
    stages = choose_stages([ref.evidence(i) for i in range(ref.num_stages)], options.stages,
                           options.enable_untrained, notes)
    where = module_name('kan_conv1', stages[0])
    layout = layout_of(ref.need('kan_conv1', stages[0], 'the first enabled stage'), where)
    kan_type = choose_kan_type(layout, options.kan_type, notes)
    mechanism = choose_mechanism(options.mechanism, notes)
    blocks = convert_blocks(ref, stages, trunk.num_stages, mechanism, kan_type, trunk.block_key)
    dropped = [module for module in ref.modules if module not in blocks.used]
    say(f'dropped: {compact(dropped) or "nothing"}')

    backbone = dict(trunk.backbone(), **blocks.rkan_args)
    for key, tensor in blocks.state.items():
        mapped['backbone.' + key] = tensor
        sources['backbone.' + key] = blocks.sources[key]
    mapped, config, cfg_options = _load_into_target(trunk, backbone, mapped, sources, detection,
                                                    options.backbone_only)
    meta = dict(converter='rkan_mmdet.converters', backbone=backbone, config=config,
                cfg_options=cfg_options, stages=[i + 1 for i in stages], kan_type=kan_type,
                mechanism=mechanism, attention=attention,
                dropped=[module_name(m, i) for m, i in dropped],
                assumptions=list(notes.assumptions), backbone_only=bool(options.backbone_only),
                detection_checkpoint=detection)
    return Conversion(mapped, meta, backbone, config, cfg_options, list(notes.assumptions))


def convert_file(src: str, dst: Optional[str], options: ConvertOptions,
                 say: Say = print) -> Conversion:
    """Read ``src`` weights-only, convert it and (unless ``dst`` is None) write
    ``dict(state_dict=..., meta=...)`` to ``dst`` atomically."""
    if dst is not None and osp.realpath(dst) == osp.realpath(src):
        raise LayoutError(f'OUT {dst} is the input file; choose another name')
    state = load_state_dict(src)
    result = convert_state_dict(state, options, say)
    result.meta['converted_from'] = dict(
        file=osp.abspath(src), sha256=sha256(src),
        layout=f'RKAN paper code, {result.meta["backbone"]["type"]}', tensors=len(state))
    if dst is not None:
        try:
            atomic_save_checkpoint(dict(state_dict=result.state_dict, meta=result.meta), dst)
        except OSError as err:
            raise LayoutError(f'cannot write {dst}: {err.strerror or first_line(err)}') from None
    return result
