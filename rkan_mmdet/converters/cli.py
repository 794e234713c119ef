"""The command line of the converter: ``tools/model_converters/rkan_reference_to_mmdet.py``.

    python tools/model_converters/rkan_reference_to_mmdet.py IN OUT
        [--kan-type T] [--stages S [S ...]] [--enable-untrained] [--mechanism M]
        [--attention A] [--backbone-only]

Converts a classifier trained with the RKAN paper's own code into an rkan_mmdet
checkpoint through :mod:`rkan_mmdet.converters` (docs/converter.md). IN is
what the paper's code saves (``torch.save(model.state_dict())``), read
weights-only; OUT is ``dict(state_dict=..., meta=...)`` that loads strictly
into the classifier printed at the end (or, with ``--backbone-only``, into
its backbone). Every bad input ends in one ``error: ...`` line, exit status 2.
"""
import argparse
import sys
from typing import Optional, Sequence

from rkan_mmdet.models.layers.rkan_block import MECHANISMS
from .attention import ATTENTIONS, PARAMETER_FREE
from .convert import ConvertOptions, convert_file
from .errors import LayoutError
from .kan_tensors import POLYNOMIALS
from .target import cli_value, describe

KAN_TYPES = POLYNOMIALS + ('rbf', 'b_spline')

FAMILIES = """supported families (keys in IN -> rkan_mmdet backbone):
  resnet.      ResNet-18/34/50/101/152      -> RKANResNet(depth)
  resnet. + layerX.Y.<se|ela|eca|cbam|sa|gc_block>.*  (SENet, ELA, ECA, CBAM, SA, GCNet;
               bottleneck depths)           -> RKANSENet(se_bias=False) / RKANResNet + plugin
  resnet. + --attention simam (no tensors)  -> RKANResNet + SimAM plugin
  resnet. + layerX.Y.convs.i (Res2Net)      -> RKAN over mmpretrain.Res2Net(deep_stem=False,
                                               avg_down=False)
  resnet. + layerX.Y.conv2.conv (ResNeSt)   -> RKAN over PaperResNeSt(depth)
  stem.0 + layer1.. (no prefix, ResNet-D)   -> RKANResNetV1d(depth)
  resnext.     ResNeXt (e.g. 50 32x4d)      -> RKANResNeXt(depth, groups, base_width)
  wideresnet.  Wide ResNet (e.g. 50-2)      -> RKAN over mmpretrain.ResNet(base_channels, expansion)
  regnet.      RegNetX 3.2GF/8GF, RegNetY 400MF..32GF -> RKANRegNet(arch) (the paper's table)
  densenet.    DenseNet-121/161/169/201     -> RKANDenseNet(arch, final_relu=False)
  conv1 + bn_final + layer1.. (no prefix, PyramidNet) -> RKANPyramidNet(depth, alpha)
  backbone_with_fpn.body + rkan_components (RKAN_RCNN: ResNet, DenseNet) -> its backbone
               (--backbone-only)
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
                        'polynomials, not one polynomial from another (default: chebyshev, '
                        'said as an assumption)')
    parser.add_argument('--stages', type=int, nargs='+', metavar='S',
                        help='1-based stages whose RKAN blocks ran (default: those whose '
                        'kan_bn statistics moved in training)')
    parser.add_argument('--enable-untrained', action='store_true',
                        help='let --stages name a stage whose BNs never saw a batch (its '
                        'block then adds random weights)')
    parser.add_argument('--mechanism', choices=MECHANISMS,
                        help='how r joins the stage output; the file does not record it '
                        '(default: addition, the paper\'s, said as an assumption)')
    read = ', '.join(a for a in ATTENTIONS if a not in PARAMETER_FREE)
    parser.add_argument('--attention', choices=('none', ) + PARAMETER_FREE,
                        help='attention without tensors in the blocks, which the file cannot '
                        f'show (default: none, said as an assumption; {read} are read from '
                        'the keys)')
    parser.add_argument('--backbone-only', action='store_true',
                        help='write only the backbone (keys without "backbone."), for '
                        'init_cfg=dict(type="Pretrained", checkpoint=OUT)')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    options = ConvertOptions(kan_type=args.kan_type, stages=args.stages,
                             mechanism=args.mechanism, attention=args.attention,
                             enable_untrained=args.enable_untrained,
                             backbone_only=args.backbone_only)
    try:
        result = convert_file(args.input, args.output, options)
    except LayoutError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    print(f'backbone: {describe(result.backbone)}')
    target = result.config or 'a classifier with that backbone'
    flags = ' '.join(f"'{k}={cli_value(v)}'" for k, v in result.cfg_options.items())
    print(f'wrote {args.output}: {len(result.state_dict)} tensors, loaded strictly into '
          f'{target}' + (f' with --cfg-options {flags}' if flags else ''))
    prefix = '' if args.backbone_only else ", prefix='backbone.'"
    print(f"detection: init_cfg=dict(type='Pretrained', checkpoint='{args.output}'{prefix})")
    return 0
