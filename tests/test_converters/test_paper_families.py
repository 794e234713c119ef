"""Every family of the paper's code converts exactly (docs/converter.md).

For each family a reference classifier is rebuilt from the paper's model file
with its real key names and forward (tests/test_converters/reference), every
parameter and BN statistic random, RKAN trained on stage 4 only (the other
stages' RKAN BNs at 0/1, as the paper's code leaves them). Its
``state_dict()`` -- what the paper's notebook saves -- is converted, loaded
strictly into the printed config (or backbone) and its logits compared:
<= 1e-5 relative in fp32.
"""
import copy
from pathlib import Path
from typing import Dict, List

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import Tensor, nn

import rkan_mmdet  # noqa: F401  (registers the backbones)
from rkan_mmdet.converters import ConvertOptions, LayoutError, convert_state_dict
from tests.test_converters.reference.models import (PaperDenseNet, PaperPyramidNet, PaperRegNet,
                                                    PaperRes2Net, PaperResNeSt, PaperResNet,
                                                    PaperResNetD)
from tests.test_converters.reference.rkan_parts import randomize

ROOT = Path(__file__).resolve().parents[2]
LAST = (None, None, None, 'addition')
#: family -> (reference builder(kind, generator), converter options)
FAMILIES: Dict[str, tuple] = {
    'resnet18': (lambda k, g: PaperResNet(k, LAST, g, depth=18), {}),
    'senet50': (lambda k, g: PaperResNet(k, LAST, g, attention='se'), {}),
    'ela50': (lambda k, g: PaperResNet(k, LAST, g, attention='ela'), {}),
    'resnet_d50': (lambda k, g: PaperResNetD(k, LAST, g), {}),
    'eca50': (lambda k, g: PaperResNet(k, LAST, g, attention='eca'), {}),
    'cbam50': (lambda k, g: PaperResNet(k, LAST, g, attention='cbam'), {}),
    'sa50': (lambda k, g: PaperResNet(k, LAST, g, attention='sa'), {}),
    'simam50': (lambda k, g: PaperResNet(k, LAST, g, attention='simam'),
                dict(attention='simam')),
    'gcnet50': (lambda k, g: PaperResNet(k, LAST, g, attention='gc'), {}),
    'resnext50_32x4d-se': (lambda k, g: PaperResNet(k, LAST[:3] + ('se', ), g, prefix='resnext',
                                                    groups=32, width_per_group=4, se_bias=True),
                           dict(mechanism='se')),
    # Wide ResNet at inner width 32 per stage-1 block (WRN-50-2 has 128): the same
    # key layout and code path at a quarter of the width, to keep the suite fast.
    'wideresnet50-se': (lambda k, g: PaperResNet(k, LAST[:3] + ('se', ), g, prefix='wideresnet',
                                                 width_per_group=32, se_bias=True),
                        dict(mechanism='se')),
    'regnetx_3.2gf': (lambda k, g: PaperRegNet(k, LAST, g), {}),
    'res2net50': (lambda k, g: PaperRes2Net(k, LAST, g), {}),
    'resnest50': (lambda k, g: PaperResNeSt(k, LAST, g), {}),
    'densenet121': (lambda k, g: PaperDenseNet(k, LAST, g), {}),
    'regnety_400mf': (lambda k, g: PaperRegNet(k, LAST, g, arch='regnet_y_400mf'), {}),
    'pyramidnet18': (lambda k, g: PaperPyramidNet(k, LAST, g, depths=(2, 2, 2, 2), alpha=48,
                                                  bottleneck=False), {}),
    'pyramidnet50': (lambda k, g: PaperPyramidNet(k, LAST, g), {}),
}
CASES = [(f, 'chebyshev') for f in FAMILIES] + [
    (f, k) for f in ('resnet18', 'regnetx_3.2gf', 'regnety_400mf', 'densenet121')
    for k in ('rbf', 'b_spline')]
#: the small reference builds (18-layer, RegNetY-400MF, DenseNet-121) run in the fast loop;
#: the ResNet-50-sized ones are ``slow`` (docs/development.md: pytest -m "not slow")
FAST = ('resnet18', 'regnety_400mf', 'densenet121', 'pyramidnet18')
#: relative logit errors measured by this module (printed for docs/converter.md)
MEASURED: Dict[str, float] = {}


def build_classifier(backbone: dict, num_classes: int, in_channels: int) -> nn.Module:
    from mmpretrain.registry import MODELS
    cfg = dict(type='ImageClassifier', backbone=copy.deepcopy(backbone),
               neck=dict(type='GlobalAveragePooling'),
               head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=in_channels))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg).eval()


def relative_error(ours: Tensor, theirs: Tensor) -> float:
    return ((ours - theirs).abs().max() / theirs.abs().max()).item()


def convert(model: nn.Module, **options) -> tuple:
    lines: List[str] = []
    result = convert_state_dict(dict(model.state_dict()), ConvertOptions(**options), lines.append)
    return result, lines


@pytest.mark.parametrize('family, kind', [
    pytest.param(f, k, id=f'{f}-{k}', marks=[] if f in FAST else [pytest.mark.slow])
    for f, k in CASES])
def test_family_converts_exactly(family: str, kind: str) -> None:
    builder, options = FAMILIES[family]
    g = torch.Generator().manual_seed(sum(map(ord, family + kind)))
    torch.manual_seed(0)
    paper = randomize(builder(kind, g), g, trained_rkan=[3])
    result, lines = convert(paper, **options)
    fc = result.state_dict['head.fc.weight']
    ours = build_classifier(result.backbone, fc.shape[0], fc.shape[1])
    ours.load_state_dict(result.state_dict, strict=True)
    x = torch.randn(2, 3, 64, 64, generator=g)
    with torch.no_grad():
        theirs = paper(x)
        error = relative_error(ours(x, mode='tensor'), theirs)
    MEASURED[f'{family}-{kind}'] = error
    print(f'{family} {kind}: relative logit error {error:.2e}')
    assert error <= 1e-5, (family, kind, error)
    assert result.meta['stages'] == [4] and result.meta['kan_type'] == kind
    assert result.backbone.get('rkan_se_bias', False) == family.endswith('-se')  # biased SE
    # the RKAN block matters: without it the logits are far off
    paper.mechanisms = [None] * 4
    with torch.no_grad():
        assert relative_error(ours(x, mode='tensor'), paper(x)) > 1e-3


@pytest.mark.parametrize('name, backbone, builder', [
    ('rkan-senet50_8xb32_in1k.py', dict(type='RKANSENet', se_bias=False),
     FAMILIES['senet50'][0]),
    ('rkan-ela-l50_8xb32_in1k.py', dict(type='RKANResNet'), FAMILIES['ela50'][0]),
    ('rkan-densenet169_8xb32_in1k.py', dict(type='RKANDenseNet', final_relu=False),
     lambda k, g: PaperDenseNet(k, LAST, g, arch='densenet169')),
    ('rkan-regnety-3.2gf_8xb32_in1k.py', dict(type='RKANRegNet', arch='regnety_3.2gf'),
     lambda k, g: PaperRegNet(k, LAST, g, arch='regnet_y_3_2gf')),
    ('rkan-pyramidnet50_8xb32_in1k.py', dict(type='RKANPyramidNet', alpha=200),
     FAMILIES['pyramidnet50'][0]),
])
@pytest.mark.slow  # full-size classifiers built from the configs
def test_imagenet_models_of_the_paper_name_their_config(name: str, backbone: dict,
                                                        builder) -> None:
    """RKAN-SENet-50, RKAN-ELA-L-50, RKAN-DenseNet-169 (ImageNet models of the paper),
    RKAN-RegNetY-3.2GF, RKAN-PyramidNet-50: the converter names their configs/imagenet
    file, that config with the printed --cfg-options (none here: the configs build the
    paper's heads) loads the checkpoint strictly."""
    g = torch.Generator().manual_seed(7)
    paper = randomize(builder('chebyshev', g), g, trained_rkan=[3])
    result, _ = convert(paper)
    assert result.config == f'configs/imagenet/{name}' and result.cfg_options == {}
    cfg = Config.fromfile(str(ROOT / result.config))
    cfg.merge_from_dict(result.cfg_options)
    for key, value in backbone.items():
        assert cfg.model.backbone.get(key, True) == value, key
    fc = result.state_dict['head.fc.weight']
    model = build_classifier(cfg.model.backbone, 1000, fc.shape[1])
    model.load_state_dict(result.state_dict, strict=True)


def test_simam_is_asked_for_not_guessed() -> None:
    """A SimAM file has a plain RKANet's keys: without --attention the converter says
    what it assumed (and that assumption gives other logits); with it, exact."""
    g = torch.Generator().manual_seed(11)
    paper = randomize(FAMILIES['simam50'][0]('chebyshev', g), g, trained_rkan=[3])
    result, lines = convert(paper)
    assumed = [line for line in lines if line.startswith('assumed: ')]
    assert 'assumed: no attention in the blocks: the file cannot show attention without ' \
        'tensors (simam; --attention simam otherwise)' in assumed
    assert len(assumed) == 3 and result.meta['assumptions'] == [a[9:] for a in assumed]
    assert 'plugins' not in result.backbone
    with pytest.raises(LayoutError, match="--attention simam: only the paper's ResNet"):
        convert(PaperRegNet('chebyshev', LAST, g), attention='simam')
    with pytest.raises(LayoutError, match="--attention simam, but the file's blocks hold se"):
        convert(PaperResNet('chebyshev', LAST, g, attention='se'), attention='simam')


def test_paper_regnetx_only() -> None:
    """RegNetX-800MF is no model of the paper's code (its RegNet table): refused."""
    g = torch.Generator().manual_seed(3)
    paper = randomize(PaperRegNet('chebyshev', LAST, g, arch='regnet_x_800mf'), g, [3])
    with pytest.raises(LayoutError, match=r"\(without SE\) are no RegNet the paper's code builds "
                       r'\(regnetx_3.2gf, regnetx_8.0gf, regnety_400mf, '):
        convert(paper)


def test_attention_in_basic_blocks_is_refused() -> None:
    g = torch.Generator().manual_seed(5)
    paper = randomize(PaperResNet('chebyshev', LAST, g, depth=18), g, [3])
    state = {k.replace('layer1.0.bn2.weight', 'layer1.0.eca.conv.weight'): v
             for k, v in paper.state_dict().items()}
    state['resnet.layer1.0.bn2.weight'] = paper.resnet.layer1[0].bn2.weight
    with pytest.raises(LayoutError, match="eca attention in basic blocks .*BasicBlock takes no "
                       'plugins'):
        convert_state_dict(state, ConvertOptions(), lambda line: None)


def test_biased_se_option_of_the_rkan_se_mechanism() -> None:
    """``rkan_se_bias`` (for the ResNeXt / Wide ResNet files) adds exactly the two SE conv
    biases; the default stays bias-free; a non-bool is refused in one line."""
    from mmdet.registry import MODELS
    keys = {}
    for bias in (False, True):
        with DefaultScope.overwrite_default_scope('mmdet'):
            net = MODELS.build(dict(type='RKANResNet', depth=18, rkan_mechanisms=(None, ) * 3
                                    + ('se', ), rkan_se_bias=bias))
        keys[bias] = {k for k in net.state_dict() if '.mechanism.' in k}
    assert keys[False] == {'rkan_layers.layer4.mechanism.squeeze.weight',
                           'rkan_layers.layer4.mechanism.excite.weight'}
    assert keys[True] - keys[False] == {'rkan_layers.layer4.mechanism.squeeze.bias',
                                        'rkan_layers.layer4.mechanism.excite.bias'}
    with pytest.raises(ValueError, match="rkan_se_bias must be True or False, got 'yes' .str."):
        with DefaultScope.overwrite_default_scope('mmdet'):
            MODELS.build(dict(type='RKANResNet', depth=18, rkan_se_bias='yes'))


@pytest.mark.parametrize('kind', ['chebyshev', 'rbf', 'b_spline'])
def test_exact_in_float64(kind: str) -> None:
    """In float64 the converted RKANet-18 equals the reference to rounding (~1e-16):
    the conversion maps tensors, it does not approximate functions."""
    g = torch.Generator().manual_seed(1)
    paper = randomize(FAMILIES['resnet18'][0](kind, g), g, [3])
    result, _ = convert(paper)
    ours = build_classifier(result.backbone, 1000, 512)
    ours.load_state_dict(result.state_dict, strict=True)
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64, generator=g)
    with torch.no_grad():
        assert relative_error(ours.double()(x, mode='tensor'), paper.double()(x)) < 1e-13
