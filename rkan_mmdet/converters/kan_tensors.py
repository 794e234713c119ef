r"""One KAN conv of the paper code's checkpoints -> the parameters of rkan_mmdet's ``KANConv2d``.

docs/families.md §6 gives the reference names of one channel-shared KAN conv
(``kan_conv{1,2}.<i>.convs.0.conv.*``); docs/spec.md §2 gives the per-tap
functions both codes compute. Each layout maps so that every ``f_k`` is unchanged:

=============  ========================================  =======================================
layout         reference (shape)                         ours
=============  ========================================  =======================================
polynomial     ``base_linear.weight`` (1, 9)             ``base_weight`` = a
               ``polynomial_weight`` (1, 9, D+1)         ``poly_weight`` = W
               ``scaler`` (1, 9)                         ``scaler`` = s
rbf            ``base_linear.weight`` (1, 9)             ``base_weight`` = a
               ``base_linear.bias`` (1,)                 ``bias`` = b
               ``spline_linear.weight`` (1, 9 G),        ``rbf_weight`` (1, 9, G):
               column k G + g                            ``[0, k, g]``
               ``rbf.grid`` (G,)                         fixed ``grid``: must be linspace(-1, 1, G)
b_spline       ``base_weight`` (1, 9)                    ``base_weight`` = a
               ``spline_weight`` (1, 9, G+K)             ``spline_weight`` = C
               ``spline_scaler`` (1, 9)                  ``scaler`` = s
               ``grid`` (9, G+2K+1)                      fixed ``knots``: every row must be
                                                         -1 + (i - K) 2/G, i = 0..G+2K
=============  ========================================  =======================================

rbf's width ``h = 2/(G-1)`` is not stored by either code; it follows from a
linspace(-1, 1, G) grid, so a grid that differs from ours is refused rather
than remapped (its functions would change). The same holds for the knots.
The polynomial family (chebyshev, legendre, jacobi, hermite) is not recorded in
the file: it comes from the caller. Our Jacobi has alpha = beta = 0.5.
"""
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from torch import Tensor

from rkan_mmdet.models.layers.kan_conv import KANConv2d
from .errors import LayoutError

TAPS = 9
#: The reference parameter names of each layout.
LAYOUTS: Dict[str, Tuple[str, ...]] = {
    'polynomial': ('base_linear.weight', 'polynomial_weight', 'scaler'),
    'rbf': ('base_linear.weight', 'base_linear.bias', 'spline_linear.weight', 'rbf.grid'),
    'b_spline': ('base_weight', 'spline_weight', 'spline_scaler', 'grid'),
}
POLYNOMIALS = ('chebyshev', 'legendre', 'jacobi', 'hermite')
#: Largest difference accepted between a reference grid (or knot row) and ours.
GRID_TOLERANCE = 1e-6


@dataclass
class KANConvParams:
    """Our parameters of one KAN conv, and what they say about its hyper-parameters."""

    state: Dict[str, Tensor]
    order: Optional[int]  # polynomial degree D, or B-spline order K
    grid: Optional[int]  # grid size G (rbf, b_spline)


def layout_of(params: Dict[str, Tensor], where: str) -> str:
    """The layout whose parameter names ``params`` has, exactly."""
    names = set(params)
    for layout, expected in LAYOUTS.items():
        if names == set(expected):
            return layout
    known = '; '.join(f'{k}: {", ".join(v)}' for k, v in LAYOUTS.items())
    raise LayoutError(f'{where}.* has {", ".join(sorted(names))}, which is no KAN conv '
                      f'layout of the paper\'s code ({known})')


def _shape(where: str, name: str, tensor: Tensor, shape: Tuple[int, ...]) -> Tensor:
    if tuple(tensor.shape) != shape:
        raise LayoutError(f'{where}.{name} has shape {tuple(tensor.shape)}, expected {shape}')
    return tensor


def _fixed_buffer(kan_type: str, name: str, **hparams: int) -> Tensor:
    """Our fixed grid/knots buffer, as ``KANConv2d`` itself builds it."""
    return KANConv2d(kan_type, **hparams).state_dict()[name]


def _same_grid(where: str, name: str, theirs: Tensor, ours: Tensor, what: str) -> None:
    diff = (theirs.double() - ours.double()).abs().max().item()
    if not diff <= GRID_TOLERANCE:
        shown = [round(v, 6) for v in theirs.double().flatten()[:ours.shape[-1]].tolist()]
        raise LayoutError(f'{where}.{name} is {shown}, not rkan_mmdet\'s {what} '
                          f'{[round(v, 6) for v in ours.double().flatten().tolist()]}: '
                          'refusing to remap a different grid')


def convert_polynomial(p: Dict[str, Tensor], where: str) -> KANConvParams:
    weight = p['polynomial_weight']
    if weight.dim() != 3 or weight.shape[:2] != (1, TAPS) or weight.shape[2] < 2:
        raise LayoutError(f'{where}.polynomial_weight has shape {tuple(weight.shape)}, '
                          'expected (1, 9, D+1) with D >= 1')
    state = dict(base_weight=_shape(where, 'base_linear.weight', p['base_linear.weight'], (1, TAPS)),
                 poly_weight=weight,
                 scaler=_shape(where, 'scaler', p['scaler'], (1, TAPS)))
    return KANConvParams(state, order=weight.shape[2] - 1, grid=None)


def convert_rbf(p: Dict[str, Tensor], where: str) -> KANConvParams:
    grid = p['rbf.grid']
    if grid.dim() != 1 or grid.numel() < 2:
        raise LayoutError(f'{where}.rbf.grid has shape {tuple(grid.shape)}, expected (G,), G >= 2')
    g = grid.numel()
    ours = _fixed_buffer('rbf', 'grid', grid_size=g)
    _same_grid(where, 'rbf.grid', grid, ours, f'rbf grid linspace(-1, 1, {g})')
    spline = _shape(where, 'spline_linear.weight', p['spline_linear.weight'], (1, TAPS * g))
    state = dict(base_weight=_shape(where, 'base_linear.weight', p['base_linear.weight'], (1, TAPS)),
                 rbf_weight=spline.reshape(1, TAPS, g).clone(),  # column k*G + g -> [0, k, g]
                 bias=_shape(where, 'base_linear.bias', p['base_linear.bias'], (1, )),
                 grid=ours)
    return KANConvParams(state, order=None, grid=g)


def convert_b_spline(p: Dict[str, Tensor], where: str) -> KANConvParams:
    spline, knots = p['spline_weight'], p['grid']
    if spline.dim() != 3 or spline.shape[:2] != (1, TAPS) or knots.dim() != 2 \
            or knots.shape[0] != TAPS:
        raise LayoutError(f'{where}.spline_weight / grid have shapes {tuple(spline.shape)} / '
                          f'{tuple(knots.shape)}, expected (1, 9, G+K) / (9, G+2K+1)')
    order = knots.shape[1] - 1 - spline.shape[2]
    g = spline.shape[2] - order
    if order < 1 or g < 2:
        raise LayoutError(f'{where}: spline_weight {tuple(spline.shape)} and grid '
                          f'{tuple(knots.shape)} give grid size {g} and order {order}, '
                          'expected G >= 2 and K >= 1')
    ours = _fixed_buffer('b_spline', 'knots', grid_size=g, spline_order=order)
    _same_grid(where, 'grid', knots, ours.expand(TAPS, -1),
               f'knots -1 + (i - {order}) * 2/{g}, i = 0..{g + 2 * order}, in every row')
    state = dict(base_weight=_shape(where, 'base_weight', p['base_weight'], (1, TAPS)),
                 spline_weight=spline,
                 scaler=_shape(where, 'spline_scaler', p['spline_scaler'], (1, TAPS)),
                 knots=ours)
    return KANConvParams(state, order=order, grid=g)


CONVERTERS = dict(polynomial=convert_polynomial, rbf=convert_rbf, b_spline=convert_b_spline)


def convert_kan_conv(params: Dict[str, Tensor], where: str, kan_type: str) -> KANConvParams:
    """Our ``KANConv2d`` state of one reference KAN conv whose keys are ``where.<name>``."""
    layout = layout_of(params, where)
    expected = 'polynomial' if kan_type in POLYNOMIALS else kan_type
    if layout != expected:
        raise LayoutError(f'{where} is a {layout} KAN conv, not {kan_type}')
    return CONVERTERS[layout](params, where)

