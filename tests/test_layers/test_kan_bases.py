"""Each KAN basis against an independent numerical library (scipy)."""
import numpy as np
import pytest
import torch
from scipy import interpolate, special

from rkan_mmdet.models.layers.kan_bases import (BSplineBasis, PolynomialBasis,
                                                rational, silu_rational_fit)

T = np.linspace(-0.99, 0.99, 57)


@pytest.mark.parametrize('family,scipy_fn', [
    ('chebyshev', special.eval_chebyt),
    ('legendre', special.eval_legendre),
    ('hermite', special.eval_hermite),
    ('jacobi', lambda n, t: special.eval_jacobi(n, 0.5, 0.5, t)),
])
def test_polynomials_match_scipy(family: str, scipy_fn) -> None:
    basis = PolynomialBasis(family, degree=6)
    polys = basis.evaluate(torch.tensor(T, dtype=torch.float64))
    for n, p in enumerate(polys):
        np.testing.assert_allclose(p.numpy(), scipy_fn(n, T), rtol=1e-12, atol=1e-12)
    assert basis.at_zero == pytest.approx([scipy_fn(n, 0.0) for n in range(7)], abs=1e-14)


def test_jacobi_other_parameters() -> None:
    basis = PolynomialBasis('jacobi', degree=4, alpha=1.5, beta=-0.3)
    polys = basis.evaluate(torch.tensor(T, dtype=torch.float64))
    for n, p in enumerate(polys):
        np.testing.assert_allclose(p.numpy(), special.eval_jacobi(n, 1.5, -0.3, T), rtol=1e-12)


@pytest.mark.parametrize('grid,order', [(3, 3), (2, 2), (5, 1)])
def test_bsplines_match_scipy(grid: int, order: int) -> None:
    basis = BSplineBasis(grid, order)
    u = np.linspace(-2.2, 2.2, 97) + 1e-3  # avoid sitting exactly on knots
    ours = basis.evaluate(torch.tensor(u, dtype=torch.float64)).numpy()
    assert ours.shape == (97, grid + order)
    knots = np.asarray(basis.knots)
    for j in range(grid + order):
        ref = interpolate.BSpline.basis_element(knots[j:j + order + 2], extrapolate=False)(u)
        np.testing.assert_allclose(ours[:, j], np.nan_to_num(ref), atol=1e-12)


def test_rational_fits_silu_and_has_finite_gradient_at_kink() -> None:
    p, q = silu_rational_fit(5, 4)
    u = torch.linspace(-3, 3, 1001, dtype=torch.float64)
    err = (rational(u, torch.tensor(p, dtype=torch.float64), torch.tensor(q, dtype=torch.float64))
           - torch.nn.functional.silu(u)).abs().max().item()
    assert err < 0.02
    # the kink of |Q(u)| is at u = 0 (Q(0) = 0): gradients stay finite there
    u0 = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    pt = torch.tensor(p, dtype=torch.float64, requires_grad=True)
    qt = torch.tensor(q, dtype=torch.float64, requires_grad=True)
    rational(u0, pt, qt).sum().backward()
    for g in (u0.grad, pt.grad, qt.grad):
        assert torch.isfinite(g).all()
