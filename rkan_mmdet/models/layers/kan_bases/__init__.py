"""KAN bases: the pointwise features one KAN type expands a value into.

:mod:`.basis` defines the interface (:class:`KANBasis`) and the maths every
basis shares; one module per kind of basis implements it:

* :mod:`.polynomial`: chebyshev, legendre, jacobi, hermite;
* :mod:`.grid`: rbf, rswaf, b_spline;
* :mod:`.rational`: rational.

:func:`build_basis` makes the basis of a ``kan_type``; :func:`check_kan_type`
is the one check of that name, used by the layers and the backbones' options.
"""
from typing import Dict, Sequence, Type

from .basis import TAPS, FeaturesVJP, KANBasis, check_min
from .grid import BSplineBasis, GridBasis, RBFBasis, RSWAFBasis
from .polynomial import POLYNOMIALS, PolynomialBasis
from .rational import RationalBasis, rational, silu_rational_fit

__all__ = ['KAN_TYPES', 'TAPS', 'FeaturesVJP', 'KANBasis', 'check_min', 'check_kan_type',
           'build_basis', 'POLYNOMIALS', 'PolynomialBasis', 'GridBasis', 'RBFBasis',
           'RSWAFBasis', 'BSplineBasis', 'RationalBasis', 'rational', 'silu_rational_fit']

KAN_TYPES: Sequence[str] = ('chebyshev', 'legendre', 'jacobi', 'hermite',
                            'rbf', 'b_spline', 'rswaf', 'rational')


def check_kan_type(kan_type: object) -> str:
    """``kan_type`` if it names a basis, else one ``ValueError`` line listing them."""
    if not isinstance(kan_type, str) or kan_type not in KAN_TYPES:
        raise ValueError(f'unknown kan_type {kan_type!r}; expected one of '
                         f'{", ".join(KAN_TYPES)}')
    return kan_type


def build_basis(kan_type: str, degree: int = 3, grid_size: int = 3,
                spline_order: int = 3, alpha: float = 0.5, beta: float = 0.5,
                num_degree: int = 5, den_degree: int = 4) -> KANBasis:
    """Make the basis of one KAN type; the arguments a type does not use are ignored."""
    check_kan_type(kan_type)
    if kan_type in POLYNOMIALS:
        return PolynomialBasis(kan_type, degree, alpha, beta)
    builders: Dict[str, Type[GridBasis]] = dict(rbf=RBFBasis, rswaf=RSWAFBasis)
    if kan_type in builders:
        return builders[kan_type](grid_size)
    if kan_type == 'b_spline':
        return BSplineBasis(grid_size, spline_order)
    return RationalBasis(num_degree, den_degree)
