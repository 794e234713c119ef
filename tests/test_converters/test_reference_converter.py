"""rkan_mmdet.converters (the command line of tools/model_converters/rkan_reference_to_mmdet.py):
the paper code's checkpoints -> rkan_mmdet, options and bad input.

Reference-layout state dicts are built here from the shapes of docs/families.md §6:
a torchvision trunk (random weights and BN statistics) under its prefix, plus the
RKAN modules of all four stages, of which only the enabled stages' BNs tracked
batches. Each is converted by the tool in-process and then checked against
things written here from the reference tensors alone: the per-tap formulas of
docs/spec.md §2 and a literal forward (torchvision's model, the RKAN block by the
unfold reference of tests/test_layers/reference.py, added to the stage output).
"""
import copy
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import pytest
import torch
import torch.nn.functional as F
import torchvision
from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import Tensor, nn

import rkan_mmdet  # noqa: F401  (registers the backbones)
from rkan_mmdet.converters import main
from tests.test_layers.reference import POLYS, reference_kan_conv

ROOT = Path(__file__).resolve().parents[2]

#: (C_in, C_out, KAN stride) of each stage (docs/families.md §1, §3).
RESNET50 = [(64, 256, 1), (256, 512, 2), (512, 1024, 2), (1024, 2048, 2)]
RESNET18 = [(64, 64, 1), (64, 128, 2), (128, 256, 2), (256, 512, 2)]
#: (size, order) of the first and second KAN conv: D for polynomials; G and K otherwise.
KAN_SIZES = {'chebyshev': ((None, 3), (None, 2)), 'legendre': ((None, 3), (None, 2)),
             'rbf': ((4, None), (3, None)), 'b_spline': ((3, 3), (2, 2))}
BATCHES = 5004


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def prefixed(prefix: str, tensors: Dict[str, Tensor]) -> Dict[str, Tensor]:
    return {f'{prefix}.{k}': v for k, v in tensors.items()}


def randomize_norms(model: nn.Module, g: torch.Generator) -> nn.Module:
    """Random BN affine weights and running statistics, as after training."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                m.bias.copy_(torch.randn(c, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
                m.num_batches_tracked.fill_(BATCHES)
    return model.eval()


def bn(c: int, ran: bool, g: torch.Generator) -> Dict[str, Tensor]:
    """A BN's state: trained statistics, or the untouched init of a stage that was off."""
    if not ran:
        return dict(weight=torch.ones(c), bias=torch.zeros(c), running_mean=torch.zeros(c),
                    running_var=torch.ones(c), num_batches_tracked=torch.tensor(0))
    return dict(weight=torch.rand(c, generator=g) + 0.5, bias=torch.randn(c, generator=g) * 0.1,
                running_mean=torch.randn(c, generator=g) * 0.1,
                running_var=torch.rand(c, generator=g) + 0.5,
                num_batches_tracked=torch.tensor(BATCHES))


def knot_rows(grid: int, order: int) -> Tensor:
    """efficient-KAN's grid buffer: -1 + (i - K) 2/G, i = 0..G+2K, one row per input."""
    return (torch.arange(-order, grid + order + 1) * (2 / grid) - 1).expand(9, -1).contiguous()


def kan_conv(kind: str, size: Optional[int], order: Optional[int],
             g: torch.Generator) -> Dict[str, Tensor]:
    """One reference KAN conv (docs/families.md §6), random values."""
    if kind in POLYS:
        return {'base_linear.weight': torch.randn(1, 9, generator=g) * 0.5,
                'polynomial_weight': torch.randn(1, 9, order + 1, generator=g) * 0.3,
                'scaler': torch.rand(1, 9, generator=g) + 0.5}
    if kind == 'rbf':
        return {'base_linear.weight': torch.randn(1, 9, generator=g) * 0.5,
                'base_linear.bias': torch.randn(1, generator=g),
                'spline_linear.weight': torch.randn(1, 9 * size, generator=g) * 0.3,
                'rbf.grid': torch.linspace(-1, 1, size)}
    return {'base_weight': torch.randn(1, 9, generator=g) * 0.5,
            'spline_weight': torch.randn(1, 9, size + order, generator=g) * 0.3,
            'spline_scaler': torch.rand(1, 9, generator=g) + 0.5,
            'grid': knot_rows(size, order)}


def reference_rkan(stages: Sequence[Tuple[int, int, int]], kind: str, enabled: Sequence[int],
                   g: torch.Generator, shortcut: bool = False) -> Dict[str, Tensor]:
    """The RKAN modules of every stage, as the reference instantiates them."""
    state: Dict[str, Tensor] = {}
    for i, (c_in, c_out, _) in enumerate(stages):
        m, ran = c_in // 2, i in enabled
        state[f'conv_reduce.{i}.weight'] = torch.randn(m, c_in, 1, 1, generator=g) / c_in ** 0.5
        state.update(prefixed(f'kan_bn.{i}', bn(m, ran, g)))
        state[f'conv_expand.{i}.weight'] = torch.randn(c_out, m, 1, 1, generator=g) / m ** 0.5
        state.update(prefixed(f'kan_expand_bn.{i}', bn(c_out, ran, g)))
        state[f'gate_convs.{i}.weight'] = torch.randn(c_out, c_out, 1, 1, generator=g) / c_out ** 0.5
        state[f'gate_convs.{i}.bias'] = torch.randn(c_out, generator=g) * 0.1
        state[f'se_blocks.{i}.1.weight'] = torch.randn(c_out // 16, c_out, 1, 1, generator=g) * 0.1
        state[f'se_blocks.{i}.3.weight'] = torch.randn(c_out, c_out // 16, 1, 1, generator=g) * 0.1
        if shortcut:
            state[f'conv_shortcut.{i}.weight'] = torch.randn(c_out, c_in, 1, 1, generator=g) * 0.05
            state.update(prefixed(f'shortcut_bn.{i}', bn(c_out, ran, g)))
        for n, (size, order) in enumerate(KAN_SIZES[kind], 1):
            state.update(prefixed(f'kan_conv{n}.{i}.convs.0.conv', kan_conv(kind, size, order, g)))
    return state


# ------------------------------------------------------------------ literal maths
def bspline(u: Tensor, knots: Tensor, order: int) -> Tensor:
    """Cox-de Boor, half-open intervals, on the given knots: (N,) -> (N, len - 1 - order)."""
    t = knots.tolist()
    b = [((u >= t[i]) & (u < t[i + 1])).to(u.dtype) for i in range(len(t) - 1)]
    for p in range(1, order + 1):
        b = [(u - t[i]) / (t[i + p] - t[i]) * b[i] + (t[i + p + 1] - u) / (t[i + p + 1] - t[i + 1])
             * b[i + 1] for i in range(len(b) - 1)]
    return torch.stack(b, -1)


def literal_taps(p: Dict[str, Tensor], kind: str, u: Tensor) -> Tensor:
    """``f_k(u)`` of docs/spec.md §2 from the reference tensors, float64: (N,) -> (N, 9)."""
    p = {k: v.double() for k, v in p.items()}
    taps = []
    for k in range(9):
        if kind in POLYS:
            a, w, s = p['base_linear.weight'][0, k], p['polynomial_weight'][0, k], p['scaler'][0, k]
            polys = POLYS[kind](torch.tanh(u), w.numel() - 1)
            taps.append(a * u + s * sum(w[d] * polys[d] for d in range(w.numel())))
        elif kind == 'rbf':
            mu = p['rbf.grid']
            size, h = mu.numel(), 2 / (mu.numel() - 1)
            v = p['spline_linear.weight'][0, k * size:(k + 1) * size]
            taps.append(p['base_linear.weight'][0, k] * u
                        + sum(v[j] * torch.exp(-((u - mu[j]) / h) ** 2) for j in range(size)))
        else:
            c, knots = p['spline_weight'][0, k], p['grid'][k]
            bases = bspline(u, knots, knots.numel() - 1 - c.numel())
            taps.append(p['base_weight'][0, k] * u + p['spline_scaler'][0, k] * (bases @ c))
    return torch.stack(taps, -1)


def kan_params(ref: Dict[str, Tensor], name: str) -> Dict[str, Tensor]:
    start = f'{name}.convs.0.conv.'
    return {k[len(start):]: v for k, v in ref.items() if k.startswith(start)}


def unfold_conv(ref: Dict[str, Tensor], name: str, kind: str, x: Tensor, stride: int) -> Tensor:
    """The reference KAN conv via tests/test_layers/reference.py's unfold, fed with the
    reference tensors under the documented meaning (docs/families.md §6)."""
    p = kan_params(ref, name)
    conv = SimpleNamespace(kan_type=kind, stride=stride, dilation=1)
    hparams = {}
    if kind in POLYS:
        conv.base_weight, conv.poly_weight, conv.scaler = (
            p['base_linear.weight'], p['polynomial_weight'], p['scaler'])
    elif kind == 'rbf':
        size = p['rbf.grid'].numel()
        conv.base_weight, conv.bias = p['base_linear.weight'], p['base_linear.bias']
        conv.rbf_weight = p['spline_linear.weight'].reshape(1, 9, size)  # column k*G + g
    else:
        conv.base_weight, conv.spline_weight, conv.scaler = (
            p['base_weight'], p['spline_weight'], p['spline_scaler'])
        hparams['spline_order'] = p['grid'].shape[1] - 1 - p['spline_weight'].shape[2]
    return reference_kan_conv(conv, x, **hparams)


def batch_norm(ref: Dict[str, Tensor], name: str, x: Tensor) -> Tensor:
    return F.batch_norm(x, ref[f'{name}.running_mean'], ref[f'{name}.running_var'],
                        ref[f'{name}.weight'], ref[f'{name}.bias'], False, 0.0, 1e-5)


def literal_block(ref: Dict[str, Tensor], i: int, kind: str, stride: int, last: bool,
                  x: Tensor) -> Tensor:
    """docs/spec.md §1's residual r of stage i, from the reference tensors."""
    r = F.silu(F.conv2d(x, ref[f'conv_reduce.{i}.weight']))
    r = batch_norm(ref, f'kan_bn.{i}', unfold_conv(ref, f'kan_conv1.{i}', kind, r, stride))
    r = F.silu(F.conv2d(r, ref[f'conv_expand.{i}.weight']))
    if last:
        r = unfold_conv(ref, f'kan_conv2.{i}', kind, r, 1)
    return batch_norm(ref, f'kan_expand_bn.{i}', r)


def with_block(entry: nn.Module, exit_: nn.Module, block: Callable[[Tensor], Tensor]) -> list:
    """Hooks that add ``block(x)`` to ``exit_``'s output, x = ``entry``'s input; their handles."""
    kept: List[Tensor] = []
    return [entry.register_forward_pre_hook(lambda m, args: kept.append(args[0])),
            exit_.register_forward_hook(lambda m, args, y: y + block(kept.pop()))]


# ------------------------------------------------------------------ running the tool
def convert(tmp: Path, state: Dict[str, Tensor], *options: str, name: str = 'ref'
            ) -> Tuple[int, dict]:
    src, out = tmp / f'{name}.pth', tmp / f'{name}_converted.pth'
    torch.save(state, src)
    code = main([str(src), str(out), *options])
    return code, (torch.load(out, weights_only=True) if code == 0 else {})


def one_error(capsys: pytest.CaptureFixture, code: int) -> str:
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith('error: '), err
    return err


def build(model_cfg: dict) -> nn.Module:
    from mmpretrain.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(copy.deepcopy(model_cfg)).eval()


@lru_cache(maxsize=None)
def imagenet_config(name: str) -> Config:
    return Config.fromfile(str(ROOT / 'configs' / 'imagenet' / name))


def imagenet_model(name: str, **backbone) -> nn.Module:
    """The classifier of a configs/imagenet file, backbone arguments overridden."""
    model = copy.deepcopy(imagenet_config(name).model)
    model.backbone.update(backbone)
    return build(model)


def relative_error(ours: Tensor, literal: Tensor) -> float:
    return ((ours - literal).abs().max() / literal.abs().max()).item()


# ------------------------------------------------------------------ RKAN-ResNet-50
@pytest.fixture(scope='module')
def torchvision_resnet50() -> nn.Module:
    """torchvision's ResNet-50 with random weights and BN statistics: the reference trunk."""
    torch.manual_seed(0)
    return randomize_norms(torchvision.models.resnet50(), gen(1))


@pytest.fixture(scope='module')
def resnet50_trunk(torchvision_resnet50: nn.Module) -> Dict[str, Tensor]:
    return prefixed('resnet', copy.deepcopy(torchvision_resnet50.state_dict()))


@pytest.fixture(scope='module', params=['chebyshev', 'rbf', 'b_spline'])
def resnet50(request, resnet50_trunk, tmp_path_factory) -> SimpleNamespace:
    """A reference RKANet-50 of one KAN type, converted, loaded strictly into
    configs/imagenet/rkanet50_8xb32_in1k.py's classifier (kan_type etc. overridden)."""
    kind = request.param
    ref = reference_rkan(RESNET50, kind, enabled=[3], g=gen(2))
    code, ckpt = convert(tmp_path_factory.mktemp(kind), {**resnet50_trunk, **ref})
    assert code == 0
    overrides = {} if kind == 'chebyshev' else dict(kan_type=kind)
    if kind == 'rbf':
        overrides['kan_grids'] = (4, 3)
    model = imagenet_model('rkanet50_8xb32_in1k.py', **overrides)
    model.load_state_dict(ckpt['state_dict'], strict=True)
    return SimpleNamespace(kind=kind, ref=ref, trunk=resnet50_trunk, ckpt=ckpt, model=model,
                           overrides=overrides)


def test_resnet50_meta(resnet50: SimpleNamespace) -> None:
    meta = resnet50.ckpt['meta']
    assert meta['config'] == 'configs/imagenet/rkanet50_8xb32_in1k.py'
    assert meta['cfg_options'] == {f'model.backbone.{k}': v for k, v in resnet50.overrides.items()}
    assert meta['stages'] == [4] and meta['mechanism'] == 'addition'
    assert meta['kan_type'] == resnet50.kind and not meta['backbone_only']
    assert meta['backbone']['type'] == 'RKANResNet' and meta['backbone']['depth'] == 50
    assert meta['converted_from']['file'].endswith('ref.pth')
    assert len(meta['converted_from']['sha256']) == 64
    assert 'conv_reduce.0' in meta['dropped'] and 'gate_convs.3' in meta['dropped']
    assert 'conv_reduce.3' not in meta['dropped']
    keys = resnet50.ckpt['state_dict']
    assert all(k.startswith(('backbone.', 'head.fc.')) for k in keys)
    assert not any('layer3' in k for k in keys if 'rkan_layers' in k)


def test_resnet50_tap_functions(resnet50: SimpleNamespace) -> None:
    """Every per-tap f_k of both converted KAN convs equals docs/spec.md §2's formula
    evaluated with the reference tensors, to 1e-6 (float64)."""
    u = torch.linspace(-2.5, 2.5, 1001, dtype=torch.float64)
    block = resnet50.model.backbone.rkan_layers.layer4
    for conv, name in ((block.kan_conv, 'kan_conv1.3'), (block.kan_conv_last, 'kan_conv2.3')):
        params = kan_params(resnet50.ref, name)
        ours = copy.deepcopy(conv).double().tap_functions(u)
        torch.testing.assert_close(ours, literal_taps(params, resnet50.kind, u), rtol=0, atol=1e-6)
        if resnet50.kind == 'rbf':
            assert conv.bias.item() == params['base_linear.bias'].item()


def test_resnet50_logits_equal_literal_forward(resnet50: SimpleNamespace,
                                               torchvision_resnet50: nn.Module) -> None:
    """torchvision's ResNet-50 with the resnet.* tensors, plus the literal RKAN block
    after layer4, then avgpool + fc: the converted classifier's logits, to 1e-5 relative."""
    net = torchvision_resnet50
    net.load_state_dict({k[len('resnet.'):]: v for k, v in resnet50.trunk.items()})
    x = torch.randn(1, 3, 80, 80, generator=gen(3))  # layer4: 5x5 in, 3x3 out
    hooks = with_block(net.layer4, net.layer4,
                       lambda t: literal_block(resnet50.ref, 3, resnet50.kind, 2, True, t))
    try:
        with torch.no_grad():
            literal = net(x)
            ours = resnet50.model(x, mode='tensor')
    finally:
        for hook in hooks:
            hook.remove()
    error = relative_error(ours, literal)
    print(f"resnet50 {resnet50.kind}: relative logit error {error:.2e}")
    assert error <= 1e-5
    with torch.no_grad():
        assert relative_error(net(x), literal) > 1e-2  # the block matters


# ------------------------------------------------------------------ other families
def test_resnext_family_is_read_from_shapes(tmp_path: Path) -> None:
    """ResNeXt-50 32x4d (zero weights: only names and shapes matter here): groups and base
    width come from layer1.0.conv2's shape; the tool's strict load into that backbone passes."""
    with torch.device('meta'):
        shapes = torchvision.models.resnext50_32x4d().state_dict()
    trunk = {k: torch.zeros(v.shape, dtype=v.dtype) for k, v in shapes.items()}
    ref = reference_rkan(RESNET50, 'chebyshev', enabled=[3], g=gen(10))
    code, ckpt = convert(tmp_path, {**prefixed('resnext', trunk), **ref})
    assert code == 0
    backbone = ckpt['meta']['backbone']
    assert (backbone['type'], backbone['depth'], backbone['groups'], backbone['base_width']) == \
        ('RKANResNeXt', 50, 32, 4)
    assert ckpt['meta']['config'] is None


# ------------------------------------------------------------------ options
@pytest.fixture(scope='module')
def resnet18_reference() -> Dict[str, Tensor]:
    torch.manual_seed(0)
    trunk = prefixed('resnet', randomize_norms(torchvision.models.resnet18(), gen(7)).state_dict())
    return {**trunk, **reference_rkan(RESNET18, 'legendre', enabled=[3], g=gen(8), shortcut=True)}


def test_stages_mechanism_kan_type_and_shortcut(resnet18_reference, tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    ref = resnet18_reference
    code, _ = convert(tmp_path, ref, '--stages', '3', '4', '--mechanism', 'gating',
                      '--kan-type', 'legendre')
    err = one_error(capsys, code)
    assert 'names stage 3, which never ran in training (kan_bn.2: 0 batches' in err
    assert 'pass --enable-untrained' in err
    code, ckpt = convert(tmp_path, ref, '--stages', '3', '4', '--mechanism', 'gating',
                         '--kan-type', 'legendre', '--enable-untrained', '--attention', 'none')
    out = capsys.readouterr().out
    assert code == 0
    assert 'stage 3: never ran in training (kan_bn.2: 0 batches, stats at 0/1' in out
    assert 'stage 3: enabled though it never trained (--enable-untrained)' in out
    assert 'stages: 3 4 (--stages; the BN evidence says 4)' in out
    assert 'assumed:' not in out  # every choice was given
    assert 'dropped: conv_reduce.{0,1} kan_bn.{0,1}' in out
    assert 'se_blocks.{0,1,2,3}' in out and 'kan_conv2.{0,1,2}' in out
    backbone = ckpt['meta']['backbone']
    assert backbone == dict(type='RKANResNet', depth=18,
                            rkan_mechanisms=(None, None, 'gating', 'gating'), reduce_factor=2,
                            kan_type='legendre', kan_orders=(3, 2), rkan_shortcut=True)
    state = ckpt['state_dict']
    for i, key in ((2, 'layer3'), (3, 'layer4')):
        block = f'backbone.rkan_layers.{key}.'
        assert torch.equal(state[block + 'mechanism.gate.weight'], ref[f'gate_convs.{i}.weight'])
        assert torch.equal(state[block + 'mechanism.gate.bias'], ref[f'gate_convs.{i}.bias'])
        assert torch.equal(state[block + 'shortcut.0.weight'], ref[f'conv_shortcut.{i}.weight'])
        assert torch.equal(state[block + 'shortcut.1.running_var'],
                           ref[f'shortcut_bn.{i}.running_var'])
    assert 'backbone.rkan_layers.layer3.kan_conv_last.poly_weight' not in state
    model = build(dict(type='ImageClassifier', backbone=backbone,
                       neck=dict(type='GlobalAveragePooling'),
                       head=dict(type='LinearClsHead', num_classes=1000, in_channels=512)))
    model.load_state_dict(state, strict=True)
    u = torch.linspace(-2.5, 2.5, 501, dtype=torch.float64)
    conv = copy.deepcopy(model.backbone.rkan_layers.layer3.kan_conv).double()
    torch.testing.assert_close(conv.tap_functions(u),
                               literal_taps(kan_params(ref, 'kan_conv1.2'), 'legendre', u),
                               rtol=0, atol=1e-6)


def test_backbone_only_and_pretrained_prefix(resnet18_reference, tmp_path: Path) -> None:
    """What the README says: the full checkpoint loads into a detection backbone with
    prefix='backbone.', the --backbone-only one without a prefix; both give the same weights."""
    code, full = convert(tmp_path, resnet18_reference, name='full')
    assert code == 0
    code, bare = convert(tmp_path, resnet18_reference, '--backbone-only', name='bare')
    assert code == 0 and bare['meta']['backbone_only']
    assert set(bare['state_dict']) == {k[9:] for k in full['state_dict'] if k.startswith('backbone.')}
    from mmdet.registry import MODELS
    init_cfgs = [dict(type='Pretrained', checkpoint=str(tmp_path / 'full_converted.pth'),
                      prefix='backbone.'),
                 dict(type='Pretrained', checkpoint=str(tmp_path / 'bare_converted.pth'))]
    for init_cfg in init_cfgs:
        with DefaultScope.overwrite_default_scope('mmdet'):
            backbone = MODELS.build(dict(full['meta']['backbone'], init_cfg=init_cfg))
        backbone.init_weights()
        loaded = backbone.state_dict()
        assert set(loaded) == set(bare['state_dict'])
        for key, value in bare['state_dict'].items():
            assert torch.equal(loaded[key], value), key


# ------------------------------------------------------------------ bad input: one line each
def test_other_layout_names_first_key(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    plain = torchvision.models.resnet18().state_dict()  # a plain torchvision checkpoint
    code, _ = convert(tmp_path, plain)
    assert 'key conv1.weight fits no layout of the paper\'s code' in one_error(capsys, code)
    foreign = {'resnet.conv1.weight': torch.zeros(64, 3, 7, 7),
               'resnet.layer1.0.nl.fc1.weight': torch.zeros(4, 64)}
    code, _ = convert(tmp_path, foreign)
    assert 'key resnet.layer1.0.nl.fc1.weight does not fit' in one_error(capsys, code)
    rkan_only = {'resnet.fc.weight': torch.zeros(10, 512), 'kan_bn.0.extra': torch.zeros(1)}
    code, _ = convert(tmp_path, rkan_only)
    assert 'key kan_bn.0.extra does not fit' in one_error(capsys, code)


class Payload:
    """Unpickling this runs code: it writes ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return exec, (f'open({str(self.marker)!r}, "w").write("pwned")', )


def test_malicious_pickle_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    live, marker = tmp_path / 'live', tmp_path / 'marker'
    torch.save({'resnet.conv1.weight': Payload(live)}, tmp_path / 'live.pth')
    torch.load(tmp_path / 'live.pth', weights_only=False)  # the payload does run when allowed
    assert live.exists()
    torch.save({'resnet.conv1.weight': Payload(marker)}, tmp_path / 'evil.pth')
    code = main([str(tmp_path / 'evil.pth'), str(tmp_path / 'out.pth')])
    assert 'evil.pth' in one_error(capsys, code)
    assert not marker.exists() and not (tmp_path / 'out.pth').exists()


def test_truncated_and_non_dict_inputs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    torch.save({'resnet.conv1.weight': torch.zeros(64, 3, 7, 7)}, tmp_path / 'whole.pth')
    data = (tmp_path / 'whole.pth').read_bytes()
    (tmp_path / 'cut.pth').write_bytes(data[:len(data) // 2])
    code = main([str(tmp_path / 'cut.pth'), str(tmp_path / 'out.pth')])
    assert 'cut.pth' in one_error(capsys, code)
    code = main([str(tmp_path / 'missing.pth'), str(tmp_path / 'out.pth')])
    assert 'missing.pth' in one_error(capsys, code)
    torch.save([torch.zeros(1)], tmp_path / 'list.pth')
    code = main([str(tmp_path / 'list.pth'), str(tmp_path / 'out.pth')])
    assert 'not a state dict' in one_error(capsys, code)
    code = main([str(tmp_path / 'whole.pth'), str(tmp_path / 'whole.pth')])
    assert 'is the input file' in one_error(capsys, code)
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path / 'whole.pth'), str(tmp_path / 'out.pth'), '--stages', 'four'])
    one_error(capsys, exit_.value.code)


def small_reference(kind: str, **edits: Tensor) -> Dict[str, Tensor]:
    """A trunk stub and RKAN-ResNet-18 modules: enough to reach the KAN conv checks."""
    state = {'resnet.fc.weight': torch.zeros(10, 512),
             **reference_rkan(RESNET18, kind, enabled=[3], g=gen(9))}
    state.update(edits)
    return state


@pytest.mark.parametrize('key, value, message', [
    ('kan_conv1.3.convs.0.conv.rbf.grid', torch.linspace(-2, 2, 4),
     "kan_conv1.3.convs.0.conv.rbf.grid is [-2.0, -0.666667, 0.666667, 2.0], not rkan_mmdet's "
     'rbf grid linspace(-1, 1, 4)'),
    ('kan_conv2.3.convs.0.conv.grid', knot_rows(2, 2) * 1.5,
     'kan_conv2.3.convs.0.conv.grid is [-4.5, -3.0, -1.5, 0.0, 1.5, 3.0, 4.5], not rkan_mmdet\'s '
     'knots -1 + (i - 2) * 2/2'),
])
def test_foreign_grids_are_refused(key: str, value: Tensor, message: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture) -> None:
    kind = 'rbf' if 'rbf' in key else 'b_spline'
    code, _ = convert(tmp_path, small_reference(kind, **{key: value}))
    err = one_error(capsys, code)
    assert message in err and 'refusing to remap' in err


def test_wrong_kan_type_and_no_evidence(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, _ = convert(tmp_path, small_reference('chebyshev'), '--kan-type', 'rbf')
    assert 'kan_conv1.3.convs.0.conv is a polynomial KAN conv, not rbf' in one_error(capsys, code)
    never = small_reference('chebyshev', **{'kan_bn.3.num_batches_tracked': torch.tensor(0),
                                            'kan_expand_bn.3.num_batches_tracked': torch.tensor(0),
                                            'kan_bn.3.running_mean': torch.zeros(128),
                                            'kan_bn.3.running_var': torch.ones(128),
                                            'kan_expand_bn.3.running_mean': torch.zeros(512),
                                            'kan_expand_bn.3.running_var': torch.ones(512)})
    code, _ = convert(tmp_path, never)
    assert 'no RKAN stage ran in training' in one_error(capsys, code)


def test_help_names_the_families(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(['--help'])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    for text in ('resnet.', 'resnext.', 'wideresnet.', 'regnet.', 'densenet.', 'RKANDenseNet',
                 'ResNet-D', 'RKANResNetV1d', '--attention', '--enable-untrained'):
        assert text in out
