"""Public parameter names, shapes, init statistics, buffers and errors."""
import math

import pytest
import torch

from rkan_mmdet.models import KANConv2d

SHAPES = {
    'chebyshev': dict(base_weight=(1, 9), poly_weight=(1, 9, 4), scaler=(1, 9)),
    'legendre': dict(base_weight=(1, 9), poly_weight=(1, 9, 4), scaler=(1, 9)),
    'jacobi': dict(base_weight=(1, 9), poly_weight=(1, 9, 4), scaler=(1, 9)),
    'hermite': dict(base_weight=(1, 9), poly_weight=(1, 9, 4), scaler=(1, 9)),
    'rbf': dict(base_weight=(1, 9), bias=(1,), rbf_weight=(1, 9, 3)),
    'b_spline': dict(base_weight=(1, 9), spline_weight=(1, 9, 6), scaler=(1, 9)),
    'rswaf': dict(base_weight=(1, 9), rswaf_weight=(1, 9, 3)),
    'rational': dict(base_weight=(1, 9), scaler=(1, 9), numerator=(6,), denominator=(4,)),
}


@pytest.mark.parametrize('kan_type', list(SHAPES))
def test_parameter_names_and_shapes(kan_type: str) -> None:
    conv = KANConv2d(kan_type)
    assert {n: tuple(p.shape) for n, p in conv.named_parameters()} == SHAPES[kan_type]


def test_spec_parameter_counts() -> None:
    assert sum(p.numel() for p in KANConv2d(degree=3).parameters()) == 54
    assert sum(p.numel() for p in KANConv2d(degree=2).parameters()) == 45


def test_fixed_grids_are_buffers() -> None:
    rbf = KANConv2d('rbf', grid_size=5)
    assert torch.equal(dict(rbf.named_buffers())['grid'], torch.linspace(-1, 1, 5))
    spline = KANConv2d('b_spline', grid_size=3, spline_order=3)
    knots = dict(spline.named_buffers())['knots']
    assert knots.shape == (10,)
    torch.testing.assert_close(knots, torch.tensor([-1 + (i - 3) * 2 / 3 for i in range(10)]))


def test_init_statistics() -> None:
    torch.manual_seed(0)
    convs = [KANConv2d(degree=3) for _ in range(400)]
    base = torch.cat([c.base_weight.flatten() for c in convs])
    poly = torch.cat([c.poly_weight.flatten() for c in convs])
    assert base.std().item() == pytest.approx(math.sqrt(2 / 9), rel=0.05)
    assert poly.std().item() == pytest.approx(1 / math.sqrt(36), rel=0.05)
    assert all(torch.equal(c.scaler, torch.ones(1, 9)) for c in convs[:5])
    rswaf = torch.cat([KANConv2d('rswaf', grid_size=4).rswaf_weight.flatten() for _ in range(300)])
    assert rswaf.std().item() == pytest.approx(1 / 6, rel=0.06)
    rbf = torch.cat([KANConv2d('rbf').rbf_weight.flatten() for _ in range(300)])
    assert rbf.abs().max().item() <= 2.0 and rbf.std().item() == pytest.approx(0.88, rel=0.06)


@pytest.mark.parametrize('kwargs,message', [
    (dict(kan_type='fourier'), "unknown kan_type 'fourier'"),
    (dict(kan_type='chebyshev', degree=0), 'degree must be an int >= 1, got 0'),
    (dict(kan_type='rbf', grid_size=1), 'grid_size must be an int >= 2, got 1'),
    (dict(kan_type='b_spline', grid_size=1), 'grid_size must be an int >= 2, got 1'),
    (dict(kan_type='rswaf', grid_size=0), 'grid_size must be an int >= 2, got 0'),
    (dict(stride=0), 'stride must be an int >= 1, got 0'),
])
def test_errors_name_the_bad_value(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        KANConv2d(**kwargs)
