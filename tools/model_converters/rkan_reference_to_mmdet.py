#!/usr/bin/env python
"""Convert a classifier trained with the RKAN paper's own code into an rkan_mmdet checkpoint.

    python tools/model_converters/rkan_reference_to_mmdet.py IN OUT
        [--kan-type T] [--stages S [S ...]] [--mechanism M] [--backbone-only]

IN is what the paper's code saves, ``torch.save(model.state_dict())``; its layout
is docs/families.md §6. It is read weights-only (``rkan_mmdet.checkpoint_safety.safe_torch_load``).
OUT is ``dict(state_dict=..., meta=...)``: ``backbone.*`` and ``head.fc.*``, which
load strictly into the matching ``configs/imagenet`` classifier (the tool builds
that model and loads OUT into it before writing), or with ``--backbone-only``
the backbone's own keys, for a detection config's
``init_cfg=dict(type='Pretrained', checkpoint=OUT)`` (no ``prefix``). ``meta``
says what was converted from what: the input file and its sha256, the family,
the backbone config, the stages kept, the evidence and what was dropped.

Steps: read and split IN (:mod:`.reference_input`); the trunk's keys map by
family (:mod:`.reference_trunks`); the RKAN modules of the enabled stages become
``rkan_layers.<stage>`` blocks (:mod:`.reference_rkan`) whose KAN convs keep
every per-tap function (:mod:`.reference_kan`); the result is loaded strictly
into the classifier it is for (:mod:`.reference_target`), then saved
atomically. What was chosen and what was dropped is printed. Every bad input
ends in one ``error: ...`` line and exit status 2.
"""
import argparse
import hashlib
import os.path as osp
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rkan_mmdet.engine import atomic_save_checkpoint  # noqa: E402
from rkan_mmdet.models.layers.rkan_block import MECHANISMS  # noqa: E402
from tools.model_converters.reference_input import (first_line, load_state_dict,  # noqa: E402
                                                    split_layout)
from tools.model_converters.reference_kan import POLYNOMIALS, layout_of  # noqa: E402
from tools.model_converters.reference_rkan import (ReferenceRKAN, convert_blocks,  # noqa: E402
                                                   module_name)
from tools.model_converters.reference_target import (check_fits, cli_value,  # noqa: E402
                                                     describe, target_model)
from tools.model_converters.reference_trunks import LayoutError  # noqa: E402

KAN_TYPES = POLYNOMIALS + ('rbf', 'b_spline')
FAMILIES = """supported families (key prefix in IN -> rkan_mmdet backbone):
  resnet.      ResNet-18/34/50/101/152      -> RKANResNet(depth)
  resnext.     ResNeXt (e.g. 50 32x4d)      -> RKANResNeXt(depth, groups, base_width)
  wideresnet.  Wide ResNet (e.g. 50-2)      -> RKAN over mmpretrain.ResNet(base_channels, expansion)
  regnet.      RegNetX 800MF/1.6GF/3.2GF/8GF -> RKANRegNet(arch) (archs mmdet builds alike)
  densenet.    DenseNet-121/161/169/201     -> RKANDenseNet(arch)
not supported: ResNet-D (keys without a prefix), SENet and the attention variants,
PyramidNet, RegNetY, RegNetX-400MF/16GF/32GF; detection checkpoints of the paper's code (convert its classifier).
KAN types: chebyshev, legendre, jacobi (alpha = beta = 0.5), hermite, rbf, b_spline;
rbf grids and b-spline knots must equal rkan_mmdet's (docs/spec.md §2), they are never remapped."""


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one ``error: ...`` line, exit 2."""

    def error(self, message: str) -> None:
        print(f'error: {message}', file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        description='Convert an ImageNet classifier saved by the RKAN paper\'s code '
        '(torch.save(model.state_dict())) into an rkan_mmdet checkpoint.',
        epilog=FAMILIES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('input', metavar='IN', help='state dict saved by the paper\'s code')
    parser.add_argument('output', metavar='OUT', help='checkpoint to write')
    parser.add_argument('--kan-type', choices=KAN_TYPES,
                        help='KAN type; the file tells rbf and b_spline apart from the '
                        'polynomials, not one polynomial from another (default: chebyshev)')
    parser.add_argument('--stages', type=int, nargs='+', metavar='S',
                        help='1-based stages whose RKAN blocks ran (default: those whose '
                        'kan_bn statistics moved in training)')
    parser.add_argument('--mechanism', choices=MECHANISMS,
                        help='how r joins the stage output; the file does not record it '
                        '(default: addition, the paper\'s)')
    parser.add_argument('--backbone-only', action='store_true',
                        help='write only the backbone (keys without "backbone."), for '
                        'init_cfg=dict(type="Pretrained", checkpoint=OUT)')
    return parser


def choose_stages(ref: ReferenceRKAN, requested: Optional[Sequence[int]]) -> List[int]:
    """0-based stages to keep: ``requested`` (1-based) or the ones that ran; prints why."""
    ran = []
    for i in range(ref.num_stages):
        did, facts = ref.evidence(i)
        print(f'stage {i + 1}: {"ran" if did else "never ran"} in training ({facts})')
        if did:
            ran.append(i)
    shown = ' '.join(str(i + 1) for i in ran) or 'none'
    if requested:
        bad = [s for s in requested if not 1 <= s <= ref.num_stages]
        if bad or len(set(requested)) != len(requested):
            raise LayoutError(f'--stages {" ".join(map(str, requested))}: expected distinct '
                              f'stages in 1..{ref.num_stages}')
        chosen = sorted(s - 1 for s in requested)
        print(f'stages: {" ".join(str(i + 1) for i in chosen)} (--stages; the BN evidence says '
              f'{shown})')
        return chosen
    if not ran:
        raise LayoutError('no RKAN stage ran in training (every kan_bn / kan_expand_bn tracked '
                          '0 batches); name the enabled ones with --stages')
    print(f'stages: {shown} (from the BN evidence; --stages to override)')
    return ran


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


def convert(args: argparse.Namespace) -> None:
    if osp.realpath(args.output) == osp.realpath(args.input):
        raise LayoutError(f'OUT {args.output} is the input file; choose another name')
    state = load_state_dict(args.input)
    trunk, mapped, sources, ref = split_layout(state)
    print(f'family: {trunk.prefix} ({len(mapped)} trunk tensors, RKAN modules for '
          f'{ref.num_stages} stages)')
    stages = choose_stages(ref, args.stages)

    where = module_name('kan_conv1', stages[0])
    layout = layout_of(ref.need('kan_conv1', stages[0], 'the first enabled stage'), where)
    kan_type = args.kan_type or ('chebyshev' if layout == 'polynomial' else layout)
    note = (' (assumed: the file does not say which polynomial; --kan-type otherwise)'
            if layout == 'polynomial' and not args.kan_type else '')
    print(f'kan type: {kan_type}{note}')
    mechanism = args.mechanism or 'addition'
    print(f'mechanism: {mechanism}' + ('' if args.mechanism else
                                       ' (the paper\'s default; the file does not record it, '
                                       '--mechanism gating|se otherwise)'))
    blocks = convert_blocks(ref, stages, trunk.num_stages, mechanism, kan_type, trunk.block_key)
    dropped = [name for name in ref.modules if name not in blocks.used]
    print(f'dropped: {compact(dropped) or "nothing"}')

    backbone = dict(trunk.backbone(), **blocks.rkan_args)
    for key, tensor in blocks.state.items():
        mapped['backbone.' + key] = tensor
        sources['backbone.' + key] = blocks.sources[key]
    fc = mapped.get('head.fc.weight')
    if fc is None:
        raise LayoutError(f'key {trunk.prefix}.{"classifier" if trunk.prefix == "densenet" else "fc"}'
                          '.weight is missing: IN is not a classifier')
    model, config, options = target_model(backbone, fc)
    if args.backbone_only:
        mapped = {k[len('backbone.'):]: v for k, v in mapped.items() if k.startswith('backbone.')}
        sources = {k[len('backbone.'):]: v for k, v in sources.items() if k.startswith('backbone.')}
        check_fits(mapped, sources, model.backbone, describe(backbone, rkan=False))
    else:
        check_fits(mapped, sources, model,
                   f'the classifier of {config or describe(backbone, rkan=False)}')
    meta = dict(
        converted_from=dict(file=osp.abspath(args.input), sha256=sha256(args.input),
                            layout=f'RKAN paper code, {trunk.prefix}. trunk', tensors=len(state)),
        converter='tools/model_converters/rkan_reference_to_mmdet.py',
        backbone=backbone, config=f'configs/imagenet/{config}' if config else None,
        cfg_options=options, stages=[i + 1 for i in stages], kan_type=kan_type,
        mechanism=mechanism, dropped=[module_name(m, i) for m, i in dropped],
        backbone_only=bool(args.backbone_only))
    try:
        atomic_save_checkpoint(dict(state_dict=mapped, meta=meta), args.output)
    except OSError as err:
        raise LayoutError(f'cannot write {args.output}: {err.strerror or first_line(err)}') from None
    print(f'backbone: {describe(backbone)}')
    target = f'configs/imagenet/{config}' if config else 'a classifier with that backbone'
    flags = ' '.join(f"'{k}={cli_value(v)}'" for k, v in options.items())
    print(f'wrote {args.output}: {len(mapped)} tensors, loaded strictly into {target}'
          + (f' with --cfg-options {flags}' if flags else ''))
    prefix = '' if args.backbone_only else ", prefix='backbone.'"
    print(f"detection: init_cfg=dict(type='Pretrained', checkpoint='{args.output}'{prefix})")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        convert(args)
    except LayoutError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
